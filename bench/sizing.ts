/**
 * bench:sizing: what the functions' memory and timeouts are chosen from (`functions/sizing.ts`).
 * The API server and scheduler are bundled as the stack bundles them and run in a Node.js process of
 * their own, invoked with the events Lambda would send, against DynamoDB Local and fauxqs. Measured:
 * the cold start (module load and first request), the resident memory after it, and the peak resident
 * memory and duration of the heaviest work each does: the API server listing 1,000 objects (JSON and
 * Table), the scheduler handling a stream batch of 100 new pods on 10 nodes.
 *
 * Lambda's memory setting caps the process's resident memory, and its CPU grows with it (1,769 MB is
 * one vCPU): durations measured here on a whole core stretch at smaller settings. Secrets Manager and
 * the Lambda runtime's `awslambda` global do not exist here: a small HTTP endpoint answers
 * GetSecretValue, and the harness stands in for the runtime's response stream.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBStreamsClient } from '@aws-sdk/client-dynamodb-streams';
import { CreateQueueCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { DynamoDBStreamEvent } from 'aws-lambda';
import { buildSync } from 'esbuild';
import { startFauxqs } from 'fauxqs';
import { functionBundleOptions } from '../infra/bundling.js';
import { streamSettings } from '../infra/control-function.js';
import { projectRoot } from '../infra/functions.js';
import type { Node, Pod } from '../shared/api/core.js';
import { localCredentials, startDynamoDBLocal } from '../shared/local/dynamodb-local.js';
import { objectPartition } from '../shared/store/keys.js';
import { Store } from '../shared/store/store.js';
import { createTable } from '../shared/store/table.js';
import { startStreamPoller } from '../shared/streams/poller.js';
import { streamArnOf } from '../shared/streams/stream-arn.js';

const objects = Number(process.env.BENCH_OBJECTS ?? 1000);
const podCount = 100;
const nodeCount = 10;
const token = 'sizing-token';

/**
 * Runs in the function's own process: the runtime's globals stood in for, the bundle loaded, each step's
 * events invoked one after another (one request at a time, as one Lambda instance serves them), resident
 * memory sampled every 2 ms. Prints one JSON line per step.
 */
const harness = `
import { readFileSync } from 'node:fs';
import { Writable } from 'node:stream';
class Sink extends Writable { bytes = 0; _write(c, _e, cb) { this.bytes += c.length; cb(); } }
globalThis.awslambda = {
  streamifyResponse: (h) => h,
  HttpResponseStream: { from: (s, metadata) => { s.metadata = metadata; return s; } },
};
const context = { getRemainingTimeInMillis: () => 900000, functionName: 'sizing', awsRequestId: 'r' };
const mib = (b) => Math.round((b / 1048576) * 10) / 10;
let peak = 0;
setInterval(() => { peak = Math.max(peak, process.memoryUsage().rss); }, 2).unref();
const steps = JSON.parse(readFileSync(process.env.SIZING_STEPS, 'utf8'));
let started = performance.now();
peak = process.memoryUsage().rss;
const { handler } = await import(process.env.SIZING_BUNDLE);
for (const step of steps) {
  if (step.label !== 'cold start') { started = performance.now(); peak = process.memoryUsage().rss; }
  let bytes = 0, status;
  for (const event of step.events) {
    if (process.env.SIZING_STREAMING) {
      const sink = new Sink();
      await handler(event, sink, context);
      bytes += sink.bytes; status = sink.metadata?.statusCode;
    } else await handler(event, context);
  }
  peak = Math.max(peak, process.memoryUsage().rss);
  console.log(JSON.stringify({ label: step.label, ms: Math.round(performance.now() - started),
    peakRssMiB: mib(peak), rssAfterMiB: mib(process.memoryUsage().rss), ...(status ? { status, bytes } : {}) }));
}
process.exit(0);
`;

interface StepResult {
  label: string;
  ms: number;
  peakRssMiB: number;
  rssAfterMiB: number;
  status?: number;
  bytes?: number;
}

function urlEvent(method: string, path: string, body?: unknown, accept?: string) {
  const [rawPath, rawQueryString = ''] = path.split('?');
  return {
    version: '2.0',
    rawPath,
    rawQueryString,
    headers: {
      authorization: `Bearer ${token}`,
      'content-type': 'application/json',
      ...(accept ? { accept } : {}),
    },
    requestContext: { http: { method, path: rawPath, sourceIp: '127.0.0.1' } },
    isBase64Encoded: false,
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  };
}

const configMap = (i: number) => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name: `cm-${i}`, namespace: 'default', labels: { app: 'sizing' } },
  data: { value: 'x'.repeat(512) },
});

function node(i: number): Node {
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name: `node-${i}`, labels: { 'kubernetes.io/hostname': `node-${i}` } },
    spec: {},
    status: {
      allocatable: { cpu: '4', memory: '16Gi', pods: '110' },
      capacity: { cpu: '4', memory: '16Gi', pods: '110' },
      conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'ready' }],
    },
  } as Node;
}

function pod(i: number): Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: `pod-${i}`,
      namespace: 'default',
      uid: `uid-${i}`,
      creationTimestamp: new Date().toISOString(),
    },
    spec: {
      schedulerName: 'default-scheduler',
      containers: [
        { name: 'c', image: 'busybox', resources: { requests: { cpu: '100m', memory: '128Mi' } } },
      ],
    },
    status: { phase: 'Pending' },
  } as Pod;
}

async function runFunction(
  work: string,
  entry: string,
  steps: { label: string; events: unknown[] }[],
  env: Record<string, string>,
  streaming: boolean,
): Promise<StepResult[]> {
  const bundle = join(work, `${entry.replaceAll('/', '-')}.mjs`);
  buildSync({ ...functionBundleOptions, entryPoints: [join(projectRoot, entry)], outfile: bundle });
  const stepsFile = join(work, `${entry.replaceAll('/', '-')}.steps.json`);
  await writeFile(stepsFile, JSON.stringify(steps));
  // Asynchronously: the fake Secrets Manager and fauxqs answer from this process's event loop.
  const { stdout: output } = await promisify(execFile)(
    process.execPath,
    ['--input-type=module', '-e', harness],
    {
      env: {
        PATH: process.env.PATH,
        SIZING_BUNDLE: bundle,
        SIZING_STEPS: stepsFile,
        ...(streaming ? { SIZING_STREAMING: '1' } : {}),
        ...env,
      },
      encoding: 'utf8',
      maxBuffer: 64 * 1024 * 1024,
    },
  );
  return output
    .trim()
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as StepResult);
}

const dynamo = await startDynamoDBLocal();
const fauxqs = await startFauxqs({ port: 0, logger: false });
const secrets = createServer((req, res) => {
  // Secrets Manager's JSON protocol: every GetSecretValue answers the one token.
  req.resume();
  req.on('end', () => {
    res.writeHead(200, { 'content-type': 'application/x-amz-json-1.1' });
    res.end(
      JSON.stringify({ ARN: 'arn:aws:secretsmanager:us-east-1:0:secret:t', Name: 't', SecretString: token }),
    );
  });
});
await new Promise<void>((resolve) => secrets.listen(0, '127.0.0.1', resolve));
const work = await mkdtemp(join(tmpdir(), 'lambernetes-sizing-'));
const client = new DynamoDBClient({
  endpoint: dynamo.endpoint,
  region: 'us-east-1',
  credentials: localCredentials,
});
try {
  const tableName = 'sizing';
  await createTable(client, tableName);
  const aws = {
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: localCredentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: localCredentials.secretAccessKey,
    AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
    AWS_ENDPOINT_URL_SQS: fauxqs.address,
    AWS_ENDPOINT_URL_SECRETS_MANAGER: `http://127.0.0.1:${(secrets.address() as { port: number }).port}`,
    LAMBERNETES_TABLE: tableName,
  };

  const apiserver = await runFunction(
    work,
    'functions/apiserver/lambda.ts',
    [
      { label: 'cold start', events: [urlEvent('GET', '/api/v1/namespaces')] },
      {
        label: `create ${objects} ConfigMaps`,
        events: Array.from({ length: objects }, (_, i) =>
          urlEvent('POST', '/api/v1/namespaces/default/configmaps', configMap(i)),
        ),
      },
      { label: `list ${objects} (JSON)`, events: [urlEvent('GET', '/api/v1/namespaces/default/configmaps')] },
      {
        label: `list ${objects} (Table)`,
        events: [
          urlEvent(
            'GET',
            '/api/v1/namespaces/default/configmaps',
            undefined,
            'application/json;as=Table;v=v1;g=meta.k8s.io',
          ),
        ],
      },
    ],
    { ...aws, LAMBERNETES_ADMIN_TOKEN_SECRET: 'admin', LAMBERNETES_WORKER_TOKEN_SECRET: 'worker' },
    true,
  );

  // The scheduler's work: 10 Ready nodes, then 100 pending pods, delivered as Lambda delivers the stream.
  const store = Store.of(client, tableName);
  for (let i = 0; i < nodeCount; i++) await store.create({ resource: 'nodes', name: `node-${i}` }, node(i));
  const streams = new DynamoDBStreamsClient({
    endpoint: dynamo.endpoint,
    region: 'us-east-1',
    credentials: localCredentials,
  });
  const podRecords: DynamoDBStreamEvent['Records'] = [];
  const poller = startStreamPoller({
    client: streams,
    streamArn: await streamArnOf(client, tableName),
    startingPosition: 'LATEST',

    handler: async (event) => {
      podRecords.push(...event.Records.filter((r) => r.dynamodb?.Keys?.pk?.S === objectPartition('pods')));
    },
  });
  await new Promise((resolve) => setTimeout(resolve, 500));
  for (let i = 0; i < podCount; i++)
    await store.create({ resource: 'pods', namespace: 'default', name: `pod-${i}` }, pod(i));
  while (podRecords.length < podCount) await new Promise((resolve) => setTimeout(resolve, 100));
  await poller.stop();
  streams.destroy();
  // As the stack's mapping delivers them: filtered to the function's resources first, then batched.
  const batches: DynamoDBStreamEvent[] = [];
  for (let i = 0; i < podRecords.length; i += streamSettings.batchSize)
    batches.push({ Records: podRecords.slice(i, i + streamSettings.batchSize) });
  const sqs = new SQSClient({ endpoint: fauxqs.address, region: 'us-east-1', credentials: localCredentials });
  const retry = await sqs.send(new CreateQueueCommand({ QueueName: 'scheduler-retry' }));
  const dlq = await sqs.send(new CreateQueueCommand({ QueueName: 'scheduler-dlq' }));
  sqs.destroy();
  const scheduler = await runFunction(
    work,
    'functions/scheduler/lambda.ts',
    [
      { label: 'cold start', events: [{ source: 'lambernetes.resync', detail: { controllers: [] } }] },
      { label: `${podCount} new pods in ${batches.length} stream batch(es)`, events: batches },
    ],
    {
      ...aws,
      LAMBERNETES_RETRY_QUEUE_URL: retry.QueueUrl as string,
      LAMBERNETES_DEAD_LETTER_QUEUE_URL: dlq.QueueUrl as string,
    },
    false,
  );
  const bound = (await store.list({ resource: 'pods', namespace: 'default' })).items.filter(
    (p) => (p as Pod).spec.nodeName,
  ).length;

  for (const [name, steps] of [
    ['apiserver', apiserver],
    ['scheduler', scheduler],
  ] as const)
    for (const step of steps)
      console.log(
        `${name.padEnd(9)} ${step.label.padEnd(38)} ${String(step.ms).padStart(6)} ms  peak ${step.peakRssMiB} MiB`,
      );
  console.log(
    JSON.stringify({
      node: process.version,
      apiserver: Object.fromEntries(apiserver.map((s) => [s.label, s])),
      scheduler: { ...Object.fromEntries(scheduler.map((s) => [s.label, s])), bound },
    }),
  );
} finally {
  client.destroy();
  secrets.close();
  await fauxqs.stop();
  await dynamo.stop();
  await rm(work, { recursive: true, force: true });
}
