/**
 * What both endpoint controllers ask of a pod, as upstream's endpointslice util and podutil answer it:
 * is it selected, may it be an endpoint at all, is it ready, which IP and which port does it offer.
 */
import type { Pod, Service, ServicePort } from '../../../shared/api/core.js';
import type { ObjectReference } from './types.js';

/** The Service's selector, or undefined when it has none (then its endpoints are managed by hand). */
export function selectorOf(service: Service): Record<string, string> | undefined {
  const selector = service.spec?.selector;
  // An empty selector does not survive upstream's storage (it decodes as nil): treat it as none.
  return selector && Object.keys(selector).length > 0 ? selector : undefined;
}

/** Services these controllers give endpoints to: with a selector and not of type ExternalName. */
export function managesEndpointsOf(service: Service): boolean {
  return service.spec?.type !== 'ExternalName' && selectorOf(service) !== undefined;
}

export function selects(selector: Record<string, string>, pod: Pod): boolean {
  const labels = pod.metadata.labels ?? {};
  return Object.entries(selector).every(([key, value]) => labels[key] === value);
}

/** `k=v,…`: a selector map as a list request's labelSelector. */
export function selectorString(selector: Record<string, string>): string {
  return Object.entries(selector)
    .map(([key, value]) => `${key}=${value}`)
    .join(',');
}

export function isTerminal(pod: Pod): boolean {
  return pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed';
}

export function isReady(pod: Pod): boolean {
  return pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
}

export function isTerminating(pod: Pod): boolean {
  return pod.metadata.deletionTimestamp !== undefined;
}

/**
 * upstream `ShouldPodBeInEndpoints`: not finished, has an IP, and (unless terminating pods are
 * wanted) not being deleted.
 */
export function mayBeEndpoint(pod: Pod, includeTerminating: boolean): boolean {
  if (isTerminal(pod)) return false;
  if (!pod.status?.podIP && (pod.status?.podIPs ?? []).length === 0) return false;
  return includeTerminating || !isTerminating(pod);
}

function isIPv6(ip: string): boolean {
  return ip.includes(':');
}

/** The pod's IPv4 addresses (the only address family these controllers serve). */
export function ipv4Addresses(pod: Pod): string[] {
  const ips = (pod.status?.podIPs ?? []).map((p) => p.ip);
  if (ips.length === 0 && pod.status?.podIP) ips.push(pod.status.podIP);
  return ips.filter((ip) => !isIPv6(ip));
}

/** upstream `podutil.FindPort`: the container port a service port's targetPort names, or its number. */
export function findPort(pod: Pod, servicePort: ServicePort): number | undefined {
  const target = servicePort.targetPort ?? servicePort.port;
  if (typeof target === 'number') return target === 0 ? servicePort.port : target;
  const protocol = servicePort.protocol ?? 'TCP';
  for (const container of pod.spec.containers) {
    for (const port of container.ports ?? []) {
      if (port.name === target && (port.protocol ?? 'TCP') === protocol) return port.containerPort;
    }
  }
  return undefined;
}

/** upstream `ShouldSetHostname`: the pod asked for a hostname under this (headless) service's name. */
export function hostnameFor(pod: Pod, service: Service): string | undefined {
  const { hostname, subdomain } = pod.spec as { hostname?: string; subdomain?: string };
  return hostname &&
    subdomain === service.metadata.name &&
    pod.metadata.namespace === service.metadata.namespace
    ? hostname
    : undefined;
}

export function podReference(pod: Pod): ObjectReference {
  return {
    kind: 'Pod',
    namespace: pod.metadata.namespace as string,
    name: pod.metadata.name,
    uid: pod.metadata.uid as string,
  };
}

/** Upstream `IsServiceIPSet`: headless services (clusterIP None or unset) get the headless label. */
export function isHeadless(service: Service): boolean {
  const clusterIP = service.spec?.clusterIP;
  return !clusterIP || clusterIP === 'None';
}

export const headlessLabel = 'service.kubernetes.io/headless';
