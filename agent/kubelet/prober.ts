/**
 * When to probe a container and what the results mean, as upstream's `pkg/kubelet/prober/worker.go`:
 * a pure `ProbeWorker` per (container, kind) fed an explicit clock, and `startProbes`, the thin timer
 * driver the pod sync loop starts for each running container (a new container ID gets new workers).
 */
import type { Container, Pod } from '../../shared/api/core.js';
import type { ContainerRuntime } from '../runtime/runtime.js';
import { type Probe, type ProbedContainer, type ProbeOutcome, runProbe } from './probe.js';

export type ProbeKind = 'liveness' | 'readiness' | 'startup';

/**
 * What a worker reports. `unknown`: the startup probe has not decided yet (the container's `started`
 * is false). `failure`: not ready. `restart`: liveness or startup failed `failureThreshold` times in a
 * row; the sync loop kills the container and the worker stops until a new container ID.
 */
export type ProbeState = 'unknown' | 'success' | 'failure' | 'restart';

export const probeKinds: readonly ProbeKind[] = ['startup', 'liveness', 'readiness'];

/** Readiness starts not ready; liveness assumes alive; startup is undecided until its first verdict. */
export function initialProbeState(kind: ProbeKind): ProbeState {
  return kind === 'readiness' ? 'failure' : kind === 'liveness' ? 'success' : 'unknown';
}

/** The container's probe of `kind`, if it has one. */
export function containerProbe(container: Container, kind: ProbeKind): Probe | undefined {
  return container[`${kind}Probe`] as Probe | undefined;
}

const title = (kind: ProbeKind) => `${kind[0]?.toUpperCase()}${kind.slice(1)}`;

/** The `Unhealthy` event message of a failed attempt: `Liveness probe failed: HTTP probe failed with statuscode: 500`. */
export function probeFailedMessage(kind: ProbeKind, message: string | undefined): string {
  return `${title(kind)} probe failed: ${message ?? ''}`;
}

/** The `Killing` event message when liveness or startup gives up on a container. */
export function restartMessage(kind: ProbeKind, containerName: string): string {
  return `Container ${containerName} failed ${kind} probe, will be restarted`;
}

/** The pure schedule and result counting of one probe of one container (one container ID). */
export class ProbeWorker {
  readonly kind: ProbeKind;
  state: ProbeState;
  private readonly firstAtMs: number;
  private readonly periodMs: number;
  private readonly successThreshold: number;
  private readonly failureThreshold: number;
  private lastAttemptMs: number | undefined;
  private lastResult: 'success' | 'failure' | undefined;
  private run = 0;
  /** Liveness/startup after a restart verdict, startup after success: nothing more to probe. */
  private finished = false;

  constructor(kind: ProbeKind, probe: Probe, containerStartedAtMs: number) {
    this.kind = kind;
    this.state = initialProbeState(kind);
    this.firstAtMs = containerStartedAtMs + positive(probe.initialDelaySeconds, 0) * 1000;
    this.periodMs = positive(probe.periodSeconds, 10) * 1000;
    // The API rejects anything but 1 for liveness and startup; the agent does not second-guess it.
    this.successThreshold = kind === 'readiness' ? positive(probe.successThreshold, 1) : 1;
    this.failureThreshold = positive(probe.failureThreshold, 3);
  }

  /**
   * When the next attempt is due, or undefined if none is: liveness and readiness wait for the
   * container to have `started` (startup probe succeeded, or there is none); startup stops then.
   */
  nextAttemptAt(started: boolean): number | undefined {
    if (this.finished || (this.kind === 'startup') === started) return undefined;
    return this.lastAttemptMs === undefined
      ? this.firstAtMs
      : Math.max(this.firstAtMs, this.lastAttemptMs + this.periodMs);
  }

  shouldProbe(nowMs: number, started: boolean): boolean {
    const at = this.nextAttemptAt(started);
    return at !== undefined && nowMs >= at;
  }

  /** The result of the attempt begun at `attemptMs`; returns the new state when it changed. */
  record(attemptMs: number, result: 'success' | 'failure'): ProbeState | undefined {
    this.lastAttemptMs = attemptMs;
    if (this.finished) return undefined;
    if (result === this.lastResult) this.run++;
    else {
      this.lastResult = result;
      this.run = 1;
    }
    const threshold = result === 'success' ? this.successThreshold : this.failureThreshold;
    if (this.run < threshold) return undefined;
    let next: ProbeState = result;
    if (result === 'failure' && this.kind !== 'readiness') {
      next = 'restart';
      this.finished = true;
    }
    if (result === 'success' && this.kind === 'startup') this.finished = true;
    if (next === this.state) return undefined;
    this.state = next;
    return next;
  }
}

function positive(value: number | undefined, fallback: number): number {
  return value !== undefined && value > 0 ? value : fallback;
}

export interface StartProbesOptions {
  pod: Pick<Pod, 'metadata' | 'status'>;
  container: Container;
  containerId: string;
  /** Default host of HTTP and TCP probes; the pod's `status.podIP` when absent. */
  podIP?: string;
  runtime: Pick<ContainerRuntime, 'exec'>;
  /** The container's start (initial delays count from it); now when absent. */
  startedAt?: Date;
  /** A probe's state changed; `message` says why for `failure` and `restart`. */
  onChange(kind: ProbeKind, state: ProbeState, message?: string): void;
  /** Every attempt's outcome (for `Unhealthy` events: see `probeFailedMessage`). */
  onResult?(kind: ProbeKind, outcome: ProbeOutcome): void;
}

/** Runs the container's probes on timers until `stop()`; results of attempts in flight then are dropped. */
export function startProbes(options: StartProbesOptions): { stop(): void } {
  const { container, containerId, runtime, onChange, onResult } = options;
  const podIP = options.podIP ?? options.pod.status?.podIP ?? '';
  const startedAtMs = options.startedAt?.getTime() ?? Date.now();
  const target = { podIP, containerId, exec: runtime.exec.bind(runtime) };
  const workers = probeKinds.flatMap((kind) => {
    const probe = containerProbe(container, kind);
    return probe ? [{ probe, worker: new ProbeWorker(kind, probe, startedAtMs) }] : [];
  });
  let started = !containerProbe(container, 'startup');
  let stopped = false;
  const timers = new Map<ProbeKind, NodeJS.Timeout>();
  const inFlight = new Set<ProbeKind>();

  const schedule = (entry: (typeof workers)[number]) => {
    const { kind } = entry.worker;
    clearTimeout(timers.get(kind));
    timers.delete(kind);
    if (stopped || inFlight.has(kind)) return;
    const at = entry.worker.nextAttemptAt(started);
    if (at === undefined) return;
    timers.set(
      kind,
      setTimeout(() => void attempt(entry), Math.max(0, at - Date.now())),
    );
  };

  const attempt = async (entry: (typeof workers)[number]) => {
    const { worker, probe } = entry;
    const begun = Date.now();
    if (stopped || !worker.shouldProbe(begun, started)) return schedule(entry);
    inFlight.add(worker.kind);
    const outcome = await runProbe(probe, target, container as ProbedContainer);
    inFlight.delete(worker.kind);
    if (stopped) return;
    onResult?.(worker.kind, outcome);
    const state = worker.record(begun, outcome.result);
    if (state) {
      if (worker.kind === 'startup' && state === 'success') {
        started = true;
        for (const other of workers) if (other !== entry) schedule(other);
      }
      onChange(
        worker.kind,
        state,
        state === 'restart'
          ? restartMessage(worker.kind, container.name)
          : state === 'failure'
            ? probeFailedMessage(worker.kind, outcome.message)
            : undefined,
      );
    }
    schedule(entry);
  };

  for (const entry of workers) schedule(entry);
  return {
    stop() {
      stopped = true;
      for (const timer of timers.values()) clearTimeout(timer);
      timers.clear();
    },
  };
}
