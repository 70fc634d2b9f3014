/**
 * The cost scenarios: what runs on a fresh local cluster while the meter counts. Each sets the cluster
 * up (untimed, unmetered: the meter is reset when its window starts), then runs its window. The
 * scenario acts through `user` (the admin over HTTPS: its requests are API server invocations like
 * anyone's) and watches progress through `observer`, which reads the table with a client of its own
 * that is not metered, so waiting costs nothing.
 */
import { setTimeout as delay } from 'node:timers/promises';
import type { Deployment, Node, Pod } from '../../shared/api/core.js';
import { resourceType } from '../../shared/api/resources.js';
import type { ApiClient } from '../../shared/client/client.js';

const pods = resourceType('pods');
const nodes = resourceType('nodes');
const namespaces = resourceType('namespaces');
const deployments = resourceType('deployments.apps');

export interface ScenarioContext {
  user: ApiClient;
  observer: ApiClient;
  /**
   * Starts a measured phase (and ends the one before): what the meter counts from here is that
   * phase's. The last phase is the scenario's window, which the bill scales to a month; earlier ones
   * calibrate the model (`model.ts`).
   */
  phase(name: PhaseName): void;
  log(message: string): void;
}

/**
 * `window`: the scenario as the issue defines it. Steady also measures, before it, its 10 nodes and
 * 100 pods at rest (`quiet`), with one open watch added (`watch`), and with the dashboard's reads
 * added (`reads`), so the model can tell each driver's share.
 */
export type PhaseName = 'quiet' | 'watch' | 'reads' | 'window';

export interface Scenario {
  name: string;
  description: string;
  /** Simulated worker nodes the cluster starts with. */
  nodes: number;
  /** The window's length in minutes when it is not given (`--minutes`); a burst runs until it is done. */
  defaultMinutes?: number;
  run(context: ScenarioContext, minutes: number): Promise<void>;
}

const isReady = (object: Node | Pod) =>
  object.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') === true;

/** Polls `check` every second until it holds (up to `minutes`), logging `what` as it goes. */
async function until(context: ScenarioContext, what: string, check: () => Promise<boolean>, minutes = 30) {
  const deadline = Date.now() + minutes * 60_000;
  const started = Date.now();
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await delay(1000);
  }
  context.log(`${what} (${((Date.now() - started) / 1000).toFixed(0)} s)`);
}

/**
 * Lets what a start or a setup sets off die down (queues made, service accounts, status reports, the
 * first resyncs) before a window starts: a minute and a half, past the slowest one-minute schedule.
 */
async function settle(context: ScenarioContext): Promise<void> {
  context.log('settling for 90 s');
  await delay(90_000);
}

async function nodesReady(context: ScenarioContext, count: number): Promise<void> {
  await until(context, `${count} nodes Ready`, async () => {
    const list = await context.observer.list<Node>(nodes);
    return list.items.filter(isReady).length >= count;
  });
}

async function readyPods(observer: ApiClient, namespace: string, image?: string): Promise<number> {
  const list = await observer.list<Pod>(pods, { namespace });
  return list.items.filter(
    (pod) =>
      isReady(pod) &&
      !pod.metadata.deletionTimestamp &&
      (image === undefined || pod.spec.containers[0]?.image === image),
  ).length;
}

function deployment(namespace: string, replicas: number, image: string): Deployment {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web', namespace },
    spec: {
      replicas,
      selector: { matchLabels: { app: 'web' } },
      template: {
        metadata: { labels: { app: 'web' } },
        spec: { containers: [{ name: 'web', image }] },
      },
    },
  };
}

async function namespace(user: ApiClient, name: string): Promise<void> {
  await user.create(namespaces, { apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
}

/** Runs `tick` once a second for `minutes`, each on its own second (a slow one delays the next). */
async function everySecond(minutes: number, tick: (n: number) => Promise<void>): Promise<void> {
  const end = performance.now() + minutes * 60_000;
  for (let n = 0; performance.now() < end; n++) {
    const started = performance.now();
    await tick(n);
    await delay(Math.max(0, 1000 - (performance.now() - started)));
  }
}

export const scenarios: Record<string, Scenario> = {
  idle: {
    name: 'idle',
    description: 'one node, no workload',
    nodes: 1,
    defaultMinutes: 10,
    async run(context, minutes) {
      await nodesReady(context, 1);
      await settle(context);
      context.phase('window');
      await delay(minutes * 60_000);
    },
  },
  steady: {
    name: 'steady',
    description: '10 nodes, 100 pods, 1 pod replaced per second, 1 API read per second from a dashboard',
    nodes: 10,
    defaultMinutes: 10,
    async run(context, minutes) {
      const { user, observer } = context;
      await nodesReady(context, 10);
      await namespace(user, 'steady');
      await user.create(deployments, deployment('steady', 100, 'busybox:1.36'));
      await until(context, '100 pods Ready', async () => (await readyPods(observer, 'steady')) >= 100);
      await settle(context);
      const calibrationMinutes = Math.min(2, minutes);
      context.phase('quiet');
      await delay(calibrationMinutes * 60_000);
      // An open watch on the namespace's pods, as a dashboard or a controller outside holds one.
      context.phase('watch');
      const watching = new AbortController();
      const watch = (async () => {
        for await (const _ of user.watch<Pod>(pods, { namespace: 'steady', signal: watching.signal })) {
          // Each event is read and dropped.
        }
      })().catch(() => undefined);
      await delay(calibrationMinutes * 60_000);
      watching.abort();
      await watch;
      const dashboard = () => user.list<Pod>(pods, { namespace: 'steady' });
      context.phase('reads');
      await everySecond(calibrationMinutes, async () => void (await dashboard()));
      context.phase('window');
      await everySecond(minutes, async (n) => {
        // The dashboard: the namespace's pods, as `kubectl get pods` lists them.
        const list = await dashboard();
        // One pod replaced: a running one is deleted, its ReplicaSet makes another.
        const running = list.items.filter((pod) => !pod.metadata.deletionTimestamp);
        const victim = running[n % running.length];
        if (victim) {
          await user
            .delete(pods, 'steady', victim.metadata.name)
            .catch((error: unknown) => context.log(`delete failed: ${error}`));
        }
      });
    },
  },
  burst: {
    name: 'burst',
    description: 'a 500-replica Deployment created, rolled out to a new image, deleted (10 nodes)',
    nodes: 10,
    async run(context) {
      const { user, observer } = context;
      await nodesReady(context, 10);
      await namespace(user, 'burst');
      await settle(context);
      context.phase('window');
      await user.create(deployments, deployment('burst', 500, 'busybox:1.36'));
      await until(context, '500 pods Ready', async () => (await readyPods(observer, 'burst')) >= 500);
      await user.patch(deployments, 'burst', 'web', {
        spec: { template: { spec: { containers: [{ name: 'web', image: 'busybox:1.37' }] } } },
      });
      await until(context, 'rolled out: 500 pods of the new image Ready, none of the old left', async () => {
        const list = await observer.list<Pod>(pods, { namespace: 'burst' });
        const fresh = list.items.filter((p) => p.spec.containers[0]?.image === 'busybox:1.37');
        return fresh.filter(isReady).length >= 500 && list.items.length === 500;
      });
      await user.delete(deployments, 'burst', 'web');
      await until(context, 'every pod gone', async () => {
        const list = await observer.list<Pod>(pods, { namespace: 'burst' });
        return list.items.length === 0;
      });
    },
  },
};
