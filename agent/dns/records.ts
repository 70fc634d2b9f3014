/**
 * The cluster DNS zone as a pure function of Services and EndpointSlices, following the Kubernetes
 * DNS specification (https://github.com/kubernetes/dns/blob/master/docs/specification.md):
 *
 *   <svc>.<ns>.svc.<zone>                  A: the ClusterIP; headless: every ready endpoint IP
 *   <host>.<svc>.<ns>.svc.<zone>           A: a headless service's endpoint, by hostname or a-b-c-d
 *   _<port>._<proto>.<svc>.<ns>.svc.<zone> SRV: per named port; headless: one per ready endpoint
 *
 * Names that only lie on the way to records (`svc.<zone>`, `<ns>.svc.<zone>`) exist without
 * records, so they answer NODATA rather than NXDOMAIN. ExternalName services are left out (no CNAME).
 */
import type { Service } from '../../shared/api/core.js';
import { type EndpointSlice, groupSlices, isReadyEndpoint } from '../proxy/rules.js';

export interface SrvTarget {
  priority: number;
  weight: number;
  port: number;
  target: string;
}

export interface DnsEntry {
  a: string[];
  srv: SrvTarget[];
}

/** Lower-case fully qualified names without the trailing dot. */
export type DnsTable = ReadonlyMap<string, DnsEntry>;

export function buildDnsTable(
  services: readonly Service[],
  slices: readonly EndpointSlice[],
  zone = 'cluster.local',
): DnsTable {
  const table = new Map<string, DnsEntry>();
  const entry = (name: string): DnsEntry => {
    const key = name.toLowerCase();
    let found = table.get(key);
    if (!found) {
      found = { a: [], srv: [] };
      table.set(key, found);
    }
    return found;
  };
  entry(zone);
  entry(`svc.${zone}`);
  const slicesOf = groupSlices(slices);

  for (const service of services) {
    const spec = service.spec;
    if (!spec || spec.type === 'ExternalName') continue;
    const namespace = service.metadata.namespace ?? 'default';
    const name = `${service.metadata.name}.${namespace}.svc.${zone}`;
    entry(`${namespace}.svc.${zone}`);
    const self = entry(name);
    const headless = spec.clusterIP === 'None';
    if (!headless) {
      if (spec.clusterIP) self.a.push(spec.clusterIP);
      for (const port of spec.ports ?? []) {
        if (!port.name) continue;
        const srv = entry(`_${port.name}._${(port.protocol ?? 'TCP').toLowerCase()}.${name}`);
        srv.srv.push({ priority: 0, weight: 100, port: port.port, target: name });
      }
      continue;
    }
    for (const slice of slicesOf.get(`${namespace}/${service.metadata.name}`) ?? []) {
      if ((slice.addressType ?? 'IPv4') !== 'IPv4') continue;
      for (const endpoint of slice.endpoints ?? []) {
        const ip = endpoint.addresses?.[0];
        if (!ip || !isReadyEndpoint(endpoint)) continue;
        const host = `${endpoint.hostname ?? ip.replaceAll('.', '-')}.${name}`;
        if (!self.a.includes(ip)) self.a.push(ip);
        const own = entry(host);
        if (!own.a.includes(ip)) own.a.push(ip);
        for (const port of slice.ports ?? []) {
          if (!port.name || port.port === undefined) continue;
          const srv = entry(`_${port.name}._${(port.protocol ?? 'TCP').toLowerCase()}.${name}`);
          srv.srv.push({ priority: 0, weight: 100, port: port.port, target: host });
        }
      }
    }
    self.a.sort();
  }
  return table;
}
