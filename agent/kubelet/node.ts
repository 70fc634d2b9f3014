import { setTimeout as delay } from 'node:timers/promises';
import type { Lease, Node, NodeStatus } from '../../shared/api/core.js';
import { hasCode } from '../../shared/api/errors.js';
import { resourceType } from '../../shared/api/resources.js';
import type { ApiClient } from '../../shared/client/client.js';
import type { MachineFacts } from './machine.js';
import { type NodeIdentity, nodeObject, nodeStatus, statusChanged } from './node-status.js';

const nodes = resourceType('nodes');
const leases = resourceType('leases.coordination.k8s.io');
const leaseNamespace = 'kube-node-lease';

export interface HeartbeatOptions {
  client: ApiClient;
  identity: NodeIdentity;
  readFacts: () => Promise<MachineFacts>;
  /** Lease renewal (upstream: 10 s, with a 40 s lease). */
  leaseIntervalMs?: number;
  /** How often the status is computed and posted if it changed (upstream: 10 s). */
  statusIntervalMs?: number;
  /** The status is posted at least this often even if nothing changed (upstream: 5 min). */
  statusReportMs?: number;
  now?: () => Date;
  onError?: (error: unknown) => void;
}

export interface Heartbeats {
  /** The Node as last written. */
  node(): Node;
  stop(): Promise<void>;
}

/**
 * Creates the Node, or takes over the one that exists (a restarted agent, or a node that came back):
 * its labels are ours again, its spec is left as it is (pod CIDR and provider ID are immutable).
 */
export async function registerNode(
  client: ApiClient,
  identity: NodeIdentity,
  facts: MachineFacts,
): Promise<Node> {
  const wanted = nodeObject(identity, facts);
  try {
    return await client.create<Node>(nodes, wanted);
  } catch (error) {
    if (!hasCode(error, 409)) throw error;
  }
  for (;;) {
    const existing = await client.get<Node>(nodes, undefined, identity.name);
    const labels = { ...existing.metadata.labels, ...wanted.metadata.labels };
    if (JSON.stringify(labels) === JSON.stringify(existing.metadata.labels)) return existing;
    try {
      return await client.update<Node>(nodes, { ...existing, metadata: { ...existing.metadata, labels } });
    } catch (error) {
      if (!hasCode(error, 409)) throw error;
    }
  }
}

/** Writes the node's status (again on a conflict, from the node as it is now); returns the node written. */
async function postStatus(
  client: ApiClient,
  name: string,
  status: (previous?: NodeStatus) => NodeStatus,
  known?: Node,
): Promise<Node> {
  let node = known ?? (await client.get<Node>(nodes, undefined, name));
  for (let attempt = 0; ; attempt++) {
    try {
      return await client.update<Node>(nodes, { ...node, status: status(node.status) }, 'status');
    } catch (error) {
      if (!hasCode(error, 409) || attempt >= 5) throw error;
      node = await client.get<Node>(nodes, undefined, name);
    }
  }
}

/** Renews the node's Lease in kube-node-lease, creating it (owned by the Node) if it is missing. */
async function renewLease(client: ApiClient, node: Node, now: Date, durationSeconds: number): Promise<void> {
  const name = node.metadata.name;
  const spec = { holderIdentity: name, leaseDurationSeconds: durationSeconds, renewTime: now.toISOString() };
  const lease = await client.find<Lease>(leases, leaseNamespace, name);
  if (lease) {
    await client.update(leases, { ...lease, spec: { ...lease.spec, ...spec } });
    return;
  }
  await client.create(leases, {
    apiVersion: 'coordination.k8s.io/v1',
    kind: 'Lease',
    metadata: {
      name,
      namespace: leaseNamespace,
      ownerReferences: [{ apiVersion: 'v1', kind: 'Node', name, uid: node.metadata.uid as string }],
    },
    spec,
  });
}

/**
 * Registers the node, then keeps it alive as the kubelet does: the Lease renewed every 10 s (what the
 * node lifecycle controller watches), and the status (capacity, pressure, Ready) recomputed every 10 s
 * and posted when it changed, or at least every `statusReportMs`. A failed beat is reported and tried
 * again at the next interval; a Node deleted under the agent is registered again.
 */
export async function startHeartbeats(options: HeartbeatOptions): Promise<Heartbeats> {
  const { client, identity } = options;
  const now = options.now ?? (() => new Date());
  const onError = options.onError ?? ((error: unknown) => console.error('heartbeat failed', error));
  const leaseIntervalMs = options.leaseIntervalMs ?? 10_000;
  const statusIntervalMs = options.statusIntervalMs ?? 10_000;
  const statusReportMs = options.statusReportMs ?? 60_000;
  const leaseSeconds = Math.max(1, Math.round((leaseIntervalMs * 4) / 1000));
  const stopped = new AbortController();

  const register = async () => {
    const facts = await options.readFacts();
    const registered = await registerNode(client, identity, facts);
    return postStatus(
      client,
      identity.name,
      (previous) => nodeStatus(identity, facts, now(), previous),
      registered,
    );
  };
  let node = await register();
  let postedAt = Date.now();
  await renewLease(client, node, now(), leaseSeconds);

  const every = async (intervalMs: number, beat: () => Promise<void>) => {
    while (!stopped.signal.aborted) {
      await delay(intervalMs, undefined, { signal: stopped.signal }).catch(() => undefined);
      if (stopped.signal.aborted) return;
      try {
        await beat().catch(async (error: unknown) => {
          if (!hasCode(error, 404)) throw error;
          node = await register(); // the Node was deleted under us
        });
      } catch (error) {
        onError(error);
      }
    }
  };
  const loops = [
    every(leaseIntervalMs, () => renewLease(client, node, now(), leaseSeconds)),
    every(statusIntervalMs, async () => {
      const facts = await options.readFacts();
      const current = await client.get<Node>(nodes, undefined, identity.name);
      const next = nodeStatus(identity, facts, now(), current.status);
      if (!statusChanged(current.status, next) && Date.now() - postedAt < statusReportMs) return;
      node = await postStatus(
        client,
        identity.name,
        (previous) => nodeStatus(identity, facts, now(), previous),
        current,
      );
      postedAt = Date.now();
    }),
  ];
  return {
    node: () => node,
    stop: async () => {
      stopped.abort();
      await Promise.all(loops);
    },
  };
}
