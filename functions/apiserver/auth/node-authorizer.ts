/**
 * What a node's own credential may do, as kube-apiserver's Node authorizer and NodeRestriction
 * admission decide it: a kubelet (user `system:node:<name>`, group `system:nodes`) may change only its
 * own Node and Lease and the pods bound to it, and read only the Secrets and ConfigMaps (and request
 * tokens only for the ServiceAccounts) its pods use. It may read pods, nodes and services (to run pods
 * and proxy services) and write Events. Anything else gets no opinion here, and so is forbidden unless
 * RBAC grants it.
 *
 * Upstream keeps a graph of pods, secrets and nodes in memory; here the pods of one namespace bound to
 * the node are read when needed (one query), which is what a Lambda without a watch can do.
 */
import type { Pod } from '../../../shared/api/core.js';
import { type Authorization, type Authorizer, Decision, type RequestAttributes } from './types.js';

export const nodesGroup = 'system:nodes';
const nodeUserPrefix = 'system:node:';

/** The node a user is the kubelet of, or undefined for every other user. */
export function nodeOf(user: { name: string; groups: string[] }): string | undefined {
  if (!user.groups.includes(nodesGroup) || !user.name.startsWith(nodeUserPrefix)) return undefined;
  const name = user.name.slice(nodeUserPrefix.length);
  return name === '' ? undefined : name;
}

export interface NodeGraph {
  /** The pod, or undefined if there is none. */
  pod(namespace: string, name: string): Promise<Pod | undefined>;
  /** The pods of a namespace bound to a node. */
  podsOn(node: string, namespace: string): Promise<Pod[]>;
}

/** The Secrets, ConfigMaps and the ServiceAccount a pod uses (volumes, projected sources, env, pull secrets). */
export function podReferences(pod: Pod): {
  secrets: Set<string>;
  configMaps: Set<string>;
  serviceAccount: string;
} {
  const secrets = new Set<string>();
  const configMaps = new Set<string>();
  const spec = pod.spec as Pod['spec'] & Record<string, unknown>;
  type Named = { name?: unknown } | undefined;
  const add = (set: Set<string>, ref: Named) => {
    if (typeof ref?.name === 'string' && ref.name !== '') set.add(ref.name);
  };
  for (const ref of (spec.imagePullSecrets as Named[] | undefined) ?? []) add(secrets, ref);
  type Source = Record<string, Record<string, unknown> | undefined>;
  for (const volume of (spec.volumes as Source[] | undefined) ?? []) {
    add(secrets, volume.secret ? { name: volume.secret.secretName } : undefined);
    add(configMaps, volume.configMap as Named);
    const sources = (volume.projected?.sources as Source[] | undefined) ?? [];
    for (const source of sources) {
      add(secrets, source.secret as Named);
      add(configMaps, source.configMap as Named);
    }
  }
  for (const container of [...spec.containers, ...(spec.initContainers ?? [])] as Record<string, unknown>[]) {
    for (const from of (container.envFrom as Source[] | undefined) ?? []) {
      add(secrets, from.secretRef as Named);
      add(configMaps, from.configMapRef as Named);
    }
    for (const env of (container.env as { valueFrom?: Source }[] | undefined) ?? []) {
      add(secrets, env.valueFrom?.secretKeyRef as Named);
      add(configMaps, env.valueFrom?.configMapKeyRef as Named);
    }
  }
  const serviceAccount =
    typeof spec.serviceAccountName === 'string' && spec.serviceAccountName !== ''
      ? spec.serviceAccountName
      : 'default';
  return { secrets, configMaps, serviceAccount };
}

const reads = new Set(['get', 'list', 'watch']);
const allow = (reason: string): Authorization => ({ decision: Decision.Allow, reason });
const noOpinion: Authorization = { decision: Decision.NoOpinion, reason: '' };

export function createNodeAuthorizer(graph: NodeGraph): Authorizer {
  return async (attributes) => {
    const node = nodeOf(attributes.user);
    if (node === undefined || !attributes.resourceRequest) return noOpinion;
    const decide = await decision(node, attributes, graph);
    return decide ? allow(`node ${node}: ${decide}`) : noOpinion;
  };
}

/** Why the node may do this, or undefined. */
async function decision(node: string, a: RequestAttributes, graph: NodeGraph): Promise<string | undefined> {
  const { verb, apiGroup, resource, subresource, namespace, name } = a;
  const core = apiGroup === '';
  if (core && resource === 'nodes') {
    if (reads.has(verb) && subresource === '') return 'reads nodes';
    // Its own Node only (create names the node in the body: NodeRestriction admission checks it).
    if (verb === 'create' && subresource === '') return 'registers itself';
    if (['update', 'patch'].includes(verb) && name === node && ['', 'status'].includes(subresource))
      return 'updates its own node';
    return undefined;
  }
  if (apiGroup === 'coordination.k8s.io' && resource === 'leases' && namespace === 'kube-node-lease') {
    if (verb === 'create' || (name === node && ['get', 'update', 'patch', 'delete'].includes(verb)))
      return 'renews its own lease';
    return undefined;
  }
  if (core && resource === 'pods') {
    if (reads.has(verb) && subresource === '') return 'reads pods';
    if (
      (['update', 'patch'].includes(verb) && subresource === 'status') ||
      (verb === 'delete' && subresource === '')
    ) {
      const pod = await graph.pod(namespace, name);
      return pod?.spec.nodeName === node ? 'a pod bound to it' : undefined;
    }
    return undefined;
  }
  if (core && (resource === 'secrets' || resource === 'configmaps') && verb === 'get' && subresource === '') {
    const key = resource === 'secrets' ? 'secrets' : 'configMaps';
    const pods = await graph.podsOn(node, namespace);
    return pods.some((pod) => podReferences(pod)[key].has(name)) ? `used by a pod bound to it` : undefined;
  }
  if (core && resource === 'serviceaccounts' && subresource === 'token' && verb === 'create') {
    const pods = await graph.podsOn(node, namespace);
    return pods.some((pod) => podReferences(pod).serviceAccount === name)
      ? 'the service account of a pod bound to it'
      : undefined;
  }
  if (reads.has(verb) && subresource === '') {
    const proxied =
      (core && (resource === 'services' || resource === 'endpoints')) ||
      (apiGroup === 'discovery.k8s.io' && resource === 'endpointslices');
    if (proxied) return 'proxies services';
  }
  // The event recorder reads an event back to count a repeat of it.
  if (
    (core || apiGroup === 'events.k8s.io') &&
    resource === 'events' &&
    ['create', 'get', 'patch', 'update'].includes(verb)
  )
    return 'records events';
  return undefined;
}
