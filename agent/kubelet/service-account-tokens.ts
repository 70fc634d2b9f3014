/**
 * The tokens of projected `serviceAccountToken` volume sources, as the kubelet's token manager keeps
 * them: requested through TokenRequest bound to the pod (so they die with it), cached per pod,
 * audience and lifetime, and requested again once 80% of a token's life has passed (or after 24 h).
 * A pod's volumes are refreshed on every sync, and pods are resynced every minute, so a running pod's
 * file always holds a live token. If a renewal fails, the old token is kept while it is still valid.
 */
import type { Pod } from '../../shared/api/core.js';
import { resourceType } from '../../shared/api/resources.js';
import type { ApiClient } from '../../shared/client/client.js';
import { ConfigError } from './env.js';

export interface TokenSource {
  audience?: string;
  expirationSeconds?: number;
  path: string;
}

const serviceAccounts = resourceType('serviceaccounts');
const dayMs = 24 * 60 * 60 * 1000;

interface Cached {
  token: string;
  expiresAt: number;
  refreshAt: number;
}

export class ServiceAccountTokens {
  private readonly cache = new Map<string, Cached>();

  constructor(
    private readonly client: ApiClient,
    private readonly now: () => number = Date.now,
  ) {}

  async token(pod: Pod, source: TokenSource): Promise<string> {
    const uid = pod.metadata.uid as string;
    const key = [uid, source.audience ?? '', source.expirationSeconds ?? ''].join('\0');
    const cached = this.cache.get(key);
    const at = this.now();
    if (cached && at < cached.refreshAt) return cached.token;
    try {
      const fresh = await this.request(pod, source, at);
      this.cache.set(key, fresh);
      return fresh.token;
    } catch (error) {
      if (cached && at < cached.expiresAt) return cached.token;
      const why = error instanceof Error ? error.message : String(error);
      throw new ConfigError(`failed to fetch token: ${why}`);
    }
  }

  /** Forgets a pod's tokens (it is gone). */
  forget(podUid: string): void {
    for (const key of this.cache.keys()) if (key.startsWith(`${podUid}\0`)) this.cache.delete(key);
  }

  private async request(pod: Pod, source: TokenSource, at: number): Promise<Cached> {
    const namespace = pod.metadata.namespace as string;
    const serviceAccount = (pod.spec.serviceAccountName as string | undefined) || 'default';
    const answer = (await this.client.post(serviceAccounts, namespace, serviceAccount, 'token', {
      apiVersion: 'authentication.k8s.io/v1',
      kind: 'TokenRequest',
      spec: {
        audiences: source.audience ? [source.audience] : [],
        expirationSeconds: source.expirationSeconds ?? 3600,
        boundObjectRef: { apiVersion: 'v1', kind: 'Pod', name: pod.metadata.name, uid: pod.metadata.uid },
      },
    })) as { status?: { token?: string; expirationTimestamp?: string } };
    const token = answer.status?.token;
    const expiresAt = Date.parse(answer.status?.expirationTimestamp ?? '');
    if (!token || Number.isNaN(expiresAt)) throw new Error('the TokenRequest answer holds no token');
    return { token, expiresAt, refreshAt: Math.min(at + 0.8 * (expiresAt - at), at + dayMs) };
  }
}
