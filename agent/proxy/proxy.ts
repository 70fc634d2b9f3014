/**
 * The agent's kube-proxy: turns the latest Services and EndpointSlices into iptables rules.
 *
 * Level-based and coalescing: `update` only records the latest state; one sync at a time reads our
 * current chains, restores the whole rule set and checks the jumps. Updates arriving while a sync runs
 * are folded into the next one, so a burst of N updates costs at most two restores.
 */
import type { Service } from '../../shared/api/core.js';
import { Iptables } from './iptables.js';
import { buildRules, type EndpointSlice } from './rules.js';

/** What the proxy needs of iptables.ts (a wrapper may count or log calls). */
export interface ProxyIptables {
  readonly prefix: string;
  currentChains(): Promise<string[]>;
  apply(text: string): Promise<void>;
  ensureJumps(): Promise<void>;
  cleanup(): Promise<void>;
}

export interface ServiceProxyOptions {
  iptables?: ProxyIptables;
  /** Pod CIDR of the whole cluster (see rules.ts `clusterCIDR`). */
  clusterCIDR?: string;
}

interface State {
  services: readonly Service[];
  slices: readonly EndpointSlice[];
}

interface Waiter {
  generation: number;
  resolve: () => void;
  reject: (error: unknown) => void;
}

export class ServiceProxy {
  private readonly iptables: ProxyIptables;
  private readonly clusterCIDR: string | undefined;
  private latest: State | undefined;
  private generation = 0;
  private running: Promise<void> | undefined;
  private waiters: Waiter[] = [];
  private stopped = false;

  constructor(options: ServiceProxyOptions = {}) {
    this.iptables = options.iptables ?? new Iptables();
    this.clusterCIDR = options.clusterCIDR;
  }

  /**
   * Records the latest state and makes sure a sync will apply it. Resolves once rules covering this
   * state (or a later one) are in place; rejects if that sync failed (the next update retries, since
   * every sync rewrites the whole rule set).
   */
  update(services: readonly Service[], slices: readonly EndpointSlice[]): Promise<void> {
    if (this.stopped) return Promise.reject(new Error('service proxy stopped'));
    this.latest = { services, slices };
    const generation = ++this.generation;
    const done = new Promise<void>((resolve, reject) => this.waiters.push({ generation, resolve, reject }));
    this.running ??= this.loop().finally(() => {
      this.running = undefined;
    });
    return done;
  }

  /** Waits for the sync in flight; with `cleanup`, removes every rule and chain of ours. */
  async stop(options: { cleanup?: boolean } = {}): Promise<void> {
    this.stopped = true;
    await this.running;
    if (options.cleanup) await this.iptables.cleanup();
  }

  private async loop(): Promise<void> {
    let applied = 0;
    while (applied < this.generation && this.latest) {
      const generation = this.generation;
      const { services, slices } = this.latest;
      let failure: { error: unknown } | undefined;
      try {
        await this.sync(services, slices);
      } catch (error) {
        failure = { error };
      }
      applied = generation;
      const settled = this.waiters.filter((w) => w.generation <= generation);
      this.waiters = this.waiters.filter((w) => w.generation > generation);
      for (const waiter of settled) {
        if (failure) waiter.reject(failure.error);
        else waiter.resolve();
      }
    }
  }

  private async sync(services: readonly Service[], slices: readonly EndpointSlice[]): Promise<void> {
    const currentChains = await this.iptables.currentChains();
    const options = { prefix: this.iptables.prefix, currentChains, clusterCIDR: this.clusterCIDR };
    await this.iptables.apply(buildRules(services, slices, options));
    await this.iptables.ensureJumps();
  }
}
