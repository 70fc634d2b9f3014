import type { Pod } from '../../../shared/api/core.js';
import type { KubernetesObject } from '../../../shared/api/types.js';
import type { Store } from '../../../shared/store/store.js';
import type { NodeGraph } from './node-authorizer.js';

/** The object at a key, or undefined when there is none. */
export function storeReader(store: Store, resource: string) {
  return async (namespace: string, name: string): Promise<KubernetesObject | undefined> =>
    store.get({ resource, namespace, name }).catch((error: unknown) => {
      if ((error as { code?: number }).code === 404) return undefined;
      throw error;
    });
}

/** The pods the Node authorizer asks about, read from the store (one query per namespace asked). */
export function storeNodeGraph(store: Store): NodeGraph {
  const pod = storeReader(store, 'pods');
  return {
    pod: async (namespace, name) => (await pod(namespace, name)) as Pod | undefined,
    podsOn: async (node, namespace) =>
      (
        await store.list(
          { resource: 'pods', namespace },
          { filter: (p) => (p as Pod).spec?.nodeName === node },
        )
      ).items as Pod[],
  };
}
