/**
 * A TEST-ONLY STAND-IN FOR THE SCHEDULER, for the workload tests written before the scheduler was
 * registered: it binds every pending pod (no node, not being deleted) to the given simulated nodes in
 * turn, through the `binding` subresource. It never decides anything a scheduler would: no filters,
 * no scores. A pod already bound (by the scheduler, once it runs) is skipped, and a binding that loses
 * a race (409) is ignored, so it is harmless beside the real scheduler and can be switched off by
 * deleting its `startTestBinder` calls.
 */
import { setTimeout as delay } from 'node:timers/promises';
import type { Pod } from '../../../shared/api/core.js';
import { ApiError } from '../../../shared/api/errors.js';
import { resourceType } from '../../../shared/api/resources.js';
import type { ApiClient } from '../../../shared/client/client.js';

const pods = resourceType('pods');

export interface TestBinder {
  stop(): Promise<void>;
}

export function startTestBinder(client: ApiClient, nodes: readonly string[]): TestBinder {
  const stopped = new AbortController();
  let next = 0;

  const bind = async (pod: Pod) => {
    if (pod.spec.nodeName || pod.metadata.deletionTimestamp) return;
    const { namespace, name } = pod.metadata;
    const node = nodes[next++ % nodes.length] as string;
    try {
      await client.post(pods, namespace, name, 'binding', {
        apiVersion: 'v1',
        kind: 'Binding',
        metadata: { name, namespace },
        target: { kind: 'Node', name: node },
      });
    } catch (error) {
      // Bound meanwhile (409), or gone (404): nothing to do either way.
      if (!(error instanceof ApiError && (error.code === 409 || error.code === 404))) throw error;
    }
  };

  const loop = async () => {
    let resourceVersion: string | undefined;
    while (!stopped.signal.aborted) {
      try {
        if (!resourceVersion) {
          const list = await client.list<Pod>(pods);
          resourceVersion = list.resourceVersion;
          for (const pod of list.items) await bind(pod);
        }
        for await (const event of client.watch<Pod>(pods, { resourceVersion, signal: stopped.signal })) {
          resourceVersion = event.object.metadata.resourceVersion;
          if (event.type === 'ADDED' || event.type === 'MODIFIED') await bind(event.object);
        }
      } catch (error) {
        if (stopped.signal.aborted) return;
        if (error instanceof ApiError && error.code === 410) resourceVersion = undefined;
        else console.error('test binder:', error);
        await delay(200);
      }
    }
  };

  const running = loop();
  return {
    stop: async () => {
      stopped.abort();
      await running;
    },
  };
}
