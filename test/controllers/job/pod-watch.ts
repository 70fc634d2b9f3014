/**
 * Test helpers around a Job's pods: a recorder of every pod a Job ever had and of how many ran at
 * once, and, for clusters without a control plane (no scheduler), a tiny binder.
 */
import { setTimeout as delay } from 'node:timers/promises';
import type { Pod } from '../../../shared/api/core.js';
import { ApiError } from '../../../shared/api/errors.js';
import { resourceType } from '../../../shared/api/resources.js';
import type { ApiClient } from '../../../shared/client/client.js';

const pods = resourceType('pods');

export interface PodWatch {
  /** Uids of every pod seen. */
  readonly seen: Set<string>;
  /** The most pods running (not finished, not being deleted) at once. */
  readonly maxActive: number;
  stop(): Promise<void>;
}

function isActive(pod: Pod): boolean {
  const phase = pod.status?.phase;
  return phase !== 'Succeeded' && phase !== 'Failed' && !pod.metadata.deletionTimestamp;
}

/**
 * Watches the pods of a namespace and records the pods that `labelSelector` selects; binds unbound
 * ones to `bindTo` in turn when there is no scheduler to do it.
 */
export function watchPods(
  client: ApiClient,
  namespace: string,
  labelSelector: string,
  bindTo: string[] = [],
): PodWatch {
  const stopped = new AbortController();
  const seen = new Set<string>();
  const active = new Set<string>();
  let maxActive = 0;
  let next = 0;
  const bind = async (pod: Pod) => {
    const node = bindTo[next++ % bindTo.length] as string;
    await client
      .post(pods, namespace, pod.metadata.name, 'binding', {
        apiVersion: 'v1',
        kind: 'Binding',
        metadata: { name: pod.metadata.name },
        target: { kind: 'Node', name: node },
      })
      .catch((error: unknown) => {
        // Bound meanwhile (by the scheduler), being deleted, or gone: not for us then.
        if (!(error instanceof ApiError && (error.code === 409 || error.code === 404))) throw error;
      });
  };
  let resourceVersion: string | undefined;
  const watchOnce = async () => {
    const options = { namespace, signal: stopped.signal, ...(resourceVersion ? { resourceVersion } : {}) };
    for await (const event of client.watch<Pod>(pods, options)) {
      const pod = event.object;
      resourceVersion = pod.metadata.resourceVersion;
      if (event.type === 'BOOKMARK') continue;
      const uid = pod.metadata.uid as string;
      if (
        bindTo.length > 0 &&
        event.type === 'ADDED' &&
        !pod.spec.nodeName &&
        !pod.metadata.deletionTimestamp
      )
        void bind(pod).catch((error: unknown) => console.error('binder:', error));
      const labels = pod.metadata.labels ?? {};
      const [key, value] = labelSelector.split('=');
      if (labels[key as string] !== value) continue;
      seen.add(uid);
      if (event.type !== 'DELETED' && isActive(pod)) active.add(uid);
      else active.delete(uid);
      maxActive = Math.max(maxActive, active.size);
    }
  };
  // A watch ends when the server says so: watch again from where it ended.
  const loop = (async () => {
    while (!stopped.signal.aborted) {
      await watchOnce().catch(async (error: unknown) => {
        if (stopped.signal.aborted) return;
        console.error('pod watch:', error);
        if (error instanceof ApiError && error.code === 410) resourceVersion = undefined;
        await delay(200);
      });
    }
  })();
  return {
    seen,
    get maxActive() {
      return maxActive;
    },
    stop: async () => {
      stopped.abort();
      await loop;
    },
  };
}
