import { describe, expect, it } from 'vitest';
import {
  calculateStatus,
  deadlineCheckMs,
  getCondition,
  markPaused,
  rolloutStatus,
} from '../../../functions/controllers/workloads/deployment-status.js';
import type { Deployment } from '../../../shared/api/core.js';
import { deployment, replicaSet } from './fixtures.js';

const now = new Date('2024-01-01T01:00:00Z');

function withStatus(d: Deployment, status: Deployment['status']): Deployment {
  return { ...d, status };
}

describe('Deployment status', () => {
  it('sums the ReplicaSets and reports Available by maxUnavailable', () => {
    const d = deployment(4); // 1 may be unavailable
    const status = calculateStatus(
      [replicaSet('old', 1), replicaSet('new', 3, { available: 2, ready: 2 })],
      replicaSet('new', 3, { available: 2, ready: 2 }),
      d,
      {},
      now,
    );
    expect(status).toMatchObject({
      observedGeneration: 1,
      replicas: 4,
      updatedReplicas: 3,
      readyReplicas: 3,
      availableReplicas: 3,
      unavailableReplicas: 1,
    });
    expect(getCondition(status, 'Available')).toMatchObject({
      status: 'True',
      reason: 'MinimumReplicasAvailable',
      message: 'Deployment has minimum availability.',
    });
    const short = calculateStatus([replicaSet('new', 4, { available: 2 })], undefined, d, {}, now);
    expect(getCondition(short, 'Available')).toMatchObject({
      status: 'False',
      reason: 'MinimumReplicasUnavailable',
    });
  });

  it('says the rollout progresses when more pods are updated, and completes when all are available', () => {
    const d = withStatus(deployment(2), { replicas: 2, updatedReplicas: 0 });
    const started = rolloutStatus(
      [replicaSet('old', 1), replicaSet('new', 1, { available: 0 })],
      replicaSet('new', 1, { available: 0 }),
      d,
      {},
      now,
    );
    expect(getCondition(started, 'Progressing')).toMatchObject({
      status: 'True',
      reason: 'ReplicaSetUpdated',
      message: 'ReplicaSet "new" is progressing.',
    });
    const done = rolloutStatus(
      [replicaSet('new', 2)],
      replicaSet('new', 2),
      withStatus(d, started),
      started,
      now,
    );
    expect(getCondition(done, 'Progressing')).toMatchObject({
      reason: 'NewReplicaSetAvailable',
      message: 'ReplicaSet "new" has successfully progressed.',
    });
  });

  it('times out when nothing progressed for progressDeadlineSeconds, and says when to check', () => {
    const stuck = [replicaSet('new', 2, { available: 0, ready: 0, statusReplicas: 0 })];
    const progressing = {
      type: 'Progressing',
      status: 'True' as const,
      reason: 'ReplicaSetUpdated',
      lastUpdateTime: '2024-01-01T00:59:00Z',
      lastTransitionTime: '2024-01-01T00:59:00Z',
    };
    const d = withStatus(deployment(2, {}, { progressDeadlineSeconds: 30 }), { conditions: [progressing] });
    const status = rolloutStatus(stuck, stuck[0], d, structuredClone(d.status ?? {}), now);
    expect(getCondition(status, 'Progressing')).toMatchObject({
      status: 'False',
      reason: 'ProgressDeadlineExceeded',
      message: 'ReplicaSet "new" has timed out progressing.',
    });
    const patient = withStatus(deployment(2, {}, { progressDeadlineSeconds: 600 }), {
      conditions: [progressing],
    });
    expect(deadlineCheckMs(patient, {}, now)).toBe(541_000);
  });

  it('marks pausing and resuming as Progressing Unknown', () => {
    const paused = deployment(2, {}, { paused: true });
    const status = {};
    markPaused(paused, status, now);
    expect(getCondition(status, 'Progressing')).toMatchObject({
      status: 'Unknown',
      reason: 'DeploymentPaused',
      message: 'Deployment is paused',
    });
    markPaused(deployment(2), status, now);
    expect(getCondition(status, 'Progressing')).toMatchObject({ reason: 'DeploymentResumed' });
  });

  it('copies a ReplicaSet failure into the Deployment', () => {
    const failing = replicaSet('new', 1, { available: 0 });
    failing.status = {
      ...failing.status,
      conditions: [{ type: 'ReplicaFailure', status: 'True', reason: 'FailedCreate', message: 'quota' }],
    };
    const status = rolloutStatus([failing], failing, deployment(1), {}, now);
    expect(getCondition(status, 'ReplicaFailure')).toMatchObject({
      reason: 'FailedCreate',
      message: 'quota',
    });
  });
});
