import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jobController } from '../../../functions/controllers/job/controller.js';
import type { TrackedJob } from '../../../functions/controllers/job/types.js';
import type { ControllerContext } from '../../../functions/runtime/controller.js';
import { resourceType } from '../../../shared/api/resources.js';
import { eventRecorder } from '../../../shared/client/events.js';
import { startTestCluster, type TestCluster } from '../../support/cluster.js';
import { type Simulator, startSimulator } from '../../support/simulator.js';
import { until } from '../../support/wait.js';
import { jobManifest } from './manifest.js';
import { watchPods } from './pod-watch.js';

const jobs = resourceType('jobs.batch');
const nodes = ['sim-a', 'sim-b'];

/** No control plane runs here: the test itself runs many reconciles of one Job at once, over and over. */
describe('concurrent reconciles of one Job', () => {
  let cluster: TestCluster;
  let simulator: Simulator;
  let ctx: ControllerContext;
  beforeAll(async () => {
    cluster = await startTestCluster({ controlPlane: false });
    simulator = await startSimulator(
      cluster.client,
      nodes.map((name) => ({ name })),
      { leaseIntervalMs: 1000 },
    );
    const now = () => new Date();
    ctx = {
      client: cluster.client,
      events: eventRecorder(cluster.client, 'job-controller', now, () => {}),
      now,
    };
  });
  afterAll(async () => {
    await simulator?.stop();
    await cluster?.stop();
  });

  it('neither create too many pods nor count a completion twice', { timeout: 150_000 }, async () => {
    const controller = jobController();
    const watch = watchPods(cluster.client, 'default', 'batch.kubernetes.io/job-name=race', nodes);
    const reconcileAtOnce = () =>
      Promise.allSettled(Array.from({ length: 6 }, () => controller.reconcile('default/race', ctx)));
    try {
      await cluster.client.create(
        jobs,
        jobManifest('race', { completions: 3, parallelism: 2 }, { runMs: 1000 }),
      );
      const done = await until(
        'the Job to complete',
        async () => {
          await reconcileAtOnce();
          const job = await cluster.client.get<TrackedJob>(jobs, 'default', 'race');
          return job.status?.conditions?.some((c) => c.type === 'Complete') ? job : undefined;
        },
        90_000,
      );
      await reconcileAtOnce();
      const after = await cluster.client.get<TrackedJob>(jobs, 'default', 'race');
      expect(done.status?.succeeded).toBe(3);
      expect(after.status?.succeeded).toBe(3);
      expect(after.status?.failed).toBeUndefined();
      expect(watch.seen.size).toBe(3);
      expect(watch.maxActive).toBeLessThanOrEqual(2);
    } finally {
      await watch.stop();
    }
  });
});
