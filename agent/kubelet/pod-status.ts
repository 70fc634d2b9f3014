import type { Condition, Container, ContainerStatus, Pod, PodStatus } from '../../shared/api/core.js';
import { timestamp } from '../../shared/api/time.js';
import type { ContainerInfo, SandboxInfo } from '../runtime/runtime.js';

/** Why a container is not running yet (ContainerCreating, ErrImagePull, CrashLoopBackOff, …). */
export interface Waiting {
  reason: string;
  message?: string;
}

/** What the sync loop knows of one pod, from the runtime and its probes. */
export interface ObservedPod {
  sandbox?: SandboxInfo;
  /** Every container of the pod the runtime has, every attempt. */
  containers: ContainerInfo[];
  /** Per container name: why it waits, when it is not running. */
  waiting: Map<string, Waiting>;
  /** Per container name: its readiness probe's verdict (absent: no readiness probe, ready when running). */
  readiness: Map<string, boolean>;
  /** Per container name: its startup probe has succeeded (absent: no startup probe). */
  started: Map<string, boolean>;
  hostIP: string;
  /** `docker://`, as upstream's container IDs are prefixed with the runtime's name. */
  runtimeScheme: string;
}

/** A container's attempts (one per restart), newest first. */
export function attemptsOf(containers: readonly ContainerInfo[], name: string): ContainerInfo[] {
  return containers
    .filter((c) => c.name === name)
    .sort((a, b) => b.restartCount - a.restartCount || b.createdAt.getTime() - a.createdAt.getTime());
}

function terminated(info: ContainerInfo, scheme: string): Record<string, unknown> {
  return {
    terminated: {
      exitCode: info.exitCode ?? 0,
      reason: info.reason ?? (info.exitCode === 0 ? 'Completed' : 'Error'),
      ...(info.startedAt ? { startedAt: timestamp(info.startedAt) } : {}),
      ...(info.finishedAt ? { finishedAt: timestamp(info.finishedAt) } : {}),
      containerID: `${scheme}${info.id}`,
    },
  };
}

function containerStatus(container: Container, observed: ObservedPod): ContainerStatus {
  const [current, previous] = attemptsOf(observed.containers, container.name);
  const waiting = observed.waiting.get(container.name);
  const scheme = observed.runtimeScheme;
  let state: Record<string, unknown>;
  if (current?.state === 'running' && !waiting)
    state = { running: { startedAt: timestamp(current.startedAt ?? current.createdAt) } };
  else if (waiting || !current || current.state === 'created')
    state = {
      waiting: {
        reason: waiting?.reason ?? 'ContainerCreating',
        ...(waiting?.message ? { message: waiting.message } : {}),
      },
    };
  else state = terminated(current, scheme);
  // A container waiting to be restarted shows its last run as lastState; a running one, the run before.
  const last = current?.state === 'exited' && 'waiting' in state ? current : previous;
  const running = 'running' in state;
  const started = running && (observed.started.get(container.name) ?? true);
  return {
    name: container.name,
    state,
    lastState: last?.state === 'exited' ? terminated(last, scheme) : {},
    ready: started && (observed.readiness.get(container.name) ?? true),
    restartCount: current?.restartCount ?? 0,
    image: container.image ?? '',
    imageID: current?.imageId ?? '',
    ...(current ? { containerID: `${scheme}${current.id}` } : {}),
    started,
  };
}

const exitedWith = (status: ContainerStatus) =>
  (status.state?.terminated as { exitCode?: number } | undefined)?.exitCode;
const lastExit = (status: ContainerStatus) =>
  (status.lastState?.terminated as { exitCode?: number } | undefined)?.exitCode;

/**
 * The pod's phase by upstream's rules (kubelet getPhase): init containers first; then Running while
 * any container runs or will be restarted, Succeeded when all exited 0 and none will restart, Failed
 * when all stopped, one failed, and the restart policy gives up on it.
 */
export function podPhase(pod: Pod, init: ContainerStatus[], regular: ContainerStatus[]): PodStatus['phase'] {
  const policy = pod.spec.restartPolicy ?? 'Always';
  for (const status of init) {
    const code = exitedWith(status);
    if (code === 0) continue;
    if (code !== undefined && policy === 'Never') return 'Failed';
    return 'Pending';
  }
  let running = 0;
  let waiting = 0;
  let stopped = 0;
  let succeeded = 0;
  for (const status of regular) {
    if (status.state?.running) running++;
    else if (status.state?.terminated) {
      stopped++;
      if (exitedWith(status) === 0) succeeded++;
    } else if (lastExit(status) !== undefined) stopped++;
    else waiting++;
  }
  if (waiting > 0) return 'Pending';
  if (running > 0) return 'Running';
  if (stopped === 0) return 'Pending';
  if (policy === 'Always') return 'Running';
  if (stopped === succeeded) return 'Succeeded';
  return policy === 'Never' ? 'Failed' : 'Running';
}

/** upstream's QoS class: Guaranteed when every container's limits equal its requests for cpu and memory. */
export function qosClass(pod: Pod): 'Guaranteed' | 'Burstable' | 'BestEffort' {
  const all = [...(pod.spec.initContainers ?? []), ...pod.spec.containers];
  const resources = all.map((c) => c.resources ?? {});
  if (
    resources.every(
      (r) => Object.keys(r.requests ?? {}).length === 0 && Object.keys(r.limits ?? {}).length === 0,
    )
  )
    return 'BestEffort';
  const guaranteed = resources.every((r) =>
    ['cpu', 'memory'].every(
      (k) => r.limits?.[k] !== undefined && (r.requests?.[k] ?? r.limits[k]) === r.limits[k],
    ),
  );
  return guaranteed ? 'Guaranteed' : 'Burstable';
}

/**
 * The PodStatus the kubelet reports: phase, conditions (PodScheduled kept, PodReadyToStartContainers,
 * Initialized, ContainersReady, Ready), container and init container statuses, IPs, start time and
 * QoS class. Conditions keep their transition time while their status stays.
 */
export function podStatus(pod: Pod, observed: ObservedPod, now: Date): PodStatus {
  const previous = pod.status ?? {};
  const stamp = timestamp(now);
  const init = (pod.spec.initContainers ?? []).map((c) => containerStatus(c, observed));
  const regular = pod.spec.containers.map((c) => containerStatus(c, observed));
  const phase = podPhase(pod, init, regular);
  const initialized = init.every((s) => exitedWith(s) === 0);
  const containersReady = initialized && regular.every((s) => s.ready);
  const sandboxReady = observed.sandbox?.running ?? false;
  const condition = (type: string, ok: boolean, reason?: string): Condition => {
    const before = previous.conditions?.find((c) => c.type === type);
    const status = ok ? 'True' : 'False';
    return {
      type,
      status,
      lastProbeTime: null,
      lastTransitionTime: before?.status === status ? (before.lastTransitionTime ?? stamp) : stamp,
      ...(!ok && reason ? { reason } : {}),
    };
  };
  const notReady = regular.filter((s) => !s.ready).map((s) => s.name);
  const readyReason = (c: Condition) =>
    c.status === 'True' ? c : { ...c, message: `containers with unready status: [${notReady.join(' ')}]` };
  const finished = phase === 'Succeeded' || phase === 'Failed';
  const conditions = [
    condition('PodReadyToStartContainers', sandboxReady),
    condition('Initialized', initialized, 'ContainersNotInitialized'),
    readyReason(
      condition('Ready', containersReady && !finished, finished ? 'PodCompleted' : 'ContainersNotReady'),
    ),
    readyReason(
      condition(
        'ContainersReady',
        containersReady && !finished,
        finished ? 'PodCompleted' : 'ContainersNotReady',
      ),
    ),
    ...(previous.conditions ?? []).filter((c) => c.type === 'PodScheduled'),
  ];
  const podIP = observed.sandbox?.hostNetwork ? observed.hostIP : observed.sandbox?.ip;
  return {
    ...previous,
    phase,
    conditions,
    hostIP: observed.hostIP,
    hostIPs: [{ ip: observed.hostIP }],
    ...(podIP ? { podIP, podIPs: [{ ip: podIP }] } : {}),
    startTime: previous.startTime ?? stamp,
    ...(init.length > 0 ? { initContainerStatuses: init } : {}),
    containerStatuses: regular,
    qosClass: qosClass(pod),
  };
}
