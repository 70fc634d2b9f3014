import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JobStatus, TrackedJob } from '../../../functions/controllers/job/types.js';
import { resourceType } from '../../../shared/api/resources.js';
import type { KubernetesObject } from '../../../shared/api/types.js';
import { startTestCluster, type TestCluster } from '../../support/cluster.js';
import { type Simulator, startSimulator } from '../../support/simulator.js';
import { until } from '../../support/wait.js';
import { jobManifest } from './manifest.js';
import { watchPods } from './pod-watch.js';

const jobs = resourceType('jobs.batch');
const events = resourceType('events');
const namespace = 'default';
const nodes = ['sim-a', 'sim-b'];

describe('the Job controller on a cluster', () => {
  let cluster: TestCluster;
  let simulator: Simulator;
  beforeAll(async () => {
    cluster = await startTestCluster();
    simulator = await startSimulator(
      cluster.client,
      nodes.map((name) => ({ name })),
      { leaseIntervalMs: 1000 },
    );
  });
  afterAll(async () => {
    await simulator?.stop();
    await cluster?.stop();
  });

  it('runs a Job with completions 3 and parallelism 2 to completion, never more than 2 pods at once', {
    timeout: 150_000,
  }, async () => {
    const watch = watchPods(cluster.client, namespace, 'batch.kubernetes.io/job-name=three');
    try {
      await cluster.client.create(
        jobs,
        jobManifest('three', { completions: 3, parallelism: 2 }, { runMs: 1500 }),
      );
      const waited = await cluster.kubectl([
        'wait',
        '--for=condition=complete',
        'job/three',
        '--timeout=90s',
      ]);
      expect(waited.code, waited.stderr).toBe(0);
      const job = await cluster.client.get<TrackedJob>(jobs, namespace, 'three');
      const status = job.status as JobStatus;
      expect(status.succeeded).toBe(3);
      expect(status.failed).toBeUndefined();
      expect(status.active).toBeUndefined();
      expect(status.completionTime).toBeDefined();
      expect(status.conditions?.map((c) => c.type)).toEqual(['SuccessCriteriaMet', 'Complete']);
      expect(watch.seen.size).toBe(3);
      expect(watch.maxActive).toBeLessThanOrEqual(2);
      expect(watch.maxActive).toBe(2);
      const shown = await cluster.kubectl(['get', 'jobs', 'three']);
      expect(shown.stdout).toMatch(/three\s+Complete\s+3\/3/);
      const reasons = (await cluster.client.list<KubernetesObject>(events, { namespace })).items
        .filter((e) => (e.involvedObject as { name: string }).name === 'three')
        .map((e) => e.reason);
      expect(reasons).toEqual(expect.arrayContaining(['SuccessfulCreate', 'Completed']));
    } finally {
      await watch.stop();
    }
  });

  it('fails a Job whose pods keep failing once backoffLimit is passed', { timeout: 150_000 }, async () => {
    const watch = watchPods(cluster.client, namespace, 'batch.kubernetes.io/job-name=broken');
    try {
      await cluster.client.create(
        jobs,
        jobManifest('broken', { backoffLimit: 1 }, { runMs: 200, exitCode: 1 }),
      );
      const failed = await until(
        'the Job to fail',
        async () => {
          const job = await cluster.client.get<TrackedJob>(jobs, namespace, 'broken');
          return job.status?.conditions?.find((c) => c.type === 'Failed' && c.status === 'True')
            ? job
            : undefined;
        },
        90_000,
      );
      expect(failed.status?.conditions?.find((c) => c.type === 'Failed')).toMatchObject({
        reason: 'BackoffLimitExceeded',
        message: 'Job has reached the specified backoff limit',
      });
      expect(failed.status?.failed).toBe(2);
      expect(failed.status?.succeeded).toBeUndefined();
      expect(watch.seen.size).toBe(2);
      const waited = await cluster.kubectl(['wait', '--for=condition=failed', 'job/broken', '--timeout=10s']);
      expect(waited.code, waited.stderr).toBe(0);
      const reasons = (await cluster.client.list<KubernetesObject>(events, { namespace })).items
        .filter((e) => (e.involvedObject as { name: string }).name === 'broken')
        .map((e) => e.reason);
      expect(reasons).toContain('BackoffLimitExceeded');
    } finally {
      await watch.stop();
    }
  });
});
