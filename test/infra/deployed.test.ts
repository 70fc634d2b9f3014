/**
 * Reaching a deployed stack: its outputs and admin token (CloudFormation and Secrets Manager are mocked
 * with aws-sdk-client-mock: neither exists here), and the smoke test, which runs the real kubectl
 * against a local cluster (the same checks `npm run smoke` makes against a deployed one).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { deployedKubeconfig, describeDeployedCluster, serverUrl } from '../../infra/cli/deployed-cluster.js';
import { kubectlWith } from '../../infra/cli/kubectl.js';
import { smokeTest } from '../../infra/cli/smoke-test.js';
import { kubeconfigYaml, writeKubeconfig } from '../../shared/local/kubeconfig.js';
import { startTestCluster, type TestCluster } from '../support/cluster.js';

describe('a deployed stack as kubectl needs it', () => {
  const cloudFormation = mockClient(CloudFormationClient);
  const secrets = mockClient(SecretsManagerClient);
  const clients = () => ({
    cloudFormation: new CloudFormationClient({ region: 'eu-west-1' }),
    secrets: new SecretsManagerClient({ region: 'eu-west-1' }),
  });
  afterAll(() => {
    cloudFormation.restore();
    secrets.restore();
  });

  it('uses the function URL over https without its trailing slash', () => {
    expect(serverUrl('https://abc.lambda-url.eu-west-1.on.aws/')).toBe(
      'https://abc.lambda-url.eu-west-1.on.aws',
    );
    // LocalStack's URLs are given as http; its port answers https too, and kubectl sends tokens only there.
    expect(serverUrl('http://abc.lambda-url.us-east-1.localhost.localstack.cloud:4566/')).toBe(
      'https://abc.lambda-url.us-east-1.localhost.localstack.cloud:4566',
    );
  });

  it("builds the kubeconfig from the stack's outputs and the admin token's secret", async () => {
    cloudFormation.on(DescribeStacksCommand, { StackName: 'Lambernetes' }).resolves({
      Stacks: [
        {
          StackName: 'Lambernetes',
          CreationTime: new Date(),
          StackStatus: 'CREATE_COMPLETE',
          Outputs: [
            { OutputKey: 'ApiUrl', OutputValue: 'https://abc.lambda-url.eu-west-1.on.aws/' },
            { OutputKey: 'AdminTokenSecret', OutputValue: 'arn:aws:secretsmanager:eu-west-1:1:secret:admin' },
          ],
        },
      ],
    });
    secrets
      .on(GetSecretValueCommand, { SecretId: 'arn:aws:secretsmanager:eu-west-1:1:secret:admin' })
      .resolves({ SecretString: 's3cret' });

    const cluster = await describeDeployedCluster('Lambernetes', clients());
    expect(cluster).toEqual({
      stackName: 'Lambernetes',
      server: 'https://abc.lambda-url.eu-west-1.on.aws',
      token: 's3cret',
    });
    const config = parse(kubeconfigYaml(deployedKubeconfig(cluster)));
    expect(config.clusters[0].cluster).toEqual({ server: 'https://abc.lambda-url.eu-west-1.on.aws' });
    expect(config.users[0].user).toEqual({ token: 's3cret' });
  });

  it('says so when the stack is not a Lambernetes stack', async () => {
    cloudFormation.on(DescribeStacksCommand, { StackName: 'Other' }).resolves({
      Stacks: [{ StackName: 'Other', CreationTime: new Date(), StackStatus: 'CREATE_COMPLETE', Outputs: [] }],
    });
    await expect(describeDeployedCluster('Other', clients())).rejects.toThrow(
      'stack Other has no ApiUrl or AdminTokenSecret output',
    );
  });
});

describe('the smoke test', () => {
  let cluster: TestCluster;
  let work: string;
  beforeAll(async () => {
    cluster = await startTestCluster();
    work = await mkdtemp(join(tmpdir(), 'lambernetes-smoke-test-'));
  });
  afterAll(async () => {
    await cluster?.stop();
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('passes on a cluster whose control plane works, and says that without workers nothing rolls out', async () => {
    const lines: string[] = [];
    const kubectl = kubectlWith(cluster.kubeconfigPath, join(work, 'cache'));
    const result = await smokeTest(kubectl, {
      image: 'busybox',
      timeoutSeconds: 60,
      log: (l) => lines.push(l),
    });
    expect(result).toEqual({ rolledOut: false });
    expect(lines.join('\n')).toMatch(/ok {2}its 2 pods made by the Deployment and ReplicaSet controllers/);
    expect(lines.join('\n')).toContain('no Ready worker node');
    // Cleaned up after itself.
    const namespace = /namespace (smoke-[0-9a-f]+) deleted/.exec(lines.join('\n'))?.[1];
    expect(namespace).toBeDefined();
    expect((await kubectl(['get', 'namespace', namespace as string])).code).not.toBe(0);
  });

  it('fails, naming the step, when the cluster refuses it', async () => {
    const wrong = join(work, 'wrong-token');
    await writeKubeconfig(wrong, {
      clusterName: 'c',
      server: cluster.url,
      caCert: cluster.caCert,
      user: 'u',
      token: 'not-the-token',
    });
    await expect(
      smokeTest(kubectlWith(wrong, join(work, 'cache2')), {
        image: 'busybox',
        timeoutSeconds: 5,
        log: () => {},
      }),
    ).rejects.toThrow(
      // A token presented must be good even on /readyz, as kube-apiserver answers.
      /the API server is ready: kubectl get --raw \/readyz failed: .*Unauthorized/,
    );
  });
});
