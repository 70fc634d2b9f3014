/**
 * A container's environment, resolved as upstream's `Kubelet.makeEnvironmentVariables` does: `envFrom`
 * sources first, then `env` (which wins on a duplicate name), values `$(VAR)`-expanded against what
 * came before, `valueFrom` read from ConfigMaps, Secrets, the pod itself and the container's resources.
 *
 * Left out: the service-link variables (`enableServiceLinks`, `FOO_SERVICE_HOST` and the Docker-link
 * style `FOO_PORT_80_TCP…` for every Service in the namespace, plus the master service's). Upstream
 * adds them by default; nothing here lists Services for them.
 */

import type { Node, Pod, ResourceList } from '../../shared/api/core.js';
import { milliValue, value } from '../../shared/api/quantity.js';
import { resourceType } from '../../shared/api/resources.js';
import type { KubernetesObject } from '../../shared/api/types.js';
import type { ApiClient } from '../../shared/client/client.js';
import {
  type EnvVar,
  expandEnv,
  type KubeletContainer,
  kubeletSpec,
  type ObjectFieldSelector,
  type ResourceFieldSelector,
} from './container-spec.js';

const configMaps = resourceType('configmaps');
const secrets = resourceType('secrets');
const nodes = resourceType('nodes');

/**
 * A container's configuration cannot be made: a missing ConfigMap, Secret or key, an unsupported
 * field, a bad volume mount. The pod's container waits with reason `CreateContainerConfigError` and
 * this message, as upstream's.
 */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  readonly reason = 'CreateContainerConfigError';
}

export interface ConfigMap extends KubernetesObject {
  data?: Record<string, string>;
  /** base64 on the wire. */
  binaryData?: Record<string, string>;
}

export interface Secret extends KubernetesObject {
  /** base64 on the wire. */
  data?: Record<string, string>;
  type?: string;
}

/** The ConfigMap, or `undefined` when it does not exist. */
export async function findConfigMap(client: ApiClient, namespace: string, name: string) {
  return client.find<ConfigMap>(configMaps, namespace, name);
}

export async function findSecret(client: ApiClient, namespace: string, name: string) {
  return client.find<Secret>(secrets, namespace, name);
}

/** The kubelet's messages for a missing object (its caches name the resource in the singular). */
export const notFound = (kind: 'configmap' | 'secret', name: string) =>
  new ConfigError(`${kind} "${name}" not found`);

/** A Secret's values, decoded from base64 (the apiserver folds `stringData` into `data` on write). */
export function secretValues(secret: Secret): Map<string, Buffer> {
  return new Map(Object.entries(secret.data ?? {}).map(([key, text]) => [key, Buffer.from(text, 'base64')]));
}

/** Upstream `IsEnvVarName` (the strict C-identifier-ish rule; the relaxed one is behind a feature gate). */
const envVarName = /^[-._a-zA-Z][-._a-zA-Z0-9]*$/;

export async function resolveEnv(
  client: ApiClient,
  pod: Pod,
  container: KubeletContainer,
  podIP: string,
  nodeName: string,
  hostIP: string,
): Promise<{ name: string; value: string }[]> {
  const namespace = pod.metadata.namespace ?? 'default';
  const env = new Map<string, string>();
  // One read per object per container, as upstream's per-call maps.
  const maps = new Map<string, ConfigMap | undefined>();
  const secretCache = new Map<string, Secret | undefined>();
  const configMap = async (name: string) => {
    if (!maps.has(name)) maps.set(name, await findConfigMap(client, namespace, name));
    return maps.get(name);
  };
  const secret = async (name: string) => {
    if (!secretCache.has(name)) secretCache.set(name, await findSecret(client, namespace, name));
    return secretCache.get(name);
  };

  for (const source of container.envFrom ?? []) {
    const prefix = source.prefix ?? '';
    if (source.configMapRef) {
      const ref = source.configMapRef;
      const object = await configMap(ref.name);
      if (!object) {
        if (ref.optional) continue;
        throw notFound('configmap', ref.name);
      }
      for (const [key, text] of Object.entries(object.data ?? {})) {
        // Upstream skips invalid names (and records an event); so does this.
        if (envVarName.test(prefix + key)) env.set(prefix + key, text);
      }
    } else if (source.secretRef) {
      const ref = source.secretRef;
      const object = await secret(ref.name);
      if (!object) {
        if (ref.optional) continue;
        throw notFound('secret', ref.name);
      }
      for (const [key, bytes] of secretValues(object)) {
        if (envVarName.test(prefix + key)) env.set(prefix + key, bytes.toString('utf8'));
      }
    }
  }

  let node: Node | undefined;
  const allocatable = async (): Promise<ResourceList> => {
    node ??= await client.find<Node>(nodes, undefined, nodeName);
    return node?.status?.allocatable ?? {};
  };

  for (const variable of container.env ?? []) {
    const resolved = await resolveValue(variable);
    if (resolved !== undefined) env.set(variable.name, resolved);
  }
  return [...env].map(([name, text]) => ({ name, value: text }));

  async function resolveValue(variable: EnvVar): Promise<string | undefined> {
    if (variable.value) return expandEnv(variable.value, env);
    const from = variable.valueFrom;
    if (!from) return '';
    if (from.configMapKeyRef) {
      const ref = from.configMapKeyRef;
      const object = await configMap(ref.name);
      if (!object) {
        if (ref.optional) return undefined;
        throw notFound('configmap', ref.name);
      }
      const text = object.data?.[ref.key];
      if (text === undefined) {
        if (ref.optional) return undefined;
        throw new ConfigError(`couldn't find key ${ref.key} in ConfigMap ${namespace}/${ref.name}`);
      }
      return text;
    }
    if (from.secretKeyRef) {
      const ref = from.secretKeyRef;
      const object = await secret(ref.name);
      if (!object) {
        if (ref.optional) return undefined;
        throw notFound('secret', ref.name);
      }
      const bytes = secretValues(object).get(ref.key);
      if (bytes === undefined) {
        if (ref.optional) return undefined;
        throw new ConfigError(`couldn't find key ${ref.key} in Secret ${namespace}/${ref.name}`);
      }
      return bytes.toString('utf8');
    }
    if (from.fieldRef) return podFieldValue(pod, from.fieldRef, { podIP, hostIP, nodeName });
    if (from.resourceFieldRef) {
      return containerResourceValue(pod, container, from.resourceFieldRef, await allocatable());
    }
    return '';
  }
}

/**
 * Upstream `podFieldSelectorRuntimeValue` and `fieldpath.ExtractFieldPathAsString`. `runtime` is
 * absent for downward API volumes, which may only name metadata.
 */
export function podFieldValue(
  pod: Pod,
  selector: ObjectFieldSelector,
  runtime?: { podIP: string; hostIP: string; nodeName: string },
): string {
  const path = selector.fieldPath;
  const metadata = pod.metadata;
  if (runtime) {
    switch (path) {
      case 'spec.nodeName':
        return pod.spec.nodeName ?? runtime.nodeName;
      case 'spec.serviceAccountName':
        return kubeletSpec(pod).serviceAccountName ?? '';
      case 'status.podIP':
      case 'status.podIPs':
        return runtime.podIP;
      case 'status.hostIP':
      case 'status.hostIPs':
        return runtime.hostIP;
    }
  }
  switch (path) {
    case 'metadata.name':
      return metadata.name;
    case 'metadata.namespace':
      return metadata.namespace ?? 'default';
    case 'metadata.uid':
      return metadata.uid ?? '';
    case 'metadata.labels':
      return formatMap(metadata.labels ?? {});
    case 'metadata.annotations':
      return formatMap(metadata.annotations ?? {});
  }
  const subscript = /^metadata\.(labels|annotations)\['(.*)'\]$/.exec(path);
  if (subscript) {
    const map = subscript[1] === 'labels' ? metadata.labels : metadata.annotations;
    return map?.[subscript[2] as string] ?? '';
  }
  throw new ConfigError(`unsupported fieldPath: ${path}`);
}

/** Upstream `fieldpath.FormatMap`: sorted `key="value"` lines (Go's %q, near enough JSON's quoting). */
function formatMap(map: Record<string, string>): string {
  return Object.keys(map)
    .sort()
    .map((key) => `${key}=${JSON.stringify(map[key])}`)
    .join('\n');
}

/**
 * Upstream `ExtractContainerResourceValue` over the pod as `defaultPodLimitsForDownwardAPI` sees it: an
 * unset limit is the node's allocatable amount, an unset request the limit, else 0. The value is
 * divided by the divisor (default 1) and rounded up.
 */
export function containerResourceValue(
  pod: Pod,
  container: KubeletContainer,
  selector: ResourceFieldSelector,
  allocatable: ResourceList,
): string {
  let target: KubeletContainer | undefined = container;
  if (selector.containerName) {
    const spec = kubeletSpec(pod);
    target = [...spec.containers, ...(spec.initContainers ?? [])].find(
      (c) => c.name === selector.containerName,
    );
    if (!target) throw new ConfigError(`container ${selector.containerName} not found`);
  }
  const [kind, resource] = selector.resource.split('.') as [string, string | undefined];
  if ((kind !== 'limits' && kind !== 'requests') || (resource !== 'cpu' && resource !== 'memory')) {
    throw new ConfigError(`unsupported container resource : ${selector.resource}`);
  }
  const limits = target.resources?.limits ?? {};
  const requests = target.resources?.requests ?? {};
  const limit = limits[resource] ?? allocatable[resource];
  const amount = kind === 'limits' ? limit : (requests[resource] ?? limits[resource] ?? '0');
  const divisor = selector.divisor === undefined ? '1' : String(selector.divisor);
  const parse = resource === 'cpu' ? milliValue : value;
  const numerator = parse(String(amount ?? '0')) ?? 0;
  let denominator = parse(divisor) ?? 1;
  if (denominator === 0) denominator = parse('1') ?? 1;
  return String(Math.ceil(numerator / denominator));
}

/**
 * Where in-cluster clients find the API server (client-go's InClusterConfig, client-node's
 * loadFromCluster): KUBERNETES_SERVICE_HOST and _PORT, as upstream's `kubernetes` Service gives every
 * container. Here they name the API server itself (the function URL on AWS). Variables the pod sets win.
 */
export function withApiServerEnv(
  env: { name: string; value: string }[],
  apiServer: string | undefined,
): { name: string; value: string }[] {
  if (!apiServer) return env;
  const url = new URL(apiServer);
  const port = url.port || (url.protocol === 'https:' ? '443' : '80');
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  const service = [
    { name: 'KUBERNETES_SERVICE_HOST', value: host },
    { name: 'KUBERNETES_SERVICE_PORT', value: port },
    { name: 'KUBERNETES_SERVICE_PORT_HTTPS', value: port },
  ];
  const named = new Set(env.map((e) => e.name));
  return [...service.filter((e) => !named.has(e.name)), ...env];
}
