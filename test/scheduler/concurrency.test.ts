import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureClusterDefaults } from '../../functions/apiserver/bootstrap.js';
import type { Controller, ControllerContext } from '../../functions/runtime/controller.js';
import { controllerContext, inProcessClient } from '../../functions/runtime/in-process.js';
import type { AllocationRecord } from '../../functions/scheduler/allocation.js';
import { createSchedulerControllers } from '../../functions/scheduler/index.js';
import { podRequest } from '../../functions/scheduler/requests.js';
import type { Node, Pod } from '../../shared/api/core.js';
import { resourceType } from '../../shared/api/resources.js';
import type { ApiClient } from '../../shared/client/client.js';
import {
  type DynamoDBLocal,
  localCredentials,
  startDynamoDBLocal,
} from '../../shared/local/dynamodb-local.js';
import { Store } from '../../shared/store/store.js';
import { createTable } from '../../shared/store/table.js';

const pods = resourceType('pods');
const nodes = resourceType('nodes');

/** 300 pods of 100m on 20 nodes with room for 200 (cpu 1 or 500m, in turn; 10 more nodes of 1 cpu would take them all). */
const nodeCount = 20;
const podCount = 300;
const invocations = 4;

async function addNode(client: ApiClient, name: string, cpu: string): Promise<void> {
  const created = await client.create<Node>(nodes, {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name, labels: { 'kubernetes.io/hostname': name } },
    spec: {},
  });
  const resources = { cpu, memory: '4Gi', pods: '110' };
  await client.update(
    nodes,
    {
      ...created,
      status: {
        capacity: resources,
        allocatable: resources,
        conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'ready' }],
      },
    },
    'status',
  );
}

/** A seeded shuffle, so each invocation walks the pods in its own order. */
function shuffled<T>(items: readonly T[], seed: number): T[] {
  const out = [...items];
  let state = seed;
  const random = () => {
    state = (state * 1103515245 + 12345) % 2 ** 31;
    return state / 2 ** 31;
  };
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}

/**
 * A reconcile as the runtime runs it: a failure (a pod that lost its reservation race ten times) is tried
 * again, here at once, up to three times in all.
 */
async function retried(reconcile: () => Promise<unknown>): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await reconcile();
      return;
    } catch (error) {
      if (attempt === 3) throw error;
    }
  }
}

async function reconcileAll(controller: Controller, ctx: ControllerContext, keys: string[]): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      while (next < keys.length) {
        const key = keys[next++] as string;
        await retried(() => controller.reconcile(key, ctx));
      }
    }),
  );
}

describe('several schedulers at once', () => {
  let store: Store;
  let dynamo: DynamoDBLocal;
  let client: DynamoDBClient;
  let admin: ApiClient;
  const allocatable = new Map<string, number>();

  beforeAll(async () => {
    // A DynamoDB Local of its own: DynamoDB Local runs transactions one at a time, and 4 schedulers'
    // worth of them must not queue behind every other suite's on the shared one.
    dynamo = await startDynamoDBLocal();
    client = new DynamoDBClient({
      endpoint: dynamo.endpoint,
      region: 'us-east-1',
      credentials: localCredentials,
    });
    await createTable(client, 'scheduler-concurrency');
    store = Store.of(client, 'scheduler-concurrency');
    await ensureClusterDefaults(store);
    admin = inProcessClient(store, { name: 'admin', groups: ['system:masters', 'system:authenticated'] });
    for (let i = 0; i < nodeCount; i++) {
      const cpu = i % 2 === 0 ? '1' : '500m';
      await addNode(admin, `node-${i}`, cpu);
      allocatable.set(`node-${i}`, i % 2 === 0 ? 1000 : 500);
    }
    const creating: Promise<unknown>[] = [];
    for (let i = 0; i < podCount; i++) {
      creating.push(
        admin.create<Pod>(pods, {
          apiVersion: 'v1',
          kind: 'Pod',
          metadata: { name: `p-${i}`, namespace: 'default' },
          spec: { containers: [{ name: 'c', image: 'busybox', resources: { requests: { cpu: '100m' } } }] },
        }),
      );
      if (creating.length >= 16) await Promise.all(creating.splice(0));
    }
    await Promise.all(creating);
  }, 120_000);

  afterAll(async () => {
    client?.destroy();
    await dynamo?.stop();
  });

  it('binds 300 pods from 4 invocations without overcommitting any node', async () => {
    const keys = Array.from({ length: podCount }, (_, i) => `default/p-${i}`);
    const schedulers = Array.from({ length: invocations }, (_, i) => ({
      controllers: createSchedulerControllers(store, { random: Math.random }),
      ctx: controllerContext(store, 'kube-scheduler', { logError: () => undefined }),
      order: shuffled(keys, i + 1),
    }));
    const named = (controllers: Controller[], name: string) =>
      controllers.find((c) => c.name === name) as Controller;

    await Promise.all(
      schedulers.map(({ controllers, ctx, order }) =>
        reconcileAll(named(controllers, 'scheduler'), ctx, order),
      ),
    );
    // Releasing a double reservation (two invocations placed the same pod) makes room; the stream
    // would wake the pending pass for it, as this does.
    const first = schedulers[0] as (typeof schedulers)[number];
    await retried(() => named(first.controllers, 'scheduler-pending').reconcile('pending', first.ctx));

    const { items } = await admin.list<Pod>(pods, { namespace: 'default' });
    const used = new Map<string, number>();
    for (const pod of items) {
      const node = pod.spec.nodeName;
      if (node) used.set(node, (used.get(node) ?? 0) + podRequest(pod).cpuMilli);
    }
    for (const [node, cpu] of used) expect(cpu, node).toBeLessThanOrEqual(allocatable.get(node) as number);

    const capacity = [...allocatable.values()].reduce((sum, cpu) => sum + cpu / 100, 0);
    const bound = items.filter((p) => p.spec.nodeName);
    expect(bound).toHaveLength(capacity);
    const waiting = items.filter((p) => !p.spec.nodeName);
    expect(waiting).toHaveLength(podCount - capacity);
    for (const pod of waiting) {
      const condition = pod.status?.conditions?.find((c) => c.type === 'PodScheduled');
      expect(condition).toMatchObject({ status: 'False', reason: 'Unschedulable' });
      expect(condition?.message).toBe(
        `0/${nodeCount} nodes are available: ${nodeCount} Insufficient cpu. ` +
          `preemption: 0/${nodeCount} nodes are available: ${nodeCount} No preemption victims found for incoming pod.`,
      );
    }

    // The records agree: each bound pod is recorded on its node, and no record promises more than the node has.
    const records = (await store.list({ resource: 'nodeallocations' })).items as AllocationRecord[];
    const recorded = new Map<string, string>();
    for (const record of records) {
      const entries = Object.entries(record.pods);
      const cpu = entries.reduce((sum, [, e]) => sum + e.cpuMilli, 0);
      expect(cpu, record.metadata.name).toBeLessThanOrEqual(allocatable.get(record.metadata.name) as number);
      for (const [uid] of entries) recorded.set(uid, record.metadata.name);
    }
    for (const pod of bound) expect(recorded.get(pod.metadata.uid as string)).toBe(pod.spec.nodeName);
  }, 300_000);
});
