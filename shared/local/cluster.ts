import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DescribeTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { AuditSink } from '../../functions/apiserver/audit.js';
import { clusterAuthenticator } from '../../functions/apiserver/auth/authenticators.js';
import { signingKeyFromSecret } from '../../functions/apiserver/auth/service-account-tokens.js';
import { newToken, tokenSecret } from '../../functions/apiserver/auth/stored-tokens.js';
import { ensureClusterDefaults } from '../../functions/apiserver/bootstrap.js';
import { createApiServer, type User } from '../../functions/apiserver/server.js';
import { strategicMergePatch } from '../../functions/apiserver/strategic-merge.js';
import { serviceAccountIssuer } from '../../functions/apiserver/token-request.js';
import { NodeQueues } from '../../functions/notifier/queues.js';
import { type ControlPlaneSettings, controlFunctions } from '../../functions/registry.js';
import { batching, sizing } from '../../functions/sizing.js';
import { resourceType } from '../api/resources.js';
import { ApiClient } from '../client/client.js';
import { httpsTransport } from '../client/https-transport.js';
import { meteredCalls } from '../metering/api-calls.js';
import { meterDynamoDB } from '../metering/dynamodb.js';
import { meteredApiHandler } from '../metering/lambda.js';
import type { Meter } from '../metering/meter.js';
import { meterSqs } from '../metering/sqs.js';
import { Store } from '../store/store.js';
import { createTable } from '../store/table.js';
import { type LocalAgents, startLocalAgents } from './agents.js';
import { startControlLoops } from './control-loops.js';
import { localCredentials, startDynamoDBLocal } from './dynamodb-local.js';
import { startHttpsServer } from './https-server.js';
import { writeKubeconfig } from './kubeconfig.js';
import { kubernetesServiceNames } from './kubernetes-service.js';
import { podsApiAddress, serveApiToPods } from './pods-api.js';
import { localSqsClient, startLocalSqs } from './sqs.js';
import { loadOrCreateCertificates } from './tls.js';

export interface LocalClusterOptions {
  /** Where the cluster keeps its database, certificates, token and kubeconfig. */
  dataDir: string;
  /** Keep the database in memory (a throwaway cluster). */
  inMemory?: boolean;
  /** Use this DynamoDB (Local) instead of starting one; tests share theirs. */
  dynamoEndpoint?: string;
  tableName?: string;
  /** The longest a watch stays open (tests shorten it). */
  maxWatchSeconds?: number;
  host?: string;
  /** 0 picks a free port. */
  port?: number;
  logError?: (error: unknown) => void;
  /** The scheduler's and controllers' settings; `false` runs the API server alone. */
  controlPlane?: ControlPlaneSettings | false;
  /** Worker nodes with agents running real containers through Podman (needs the control plane). */
  agents?: number;
  /** Run the notifier (node queues) even without agents here; it runs whenever agents do. */
  notifier?: boolean;
  /** The agents' nodes run no containers (`SimulatedRuntime`, no Podman needed): many nodes on one machine. */
  simulatedNodes?: boolean;
  /**
   * Run with the deployed stack's timings rather than the quickest ones: the stream mappings' 1 s
   * batching window, resyncs on whole-minute schedules and the agents' 20 s long polls. Slower to
   * react, but the functions are invoked and the queues polled as often as on AWS: what the cost
   * scenarios meter.
   */
  asDeployed?: boolean;
  /**
   * Counts what the cluster uses as AWS would bill it: DynamoDB capacity, the API server's and the
   * control functions' invocations and durations, SQS requests, function-URL bytes, scheduled
   * invocations, audit log bytes, and the agents' own API and SQS calls.
   */
  meter?: Meter;
}

export interface LocalCluster {
  url: string;
  kubeconfigPath: string;
  token: string;
  /** What the API server presents to agents' endpoints (logs, exec): an agent run by hand accepts it. */
  kubeletToken: string;
  /** The SQS endpoint of the control plane's queues and the node queues (absent without a control plane). */
  sqsEndpoint?: string;
  /** The worker nodes whose agents run; or why none could (a missing prerequisite). */
  nodes: string[];
  agentsUnavailable?: string;
  /** The local nodes' agents, to stop and start one (absent without agents). */
  agents?: Pick<LocalAgents, 'podman' | 'stopNode' | 'startNode'>;
  stop(): Promise<void>;
}

/** Node queues of the local cluster are named `<prefix>node-<node>`. */
export const localNodeQueuePrefix = 'lambernetes-';

export const defaultTableName = 'lambernetes';

/** A random secret kept in a 0600 file: read, or made on first use. */
async function secretFile(path: string): Promise<string> {
  try {
    return (await readFile(path, 'utf8')).trim();
  } catch {
    const token = randomBytes(32).toString('base64url');
    await writeFile(path, `${token}\n`, { mode: 0o600 });
    return token;
  }
}

/**
 * A local node's own credential (user `system:node:<node>`, group `system:nodes`), which the Node
 * authorizer limits to that node: a stored token kept in a file under `dir` across restarts, its
 * digest stored in the cluster again if the table lost it.
 */
async function nodeToken(admin: ApiClient, dir: string, node: string): Promise<string> {
  const path = join(dir, node);
  let token = await readFile(path, 'utf8').then(
    (text) => text.trim(),
    () => undefined,
  );
  if (!token) {
    token = newToken().token;
    await mkdir(dir, { recursive: true, mode: 0o700 });
    await writeFile(path, `${token}\n`, { mode: 0o600 });
  }
  const secret = tokenSecret(token, { username: `system:node:${node}`, groups: ['system:nodes'] });
  await admin.create(resourceType('secrets'), secret).catch((error: unknown) => {
    if ((error as { code?: number }).code !== 409) throw error;
  });
  return token;
}

async function ensureTable(client: DynamoDBClient, tableName: string): Promise<void> {
  try {
    await client.send(new DescribeTableCommand({ TableName: tableName }));
  } catch (error) {
    if (!(error instanceof Error && error.name === 'ResourceNotFoundException')) throw error;
    await createTable(client, tableName);
  }
}

/**
 * The whole control plane on this machine: DynamoDB Local, the API server behind HTTPS with a
 * generated CA and an admin token, the scheduler and controllers fed by the table's stream, and a
 * kubeconfig for kubectl.
 */
export async function startLocalCluster(options: LocalClusterOptions): Promise<LocalCluster> {
  const host = options.host ?? '127.0.0.1';
  const tableName = options.tableName ?? defaultTableName;
  const dynamo = options.dynamoEndpoint
    ? { endpoint: options.dynamoEndpoint, stop: async () => {} }
    : await startDynamoDBLocal(options.inMemory ? {} : { path: join(options.dataDir, 'dynamodb') });
  const client = new DynamoDBClient({
    endpoint: dynamo.endpoint,
    region: 'us-east-1',
    credentials: localCredentials,
  });
  const { meter } = options;
  if (meter) meterDynamoDB(client, meter, { dynamoDBLocal: true });
  // What is running, stopped in reverse order (on stop, or when a later step fails to start).
  const running: (() => Promise<void>)[] = [
    async () => {
      client.destroy();
      await dynamo.stop();
    },
  ];
  const stopAll = async () => {
    for (const stop of running.reverse()) await stop();
  };
  try {
    await ensureTable(client, tableName);
    const store = Store.of(client, tableName);
    const certificates = await loadOrCreateCertificates(join(options.dataDir, 'pki'), [
      host,
      podsApiAddress,
      ...kubernetesServiceNames,
    ]);
    const token = await secretFile(join(options.dataDir, 'admin-token'));
    const serviceAccounts = {
      keys: await signingKeyFromSecret(
        await secretFile(join(options.dataDir, 'pki', 'service-account-secret')),
      ),
      issuer: serviceAccountIssuer,
    };
    const admin: User = { name: 'admin', groups: ['system:masters', 'system:authenticated'] };
    // What the API server presents to the local agents' endpoints (logs, exec); new on every start.
    const kubeletToken = randomBytes(32).toString('base64url');
    // kube-apiserver's --audit-log-path: one JSON line per mutating request, of every component.
    const auditLog = createWriteStream(join(options.dataDir, 'audit.log'), { flags: 'a', mode: 0o600 });
    running.push(() => new Promise<void>((resolve) => auditLog.end(resolve)));
    const audit: AuditSink = (event) => {
      const line = `${JSON.stringify(event)}\n`;
      meter?.add('logs', 'audit', { bytes: Buffer.byteLength(line) });
      auditLog.write(line);
    };
    const apiServer = createApiServer({
      audit,
      store,
      authenticate: clusterAuthenticator(store, [{ token, user: admin }]),
      strategicMergePatch,
      kubelet: { token: kubeletToken },
      serviceAccounts,
      ...(options.logError ? { logError: options.logError } : {}),
      ...(options.maxWatchSeconds ? { maxWatchSeconds: options.maxWatchSeconds } : {}),
    });
    const api = Object.assign(
      meter
        ? meteredApiHandler(apiServer, meter, { name: 'apiserver', memoryMiB: sizing.apiserver.memoryMiB })
        : apiServer,
      { upgrade: apiServer.upgrade },
    );
    const server = await startHttpsServer({
      handler: api,
      upgrade: api.upgrade,
      host,
      port: options.port ?? 6443,
      cert: certificates.serverCert,
      key: certificates.serverKey,
    });
    running.push(() => server.close());
    await ensureClusterDefaults(store);
    let sqsEndpoint: string | undefined;
    if (options.controlPlane !== false) {
      const sqs = await startLocalSqs();
      running.push(() => sqs.stop());
      sqsEndpoint = sqs.endpoint;
      const sqsClient = localSqsClient(sqs.endpoint);
      if (meter) meterSqs(sqsClient, meter);
      running.push(async () => sqsClient.destroy());
      // Only where agents read node queues: otherwise it is one more stream reader for nothing.
      const nodeQueues =
        options.notifier || options.agents ? new NodeQueues(sqsClient, localNodeQueuePrefix) : undefined;
      const loops = await startControlLoops({
        store,
        dynamo: client,
        dynamoEndpoint: dynamo.endpoint,
        tableName,
        sqsEndpoint,
        audit,
        functions: controlFunctions(
          store,
          { ...options.controlPlane, rootCa: certificates.caCert },
          nodeQueues,
        ),
        ...(options.asDeployed
          ? { streamBatchingWindowMs: batching.stream.windowSeconds * 1000, minuteSchedules: true }
          : {}),
        ...(meter ? { meter } : {}),
        ...(options.logError ? { logError: options.logError } : {}),
      });
      running.push(() => loops.stop());
    }
    let nodes: string[] = [];
    let agentsUnavailable: string | undefined;
    let localAgents: LocalAgents | undefined;
    if (options.agents && sqsEndpoint) {
      const transport = httpsTransport({ url: server.url, ca: certificates.caCert });
      const admin = new ApiClient(transport, token);
      // Simulated nodes run no pods that could call the API.
      const forPods = options.simulatedNodes
        ? undefined
        : await serveApiToPods({
            handler: api,
            upgrade: api.upgrade,
            port: Number(new URL(server.url).port),
            cert: certificates.serverCert,
            key: certificates.serverKey,
            admin,
          });
      if (forPods && 'stop' in forPods) running.push(forPods.stop);
      else if (forPods) options.logError?.(new Error(forPods.unavailable));
      const agentTransport = meter ? meteredCalls(transport, meter, 'agent') : transport;
      const agents = await startLocalAgents({
        dataDir: options.dataDir,
        count: options.agents,
        apiServer: forPods && 'url' in forPods ? forPods.url : server.url,
        clientFor: async (node) =>
          new ApiClient(agentTransport, await nodeToken(admin, join(options.dataDir, 'node-tokens'), node)),
        sqsEndpoint,
        nodeQueuePrefix: localNodeQueuePrefix,
        kubeletToken,
        ...(options.simulatedNodes ? { simulated: true } : {}),
        ...(options.asDeployed ? { queueWaitSeconds: 20 } : {}),
        ...(meter ? { meter } : {}),
        ...(options.logError ? { logError: options.logError } : {}),
      });
      if ('unavailable' in agents) agentsUnavailable = agents.unavailable;
      else {
        nodes = agents.nodes;
        localAgents = agents;
        // A throwaway cluster leaves no containers behind; a persistent one's agents adopt theirs next time.
        running.push(() => agents.stop({ removeContainers: options.inMemory === true }));
      }
    }
    const kubeconfigPath = join(options.dataDir, 'kubeconfig');
    await writeKubeconfig(kubeconfigPath, {
      clusterName: 'lambernetes',
      server: server.url,
      caCert: certificates.caCert,
      user: 'admin',
      token,
    });
    return {
      url: server.url,
      kubeconfigPath,
      token,
      kubeletToken,
      ...(sqsEndpoint ? { sqsEndpoint } : {}),
      nodes,
      ...(agentsUnavailable ? { agentsUnavailable } : {}),
      ...(localAgents ? { agents: localAgents } : {}),
      stop: stopAll,
    };
  } catch (error) {
    await stopAll();
    throw error;
  }
}
