/**
 * The bearer token `aws eks get-token` prints: `k8s-aws-v1.` and the unpadded base64url of an STS
 * GetCallerIdentity URL presigned with SigV4. Whoever holds it can ask STS "who signed this?" and
 * nothing more, so the API server learns the caller's IAM identity without ever seeing a secret. The
 * cluster's name travels in the signed header `x-k8s-aws-id`: STS checks the signature against the
 * header the *verifier* sends, so a token minted for another cluster fails there.
 *
 * Agents on EC2 mint one with their instance role's credentials; tests mint them with fake ones.
 */
import { createHash, createHmac, type Hash, type Hmac } from 'node:crypto';
import { SignatureV4 } from '@smithy/signature-v4';
import type {
  AwsCredentialIdentity,
  AwsCredentialIdentityProvider,
  Checksum,
  SourceData,
} from '@smithy/types';

export const EKS_TOKEN_PREFIX = 'k8s-aws-v1.';
/** The signed header that binds a token to one cluster. */
export const CLUSTER_ID_HEADER = 'x-k8s-aws-id';
/**
 * What the token asks for in X-Amz-Expires. STS ignores it for GetCallerIdentity (a presigned call is
 * good for 15 minutes after X-Amz-Date whatever it says); 60 is what every client sends because
 * authenticators up to 0.3.0 refused anything above.
 */
export const PRESIGN_EXPIRES_SECONDS = 60;
/** How long STS honours a presigned GetCallerIdentity: callers may reuse a token for a little less. */
export const PRESIGNED_URL_LIFETIME_SECONDS = 15 * 60;

/** STS's regional endpoint; China's regions live under `amazonaws.com.cn`. */
export function stsHostname(region: string): string {
  return region.startsWith('cn-') ? `sts.${region}.amazonaws.com.cn` : `sts.${region}.amazonaws.com`;
}

/**
 * SHA-256 and HMAC-SHA256 for the signer, from node:crypto (the SDK's own `Hash` sits in a private
 * corner of @smithy/core, and @aws-crypto is not installed).
 */
export class NodeSha256 implements Checksum {
  readonly #secret: SourceData | undefined;
  #hash: Hash | Hmac;

  constructor(secret?: SourceData) {
    this.#secret = secret;
    this.#hash = this.#fresh();
  }

  update(chunk: Uint8Array): void {
    this.#hash.update(chunk);
  }

  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.#hash.digest());
  }

  reset(): void {
    this.#hash = this.#fresh();
  }

  #fresh(): Hash | Hmac {
    const secret = this.#secret;
    if (secret === undefined) return createHash('sha256');
    if (typeof secret === 'string') return createHmac('sha256', secret);
    const bytes = ArrayBuffer.isView(secret)
      ? new Uint8Array(secret.buffer, secret.byteOffset, secret.byteLength)
      : new Uint8Array(secret);
    return createHmac('sha256', bytes);
  }
}

/** RFC 3986 encoding as SigV4 wants it (encodeURIComponent leaves `!'()*` alone). */
const sigv4Escape = (value: string) =>
  encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

/** The order the AWS CLI writes them in, so that our tokens match `aws eks get-token`'s byte for byte. */
const queryOrder = [
  'Action',
  'Version',
  'X-Amz-Algorithm',
  'X-Amz-Credential',
  'X-Amz-Date',
  'X-Amz-Expires',
  'X-Amz-SignedHeaders',
  'X-Amz-Security-Token',
  'X-Amz-Signature',
];

export interface EksTokenOptions {
  clusterName: string;
  region: string;
  /** Static keys, or a provider such as the SDK's instance-metadata one (it caches and refreshes). */
  credentials: AwsCredentialIdentity | AwsCredentialIdentityProvider;
  /** The signing time (defaults to the clock); the token is good for 15 minutes after it. */
  now?: Date;
}

/** A token for `clusterName`, as `aws eks get-token --cluster-name <clusterName> --region <region>`. */
export async function eksToken({ clusterName, region, credentials, now }: EksTokenOptions): Promise<string> {
  const hostname = stsHostname(region);
  const signer = new SignatureV4({ service: 'sts', region, credentials, sha256: NodeSha256 });
  const presigned = await signer.presign(
    {
      method: 'GET',
      protocol: 'https:',
      hostname,
      path: '/',
      query: { Action: 'GetCallerIdentity', Version: '2011-06-15' },
      headers: { host: hostname, [CLUSTER_ID_HEADER]: clusterName },
    },
    { expiresIn: PRESIGN_EXPIRES_SECONDS, signingDate: now ?? new Date() },
  );
  const rank = (name: string) => (queryOrder.includes(name) ? queryOrder.indexOf(name) : queryOrder.length);
  const query = Object.entries(presigned.query ?? {})
    .sort(([a], [b]) => rank(a) - rank(b))
    .map(([name, value]) => `${name}=${sigv4Escape(String(value))}`)
    .join('&');
  const url = `https://${hostname}/?${query}`;
  return EKS_TOKEN_PREFIX + Buffer.from(url, 'utf8').toString('base64url');
}

/** How long a minted token is reused: as `aws eks get-token`, a minute short of its 15. */
const reuseMs = (PRESIGNED_URL_LIFETIME_SECONDS - 60) * 1000;

/**
 * A bearer token source for an API client: a token minted with the credentials (an instance role's,
 * refreshed by the SDK's provider) and reused for 14 minutes, as kubectl reuses `aws eks get-token`'s.
 */
export function eksTokenSource(
  options: Omit<EksTokenOptions, 'now'>,
  now: () => number = Date.now,
): () => Promise<string> {
  let current: { token: Promise<string>; until: number } | undefined;
  return () => {
    const at = now();
    if (!current || at >= current.until) {
      const token = eksToken({ ...options, now: new Date(at) });
      current = { token, until: at + reuseMs };
      // A failed mint is not reused: the next request tries again.
      token.catch(() => {
        if (current?.token === token) current = undefined;
      });
    }
    return current.token;
  };
}
