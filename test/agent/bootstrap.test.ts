/**
 * A worker's start-up, as far as it can run here: the bootstrap script (infra/worker/bootstrap.sh) runs
 * in a real container (busybox sh) from the same bundle the stack uploads, with stand-ins on PATH for
 * what only an EC2 instance has (dnf, systemctl, the instance metadata service behind curl, Secrets
 * Manager behind the aws CLI, Docker). Then the bundled agent itself (agent.mjs, as systemd would start
 * it) runs with the configuration the script wrote, against a local cluster and Podman: it registers
 * the Node the script described and runs a pod.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { removeAllContainers } from '../../agent/agent.js';
import { parseAgentConfig } from '../../agent/config.js';
import { DockerRuntime } from '../../agent/runtime/docker.js';
import { agentBundleFiles, buildAgentBundle } from '../../infra/agent-bundle.js';
import { clusterCidr, workerCidr } from '../../infra/workers.js';
import type { Node, Pod } from '../../shared/api/core.js';
import { resourceType } from '../../shared/api/resources.js';
import { localNodeQueuePrefix } from '../../shared/local/cluster.js';
import { localCredentials } from '../../shared/local/dynamodb-local.js';
import { busyboxImage, ensureNetwork, podmanAvailable } from '../../shared/local/podman.js';
import { nodeQueueName } from '../../shared/queues/node-queue.js';
import { startTestCluster, type TestCluster } from '../support/cluster.js';
import { startTestPodman, type TestPodman } from '../support/podman.js';
import { until } from '../support/wait.js';

const nodes = resourceType('nodes');
const pods = resourceType('pods');

/** What the stand-in metadata service says about the instance. */
const instance = {
  id: 'i-0123456789abcdef0',
  zone: 'eu-west-1a',
  region: 'eu-west-1',
  address: '10.0.17.42',
  hostname: 'IP-10-0-17-42.eu-west-1.compute.internal',
  type: 't4g.small',
};
const nodeName = instance.hostname.toLowerCase();
/** 10.0.17.42 is offset 17 × 256 + 42 in 10.0.0.0/18: the /24 of that index in 100.64.0.0/10. */
const podCIDR = '100.81.42.0/24';
const secretArn = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:workers-AbCdEf';

/**
 * Stand-ins for the instance's tools: each logs its command line to /log/commands; curl answers as
 * IMDSv2 (a session token first, then only requests that carry it); aws answers the secret.
 */
function stubs(token: string): Record<string, string> {
  const log = 'echo "$(basename "$0") $*" >> /log/commands';
  return {
    dnf: `#!/bin/sh\n${log}\n`,
    systemctl: `#!/bin/sh\n${log}\n`,
    iptables: `#!/bin/sh\n${log}\n# -C (check): the rule is not there yet.\nfor a in "$@"; do [ "$a" = -C ] && exit 1; done\nexit 0\n`,
    docker: `#!/bin/sh
${log}
case "$1 $2" in
  "network inspect") exit 1 ;;
  "version --format") echo 28.1.1 ;;
esac
`,
    aws: `#!/bin/sh
${log}
[ "$1 $2" = "secretsmanager get-secret-value" ] || exit 2
case "$*" in *"--secret-id ${secretArn}"*) printf '%s\\n' '${token}' ;; *) exit 3 ;; esac
`,
    curl: `#!/bin/sh
${log}
for arg; do case "$arg" in http*) url=$arg ;; esac; done
case "$url" in
  */latest/api/token) echo imds-session; exit 0 ;;
esac
case "$*" in *"X-aws-ec2-metadata-token: imds-session"*) ;; *) exit 22 ;; esac
case "$url" in
  */meta-data/instance-id) echo ${instance.id} ;;
  */meta-data/placement/availability-zone) echo ${instance.zone} ;;
  */meta-data/placement/region) echo ${instance.region} ;;
  */meta-data/local-ipv4) echo "\${STUB_ADDRESS:-${instance.address}}" ;;
  */meta-data/local-hostname) echo ${instance.hostname} ;;
  */meta-data/instance-type) echo ${instance.type} ;;
  *) exit 22 ;;
esac
`,
  };
}

function run(
  command: string,
  args: string[],
  env: NodeJS.ProcessEnv,
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(command, args, { env, timeout: 120_000 }, (error, stdout, stderr) =>
      resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

const unavailable = await podmanAvailable();
if (unavailable) console.warn(`Skipping the worker bootstrap tests: ${unavailable}`);

describe.skipIf(unavailable !== undefined)('a worker boots from the agent bundle', () => {
  let work: string;
  let bundle: string;
  let podman: TestPodman;
  let cluster: TestCluster;
  /** A fresh instance's folders, mounted into the container where the script writes them. */
  let host: { etc: string; units: string; log: string; stubs: string };

  /** Runs the bootstrap in a container, as the user data does (`sh /opt/lambernetes/bootstrap.sh`). */
  const bootstrap = (variables: Record<string, string>, script: string = agentBundleFiles.bootstrap) => {
    const mounts = [
      `${bundle}:/opt/lambernetes`,
      `${host.stubs}:/stubs:ro`,
      `${host.etc}:/etc/lambernetes`,
      `${host.units}:/etc/systemd/system`,
      `${host.log}:/log`,
    ].flatMap((m) => ['-v', m]);
    const env = Object.entries({ PATH: '/stubs:/bin', ...variables }).flatMap(([k, v]) => [
      '-e',
      `${k}=${v}`,
    ]);
    return run(
      'podman',
      [
        'run',
        '--rm',
        '--network',
        'none',
        ...mounts,
        ...env,
        busyboxImage,
        'sh',
        `/opt/lambernetes/${script}`,
      ],
      podman.env,
    );
  };
  const variables = () => ({
    LAMBERNETES_API_SERVER: cluster.url,
    LAMBERNETES_CLUSTER_NAME: 'test-cluster',
    LAMBERNETES_WORKER_TOKEN_SECRET: secretArn,
    LAMBERNETES_QUEUE_PREFIX: localNodeQueuePrefix,
    LAMBERNETES_CLUSTER_CIDR: clusterCidr,
    LAMBERNETES_WORKER_CIDR: workerCidr,
  });
  const commands = async () => (await readFile(join(host.log, 'commands'), 'utf8')).trim().split('\n');

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'lambernetes-bootstrap-'));
    bundle = join(work, 'bundle');
    await mkdir(bundle);
    buildAgentBundle(bundle);
    [podman, cluster] = await Promise.all([startTestPodman(), startTestCluster({ notifier: true })]);
    host = {
      etc: join(work, 'etc'),
      units: join(work, 'units'),
      log: join(work, 'log'),
      stubs: join(work, 'stubs'),
    };
    for (const dir of Object.values(host)) await mkdir(dir);
    for (const [name, text] of Object.entries(stubs(cluster.kubeletToken))) {
      await writeFile(join(host.stubs, name), text);
      await chmod(join(host.stubs, name), 0o755);
    }
  });
  afterAll(async () => {
    await cluster?.stop();
    await podman?.stop();
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('refuses to start without its settings, or on an address outside the worker CIDR', async () => {
    const { LAMBERNETES_QUEUE_PREFIX: _, ...missing } = variables();
    const withoutPrefix = await bootstrap(missing);
    expect(withoutPrefix.code).not.toBe(0);
    expect(withoutPrefix.stderr).toContain('LAMBERNETES_QUEUE_PREFIX is not set');

    const outside = await bootstrap({ ...variables(), STUB_ADDRESS: '10.0.64.1' });
    expect(outside.code).not.toBe(0);
    expect(outside.stderr).toContain('address 10.0.64.1 is outside the worker CIDR 10.0.0.0/18');
    await expect(stat(join(host.etc, 'agent.yaml'))).rejects.toThrow();
    await rm(join(host.log, 'commands'), { force: true });
  });

  it('installs Docker and Node, writes the agent configuration and token, makes the pod bridge, starts the agent', async () => {
    const result = await bootstrap(variables());
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);

    const yaml = await readFile(join(host.etc, 'agent.yaml'), 'utf8');
    const config = parseAgentConfig(yaml, {}, { filePath: '/etc/lambernetes/agent.yaml' });
    expect(config).toMatchObject({
      apiServer: cluster.url,
      credential: { awsIamCluster: 'test-cluster' },
      kubeletToken: { file: '/etc/lambernetes/kubelet-token' },
      nodeName,
      podCIDR,
      gateway: '100.81.42.1',
      queue: { name: nodeQueueName(localNodeQueuePrefix, nodeName) },
      region: instance.region,
      clusterCIDR: clusterCidr,
      providerID: `aws:///${instance.zone}/${instance.id}`,
      network: 'lambernetes',
      labels: {
        'node.kubernetes.io/instance-type': instance.type,
        'topology.kubernetes.io/region': instance.region,
        'topology.kubernetes.io/zone': instance.zone,
      },
    });
    expect((await readFile(join(host.etc, 'kubelet-token'), 'utf8')).trim()).toBe(cluster.kubeletToken);
    expect((await stat(join(host.etc, 'kubelet-token'))).mode & 0o777).toBe(0o600);

    expect(await commands()).toEqual(
      expect.arrayContaining([
        'dnf install -y docker nodejs22',
        'systemctl enable --now docker',
        `aws secretsmanager get-secret-value --region ${instance.region} --secret-id ${secretArn} --query SecretString --output text`,
        'docker network create --driver bridge --subnet 100.81.42.0/24 --gateway 100.81.42.1 ' +
          '-o com.docker.network.bridge.enable_ip_masquerade=false ' +
          '-o com.docker.network.bridge.gateway_mode_ipv4=nat-unprotected lambernetes',
        'systemctl daemon-reload',
        'systemctl enable --now lambernetes-agent',
      ]),
    );
    const order = await commands();
    expect(order.indexOf('systemctl enable --now lambernetes-agent')).toBe(order.length - 1);
    expect(await readFile(join(host.units, 'lambernetes-agent.service'), 'utf8')).toBe(
      await readFile('agent/lambernetes-agent.service', 'utf8'),
    );
    expect(
      await readFile(join(host.units, 'lambernetes-agent.service.d', 'pod-network.conf'), 'utf8'),
    ).toContain('ExecStartPre=/opt/lambernetes/pod-network.sh');

    // The rules systemd applies before each start: each added once, checked first.
    await rm(join(host.log, 'commands'));
    const rules = await bootstrap({}, 'pod-network.sh');
    expect(rules.code).toBe(0);
    expect((await commands()).filter((c) => c.includes(' -I '))).toEqual([
      `iptables -w -t filter -I DOCKER-USER -d ${podCIDR} -j ACCEPT`,
      `iptables -w -t nat -I POSTROUTING -s ${podCIDR} ! -d ${clusterCidr} -j MASQUERADE`,
    ]);
  });

  it('runs the bundled agent on that configuration: the Node registers as described and runs a pod', async () => {
    // The script's configuration as written; only what differs on this host is overridden (paths, the
    // local CA, Podman's socket and a bridge on the pod CIDR, and no host-wide proxy or DNS), and the
    // credential: there is no STS here to verify an IAM token, so the node presents a token instead.
    const network = `lbn-boot-${Date.now().toString(36)}`;
    await ensureNetwork(podman.env, network, podCIDR);
    const caFile = join(work, 'ca.crt');
    await writeFile(caFile, cluster.caCert);
    const dataDir = join(work, 'data');
    const tokenFile = join(work, 'node-token');
    await writeFile(tokenFile, cluster.token);
    const localYaml = join(work, 'agent.yaml');
    const written = await readFile(join(host.etc, 'agent.yaml'), 'utf8');
    expect(written).toContain('awsIamCluster: test-cluster\n');
    await writeFile(localYaml, written.replace('awsIamCluster: test-cluster', `tokenFile: ${tokenFile}`));
    const agent: ChildProcess = spawn(
      process.execPath,
      [join(bundle, agentBundleFiles.agent), '--config', localYaml],
      {
        env: {
          PATH: process.env.PATH,
          LAMBERNETES_AGENT_KUBELET_TOKEN_FILE: join(host.etc, 'kubelet-token'),
          LAMBERNETES_AGENT_CA_FILE: caFile,
          LAMBERNETES_AGENT_DOCKER_SOCKET: podman.socketPath,
          LAMBERNETES_AGENT_NETWORK: network,
          LAMBERNETES_AGENT_DATA_DIR: dataDir,
          LAMBERNETES_AGENT_SANDBOX_IMAGE: busyboxImage,
          LAMBERNETES_AGENT_RUN_PROXY_AND_DNS: 'false',
          LAMBERNETES_AGENT_KUBELET_PORT: String(await freePort()),
          AWS_ENDPOINT_URL_SQS: cluster.sqsEndpoint as string,
          AWS_ACCESS_KEY_ID: localCredentials.accessKeyId,
          AWS_SECRET_ACCESS_KEY: localCredentials.secretAccessKey,
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let output = '';
    agent.stdout?.on('data', (chunk) => {
      output += chunk;
    });
    agent.stderr?.on('data', (chunk) => {
      output += chunk;
    });
    const exited = new Promise<number | null>((resolve) => agent.on('exit', (code) => resolve(code)));
    const runtime = new DockerRuntime({
      socketPath: podman.socketPath,
      node: nodeName,
      network,
      sandboxImage: busyboxImage,
    });
    try {
      const node = await until(
        'the Node registered and Ready',
        async () => {
          if (agent.exitCode !== null) throw new Error(`the agent exited ${agent.exitCode}: ${output}`);
          const found = await cluster.client.find<Node>(nodes, undefined, nodeName);
          return found?.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')
            ? found
            : undefined;
        },
        60_000,
      );
      expect(node.spec).toMatchObject({ podCIDR, providerID: `aws:///${instance.zone}/${instance.id}` });
      expect(node.metadata.labels).toMatchObject({ 'node.kubernetes.io/instance-type': instance.type });

      await cluster.client.create<Pod>(pods, {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: 'first', namespace: 'default' },
        spec: {
          nodeName,
          terminationGracePeriodSeconds: 1,
          containers: [{ name: 'c', image: busyboxImage, command: ['sleep', '300'] }],
        },
      });
      let last: Pod | undefined;
      const running = await until(
        'the pod running',
        async () => {
          last = await cluster.client.get<Pod>(pods, 'default', 'first');
          return last.status?.phase === 'Running' ? last : undefined;
        },
        // Well before the agent's one-minute resync: it hears of the pod from its queue (its SQS client
        // must use the configured endpoint, not the host a local queue URL names).
        30_000,
      ).catch((error: Error) => {
        throw new Error(`${error.message}; pod status ${JSON.stringify(last?.status)}; agent: ${output}`);
      });
      // Its address is on the node's pod CIDR.
      expect(running.status?.podIP).toMatch(/^100\.81\.42\./);

      agent.kill('SIGTERM');
      expect(await exited).toBe(0);
      expect(output).toContain(`node ${nodeName} registered`);
    } finally {
      if (agent.exitCode === null) agent.kill('SIGKILL');
      await removeAllContainers(runtime);
      await run('podman', ['network', 'rm', '-f', network], podman.env);
    }
  });
});
