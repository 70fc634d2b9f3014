/**
 * What every namespace has for its pods to reach the API, as kube-controller-manager's serviceaccount
 * and root-ca-cert-publisher controllers make it: the `default` ServiceAccount, and the
 * `kube-root-ca.crt` ConfigMap holding the certificates that verify the API server (projected into
 * every pod at /var/run/secrets/kubernetes.io/serviceaccount/ca.crt). Both are put back if deleted,
 * except in a namespace being deleted.
 */
import { ApiError } from '../../../shared/api/errors.js';
import { resourceType } from '../../../shared/api/resources.js';
import type { KubernetesObject } from '../../../shared/api/types.js';
import { type Controller, type ControllerContext, everyObject } from '../../runtime/controller.js';

export const defaultServiceAccount = 'default';
export const rootCaConfigMap = 'kube-root-ca.crt';

const namespaces = resourceType('namespaces');
const serviceAccounts = resourceType('serviceaccounts');
const configMaps = resourceType('configmaps');

/** `rootCa`: the PEM certificates pods trust the API server with; none: no ConfigMap is published. */
export function serviceAccountsController(options: {
  rootCa?: string;
  resyncIntervalMs: number;
}): Controller {
  const namespaceOf =
    (name: string) => (change: { key: { namespace?: string; name: string }; exists: boolean }) =>
      change.key.name === name && change.key.namespace && !change.exists ? [change.key.namespace] : [];
  return {
    name: 'serviceaccount',
    triggers: [
      { resource: 'namespaces', keys: (change) => (change.exists ? [change.key.name] : []) },
      { resource: 'serviceaccounts', keys: namespaceOf(defaultServiceAccount) },
      ...(options.rootCa ? [{ resource: 'configmaps', keys: namespaceOf(rootCaConfigMap) }] : []),
    ],
    resync: { intervalMs: options.resyncIntervalMs, keys: everyObject(namespaces) },
    async reconcile(namespace, ctx) {
      const found = await ctx.client.find(namespaces, undefined, namespace);
      if (!found || found.metadata.deletionTimestamp) return undefined;
      await ensure(ctx, serviceAccounts, { metadata: { name: defaultServiceAccount, namespace } });
      if (options.rootCa) {
        const wanted = { metadata: { name: rootCaConfigMap, namespace }, data: { 'ca.crt': options.rootCa } };
        const current = await ensure(ctx, configMaps, wanted);
        if ((current.data as Record<string, string> | undefined)?.['ca.crt'] !== options.rootCa)
          await ctx.client.update(configMaps, { ...current, data: wanted.data });
      }
      return undefined;
    },
  };
}

/** The object, created if it is missing (a concurrent creator's copy counts). */
async function ensure(
  ctx: ControllerContext,
  type: ReturnType<typeof resourceType>,
  object: KubernetesObject,
): Promise<KubernetesObject> {
  const { namespace, name } = object.metadata;
  const existing = await ctx.client.find(type, namespace, name);
  if (existing) return existing;
  try {
    return await ctx.client.create(type, object);
  } catch (error) {
    // A concurrent creator made it (409), or the namespace began terminating meanwhile (403): done.
    if (!(error instanceof ApiError && (error.code === 409 || error.code === 403))) throw error;
    return (await ctx.client.find(type, namespace, name)) ?? object;
  }
}
