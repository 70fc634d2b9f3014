/**
 * A pod's sandbox and containers as the container runtime takes them: pure translations of the pod
 * spec, following upstream's kuberuntime (`generatePodSandboxConfig`, `generateContainerConfig`) and
 * kubelet DNS configurer (`pkg/kubelet/network/dns`). Environment values and mounts are resolved by
 * `env.ts` and `volumes.ts` (they do I/O) and handed in.
 */

import type { Container, Pod, ResourceList } from '../../shared/api/core.js';
import { milliValue, value } from '../../shared/api/quantity.js';
import type { ContainerKind, ContainerSpec, Mount, PortMapping, SandboxSpec } from '../runtime/runtime.js';

// The wire fields the kubelet reads that shared/api/core.ts does not carry (core.ts is not ours to
// edit): each optional as the API allows.

export interface KeyToPath {
  key: string;
  path: string;
  mode?: number;
}

export interface ObjectFieldSelector {
  fieldPath: string;
  apiVersion?: string;
}

export interface ResourceFieldSelector {
  resource: string;
  containerName?: string;
  divisor?: string | number;
}

export interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: {
    configMapKeyRef?: { name: string; key: string; optional?: boolean };
    secretKeyRef?: { name: string; key: string; optional?: boolean };
    fieldRef?: ObjectFieldSelector;
    resourceFieldRef?: ResourceFieldSelector;
  };
}

export interface EnvFromSource {
  prefix?: string;
  configMapRef?: { name: string; optional?: boolean };
  secretRef?: { name: string; optional?: boolean };
}

export interface VolumeMount {
  name: string;
  mountPath: string;
  subPath?: string;
  subPathExpr?: string;
  readOnly?: boolean;
}

export interface Capabilities {
  add?: string[];
  drop?: string[];
}

export interface SecurityContext {
  runAsUser?: number;
  runAsGroup?: number;
  privileged?: boolean;
  readOnlyRootFilesystem?: boolean;
  capabilities?: Capabilities;
}

/** A container with the fields the kubelet reads. */
export interface KubeletContainer extends Container {
  command?: string[];
  args?: string[];
  workingDir?: string;
  env?: EnvVar[];
  envFrom?: EnvFromSource[];
  volumeMounts?: VolumeMount[];
  securityContext?: SecurityContext;
  stdin?: boolean;
  tty?: boolean;
}

export type DNSPolicy = 'ClusterFirst' | 'ClusterFirstWithHostNet' | 'Default' | 'None';

export interface PodDNSConfig {
  nameservers?: string[];
  searches?: string[];
  options?: { name: string; value?: string }[];
}

/** The pod spec fields the kubelet reads beyond core.ts's `PodSpec`. */
export interface KubeletPodSpec {
  hostname?: string;
  dnsPolicy?: DNSPolicy;
  dnsConfig?: PodDNSConfig;
  securityContext?: { runAsUser?: number; runAsGroup?: number };
  serviceAccountName?: string;
  containers: KubeletContainer[];
  initContainers?: KubeletContainer[];
}

export function kubeletSpec(pod: Pod): KubeletPodSpec {
  return pod.spec as KubeletPodSpec;
}

export interface ClusterDNS {
  /** The cluster DNS service's addresses (kubelet `--cluster-dns`). */
  clusterDNS: string[];
  /** kubelet `--cluster-domain`, e.g. `cluster.local`. */
  clusterDomain: string;
  /** The node's own resolv.conf search domains, appended after the cluster's for ClusterFirst. */
  hostSearches?: string[];
}

/** Upstream's `validation.MaxDNSSearchPaths`: the kubelet drops search domains beyond it. */
const maxSearches = 32;
/** Linux's hostname limit; upstream `truncatePodHostnameIfNeeded`. */
const maxHostnameLength = 63;

export function sandboxSpec(pod: Pod, dns: ClusterDNS): SandboxSpec {
  const spec = kubeletSpec(pod);
  const hostNetwork = pod.spec.hostNetwork === true;
  const resolved = podDNS(pod, dns);
  return {
    podUid: pod.metadata.uid ?? '',
    namespace: pod.metadata.namespace ?? 'default',
    name: pod.metadata.name,
    hostname: podHostname(pod.metadata.name, spec.hostname),
    ...(resolved ? { dns: resolved } : {}),
    ports: hostPorts(spec.containers),
    ...(hostNetwork ? { hostNetwork: true } : {}),
  };
}

/** `spec.hostname` or the pod's name, cut to 63 characters without a trailing `-` or `.`. */
export function podHostname(podName: string, hostname: string | undefined): string {
  const name = hostname || podName;
  if (name.length <= maxHostnameLength) return name;
  return name.slice(0, maxHostnameLength).replace(/[-.]+$/, '');
}

/**
 * The host-port mappings of the pod's (regular, as upstream) containers. SCTP has no mapping in the
 * runtime and is left out; identical mappings are published once.
 */
export function hostPorts(containers: readonly Container[]): PortMapping[] {
  const ports: PortMapping[] = [];
  const seen = new Set<string>();
  for (const container of containers) {
    for (const port of container.ports ?? []) {
      if (!port.hostPort) continue;
      const protocol = port.protocol ?? 'TCP';
      if (protocol === 'SCTP') continue;
      const key = `${protocol}/${port.hostIP ?? ''}/${port.hostPort}/${port.containerPort}`;
      if (seen.has(key)) continue;
      seen.add(key);
      ports.push({
        containerPort: port.containerPort,
        hostPort: port.hostPort,
        protocol,
        ...(port.hostIP ? { hostIP: port.hostIP } : {}),
      });
    }
  }
  return ports;
}

/**
 * The pod's resolver configuration, or `undefined` to keep the node's own (Docker then copies the
 * host's resolv.conf, which is upstream's `Default` policy).
 *
 * Upstream starts `Default` from the host's resolv.conf and appends `dnsConfig` to it. The kubelet
 * here does not read the host's nameservers; it hands `dnsConfig`'s nameservers alone, and an empty
 * server list, which the Docker Engine API reads as "keep the host's". So `Default` + `dnsConfig`
 * nameservers replaces the host's servers where upstream would add to them.
 */
export function podDNS(pod: Pod, cluster: ClusterDNS): SandboxSpec['dns'] {
  const spec = kubeletSpec(pod);
  const policy = effectivePolicy(spec.dnsPolicy, pod.spec.hostNetwork === true, cluster);
  let base: { servers: string[]; searches: string[]; options: string[] } | undefined;
  if (policy === 'cluster') {
    base = {
      servers: [...cluster.clusterDNS],
      searches: clusterSearches(pod.metadata.namespace ?? 'default', cluster),
      options: ['ndots:5'],
    };
  } else if (policy === 'none') {
    base = { servers: [], searches: [], options: [] };
  }
  const extra = spec.dnsConfig;
  if (!extra) return base;
  const start = base ?? { servers: [], searches: [...(cluster.hostSearches ?? [])], options: [] };
  return {
    servers: unique([...start.servers, ...(extra.nameservers ?? [])]),
    searches: unique([...start.searches, ...(extra.searches ?? [])]).slice(0, maxSearches),
    options: mergeOptions(start.options, extra.options ?? []),
  };
}

/** Upstream `getPodDNSType`, plus its fall-back to the host's DNS when no cluster DNS is configured. */
function effectivePolicy(
  policy: DNSPolicy | undefined,
  hostNetwork: boolean,
  cluster: ClusterDNS,
): 'cluster' | 'host' | 'none' {
  switch (policy) {
    case 'None':
      return 'none';
    case 'Default':
      return 'host';
    case 'ClusterFirstWithHostNet':
      return cluster.clusterDNS.length > 0 ? 'cluster' : 'host';
    default:
      // ClusterFirst (the API's default): host-network pods use the node's resolver.
      return !hostNetwork && cluster.clusterDNS.length > 0 ? 'cluster' : 'host';
  }
}

/** `<ns>.svc.<domain> svc.<domain> <domain>`, then the node's own search domains. */
function clusterSearches(namespace: string, cluster: ClusterDNS): string[] {
  const host = cluster.hostSearches ?? [];
  if (!cluster.clusterDomain) return unique(host).slice(0, maxSearches);
  const domain = cluster.clusterDomain;
  return unique([`${namespace}.svc.${domain}`, `svc.${domain}`, domain, ...host]).slice(0, maxSearches);
}

/** Upstream `mergeDNSOptions`: options by name, a pod's option replacing an earlier one of its name. */
function mergeOptions(existing: string[], added: { name: string; value?: string }[]): string[] {
  const byName = new Map<string, string>();
  for (const option of existing) byName.set(option.split(':')[0] ?? option, option);
  for (const option of added) {
    byName.set(option.name, option.value !== undefined ? `${option.name}:${option.value}` : option.name);
  }
  return [...byName.values()];
}

function unique(values: string[]): string[] {
  return [...new Set(values)];
}

export interface ResolvedContainer {
  env: { name: string; value: string }[];
  mounts: Mount[];
}

export function containerSpec(
  pod: Pod,
  container: KubeletContainer,
  kind: ContainerKind,
  restartCount: number,
  resolved: ResolvedContainer,
): ContainerSpec {
  const env = new Map(resolved.env.map((e) => [e.name, e.value]));
  const security = securityOf(kubeletSpec(pod).securityContext, container.securityContext);
  return {
    podUid: pod.metadata.uid ?? '',
    name: container.name,
    kind,
    restartCount,
    image: container.image ?? '',
    ...(container.command ? { command: container.command.map((c) => expandEnv(c, env)) } : {}),
    ...(container.args ? { args: container.args.map((a) => expandEnv(a, env)) } : {}),
    env: resolved.env,
    ...(container.workingDir ? { workingDir: container.workingDir } : {}),
    mounts: resolved.mounts,
    resources: resourcesOf(container.resources),
    ...(security ? { security } : {}),
    ...(container.stdin ? { stdin: true } : {}),
    ...(container.tty ? { tty: true } : {}),
  };
}

/**
 * Limits and the CPU request in the runtime's units. An unset request takes the limit, as the API's
 * defaulting does upstream; a quantity that does not parse (the apiserver validated them) is left out.
 */
export function resourcesOf(resources: { requests?: ResourceList; limits?: ResourceList } | undefined) {
  const limits = resources?.limits ?? {};
  const requests = resources?.requests ?? {};
  const cpuLimit = quantity(limits.cpu, milliValue);
  const memoryLimit = quantity(limits.memory, value);
  const cpuRequest = quantity(requests.cpu ?? limits.cpu, milliValue);
  return {
    ...(cpuLimit !== undefined ? { cpuMilliLimit: cpuLimit } : {}),
    ...(memoryLimit !== undefined ? { memoryLimitBytes: memoryLimit } : {}),
    ...(cpuRequest !== undefined ? { cpuMilliRequest: cpuRequest } : {}),
  };
}

function quantity(text: string | undefined, parse: (text: string) => number | undefined) {
  return text === undefined ? undefined : parse(String(text));
}

/**
 * Upstream `determineEffectiveSecurityContext`: the pod's runAsUser and runAsGroup are defaults the
 * container's own override; privilege, the read-only root and capabilities are the container's.
 */
export function securityOf(
  podContext: { runAsUser?: number; runAsGroup?: number } | undefined,
  context: SecurityContext | undefined,
): ContainerSpec['security'] {
  const runAsUser = context?.runAsUser ?? podContext?.runAsUser;
  const runAsGroup = context?.runAsGroup ?? podContext?.runAsGroup;
  const security: NonNullable<ContainerSpec['security']> = {
    ...(runAsUser !== undefined ? { runAsUser } : {}),
    ...(runAsGroup !== undefined ? { runAsGroup } : {}),
    ...(context?.privileged !== undefined ? { privileged: context.privileged } : {}),
    ...(context?.readOnlyRootFilesystem !== undefined
      ? { readOnlyRootFilesystem: context.readOnlyRootFilesystem }
      : {}),
    ...(context?.capabilities?.add?.length ? { capAdd: context.capabilities.add } : {}),
    ...(context?.capabilities?.drop?.length ? { capDrop: context.capabilities.drop } : {}),
  };
  return Object.keys(security).length > 0 ? security : undefined;
}

/**
 * Kubernetes' `$(VAR)` expansion (k8s.io/kubernetes third_party/forked/golang/expansion): `$(VAR)` is
 * replaced by the variable's value when it is defined and kept as written when not; `$$` is an escaped
 * `$` (so `$$(VAR)` gives `$(VAR)`); a `$` before anything else, or an unclosed `$(`, stays as is.
 */
export function expandEnv(input: string, env: ReadonlyMap<string, string> | Record<string, string>): string {
  const lookup =
    env instanceof Map
      ? (name: string) => env.get(name)
      : (name: string) => (Object.hasOwn(env, name) ? (env as Record<string, string>)[name] : undefined);
  let output = '';
  let checkpoint = 0;
  for (let cursor = 0; cursor < input.length; cursor++) {
    if (input[cursor] !== '$' || cursor + 1 >= input.length) continue;
    output += input.slice(checkpoint, cursor);
    const next = input[cursor + 1];
    let advance = 1;
    if (next === '$') {
      output += '$';
    } else if (next === '(') {
      const close = input.indexOf(')', cursor + 2);
      if (close < 0) {
        output += '$(';
      } else {
        const name = input.slice(cursor + 2, close);
        output += lookup(name) ?? `$(${name})`;
        advance = close - cursor;
      }
    } else {
      output += `$${next}`;
    }
    cursor += advance;
    checkpoint = cursor + 1;
  }
  return output + input.slice(checkpoint);
}
