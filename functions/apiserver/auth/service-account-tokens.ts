/**
 * Service account tokens: the JWTs the API server signs for TokenRequest (`kubectl create token`) and
 * projected token volumes, and the authenticator that accepts them back, as kube-apiserver's bound
 * service account tokens (pkg/serviceaccount: claims.go, jwt.go).
 *
 * The signing key is Ed25519 derived from one secret string, so AWS keeps it as one generated Secrets
 * Manager secret and the local cluster as one generated file: nothing else to rotate or distribute.
 * Verification is by signature and claims first, then against the store: a token stops working as soon
 * as its service account (or the pod or secret it is bound to) is deleted or recreated.
 */
import { createHash, createPrivateKey, createPublicKey, randomUUID, webcrypto } from 'node:crypto';
import { decodeJwt, decodeProtectedHeader, type JWK, type JWTPayload, jwtVerify, SignJWT } from 'jose';
import type { Authenticator, User } from './types.js';

// ----- The key -------------------------------------------------------------------------------------

/** The only JWS algorithm we sign with and accept: no `none`, no HMAC to be confused with a public key. */
export const signingAlgorithm = 'EdDSA';

/** Below this a generated password is not worth its name; a typo'd or empty setting must not sign tokens. */
export const minimumSecretLength = 32;

/** PKCS#8 DER for an Ed25519 private key, up to the 32-byte seed that follows it (RFC 8410). */
const ed25519Pkcs8Prefix = Buffer.from('302e020100300506032b657004220420', 'hex');

export interface ServiceAccountKeys {
  /** base64url SHA-256 of the public key's SubjectPublicKeyInfo DER: kube-apiserver's key id. */
  readonly kid: string;
  readonly privateKey: webcrypto.CryptoKey;
  readonly publicKey: webcrypto.CryptoKey;
  /** The public key as served in the JWKS (with kid, alg and use). */
  readonly publicJwk: JWK;
}

/**
 * The signing key a secret string stands for: its SHA-256 is the Ed25519 seed, so the same secret
 * always gives the same key (and kid) in every container. Surrounding whitespace is ignored, as
 * `readToken` ignores it, so a trailing newline in the local file does not change the key.
 */
export async function signingKeyFromSecret(secret: string): Promise<ServiceAccountKeys> {
  const material = secret.trim();
  if (material === '') throw new Error('the service account signing secret is empty');
  if (material.length < minimumSecretLength) {
    throw new Error(`the service account signing secret is shorter than ${minimumSecretLength} characters`);
  }
  const seed = createHash('sha256').update(material).digest();
  const pkcs8 = Buffer.concat([ed25519Pkcs8Prefix, seed]);
  const publicKeyObject = createPublicKey(createPrivateKey({ key: pkcs8, format: 'der', type: 'pkcs8' }));
  const spki = publicKeyObject.export({ type: 'spki', format: 'der' });
  // Upstream's keyIDFromPublicKey: a kid that names the key without revealing it.
  const kid = createHash('sha256').update(spki).digest('base64url');
  const { kty, crv, x } = publicKeyObject.export({ format: 'jwk' });
  const ed25519 = { name: 'Ed25519' };
  const [privateKey, publicKey] = await Promise.all([
    webcrypto.subtle.importKey('pkcs8', pkcs8, ed25519, false, ['sign']),
    webcrypto.subtle.importKey('spki', spki, ed25519, true, ['verify']),
  ]);
  const publicJwk: JWK = { kty, crv, x, kid, alg: signingAlgorithm, use: 'sig' };
  return Object.freeze({ kid, privateKey, publicKey, publicJwk });
}

/** The document served at `/openid/v1/jwks`: what an external verifier (IAM, Vault…) checks tokens with. */
export function publicJwks(keys: ServiceAccountKeys): { keys: JWK[] } {
  return { keys: [{ ...keys.publicJwk }] };
}

/** The document served at `/.well-known/openid-configuration`, as kube-apiserver's. */
export function openIdConfiguration(issuer: string) {
  return {
    issuer,
    jwks_uri: `${issuer.replace(/\/$/, '')}/openid/v1/jwks`,
    response_types_supported: ['id_token'],
    subject_types_supported: ['public'],
    id_token_signing_alg_values_supported: [signingAlgorithm],
  };
}

// ----- What a token says ---------------------------------------------------------------------------

export interface ObjectRef {
  name: string;
  uid: string;
}

/** Whom a token speaks for and what it dies with. */
export interface TokenBinding {
  serviceAccount: { namespace: string; name: string; uid: string };
  /** Bound to a pod (projected volumes, TokenRequest boundObjectRef kind Pod). */
  pod?: ObjectRef;
  /** Bound to a secret (TokenRequest boundObjectRef kind Secret). */
  secret?: ObjectRef;
  /** The node the pod runs on, when known (informational: nodes are not looked up). */
  node?: ObjectRef;
}

/** The user name of a service account: what RBAC subjects of kind ServiceAccount stand for. */
export function serviceAccountUsername(namespace: string, name: string): string {
  return `system:serviceaccount:${namespace}:${name}`;
}

/** The private `kubernetes.io` claim, as upstream's `privateClaims`. */
function kubernetesClaim({ serviceAccount, pod, secret, node }: TokenBinding) {
  const ref = ({ name, uid }: ObjectRef) => ({ name, uid });
  return {
    namespace: serviceAccount.namespace,
    serviceaccount: ref(serviceAccount),
    ...(pod ? { pod: ref(pod) } : {}),
    ...(secret ? { secret: ref(secret) } : {}),
    ...(node ? { node: ref(node) } : {}),
  };
}

const isNonEmptyString = (value: unknown): value is string => typeof value === 'string' && value !== '';
const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** A `{name, uid}` reference; undefined when absent, null when present but malformed. */
function parseRef(value: unknown): ObjectRef | undefined | null {
  if (value === undefined) return undefined;
  if (!isRecord(value) || !isNonEmptyString(value.name) || !isNonEmptyString(value.uid)) return null;
  return { name: value.name, uid: value.uid };
}

/** The binding a `kubernetes.io` claim describes, or undefined when any part of it is malformed. */
export function parseKubernetesClaim(claim: unknown): TokenBinding | undefined {
  if (!isRecord(claim) || !isNonEmptyString(claim.namespace)) return undefined;
  const serviceAccount = parseRef(claim.serviceaccount);
  const pod = parseRef(claim.pod);
  const secret = parseRef(claim.secret);
  const node = parseRef(claim.node);
  if (!serviceAccount || pod === null || secret === null || node === null) return undefined;
  // We never issue both (upstream binds to one object); a token claiming both is not one of ours.
  if (pod && secret) return undefined;
  return {
    serviceAccount: { namespace: claim.namespace, ...serviceAccount },
    ...(pod ? { pod } : {}),
    ...(secret ? { secret } : {}),
    ...(node ? { node } : {}),
  };
}

// ----- Issuing -------------------------------------------------------------------------------------

/** TokenRequest's floor: shorter tokens would expire before a kubelet refreshes them. */
export const minExpirationSeconds = 600;
/** TokenRequest's default, when `spec.expirationSeconds` is not given. */
export const defaultExpirationSeconds = 3600;
/** Longer requests are shortened to this, as kube-apiserver's `--service-account-max-token-expiration`. */
export const maxExpirationSeconds = 48 * 60 * 60;

/**
 * What is wrong with a TokenRequest's `spec.expirationSeconds` (upstream's messages, for a 422 Invalid
 * on that field), or undefined when it is acceptable.
 */
export function validateExpirationSeconds(seconds: number): string | undefined {
  if (!Number.isSafeInteger(seconds)) return 'must be a whole number of seconds';
  if (seconds < minExpirationSeconds) return 'may not specify a duration less than 10 minutes';
  if (seconds > 2 ** 32) return 'may not specify a duration larger than 2^32 seconds';
  return undefined;
}

/** How long a token requested for `seconds` actually lives: capped at {@link maxExpirationSeconds}. */
export function grantedExpirationSeconds(seconds: number): number {
  return Math.min(seconds, maxExpirationSeconds);
}

export interface IssueOptions {
  binding: TokenBinding;
  /** Who the token is for (`aud`); the caller defaults an empty request to the API's own audiences. */
  audiences: string[];
  /** Requested lifetime; {@link defaultExpirationSeconds} when not given, capped at the maximum. */
  expirationSeconds?: number;
  issuer: string;
  now?: Date;
}

export interface IssuedToken {
  token: string;
  /** RFC 3339, as TokenRequest's `status.expirationTimestamp`. */
  expirationTimestamp: string;
}

const toRfc3339 = (epochSeconds: number) => new Date(epochSeconds * 1000).toISOString().replace('.000Z', 'Z');

/** Signs a token for a service account; throws on arguments the caller should have rejected. */
export async function issueToken(keys: ServiceAccountKeys, options: IssueOptions): Promise<IssuedToken> {
  const {
    binding,
    audiences,
    issuer,
    expirationSeconds = defaultExpirationSeconds,
    now = new Date(),
  } = options;
  const problem = validateExpirationSeconds(expirationSeconds);
  if (problem) throw new Error(`expirationSeconds ${expirationSeconds}: ${problem}`);
  if (audiences.length === 0) throw new Error('a service account token needs at least one audience');
  if (binding.pod && binding.secret)
    throw new Error('a service account token binds to a pod or a secret, not both');
  const { namespace, name } = binding.serviceAccount;
  const issuedAt = Math.floor(now.getTime() / 1000);
  const expiresAt = issuedAt + grantedExpirationSeconds(expirationSeconds);
  const token = await new SignJWT({ 'kubernetes.io': kubernetesClaim(binding) })
    .setProtectedHeader({ alg: signingAlgorithm, kid: keys.kid })
    .setIssuer(issuer)
    .setSubject(serviceAccountUsername(namespace, name))
    .setAudience([...audiences])
    .setIssuedAt(issuedAt)
    .setNotBefore(issuedAt)
    .setExpirationTime(expiresAt)
    .setJti(randomUUID())
    .sign(keys.privateKey);
  return { token, expirationTimestamp: toRfc3339(expiresAt) };
}

// ----- Verifying -----------------------------------------------------------------------------------

/**
 * Clock skew allowed on `exp` and `nbf`, and how long a deleted object's tokens outlive its
 * deletionTimestamp: upstream's go-jose `DefaultLeeway`, one minute.
 */
export const leewaySeconds = 60;

export interface VerifyOptions {
  issuer: string;
  /** The audiences this server accepts: the token must name at least one. */
  audiences: string[];
  now?: Date;
}

export interface VerifiedClaims {
  binding: TokenBinding;
  /** The token's id: the credential id in audit logs. */
  jti: string;
  /** The token's audiences that were accepted (TokenReview's `status.audiences`). */
  audiences: string[];
  expiresAt: Date;
}

/**
 * Whether a token even claims to be one of ours (our issuer and key), read without verifying: a bearer
 * token of another kind (the admin's, another issuer's JWT) is passed over without a signature check.
 */
function claimsToBeOurs(keys: ServiceAccountKeys, token: string, issuer: string): boolean {
  if (token.split('.').length !== 3) return false;
  try {
    const header = decodeProtectedHeader(token);
    return header.alg === signingAlgorithm && header.kid === keys.kid && decodeJwt(token).iss === issuer;
  } catch {
    return false;
  }
}

/** The claims a verified payload carries, or undefined when they are not a service account token's. */
function serviceAccountClaims(payload: JWTPayload, accepted: string[]): VerifiedClaims | undefined {
  const binding = parseKubernetesClaim(payload['kubernetes.io']);
  if (!binding || !isNonEmptyString(payload.jti) || payload.exp === undefined) return undefined;
  const { namespace, name } = binding.serviceAccount;
  if (payload.sub !== serviceAccountUsername(namespace, name)) return undefined;
  const tokenAudiences = typeof payload.aud === 'string' ? [payload.aud] : (payload.aud ?? []);
  const audiences = tokenAudiences.filter((audience) => accepted.includes(audience));
  return { binding, jti: payload.jti, audiences, expiresAt: new Date(payload.exp * 1000) };
}

/**
 * The claims of a token we signed for `issuer` and one of `audiences`, valid at `now` (give or take
 * {@link leewaySeconds}); undefined for anything else, never a throw. Does not consult the store.
 */
export async function verifyToken(
  keys: ServiceAccountKeys,
  token: string,
  { issuer, audiences, now = new Date() }: VerifyOptions,
): Promise<VerifiedClaims | undefined> {
  if (audiences.length === 0 || !claimsToBeOurs(keys, token, issuer)) return undefined;
  try {
    const { payload } = await jwtVerify(token, keys.publicKey, {
      algorithms: [signingAlgorithm],
      issuer,
      audience: audiences,
      currentDate: now,
      clockTolerance: leewaySeconds,
      requiredClaims: ['iss', 'sub', 'aud', 'iat', 'nbf', 'exp', 'jti'],
    });
    return serviceAccountClaims(payload, audiences);
  } catch {
    return undefined;
  }
}

// ----- Authenticating against the store ------------------------------------------------------------

/** The stored object a token is bound to, or undefined when there is none. */
export type ObjectLookup = (
  resource: 'serviceaccounts' | 'pods' | 'secrets',
  namespace: string,
  name: string,
) => Promise<{ metadata: { uid?: string; deletionTimestamp?: string } } | undefined>;

type LookedUp = Awaited<ReturnType<ObjectLookup>>;

/**
 * Whether an object still holds up the tokens bound to it: it exists, is the same object (a recreated
 * one has a new uid), and was not deleted more than {@link leewaySeconds} ago. A pod being deleted
 * gracefully has a deletionTimestamp in the future, so its tokens last through its grace period.
 */
export function boundObjectValid(claimedUid: string, object: LookedUp, now: Date): boolean {
  if (!object || object.metadata.uid !== claimedUid) return false;
  const deletion = object.metadata.deletionTimestamp;
  if (deletion === undefined) return true;
  // An unreadable timestamp fails closed.
  return Date.parse(deletion) >= now.getTime() - leewaySeconds * 1000;
}

/** Whether the service account and the pod or secret a token is bound to are all still there. */
async function stillBound(binding: TokenBinding, lookup: ObjectLookup, now: Date): Promise<boolean> {
  const { namespace } = binding.serviceAccount;
  const bound: [Parameters<ObjectLookup>[0], ObjectRef][] = [['serviceaccounts', binding.serviceAccount]];
  if (binding.secret) bound.push(['secrets', binding.secret]);
  if (binding.pod) bound.push(['pods', binding.pod]);
  const objects = await Promise.all(bound.map(([resource, ref]) => lookup(resource, namespace, ref.name)));
  return bound.every(([, ref], i) => boundObjectValid(ref.uid, objects[i], now));
}

/** The user a verified token authenticates, with upstream's groups and extra. */
export function serviceAccountUser({ binding, jti }: VerifiedClaims): User {
  const { namespace, name, uid } = binding.serviceAccount;
  const extra: Record<string, string[]> = {};
  if (binding.pod) {
    extra['authentication.kubernetes.io/pod-name'] = [binding.pod.name];
    extra['authentication.kubernetes.io/pod-uid'] = [binding.pod.uid];
  }
  if (binding.node) {
    extra['authentication.kubernetes.io/node-name'] = [binding.node.name];
    extra['authentication.kubernetes.io/node-uid'] = [binding.node.uid];
  }
  extra['authentication.kubernetes.io/credential-id'] = [`JTI=${jti}`];
  return {
    name: serviceAccountUsername(namespace, name),
    uid,
    groups: ['system:serviceaccounts', `system:serviceaccounts:${namespace}`, 'system:authenticated'],
    extra,
  };
}

export interface ServiceAccountAuthenticatorOptions {
  keys: ServiceAccountKeys;
  issuer: string;
  audiences: string[];
  lookup: ObjectLookup;
  now?: () => Date;
}

/**
 * Authenticates service account tokens: signature and claims, then the store. Tokens that are not ours
 * give undefined without a lookup, so the next authenticator in the chain can try them; a failing
 * lookup (the store unreachable) throws rather than pass for an invalid token.
 */
export function serviceAccountAuthenticator(options: ServiceAccountAuthenticatorOptions): Authenticator {
  const { keys, issuer, audiences, lookup, now = () => new Date() } = options;
  if (audiences.length === 0)
    throw new Error('the service account authenticator needs at least one audience');
  return async (token) => {
    const at = now();
    const claims = await verifyToken(keys, token, { issuer, audiences, now: at });
    if (!claims || !(await stillBound(claims.binding, lookup, at))) return undefined;
    return serviceAccountUser(claims);
  };
}
