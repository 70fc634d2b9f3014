import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { afterEach, describe, expect, it } from 'vitest';
import {
  type AgentConfig,
  AgentConfigError,
  agentOptions,
  bridgeNetwork,
  configPath,
  dockerRuntimeOptions,
  env,
  loadAgentConfig,
  parseAgentConfig,
  readSecrets,
} from '../../agent/config.js';
import type { ContainerRuntime } from '../../agent/runtime/runtime.js';
import type { ApiClient } from '../../shared/client/client.js';
import { nodeQueueName } from '../../shared/queues/node-queue.js';

const token = 'n0de-t0ken-s3cret';
const kubeletToken = 'kub3let-t0ken-s3cret';
const pem = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----';
const queueUrl = 'https://sqs.eu-west-1.amazonaws.com/123456789012/lambernetes-node-ip-10-0-1-5_ec2_internal';
/** The least a node needs, all from the environment. */
const minimal = {
  [env.apiServer]: 'https://api.example.com',
  [env.token]: token,
  [env.podCIDR]: '10.244.1.0/24',
  [env.queue]: queueUrl,
};
const hostname = 'IP-10-0-1-5.ec2.internal';

/** The thrown error's problems (fails the test when nothing is thrown). */
function problemsOf(run: () => unknown): string[] {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(AgentConfigError);
    return (error as AgentConfigError).problems;
  }
  throw new Error('no error thrown');
}

async function rejectionOf(promise: Promise<unknown>): Promise<AgentConfigError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(AgentConfigError);
  return error as AgentConfigError;
}

describe('agent configuration', () => {
  it('fills in the defaults around the four settings a node must have', () => {
    const config = parseAgentConfig(undefined, minimal, { hostname });
    expect(config).toEqual({
      apiServer: 'https://api.example.com',
      credential: { token: { value: token } },
      nodeName: 'ip-10-0-1-5.ec2.internal',
      podCIDR: '10.244.1.0/24',
      gateway: '10.244.1.1',
      queue: { name: 'lambernetes-node-ip-10-0-1-5_ec2_internal', url: queueUrl },
      region: 'eu-west-1',
      dockerSocket: '/var/run/docker.sock',
      network: 'lambernetes',
      sandboxImage: 'public.ecr.aws/docker/library/busybox:1.36',
      dataDir: '/var/lib/lambernetes',
      kubeletPort: 10250,
      dns: { clusterDNS: ['10.244.1.1'], clusterDomain: 'cluster.local' },
      runProxyAndDNS: true,
      labels: {},
      maxPods: 110,
      reserved: { cpuMilli: 100, memoryBytes: 256 * 1024 * 1024 },
    } satisfies AgentConfig);
  });

  it('reads a YAML file, and the environment wins key by key', () => {
    const yaml = `
apiServer: https://file.example.com:6443
tokenFile: /etc/lambernetes/token
podCIDR: 10.244.7.0/24
queuePrefix: prod-
kubeletPort: 10255
kubeletTokenFile: kubelet-token
clusterDNS: [10.96.0.10]
labels:
  node.kubernetes.io/instance-type: t4g.medium
  topology.kubernetes.io/zone: eu-west-1a
maxPods: 50
reservedCPU: 0.25
reservedMemory: 1Gi
runProxyAndDNS: false
`;
    const config = parseAgentConfig(
      yaml,
      { [env.podCIDR]: '10.244.9.0/24', [env.token]: token, [env.nodeName]: 'worker-9' },
      { filePath: '/etc/lambernetes/agent.yaml', hostname },
    );
    expect(config).toMatchObject({
      apiServer: 'https://file.example.com:6443',
      // The environment's inline token wins over the file's token file.
      credential: { token: { value: token } },
      nodeName: 'worker-9',
      podCIDR: '10.244.9.0/24',
      gateway: '10.244.9.1',
      queue: { name: nodeQueueName('prod-', 'worker-9') },
      kubeletPort: 10255,
      // Relative to the config file's directory.
      kubeletToken: { file: '/etc/lambernetes/kubelet-token' },
      dns: { clusterDNS: ['10.96.0.10'], clusterDomain: 'cluster.local' },
      labels: {
        'node.kubernetes.io/instance-type': 't4g.medium',
        'topology.kubernetes.io/zone': 'eu-west-1a',
      },
      maxPods: 50,
      reserved: { cpuMilli: 250, memoryBytes: 1024 ** 3 },
      runProxyAndDNS: false,
    });
    expect(config.region).toBeUndefined();
  });

  it('reads a JSON file', () => {
    const json = JSON.stringify({
      apiServer: 'https://api.example.com',
      caFile: '/etc/lambernetes/ca.crt',
      token,
      podCIDR: '10.0.128.0/20',
      queue: 'my-node-queue',
      region: 'us-gov-west-1',
      providerID: 'aws:///us-east-1a/i-0123456789abcdef0',
    });
    const config = parseAgentConfig(json, {}, { hostname });
    expect(config).toMatchObject({
      ca: { file: '/etc/lambernetes/ca.crt' },
      queue: { name: 'my-node-queue' },
      region: 'us-gov-west-1',
      providerID: 'aws:///us-east-1a/i-0123456789abcdef0',
      gateway: '10.0.128.1',
    });
  });

  it('reads lists and mappings from the environment as comma-separated values', () => {
    const config = parseAgentConfig(
      undefined,
      {
        ...minimal,
        [env.clusterDNS]: '10.96.0.10, 10.96.0.11',
        [env.labels]: 'a=1, example.com/role=worker,empty=',
        [env.runProxyAndDNS]: 'false',
        [env.maxPods]: '30',
        [env.ca]: '-----BEGIN CERTIFICATE-----\\nMIIB\\n-----END CERTIFICATE-----',
      },
      { hostname },
    );
    expect(config.dns.clusterDNS).toEqual(['10.96.0.10', '10.96.0.11']);
    expect(config.labels).toEqual({ a: '1', 'example.com/role': 'worker', empty: '' });
    expect(config.runProxyAndDNS).toBe(false);
    expect(config.maxPods).toBe(30);
    // Escaped newlines of a one-line PEM become newlines.
    expect(config.ca).toEqual({ value: pem });
  });

  it('takes the queue name from a queue URL, and its region unless one is set', () => {
    const local = parseAgentConfig(
      undefined,
      { ...minimal, [env.queue]: 'http://127.0.0.1:4566/000000000000/node-worker-1' },
      { hostname },
    );
    expect(local.queue).toEqual({
      name: 'node-worker-1',
      url: 'http://127.0.0.1:4566/000000000000/node-worker-1',
    });
    expect(local.region).toBeUndefined();
    const legacy = parseAgentConfig(
      undefined,
      { ...minimal, [env.queue]: 'https://ap-south-1.queue.amazonaws.com/123456789012/q' },
      { hostname },
    );
    expect(legacy).toMatchObject({ queue: { name: 'q' }, region: 'ap-south-1' });
    const explicit = parseAgentConfig(undefined, { ...minimal, [env.region]: 'us-east-2' }, { hostname });
    expect(explicit.region).toBe('us-east-2');
  });

  it('names every problem at once', () => {
    const problems = problemsOf(() =>
      parseAgentConfig(
        'bogus: 1\nclusterDomian: cluster.local\n',
        {
          [env.apiServer]: 'http://api.example.com',
          [env.podCIDR]: '10.244.1.0/33',
          [env.queue]: 'https://sqs.eu-west-1.amazonaws.com/123456789012/',
          [env.kubeletPort]: '70000',
          [env.maxPods]: 'many',
          [env.dataDir]: 'relative/dir',
          [env.clusterDNS]: '10.96.0.10,not-an-ip',
          [env.runProxyAndDNS]: 'yes',
          [env.reservedMemory]: 'lots',
          [env.region]: 'Europe',
          [env.labels]: 'bad key=1',
          [env.nodeName]: 'Worker_1',
          LAMBERNETES_AGENT_PODCIDR: '10.244.1.0/24',
        },
        { filePath: '/etc/lambernetes/agent.yaml', hostname },
      ),
    );
    const expected = [
      'unknown key(s) in /etc/lambernetes/agent.yaml: bogus, clusterDomian',
      'unknown variable(s): LAMBERNETES_AGENT_PODCIDR',
      `${env.apiServer} is not an https URL`,
      `${env.token}, ${env.tokenFile} or ${env.awsIamCluster}`,
      `${env.nodeName} is not a node name`,
      `${env.podCIDR} is not an IPv4 CIDR`,
      `${env.labels} has an invalid label key "bad key"`,
      `${env.maxPods} is not a number of pods`,
      `${env.reservedMemory} is not a quantity`,
      `${env.queue} does not end in a queue name`,
      `${env.region} is not an AWS region`,
      `${env.dataDir} is not an absolute path`,
      `${env.kubeletPort} is not a port (1-65535)`,
      `${env.runProxyAndDNS} is not true or false`,
      `${env.clusterDNS} has "not-an-ip", not an IP address`,
    ];
    for (const problem of expected)
      expect(
        problems.some((p) => p.startsWith(problem)),
        problem,
      ).toBe(true);
    expect(problems).toHaveLength(expected.length);
  });

  it('names a missing API server, pod CIDR and queue', () => {
    const problems = problemsOf(() => parseAgentConfig(undefined, { [env.token]: token }, { hostname }));
    expect(problems).toEqual([
      `${env.apiServer} (or apiServer in the config file) is not set`,
      `${env.podCIDR} (or podCIDR in the config file) is not set`,
      `${env.queue} or ${env.queuePrefix} (queue or queuePrefix in the config file) is not set`,
    ]);
  });

  it('checks the pod CIDR against its use: host bits, room for pods, the cluster CIDR, maxPods', () => {
    expect(
      problemsOf(() =>
        parseAgentConfig(undefined, { ...minimal, [env.podCIDR]: '10.244.1.5/24' }, { hostname }),
      ),
    ).toEqual([`${env.podCIDR} has host bits set (use the network address): "10.244.1.5/24"`]);
    expect(
      problemsOf(() =>
        parseAgentConfig(undefined, { ...minimal, [env.podCIDR]: '10.244.1.0/31' }, { hostname }),
      ),
    ).toEqual([`${env.podCIDR} is too small for pods (at most /30): "10.244.1.0/31"`]);
    expect(
      problemsOf(() =>
        parseAgentConfig(undefined, { ...minimal, [env.clusterCIDR]: '10.245.0.0/16' }, { hostname }),
      ),
    ).toEqual([`${env.clusterCIDR} does not contain the pod CIDR 10.244.1.0/24: "10.245.0.0/16"`]);
    expect(
      parseAgentConfig(undefined, { ...minimal, [env.clusterCIDR]: '10.244.0.0/16' }, { hostname })
        .clusterCIDR,
    ).toBe('10.244.0.0/16');
    // A /26 holds 61 pods: the default shrinks to fit, an explicit maxPods beyond it is wrong.
    const small = { ...minimal, [env.podCIDR]: '10.244.1.64/26' };
    expect(parseAgentConfig(undefined, small, { hostname }).maxPods).toBe(61);
    expect(
      problemsOf(() => parseAgentConfig(undefined, { ...small, [env.maxPods]: '62' }, { hostname })),
    ).toEqual([`${env.maxPods} is not a number of pods the pod CIDR holds (1-61): "62"`]);
  });

  it('wants an https API server with no path or credentials', () => {
    for (const url of ['https://api.example.com/prefix', 'https://user:pw@api.example.com', 'not a url'])
      expect(
        problemsOf(() => parseAgentConfig(undefined, { ...minimal, [env.apiServer]: url }, { hostname })),
      ).toHaveLength(1);
    expect(
      parseAgentConfig(
        undefined,
        { ...minimal, [env.apiServer]: 'https://abc.lambda-url.eu-west-1.on.aws/' },
        {
          hostname,
        },
      ).apiServer,
    ).toBe('https://abc.lambda-url.eu-west-1.on.aws');
  });

  it("authenticates with the machine's IAM role instead of a token when given the cluster's name", async () => {
    const { [env.token]: _, ...withoutToken } = minimal;
    const config = parseAgentConfig(
      undefined,
      { ...withoutToken, [env.awsIamCluster]: 'prod' },
      { hostname },
    );
    expect(config.credential).toEqual({ awsIamCluster: 'prod' });
    expect(await readSecrets(config, async () => '')).toEqual({});
    expect(
      problemsOf(() =>
        parseAgentConfig(undefined, { ...minimal, [env.awsIamCluster]: 'prod' }, { hostname }),
      ),
    ).toContain(`give either a token or ${env.awsIamCluster}, not both`);
  });

  it('never puts a token in an error message', () => {
    const messages = [
      // Whitespace in the token, inline.
      () => parseAgentConfig(undefined, { ...minimal, [env.token]: `${token} extra` }, { hostname }),
      // The kubelet token set twice in one source.
      () =>
        parseAgentConfig(
          undefined,
          { ...minimal, [env.kubeletToken]: `${kubeletToken} x`, [env.kubeletTokenFile]: '/t' },
          { hostname },
        ),
      // A YAML error on the token's own line (the parser quotes that line).
      () => parseAgentConfig(`token: ${token}: oops\n`, minimal, { hostname }),
      () => parseAgentConfig(`token: "${token}\n`, minimal, { hostname }),
      // A token that is not a string.
      () => parseAgentConfig(`kubeletToken: [${kubeletToken}]\n`, minimal, { hostname }),
    ].map((run) => {
      try {
        run();
      } catch (error) {
        return (error as Error).message;
      }
      throw new Error('no error thrown');
    });
    for (const message of messages) {
      expect(message).not.toContain(token);
      expect(message).not.toContain(kubeletToken);
    }
    expect(messages[0]).toContain(`${env.token} contains whitespace`);
    expect(messages[1]).toContain(`set only one of ${env.kubeletToken} and ${env.kubeletTokenFile}`);
    expect(messages[2]).toContain('is not YAML or JSON');
  });

  it('reads the token and CA files, naming each one that is missing or wrong', async () => {
    const config = parseAgentConfig(
      undefined,
      {
        ...minimal,
        [env.token]: undefined,
        [env.tokenFile]: '/etc/lambernetes/token',
        [env.caFile]: '/etc/lambernetes/ca.crt',
        [env.kubeletTokenFile]: '/etc/lambernetes/kubelet-token',
      },
      { hostname },
    );
    const files: Record<string, string> = {
      '/etc/lambernetes/token': `${token}\n`,
      '/etc/lambernetes/ca.crt': `${pem}\n`,
      '/etc/lambernetes/kubelet-token': `${kubeletToken}\n`,
    };
    const read = async (path: string) => {
      const text = files[path];
      if (text === undefined) throw Object.assign(new Error(`ENOENT: ${path}`), { code: 'ENOENT' });
      return text;
    };
    expect(await readSecrets(config, read)).toEqual({ ca: pem, token, kubeletToken });

    files['/etc/lambernetes/token'] = `${token} ${token}\n`;
    delete files['/etc/lambernetes/kubelet-token'];
    files['/etc/lambernetes/ca.crt'] = 'not a certificate';
    const error = await rejectionOf(readSecrets(config, read));
    expect(error.problems).toEqual([
      'caFile /etc/lambernetes/ca.crt is not a PEM certificate',
      'tokenFile /etc/lambernetes/token contains whitespace (a bearer token is one word)',
      'kubeletTokenFile /etc/lambernetes/kubelet-token cannot be read (ENOENT)',
    ]);
    expect(error.message).not.toContain(token);
  });

  it('finds the config file by --config, else by LAMBERNETES_AGENT_CONFIG', () => {
    expect(configPath(['--config', '/a.yaml'], { [env.config]: '/b.yaml' })).toBe('/a.yaml');
    expect(configPath(['--config=/a.yaml'], {})).toBe('/a.yaml');
    expect(configPath([], { [env.config]: '/b.yaml' })).toBe('/b.yaml');
    expect(configPath([], {})).toBeUndefined();
    expect(() => configPath(['--conifg', '/a.yaml'], {})).toThrow(AgentConfigError);
  });

  describe('from files on disk', () => {
    let dir: string | undefined;
    afterEach(async () => {
      if (dir) await rm(dir, { recursive: true, force: true });
    });

    it('loads the config file and the files it names, relative to it', async () => {
      dir = await mkdtemp(join(tmpdir(), 'agent-config-'));
      await writeFile(join(dir, 'token'), `${token}\n`);
      await writeFile(join(dir, 'ca.crt'), pem);
      await writeFile(
        join(dir, 'agent.yaml'),
        'apiServer: https://api.example.com\ntokenFile: token\ncaFile: ca.crt\npodCIDR: 10.244.3.0/24\nqueue: q\n',
      );
      const { config, secrets } = await loadAgentConfig(['--config', join(dir, 'agent.yaml')], {
        [env.nodeName]: 'worker-3',
      });
      expect(config).toMatchObject({
        nodeName: 'worker-3',
        credential: { token: { file: join(dir, 'token') } },
      });
      expect(secrets).toEqual({ ca: pem, token });
      const missing = await rejectionOf(loadAgentConfig(['--config', join(dir, 'nope.yaml')], {}));
      expect(missing.problems).toEqual([`the config file ${join(dir, 'nope.yaml')} cannot be read (ENOENT)`]);
    });
  });

  it('main exits with EX_CONFIG (78) and every problem printed, no token among them', async () => {
    const { code, stderr } = await new Promise<{ code: number | null; stderr: string }>((done) => {
      const child = execFile(
        process.execPath,
        ['--import', 'tsx', 'agent/main.ts'],
        {
          env: {
            PATH: process.env.PATH ?? '',
            [env.apiServer]: 'http://api.example.com',
            [env.token]: `${token} x`,
            [env.podCIDR]: '10.244.1.0/24',
          },
        },
        (_error, _stdout, stderr) => done({ code: child.exitCode, stderr }),
      );
    });
    expect(code).toBe(78);
    expect(stderr).toContain(`${env.apiServer} is not an https URL`);
    expect(stderr).toContain(`${env.token} contains whitespace`);
    expect(stderr).toContain(`${env.queue} or ${env.queuePrefix}`);
    expect(stderr).not.toContain(token);
  });

  describe('what startAgent gets', () => {
    const parts = {
      client: {} as ApiClient,
      runtime: {} as ContainerRuntime,
      sqs: {} as SQSClient,
      runtimeVersion: 'docker://28.2.2',
    };

    it('runs its own proxy and DNS on the bridge gateway, and serves the endpoint given a kubelet token', () => {
      const config = parseAgentConfig(
        undefined,
        { ...minimal, [env.clusterCIDR]: '10.244.0.0/16', [env.providerID]: 'aws:///eu-west-1a/i-1' },
        { hostname: 'worker-1' },
      );
      const options = agentOptions(config, { ...parts, kubeletToken });
      expect(options).toMatchObject({
        identity: {
          name: 'worker-1',
          podCIDR: '10.244.1.0/24',
          providerID: 'aws:///eu-west-1a/i-1',
          containerRuntimeVersion: 'docker://28.2.2',
          maxPods: 110,
          reserved: { cpuMilli: 100, memoryBytes: 256 * 1024 * 1024 },
          port: 10250,
        },
        dataDir: '/var/lib/lambernetes',
        queue: { name: 'lambernetes-node-ip-10-0-1-5_ec2_internal' },
        dns: { clusterDNS: ['10.244.1.1'], clusterDomain: 'cluster.local' },
        runtimeScheme: 'docker://',
        server: { port: 10250, token: kubeletToken },
        services: { proxy: true, dnsHost: '10.244.1.1', clusterCIDR: '10.244.0.0/16' },
      });
      expect(dockerRuntimeOptions(config)).toEqual({
        socketPath: '/var/run/docker.sock',
        node: 'worker-1',
        network: 'lambernetes',
        sandboxImage: 'public.ecr.aws/docker/library/busybox:1.36',
      });
      expect(bridgeNetwork(config)).toEqual({
        name: 'lambernetes',
        subnet: '10.244.1.0/24',
        gateway: '10.244.1.1',
      });
    });

    it('leaves out the endpoint without a kubelet token, and the proxy and DNS when told', () => {
      const config = parseAgentConfig(undefined, { ...minimal, [env.runProxyAndDNS]: 'false' }, { hostname });
      const options = agentOptions(config, parts);
      expect(options.server).toBeUndefined();
      expect(options.services).toBeUndefined();
      // No DNS of its own and none configured: pods use the node's resolver.
      expect(options.dns.clusterDNS).toEqual([]);
    });
  });
});
