/**
 * `ContainerRuntime` over the Docker Engine API (dockerode on a unix socket): Docker on EC2, Podman's
 * compatible service locally. Everything it creates carries `io.lambernetes.*` labels; listing filters
 * by the node label, so agents sharing one engine never see each other's containers and a restarted
 * agent adopts what it already runs.
 */
import Docker from 'dockerode';
import { coalesced } from '../../shared/concurrency.js';
import { demultiplex, demultiplexFrames } from './log-stream.js';
import {
  type ContainerInfo,
  type ContainerKind,
  type ContainerRuntime,
  type ContainerSpec,
  type ExecSession,
  ExecTimeoutError,
  ImageError,
  type LogOptions,
  type PullPolicy,
  type SandboxInfo,
  type SandboxSpec,
} from './runtime.js';

export const labels = {
  node: 'io.lambernetes.node',
  podUid: 'io.lambernetes.pod.uid',
  podNamespace: 'io.lambernetes.pod.namespace',
  podName: 'io.lambernetes.pod.name',
  containerName: 'io.lambernetes.container.name',
  /** sandbox | init | regular */
  containerKind: 'io.lambernetes.container.kind',
  restartCount: 'io.lambernetes.container.restart-count',
} as const;

export interface DockerRuntimeOptions {
  socketPath: string;
  /** This node's name, the `io.lambernetes.node` label of everything it creates and lists. */
  node: string;
  /** The node's bridge network (its pod CIDR) that sandboxes attach to. */
  network: string;
  sandboxImage: string;
  /** What the sandbox runs; the default suits a busybox image. */
  sandboxCommand?: string[];
}

type Inspect = Docker.ContainerInspectInfo;

function statusCode(error: unknown): number | undefined {
  return typeof error === 'object' && error !== null && 'statusCode' in error
    ? Number((error as { statusCode: unknown }).statusCode)
    : undefined;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * The container is gone: 404, or Podman 4.3's 500 for a container in the middle of being removed
 * ("does not exist in database: no such container", "container not known").
 */
function isGone(error: unknown): boolean {
  const code = statusCode(error);
  return code === 404 || (code === 500 && /no such container|container not known/.test(messageOf(error)));
}

/** Runs `action`, treating a gone container and the listed HTTP statuses (e.g. already stopped) as success. */
async function tolerating(statuses: number[], action: () => Promise<unknown>): Promise<void> {
  try {
    await action();
  } catch (error) {
    if (!isGone(error) && !statuses.includes(statusCode(error) ?? -1)) throw error;
  }
}

/**
 * A timestamp from inspect; `undefined` for Go's zero time ('0001-01-01T00:00:00Z'), which both
 * Docker and Podman report as StartedAt/FinishedAt of a container that never started or finished.
 */
function timestamp(value: string | undefined): Date | undefined {
  if (!value || value.startsWith('0001-01-01')) return undefined;
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? undefined : date;
}

/**
 * Docker's State.Status is created|running|paused|restarting|removing|exited|dead. Podman's
 * compatible API mostly maps its own states onto those, but libpod names (configured, initialized,
 * stopped, stopping) can appear; map both.
 */
function containerState(state: Inspect['State']): ContainerInfo['state'] {
  if (state.Running || state.Paused || state.Restarting) return 'running';
  switch (state.Status) {
    case 'created':
    case 'configured':
    case 'initialized':
      return 'created';
    default:
      return 'exited';
  }
}

function exitReason(state: Inspect['State']): string {
  if (state.OOMKilled) return 'OOMKilled';
  return state.ExitCode === 0 ? 'Completed' : 'Error';
}

/** Kubernetes' MilliCPUToShares: 1024 shares per core, at least 2. */
function cpuShares(milliCpu: number | undefined): number {
  return Math.max(2, Math.floor(((milliCpu ?? 0) * 1024) / 1000));
}

const component = '[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*';
const domain =
  '[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*(?::[0-9]+)?';
/** The distribution reference grammar: [domain/]path[:tag][@digest]. */
const imageReference = new RegExp(
  `^(?:${domain}/)?${component}(?:/${component})*(?::[\\w][\\w.-]{0,127})?(?:@[a-z0-9]+(?:[+._-][a-z0-9]+)*:[0-9a-fA-F]{32,})?$`,
);

function namePart(value: string): string {
  return value.replace(/[^a-zA-Z0-9_.-]/g, '-');
}

export class DockerRuntime implements ContainerRuntime {
  private readonly docker: Docker;
  private readonly node: string;
  private readonly network: string;
  private readonly sandboxImage: string;
  private readonly sandboxCommand: string[];
  private podman: Promise<boolean> | undefined;
  /** The last inspect of each container, with the list state it was taken in (see `list`). */
  private readonly inspections = new Map<string, { key: string; inspect: Inspect }>();

  constructor(options: DockerRuntimeOptions) {
    this.docker = new Docker({ socketPath: options.socketPath });
    this.node = options.node;
    this.network = options.network;
    this.sandboxImage = options.sandboxImage;
    this.sandboxCommand = options.sandboxCommand ?? ['sleep', '2147483647'];
  }

  // Images

  async ensureImage(image: string, policy: PullPolicy): Promise<void> {
    if (!imageReference.test(image))
      throw new ImageError('InvalidImageName', `invalid image name "${image}"`);
    if (policy !== 'Always' && (await this.imagePresent(image))) return;
    if (policy === 'Never')
      throw new ImageError(
        'ErrImageNeverPull',
        `image "${image}" is not present and the pull policy is Never`,
      );
    await this.pull(image);
  }

  private async imagePresent(image: string): Promise<boolean> {
    try {
      await this.docker.getImage(image).inspect();
      return true;
    } catch (error) {
      if (statusCode(error) === 404) return false;
      if (statusCode(error) === 400) throw new ImageError('InvalidImageName', messageOf(error));
      throw error;
    }
  }

  private async pull(image: string): Promise<void> {
    try {
      const stream = await this.docker.pull(image);
      const events = await new Promise<{ error?: string; errorDetail?: { message?: string } }[]>(
        (resolve, reject) =>
          this.docker.modem.followProgress(stream, (error, output) =>
            error ? reject(error) : resolve(output),
          ),
      );
      // A failed pull answers 200 all the same (Docker and Podman): the failure is an event in the
      // progress stream, which followProgress passes on as output, not as an error.
      const failure = events.find((event) => event.error || event.errorDetail);
      if (failure) throw new Error(failure.errorDetail?.message ?? failure.error);
    } catch (error) {
      // Docker answers a malformed reference with 400, Podman 4.3 with 500 "invalid reference format".
      if (statusCode(error) === 400 || /invalid reference format/.test(messageOf(error)))
        throw new ImageError('InvalidImageName', messageOf(error));
      throw new ImageError('ErrImagePull', `pulling image "${image}": ${messageOf(error)}`);
    }
    // Belt and braces: the engine said the pull worked, so the image must now be there.
    if (!(await this.imagePresent(image)))
      throw new ImageError(
        'ErrImagePull',
        `pulling image "${image}": the engine reported success but has no image`,
      );
  }

  // Sandboxes

  async startSandbox(spec: SandboxSpec): Promise<SandboxInfo> {
    await this.ensureImage(this.sandboxImage, 'IfNotPresent');
    const name = `k8s_POD_${namePart(spec.name)}_${namePart(spec.namespace)}_${spec.podUid.slice(0, 8)}`;
    const exposed: Record<string, object> = {};
    const bindings: Record<string, { HostIp: string; HostPort: string }[]> = {};
    for (const port of spec.ports) {
      if (!port.hostPort) continue;
      const key = `${port.containerPort}/${port.protocol.toLowerCase()}`;
      exposed[key] = {};
      bindings[key] = [
        ...(bindings[key] ?? []),
        { HostIp: port.hostIP ?? '', HostPort: String(port.hostPort) },
      ];
    }
    const options: Docker.ContainerCreateOptions = {
      name,
      Image: this.sandboxImage,
      Cmd: this.sandboxCommand,
      Labels: this.labelsFor(spec.podUid, spec.namespace, spec.name, 'POD', 'sandbox', 0),
      ...(spec.hostNetwork ? {} : { Hostname: spec.hostname }),
      ExposedPorts: exposed,
      HostConfig: {
        NetworkMode: spec.hostNetwork ? 'host' : this.network,
        // The sleep runs under an init so that stopping the sandbox does not wait out a grace period.
        Init: true,
        PortBindings: bindings,
        ...(spec.dns
          ? { Dns: spec.dns.servers, DnsSearch: spec.dns.searches, DnsOptions: spec.dns.options }
          : {}),
      },
    };
    let container: Docker.Container;
    try {
      container = await this.docker.createContainer(options);
    } catch (error) {
      // Docker answers a taken name with 409; Podman 4.3 with 500 "... that name is already in use".
      if (statusCode(error) !== 409 && !/already in use/.test(messageOf(error))) throw error;
      // The name is taken: a sandbox of this pod from before (an agent restart, or one that died).
      // Adopt it if it runs; otherwise replace it.
      const existing = await this.docker.getContainer(name).inspect();
      if (
        existing.Config.Labels?.[labels.node] !== this.node ||
        existing.Config.Labels?.[labels.podUid] !== spec.podUid
      )
        throw error;
      if (existing.State.Running) return this.sandboxInfo(existing);
      await this.removeSandbox(existing.Id);
      container = await this.docker.createContainer(options);
    }
    await container.start();
    return this.sandboxInfo(await container.inspect());
  }

  async listSandboxes(): Promise<SandboxInfo[]> {
    const found = await this.list();
    return found
      .filter((c) => c.Config.Labels?.[labels.containerKind] === 'sandbox')
      .map((c) => this.sandboxInfo(c));
  }

  /** Forcibly removes the pod's containers too, as CRI's RemovePodSandbox does. */
  async removeSandbox(id: string): Promise<void> {
    let sandbox: Inspect;
    try {
      sandbox = await this.docker.getContainer(id).inspect();
    } catch (error) {
      if (isGone(error)) return;
      throw error;
    }
    const podUid = sandbox.Config.Labels?.[labels.podUid];
    if (podUid) {
      // Podman refuses to remove a container whose network namespace others joined; Docker would
      // leave them without a network. Either way the pod's containers go first.
      const members = await this.docker.listContainers({
        all: true,
        filters: { label: [`${labels.node}=${this.node}`, `${labels.podUid}=${podUid}`] },
      });
      await Promise.all(members.filter((c) => c.Id !== sandbox.Id).map((c) => this.removeContainer(c.Id)));
    }
    await this.removeContainer(sandbox.Id);
  }

  private sandboxInfo(c: Inspect): SandboxInfo {
    const l = c.Config.Labels ?? {};
    const hostNetwork = c.HostConfig.NetworkMode === 'host';
    const ip = c.NetworkSettings.Networks?.[this.network]?.IPAddress;
    return {
      id: c.Id,
      podUid: l[labels.podUid] ?? '',
      namespace: l[labels.podNamespace] ?? '',
      name: l[labels.podName] ?? '',
      ...(ip && c.State.Running ? { ip } : {}),
      running: c.State.Running,
      createdAt: new Date(c.Created),
      ...(hostNetwork ? { hostNetwork } : {}),
    };
  }

  // Containers

  async createContainer(sandbox: SandboxInfo, spec: ContainerSpec): Promise<string> {
    const namespace = sandbox.namespace;
    const name = `k8s_${namePart(spec.name)}_${namePart(sandbox.name)}_${namePart(namespace)}_${spec.podUid.slice(0, 8)}_${spec.restartCount}`;
    const security = spec.security ?? {};
    // Kubernetes: command replaces ENTRYPOINT and, given alone, also drops the image's CMD (Docker
    // does the same when Entrypoint is set and Cmd is not); args alone replace only CMD.
    const user =
      security.runAsUser !== undefined
        ? `${security.runAsUser}${security.runAsGroup !== undefined ? `:${security.runAsGroup}` : ''}`
        : undefined;
    const podman = await this.isPodman();
    const container = await this.docker.createContainer({
      name,
      Image: spec.image,
      ...(spec.command ? { Entrypoint: spec.command } : {}),
      ...(spec.args ? { Cmd: spec.args } : {}),
      Env: spec.env.map((e) => `${e.name}=${e.value}`),
      ...(spec.workingDir ? { WorkingDir: spec.workingDir } : {}),
      ...(user ? { User: user } : {}),
      Labels: this.labelsFor(spec.podUid, namespace, sandbox.name, spec.name, spec.kind, spec.restartCount),
      OpenStdin: spec.stdin ?? false,
      StdinOnce: false,
      Tty: spec.tty ?? false,
      HostConfig: {
        NetworkMode: sandbox.hostNetwork ? 'host' : `container:${sandbox.id}`,
        // The pod's hostname is the sandbox's. Docker shares it with a container that joins another's
        // network (and only knows UTSMode "host"); Podman does not, but can join the UTS namespace.
        ...(podman && !sandbox.hostNetwork ? { UTSMode: `container:${sandbox.id}` } : {}),
        // PID 1 under an init handles SIGTERM (busybox httpd as PID 1 ignores it).
        Init: true,
        Binds: spec.mounts.map((m) => `${m.hostPath}:${m.containerPath}:${m.readOnly ? 'ro' : 'rw'}`),
        ...(spec.resources.cpuMilliLimit ? { NanoCpus: spec.resources.cpuMilliLimit * 1_000_000 } : {}),
        // No swap beyond the limit, as the kubelet runs containers.
        ...(spec.resources.memoryLimitBytes
          ? { Memory: spec.resources.memoryLimitBytes, MemorySwap: spec.resources.memoryLimitBytes }
          : {}),
        CpuShares: cpuShares(spec.resources.cpuMilliRequest),
        Privileged: security.privileged ?? false,
        ReadonlyRootfs: security.readOnlyRootFilesystem ?? false,
        ...(security.capAdd ? { CapAdd: security.capAdd } : {}),
        ...(security.capDrop ? { CapDrop: security.capDrop } : {}),
      },
    });
    return container.id;
  }

  async startContainer(id: string): Promise<void> {
    await this.docker.getContainer(id).start();
  }

  async listContainers(): Promise<ContainerInfo[]> {
    const found = await this.list();
    const infos: ContainerInfo[] = [];
    for (const c of found) {
      const l = c.Config.Labels ?? {};
      const kind = l[labels.containerKind];
      if (kind !== 'init' && kind !== 'regular') continue;
      const state = containerState(c.State);
      const startedAt = timestamp(c.State.StartedAt);
      const finishedAt = timestamp(c.State.FinishedAt);
      infos.push({
        id: c.Id,
        podUid: l[labels.podUid] ?? '',
        name: l[labels.containerName] ?? '',
        kind: kind as ContainerKind,
        restartCount: Number(l[labels.restartCount] ?? 0),
        image: c.Config.Image,
        imageId: c.Image,
        state,
        createdAt: new Date(c.Created),
        ...(startedAt ? { startedAt } : {}),
        ...(state === 'exited'
          ? {
              exitCode: c.State.ExitCode,
              reason: exitReason(c.State),
              // Podman records StartedAt when conmon reports the start, which for a process that
              // exits at once can be a few ms after FinishedAt; never report an end before the start.
              ...(finishedAt
                ? { finishedAt: startedAt && finishedAt < startedAt ? startedAt : finishedAt }
                : {}),
            }
          : {}),
        ...(state === 'running' && c.State.Pid ? { pid: c.State.Pid } : {}),
      });
    }
    return infos;
  }

  async stopContainer(id: string, graceSeconds: number): Promise<void> {
    // 304: already stopped.
    await tolerating([304], () =>
      this.docker.getContainer(id).stop({ t: Math.max(0, Math.ceil(graceSeconds)) }),
    );
  }

  async removeContainer(id: string): Promise<void> {
    // 409: a removal already in progress.
    await tolerating([409], () => this.docker.getContainer(id).remove({ force: true, v: true }));
  }

  async *logs(id: string, options: LogOptions): AsyncIterable<Buffer> {
    const container = this.docker.getContainer(id);
    const common = {
      stdout: true,
      stderr: true,
      timestamps: options.timestamps ?? false,
      ...(options.tail !== undefined ? { tail: options.tail } : {}),
      ...(options.sinceSeconds !== undefined
        ? { since: Math.floor(Date.now() / 1000) - options.sinceSeconds }
        : {}),
    };
    // With a TTY the stream is the terminal's raw bytes, without headers (Docker and Podman alike).
    const { Config } = await container.inspect();
    if (!options.follow) {
      const buffer = await container.logs({ ...common, follow: false });
      if (Config.Tty) yield buffer;
      else yield* demultiplex([buffer]);
      return;
    }
    if (options.signal?.aborted) return;
    const stream = (await container.logs({
      ...common,
      follow: true,
      ...(options.signal ? { abortSignal: options.signal } : {}),
    })) as NodeJS.ReadableStream & { destroy(): void };
    const source = stream as AsyncIterable<Buffer>;
    try {
      if (Config.Tty) for await (const chunk of source) yield chunk;
      else yield* demultiplex(source);
    } catch (error) {
      // Aborting destroys the response; that is the end of the stream, not a failure.
      if (!options.signal?.aborted) throw error;
    } finally {
      stream.destroy();
    }
  }

  async exec(
    id: string,
    command: string[],
    timeoutMs: number,
  ): Promise<{ exitCode: number; output: string }> {
    const exec = await this.docker.getContainer(id).exec({
      Cmd: command,
      AttachStdout: true,
      AttachStderr: true,
      AttachStdin: false,
      Tty: false,
    });
    const stream = (await exec.start({ hijack: true, stdin: false })) as NodeJS.ReadableStream & {
      destroy(): void;
    };
    let timer: NodeJS.Timeout | undefined;
    let timedOut = false;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        timedOut = true;
        stream.destroy();
        reject(
          new ExecTimeoutError(`exec ${JSON.stringify(command)} in ${id} timed out after ${timeoutMs} ms`),
        );
      }, timeoutMs);
    });
    const collect = async () => {
      const chunks: Buffer[] = [];
      try {
        for await (const chunk of demultiplex(stream as AsyncIterable<Buffer>)) chunks.push(chunk);
      } catch (error) {
        // The timeout destroyed the stream; its rejection is the answer.
        if (!timedOut) throw error;
      }
      return Buffer.concat(chunks).toString('utf8');
    };
    try {
      const output = await Promise.race([collect(), timeout]);
      // The stream can end a moment before the engine records the exit code.
      for (;;) {
        const info = await Promise.race([exec.inspect(), timeout]);
        if (!info.Running && info.ExitCode !== null) return { exitCode: info.ExitCode, output };
        await new Promise((r) => setTimeout(r, 20));
      }
    } finally {
      clearTimeout(timer);
    }
  }

  async execSession(
    id: string,
    command: string[],
    options: { stdin: boolean; tty: boolean },
  ): Promise<ExecSession> {
    const exec = await this.docker.getContainer(id).exec({
      Cmd: command,
      AttachStdin: options.stdin,
      AttachStdout: true,
      AttachStderr: true,
      Tty: options.tty,
    });
    const stream = (await exec.start({
      hijack: true,
      stdin: options.stdin,
      Tty: options.tty,
    })) as NodeJS.ReadWriteStream & {
      destroy(): void;
    };
    // Errors after the client left (a write to a closed connection) end the session; they are not news.
    stream.on('error', () => {});
    async function* output(): AsyncGenerator<{ stream: 'stdout' | 'stderr'; data: Buffer }> {
      const source = stream as AsyncIterable<Buffer>;
      if (options.tty) for await (const data of source) yield { stream: 'stdout', data };
      else
        for await (const frame of demultiplexFrames(source))
          yield { stream: frame.stream === 2 ? 'stderr' : 'stdout', data: frame.payload };
    }
    return {
      output: output(),
      write: (data) => void stream.write(data),
      closeStdin: () => void stream.end(),
      resize: async (width, height) => {
        await tolerating([409, 500], () => exec.resize({ w: width, h: height }));
      },
      exitCode: async () => {
        // The stream can end a moment before the engine records the exit code.
        for (;;) {
          const info = await exec.inspect();
          if (!info.Running && info.ExitCode !== null) return info.ExitCode;
          await new Promise((r) => setTimeout(r, 20));
        }
      },
      close: () => stream.destroy(),
    };
  }

  async version(): Promise<string> {
    const version = await this.docker.version();
    return `${(await this.isPodman()) ? 'podman' : 'docker'}://${version.Version}`;
  }

  // Shared

  /** Whether the engine is Podman's compatible service (it names itself in /version's components). */
  private isPodman(): Promise<boolean> {
    this.podman ??= this.docker.version().then(
      (version) => (version.Components ?? []).some((c) => /podman/i.test(c.Name)),
      (error: unknown) => {
        this.podman = undefined;
        throw error;
      },
    );
    return this.podman;
  }

  private labelsFor(
    podUid: string,
    namespace: string,
    podName: string,
    containerName: string,
    kind: ContainerKind | 'sandbox',
    restartCount: number,
  ): Record<string, string> {
    return {
      [labels.node]: this.node,
      [labels.podUid]: podUid,
      [labels.podNamespace]: namespace,
      [labels.podName]: podName,
      [labels.containerName]: containerName,
      [labels.containerKind]: kind,
      [labels.restartCount]: String(restartCount),
    };
  }

  /** This node's containers (all states, optionally narrowed by one more label), inspected. */
  /**
   * This node's containers and sandboxes, inspected. Concurrent callers (the relist, pod syncs) share
   * one list taken after they asked. A container's inspect changes only with its state (created →
   * running → exited: a restart is a new container), so it is kept per id and state, and a relist of an
   * unchanged node costs the engine one list call instead of one inspect per container.
   */
  private readonly list = coalesced(() => this.listInspected());

  private async listInspected(): Promise<Inspect[]> {
    const found = await this.docker.listContainers({
      all: true,
      filters: { label: [`${labels.node}=${this.node}`] },
    });
    const inspected = await Promise.all(
      found.map(async (c) => {
        const key = `${c.Id}/${c.State}`;
        const cached = this.inspections.get(c.Id);
        if (cached?.key === key) return cached.inspect;
        try {
          const inspect = await this.docker.getContainer(c.Id).inspect();
          this.inspections.set(c.Id, { key, inspect });
          return inspect;
        } catch (error) {
          // Removed between list and inspect.
          if (isGone(error)) return undefined;
          throw error;
        }
      }),
    );
    const listed = new Set(found.map((c) => c.Id));
    for (const id of this.inspections.keys()) if (!listed.has(id)) this.inspections.delete(id);
    // Belt and braces: keep only what carries this node's label, whatever the engine's filter did.
    return inspected.filter(
      (c): c is Inspect => c !== undefined && c.Config.Labels?.[labels.node] === this.node,
    );
  }
}
