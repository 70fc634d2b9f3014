import { beforeEach, describe, expect, it } from 'vitest';
import { ensureClusterDefaults } from '../../functions/apiserver/bootstrap.js';
import type { Controller, ControllerContext } from '../../functions/runtime/controller.js';
import { controllerContext, inProcessClient } from '../../functions/runtime/in-process.js';
import { type AllocationRecord, allocationKey } from '../../functions/scheduler/allocation.js';
import { createSchedulerControllers } from '../../functions/scheduler/index.js';
import type { Node, Pod } from '../../shared/api/core.js';
import { resourceType } from '../../shared/api/resources.js';
import type { ApiClient } from '../../shared/client/client.js';
import type { Store } from '../../shared/store/store.js';
import { freshStore } from '../support/dynamo.js';

const pods = resourceType('pods');
const nodes = resourceType('nodes');

describe('allocation records', () => {
  let store: Store;
  let admin: ApiClient;
  let ctx: ControllerContext;
  let controllers: Controller[];
  const named = (name: string) => controllers.find((c) => c.name === name) as Controller;

  const addNode = async (name: string, cpu: string) => {
    const created = await admin.create<Node>(nodes, { apiVersion: 'v1', kind: 'Node', metadata: { name } });
    const resources = { cpu, memory: '4Gi', pods: '110' };
    await admin.update(
      nodes,
      {
        ...created,
        status: {
          allocatable: resources,
          capacity: resources,
          conditions: [{ type: 'Ready', status: 'True' }],
        },
      },
      'status',
    );
  };

  const createPod = (name: string, cpu: string, nodeName?: string) =>
    admin.create<Pod>(pods, {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name, namespace: 'default' },
      spec: {
        ...(nodeName ? { nodeName } : {}),
        containers: [{ name: 'c', image: 'busybox', resources: { requests: { cpu } } }],
      },
    });

  const record = async (node: string) =>
    (await store.get(allocationKey(node)).catch(() => undefined)) as AllocationRecord | undefined;

  const writeRecord = async (node: string, pods: AllocationRecord['pods']) => {
    const current = await record(node);
    const body: AllocationRecord = { metadata: { name: node }, pods };
    if (current) await store.update(allocationKey(node), body, Number(current.metadata.resourceVersion));
    else await store.create(allocationKey(node), body);
  };

  const reconcile = (name: string) => named('scheduler').reconcile(`default/${name}`, ctx);
  const nodeOf = async (name: string) => (await admin.get<Pod>(pods, 'default', name)).spec.nodeName;

  beforeEach(async () => {
    ({ store } = await freshStore());
    await ensureClusterDefaults(store);
    admin = inProcessClient(store, { name: 'admin', groups: ['system:masters', 'system:authenticated'] });
    ctx = controllerContext(store, 'kube-scheduler');
    controllers = createSchedulerControllers(store);
    await addNode('node-a', '4');
    await addNode('node-b', '1');
  });

  it('reserves on the chosen node, then binds there', async () => {
    const pod = await createPod('p', '500m');
    await reconcile('p');
    const node = await nodeOf('p');
    expect(node).toBe('node-a');
    expect(Object.keys((await record('node-a'))?.pods ?? {})).toEqual([pod.metadata.uid]);
    expect(await record('node-b')).toBeUndefined();
  });

  it('binds a pod already reserved (a crash between reserve and bind) to that node, once', async () => {
    const pod = await createPod('p', '500m');
    const uid = pod.metadata.uid as string;
    const entry = {
      namespace: 'default',
      name: 'p',
      cpuMilli: 500,
      memoryBytes: 0,
      hostPorts: [],
      reservedAt: new Date().toISOString(),
    };
    await writeRecord('node-b', { [uid]: entry });
    await reconcile('p');
    expect(await nodeOf('p')).toBe('node-b');
    expect(await record('node-a')).toBeUndefined();
    expect(Object.keys((await record('node-b'))?.pods ?? {})).toEqual([uid]);
  });

  it('takes back a leaked reservation when a node looks full', async () => {
    const old = new Date(Date.now() - 60_000).toISOString();
    const leaked = { namespace: 'default', name: 'ghost', cpuMilli: 4000, memoryBytes: 0, hostPorts: [] };
    await writeRecord('node-a', { 'uid-ghost': { ...leaked, reservedAt: old } });
    await writeRecord('node-b', {
      'uid-ghost2': { ...leaked, name: 'ghost2', cpuMilli: 1000, reservedAt: old },
    });
    await createPod('p', '2');
    await reconcile('p');
    expect(await nodeOf('p')).toBe('node-a');
    expect(Object.keys((await record('node-a'))?.pods ?? {})).not.toContain('uid-ghost');
  });

  it('keeps a young reservation whose pod is not bound yet', async () => {
    const young = new Date().toISOString();
    // A pod some other scheduler is placing: this one leaves it alone.
    const pending = await admin.create<Pod>(pods, {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'pending', namespace: 'default' },
      spec: { schedulerName: 'someone-else', containers: [{ name: 'c', image: 'busybox' }] },
    });
    await writeRecord('node-a', {
      [pending.metadata.uid as string]: {
        namespace: 'default',
        name: 'pending',
        cpuMilli: 4000,
        memoryBytes: 0,
        hostPorts: [],
        reservedAt: young,
      },
    });
    await createPod('p', '2');
    const result = await reconcile('p');
    expect(await nodeOf('p')).toBeUndefined();
    expect(result?.requeueAfterMs).toBeGreaterThan(0);
    expect(Object.keys((await record('node-a'))?.pods ?? {})).toContain(pending.metadata.uid);
  });

  it('releases the room of a pod that is deleted or finishes, and records a pod bound by someone else', async () => {
    const done = await createPod('done', '1');
    const gone = await createPod('gone', '1');
    await reconcile('done');
    await reconcile('gone');
    const node = (await nodeOf('done')) as string;
    expect(Object.keys((await record(node))?.pods ?? {})).toContain(done.metadata.uid);

    const current = await admin.get<Pod>(pods, 'default', 'done');
    await admin.update(pods, { ...current, status: { ...current.status, phase: 'Succeeded' } }, 'status');
    await reconcile('done');
    const goneNode = (await nodeOf('gone')) as string;
    await admin.delete(pods, 'default', 'gone', { gracePeriodSeconds: 0 });
    await reconcile('gone');
    const remaining = [
      ...Object.keys((await record('node-a'))?.pods ?? {}),
      ...Object.keys((await record('node-b'))?.pods ?? {}),
    ];
    expect(remaining).not.toContain(done.metadata.uid);
    expect(remaining).not.toContain(gone.metadata.uid);
    expect(goneNode).toBeDefined();

    const placed = await createPod('placed', '300m', 'node-b');
    await reconcile('placed');
    expect(Object.keys((await record('node-b'))?.pods ?? {})).toContain(placed.metadata.uid);
  });

  it('brings every record in line with the pods on the periodic resync', async () => {
    const old = new Date(Date.now() - 60_000).toISOString();
    await writeRecord('node-a', {
      'uid-ghost': {
        namespace: 'default',
        name: 'ghost',
        cpuMilli: 100,
        memoryBytes: 0,
        hostPorts: [],
        reservedAt: old,
      },
    });
    const placed = await createPod('placed', '300m', 'node-b');
    await named('scheduler-resync').reconcile('all', ctx);
    expect(Object.keys((await record('node-a'))?.pods ?? {})).toEqual([]);
    expect(Object.keys((await record('node-b'))?.pods ?? {})).toEqual([placed.metadata.uid]);
  });
});
