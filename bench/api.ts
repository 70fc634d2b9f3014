/**
 * bench:api: latency of create, get and list (100 objects) through the local HTTPS API server, next to
 * the same operations on the bare store in the same run; and get as a user RBAC authorizes (a stored
 * token, a ClusterRoleBinding to `view`) next to the admin's (system:masters, no RBAC evaluation).
 * Prints one JSON line last.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { Agent, request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { newToken, tokenSecret } from '../functions/apiserver/auth/stored-tokens.js';
import type { KubernetesObject } from '../shared/api/types.js';
import { startLocalCluster } from '../shared/local/cluster.js';
import { localCredentials, startDynamoDBLocal } from '../shared/local/dynamodb-local.js';
import { Store } from '../shared/store/store.js';
import { createTable } from '../shared/store/table.js';
import { percentile } from './measure.js';

const rounds = Number(process.env.BENCH_ROUNDS ?? 3);
const perRound = Number(process.env.BENCH_OPS ?? 100);

const ms = (x: number) => Number(x.toFixed(1));

async function timed(op: () => Promise<unknown>, into: number[]): Promise<void> {
  const started = performance.now();
  await op();
  into.push(performance.now() - started);
}

const configMap = (namespace: string, name: string): KubernetesObject => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name, namespace },
  data: { value: randomBytes(64).toString('hex') },
});

const dynamo = await startDynamoDBLocal();
const dataDir = await mkdtemp(join(tmpdir(), 'lambernetes-bench-'));
const cluster = await startLocalCluster({
  dataDir,
  port: 0,
  dynamoEndpoint: dynamo.endpoint,
  tableName: 'bench-api',
});
const client = new DynamoDBClient({
  endpoint: dynamo.endpoint,
  region: 'us-east-1',
  credentials: localCredentials,
});
try {
  await createTable(client, 'bench-store');
  const store = Store.of(client, 'bench-store');
  const ca = await readFile(join(dataDir, 'pki', 'ca.crt'), 'utf8');
  const agent = new Agent({ keepAlive: true, ca });
  const api = (method: string, path: string, body?: unknown, token = cluster.token) =>
    new Promise<void>((resolve, reject) => {
      const req = request(
        new URL(path, cluster.url),
        {
          method,
          agent,
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        },
        (res) => {
          res.resume();
          res.on('end', () =>
            res.statusCode && res.statusCode < 300
              ? resolve()
              : reject(new Error(`${method} ${path}: ${res.statusCode}`)),
          );
        },
      );
      req.on('error', reject);
      req.end(body === undefined ? undefined : JSON.stringify(body));
    });
  const nsPath = (ns: string) => `/api/v1/namespaces/${ns}/configmaps`;
  const createNamespace = (name: string) =>
    api('POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name } });

  // A viewer: a stored token (only its digest in the table) and a ClusterRoleBinding to `view`.
  const viewer = newToken().token;
  await api(
    'POST',
    '/api/v1/namespaces/kube-system/secrets',
    tokenSecret(viewer, { username: 'bench', groups: [] }),
  );
  await api('POST', '/apis/rbac.authorization.k8s.io/v1/clusterrolebindings', {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRoleBinding',
    metadata: { name: 'bench-view' },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'view' },
    subjects: [{ kind: 'User', apiGroup: 'rbac.authorization.k8s.io', name: 'bench' }],
  });

  const results = {
    create: [] as number[],
    get: [] as number[],
    list: [] as number[],
    viewerGet: [] as number[],
  };
  const bare = {
    create: [] as number[],
    get: [] as number[],
    list: [] as number[],
    viewerGet: [] as number[],
  };
  const run = async (
    round: number | string,
    sink: typeof results | undefined,
    storeSink: typeof results | undefined,
  ) => {
    const ns = `r${round}`;
    await createNamespace(ns);
    for (let i = 0; i < perRound; i++) {
      const name = `cm-${i}`;
      await timed(() => api('POST', nsPath(ns), configMap(ns, name)), sink?.create ?? []);
      await timed(
        () => store.create({ resource: 'configmaps', namespace: ns, name }, configMap(ns, name)),
        storeSink?.create ?? [],
      );
    }
    for (let i = 0; i < perRound; i++) {
      const name = `cm-${i}`;
      await timed(() => api('GET', `${nsPath(ns)}/${name}`), sink?.get ?? []);
      await timed(() => store.get({ resource: 'configmaps', namespace: ns, name }), storeSink?.get ?? []);
      await timed(() => api('GET', `${nsPath(ns)}/${name}`, undefined, viewer), sink?.viewerGet ?? []);
    }
    for (let i = 0; i < 20; i++) {
      await timed(() => api('GET', nsPath(ns)), sink?.list ?? []);
      await timed(() => store.list({ resource: 'configmaps', namespace: ns }), storeSink?.list ?? []);
    }
  };
  // Warm DynamoDB Local's JIT and both paths before measuring.
  await run('warm-1', undefined, undefined);
  await run('warm-2', undefined, undefined);
  for (let round = 0; round < rounds; round++) {
    await run(round, results, bare);
    console.log(
      `round ${round + 1}/${rounds}: API create p50 ${ms(percentile(results.create, 50))} ms, store create p50 ${ms(percentile(bare.create, 50))} ms`,
    );
  }
  agent.destroy();
  const summary = {
    createP50Ms: ms(percentile(results.create, 50)),
    createP99Ms: ms(percentile(results.create, 99)),
    getP50Ms: ms(percentile(results.get, 50)),
    getP99Ms: ms(percentile(results.get, 99)),
    viewerGetP50Ms: ms(percentile(results.viewerGet, 50)),
    viewerGetP99Ms: ms(percentile(results.viewerGet, 99)),
    list100P50Ms: ms(percentile(results.list, 50)),
    list100P99Ms: ms(percentile(results.list, 99)),
    storeCreateP50Ms: ms(percentile(bare.create, 50)),
    storeCreateP99Ms: ms(percentile(bare.create, 99)),
    storeGetP99Ms: ms(percentile(bare.get, 99)),
    storeList100P99Ms: ms(percentile(bare.list, 99)),
  };
  console.log(
    JSON.stringify({
      ...summary,
      overheadRatio: Number((summary.createP99Ms / summary.storeCreateP99Ms).toFixed(2)),
      // What authenticating a stored token and evaluating RBAC add to a get, over the admin's get.
      rbacGetRatio: Number((summary.viewerGetP50Ms / summary.getP50Ms).toFixed(2)),
    }),
  );
} finally {
  await cluster.stop();
  client.destroy();
  await dynamo.stop();
  await rm(dataDir, { recursive: true, force: true });
}
