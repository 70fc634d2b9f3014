/**
 * A container runtime that runs nothing: sandboxes and containers exist in memory only, a started
 * container runs until it is stopped (it never exits by itself), every image is present. With it the
 * real agent (heartbeats, pod source, kubelet, status) plays a node without containers, as KWOK does
 * for upstream: the cost scenarios run tens of nodes and hundreds of pods this way on one machine.
 * Logs are empty; exec is refused.
 */
import { randomUUID } from 'node:crypto';
import type {
  ContainerInfo,
  ContainerRuntime,
  ContainerSpec,
  ExecSession,
  SandboxInfo,
  SandboxSpec,
} from './runtime.js';

export class SimulatedRuntime implements ContainerRuntime {
  private readonly sandboxes = new Map<string, SandboxInfo>();
  private readonly containers = new Map<string, ContainerInfo>();
  private nextIp = 2;

  /** `podCIDR`'s first three octets give the pods' addresses (`10.244.3.0/24` → 10.244.3.2, …). */
  constructor(private readonly podCIDR: string) {}

  async version(): Promise<string> {
    return 'simulated://1.0.0';
  }

  async ensureImage(): Promise<void> {}

  async startSandbox(spec: SandboxSpec): Promise<SandboxInfo> {
    const prefix = this.podCIDR.split('.').slice(0, 3).join('.');
    const sandbox: SandboxInfo = {
      id: randomUUID(),
      podUid: spec.podUid,
      namespace: spec.namespace,
      name: spec.name,
      running: true,
      createdAt: new Date(),
      ...(spec.hostNetwork ? { hostNetwork: true } : { ip: `${prefix}.${(this.nextIp++ % 250) + 2}` }),
    };
    this.sandboxes.set(sandbox.id, sandbox);
    return { ...sandbox };
  }

  async listSandboxes(): Promise<SandboxInfo[]> {
    return [...this.sandboxes.values()].map((s) => ({ ...s }));
  }

  async removeSandbox(id: string): Promise<void> {
    this.sandboxes.delete(id);
  }

  async createContainer(sandbox: SandboxInfo, spec: ContainerSpec): Promise<string> {
    const id = randomUUID();
    this.containers.set(id, {
      id,
      podUid: sandbox.podUid,
      name: spec.name,
      kind: spec.kind,
      restartCount: spec.restartCount,
      image: spec.image,
      imageId: `simulated://${spec.image}`,
      state: 'created',
      createdAt: new Date(),
    });
    return id;
  }

  async startContainer(id: string): Promise<void> {
    const container = this.find(id);
    container.state = 'running';
    container.startedAt = new Date();
  }

  async listContainers(): Promise<ContainerInfo[]> {
    return [...this.containers.values()].map((c) => ({ ...c }));
  }

  async stopContainer(id: string): Promise<void> {
    const container = this.containers.get(id);
    if (!container || container.state === 'exited') return;
    Object.assign(container, { state: 'exited', finishedAt: new Date(), exitCode: 0, reason: 'Completed' });
  }

  async removeContainer(id: string): Promise<void> {
    this.containers.delete(id);
  }

  async *logs(): AsyncIterable<Buffer> {}

  async exec(): Promise<{ exitCode: number; output: string }> {
    return { exitCode: 0, output: '' };
  }

  async execSession(): Promise<ExecSession> {
    throw new Error('a simulated node runs no commands');
  }

  private find(id: string): ContainerInfo {
    const container = this.containers.get(id);
    if (!container) throw new Error(`no such container ${id}`);
    return container;
  }
}
