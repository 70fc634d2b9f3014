/**
 * The Endpoints object a Service with a selector should have: upstream endpoints controller's
 * `syncService` as a pure function of the Service and the pods of its namespace.
 */
import type { Pod, Service } from '../../../shared/api/core.js';
import {
  findPort,
  headlessLabel,
  hostnameFor,
  ipv4Addresses,
  isHeadless,
  isReady,
  mayBeEndpoint,
  podReference,
  selectorOf,
  selects,
} from './pods.js';
import type { EndpointAddress, EndpointPort, EndpointSubset } from './types.js';

/** Upstream's cap on the addresses of one Endpoints object; beyond it they are truncated. */
export const maxEndpointsCapacity = 1000;
export const overCapacityAnnotation = 'endpoints.kubernetes.io/over-capacity';

export interface DesiredEndpoints {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  subsets: EndpointSubset[];
}

interface Member {
  address: EndpointAddress;
  ready: boolean;
  port?: EndpointPort;
}

export function desiredEndpoints(service: Service, pods: readonly Pod[]): DesiredEndpoints {
  const selector = selectorOf(service) ?? {};
  const publishNotReady = service.spec?.publishNotReadyAddresses === true;
  const ports = service.spec?.ports ?? [];
  const members: Member[] = [];
  for (const pod of pods) {
    if (!selects(selector, pod) || !mayBeEndpoint(pod, publishNotReady)) continue;
    const ip = ipv4Addresses(pod)[0];
    if (!ip) continue;
    const hostname = hostnameFor(pod, service);
    const address: EndpointAddress = {
      ip,
      ...(hostname ? { hostname } : {}),
      ...(pod.spec.nodeName ? { nodeName: pod.spec.nodeName } : {}),
      targetRef: podReference(pod),
    };
    const ready = publishNotReady || isReady(pod);
    // A headless service may have no ports; any other service without ports gets no addresses.
    if (ports.length === 0 && service.spec?.clusterIP === 'None') members.push({ address, ready });
    for (const servicePort of ports) {
      const number = findPort(pod, servicePort);
      if (number === undefined) continue;
      members.push({
        address,
        ready,
        port: {
          ...(servicePort.name ? { name: servicePort.name } : {}),
          port: number,
          protocol: servicePort.protocol ?? 'TCP',
          ...(servicePort.appProtocol ? { appProtocol: servicePort.appProtocol } : {}),
        },
      });
    }
  }
  const labels = { ...service.metadata.labels };
  if (isHeadless(service)) labels[headlessLabel] = '';
  else delete labels[headlessLabel];
  const { subsets, truncated } = truncate(repack(members));
  return { labels, annotations: truncated ? { [overCapacityAnnotation]: 'truncated' } : {}, subsets };
}

const byAddress = (a: EndpointAddress, b: EndpointAddress) =>
  compare(a.ip, b.ip) || compare(a.targetRef.uid, b.targetRef.uid);
const byPort = (a: EndpointPort, b: EndpointPort) =>
  compare(a.name ?? '', b.name ?? '') || a.port - b.port || compare(a.protocol, b.protocol);

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * upstream `RepackSubsets`: every port maps to the addresses that offer it; ports offered by the same
 * addresses (with the same readiness) share one subset. Sorted, so equal inputs give equal output.
 */
function repack(members: readonly Member[]): EndpointSubset[] {
  const addressesByPort = new Map<string, { port?: EndpointPort; addresses: Map<string, Member> }>();
  for (const member of members) {
    const portKey = member.port ? JSON.stringify(member.port) : '';
    const entry = addressesByPort.get(portKey) ?? {
      ...(member.port ? { port: member.port } : {}),
      addresses: new Map(),
    };
    entry.addresses.set(`${member.address.ip}/${member.address.targetRef.uid}`, member);
    addressesByPort.set(portKey, entry);
  }
  const groups = new Map<string, { ports: EndpointPort[]; members: Member[] }>();
  for (const { port, addresses } of addressesByPort.values()) {
    const key = [...addresses.entries()]
      .map(([k, m]) => `${k}=${m.ready}`)
      .sort()
      .join(',');
    const group = groups.get(key) ?? { ports: [], members: [...addresses.values()] };
    if (port) group.ports.push(port);
    groups.set(key, group);
  }
  const subsets = [...groups.values()].map(({ ports, members: group }): EndpointSubset => {
    const ready = group.filter((m) => m.ready).map((m) => m.address);
    const notReady = group.filter((m) => !m.ready).map((m) => m.address);
    return {
      ...(ready.length > 0 ? { addresses: ready.sort(byAddress) } : {}),
      ...(notReady.length > 0 ? { notReadyAddresses: notReady.sort(byAddress) } : {}),
      ...(ports.length > 0 ? { ports: ports.sort(byPort) } : {}),
    };
  });
  return subsets.sort((a, b) => compare(JSON.stringify(a), JSON.stringify(b)));
}

/**
 * upstream `truncateEndpoints`: over capacity, keep ready addresses first, each subset keeping its
 * proportional share.
 */
function truncate(subsets: EndpointSubset[]): { subsets: EndpointSubset[]; truncated: boolean } {
  const count = (field: 'addresses' | 'notReadyAddresses') =>
    subsets.reduce((n, s) => n + (s[field]?.length ?? 0), 0);
  const totalReady = count('addresses');
  const totalNotReady = count('notReadyAddresses');
  if (totalReady + totalNotReady <= maxEndpointsCapacity) return { subsets, truncated: false };
  const truncateReady = totalReady > maxEndpointsCapacity;
  const room = truncateReady ? maxEndpointsCapacity : maxEndpointsCapacity - totalReady;
  const total = truncateReady ? totalReady : totalNotReady;
  let left = room;
  const truncated = subsets.map((subset): EndpointSubset => {
    const own = (truncateReady ? subset.addresses : subset.notReadyAddresses) ?? [];
    const kept = own.slice(0, Math.min(Math.ceil((own.length / total) * room), left));
    left -= kept.length;
    // Truncating ready addresses drops every not-ready one.
    const addresses = truncateReady ? kept : (subset.addresses ?? []);
    const notReady = truncateReady ? [] : kept;
    return {
      ...(addresses.length > 0 ? { addresses } : {}),
      ...(notReady.length > 0 ? { notReadyAddresses: notReady } : {}),
      ...(subset.ports ? { ports: subset.ports } : {}),
    };
  });
  return { subsets: truncated, truncated: true };
}
