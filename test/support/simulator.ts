/**
 * A node SIMULATOR for tests, like KWOK: it registers fake Nodes, renews their Leases and plays the
 * kubelet's part for pods bound to them, all through the API over HTTPS. No containers run. It lets
 * the scheduler and controllers be tested before (and without) the real agent.
 *
 * Pods bound to a simulated node become Running and Ready at once (with an IP from the node's pod
 * CIDR). A pod whose restartPolicy is not Always finishes after `sim.lambernetes.io/run-ms`
 * (default: never) with exit code `sim.lambernetes.io/exit-code` (default 0). A pod being deleted is
 * removed, as the kubelet does after stopping its containers.
 */
import { setTimeout as delay } from 'node:timers/promises';
import type { Node, Pod } from '../../shared/api/core.js';
import { ApiError } from '../../shared/api/errors.js';
import { resourceType } from '../../shared/api/resources.js';
import { timestamp } from '../../shared/api/time.js';
import type { ApiClient } from '../../shared/client/client.js';

export interface SimulatedNode {
  name: string;
  cpu?: string;
  memory?: string;
  pods?: number;
  labels?: Record<string, string>;
  taints?: NonNullable<Node['spec']>['taints'];
}

export interface Simulator {
  /** Registers one more node. */
  addNode(node: SimulatedNode): Promise<void>;
  /** The node goes silent: no more Lease renewals, no more work on its pods (as if it lost power). */
  silence(name: string): void;
  stop(): Promise<void>;
}

const nodes = resourceType('nodes');
const leases = resourceType('leases.coordination.k8s.io');
const pods = resourceType('pods');

export async function startSimulator(
  client: ApiClient,
  initial: readonly SimulatedNode[],
  options: { leaseIntervalMs?: number } = {},
): Promise<Simulator> {
  const leaseIntervalMs = options.leaseIntervalMs ?? 2000;
  const live = new Map<string, { index: number }>();
  const finishing = new Set<string>();
  const stopped = new AbortController();
  let nextIndex = 0;

  const addNode = async (spec: SimulatedNode) => {
    const index = nextIndex++;
    const created = await client.create<Node>(nodes, {
      apiVersion: 'v1',
      kind: 'Node',
      metadata: {
        name: spec.name,
        labels: {
          'kubernetes.io/hostname': spec.name,
          'kubernetes.io/os': 'linux',
          'kubernetes.io/arch': 'arm64',
          type: 'simulated',
          ...spec.labels,
        },
      },
      spec: { podCIDR: `10.244.${index}.0/24`, ...(spec.taints ? { taints: spec.taints } : {}) },
    });
    const resources = {
      cpu: spec.cpu ?? '4',
      memory: spec.memory ?? '8Gi',
      pods: String(spec.pods ?? 110),
      'ephemeral-storage': '20Gi',
    };
    const now = timestamp(new Date());
    const condition = (type: string, status: string, reason: string) => ({
      type,
      status,
      reason,
      message: reason,
      lastHeartbeatTime: now,
      lastTransitionTime: now,
    });
    await client.update(
      nodes,
      {
        ...created,
        status: {
          capacity: resources,
          allocatable: resources,
          conditions: [
            condition('MemoryPressure', 'False', 'KubeletHasSufficientMemory'),
            condition('DiskPressure', 'False', 'KubeletHasNoDiskPressure'),
            condition('PIDPressure', 'False', 'KubeletHasSufficientPID'),
            condition('Ready', 'True', 'KubeletReady'),
          ],
          addresses: [
            { type: 'InternalIP', address: `10.0.0.${index + 10}` },
            { type: 'Hostname', address: spec.name },
          ],
          nodeInfo: {
            kubeletVersion: 'v1.32.0-simulated',
            containerRuntimeVersion: 'simulated://1',
            osImage: 'simulated',
            kernelVersion: '6.1',
            operatingSystem: 'linux',
            architecture: 'arm64',
          },
        },
      },
      'status',
    );
    await renewLease(spec.name);
    live.set(spec.name, { index });
  };

  const renewLease = async (name: string) => {
    const lease = await client.find(leases, 'kube-node-lease', name);
    const spec = { holderIdentity: name, leaseDurationSeconds: 40, renewTime: new Date().toISOString() };
    if (lease) await client.update(leases, { ...lease, spec });
    else
      await client.create(leases, {
        apiVersion: 'coordination.k8s.io/v1',
        kind: 'Lease',
        metadata: { name, namespace: 'kube-node-lease' },
        spec,
      });
  };

  const handlePod = async (pod: Pod) => {
    const node = pod.spec.nodeName ? live.get(pod.spec.nodeName) : undefined;
    if (!node) return;
    const { namespace, name, uid } = pod.metadata;
    if (pod.metadata.deletionTimestamp) {
      await client
        .delete(pods, namespace, name, { gracePeriodSeconds: 0, preconditions: { uid: uid as string } })
        .catch(ignoreGone);
      return;
    }
    const phase = pod.status?.phase;
    if (phase === 'Succeeded' || phase === 'Failed') return;
    if (phase !== 'Running') {
      const ip = `10.244.${node.index}.${(hash(uid ?? name) % 250) + 2}`;
      await setStatus(pod, 'Running', ip);
    }
    const runMs = Number(pod.metadata.annotations?.['sim.lambernetes.io/run-ms'] ?? Number.NaN);
    const key = `${namespace}/${name}/${uid}`;
    if (pod.spec.restartPolicy !== 'Always' && runMs >= 0 && !finishing.has(key)) {
      finishing.add(key);
      await delay(runMs, undefined, { signal: stopped.signal }).catch(() => undefined);
      if (stopped.signal.aborted || !live.has(pod.spec.nodeName as string)) return;
      const exitCode = Number(pod.metadata.annotations?.['sim.lambernetes.io/exit-code'] ?? 0);
      const current = await client.find<Pod>(pods, namespace, name);
      if (current && current.metadata.uid === uid)
        await setStatus(current, exitCode === 0 ? 'Succeeded' : 'Failed', undefined, exitCode);
    }
  };

  const setStatus = async (
    pod: Pod,
    phase: 'Running' | 'Succeeded' | 'Failed',
    ip?: string,
    exitCode?: number,
  ) => {
    const now = timestamp(new Date());
    const running = phase === 'Running';
    const ready = running ? 'True' : 'False';
    const podIP = ip ?? pod.status?.podIP;
    const nodeName = pod.spec.nodeName as string;
    const status = {
      ...pod.status,
      phase,
      hostIP: `10.0.0.${(live.get(nodeName)?.index ?? 0) + 10}`,
      ...(podIP ? { podIP, podIPs: [{ ip: podIP }] } : {}),
      startTime: pod.status?.startTime ?? now,
      conditions: [
        { type: 'PodScheduled', status: 'True', lastProbeTime: null, lastTransitionTime: now },
        { type: 'Initialized', status: 'True', lastProbeTime: null, lastTransitionTime: now },
        { type: 'ContainersReady', status: ready, lastProbeTime: null, lastTransitionTime: now },
        { type: 'Ready', status: ready, lastProbeTime: null, lastTransitionTime: now },
      ],
      containerStatuses: pod.spec.containers.map((c) => ({
        name: c.name,
        image: c.image,
        imageID: `simulated://${c.image}`,
        containerID: `simulated://${pod.metadata.uid}-${c.name}`,
        ready: running,
        started: running,
        restartCount: 0,
        state: running
          ? { running: { startedAt: now } }
          : {
              terminated: {
                exitCode,
                reason: exitCode === 0 ? 'Completed' : 'Error',
                startedAt: now,
                finishedAt: now,
              },
            },
      })),
    };
    try {
      await client.update(pods, { ...pod, status }, 'status');
    } catch (error) {
      // Changed meanwhile (the next event brings it back) or gone: both fine for a kubelet.
      if (!(error instanceof ApiError && (error.code === 409 || error.code === 404))) throw error;
    }
  };

  /**
   * A kubelet is level-based: a pod whose handling failed (a connection reset under load, say) is
   * tried again rather than left as it was, since no further event may come for it.
   */
  const syncPod = async (pod: Pod) => {
    for (let attempt = 1; ; attempt++) {
      try {
        return await handlePod(pod);
      } catch (error) {
        if (stopped.signal.aborted || attempt === 5) throw error;
        report(error);
        await delay(200 * attempt, undefined, { signal: stopped.signal }).catch(() => undefined);
      }
    }
  };

  const watchPods = async () => {
    let resourceVersion: string | undefined;
    while (!stopped.signal.aborted) {
      try {
        if (!resourceVersion) {
          const list = await client.list<Pod>(pods);
          resourceVersion = list.resourceVersion;
          for (const pod of list.items) void syncPod(pod).catch(report);
        }
        for await (const event of client.watch<Pod>(pods, { resourceVersion, signal: stopped.signal })) {
          resourceVersion = event.object.metadata.resourceVersion;
          if (event.type === 'ADDED' || event.type === 'MODIFIED') void syncPod(event.object).catch(report);
        }
      } catch (error) {
        if (stopped.signal.aborted) return;
        if (error instanceof ApiError && error.code === 410) resourceVersion = undefined;
        else report(error);
        await delay(200);
      }
    }
  };

  /**
   * A live kubelet posts its status again when the node controller marked it Unknown (e.g. after a
   * busy spell delayed a renewal). A Ready=False written on purpose (a test playing a sick kubelet) stays.
   */
  const reportReady = async (name: string) => {
    const node = await client.get<Node>(nodes, undefined, name);
    const conditions = node.status?.conditions ?? [];
    if (conditions.every((c) => c.type !== 'Ready' || c.status !== 'Unknown')) return;
    const now = timestamp(new Date());
    const healthy: Record<string, [string, string]> = {
      Ready: ['True', 'KubeletReady'],
      MemoryPressure: ['False', 'KubeletHasSufficientMemory'],
      DiskPressure: ['False', 'KubeletHasNoDiskPressure'],
      PIDPressure: ['False', 'KubeletHasSufficientPID'],
    };
    const fixed = conditions.map((c) => {
      const [status, reason] = healthy[c.type] ?? [c.status, c.reason ?? ''];
      return status === c.status
        ? { ...c, lastHeartbeatTime: now }
        : { ...c, status, reason, message: reason, lastHeartbeatTime: now, lastTransitionTime: now };
    });
    await client
      .update(nodes, { ...node, status: { ...node.status, conditions: fixed } }, 'status')
      .catch(ignoreGone);
  };

  const renewLeases = async () => {
    while (!stopped.signal.aborted) {
      await delay(leaseIntervalMs, undefined, { signal: stopped.signal }).catch(() => undefined);
      for (const name of live.keys()) {
        await renewLease(name).catch(report);
        await reportReady(name).catch(report);
      }
    }
  };

  for (const node of initial) await addNode(node);
  const loops = [watchPods(), renewLeases()];
  return {
    addNode,
    silence: (name) => void live.delete(name),
    stop: async () => {
      stopped.abort();
      await Promise.allSettled(loops);
    },
  };
}

function ignoreGone(error: unknown): void {
  if (!(error instanceof ApiError && (error.code === 404 || error.code === 409))) throw error;
}

function report(error: unknown): void {
  if (!(error instanceof ApiError && error.code === 404)) console.error('simulator:', error);
}

function hash(text: string): number {
  let h = 0;
  for (const c of text) h = (h * 31 + c.charCodeAt(0)) >>> 0;
  return h;
}
