/**
 * A deployed stack as kubectl needs it: the API server's URL (the `ApiUrl` output) and the admin token
 * (in the secret the `AdminTokenSecret` output names). The clients take their region and endpoint from
 * the environment (AWS_REGION, AWS_PROFILE, AWS_ENDPOINT_URL for LocalStack).
 */
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { readToken } from '../../functions/apiserver/credentials.js';
import type { KubeconfigOptions } from '../../shared/local/kubeconfig.js';

/** The stack name `cdk deploy` uses (infra/app.ts). */
export const defaultStackName = 'Lambernetes';

export interface DeployedCluster {
  stackName: string;
  /** The API server's URL, https, without a trailing slash. */
  server: string;
  token: string;
}

/**
 * The stack's API URL as kubectl must use it: without the trailing slash, and https even where the
 * output says http (LocalStack's function URLs answer both on its port; kubectl sends a bearer token
 * only over https).
 */
export function serverUrl(apiUrl: string): string {
  const url = new URL(apiUrl);
  if (url.protocol === 'http:') url.protocol = 'https:';
  return url.toString().replace(/\/$/, '');
}

export async function describeDeployedCluster(
  stackName: string,
  clients: { cloudFormation?: CloudFormationClient; secrets?: SecretsManagerClient } = {},
): Promise<DeployedCluster> {
  const cloudFormation = clients.cloudFormation ?? new CloudFormationClient({});
  const secrets = clients.secrets ?? new SecretsManagerClient({});
  const { Stacks } = await cloudFormation.send(new DescribeStacksCommand({ StackName: stackName }));
  const outputs = new Map((Stacks?.[0]?.Outputs ?? []).map((o) => [o.OutputKey, o.OutputValue]));
  const apiUrl = outputs.get('ApiUrl');
  const secret = outputs.get('AdminTokenSecret');
  if (!apiUrl || !secret)
    throw new Error(
      `stack ${stackName} has no ApiUrl or AdminTokenSecret output: is it a Lambernetes stack?`,
    );
  return { stackName, server: serverUrl(apiUrl), token: await readToken(secrets, secret) };
}

/** The kubeconfig of a deployed cluster: its public certificate is checked against the system's roots. */
export function deployedKubeconfig(cluster: DeployedCluster): KubeconfigOptions {
  return {
    clusterName: `lambernetes-${cluster.stackName}`,
    server: cluster.server,
    user: `lambernetes-${cluster.stackName}-admin`,
    token: cluster.token,
  };
}
