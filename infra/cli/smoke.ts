/**
 * `npm run smoke -- [--endpoint URL] [--stack NAME] [--kubeconfig FILE] [--image IMAGE] [--timeout SECONDS]`:
 * checks a deployed cluster with the real kubectl: the API answers, a namespace and a Deployment are
 * created, the Deployment's controllers make its pods, and where a worker is Ready the rollout
 * completes; then the namespace is deleted.
 *
 * The cluster: `--kubeconfig FILE` as it is (any cluster, the local one too), or else the stack's (see
 * `npm run kubeconfig`) through AWS at `--endpoint` (LocalStack's `http://localhost:4566`) or AWS's own
 * endpoints without it. When nothing answers at `--endpoint`, the smoke test is skipped, saying why,
 * and exits 0: CI runs it where a LocalStack may or may not be.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { writeKubeconfig } from '../../shared/local/kubeconfig.js';
import { defaultStackName, deployedKubeconfig, describeDeployedCluster } from './deployed-cluster.js';
import { kubectlWith } from './kubectl.js';
import { defaultImage, smokeTest, unreachable } from './smoke-test.js';

const { values } = parseArgs({
  options: {
    endpoint: { type: 'string' },
    stack: { type: 'string', default: defaultStackName },
    kubeconfig: { type: 'string' },
    image: { type: 'string', default: defaultImage },
    timeout: { type: 'string', default: '300' },
  },
});
const log = (line: string) => console.log(`smoke: ${line}`);
if (!values.kubeconfig && values.endpoint) {
  const why = await unreachable(values.endpoint);
  if (why) {
    log(`SKIPPED: ${why}. Start LocalStack and \`npm run deploy:local\`, or give --kubeconfig.`);
    process.exit(0);
  }
  process.env.AWS_ENDPOINT_URL = values.endpoint;
}
const work = await mkdtemp(join(tmpdir(), 'lambernetes-smoke-'));
try {
  let kubeconfig = values.kubeconfig;
  if (!kubeconfig) {
    const cluster = await describeDeployedCluster(values.stack);
    kubeconfig = join(work, 'kubeconfig');
    await writeKubeconfig(kubeconfig, deployedKubeconfig(cluster));
    log(`stack ${values.stack}: ${cluster.server}`);
  }
  const { rolledOut } = await smokeTest(kubectlWith(kubeconfig, join(work, 'cache')), {
    image: values.image,
    timeoutSeconds: Number(values.timeout),
    log,
  });
  log(rolledOut ? 'PASSED' : 'PASSED (control plane only: no Ready worker)');
} catch (error) {
  console.error(`smoke: FAILED: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
} finally {
  await rm(work, { recursive: true, force: true });
}
