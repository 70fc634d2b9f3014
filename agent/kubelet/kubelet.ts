import { join } from 'node:path';
import type { Container, Pod } from '../../shared/api/core.js';
import { hasCode } from '../../shared/api/errors.js';
import { defaultPullPolicy } from '../../shared/api/images.js';
import { resourceType } from '../../shared/api/resources.js';
import { same } from '../../shared/api/same.js';
import type { ApiClient } from '../../shared/client/client.js';
import type { EventRecorder } from '../../shared/client/events.js';
import {
  type ContainerInfo,
  type ContainerRuntime,
  ImageError,
  type PullPolicy,
  type SandboxInfo,
} from '../runtime/runtime.js';
import { backOffKey, backOffMessage, CrashLoopBackOff } from './backoff.js';
import { type ClusterDNS, containerSpec, type KubeletContainer, sandboxSpec } from './container-spec.js';
import { ConfigError, resolveEnv, withApiServerEnv } from './env.js';
import { attemptsOf, type ObservedPod, podStatus, type Waiting } from './pod-status.js';
import { type ProbeKind, type ProbeState, probeFailedMessage, startProbes } from './prober.js';
import { ServiceAccountTokens } from './service-account-tokens.js';
import { containerMounts, materializeVolumes, removePodVolumes } from './volumes.js';
import { WorkQueue } from './work-queue.js';

const pods = resourceType('pods');

export interface KubeletOptions {
  /** The API server's URL, given to containers as KUBERNETES_SERVICE_HOST and _PORT. */
  apiServer?: string;
  client: ApiClient;
  runtime: ContainerRuntime;
  nodeName: string;
  hostIP: string;
  /** Pods' volumes live under `<dataDir>/pods/<uid>`. */
  dataDir: string;
  dns: ClusterDNS;
  /** The prefix of container IDs in statuses: `docker://`. */
  runtimeScheme: string;
  /** Pods synced at once. */
  concurrency?: number;
  /**
   * Where the kubelet's Warning events go (probe failures, restarts, back-off, image and config
   * errors). Routine Normal events (Pulled, Created, Started) are not recorded: each Event is a store
   * write, and they would triple a pod start's writes for what the pod's status already says.
   */
  events?: EventRecorder;
  onError?: (error: unknown) => void;
}

/** A running container's probes and what they say. */
interface Probing {
  podKey: string;
  stop(): void;
  states: Map<ProbeKind, ProbeState>;
}

const keyOfPod = (namespace: string, name: string) => `${namespace}/${name}`;

/**
 * The kubelet's pod sync: level-based, one pod at a time per key. It reads the pod and what the
 * runtime runs for it, moves the containers one step towards the spec (sandbox, volumes, init
 * containers in order, then the app containers, restarts by the restart policy with CrashLoopBackOff),
 * and posts the PodStatus when it changed. A pod that is gone, moved, or replaced by a new one of
 * the same name has its containers stopped and removed; a pod being deleted is stopped within its
 * grace period and then deleted for good, as the kubelet does.
 */
export class Kubelet {
  private readonly queue: WorkQueue;
  private readonly backoff = new CrashLoopBackOff();
  private readonly tokens: ServiceAccountTokens;
  private readonly probing = new Map<string, Probing>();
  /** The container states seen by the last relist (the PLEG): a change wakes the pod's sync. */
  private seen = new Map<string, string>();
  private readonly onError: (error: unknown) => void;

  constructor(private readonly options: KubeletOptions) {
    this.onError = options.onError ?? ((error) => console.error('pod sync failed', error));
    this.tokens = new ServiceAccountTokens(options.client);
    this.queue = new WorkQueue(
      (key) => this.sync(key),
      options.concurrency ?? 8,
      (key, error) => {
        this.onError(new Error(`pod ${key}`, { cause: error }));
        this.queue.after(key, 5000);
      },
    );
  }

  /** Looks at the pod `namespace/name` soon. */
  enqueue(key: string): void {
    this.queue.add(key);
  }

  /** After a full list: pods the runtime runs that are not bound here any more are looked at too. */
  async resync(keys: ReadonlySet<string>): Promise<void> {
    for (const sandbox of await this.options.runtime.listSandboxes()) {
      const key = keyOfPod(sandbox.namespace, sandbox.name);
      if (!keys.has(key)) this.queue.add(key);
    }
  }

  /**
   * The pod lifecycle event generator: lists the runtime's containers and wakes the pods whose
   * containers started, exited or went away since the last relist (upstream relists every second).
   */
  async relist(): Promise<void> {
    const [sandboxes, containers] = await Promise.all([
      this.options.runtime.listSandboxes(),
      this.options.runtime.listContainers(),
    ]);
    const keys = new Map(sandboxes.map((s) => [s.podUid, keyOfPod(s.namespace, s.name)]));
    const now = new Map(containers.map((c) => [c.id, `${c.podUid}\0${c.state}`]));
    for (const [id, state] of now) {
      if (this.seen.get(id) === state) continue;
      const key = keys.get(state.split('\0')[0] as string);
      if (key) this.queue.add(key);
    }
    for (const [id, state] of this.seen) {
      const key = now.has(id) ? undefined : keys.get(state.split('\0')[0] as string);
      if (key) this.queue.add(key);
    }
    this.seen = now;
  }

  async stop(): Promise<void> {
    await this.queue.stop();
    for (const probing of this.probing.values()) probing.stop();
    this.probing.clear();
  }

  private podDir(uid: string): string {
    return join(this.options.dataDir, 'pods', uid);
  }

  async sync(key: string): Promise<void> {
    const { client, runtime, nodeName } = this.options;
    const slash = key.indexOf('/');
    const namespace = key.slice(0, slash);
    const name = key.slice(slash + 1);
    const found = await client.find<Pod>(pods, namespace, name);
    const pod = found?.spec.nodeName === nodeName ? found : undefined;
    const [sandboxes, containers] = await Promise.all([runtime.listSandboxes(), runtime.listContainers()]);
    const uid = pod?.metadata.uid;

    // What runs under this name for a pod that is gone, moved, or an earlier pod of the same name.
    const stale = new Set(
      sandboxes
        .filter((s) => s.namespace === namespace && s.name === name && s.podUid !== uid)
        .map((s) => s.podUid),
    );
    for (const staleUid of stale) await this.killPod(staleUid, sandboxes, containers, 2);
    if (!pod || !uid) return;

    if (pod.metadata.deletionTimestamp) {
      const grace = pod.metadata.deletionGracePeriodSeconds ?? pod.spec.terminationGracePeriodSeconds ?? 30;
      await this.killPod(uid, sandboxes, containers, Number(grace));
      await client
        .delete(pods, namespace, name, { gracePeriodSeconds: 0, preconditions: { uid } })
        .catch((error) => {
          if (!hasCode(error, 404, 409)) throw error;
        });
      return;
    }
    const own = containers.filter((c) => c.podUid === uid);
    if (pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed') {
      // Finished for good: nothing restarts; the sandbox goes, the exited containers stay for logs.
      for (const sandbox of sandboxes.filter((s) => s.podUid === uid && s.running))
        await runtime.stopContainer(sandbox.id, 0);
      this.stopProbes(own.map((c) => c.id));
      return;
    }

    const waiting = new Map<string, Waiting>();
    let sandbox = sandboxes.find((s) => s.podUid === uid && s.running);
    if (!sandbox) {
      for (const dead of sandboxes.filter((s) => s.podUid === uid)) await runtime.removeSandbox(dead.id);
      sandbox = await runtime.startSandbox(sandboxSpec(pod, this.options.dns));
    }
    let volumes: Map<string, string> | undefined;
    try {
      volumes = await materializeVolumes(client, pod, this.podDir(uid), this.tokens);
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      for (const c of [...(pod.spec.initContainers ?? []), ...pod.spec.containers])
        waiting.set(c.name, { reason: 'CreateContainerConfigError', message: error.message });
      this.queue.after(key, 10_000);
    }
    if (volumes) await this.runContainers(key, pod, sandbox, own, volumes, waiting);
    await this.postStatus(key, pod, sandbox, waiting);
  }

  /** Init containers one after another, then every app container; restarts by the restart policy. */
  private async runContainers(
    key: string,
    pod: Pod,
    sandbox: SandboxInfo,
    own: ContainerInfo[],
    volumes: Map<string, string>,
    waiting: Map<string, Waiting>,
  ): Promise<void> {
    const policy = pod.spec.restartPolicy ?? 'Always';
    for (const container of pod.spec.initContainers ?? []) {
      const [current] = attemptsOf(own, container.name);
      if (current?.state === 'exited' && current.exitCode === 0) continue;
      if (current?.state === 'running') return;
      if (current?.state === 'exited' && policy === 'Never') return; // the pod has failed
      await this.ensureRunning(key, pod, sandbox, container, 'init', current, volumes, waiting);
      return;
    }
    for (const container of pod.spec.containers) {
      const [current, ...older] = attemptsOf(own, container.name);
      for (const old of older.slice(1)) await this.options.runtime.removeContainer(old.id);
      if (current?.state === 'running') {
        this.watchProbes(key, pod, container, current, sandbox);
        const restart = this.probing.get(current.id)?.states;
        if (restart?.get('liveness') === 'restart' || restart?.get('startup') === 'restart')
          await this.options.runtime.stopContainer(
            current.id,
            Number(pod.spec.terminationGracePeriodSeconds ?? 30),
          );
        continue;
      }
      if (current?.state === 'exited') {
        const restart = policy === 'Always' || (policy === 'OnFailure' && current.exitCode !== 0);
        if (!restart) continue;
      }
      await this.ensureRunning(key, pod, sandbox, container, 'regular', current, volumes, waiting);
    }
  }

  /** Starts the container's next attempt, unless its CrashLoopBackOff says to wait (then it waits). */
  private async ensureRunning(
    key: string,
    pod: Pod,
    sandbox: SandboxInfo,
    container: Container,
    kind: 'init' | 'regular',
    current: ContainerInfo | undefined,
    volumes: Map<string, string>,
    waiting: Map<string, Waiting>,
  ): Promise<void> {
    const { runtime, client } = this.options;
    const uid = pod.metadata.uid as string;
    const backoffKey = backOffKey(uid, container.name);
    let restartCount = current?.restartCount ?? 0;
    if (current?.state === 'exited') {
      this.stopProbes([current.id]);
      this.backoff.recordFailure(
        backoffKey,
        (current.finishedAt ?? new Date()).getTime(),
        current.startedAt?.getTime(),
      );
      const wait = this.backoff.shouldWait(backoffKey, Date.now());
      if (wait > 0) {
        const metadata = { name: pod.metadata.name, namespace: pod.metadata.namespace ?? 'default', uid };
        waiting.set(container.name, {
          reason: 'CrashLoopBackOff',
          message: backOffMessage(this.backoff.backOffMs(backoffKey), container.name, metadata),
        });
        this.options.events?.record(
          pod,
          'Warning',
          'BackOff',
          `Back-off restarting failed container ${container.name} in pod ${pod.metadata.name}_${metadata.namespace}(${uid})`,
        );
        this.queue.after(key, wait);
        return;
      }
      restartCount++;
    } else if (current) {
      await runtime.removeContainer(current.id); // created but never started (an agent crash): again
    }
    try {
      await runtime.ensureImage(
        container.image ?? '',
        (container.imagePullPolicy as PullPolicy | undefined) ?? defaultPullPolicy(container.image ?? ''),
      );
      const env = withApiServerEnv(
        await resolveEnv(
          client,
          pod,
          container as KubeletContainer,
          sandbox.ip ?? '',
          this.options.nodeName,
          this.options.hostIP,
        ),
        this.options.apiServer,
      );
      const mounts = containerMounts(container as KubeletContainer, volumes, { pod, env });
      const id = await runtime.createContainer(
        sandbox,
        containerSpec(pod, container as KubeletContainer, kind, restartCount, { env, mounts }),
      );
      await runtime.startContainer(id);
    } catch (error) {
      const reason =
        error instanceof ImageError
          ? error.reason
          : error instanceof ConfigError
            ? 'CreateContainerConfigError'
            : undefined;
      if (!reason) throw error;
      waiting.set(container.name, { reason, message: (error as Error).message });
      this.options.events?.record(pod, 'Warning', 'Failed', `Error: ${(error as Error).message}`);
      this.queue.after(key, 10_000);
    }
  }

  /** Starts the probes of a running container once; their verdicts wake the pod's sync. */
  private watchProbes(
    key: string,
    pod: Pod,
    container: Container,
    info: ContainerInfo,
    sandbox: SandboxInfo,
  ): void {
    if (this.probing.has(info.id)) return;
    const states = new Map<ProbeKind, ProbeState>();
    const probes = startProbes({
      pod,
      container,
      containerId: info.id,
      ...(sandbox.ip ? { podIP: sandbox.ip } : {}),
      runtime: this.options.runtime,
      ...(info.startedAt ? { startedAt: info.startedAt } : {}),
      onChange: (kind, state, message) => {
        states.set(kind, state);
        if (state === 'restart') this.options.events?.record(pod, 'Normal', 'Killing', message ?? '');
        this.queue.add(key);
      },
      // Every failed attempt, as upstream records them (repeats aggregate into one Event's count).
      onResult: (kind, outcome) => {
        if (outcome.result === 'failure')
          this.options.events?.record(pod, 'Warning', 'Unhealthy', probeFailedMessage(kind, outcome.message));
      },
    });
    this.probing.set(info.id, { podKey: key, stop: () => probes.stop(), states });
  }

  private stopProbes(ids: readonly string[]): void {
    for (const id of ids) {
      this.probing.get(id)?.stop();
      this.probing.delete(id);
    }
  }

  /** Stops a pod's containers within the grace period, then removes them, its sandbox and its volumes. */
  private async killPod(
    uid: string,
    sandboxes: SandboxInfo[],
    containers: ContainerInfo[],
    grace: number,
  ): Promise<void> {
    const { runtime } = this.options;
    const own = containers.filter((c) => c.podUid === uid);
    this.stopProbes(own.map((c) => c.id));
    await Promise.all(
      own.filter((c) => c.state === 'running').map((c) => runtime.stopContainer(c.id, grace)),
    );
    for (const c of own) await runtime.removeContainer(c.id);
    for (const s of sandboxes.filter((s) => s.podUid === uid)) await runtime.removeSandbox(s.id);
    await removePodVolumes(this.podDir(uid));
    this.tokens.forget(uid);
    for (const c of own) this.backoff.forget(backOffKey(uid, c.name));
  }

  /** Posts the status if it changed; a conflict (the pod changed meanwhile) syncs the pod again. */
  private async postStatus(
    key: string,
    pod: Pod,
    sandbox: SandboxInfo,
    waiting: Map<string, Waiting>,
  ): Promise<void> {
    const { runtime } = this.options;
    const uid = pod.metadata.uid as string;
    const containers = (await runtime.listContainers()).filter((c) => c.podUid === uid);
    const readiness = new Map<string, boolean>();
    const started = new Map<string, boolean>();
    for (const container of pod.spec.containers) {
      const [current] = attemptsOf(containers, container.name);
      const states = current ? this.probing.get(current.id)?.states : undefined;
      if (container.readinessProbe) readiness.set(container.name, states?.get('readiness') === 'success');
      if (container.startupProbe) started.set(container.name, states?.get('startup') === 'success');
    }
    const observed: ObservedPod = {
      sandbox,
      containers,
      waiting,
      readiness,
      started,
      hostIP: this.options.hostIP,
      runtimeScheme: this.options.runtimeScheme,
    };
    const status = podStatus(pod, observed, new Date());
    if (same(pod.status, status)) return;
    try {
      await this.options.client.update(pods, { ...pod, status }, 'status');
    } catch (error) {
      if (!hasCode(error, 409, 404)) throw error;
      if (hasCode(error, 409)) this.queue.add(key);
    }
  }
}
