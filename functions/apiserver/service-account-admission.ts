/**
 * kube-apiserver's ServiceAccount admission for new pods: the pod runs as `default` unless it names a
 * service account, and unless it or its service account opts out (`automountServiceAccountToken:
 * false`) every container gets the `kube-api-access-<suffix>` projected volume at
 * /var/run/secrets/kubernetes.io/serviceaccount: a bound token (refreshed by the agent), the
 * `kube-root-ca.crt` ConfigMap's `ca.crt`, and the pod's namespace.
 *
 * Unlike upstream, a pod whose `default` service account does not exist yet (a namespace created a
 * moment ago, before the controller made it; or a cluster run without controllers) is admitted
 * without the volume (upstream refuses it, and its controllers retry); a pod naming another missing
 * service account is refused.
 */
import { randomBytes } from 'node:crypto';
import type { Pod } from '../../shared/api/core.js';
import { ApiError, StatusReason } from '../../shared/api/errors.js';
import type { KubernetesObject } from '../../shared/api/types.js';
import type { Store } from '../../shared/store/store.js';

export const serviceAccountMountPath = '/var/run/secrets/kubernetes.io/serviceaccount';
/** How long the projected token lives before the agent replaces it (upstream's default projection). */
export const projectedTokenSeconds = 3607;

type Mounts = { volumeMounts?: { mountPath?: string; name?: string; readOnly?: boolean }[] };

/** The pod with its service account defaulted and its API access volume added (pure). */
export function withServiceAccount(
  pod: Pod,
  serviceAccount: KubernetesObject | undefined,
  suffix: string,
): Pod {
  const spec = { ...pod.spec } as Pod['spec'] & Record<string, unknown>;
  spec.serviceAccountName ??= 'default';
  const automount =
    (spec.automountServiceAccountToken as boolean | undefined) ??
    (serviceAccount?.automountServiceAccountToken as boolean | undefined) ??
    true;
  if (!serviceAccount || !automount) return { ...pod, spec };
  const volumes = (spec.volumes as { name: string }[] | undefined) ?? [];
  const name = `kube-api-access-${suffix}`;
  const mount = { name, readOnly: true, mountPath: serviceAccountMountPath };
  const withMount = <C>(container: C): C =>
    (container as Mounts).volumeMounts?.some((m) => m.mountPath === serviceAccountMountPath)
      ? container
      : { ...container, volumeMounts: [...((container as Mounts).volumeMounts ?? []), mount] };
  spec.containers = spec.containers.map(withMount);
  if (spec.initContainers)
    spec.initContainers = spec.initContainers.map(withMount) as Pod['spec']['containers'];
  spec.volumes = [
    ...volumes,
    {
      name,
      projected: {
        defaultMode: 0o644,
        sources: [
          { serviceAccountToken: { expirationSeconds: projectedTokenSeconds, path: 'token' } },
          { configMap: { name: 'kube-root-ca.crt', items: [{ key: 'ca.crt', path: 'ca.crt' }] } },
          {
            downwardAPI: {
              items: [{ path: 'namespace', fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.namespace' } }],
            },
          },
        ],
      },
    },
  ];
  return { ...pod, spec };
}

/** Admits a new pod: its service account read, the volume added. */
export async function admitServiceAccount(store: Store, pod: Pod): Promise<Pod> {
  const namespace = pod.metadata.namespace as string;
  const name = (pod.spec.serviceAccountName as string | undefined) || 'default';
  const serviceAccount = await store
    .get({ resource: 'serviceaccounts', namespace, name })
    .catch((error: unknown) => {
      if (error instanceof ApiError && error.code === 404) return undefined;
      throw error;
    });
  if (!serviceAccount && name !== 'default') {
    throw new ApiError(
      403,
      StatusReason.Forbidden,
      `pods "${pod.metadata.name}" is forbidden: error looking up service account ${namespace}/${name}: serviceaccount "${name}" not found`,
      { name: pod.metadata.name, kind: 'pods' },
    );
  }
  return withServiceAccount(pod, serviceAccount, randomBytes(4).toString('hex').slice(0, 5));
}
