import { GetQueueUrlCommand, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Controller } from '../../functions/runtime/controller.js';
import { ownKey, splitKey } from '../../functions/runtime/controller.js';
import { backoffMs, maxDelayMs, parseWorkItem } from '../../functions/runtime/retry-queue.js';
import { resourceType } from '../../shared/api/resources.js';
import type { KubernetesObject } from '../../shared/api/types.js';
import { type ControlLoops, startControlLoops } from '../../shared/local/control-loops.js';
import { type LocalSqs, localSqsClient, startLocalSqs } from '../../shared/local/sqs.js';
import type { Store } from '../../shared/store/store.js';
import { dynamoEndpoint, freshStore, grantClusterAdmin } from '../support/dynamo.js';
import { until } from '../support/wait.js';

const configmaps = resourceType('configmaps');

/** Counts its reconciles; each ConfigMap's `data.mode` says how the reconcile behaves. */
function recordingController(): Controller & { calls: Map<string, number> } {
  const calls = new Map<string, number>();
  return {
    name: 'recorder',
    calls,
    triggers: [ownKey('configmaps')],
    async reconcile(key, ctx) {
      const count = (calls.get(key) ?? 0) + 1;
      calls.set(key, count);
      const { namespace, name } = splitKey(key);
      const object = await ctx.client.find<KubernetesObject & { data?: { mode?: string } }>(
        configmaps,
        namespace,
        name,
      );
      const mode = object?.data?.mode;
      if (mode === 'fail-always' || (mode === 'fail-once' && count === 1)) throw new Error(`${key} failed`);
      if (mode === 'requeue' && count === 1) return { requeueAfterMs: 300 };
      return undefined;
    },
  };
}

describe('the controller runtime, hosted locally', () => {
  let store: Store;
  let loops: ControlLoops;
  let sqs: LocalSqs;
  const controller = recordingController();
  const errors: unknown[] = [];

  beforeAll(async () => {
    const fresh = await freshStore();
    store = fresh.store;
    await grantClusterAdmin(store, 'system:test-controller');
    sqs = await startLocalSqs();
    loops = await startControlLoops({
      store,
      dynamo: fresh.client,
      dynamoEndpoint,
      tableName: fresh.tableName,
      sqsEndpoint: sqs.endpoint,
      functions: [{ name: 'test', component: 'test-controller', controllers: [controller] }],
      maxAttempts: 3,
      logError: (error) => errors.push(error),
    });
  });
  afterAll(async () => {
    await loops?.stop();
    await sqs?.stop();
  });

  const create = (name: string, mode: string) =>
    store.create(
      { resource: 'configmaps', namespace: 'default', name },
      { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: 'default' }, data: { mode } },
    );
  const callsOf = (name: string) => controller.calls.get(`default/${name}`) ?? 0;

  it('reconciles the key of each changed object', async () => {
    await create('plain', 'ok');
    await until('a reconcile', async () => (callsOf('plain') >= 1 ? true : undefined));
  });

  it('retries a failed reconcile through the retry queue', async () => {
    await create('flaky', 'fail-once');
    await until('the retry', async () => (callsOf('flaky') >= 2 ? true : undefined));
  });

  it('looks again after the delay a reconcile asks for', async () => {
    await create('later', 'requeue');
    await until('the requeue', async () => (callsOf('later') >= 2 ? true : undefined));
  });

  it('gives up after the last attempt and sends the key to the dead-letter queue', async () => {
    await create('broken', 'fail-always');
    const client = localSqsClient(sqs.endpoint);
    const { QueueUrl } = await client.send(new GetQueueUrlCommand({ QueueName: 'test-dlq' }));
    const message = await until(
      'a dead letter',
      async () => {
        const { Messages } = await client.send(new ReceiveMessageCommand({ QueueUrl, WaitTimeSeconds: 1 }));
        return Messages?.[0];
      },
      30_000,
    );
    expect(JSON.parse(message.Body ?? '')).toMatchObject({
      controller: 'recorder',
      key: 'default/broken',
      attempt: 2,
      error: 'default/broken failed',
    });
    expect(callsOf('broken')).toBe(3);
    client.destroy();
  });
});

describe('retry bookkeeping', () => {
  it('backs off exponentially with jitter, up to the 15-minute SQS limit', () => {
    expect(backoffMs(0, () => 1)).toBe(1000);
    expect(backoffMs(0, () => 0)).toBe(750);
    expect(backoffMs(3, () => 1)).toBe(8000);
    expect(backoffMs(30, () => 1)).toBe(maxDelayMs);
  });

  it('accepts only well-formed work items', () => {
    expect(parseWorkItem('{"controller":"c","key":"ns/a","attempt":1}')).toEqual({
      controller: 'c',
      key: 'ns/a',
      attempt: 1,
    });
    for (const body of [
      '',
      'null',
      '{"controller":"c","key":"k"}',
      '{"controller":"c","key":"k","attempt":-1}',
    ])
      expect(parseWorkItem(body)).toBeUndefined();
  });
});
