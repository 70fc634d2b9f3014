import { ApiError } from '../../shared/api/errors.js';
import type { KubernetesObject } from '../../shared/api/types.js';
import type { Store } from '../../shared/store/store.js';

export const namespaces = ['alpha', 'beta'] as const;

export function configMap(namespace: string, name: string, value: string): KubernetesObject {
  return { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace }, data: { value } };
}

/**
 * A writer that creates, updates and deletes configmaps over a shared key space, so writers collide:
 * conflicts and lost races (and so void revisions) are part of the load. Returns how many writes landed.
 */
export async function churn(store: Store, writer: number, operations: number, keys = 4): Promise<number> {
  let landed = 0;
  for (let i = 0; i < operations; i++) {
    const namespace = namespaces[i % namespaces.length] as string;
    const name = `cm-${Math.floor(Math.random() * keys)}`;
    const key = { resource: 'configmaps', namespace, name };
    try {
      const current = await store.get(key).catch((error: unknown) => {
        if (error instanceof ApiError && error.code === 404) return undefined;
        throw error;
      });
      if (!current) await store.create(key, configMap(namespace, name, `w${writer}-${i}`));
      else if (i % 4 === 3)
        await store.delete(key, { resourceVersion: current.metadata.resourceVersion as string });
      else
        await store.update(
          key,
          configMap(namespace, name, `w${writer}-${i}`),
          Number(current.metadata.resourceVersion),
        );
      landed++;
    } catch (error) {
      if (!(error instanceof ApiError && (error.code === 409 || error.code === 404))) throw error;
    }
  }
  return landed;
}
