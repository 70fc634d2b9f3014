/**
 * Which services a reconcile looks at, and what it reads for them. Two kinds of key:
 *
 * - `namespace/name`: one Service (its own changes, and deletions of what it owns). A Service that
 *   is gone has its endpoints deleted, as upstream does on a Service delete.
 * - `namespace/*`: every Service of the namespace. A pod change cannot say which services select
 *   the pod (a trigger sees only the change, and must not list), so it names its namespace; the
 *   reconcile then lists services, pods and endpoints of that namespace once, and computes every
 *   Service's endpoints in memory: a constant number of reads per pod change (and per stream
 *   batch, as keys are deduplicated per batch), writes only where something differs.
 */
import type { Pod, Service } from '../../../shared/api/core.js';
import { resourceType } from '../../../shared/api/resources.js';
import type { KubernetesObject } from '../../../shared/api/types.js';
import type { ApiClient } from '../../../shared/client/client.js';
import type { ObjectChange } from '../../../shared/store/changes.js';
import { keyOf, type Trigger } from '../../runtime/controller.js';
import { isReady, managesEndpointsOf, selectorOf, selectorString } from './pods.js';

const services = resourceType('services');
const pods = resourceType('pods');

const everyService = '*';

export function namespaceKey(namespace: string): string {
  return `${namespace}/${everyService}`;
}

export interface Scope {
  namespace: string;
  /** The services to give endpoints to (with a selector, not ExternalName). */
  services: Service[];
  /** The pods of the namespace those services may select. */
  pods: Pod[];
  /** A service named by the key that no longer exists: its endpoints go. */
  gone?: string;
}

export async function readScope(client: ApiClient, key: string): Promise<Scope> {
  const slash = key.indexOf('/');
  const namespace = key.slice(0, slash);
  const name = key.slice(slash + 1);
  if (name === everyService) {
    const listed = (await client.list<Service>(services, { namespace })).items.filter(managesEndpointsOf);
    if (listed.length === 0) return { namespace, services: [], pods: [] };
    return { namespace, services: listed, pods: (await client.list<Pod>(pods, { namespace })).items };
  }
  const service = await client.find<Service>(services, namespace, name);
  if (!service) return { namespace, services: [], pods: [], gone: name };
  if (!managesEndpointsOf(service)) return { namespace, services: [], pods: [] };
  const selector = selectorString(selectorOf(service) ?? {});
  return {
    namespace,
    services: [service],
    pods: (await client.list<Pod>(pods, { namespace, labelSelector: selector })).items,
  };
}

/** What of a pod its endpoints show: a pod change that keeps all of this changes no endpoints. */
function endpointFacts(object: KubernetesObject): unknown {
  const pod = object as Pod;
  const spec = pod.spec as Pod['spec'] & { hostname?: string; subdomain?: string };
  return JSON.stringify([
    pod.metadata.labels ?? {},
    pod.metadata.deletionTimestamp !== undefined,
    pod.status?.phase,
    pod.status?.podIP,
    pod.status?.podIPs,
    isReady(pod),
    spec.nodeName,
    spec.hostname,
    spec.subdomain,
  ]);
}

function changesEndpoints(change: ObjectChange): boolean {
  if (!change.before || !change.after) return true;
  return endpointFacts(change.before) !== endpointFacts(change.after);
}

/** Services wake their own key; pods wake their namespace, when the change can matter. */
export const serviceAndPodTriggers: Trigger[] = [
  { resource: 'services', keys: (change) => [keyOf(change.key)] },
  {
    resource: 'pods',
    keys: (change) =>
      change.key.namespace && changesEndpoints(change) ? [namespaceKey(change.key.namespace)] : [],
  },
];
