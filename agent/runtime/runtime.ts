/**
 * What the kubelet asks of a container engine: pod sandboxes (the network holder each pod's
 * containers join), containers, images, logs and exec. Pure types; `docker.ts` implements them over
 * the Docker Engine API (Docker on EC2, Podman's compatible service locally).
 */

export type PullPolicy = 'Always' | 'IfNotPresent' | 'Never';

export interface PortMapping {
  containerPort: number;
  hostPort: number;
  protocol: 'TCP' | 'UDP';
  hostIP?: string;
}

export interface Mount {
  hostPath: string;
  containerPath: string;
  readOnly: boolean;
}

export interface SandboxSpec {
  podUid: string;
  namespace: string;
  name: string;
  hostname: string;
  dns?: { servers: string[]; searches: string[]; options: string[] };
  /** hostPort mappings of all the pod's containers (published on the sandbox). */
  ports: PortMapping[];
  hostNetwork?: boolean;
}

export interface SandboxInfo {
  id: string;
  podUid: string;
  namespace: string;
  name: string;
  /** The pod IP on the node's network; absent for host-network pods and stopped sandboxes. */
  ip?: string;
  running: boolean;
  createdAt: Date;
  hostNetwork?: boolean;
}

export type ContainerKind = 'init' | 'regular';

export interface ContainerSpec {
  podUid: string;
  name: string;
  kind: ContainerKind;
  /** Recorded as a label, so status survives agent restarts. */
  restartCount: number;
  image: string;
  /** Kubernetes semantics: `command` replaces the image's ENTRYPOINT, `args` its CMD. */
  command?: string[];
  args?: string[];
  env: { name: string; value: string }[];
  workingDir?: string;
  mounts: Mount[];
  resources: { cpuMilliLimit?: number; memoryLimitBytes?: number; cpuMilliRequest?: number };
  security?: {
    runAsUser?: number;
    runAsGroup?: number;
    privileged?: boolean;
    readOnlyRootFilesystem?: boolean;
    capAdd?: string[];
    capDrop?: string[];
  };
  stdin?: boolean;
  tty?: boolean;
}

export interface ContainerInfo {
  id: string;
  podUid: string;
  name: string;
  kind: ContainerKind;
  restartCount: number;
  image: string;
  imageId: string;
  state: 'created' | 'running' | 'exited';
  createdAt: Date;
  startedAt?: Date;
  finishedAt?: Date;
  exitCode?: number;
  /** For exited containers: 'Completed' (exit 0), 'Error' or 'OOMKilled'. */
  reason?: string;
  pid?: number;
}

/** An image that could not be made present; `reason` is the container's waiting reason. */
export class ImageError extends Error {
  override readonly name = 'ImageError';
  constructor(
    readonly reason: 'ErrImagePull' | 'ErrImageNeverPull' | 'InvalidImageName',
    message: string,
  ) {
    super(message);
  }
}

/** An exec (probe) that did not finish within its timeout. */
export class ExecTimeoutError extends Error {
  override readonly name = 'ExecTimeoutError';
}

export interface LogOptions {
  follow?: boolean;
  tail?: number;
  timestamps?: boolean;
  sinceSeconds?: number;
  /** Ends a followed stream (the iteration finishes without an error). */
  signal?: AbortSignal;
}

/** An interactive command in a container (`kubectl exec`). */
export interface ExecSession {
  /** stdout and stderr as written; with a TTY everything is stdout. Ends when the command does. */
  output: AsyncIterable<{ stream: 'stdout' | 'stderr'; data: Buffer }>;
  write(data: Buffer): void;
  /** Ends the command's stdin (it reads EOF). */
  closeStdin(): void;
  resize(width: number, height: number): Promise<void>;
  /** The command's exit code, once it is done. */
  exitCode(): Promise<number>;
  /** Drops the connection (the client went away); the command gets a hangup. */
  close(): void;
}

export interface ContainerRuntime {
  /** The engine and its version as a node reports it: `docker://28.2.2`, `podman://4.3.1`. */
  version(): Promise<string>;
  /** Makes `image` present according to `policy`, or throws an `ImageError`. */
  ensureImage(image: string, policy: PullPolicy): Promise<void>;
  /** Creates and starts the pod's network holder. */
  startSandbox(spec: SandboxSpec): Promise<SandboxInfo>;
  /** Only this node's sandboxes, running or not. */
  listSandboxes(): Promise<SandboxInfo[]>;
  /** Stops and removes; idempotent. */
  removeSandbox(id: string): Promise<void>;
  createContainer(sandbox: SandboxInfo, spec: ContainerSpec): Promise<string>;
  startContainer(id: string): Promise<void>;
  /** Only this node's containers (not sandboxes), in all states. */
  listContainers(): Promise<ContainerInfo[]>;
  /** SIGTERM, then SIGKILL after the grace period; idempotent. */
  stopContainer(id: string, graceSeconds: number): Promise<void>;
  /** Idempotent. */
  removeContainer(id: string): Promise<void>;
  /** stdout and stderr, demultiplexed, in the order written. */
  logs(id: string, options: LogOptions): AsyncIterable<Buffer>;
  /** For exec probes: the combined output and exit code; throws `ExecTimeoutError` after `timeoutMs`. */
  exec(id: string, command: string[], timeoutMs: number): Promise<{ exitCode: number; output: string }>;
  /** Starts `command` attached to the caller: what `kubectl exec` runs. */
  execSession(id: string, command: string[], options: { stdin: boolean; tty: boolean }): Promise<ExecSession>;
}
