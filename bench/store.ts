/**
 * bench:store: our store's write throughput against its floor, raw DynamoDB transactions, at the same
 * concurrency in the same run, and watch lag from commit to delivery. Prints one JSON line last.
 */
import { randomBytes } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import type { KubernetesObject } from '../shared/api/types.js';
import { localCredentials, startDynamoDBLocal } from '../shared/local/dynamodb-local.js';
import { Store } from '../shared/store/store.js';
import { createTable } from '../shared/store/table.js';

const concurrency = 16;
const roundSeconds = Number(process.env.BENCH_ROUND_SECONDS ?? 4);
const rounds = Number(process.env.BENCH_ROUNDS ?? 3);

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
const percentile = (xs: number[], p: number) =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((xs.length * p) / 100))] as number;

function configMap(name: string, value: string): KubernetesObject {
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name, namespace: 'bench', uid: name },
    data: { value },
  };
}

/** Runs `op` from `concurrency` workers for `seconds`; returns completed operations per second. */
async function throughput(
  seconds: number,
  op: (worker: number, i: number) => Promise<void>,
): Promise<number> {
  const until = Date.now() + seconds * 1000;
  let done = 0;
  const started = Date.now();
  await Promise.all(
    Array.from({ length: concurrency }, async (_, worker) => {
      for (let i = 0; Date.now() < until; i++) {
        await op(worker, i);
        done++;
      }
    }),
  );
  return done / ((Date.now() - started) / 1000);
}

const dynamo = await startDynamoDBLocal();
const client = new DynamoDBClient({
  endpoint: dynamo.endpoint,
  region: 'us-east-1',
  credentials: localCredentials,
});
const doc = DynamoDBDocumentClient.from(client);
try {
  await createTable(client, 'bench-raw');
  await createTable(client, 'bench-store');
  const store = Store.of(client, 'bench-store');
  const value = randomBytes(96).toString('hex'); // a small object, a few hundred bytes like most
  const body = Buffer.from(JSON.stringify(configMap('x', value)));

  const rawTxn = (round: number) => (worker: number, i: number) =>
    doc
      .send(
        new TransactWriteCommand({
          TransactItems: [
            {
              Put: {
                TableName: 'bench-raw',
                Item: { pk: `o#${round}`, sk: `${worker}/${i}`, body },
                ConditionExpression: 'attribute_not_exists(pk)',
              },
            },
            {
              Put: {
                TableName: 'bench-raw',
                Item: { pk: `h#${round}/${worker}/${i}`, sk: 'h', body },
                ConditionExpression: 'attribute_not_exists(pk)',
              },
            },
          ],
        }),
      )
      .then(() => undefined);

  // Each store worker updates its own object with compare-and-swap (no conflicts: the floor is the same work).
  const revisions = new Map<number, number>();
  const acked = new Map<number, number>();
  for (let worker = 0; worker < concurrency; worker++) {
    const created = await store.create(
      { resource: 'configmaps', namespace: 'bench', name: `w${worker}` },
      configMap(`w${worker}`, value),
    );
    revisions.set(worker, Number(created.metadata.resourceVersion));
  }
  const storeWrite = (worker: number, i: number) =>
    store
      .update(
        { resource: 'configmaps', namespace: 'bench', name: `w${worker}` },
        configMap(`w${worker}`, `${value}${i}`),
        revisions.get(worker) as number,
      )
      .then((updated) => {
        const revision = Number(updated.metadata.resourceVersion);
        revisions.set(worker, revision);
        acked.set(revision, performance.now());
      });

  // DynamoDB Local's JIT takes tens of seconds to reach speed: warm both paths up until the raw rate
  // stops rising (at most 30 s), then alternate rounds so whatever drift remains affects both alike.
  const warmUntil = Date.now() + 30_000;
  for (let previous = 0, round = 0; Date.now() < warmUntil; round++) {
    const rate = await throughput(3, rawTxn(-1 - round));
    await throughput(2, storeWrite);
    console.log(`warm-up: raw 2-item transactions ${rate.toFixed(0)}/s`);
    if (round >= 2 && rate < previous * 1.05) break;
    previous = Math.max(previous, rate);
  }
  acked.clear();

  const delivered = new Map<number, number>();
  const controller = new AbortController();
  const watching = (async () => {
    const from = await store.currentRevision();
    const prefix = { resource: 'configmaps', namespace: 'bench' };
    for await (const event of store.watch(prefix, from, { signal: controller.signal })) {
      delivered.set(event.revision, performance.now());
    }
  })();
  await new Promise((r) => setTimeout(r, 200));

  const raw: number[] = [];
  const ours: number[] = [];
  for (let round = 0; round < rounds; round++) {
    raw.push(await throughput(roundSeconds, rawTxn(round)));
    ours.push(await throughput(roundSeconds, storeWrite));
    console.log(
      `round ${round + 1}/${rounds}: raw 2-item transactions ${raw.at(-1)?.toFixed(0)}/s, store writes ${ours.at(-1)?.toFixed(0)}/s`,
    );
  }
  const lastAck = Math.max(...acked.keys());
  for (const deadline = Date.now() + 10_000; !delivered.has(lastAck) && Date.now() < deadline; ) {
    await new Promise((r) => setTimeout(r, 20));
  }
  controller.abort();
  await watching;
  const missing = [...acked.keys()].filter((revision) => !delivered.has(revision));
  if (missing.length > 0) throw new Error(`the watch missed ${missing.length} acknowledged writes`);
  // A watcher may see a commit before its writer's promise resolves: that lag counts as zero.
  const lags = [...acked].map(([revision, ack]) => Math.max(0, (delivered.get(revision) as number) - ack));

  const writesPerSec = Math.round(median(ours));
  const rawTxnPerSec = Math.round(median(raw));
  console.log(`watch: all ${acked.size} acknowledged writes delivered`);
  console.log(
    JSON.stringify({
      concurrency,
      writesPerSec,
      rawTxnPerSec,
      ratio: Number((writesPerSec / rawTxnPerSec).toFixed(2)),
      watchLagP50Ms: Math.round(percentile(lags, 50)),
      watchLagP99Ms: Math.round(percentile(lags, 99)),
    }),
  );
} finally {
  client.destroy();
  await dynamo.stop();
}
