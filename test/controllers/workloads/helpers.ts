import type { Pod } from '../../../shared/api/core.js';
import { resourceType } from '../../../shared/api/resources.js';
import type { ApiClient } from '../../../shared/client/client.js';

const pods = resourceType('pods');

/** Not finished and not being deleted. */
export function isLive(pod: Pod): boolean {
  const phase = pod.status?.phase;
  return !pod.metadata.deletionTimestamp && phase !== 'Succeeded' && phase !== 'Failed';
}

export function isReady(pod: Pod): boolean {
  return pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
}

export function imageOf(pod: Pod): string | undefined {
  return pod.spec.containers[0]?.image;
}

/** The live pods a selector selects. */
export async function livePods(client: ApiClient, namespace: string, labelSelector: string): Promise<Pod[]> {
  return (await client.list<Pod>(pods, { namespace, labelSelector })).items.filter(isLive);
}

export interface PodHistory {
  /** Every state the selected pods went through, in the order the apiserver committed them. */
  states: Pod[][];
}

/**
 * Watches the selected pods and keeps every state they pass through (one per watch event, so in
 * commit order): the checks of a rollout's limits run over all of them once it is done.
 */
export async function recordPods(
  client: ApiClient,
  namespace: string,
  labelSelector: string,
): Promise<{ stop(): Promise<PodHistory> }> {
  const stopped = new AbortController();
  const list = await client.list<Pod>(pods, { namespace, labelSelector });
  const current = new Map(list.items.map((pod) => [pod.metadata.name, pod]));
  const states: Pod[][] = [[...current.values()]];
  const watching = (async () => {
    let resourceVersion = list.resourceVersion;
    // The server ends a watch after a while: watch again from the last version seen, until stopped.
    while (!stopped.signal.aborted) {
      try {
        for await (const event of client.watch<Pod>(pods, {
          namespace,
          labelSelector,
          resourceVersion,
          signal: stopped.signal,
        })) {
          resourceVersion = event.object.metadata.resourceVersion ?? resourceVersion;
          if (event.type === 'BOOKMARK') continue;
          if (event.type === 'DELETED') current.delete(event.object.metadata.name);
          else current.set(event.object.metadata.name, event.object);
          states.push([...current.values()]);
        }
      } catch (error) {
        if (!stopped.signal.aborted) throw error;
      }
    }
  })();
  return {
    stop: async () => {
      stopped.abort();
      await watching;
      return { states };
    },
  };
}
