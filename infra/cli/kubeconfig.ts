/**
 * `npm run kubeconfig -- [--stack NAME] [--out FILE]`: a kubeconfig for a deployed stack (default
 * `Lambernetes`), written with mode 0600 to FILE (default `.lambernetes/<stack>.kubeconfig`).
 * The AWS account, region and endpoint are the SDK's (AWS_PROFILE, AWS_REGION, AWS_ENDPOINT_URL).
 */
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { writeKubeconfig } from '../../shared/local/kubeconfig.js';
import { defaultStackName, deployedKubeconfig, describeDeployedCluster } from './deployed-cluster.js';

const { values } = parseArgs({
  options: {
    stack: { type: 'string', default: defaultStackName },
    out: { type: 'string' },
  },
});
const stackName = values.stack;
const path = resolve(values.out ?? `.lambernetes/${stackName}.kubeconfig`);
try {
  const cluster = await describeDeployedCluster(stackName);
  await writeKubeconfig(path, deployedKubeconfig(cluster));
  console.log(`Wrote the kubeconfig of stack ${stackName} (${cluster.server}) to ${path}:
  export KUBECONFIG=${path}
  kubectl get nodes`);
} catch (error) {
  console.error(`npm run kubeconfig: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
}
