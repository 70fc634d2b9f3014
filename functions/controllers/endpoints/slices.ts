/**
 * The EndpointSlices a Service with a selector should have: upstream EndpointSlice controller's
 * reconciler as a pure function of the Service and the pods of its namespace.
 *
 * Slices are named deterministically (`<service>-<hash of service uid, port set, chunk>`) rather
 * than by the server's generateName, so that two reconciles running at once agree on which slices
 * exist: a second create of the same slice is AlreadyExists, never a duplicate.
 */
import { createHash } from 'node:crypto';
import type { Pod, Service } from '../../../shared/api/core.js';
import {
  findPort,
  headlessLabel,
  hostnameFor,
  ipv4Addresses,
  isHeadless,
  isReady,
  isTerminating,
  mayBeEndpoint,
  podReference,
  selectorOf,
  selects,
} from './pods.js';
import type { EndpointSlice, SliceEndpoint, SlicePort } from './types.js';

export const maxEndpointsPerSlice = 100;
export const serviceNameLabel = 'kubernetes.io/service-name';
export const managedByLabel = 'endpointslice.kubernetes.io/managed-by';
export const endpointSliceControllerName = 'endpointslice-controller.k8s.io';

export function desiredSlices(service: Service, pods: readonly Pod[]): EndpointSlice[] {
  const selector = selectorOf(service) ?? {};
  const groups = new Map<string, { ports: SlicePort[]; endpoints: SliceEndpoint[] }>();
  for (const pod of pods) {
    // Terminating pods stay in slices (with conditions saying so), unlike in Endpoints.
    if (!selects(selector, pod) || !mayBeEndpoint(pod, true)) continue;
    const addresses = ipv4Addresses(pod);
    if (addresses.length === 0) continue;
    const ports = slicePorts(service, pod);
    const key = JSON.stringify(ports);
    const group = groups.get(key) ?? { ports, endpoints: [] };
    group.endpoints.push(endpointOf(service, pod, addresses));
    groups.set(key, group);
  }
  // A service with no endpoints still gets one (empty) slice, as upstream's placeholder.
  if (groups.size === 0) groups.set('[]', { ports: [], endpoints: [] });
  const slices: EndpointSlice[] = [];
  for (const [key, { ports, endpoints }] of [...groups.entries()].sort(([a], [b]) => compare(a, b))) {
    endpoints.sort(
      (a, b) =>
        compare(a.addresses[0] ?? '', b.addresses[0] ?? '') || compare(a.targetRef.uid, b.targetRef.uid),
    );
    for (let chunk = 0; chunk * maxEndpointsPerSlice < Math.max(endpoints.length, 1); chunk++) {
      const part = endpoints.slice(chunk * maxEndpointsPerSlice, (chunk + 1) * maxEndpointsPerSlice);
      slices.push(sliceOf(service, sliceName(service, key, chunk), ports, part));
    }
  }
  return slices;
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** upstream `getEndpointPorts`: the service ports this pod resolves, in the service's order. */
function slicePorts(service: Service, pod: Pod): SlicePort[] {
  const ports: SlicePort[] = [];
  for (const servicePort of service.spec?.ports ?? []) {
    const port = findPort(pod, servicePort);
    if (port === undefined) continue;
    ports.push({
      name: servicePort.name ?? '',
      port,
      protocol: servicePort.protocol ?? 'TCP',
      ...(servicePort.appProtocol ? { appProtocol: servicePort.appProtocol } : {}),
    });
  }
  return ports;
}

/** upstream `podToEndpoint` (without topology: no zone, no hints). */
function endpointOf(service: Service, pod: Pod, addresses: string[]): SliceEndpoint {
  const publishNotReady = service.spec?.publishNotReadyAddresses === true;
  const serving = publishNotReady || isReady(pod);
  const terminating = isTerminating(pod);
  const hostname = hostnameFor(pod, service);
  return {
    addresses,
    // "ready" is never true for a terminating pod, unless the service publishes not-ready addresses.
    conditions: { ready: publishNotReady || (serving && !terminating), serving, terminating },
    ...(hostname ? { hostname } : {}),
    ...(pod.spec.nodeName ? { nodeName: pod.spec.nodeName } : {}),
    targetRef: podReference(pod),
  };
}

const nameAlphabet = 'bcdfghjklmnpqrstvwxz2456789';

/** `<service>-` and five characters of the generateName alphabet, derived from what the slice holds. */
export function sliceName(service: Service, portsKey: string, chunk: number): string {
  const digest = createHash('sha256').update(`${service.metadata.uid}\0${portsKey}\0${chunk}`).digest();
  let suffix = '';
  for (let i = 0; i < 5; i++) suffix += nameAlphabet[(digest[i] as number) % nameAlphabet.length];
  return `${service.metadata.name}-${suffix}`;
}

/** upstream `setEndpointSliceLabels`: the service's own labels, then the controller's. */
export function sliceLabels(service: Service): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const [key, value] of Object.entries(service.metadata.labels ?? {})) {
    if (key !== serviceNameLabel && key !== managedByLabel && key !== headlessLabel) labels[key] = value;
  }
  if (isHeadless(service)) labels[headlessLabel] = '';
  labels[serviceNameLabel] = service.metadata.name;
  labels[managedByLabel] = endpointSliceControllerName;
  return labels;
}

function sliceOf(
  service: Service,
  name: string,
  ports: SlicePort[],
  endpoints: SliceEndpoint[],
): EndpointSlice {
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: {
      name,
      generateName: `${service.metadata.name}-`,
      namespace: service.metadata.namespace as string,
      labels: sliceLabels(service),
      ownerReferences: [
        {
          apiVersion: 'v1',
          kind: 'Service',
          name: service.metadata.name,
          uid: service.metadata.uid as string,
          controller: true,
          blockOwnerDeletion: true,
        },
      ],
    },
    addressType: 'IPv4',
    endpoints,
    ports,
  };
}
