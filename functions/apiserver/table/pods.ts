/** core/v1 pods: upstream's `printPod`, with its READY, STATUS and RESTARTS logic. */

import type { KubernetesObject } from '../../../shared/api/types.js';
import {
  ageColumn,
  arr,
  type Container,
  column,
  int,
  nameColumn,
  type PrintedRow,
  type Printer,
  str,
  type TableRowCondition,
} from './common.js';
import { humanDuration, parseTime, since } from './duration.js';

interface ContainerState {
  waiting?: { reason?: string } | null;
  running?: object | null;
  terminated?: { exitCode?: number; signal?: number; reason?: string; finishedAt?: string } | null;
}

interface ContainerStatus {
  name?: string;
  ready?: boolean;
  started?: boolean;
  restartCount?: number;
  state?: ContainerState;
  lastState?: ContainerState;
}

interface PodCondition {
  type?: string;
  status?: string;
  reason?: string;
}

interface Pod extends KubernetesObject {
  spec?: {
    containers?: Container[];
    initContainers?: Container[];
    nodeName?: string;
    readinessGates?: { conditionType?: string }[];
  };
  status?: {
    phase?: string;
    reason?: string;
    conditions?: PodCondition[];
    initContainerStatuses?: ContainerStatus[];
    containerStatuses?: ContainerStatus[];
    podIP?: string;
    podIPs?: { ip?: string }[];
    nominatedNodeName?: string;
  };
}

/** `node.NodeUnreachablePodReason`: the reason the node lifecycle controller gives pods of lost nodes. */
const nodeUnreachablePodReason = 'NodeLost';

const podSucceeded: TableRowCondition[] = [
  { type: 'Completed', status: 'True', reason: 'Succeeded', message: 'The pod has completed successfully.' },
];
const podFailed: TableRowCondition[] = [
  { type: 'Completed', status: 'True', reason: 'Failed', message: 'The pod failed.' },
];

export const podPrinter: Printer = {
  columns: [
    nameColumn,
    column('Ready', 'string', 'The aggregate readiness state of this pod for accepting traffic.'),
    column('Status', 'string', 'The aggregate status of the containers in this pod.'),
    column(
      'Restarts',
      'string',
      'The number of times the containers in this pod have been restarted and when the last container in this pod has restarted.',
    ),
    ageColumn,
    column(
      'IP',
      'string',
      'podIP address allocated to the pod. Routable at least within the cluster. Empty if not yet allocated.',
      { priority: 1 },
    ),
    column(
      'Node',
      'string',
      'NodeName indicates in which node this pod is scheduled. If empty, this pod is a candidate for scheduling by the scheduler defined in schedulerName. Once this field is set, the kubelet for this node becomes responsible for the lifecycle of this pod. This field should not be used to express a desire for the pod to be scheduled on a specific node. https://kubernetes.io/docs/concepts/scheduling-eviction/assign-pod-node/#nodename',
      { priority: 1 },
    ),
    column(
      'Nominated Node',
      'string',
      'nominatedNodeName is set only when this pod preempts other pods on the node, but it cannot be scheduled right away as preemption victims receive their graceful termination periods. This field does not guarantee that the pod will be scheduled on this node. Scheduler may decide to place the pod elsewhere if other nodes become available sooner. Scheduler may also decide to give the resources on this node to a higher priority pod that is created after preemption. As a result, this field may be different than PodSpec.nodeName when the pod is scheduled.',
      { priority: 1 },
    ),
    column(
      'Readiness Gates',
      'string',
      'If specified, all readiness gates will be evaluated for pod readiness. A pod is ready when all its containers are ready AND all conditions specified in the readiness gates have status equal to "True" More info: https://git.k8s.io/enhancements/keps/sig-network/580-pod-readiness-gates',
      { priority: 1 },
    ),
  ],
  print(object, { now }): PrintedRow {
    const pod = object as Pod;
    const spec = pod.spec ?? {};
    const status = pod.status ?? {};
    const conditions = arr(status.conditions);
    const initContainerSpecs = arr(spec.initContainers);

    let restarts = 0;
    let restartableInitContainerRestarts = 0;
    let totalContainers = arr(spec.containers).length;
    let readyContainers = 0;
    let lastRestartDate: number | undefined;
    let lastRestartableInitContainerRestartDate: number | undefined;

    const podPhase = str(status.phase);
    let reason = str(status.reason) || podPhase;
    // A pod carrying {type: PodScheduled, reason: SchedulingGated} shows SchedulingGated.
    for (const condition of conditions) {
      if (condition.type === 'PodScheduled' && condition.reason === 'SchedulingGated')
        reason = 'SchedulingGated';
    }

    const row: PrintedRow = { cells: [] };
    if (podPhase === 'Succeeded') row.conditions = podSucceeded;
    else if (podPhase === 'Failed') row.conditions = podFailed;

    const initContainers = new Map<string, Container>();
    for (const container of initContainerSpecs) {
      initContainers.set(str(container.name), container);
      if (isRestartableInitContainer(container)) totalContainers++;
    }

    let initializing = false;
    const initStatuses = arr(status.initContainerStatuses);
    for (const [i, container] of initStatuses.entries()) {
      restarts += int(container.restartCount);
      const terminatedDate = lastTerminatedAt(container);
      lastRestartDate = later(lastRestartDate, terminatedDate);
      const restartable = isRestartableInitContainer(initContainers.get(str(container.name)));
      if (restartable) {
        restartableInitContainerRestarts += int(container.restartCount);
        lastRestartableInitContainerRestartDate = later(
          lastRestartableInitContainerRestartDate,
          terminatedDate,
        );
      }
      const terminated = container.state?.terminated;
      const waiting = container.state?.waiting;
      if (terminated && int(terminated.exitCode) === 0) continue;
      if (restartable && container.started === true) {
        if (container.ready === true) readyContainers++;
        continue;
      }
      if (terminated) {
        // initialization failed
        if (str(terminated.reason) === '') {
          reason =
            int(terminated.signal) !== 0
              ? `Init:Signal:${int(terminated.signal)}`
              : `Init:ExitCode:${int(terminated.exitCode)}`;
        } else {
          reason = `Init:${str(terminated.reason)}`;
        }
      } else if (waiting && str(waiting.reason) !== '' && waiting.reason !== 'PodInitializing') {
        reason = `Init:${str(waiting.reason)}`;
      } else {
        reason = `Init:${i}/${initContainerSpecs.length}`;
      }
      initializing = true;
      break;
    }

    if (!initializing || isPodInitializedConditionTrue(conditions)) {
      restarts = restartableInitContainerRestarts;
      lastRestartDate = lastRestartableInitContainerRestartDate;
      let hasRunning = false;
      const statuses = arr(status.containerStatuses);
      for (let i = statuses.length - 1; i >= 0; i--) {
        const container = statuses[i] as ContainerStatus;
        restarts += int(container.restartCount);
        lastRestartDate = later(lastRestartDate, lastTerminatedAt(container));
        const waiting = container.state?.waiting;
        const terminated = container.state?.terminated;
        if (waiting && str(waiting.reason) !== '') {
          reason = str(waiting.reason);
        } else if (terminated && str(terminated.reason) !== '') {
          reason = str(terminated.reason);
        } else if (terminated) {
          reason =
            int(terminated.signal) !== 0
              ? `Signal:${int(terminated.signal)}`
              : `ExitCode:${int(terminated.exitCode)}`;
        } else if (container.ready === true && container.state?.running) {
          hasRunning = true;
          readyContainers++;
        }
      }
      // Back to Running when at least one container still reports Running.
      if (reason === 'Completed' && hasRunning) {
        reason = conditions.some((c) => c.type === 'Ready' && c.status === 'True') ? 'Running' : 'NotReady';
      }
    }

    const deleting = Boolean(pod.metadata.deletionTimestamp);
    if (deleting && status.reason === nodeUnreachablePodReason) {
      reason = 'Unknown';
    } else if (deleting && podPhase !== 'Failed' && podPhase !== 'Succeeded') {
      reason = 'Terminating';
    }

    let restartsText = String(restarts);
    if (restarts !== 0 && lastRestartDate !== undefined) {
      restartsText = `${restarts} (${humanDuration(now.getTime() - lastRestartDate)} ago)`;
    }

    // v1 → internal conversion makes status.podIP authoritative over podIPs[0].
    const podIP = str(status.podIP) || str(arr(status.podIPs)[0]?.ip) || '<none>';
    let readinessGates = '<none>';
    const gates = arr(spec.readinessGates);
    if (gates.length > 0) {
      let trueConditions = 0;
      for (const gate of gates) {
        const condition = conditions.find((c) => c.type === gate.conditionType);
        if (condition?.status === 'True') trueConditions++;
      }
      readinessGates = `${trueConditions}/${gates.length}`;
    }

    row.cells = [
      pod.metadata.name,
      `${readyContainers}/${totalContainers}`,
      reason,
      restartsText,
      since(pod.metadata.creationTimestamp, now),
      podIP,
      str(spec.nodeName) || '<none>',
      str(status.nominatedNodeName) || '<none>',
      readinessGates,
    ];
    return row;
  },
};

/** `podutil.IsRestartableInitContainer`: a sidecar, an init container with `restartPolicy: Always`. */
function isRestartableInitContainer(container: Container | undefined): boolean {
  return container?.restartPolicy === 'Always';
}

function isPodInitializedConditionTrue(conditions: PodCondition[]): boolean {
  const initialized = conditions.find((c) => c.type === 'Initialized');
  return initialized?.status === 'True';
}

/** `lastState.terminated.finishedAt`, when the container has a last termination with a time. */
function lastTerminatedAt(container: ContainerStatus): number | undefined {
  const terminated = container.lastState?.terminated;
  return terminated ? parseTime(terminated.finishedAt) : undefined;
}

/** The later of two optional times (an unset time is Go's zero time, before everything). */
function later(a: number | undefined, b: number | undefined): number | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return b > a ? b : a;
}
