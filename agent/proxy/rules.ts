/**
 * The service proxy's iptables rules as a pure function of Services and EndpointSlices: the input of
 * one `iptables-restore --noflush` for table `nat`, shaped like kube-proxy's iptables mode.
 *
 *   PREROUTING, OUTPUT → LMB-SERVICES: `-d <clusterIP> --dport <port>` → LMB-SVC-<hash> per service
 *     port, then `--dst-type LOCAL` → LMB-NODEPORTS: `--dport <nodePort>` → mark, LMB-SVC-<hash>.
 *   LMB-SVC-<hash>: one rule per ready endpoint, `-m statistic --probability 1/n, 1/(n-1), …, 1`
 *     → LMB-SEP-<hash>: mark hairpin traffic (`-s <endpoint>`), DNAT to `<ip>:<port>`.
 *   POSTROUTING → LMB-POSTROUTING: masquerade packets carrying mark 0x4000 (set in LMB-MARK-MASQ).
 *
 * Declaring a chain (`:NAME - [0:0]`) under --noflush creates or flushes it, so every restore rewrites
 * our chains whole and leaves everyone else's (Podman's NETAVARK-*, Docker's) alone. Chains of
 * services that are gone are declared (flushed) and then deleted (`-X`) in the same transaction.
 *
 * A service port without ready endpoints gets no rule: its ClusterIP is then routed like any other
 * address (upstream kube-proxy REJECTs it in the filter table instead, which is out of scope here).
 */
import { createHash } from 'node:crypto';
import type { Service, ServicePort } from '../../shared/api/core.js';
import type { KubernetesObject } from '../../shared/api/types.js';

/**
 * The fields of a discovery.k8s.io/v1 EndpointSlice the agent reads. shared/api/core.ts does not
 * carry the kind (the controllers' own shape lives in functions/, which the agent does not import),
 * so this is the wire shape with every field optional as the API allows.
 */
export interface EndpointSlice extends KubernetesObject {
  addressType?: string;
  endpoints?: {
    addresses?: string[];
    conditions?: { ready?: boolean; serving?: boolean; terminating?: boolean };
    hostname?: string;
    nodeName?: string;
  }[];
  ports?: { name?: string; port?: number; protocol?: string }[];
}

export const serviceNameLabel = 'kubernetes.io/service-name';
/** The mark kube-proxy uses for "masquerade this packet"; Podman's netavark uses 0x2000. */
export const masqueradeMark = '0x4000';
export const defaultPrefix = 'LMB';

export interface RuleOptions {
  /** Chain name prefix, at most 7 characters so that `<prefix>-SVC-<16 hex>` fits iptables' 28. */
  prefix?: string;
  /** Our chains currently in table nat (from `iptables-save -t nat`), so that stale ones go. */
  currentChains?: readonly string[];
  /** Pod CIDR of the whole cluster: traffic from outside it to a ClusterIP is masqueraded. */
  clusterCIDR?: string;
}

/** The base chains, always present. */
export function baseChains(prefix = defaultPrefix) {
  return {
    services: `${prefix}-SERVICES`,
    nodePorts: `${prefix}-NODEPORTS`,
    postrouting: `${prefix}-POSTROUTING`,
    markMasq: `${prefix}-MARK-MASQ`,
  };
}

/** Whether a chain of table nat is one of ours (base, per-service or per-endpoint chain). */
export function isOurChain(chain: string, prefix = defaultPrefix): boolean {
  return (
    Object.values(baseChains(prefix)).includes(chain) ||
    chain.startsWith(`${prefix}-SVC-`) ||
    chain.startsWith(`${prefix}-SEP-`)
  );
}

/** A resolved service port: where it listens and the ready endpoints behind it. */
export interface ServicePortRules {
  /** `namespace/name:portName` (portName may be empty), as in kube-proxy's comments. */
  id: string;
  protocol: string;
  clusterIP: string;
  port: number;
  nodePort?: number;
  /** `ip:port`, sorted, unique. */
  endpoints: string[];
  affinitySeconds?: number;
}

export function buildRules(
  services: readonly Service[],
  slices: readonly EndpointSlice[],
  options: RuleOptions = {},
): string {
  const prefix = options.prefix ?? defaultPrefix;
  if (prefix.length > 7) throw new Error(`chain prefix ${prefix} is longer than 7 characters`);
  const base = baseChains(prefix);
  const chains: string[] = Object.values(base);
  const rules: string[] = [];
  const portals: string[] = [];
  const nodePorts: string[] = [];

  for (const sp of servicePorts(services, slices)) {
    if (sp.endpoints.length === 0) continue;
    const svc = chainName(prefix, 'SVC', `${sp.id}/${sp.protocol}`);
    chains.push(svc);
    const proto = sp.protocol.toLowerCase();
    const match = `-p ${proto} -m ${proto}`;
    portals.push(
      `-A ${base.services} -d ${sp.clusterIP}/32 ${match} --dport ${sp.port} ${comment(`${sp.id} cluster IP`)} -j ${svc}`,
    );
    if (options.clusterCIDR) {
      rules.push(
        `-A ${svc} ! -s ${options.clusterCIDR} -d ${sp.clusterIP}/32 ${match} --dport ${sp.port} ${comment(`${sp.id} cluster IP`)} -j ${base.markMasq}`,
      );
    }
    if (sp.nodePort !== undefined) {
      const c = comment(`${sp.id} node port`);
      nodePorts.push(`-A ${base.nodePorts} ${match} --dport ${sp.nodePort} ${c} -j ${base.markMasq}`);
      nodePorts.push(`-A ${base.nodePorts} ${match} --dport ${sp.nodePort} ${c} -j ${svc}`);
    }
    const seps = sp.endpoints.map((endpoint) =>
      chainName(prefix, 'SEP', `${sp.id}/${sp.protocol}/${endpoint}`),
    );
    chains.push(...seps);
    if (sp.affinitySeconds !== undefined) {
      sp.endpoints.forEach((endpoint, i) => {
        rules.push(
          `-A ${svc} ${comment(`${sp.id} -> ${endpoint}`)} -m recent --name ${seps[i]} --mask 255.255.255.255 --rsource --rcheck --seconds ${sp.affinitySeconds} --reap -j ${seps[i]}`,
        );
      });
    }
    sp.endpoints.forEach((endpoint, i) => {
      const left = sp.endpoints.length - i;
      const statistic = left > 1 ? ` -m statistic --mode random --probability ${(1 / left).toFixed(10)}` : '';
      rules.push(`-A ${svc} ${comment(`${sp.id} -> ${endpoint}`)}${statistic} -j ${seps[i]}`);
    });
    sp.endpoints.forEach((endpoint, i) => {
      const sep = seps[i];
      const ip = endpoint.slice(0, endpoint.lastIndexOf(':'));
      const recent =
        sp.affinitySeconds !== undefined
          ? ` -m recent --name ${sep} --mask 255.255.255.255 --rsource --set`
          : '';
      rules.push(`-A ${sep} -s ${ip}/32 ${comment(sp.id)} -j ${base.markMasq}`);
      rules.push(`-A ${sep} ${match} ${comment(sp.id)}${recent} -j DNAT --to-destination ${endpoint}`);
    });
  }

  const wanted = new Set(chains);
  const stale = [...new Set(options.currentChains ?? [])]
    .filter((c) => !wanted.has(c) && (c.startsWith(`${prefix}-SVC-`) || c.startsWith(`${prefix}-SEP-`)))
    .sort();

  return [
    '*nat',
    ...[...chains, ...stale].map((c) => `:${c} - [0:0]`),
    ...portals,
    // Node ports last, as kube-proxy does; 127.0.0.0/8 would need route_localnet, so it is left out.
    `-A ${base.services} ! -d 127.0.0.0/8 -m addrtype --dst-type LOCAL -j ${base.nodePorts}`,
    ...nodePorts,
    `-A ${base.markMasq} -j MARK --or-mark ${masqueradeMark}`,
    `-A ${base.postrouting} -m mark ! --mark ${masqueradeMark}/${masqueradeMark} -j RETURN`,
    // Clear the mark so that a packet re-entering the stack (through a bridge) is not masqueraded twice.
    `-A ${base.postrouting} -j MARK --xor-mark ${masqueradeMark}`,
    `-A ${base.postrouting} ${comment('lambernetes service traffic requiring SNAT')} -j MASQUERADE`,
    ...rules,
    ...stale.map((c) => `-X ${c}`),
    'COMMIT',
    '',
  ].join('\n');
}

/**
 * Every port of every proxied service with its ready endpoints, sorted by id. Headless services,
 * ExternalName services and services without a ClusterIP yield nothing.
 */
export function servicePorts(
  services: readonly Service[],
  slices: readonly EndpointSlice[],
): ServicePortRules[] {
  const slicesOf = groupSlices(slices);
  const out: ServicePortRules[] = [];
  for (const service of services) {
    const spec = service.spec;
    const clusterIP = spec?.clusterIP;
    if (!spec || !clusterIP || clusterIP === 'None' || spec.type === 'ExternalName') continue;
    const namespace = service.metadata.namespace ?? 'default';
    const mine = slicesOf.get(`${namespace}/${service.metadata.name}`) ?? [];
    const affinitySeconds = affinityOf(service);
    for (const port of spec.ports ?? []) {
      const protocol = port.protocol ?? 'TCP';
      const sp: ServicePortRules = {
        id: `${namespace}/${service.metadata.name}:${port.name ?? ''}`,
        protocol,
        clusterIP,
        port: port.port,
        endpoints: readyEndpoints(port, protocol, mine),
      };
      if (port.nodePort && (spec.type === 'NodePort' || spec.type === 'LoadBalancer'))
        sp.nodePort = port.nodePort;
      if (affinitySeconds !== undefined) sp.affinitySeconds = affinitySeconds;
      out.push(sp);
    }
  }
  return out.sort((a, b) => compare(`${a.id}/${a.protocol}`, `${b.id}/${b.protocol}`));
}

/** Slices by `namespace/service` (their `kubernetes.io/service-name` label). */
export function groupSlices(slices: readonly EndpointSlice[]): Map<string, EndpointSlice[]> {
  const out = new Map<string, EndpointSlice[]>();
  for (const slice of slices) {
    const service = slice.metadata.labels?.[serviceNameLabel];
    if (!service) continue;
    const key = `${slice.metadata.namespace ?? 'default'}/${service}`;
    out.set(key, [...(out.get(key) ?? []), slice]);
  }
  return out;
}

/** An endpoint is ready unless its slice says otherwise (nil means ready, as upstream). */
export function isReadyEndpoint(endpoint: NonNullable<EndpointSlice['endpoints']>[number]): boolean {
  return endpoint.conditions?.ready !== false;
}

/**
 * `ip:port` of the ready IPv4 endpoints behind one service port. The slice's port of the same name
 * (the EndpointSlice controller names slice ports after service ports) carries the resolved target
 * port, named or numbered; a slice without it falls back to a numeric targetPort, else the port.
 */
function readyEndpoints(port: ServicePort, protocol: string, slices: readonly EndpointSlice[]): string[] {
  const out = new Set<string>();
  for (const slice of slices) {
    if ((slice.addressType ?? 'IPv4') !== 'IPv4') continue;
    const slicePort = slice.ports?.find(
      (p) => (p.name ?? '') === (port.name ?? '') && (p.protocol ?? 'TCP') === protocol,
    );
    const target =
      slicePort?.port ??
      (typeof port.targetPort === 'number' ? port.targetPort : port.targetPort ? undefined : port.port);
    if (target === undefined) continue;
    for (const endpoint of slice.endpoints ?? []) {
      if (!isReadyEndpoint(endpoint)) continue;
      const ip = endpoint.addresses?.[0];
      if (ip) out.add(`${ip}:${target}`);
    }
  }
  return [...out].sort(compare);
}

function affinityOf(service: Service): number | undefined {
  if (service.spec?.sessionAffinity !== 'ClientIP') return undefined;
  const config = service.spec.sessionAffinityConfig as { clientIP?: { timeoutSeconds?: number } } | undefined;
  return config?.clientIP?.timeoutSeconds ?? 10800;
}

/** `<prefix>-<kind>-<16 hex of sha256>`: stable across restarts and agents, like kube-proxy's names. */
export function chainName(prefix: string, kind: 'SVC' | 'SEP', key: string): string {
  const hash = createHash('sha256').update(key).digest('hex').slice(0, 16).toUpperCase();
  return `${prefix}-${kind}-${hash}`;
}

function comment(text: string): string {
  return `-m comment --comment "${text.replaceAll('"', "'")}"`;
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
