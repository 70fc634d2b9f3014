/**
 * AWS IAM authentication, as EKS does it with aws-iam-authenticator: the bearer token is a presigned
 * STS GetCallerIdentity URL (see shared/auth/eks-token.ts), we check that it can only reach STS and
 * only ask who the caller is, then let STS itself check the signature by calling the URL with our
 * cluster's name in the signed `x-k8s-aws-id` header. STS answers with the caller's ARN, which the
 * access configuration (EKS's aws-auth `mapRoles`/`mapUsers`) turns into a Kubernetes user.
 *
 * The token is a credential for 15 minutes: it is never logged, nor is the URL inside it.
 */
import {
  CLUSTER_ID_HEADER,
  EKS_TOKEN_PREFIX,
  PRESIGNED_URL_LIFETIME_SECONDS,
} from '../../../shared/auth/eks-token.js';
import type { Authenticator, User } from './types.js';

// ---------------------------------------------------------------------------------------------------
// The token: what we check before letting anything reach the network.

/** aws-iam-authenticator's bound: a token with a session token fits comfortably. */
const maxTokenLength = 4096;

/**
 * Only STS, and only names AWS owns: a look-alike (`sts.amazonaws.com.evil.example`) would let the
 * token's author answer "you are the cluster admin" himself.
 */
const region = '[a-z]{2}(?:-[a-z]+)+-\\d{1,2}';
const stsHostnames = [
  /^sts\.amazonaws\.com$/,
  new RegExp(`^sts(?:-fips)?\\.(?!cn-)${region}\\.amazonaws\\.com$`),
  /^sts\.cn-(?:[a-z]+-)+\d{1,2}\.amazonaws\.com\.cn$/,
];

/**
 * The whole URL, strictly: scheme, a bare host (no userinfo, no port), the root path and a query, no
 * fragment. Checked on the text itself because URL parsers forgive (they drop default ports, strip
 * tabs, lower-case hosts) and what they forgive is what an attacker hides behind.
 */
const presignedUrlShape = /^https:\/\/([^/?#]+)\/\?([^#]+)$/;

/** The query parameters a presigned GetCallerIdentity has (names compared case-insensitively). */
const allowedParameters = new Set([
  'action',
  'version',
  'x-amz-algorithm',
  'x-amz-credential',
  'x-amz-date',
  'x-amz-expires',
  'x-amz-security-token',
  'x-amz-signature',
  'x-amz-signedheaders',
]);

interface PresignedCall {
  url: URL;
  /** Lower-cased parameter names, each once. */
  parameters: Map<string, string>;
}

type Failure = { error: string };
const fail = (error: string): Failure => ({ error });

function decodeToken(token: string): string | Failure {
  if (!token.startsWith(EKS_TOKEN_PREFIX)) return fail(`token does not start with ${EKS_TOKEN_PREFIX}`);
  if (token.length > maxTokenLength) return fail('token is too long');
  const body = token.slice(EKS_TOKEN_PREFIX.length);
  // Node's decoder skips what it does not understand; we do not.
  if (!/^[A-Za-z0-9_-]+$/.test(body) || body.length % 4 === 1) return fail('token is not unpadded base64url');
  const bytes = Buffer.from(body, 'base64url');
  if (bytes.toString('base64url') !== body) return fail('token is not canonical base64url');
  return bytes.toString('utf8');
}

function decodeQuery(query: string): Map<string, string> | Failure {
  const parameters = new Map<string, string>();
  for (const pair of query.split('&')) {
    const eq = pair.indexOf('=');
    let name: string;
    let value: string;
    try {
      name = decodeURIComponent((eq === -1 ? pair : pair.slice(0, eq)).replaceAll('+', ' '));
      value = eq === -1 ? '' : decodeURIComponent(pair.slice(eq + 1).replaceAll('+', ' '));
    } catch {
      return fail('malformed query parameter');
    }
    const key = name.toLowerCase();
    if (!allowedParameters.has(key)) {
      return fail(`unexpected query parameter ${JSON.stringify(name.slice(0, 40))}`);
    }
    if (parameters.has(key)) return fail(`repeated query parameter ${name}`);
    parameters.set(key, value);
  }
  return parameters;
}

/** `20240506T070809Z` as a time, or undefined unless it is exactly that shape and a real instant. */
function amzDate(text: string): number | undefined {
  const match = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(text);
  if (!match) return undefined;
  const iso = `${match[1]}-${match[2]}-${match[3]}T${match[4]}:${match[5]}:${match[6]}.000Z`;
  const time = Date.parse(iso);
  // Parsers roll 30 February over into March: only an instant that prints back the same is real.
  return Number.isNaN(time) || new Date(time).toISOString() !== iso ? undefined : time;
}

function readToken(token: string, now: Date): PresignedCall | Failure {
  const text = decodeToken(token);
  if (typeof text !== 'string') return text;
  if (!/^[\x21-\x7e]+$/.test(text)) return fail('token URL has spaces or non-ASCII characters');
  const shape = presignedUrlShape.exec(text);
  if (!shape) return fail('token is not an https URL of the form https://<sts host>/?<query>');
  const host = shape[1] ?? '';
  const query = shape[2] ?? '';
  if (!stsHostnames.some((pattern) => pattern.test(host))) return fail('token URL host is not STS');
  const url = new URL(text);
  if (url.hostname !== host || url.port !== '' || url.username !== '' || url.pathname !== '/') {
    return fail('token URL is ambiguous');
  }
  const parameters = decodeQuery(query);
  if (!(parameters instanceof Map)) return parameters;
  if (parameters.get('action') !== 'GetCallerIdentity') return fail('token does not call GetCallerIdentity');
  if (parameters.get('version') !== '2011-06-15') return fail('token does not call STS API 2011-06-15');
  const signedHeaders = (parameters.get('x-amz-signedheaders') ?? '').toLowerCase().split(';');
  if (!signedHeaders.includes(CLUSTER_ID_HEADER)) return fail(`token is not signed for ${CLUSTER_ID_HEADER}`);
  if (!/^[^/]+\//.test(parameters.get('x-amz-credential') ?? '')) {
    return fail('token has no X-Amz-Credential');
  }
  // STS keeps a presigned GetCallerIdentity good for 15 minutes whatever X-Amz-Expires says (it
  // ignores it); aws-iam-authenticator still insists on a sane value, and so do we.
  const expires = parameters.get('x-amz-expires') ?? '';
  if (!/^\d{1,3}$/.test(expires) || Number(expires) > PRESIGNED_URL_LIFETIME_SECONDS) {
    return fail('token has an invalid X-Amz-Expires');
  }
  const signedAt = amzDate(parameters.get('x-amz-date') ?? '');
  if (signedAt === undefined) return fail('token has a missing or malformed X-Amz-Date');
  if (now.getTime() > signedAt + PRESIGNED_URL_LIFETIME_SECONDS * 1000) return fail('token has expired');
  return { url, parameters };
}

/**
 * The STS URL inside a token, once it is sure to call GetCallerIdentity on a real STS endpoint with
 * the cluster header signed and not expired; otherwise why not (the reason never quotes the token).
 */
export function parseEksToken(token: string, { now }: { now: Date }): URL | Failure {
  const call = readToken(token, now);
  return 'error' in call ? call : call.url;
}

// ---------------------------------------------------------------------------------------------------
// ARNs.

const partitions = new Set(['aws', 'aws-cn', 'aws-us-gov']);

/**
 * The ARN access is configured for, as aws-iam-authenticator's `arn.Canonicalize`: an assumed role's
 * session (`arn:aws:sts::<acct>:assumed-role/<Role>/<session>`) is the role
 * (`arn:aws:iam::<acct>:role/<Role>`); IAM users, roles, the account root and federated users stay as
 * they are. Undefined for anything else (other services, unknown partitions, malformed).
 */
export function canonicalizeArn(arn: string): string | undefined {
  const [scheme, partition, service, , account, ...rest] = arn.split(':');
  const resource = rest.join(':');
  if (scheme !== 'arn' || !partitions.has(partition ?? '') || !/^\d{12}$/.test(account ?? ''))
    return undefined;
  const parts = resource.split('/');
  if (service === 'sts' && parts[0] === 'federated-user' && parts.length >= 2) return arn;
  if (service === 'sts' && parts[0] === 'assumed-role' && parts.length >= 3) {
    const role = parts.slice(1, -1).join('/');
    return role === '' ? undefined : `arn:${partition}:iam::${account}:role/${role}`;
  }
  if (service === 'iam' && (parts[0] === 'role' || parts[0] === 'user') && parts.length >= 2) return arn;
  if (service === 'iam' && resource === 'root') return arn;
  return undefined;
}

// ---------------------------------------------------------------------------------------------------
// Asking STS.

/** Who signed a token, as STS tells it. */
export interface AwsIdentity {
  /** As STS returns it (for a role: the session, `arn:aws:sts::<acct>:assumed-role/<Role>/<session>`). */
  arn: string;
  canonicalArn: string;
  accountId: string;
  /** The unique id (`AROA…`, `AIDA…`), without the session name. */
  userId: string;
  /** The role session's name: an EC2 instance role's is the instance id. */
  sessionName?: string;
  /** From X-Amz-Credential: CloudTrail tells who used it. */
  accessKeyId: string;
}

/** The part of `fetch` we use (the global one fits). */
export type StsFetch = (
  url: string,
  init: { method: 'GET'; headers: Record<string, string>; redirect: 'manual'; signal: AbortSignal },
) => Promise<Response>;

export interface VerifyEksTokenOptions {
  clusterName: string;
  fetch: StsFetch;
  now: Date;
  /** How long STS may take (default 5 s). */
  timeoutMs?: number;
  /** Where failures to reach or understand STS go (a bad token is not one of them). */
  logError?: (message: string) => void;
}

const defaultTimeoutMs = 5_000;

/** An error and its causes in one line (undici hides the useful part in `cause`). */
function describeError(error: unknown): string {
  const parts: string[] = [];
  let current = error;
  for (let depth = 0; depth < 4 && current !== undefined; depth++) {
    if (current instanceof Error) {
      parts.push(`${current.name}: ${current.message}`);
      current = current.cause;
    } else {
      parts.push(String(current));
      current = undefined;
    }
  }
  return parts.join(' (caused by) ');
}

/** The text with every occurrence of the secrets replaced: the token, its URL, its signature… */
function redact(text: string, secrets: string[]): string {
  return secrets
    .filter((secret) => secret.length >= 8)
    .sort((a, b) => b.length - a.length)
    .reduce((result, secret) => result.split(secret).join('[redacted]'), text);
}

function callerIdentity(body: unknown): { Account: string; Arn: string; UserId: string } | undefined {
  const result = (body as { GetCallerIdentityResponse?: { GetCallerIdentityResult?: unknown } } | null)
    ?.GetCallerIdentityResponse?.GetCallerIdentityResult as Record<string, unknown> | undefined;
  const { Account, Arn, UserId } = result ?? {};
  if (typeof Account !== 'string' || typeof Arn !== 'string' || typeof UserId !== 'string') return undefined;
  if (Account === '' || UserId === '') return undefined;
  return { Account, Arn, UserId };
}

/**
 * Who signed the token, or undefined when the token is not valid for this cluster: malformed, expired,
 * signed for another cluster, or refused by STS. STS being unreachable or answering nonsense also
 * means "not authenticated", reported through `logError`.
 */
export async function verifyEksToken(
  token: string,
  { clusterName, fetch, now, timeoutMs = defaultTimeoutMs, logError = () => {} }: VerifyEksTokenOptions,
): Promise<AwsIdentity | undefined> {
  const call = readToken(token, now);
  if ('error' in call) return undefined;
  const { url, parameters } = call;
  const secrets = [
    token,
    token.slice(EKS_TOKEN_PREFIX.length),
    url.href,
    url.search,
    ...['x-amz-signature', 'x-amz-security-token'].flatMap((name) => {
      const value = parameters.get(name) ?? '';
      return [value, encodeURIComponent(value)];
    }),
  ];
  const report = (what: string) =>
    logError(redact(`aws-iam: STS GetCallerIdentity at ${url.hostname} ${what}`, secrets));

  let response: Response;
  let body: string;
  try {
    response = await fetch(url.href, {
      method: 'GET',
      headers: { [CLUSTER_ID_HEADER]: clusterName, accept: 'application/json' },
      // STS never redirects; following one would send the token elsewhere.
      redirect: 'manual',
      signal: AbortSignal.timeout(timeoutMs),
    });
    if (response.status !== 200) {
      await response.body?.cancel();
      // 403 is STS saying "bad signature": a forged token, or one minted for another cluster.
      if (response.status !== 403) report(`answered HTTP ${response.status}`);
      return undefined;
    }
    body = await response.text();
  } catch (error) {
    report(`failed: ${describeError(error)}`);
    return undefined;
  }

  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    report('answered something other than JSON');
    return undefined;
  }
  const identity = callerIdentity(parsed);
  if (!identity) {
    report('answered without Account, Arn and UserId');
    return undefined;
  }
  const canonicalArn = canonicalizeArn(identity.Arn);
  if (canonicalArn === undefined) {
    report(`answered an ARN we do not recognise: ${identity.Arn}`);
    return undefined;
  }
  // UserId is `<unique id>:<session>` for a role session, `<unique id>` for a user.
  const userIdParts = identity.UserId.split(':');
  if (userIdParts.length > 2) {
    report(`answered a malformed UserId: ${identity.UserId}`);
    return undefined;
  }
  const [userId, sessionName] = userIdParts as [string, string | undefined];
  const accessKeyId = (parameters.get('x-amz-credential') ?? '').split('/')[0] ?? '';
  return {
    arn: identity.Arn,
    canonicalArn,
    accountId: identity.Account,
    userId,
    ...(sessionName !== undefined && { sessionName }),
    accessKeyId,
  };
}

// ---------------------------------------------------------------------------------------------------
// The access configuration (EKS's aws-auth ConfigMap, as JSON in the environment).

export interface IamRoleMapping {
  /** An IAM role; a path in it is ignored, since a session's ARN never has one. */
  roleArn: string;
  username: string;
  groups?: string[];
}

export interface IamUserMapping {
  /** An IAM user (path included, as STS returns it) or the account root. */
  userArn: string;
  username: string;
  groups?: string[];
}

export interface IamAccessConfig {
  roles?: IamRoleMapping[];
  users?: IamUserMapping[];
}

/**
 * The placeholders usernames and groups may hold, as EKS: `{{SessionName}}` has `@` replaced by `-`
 * (a Kubernetes name has no `@`); `{{EC2PrivateDNSName}}` asks EC2 for the name of the instance whose
 * role signed (the session name of an instance role is the instance id).
 */
const placeholders = ['AccountID', 'SessionName', 'SessionNameRaw', 'EC2PrivateDNSName', 'AccessKeyID'];
const placeholderPattern = /\{\{([^{}]*)\}\}/g;

const partitionPattern = '(?:aws|aws-cn|aws-us-gov)';
const roleArnPattern = new RegExp(
  `^arn:${partitionPattern}:iam::\\d{12}:role/(?:[\\w+=,.@-]+/)*[\\w+=,.@-]+$`,
);
const userArnPattern = new RegExp(
  `^arn:${partitionPattern}:iam::\\d{12}:(?:user/(?:[\\w+=,.@-]+/)*[\\w+=,.@-]+|root)$`,
);

/** What role and user ARNs are compared as: role paths dropped, case ignored (IAM names are). */
function accessKey(arn: string): string {
  const role = /^(arn:[^:]+:iam::\d+:role\/)(?:.*\/)?([^/]+)$/.exec(arn);
  return (role ? `${role[1]}${role[2]}` : arn).toLowerCase();
}

type Issues = string[];

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function checkTemplate(value: unknown, path: string, issues: Issues): void {
  if (typeof value !== 'string' || value === '') {
    issues.push(`${path}: expected a non-empty string`);
    return;
  }
  for (const [, name] of value.matchAll(placeholderPattern)) {
    if (!placeholders.includes(name ?? '')) {
      issues.push(
        `${path}: unknown placeholder {{${name}}} (known: ${placeholders.map((p) => `{{${p}}}`).join(', ')})`,
      );
    }
  }
}

function checkMapping(
  value: unknown,
  path: string,
  arnField: 'roleArn' | 'userArn',
  arnPattern: RegExp,
  arnExample: string,
  seen: Map<string, string>,
  issues: Issues,
): void {
  if (!isRecord(value)) {
    issues.push(`${path}: expected an object with ${arnField}, username and groups`);
    return;
  }
  for (const field of Object.keys(value)) {
    if (![arnField, 'username', 'groups'].includes(field)) issues.push(`${path}: unknown field ${field}`);
  }
  const arn = value[arnField];
  if (typeof arn !== 'string' || !arnPattern.test(arn)) {
    issues.push(`${path}.${arnField}: expected ${arnExample}, got ${JSON.stringify(arn)}`);
  } else {
    const earlier = seen.get(accessKey(arn));
    if (earlier !== undefined) issues.push(`${path}.${arnField}: ${arn} is already mapped by ${earlier}`);
    else seen.set(accessKey(arn), path);
  }
  checkTemplate(value.username, `${path}.username`, issues);
  const groups = value.groups;
  if (groups === undefined) return;
  if (!Array.isArray(groups)) issues.push(`${path}.groups: expected an array of strings`);
  else for (const [i, group] of groups.entries()) checkTemplate(group, `${path}.groups[${i}]`, issues);
}

/**
 * Checks a parsed access configuration, with zod's `parse` shape (zod is not installed) so that one
 * could replace it: the value itself when valid, else an Error naming every problem.
 */
export const iamAccessConfigSchema = {
  parse(value: unknown): IamAccessConfig {
    const issues: Issues = [];
    if (!isRecord(value))
      throw new Error('IAM access config: expected an object with "roles" and/or "users"');
    for (const field of Object.keys(value)) {
      if (field !== 'roles' && field !== 'users')
        issues.push(`unknown field ${field} (expected roles, users)`);
    }
    const seen = new Map<string, string>();
    for (const [field, arnField, pattern, example] of [
      ['roles', 'roleArn', roleArnPattern, 'an IAM role ARN (arn:aws:iam::<account>:role/<name>)'],
      ['users', 'userArn', userArnPattern, 'an IAM user ARN (arn:aws:iam::<account>:user/<name>) or :root'],
    ] as const) {
      const list = value[field];
      if (list === undefined) continue;
      if (!Array.isArray(list)) issues.push(`${field}: expected an array`);
      else {
        for (const [i, entry] of list.entries()) {
          checkMapping(entry, `${field}[${i}]`, arnField, pattern, example, seen, issues);
        }
      }
    }
    if (issues.length > 0) throw new Error(`IAM access config is invalid:\n- ${issues.join('\n- ')}`);
    return value as IamAccessConfig;
  },
};

/** The access configuration from its JSON (an environment variable's value); throws saying what is wrong. */
export function parseIamAccessConfig(json: string): IamAccessConfig {
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch (error) {
    throw new Error(`IAM access config is not JSON: ${(error as Error).message}`);
  }
  return iamAccessConfigSchema.parse(value);
}

// ---------------------------------------------------------------------------------------------------
// From an identity to a Kubernetes user (pure).

export interface IamMapping {
  username: string;
  groups: string[];
}

/** A lookup from canonical ARN to mapping: roles first, then users, as aws-iam-authenticator. */
export function iamAccessLookup(access: IamAccessConfig): (canonicalArn: string) => IamMapping | undefined {
  const roles = new Map((access.roles ?? []).map((m) => [accessKey(m.roleArn), m] as const));
  const users = new Map((access.users ?? []).map((m) => [accessKey(m.userArn), m] as const));
  return (canonicalArn) => {
    const key = accessKey(canonicalArn);
    const found = roles.get(key) ?? users.get(key);
    return found && { username: found.username, groups: found.groups ?? [] };
  };
}

/** Whether rendering the mapping needs EC2's answer. */
export function needsPrivateDnsName(mapping: IamMapping): boolean {
  return [mapping.username, ...mapping.groups].some((t) => t.includes('{{EC2PrivateDNSName}}'));
}

/** An EC2 instance id (`i-` and 8 or 17 characters): only those have a private DNS name to ask for. */
export const instanceIdPattern = /^i-(?:\w{8}|\w{17})$/;

/** One template with its placeholders filled in a single pass (a value never gets expanded again). */
export function renderTemplate(template: string, identity: AwsIdentity, ec2PrivateDnsName?: string): string {
  const sessionName = identity.sessionName ?? '';
  const values: Record<string, string | undefined> = {
    AccountID: identity.accountId,
    SessionName: sessionName.replaceAll('@', '-'),
    SessionNameRaw: sessionName,
    EC2PrivateDNSName: ec2PrivateDnsName,
    AccessKeyID: identity.accessKeyId,
  };
  return template.replace(placeholderPattern, (whole, name: string) => values[name] ?? whole);
}

/** The Kubernetes user, with the identity in `extra` as aws-iam-authenticator puts it. */
export function iamUser(identity: AwsIdentity, mapping: IamMapping, ec2PrivateDnsName?: string): User {
  const groups = mapping.groups.map((group) => renderTemplate(group, identity, ec2PrivateDnsName));
  return {
    name: renderTemplate(mapping.username, identity, ec2PrivateDnsName),
    uid: `aws-iam-authenticator:${identity.accountId}:${identity.userId}`,
    groups: [...new Set([...groups, 'system:authenticated'])],
    extra: {
      arn: [identity.arn],
      canonicalArn: [identity.canonicalArn],
      sessionName: [identity.sessionName ?? ''],
      accessKeyId: [identity.accessKeyId],
    },
  };
}

// ---------------------------------------------------------------------------------------------------
// The authenticator.

export interface IamAuthenticatorOptions {
  clusterName: string;
  access: IamAccessConfig;
  /** Defaults to the global fetch. */
  fetch?: StsFetch;
  /** Defaults to the clock. */
  now?: () => Date;
  /** For `{{EC2PrivateDNSName}}`: the instance's private DNS name (EC2 DescribeInstances). */
  privateDnsName?: (instanceId: string) => Promise<string>;
  /** Defaults to console.error. Never given the token. */
  logError?: (message: string) => void;
  timeoutMs?: number;
}

/**
 * Users from `aws eks get-token` tokens. Other tokens are not ours: undefined at once, without a call,
 * so the next authenticator in the chain can try them. Unmapped identities are not authenticated.
 */
export function iamAuthenticator({
  clusterName,
  access,
  fetch = globalThis.fetch,
  now = () => new Date(),
  privateDnsName,
  logError = (message) => console.error(message),
  timeoutMs,
}: IamAuthenticatorOptions): Authenticator {
  const lookup = iamAccessLookup(access);

  async function resolvePrivateDnsName(identity: AwsIdentity): Promise<string | undefined> {
    const who = identity.arn;
    const instanceId = identity.sessionName ?? '';
    if (!instanceIdPattern.test(instanceId)) {
      logError(`aws-iam: ${who} maps to {{EC2PrivateDNSName}} but its session is not an EC2 instance id`);
      return undefined;
    }
    if (!privateDnsName) {
      logError(`aws-iam: ${who} maps to {{EC2PrivateDNSName}} but no EC2 resolver is configured`);
      return undefined;
    }
    try {
      const name = await privateDnsName(instanceId);
      if (name !== '') return name;
      logError(`aws-iam: EC2 instance ${instanceId} has no private DNS name`);
    } catch (error) {
      logError(`aws-iam: cannot find EC2 instance ${instanceId}'s private DNS name: ${describeError(error)}`);
    }
    return undefined;
  }

  return async (token) => {
    if (!token.startsWith(EKS_TOKEN_PREFIX)) return undefined;
    const identity = await verifyEksToken(token, {
      clusterName,
      fetch,
      now: now(),
      logError,
      ...(timeoutMs !== undefined && { timeoutMs }),
    });
    if (!identity) return undefined;
    const mapping = lookup(identity.canonicalArn);
    if (!mapping) return undefined;
    let dnsName: string | undefined;
    if (needsPrivateDnsName(mapping)) {
      dnsName = await resolvePrivateDnsName(identity);
      if (dnsName === undefined) return undefined;
    }
    const user = iamUser(identity, mapping, dnsName);
    if (user.name === '') {
      logError(`aws-iam: ${identity.arn} maps to an empty username`);
      return undefined;
    }
    return user;
  };
}
