/**
 * The agent's settings on a worker node: environment variables `LAMBERNETES_AGENT_*` over a config
 * file (YAML or JSON, `--config <path>` or `LAMBERNETES_AGENT_CONFIG`) over defaults. Read and checked
 * once at start; a wrong configuration throws one error naming every problem, and never a secret.
 * The file's keys are the keys of `env` below (`apiServer`, `podCIDR`, …); the names are exported so
 * infra/ writes exactly these.
 */
import { readFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import { hostname as osHostname } from 'node:os';
import { dirname, isAbsolute, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { parse as parseYaml } from 'yaml';
import { value as integerValue, milliValue } from '../shared/api/quantity.js';
import type { ApiClient } from '../shared/client/client.js';
import { formatIPv4, inIPv4Cidr, parseIPv4Cidr } from '../shared/net/ipv4.js';
import { nodeQueueName } from '../shared/queues/node-queue.js';
import type { AgentOptions } from './agent.js';
import type { DockerRuntimeOptions } from './runtime/docker.js';
import type { ContainerRuntime } from './runtime/runtime.js';

export const env = {
  /** The config file's path (`--config` wins over it). */
  config: 'LAMBERNETES_AGENT_CONFIG',
  /** The API server's URL, https. */
  apiServer: 'LAMBERNETES_AGENT_API_SERVER',
  /** The API server's CA certificate (PEM), or `caFile`; neither: Node's bundled public roots. */
  ca: 'LAMBERNETES_AGENT_CA',
  caFile: 'LAMBERNETES_AGENT_CA_FILE',
  /** The node's credential, the bearer token it presents to the API server; or `tokenFile`. */
  token: 'LAMBERNETES_AGENT_TOKEN',
  tokenFile: 'LAMBERNETES_AGENT_TOKEN_FILE',
  /**
   * Instead of a token: the cluster's name, to authenticate with the machine's IAM role (a token as
   * `aws eks get-token` makes, minted from the instance profile's credentials).
   */
  awsIamCluster: 'LAMBERNETES_AGENT_AWS_IAM_CLUSTER',
  /** Default: the machine's hostname, lower-cased (as the kubelet does). */
  nodeName: 'LAMBERNETES_AGENT_NODE_NAME',
  /** This node's pod network, an IPv4 CIDR: the Docker bridge's subnet. */
  podCIDR: 'LAMBERNETES_AGENT_POD_CIDR',
  /** This node's SQS queue, by URL or name; or `queuePrefix`, the notifier's prefix (`nodeQueueName`). */
  queue: 'LAMBERNETES_AGENT_QUEUE',
  queuePrefix: 'LAMBERNETES_AGENT_QUEUE_PREFIX',
  /** The queue's AWS region. Default: from an AWS queue URL, else the SDK's own (`AWS_REGION`). */
  region: 'LAMBERNETES_AGENT_REGION',
  dockerSocket: 'LAMBERNETES_AGENT_DOCKER_SOCKET',
  /** The Docker bridge network of the pod CIDR (created if missing). */
  network: 'LAMBERNETES_AGENT_NETWORK',
  sandboxImage: 'LAMBERNETES_AGENT_SANDBOX_IMAGE',
  /** Pods' volumes and the agent's own certificates live here. */
  dataDir: 'LAMBERNETES_AGENT_DATA_DIR',
  /** The agent's HTTPS endpoint (logs, exec) the API server reaches. */
  kubeletPort: 'LAMBERNETES_AGENT_KUBELET_PORT',
  /** The token the API server presents to that endpoint, or `kubeletTokenFile`; neither: no endpoint. */
  kubeletToken: 'LAMBERNETES_AGENT_KUBELET_TOKEN',
  kubeletTokenFile: 'LAMBERNETES_AGENT_KUBELET_TOKEN_FILE',
  /** Pods' nameservers (a list; comma-separated in the environment). Default: this node's DNS. */
  clusterDNS: 'LAMBERNETES_AGENT_CLUSTER_DNS',
  clusterDomain: 'LAMBERNETES_AGENT_CLUSTER_DOMAIN',
  /** Whether this agent programs the host's iptables for Services and serves cluster DNS. */
  runProxyAndDNS: 'LAMBERNETES_AGENT_RUN_PROXY_AND_DNS',
  /** The whole cluster's pod network (traffic from outside it to a ClusterIP is masqueraded). */
  clusterCIDR: 'LAMBERNETES_AGENT_CLUSTER_CIDR',
  /** e.g. `aws:///us-east-1a/i-0123456789abcdef0`. */
  providerID: 'LAMBERNETES_AGENT_PROVIDER_ID',
  /** The Node's extra labels (a mapping; `key=value,…` in the environment). */
  labels: 'LAMBERNETES_AGENT_LABELS',
  maxPods: 'LAMBERNETES_AGENT_MAX_PODS',
  /** Kept back for the system and the agent (quantities: `100m`, `256Mi`). */
  reservedCPU: 'LAMBERNETES_AGENT_RESERVED_CPU',
  reservedMemory: 'LAMBERNETES_AGENT_RESERVED_MEMORY',
} as const;

export const defaults = {
  dockerSocket: '/var/run/docker.sock',
  network: 'lambernetes',
  sandboxImage: 'public.ecr.aws/docker/library/busybox:1.36',
  dataDir: '/var/lib/lambernetes',
  kubeletPort: 10250,
  clusterDomain: 'cluster.local',
  runProxyAndDNS: true,
  maxPods: 110,
  reservedCPU: '100m',
  reservedMemory: '256Mi',
} as const;

/** A secret (or the CA) given inline, or the path of the file holding it (read by `readSecrets`). */
export type Source = { value: string } | { file: string };

export interface AgentConfig {
  apiServer: string;
  /** Absent: the API server's certificate is checked against Node's bundled public roots. */
  ca?: Source;
  /** How the node authenticates: a bearer token, or the machine's IAM role for a cluster name. */
  credential: { token: Source } | { awsIamCluster: string };
  nodeName: string;
  podCIDR: string;
  /** The bridge's gateway, the pod CIDR's first address: pods' route out, and where this node's DNS listens. */
  gateway: string;
  /** `name` is what the agent asks SQS for (`GetQueueUrl`); `url` when it was configured by URL. */
  queue: { name: string; url?: string };
  region?: string;
  dockerSocket: string;
  network: string;
  sandboxImage: string;
  dataDir: string;
  kubeletPort: number;
  /** Absent: the agent serves no endpoint, and `kubectl logs`/`exec` cannot reach this node's pods. */
  kubeletToken?: Source;
  dns: { clusterDNS: string[]; clusterDomain: string };
  runProxyAndDNS: boolean;
  clusterCIDR?: string;
  providerID?: string;
  labels: Record<string, string>;
  maxPods: number;
  reserved: { cpuMilli: number; memoryBytes: number };
}

/** A configuration that cannot run: every problem, each naming the variable or key that is wrong. */
export class AgentConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(
      `agent configuration has ${problems.length} problem(s):\n${problems.map((p) => `- ${p}`).join('\n')}`,
    );
    this.name = 'AgentConfigError';
  }
}

type Key = Exclude<keyof typeof env, 'config'>;
const keys = Object.keys(env).filter((k) => k !== 'config') as Key[];
/** Whose values never appear in a message: secrets, and the CA (a PEM blob says nothing in one line). */
const unquoted: ReadonlySet<Key> = new Set(['token', 'kubeletToken', 'ca']);

/** A setting as found: its raw value and where (a variable's name, or a key of the file). */
interface Found {
  key: Key;
  raw: unknown;
  where: string;
  fromFile: boolean;
}

const dnsLabel = '[a-z0-9]([-a-z0-9]*[a-z0-9])?';
const dnsSubdomain = new RegExp(`^${dnsLabel}(\\.${dnsLabel})*$`);
const labelName = /^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)$/;
const queueNamePattern = /^[A-Za-z0-9_-]{1,80}$/;
const regionPattern = /^[a-z]{2}(-[a-z]+)+-\d+$/;
/** SQS's own hosts (`sqs.<region>.amazonaws.com`, FIPS and China, and the legacy `<region>.queue.…`). */
const sqsHost = /^(?:sqs(?:-fips)?\.([a-z0-9-]+)|([a-z0-9-]+)\.queue)\.amazonaws\.com(?:\.cn)?$/;

/** An IPv4 CIDR whose host bits are zero, as `{ base, prefix }`; otherwise why not. */
export function parseIPv4CIDR(text: string): { base: number; prefix: number } | string {
  const cidr = parseIPv4Cidr(text);
  if (!cidr) return 'is not an IPv4 CIDR (e.g. 10.244.1.0/24)';
  if (cidr.address !== cidr.network) return 'has host bits set (use the network address)';
  return { base: cidr.network, prefix: cidr.prefix };
}

function isLabelKey(key: string): boolean {
  const slash = key.lastIndexOf('/');
  const prefix = slash >= 0 ? key.slice(0, slash) : undefined;
  const name = key.slice(slash + 1);
  if (prefix !== undefined && (prefix.length > 253 || !dnsSubdomain.test(prefix))) return false;
  return name.length <= 63 && labelName.test(name);
}

const isLabelValue = (value: string) => value === '' || (value.length <= 63 && labelName.test(value));

/** The queue's name from its URL (`https://sqs.<region>.amazonaws.com/<account>/<name>`): the last path segment. */
export function queueNameFromUrl(url: URL): string {
  // The last one even when empty: `…/123456789012/` names no queue, not the account's.
  return url.pathname.split('/').pop() ?? '';
}

/** The region of an AWS SQS queue URL; `undefined` for another endpoint (a local SQS, a VPC endpoint). */
export function regionFromQueueUrl(url: URL): string | undefined {
  const match = sqsHost.exec(url.hostname);
  return match ? (match[1] ?? match[2]) : undefined;
}

/**
 * The configuration from a config file's text (YAML or JSON; `undefined`: no file) and the
 * environment, which wins key by key. Pure: files a setting names (the CA, tokens) are read later by
 * `readSecrets`; relative ones are taken from the config file's directory.
 */
export function parseAgentConfig(
  fileText: string | undefined,
  environment: Record<string, string | undefined>,
  options: { filePath?: string; hostname?: string } = {},
): AgentConfig {
  const problems: string[] = [];
  const fileName = options.filePath ?? 'the config file';

  // The file: one mapping of known keys.
  let file: Record<string, unknown> = {};
  if (fileText !== undefined) {
    try {
      const parsed: unknown = parseYaml(fileText);
      if (parsed === null || parsed === undefined) file = {};
      else if (typeof parsed === 'object' && !Array.isArray(parsed)) file = parsed as Record<string, unknown>;
      else problems.push(`${fileName} is not a mapping of settings`);
    } catch (error) {
      // The parser quotes the offending line, which may hold a token: keep only its first line.
      const first = (error instanceof Error ? error.message : String(error)).split('\n')[0] ?? '';
      problems.push(`${fileName} is not YAML or JSON: ${first.replace(/:$/, '')}`);
    }
  }
  const unknownKeys = Object.keys(file).filter((k) => !(keys as string[]).includes(k));
  if (unknownKeys.length > 0) problems.push(`unknown key(s) in ${fileName}: ${unknownKeys.join(', ')}`);
  const names = new Set<string>(Object.values(env));
  const unknownVariables = Object.keys(environment).filter(
    (name) => name.startsWith('LAMBERNETES_AGENT_') && !names.has(name),
  );
  if (unknownVariables.length > 0) problems.push(`unknown variable(s): ${unknownVariables.join(', ')}`);

  const fromEnv = (key: Key): Found | undefined => {
    const raw = environment[env[key]]?.trim();
    return raw ? { key, raw, where: env[key], fromFile: false } : undefined;
  };
  const fromFile = (key: Key): Found | undefined =>
    file[key] === undefined || file[key] === null
      ? undefined
      : { key, raw: file[key], where: `${key} in ${fileName}`, fromFile: true };
  /** Among settings that say one thing two ways (inline or file, URL or prefix): the source that wins, which must set only one. */
  const oneOf = (...group: Key[]): Found | undefined => {
    for (const read of [fromEnv, fromFile]) {
      const set = group.map(read).filter((f) => f !== undefined);
      if (set.length > 1) problems.push(`set only one of ${set.map((f) => f.where).join(' and ')}`);
      if (set[0]) return set[0];
    }
    return undefined;
  };
  const find = (key: Key) => oneOf(key);
  const shown = (found: Found) => (unquoted.has(found.key) ? '' : `: ${JSON.stringify(found.raw)}`);
  const wrong = (found: Found, what: string) => {
    problems.push(`${found.where} ${what}${shown(found)}`);
    return undefined;
  };

  const text = (found: Found | undefined): string | undefined => {
    if (!found) return undefined;
    if (typeof found.raw !== 'string') return wrong(found, 'is not a string');
    return found.raw.trim() === '' ? wrong(found, 'is empty') : found.raw.trim();
  };
  const integer = (found: Found | undefined, min: number, max: number, what: string) => {
    if (!found) return undefined;
    const n = typeof found.raw === 'string' && /^\d+$/.test(found.raw.trim()) ? Number(found.raw) : found.raw;
    if (typeof n === 'number' && Number.isInteger(n) && n >= min && n <= max) return n;
    return wrong(found, `is not ${what} (${min}-${max})`);
  };
  const boolean = (found: Found | undefined) => {
    if (!found) return undefined;
    if (typeof found.raw === 'boolean') return found.raw;
    if (found.raw === 'true' || found.raw === 'false') return found.raw === 'true';
    return wrong(found, 'is not true or false');
  };
  const list = (found: Found | undefined) => {
    if (!found) return undefined;
    const items = typeof found.raw === 'string' ? found.raw.split(',').map((s) => s.trim()) : found.raw;
    if (Array.isArray(items) && items.every((i) => typeof i === 'string' && i !== ''))
      return items as string[];
    return wrong(found, 'is not a list of strings');
  };
  const mapping = (found: Found | undefined) => {
    if (!found) return undefined;
    let entries: [string, unknown][] | undefined;
    if (typeof found.raw === 'string')
      entries = found.raw.split(',').map((pair) => {
        const at = pair.indexOf('=');
        return at < 0 ? [pair.trim(), undefined] : [pair.slice(0, at).trim(), pair.slice(at + 1).trim()];
      });
    else if (typeof found.raw === 'object' && !Array.isArray(found.raw))
      entries = Object.entries(found.raw as object);
    if (entries?.every(([, v]) => typeof v === 'string'))
      return Object.fromEntries(entries) as Record<string, string>;
    return wrong(found, 'is not a mapping of strings (key=value,… in the environment)');
  };
  /** An inline secret or PEM, or a file's path; `missing` names a required one that is not set. */
  const source = (
    valueKey: Key,
    fileKey: Key,
    check: (text: string) => string | undefined,
    missing?: string,
  ) => {
    const found = oneOf(valueKey, fileKey);
    if (!found && missing) problems.push(missing);
    const value = text(found);
    if (!found || value === undefined) return undefined;
    if (found.key === fileKey)
      return { file: found.fromFile && options.filePath ? resolve(dirname(options.filePath), value) : value };
    // A PEM in one environment line may carry its newlines escaped.
    const inline = found.key === 'ca' && !value.includes('\n') ? value.replaceAll('\\n', '\n') : value;
    const problem = check(inline);
    return problem ? wrong(found, problem) : { value: inline };
  };
  const absolutePath = (found: Found | undefined) => {
    const path = text(found);
    if (found && path !== undefined && !isAbsolute(path)) return wrong(found, 'is not an absolute path');
    return path;
  };

  // The API server and the node's credential.
  const apiServerFound = find('apiServer');
  let apiServer = text(apiServerFound);
  if (!apiServerFound) problems.push(`${env.apiServer} (or apiServer in the config file) is not set`);
  else if (apiServer !== undefined) {
    const url = URL.canParse(apiServer) ? new URL(apiServer) : undefined;
    if (!url) apiServer = wrong(apiServerFound, 'is not a URL');
    else if (url.protocol !== 'https:') apiServer = wrong(apiServerFound, 'is not an https URL');
    else if (url.username || url.password) apiServer = wrong(apiServerFound, 'must not carry credentials');
    else if (url.pathname !== '/' || url.search || url.hash)
      // Request paths are resolved against it: a path of its own would be dropped.
      apiServer = wrong(apiServerFound, 'must be the server alone (https://host[:port]), with no path');
    else apiServer = url.origin;
  }
  const ca = source('ca', 'caFile', checkPem);
  const awsIamClusterFound = find('awsIamCluster');
  const awsIamCluster = text(awsIamClusterFound);
  const token = source(
    'token',
    'tokenFile',
    checkToken,
    awsIamClusterFound
      ? undefined
      : `${env.token}, ${env.tokenFile} or ${env.awsIamCluster} (token, tokenFile or awsIamCluster in the config file) is not set`,
  );
  if (awsIamClusterFound && token) problems.push(`give either a token or ${env.awsIamCluster}, not both`);
  if (awsIamClusterFound && awsIamCluster === '') wrong(awsIamClusterFound, 'is empty');

  // Who the node is.
  const nodeNameFound = find('nodeName');
  let nodeName = text(nodeNameFound);
  if (nodeNameFound && nodeName !== undefined && !isNodeName(nodeName))
    nodeName = wrong(nodeNameFound, 'is not a node name (a lower-case DNS subdomain)');
  if (!nodeNameFound) {
    nodeName = (options.hostname ?? osHostname()).toLowerCase();
    if (!isNodeName(nodeName)) {
      problems.push(`the hostname ${JSON.stringify(nodeName)} is not a node name: set ${env.nodeName}`);
      nodeName = undefined;
    }
  }
  const podCIDRFound = find('podCIDR');
  const podCIDR = text(podCIDRFound);
  let pods: { base: number; prefix: number } | undefined;
  if (!podCIDRFound) problems.push(`${env.podCIDR} (or podCIDR in the config file) is not set`);
  else if (podCIDR !== undefined) {
    const parsed = parseIPv4CIDR(podCIDR);
    if (typeof parsed === 'string') wrong(podCIDRFound, parsed);
    else if (parsed.prefix > 30) wrong(podCIDRFound, 'is too small for pods (at most /30)');
    else pods = parsed;
  }
  const clusterCIDRFound = find('clusterCIDR');
  const clusterCIDR = text(clusterCIDRFound);
  if (clusterCIDRFound && clusterCIDR !== undefined) {
    const cluster = parseIPv4CIDR(clusterCIDR);
    if (typeof cluster === 'string') wrong(clusterCIDRFound, cluster);
    else if (
      pods &&
      !(
        pods.prefix >= cluster.prefix &&
        inIPv4Cidr(pods.base, { network: cluster.base, prefix: cluster.prefix })
      )
    )
      wrong(clusterCIDRFound, `does not contain the pod CIDR ${podCIDR}`);
  }
  const providerIDFound = find('providerID');
  const providerID = text(providerIDFound);
  if (providerIDFound && providerID !== undefined && !/^[A-Za-z0-9-]+:\/\/\S*$/.test(providerID))
    wrong(providerIDFound, 'is not a provider ID (<provider>://…, e.g. aws:///us-east-1a/i-0123)');
  const labelsFound = find('labels');
  const labels = mapping(labelsFound) ?? {};
  for (const [key, value] of Object.entries(labels)) {
    if (!isLabelKey(key)) wrong(labelsFound as Found, `has an invalid label key ${JSON.stringify(key)}`);
    else if (!isLabelValue(value)) wrong(labelsFound as Found, `has an invalid value for label ${key}`);
  }
  // A pod takes an address; the network's, the gateway's and the broadcast address are not for pods.
  const podAddresses = pods ? 2 ** (32 - pods.prefix) - 3 : Number.MAX_SAFE_INTEGER;
  const maxPodsFound = find('maxPods');
  const maxPods =
    integer(maxPodsFound, 1, podAddresses, `a number of pods the pod CIDR holds`) ??
    Math.min(defaults.maxPods, podAddresses);
  const reservedCPUFound = find('reservedCPU');
  const reservedMemoryFound = find('reservedMemory');
  const cpuMilli = quantity(reservedCPUFound, defaults.reservedCPU, milliValue, wrong);
  const memoryBytes = quantity(reservedMemoryFound, defaults.reservedMemory, integerValue, wrong);

  // The queue.
  let queue: AgentConfig['queue'] | undefined;
  let queueRegion: string | undefined;
  const queueFound = oneOf('queue', 'queuePrefix');
  const queueText = text(queueFound);
  if (!queueFound)
    problems.push(`${env.queue} or ${env.queuePrefix} (queue or queuePrefix in the config file) is not set`);
  else if (queueText !== undefined && queueFound.key === 'queuePrefix') {
    if (!/^[A-Za-z0-9_-]*$/.test(queueText)) wrong(queueFound, 'is not a queue name prefix');
    else if (nodeName) queue = { name: nodeQueueName(queueText, nodeName) };
  } else if (queueText !== undefined) {
    const url = /^[a-z]+:\/\//i.test(queueText) && URL.canParse(queueText) ? new URL(queueText) : undefined;
    // The agent asks SQS for its queue by name (GetQueueUrl): a URL's last path segment is that name.
    const name = url ? queueNameFromUrl(url) : queueText;
    if (!queueNamePattern.test(name))
      wrong(queueFound, url ? 'does not end in a queue name' : 'is not a queue name or URL');
    else queue = { name, ...(url ? { url: url.href } : {}) };
    queueRegion = url ? regionFromQueueUrl(url) : undefined;
  }
  const regionFound = find('region');
  let region = text(regionFound);
  if (regionFound && region !== undefined && !regionPattern.test(region))
    region = wrong(regionFound, 'is not an AWS region (e.g. eu-west-1)');
  region ??= queueRegion;

  // The container runtime.
  const dockerSocket = absolutePath(find('dockerSocket')) ?? defaults.dockerSocket;
  const networkFound = find('network');
  const network = text(networkFound) ?? defaults.network;
  if (networkFound && !/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(network))
    wrong(networkFound, 'is not a Docker network name');
  const sandboxImageFound = find('sandboxImage');
  const sandboxImage = text(sandboxImageFound) ?? defaults.sandboxImage;
  if (sandboxImageFound && /\s/.test(sandboxImage)) wrong(sandboxImageFound, 'is not an image reference');
  const dataDir = absolutePath(find('dataDir')) ?? defaults.dataDir;

  // The kubelet endpoint, Services and DNS.
  const kubeletPort = integer(find('kubeletPort'), 1, 65535, 'a port') ?? defaults.kubeletPort;
  const kubeletToken = source('kubeletToken', 'kubeletTokenFile', checkToken);
  const runProxyAndDNS = boolean(find('runProxyAndDNS')) ?? defaults.runProxyAndDNS;
  const gateway = pods ? formatIPv4(pods.base + 1) : '';
  const clusterDNSFound = find('clusterDNS');
  const clusterDNS = list(clusterDNSFound) ?? (runProxyAndDNS && gateway ? [gateway] : []);
  for (const address of clusterDNSFound ? clusterDNS : [])
    if (isIP(address) === 0)
      wrong(clusterDNSFound as Found, `has ${JSON.stringify(address)}, not an IP address`);
  const clusterDomainFound = find('clusterDomain');
  const clusterDomain = text(clusterDomainFound) ?? defaults.clusterDomain;
  if (clusterDomainFound && !dnsSubdomain.test(clusterDomain))
    wrong(clusterDomainFound, 'is not a DNS domain');

  if (problems.length > 0) throw new AgentConfigError(problems);
  return {
    apiServer: apiServer as string,
    ...(ca ? { ca } : {}),
    credential: awsIamCluster ? { awsIamCluster } : { token: token as Source },
    nodeName: nodeName as string,
    podCIDR: podCIDR as string,
    gateway,
    queue: queue as AgentConfig['queue'],
    ...(region ? { region } : {}),
    dockerSocket,
    network,
    sandboxImage,
    dataDir,
    kubeletPort,
    ...(kubeletToken ? { kubeletToken } : {}),
    dns: { clusterDNS, clusterDomain },
    runProxyAndDNS,
    ...(clusterCIDR ? { clusterCIDR } : {}),
    ...(providerID ? { providerID } : {}),
    labels,
    maxPods,
    reserved: { cpuMilli: cpuMilli ?? 0, memoryBytes: memoryBytes ?? 0 },
  };
}

function isNodeName(name: string): boolean {
  return name.length <= 253 && dnsSubdomain.test(name);
}

function quantity(
  found: Found | undefined,
  fallback: string,
  parse: (text: string) => number | undefined,
  wrong: (found: Found, what: string) => undefined,
): number | undefined {
  if (!found) return parse(fallback);
  const parsed =
    typeof found.raw === 'string' || typeof found.raw === 'number' ? parse(String(found.raw)) : undefined;
  if (parsed === undefined || parsed < 0) return wrong(found, 'is not a quantity (e.g. 100m, 256Mi)');
  return parsed;
}

/** Why a bearer token cannot be sent, never quoting it. */
function checkToken(token: string): string | undefined {
  if (token === '') return 'is empty';
  if (/\s/.test(token)) return 'contains whitespace (a bearer token is one word)';
  return undefined;
}

function checkPem(pem: string): string | undefined {
  return pem.includes('-----BEGIN CERTIFICATE-----') ? undefined : 'is not a PEM certificate';
}

/** What the agent needs the files for: the CA's PEM and the tokens, read. */
export interface AgentSecrets {
  ca?: string;
  /** Absent when the node authenticates with its IAM role. */
  token?: string;
  kubeletToken?: string;
}

/** Reads the files the configuration names; every unreadable or malformed one is named at once. */
export async function readSecrets(
  config: AgentConfig,
  read: (path: string) => Promise<string> = (path) => readFile(path, 'utf8'),
): Promise<AgentSecrets> {
  const problems: string[] = [];
  const resolveSource = async (
    source: Source | undefined,
    what: string,
    check: (t: string) => string | undefined,
  ) => {
    if (!source) return undefined;
    if ('value' in source) return source.value;
    try {
      const text = (await read(source.file)).trim();
      const problem = check(text);
      if (problem) problems.push(`${what} ${source.file} ${problem}`);
      return problem ? undefined : text;
    } catch (error) {
      const code = (error as { code?: unknown }).code;
      problems.push(`${what} ${source.file} cannot be read${typeof code === 'string' ? ` (${code})` : ''}`);
      return undefined;
    }
  };
  const [ca, token, kubeletToken] = await Promise.all([
    resolveSource(config.ca, 'caFile', checkPem),
    resolveSource(
      'token' in config.credential ? config.credential.token : undefined,
      'tokenFile',
      checkToken,
    ),
    resolveSource(config.kubeletToken, 'kubeletTokenFile', checkToken),
  ]);
  if (problems.length > 0) throw new AgentConfigError(problems);
  return { ...(ca ? { ca } : {}), ...(token ? { token } : {}), ...(kubeletToken ? { kubeletToken } : {}) };
}

/** The config file's path: `--config <path>` over `LAMBERNETES_AGENT_CONFIG`; `undefined`: environment only. */
export function configPath(
  argv: string[],
  environment: Record<string, string | undefined>,
): string | undefined {
  let values: { config?: string | undefined };
  try {
    ({ values } = parseArgs({ args: argv, options: { config: { type: 'string' } }, strict: true }));
  } catch (error) {
    throw new AgentConfigError([error instanceof Error ? error.message : String(error)]);
  }
  return values.config ?? (environment[env.config]?.trim() || undefined);
}

/** The configuration of a process started with `argv` in `environment`: the config file and the files it names, read. */
export async function loadAgentConfig(
  argv: string[],
  environment: Record<string, string | undefined>,
): Promise<{ config: AgentConfig; secrets: AgentSecrets }> {
  const filePath = configPath(argv, environment);
  let fileText: string | undefined;
  if (filePath !== undefined)
    fileText = await readFile(filePath, 'utf8').catch((error: unknown) => {
      const code = (error as { code?: unknown }).code;
      throw new AgentConfigError([
        `the config file ${filePath} cannot be read${typeof code === 'string' ? ` (${code})` : ''}`,
      ]);
    });
  const config = parseAgentConfig(fileText, environment, filePath !== undefined ? { filePath } : {});
  return { config, secrets: await readSecrets(config) };
}

/** The node's Docker runtime. */
export function dockerRuntimeOptions(config: AgentConfig): DockerRuntimeOptions {
  return {
    socketPath: config.dockerSocket,
    node: config.nodeName,
    network: config.network,
    sandboxImage: config.sandboxImage,
  };
}

/** The bridge network pods attach to: the pod CIDR, its first address the gateway (Docker's default too). */
export function bridgeNetwork(config: AgentConfig): { name: string; subnet: string; gateway: string } {
  return { name: config.network, subnet: config.podCIDR, gateway: config.gateway };
}

/**
 * What `startAgent` needs, from the configuration and what was built from it. On its own host each
 * agent runs its node's proxy and DNS; the DNS listens on the bridge's gateway, the address pods
 * reach it at (not on every address: that would open a resolver to the VPC).
 */
export function agentOptions(
  config: AgentConfig,
  parts: {
    client: ApiClient;
    runtime: ContainerRuntime;
    sqs: SQSClient;
    /** `runtime.version()`: `docker://28.2.2`. */
    runtimeVersion: string;
    kubeletToken?: string;
    onError?: (error: unknown) => void;
  },
): AgentOptions {
  return {
    client: parts.client,
    apiServer: config.apiServer,
    runtime: parts.runtime,
    identity: {
      name: config.nodeName,
      podCIDR: config.podCIDR,
      ...(config.providerID ? { providerID: config.providerID } : {}),
      labels: config.labels,
      containerRuntimeVersion: parts.runtimeVersion,
      maxPods: config.maxPods,
      reserved: config.reserved,
      port: config.kubeletPort,
    },
    dataDir: config.dataDir,
    queue: { sqs: parts.sqs, name: config.queue.name },
    dns: config.dns,
    runtimeScheme: parts.runtimeVersion.replace(/:\/\/.*$/, '://'),
    ...(parts.kubeletToken ? { server: { port: config.kubeletPort, token: parts.kubeletToken } } : {}),
    ...(config.runProxyAndDNS
      ? {
          services: {
            proxy: true,
            dnsHost: config.gateway,
            ...(config.clusterCIDR ? { clusterCIDR: config.clusterCIDR } : {}),
          },
        }
      : {}),
    ...(parts.onError ? { onError: parts.onError } : {}),
  };
}
