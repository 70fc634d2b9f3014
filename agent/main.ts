/**
 * The agent's process on a worker node: `tsx agent/main.ts --config /etc/lambernetes/agent.yaml` (or
 * the environment alone; see agent/config.ts). Wiring only: it loads the configuration, builds the
 * API client, the SQS client and the Docker runtime, starts the agent, and stops it on SIGTERM/SIGINT
 * leaving the pods' containers running, so the next agent adopts them. Exit 78 (EX_CONFIG): the
 * configuration is wrong; 1: starting failed (Docker or the API server unreachable), try again.
 */
import { mkdir } from 'node:fs/promises';
import { rootCertificates } from 'node:tls';
import { SQSClient } from '@aws-sdk/client-sqs';
import Docker from 'dockerode';
import { eksTokenSource } from '../shared/auth/eks-token.js';
import { ApiClient } from '../shared/client/client.js';
import { httpsTransport } from '../shared/client/https-transport.js';
import { startAgent } from './agent.js';
import {
  AgentConfigError,
  agentOptions,
  bridgeNetwork,
  dockerRuntimeOptions,
  loadAgentConfig,
} from './config.js';
import { DockerRuntime } from './runtime/docker.js';

const exConfig = 78;
const log = (line: string) => console.log(`lambernetes-agent: ${line}`);

function fail(error: unknown, code: number): never {
  console.error(
    `lambernetes-agent: ${error instanceof AgentConfigError ? error.message : 'failed to start:'}`,
    ...(error instanceof AgentConfigError ? [] : [error]),
  );
  process.exit(code);
}

/** The node's bridge on its pod CIDR: created when missing; one on another subnet is an error, not replaced. */
async function ensureBridgeNetwork(socketPath: string, network: ReturnType<typeof bridgeNetwork>) {
  const docker = new Docker({ socketPath });
  const existing = await docker
    .getNetwork(network.name)
    .inspect()
    .catch((error: unknown) => {
      if ((error as { statusCode?: number }).statusCode === 404) return undefined;
      throw error;
    });
  if (!existing) {
    await docker.createNetwork({
      Name: network.name,
      Driver: 'bridge',
      IPAM: { Config: [{ Subnet: network.subnet, Gateway: network.gateway }] },
    });
    log(`created Docker network ${network.name} on ${network.subnet}`);
    return;
  }
  const subnets: string[] = (existing.IPAM?.Config ?? []).map((c: { Subnet?: string }) => c.Subnet ?? '');
  if (!subnets.includes(network.subnet))
    throw new Error(
      `Docker network ${network.name} is on ${subnets.join(', ') || 'no subnet'}, not the pod CIDR ${network.subnet}: ` +
        `remove it (docker network rm ${network.name}) or configure another network`,
    );
}

const { config, secrets } = await loadAgentConfig(process.argv.slice(2), process.env).catch(
  (error: unknown) => fail(error, error instanceof AgentConfigError ? exConfig : 1),
);

// The region: the config's (or its queue URL's), else the SDK's own (AWS_REGION). The endpoint is the
// SDK's too (AWS_ENDPOINT_URL, AWS_ENDPOINT_URL_SQS), as are the credentials (the instance profile).
// With an endpoint of its own (AWS_ENDPOINT_URL_SQS: a local SQS, or a VPC endpoint), requests go
// there, not to the host a queue URL names (which a local SQS may name unresolvably, e.g.
// `sqs.us-east-1.localhost`: the agent then heard of its pods only at its one-minute resync).
const ownEndpoint = Boolean(process.env.AWS_ENDPOINT_URL_SQS ?? process.env.AWS_ENDPOINT_URL);
const sqs = new SQSClient({
  ...(config.region ? { region: config.region } : {}),
  ...(ownEndpoint ? { useQueueUrlAsEndpoint: false } : {}),
});
await sqs.config
  .region()
  .catch(() =>
    fail(
      new AgentConfigError([
        'no AWS region: set region (LAMBERNETES_AGENT_REGION), a queue URL, or AWS_REGION',
      ]),
      exConfig,
    ),
  );
// Without a CA of its own, the API server has a public certificate (a Lambda function URL).
// The node's credential: its token, or tokens minted from the instance role (the SDK's credentials).
const region = await sqs.config.region();
const client = new ApiClient(
  httpsTransport({ url: config.apiServer, ca: secrets.ca ?? rootCertificates.join('\n') }),
  'awsIamCluster' in config.credential
    ? eksTokenSource({
        clusterName: config.credential.awsIamCluster,
        region,
        credentials: sqs.config.credentials,
      })
    : (secrets.token as string),
);
const runtime = new DockerRuntime(dockerRuntimeOptions(config));

const agent = await (async () => {
  await mkdir(config.dataDir, { recursive: true });
  await ensureBridgeNetwork(config.dockerSocket, bridgeNetwork(config));
  const runtimeVersion = await runtime.version();
  // startAgent takes the queue by name and asks SQS for its URL: a configured URL's last path
  // segment is that name (config.queue.name; see parseAgentConfig).
  return startAgent(
    agentOptions(config, {
      client,
      runtime,
      sqs,
      runtimeVersion,
      ...(secrets.kubeletToken ? { kubeletToken: secrets.kubeletToken } : {}),
    }),
  );
})().catch((error: unknown) => fail(error, 1));

log(
  `node ${agent.nodeName} registered with ${config.apiServer}; pods on ${config.podCIDR}, queue ${config.queue.name}` +
    (secrets.kubeletToken
      ? `, endpoint on port ${config.kubeletPort}`
      : ', no kubelet endpoint (no kubeletToken)') +
    (config.runProxyAndDNS ? `, proxy and DNS (${config.gateway})` : ''),
);

let stopping = false;
for (const signal of ['SIGTERM', 'SIGINT'] as const)
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    log(`${signal}: stopping (containers keep running)`);
    agent.stop().then(
      () => {
        sqs.destroy();
        process.exit(0);
      },
      (error: unknown) => {
        console.error('lambernetes-agent: stopping failed:', error);
        process.exit(1);
      },
    );
  });
