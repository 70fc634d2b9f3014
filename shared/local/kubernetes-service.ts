/**
 * The `kubernetes` Service in `default`, the way pods reach the API server (in-cluster clients read its
 * address from KUBERNETES_SERVICE_HOST and _PORT): ClusterIP 10.96.0.1 port 443, with an Endpoints and
 * an EndpointSlice naming where the API server listens for pods, as kube-apiserver's endpoint
 * reconciler keeps them. The agents' proxy routes it like any Service.
 *
 * Only the local cluster has it. On AWS the API server is a function URL, a name and not an address an
 * Endpoints can hold, and pods use that URL itself (its certificate names only it).
 */
import { isDeepStrictEqual } from 'node:util';
import { resourceType } from '../api/resources.js';
import type { KubernetesObject } from '../api/types.js';
import type { ApiClient } from '../client/client.js';

/** The first address of the service range, which kube-apiserver keeps for this Service. */
export const kubernetesServiceIP = '10.96.0.1';
export const kubernetesServicePort = 443;

/** What in-cluster clients connect to, which the API server's certificate must name. */
export const kubernetesServiceNames = [
  kubernetesServiceIP,
  'kubernetes',
  'kubernetes.default',
  'kubernetes.default.svc',
  'kubernetes.default.svc.cluster.local',
];

interface Owned {
  resource: string;
  object: KubernetesObject;
  /** The part that depends on where the API server listens: merge-patched where the stored one differs. */
  patch: Record<string, unknown>;
}

const metadata = {
  name: 'kubernetes',
  namespace: 'default',
  labels: { component: 'apiserver', provider: 'kubernetes' },
};

function owned(endpoint: { ip: string; port: number }): Owned[] {
  const port = { name: 'https', port: endpoint.port, protocol: 'TCP' };
  const service = {
    spec: { ports: [{ ...port, port: kubernetesServicePort, targetPort: endpoint.port }] },
  };
  const endpoints = { subsets: [{ addresses: [{ ip: endpoint.ip }], ports: [port] }] };
  const slice = { endpoints: [{ addresses: [endpoint.ip], conditions: { ready: true } }], ports: [port] };
  return [
    {
      resource: 'services',
      object: {
        apiVersion: 'v1',
        kind: 'Service',
        metadata,
        spec: { ...service.spec, type: 'ClusterIP', clusterIP: kubernetesServiceIP, sessionAffinity: 'None' },
      },
      patch: service,
    },
    {
      resource: 'endpoints',
      object: { apiVersion: 'v1', kind: 'Endpoints', metadata, ...endpoints },
      patch: endpoints,
    },
    {
      resource: 'endpointslices.discovery.k8s.io',
      object: {
        apiVersion: 'discovery.k8s.io/v1',
        kind: 'EndpointSlice',
        metadata: {
          ...metadata,
          labels: {
            'kubernetes.io/service-name': 'kubernetes',
            'endpointslice.kubernetes.io/managed-by': 'local-cluster.lambernetes.io',
          },
        },
        addressType: 'IPv4',
        ...slice,
      },
      patch: slice,
    },
  ];
}

/** Whether merge-patching `patch` onto `object` would change nothing. */
function applied(object: unknown, patch: unknown): boolean {
  if (typeof patch !== 'object' || patch === null || Array.isArray(patch))
    return isDeepStrictEqual(object, patch);
  if (typeof object !== 'object' || object === null) return false;
  return Object.entries(patch).every(([key, value]) =>
    applied((object as Record<string, unknown>)[key], value),
  );
}

/** Creates the Service and its endpoints, or points them at `endpoint` where they name another. */
export async function reconcileKubernetesService(
  client: ApiClient,
  endpoint: { ip: string; port: number },
): Promise<void> {
  for (const { resource, object, patch } of owned(endpoint)) {
    const type = resourceType(resource);
    const stored = await client.find(type, metadata.namespace, metadata.name);
    if (!stored) await client.create(type, object);
    else if (!applied(stored, patch)) await client.patch(type, metadata.namespace, metadata.name, patch);
  }
}
