/**
 * The Job controller: runs a Job's pods to completion. Each reconcile reads the Job and its pods,
 * asks `syncJob` what to do, and applies it in an order that keeps concurrent reconciles safe:
 *
 * 1. commit to new pods by writing their names on the Job (compare-and-swap; see expectations.ts);
 * 2. create the expected pods not seen yet;
 * 3. store the status with newly finished pods uncounted (compare-and-swap);
 * 4. remove those pods' tracking finalizers, then delete the pods to stop;
 * 5. store the status with released pods counted, and the final condition when the Job is done.
 *
 * Any failed write throws: the runtime retries the key later from a fresh read.
 */
import type { Pod } from '../../../shared/api/core.js';
import { ApiError, StatusReason } from '../../../shared/api/errors.js';
import { resourceType } from '../../../shared/api/resources.js';
import { same } from '../../../shared/api/same.js';
import type { ApiClient } from '../../../shared/client/client.js';
import {
  type Controller,
  type ControllerContext,
  keyOf,
  ownKey,
  type ReconcileResult,
  splitKey,
} from '../../runtime/controller.js';
import { isFinished } from './conditions.js';
import { type JobEvent, syncJob } from './decide.js';
import { expectedPods, expectedPodsAnnotation, newPodName, unseen } from './expectations.js';
import { jobNameLabel, jobSelector, selectorString, trackingFinalizer } from './labels.js';
import { podForJob } from './pod-template.js';
import { hasTrackingFinalizer } from './pods.js';
import { countReleased, finish } from './tracking.js';
import { controllerOf, everyJob, isJobRef, jobsOfPod } from './triggers.js';
import type { JobStatus, TrackedJob } from './types.js';

const jobs = resourceType('jobs.batch');
const pods = resourceType('pods');

/** Unfinished Jobs are looked at this often even if nothing wakes them: a backstop for anything missed. */
const resyncIntervalMs = 5 * 60_000;

export function jobController(): Controller {
  return {
    name: 'job',
    triggers: [ownKey('jobs.batch'), { resource: 'pods', keys: jobsOfPod }],
    resync: {
      intervalMs: resyncIntervalMs,
      keys: async (ctx) =>
        (await ctx.client.list<TrackedJob>(jobs)).items
          .filter((j) => !isFinished(j.status))
          .map((j) => keyOf(j.metadata)),
    },
    reconcile,
  };
}

async function reconcile(key: string, ctx: ControllerContext): Promise<ReconcileResult | undefined> {
  const { namespace, name } = splitKey(key);
  if (name !== everyJob) return reconcileJob(namespace as string, name, ctx);
  const all = (await ctx.client.list<TrackedJob>(jobs, { namespace })).items.filter(
    (j) => !isFinished(j.status),
  );
  let requeueAfterMs: number | undefined;
  let failure: unknown;
  for (const job of all) {
    try {
      const result = await reconcileJob(namespace as string, job.metadata.name, ctx);
      if (result?.requeueAfterMs !== undefined)
        requeueAfterMs = Math.min(requeueAfterMs ?? Infinity, result.requeueAfterMs);
    } catch (error) {
      failure ??= error;
    }
  }
  if (failure) throw failure;
  return requeueAfterMs !== undefined ? { requeueAfterMs } : undefined;
}

async function reconcileJob(
  namespace: string,
  name: string,
  ctx: ControllerContext,
): Promise<ReconcileResult | undefined> {
  const job = await ctx.client.find<TrackedJob>(jobs, namespace, name);
  const labelSelector = job ? selectorString(jobSelector(job)) : `${jobNameLabel}=${name}`;
  const listed = (await ctx.client.list<Pod>(pods, { namespace, labelSelector })).items;
  const owned = listed.filter((p) => job && controllerOf(p)?.uid === job.metadata.uid);
  // Pods left with the finalizer by a Job of this name that is gone (or by none): nobody will count them.
  const orphans = listed.filter((p) => {
    const ref = controllerOf(p);
    return (
      hasTrackingFinalizer(p) &&
      (!ref || (isJobRef(ref) && ref.name === name && ref.uid !== job?.metadata.uid))
    );
  });
  await Promise.all(orphans.map((p) => release(ctx.client, p)));
  if (!job) return undefined;
  if (isFinished(job.status)) {
    await Promise.all(owned.filter(hasTrackingFinalizer).map((p) => release(ctx.client, p)));
    return undefined;
  }

  const now = ctx.now();
  const expected = expectedPods(job);
  const pending = unseen(expected, owned);
  const sync = syncJob({ job, pods: owned, unseen: pending.length, now });

  // 1. Commit to the pods about to be created; seen ones leave the list.
  const names = sync.keepExpected
    ? [...pending, ...Array.from({ length: sync.create }, () => newPodName(job))]
    : [];
  let current = job;
  if (names.join(',') !== expected.join(',')) current = await setExpected(ctx.client, job, names);

  // 2. Create what is expected and not there yet.
  const created = await Promise.allSettled(names.map((podName) => createPod(ctx, current, podName)));
  const createError = created.find((r): r is PromiseRejectedResult => r.status === 'rejected');

  // 3. Record finished pods as uncounted before anything lets them go.
  if (!same(sync.status, job.status ?? {})) current = await updateStatus(ctx.client, current, sync.status);
  recordAll(ctx, current, sync.events);

  // 4. Let them go (a failure throws: they stay uncounted until a later sync); stop the pods to stop.
  await Promise.all(sync.release.map((p) => release(ctx.client, p)));
  for (const pod of sync.remove) await deletePod(ctx, current, pod);

  // 5. Count what was let go; finish the Job when nothing is left.
  const releasedUids = new Set(sync.release.map((p) => p.metadata.uid as string));
  const stillTracked = new Set(
    owned
      .filter((p) => hasTrackingFinalizer(p) && !releasedUids.has(p.metadata.uid as string))
      .map((p) => p.metadata.uid as string),
  );
  let status = countReleased(current.status ?? {}, stillTracked);
  const done = sync.remove.length === 0 ? finish(status, owned, now) : undefined;
  if (done) status = done.status;
  if (!same(status, current.status ?? {})) {
    current = await updateStatus(ctx.client, current, status);
    recordAll(ctx, current, done?.events ?? []);
  }
  if (createError) throw createError.reason;
  return sync.requeueAfterMs !== undefined ? { requeueAfterMs: sync.requeueAfterMs } : undefined;
}

/** The expected pod names, written only if the Job is still the version read (a merge patch pinned to it). */
async function setExpected(client: ApiClient, job: TrackedJob, names: string[]): Promise<TrackedJob> {
  return client.patch<TrackedJob>(jobs, job.metadata.namespace, job.metadata.name, {
    metadata: {
      resourceVersion: job.metadata.resourceVersion,
      annotations: { [expectedPodsAnnotation]: names.length > 0 ? names.join(',') : null },
    },
  });
}

async function updateStatus(client: ApiClient, job: TrackedJob, status: JobStatus): Promise<TrackedJob> {
  return client.update<TrackedJob>(jobs, { ...job, status }, 'status');
}

async function createPod(ctx: ControllerContext, job: TrackedJob, name: string): Promise<void> {
  try {
    await ctx.client.create(pods, podForJob(job, name));
  } catch (error) {
    // Created already (by us before, or by a concurrent reconcile), or the namespace is going away.
    if (
      error instanceof ApiError &&
      (error.reason === StatusReason.AlreadyExists || error.reason === StatusReason.Forbidden)
    )
      return;
    ctx.events.record(job, 'Warning', 'FailedCreate', `Error creating: ${(error as Error).message}`);
    throw error;
  }
  ctx.events.record(job, 'Normal', 'SuccessfulCreate', `Created pod: ${name}`);
}

async function deletePod(ctx: ControllerContext, job: TrackedJob, pod: Pod): Promise<void> {
  try {
    await ctx.client.delete(pods, pod.metadata.namespace, pod.metadata.name, {
      preconditions: { uid: pod.metadata.uid as string },
    });
  } catch (error) {
    if (error instanceof ApiError && (error.code === 404 || error.code === 409)) return;
    throw error;
  }
  ctx.events.record(job, 'Normal', 'SuccessfulDelete', `Deleted pod: ${pod.metadata.name}`);
}

/** Removes the tracking finalizer (a pod that is gone has none). */
async function release(client: ApiClient, pod: Pod): Promise<void> {
  try {
    await client.patch(
      pods,
      pod.metadata.namespace,
      pod.metadata.name,
      { metadata: { '$deleteFromPrimitiveList/finalizers': [trackingFinalizer] } },
      { patchType: 'strategic' },
    );
  } catch (error) {
    if (!(error instanceof ApiError && error.code === 404)) throw error;
  }
}

function recordAll(ctx: ControllerContext, job: TrackedJob, events: readonly JobEvent[]): void {
  for (const event of events) ctx.events.record(job, event.type, event.reason, event.message);
}
