/**
 * A pod's volumes on the node, each under `<podDir>/volumes/<name>`, and a container's mounts of them.
 *
 * ConfigMap, Secret, downward API and projected volumes are written as upstream's `AtomicWriter` does
 * (pkg/volume/util/atomic_writer.go): the files go into a fresh `..<timestamp>` directory, then a
 * `..data_tmp` symlink to it is renamed over `..data`, and each top-level entry the user sees is a
 * symlink through `..data`. Renaming one symlink is atomic, so a container never sees half a volume;
 * the volume's own directory keeps its inode, so a running container's bind mount sees the new
 * contents on the next sync (renaming a whole new directory over it would not: the bind mount pins
 * the old one). Re-running with the same contents writes nothing.
 */
import { existsSync, mkdirSync } from 'node:fs';
import {
  chmod,
  lstat,
  mkdir,
  mkdtemp,
  open,
  readdir,
  readFile,
  readlink,
  rename,
  rm,
  stat,
  symlink,
  writeFile,
} from 'node:fs/promises';
import { dirname, isAbsolute, join, posix } from 'node:path';
import type { Pod } from '../../shared/api/core.js';
import type { ApiClient } from '../../shared/client/client.js';
import type { Mount } from '../runtime/runtime.js';
import {
  expandEnv,
  type KeyToPath,
  type KubeletContainer,
  type ObjectFieldSelector,
  type ResourceFieldSelector,
} from './container-spec.js';
import {
  ConfigError,
  type ConfigMap,
  containerResourceValue,
  findConfigMap,
  findSecret,
  notFound,
  podFieldValue,
  type Secret,
  secretValues,
} from './env.js';
import { ServiceAccountTokens, type TokenSource } from './service-account-tokens.js';

/** Upstream's defaults for every API-data volume (`ConfigMapVolumeSourceDefaultMode` and friends). */
const defaultMode = 0o644;

interface ObjectSource {
  name: string;
  items?: KeyToPath[];
  optional?: boolean;
}

interface DownwardAPIFile {
  path: string;
  fieldRef?: ObjectFieldSelector;
  resourceFieldRef?: ResourceFieldSelector;
  mode?: number;
}

export type HostPathType =
  | ''
  | 'DirectoryOrCreate'
  | 'Directory'
  | 'FileOrCreate'
  | 'File'
  | 'Socket'
  | 'CharDevice'
  | 'BlockDevice';

/** A pod volume with the sources the agent supports (wire shape; core.ts does not carry it). */
export interface Volume {
  name: string;
  /** `medium: Memory` is still a directory on the node's disk here, not a tmpfs; `sizeLimit` is not enforced. */
  emptyDir?: { medium?: string; sizeLimit?: string };
  hostPath?: { path: string; type?: HostPathType };
  configMap?: { name: string; items?: KeyToPath[]; defaultMode?: number; optional?: boolean };
  secret?: { secretName: string; items?: KeyToPath[]; defaultMode?: number; optional?: boolean };
  downwardAPI?: { items?: DownwardAPIFile[]; defaultMode?: number };
  projected?: {
    defaultMode?: number;
    sources?: {
      configMap?: ObjectSource;
      secret?: ObjectSource;
      downwardAPI?: { items?: DownwardAPIFile[] };
      serviceAccountToken?: TokenSource;
      clusterTrustBundle?: unknown;
    }[];
  };
  [source: string]: unknown;
}

/** The volumes whose contents the kubelet writes from the API: always mounted read-only, as upstream. */
const apiDataSources = ['configMap', 'secret', 'downwardAPI', 'projected'] as const;

interface FileProjection {
  data: Buffer;
  mode: number;
}

/**
 * Makes (or refreshes) each of the pod's volumes and answers where each is on the node. A missing
 * required ConfigMap, Secret or key, a failed hostPath type check, or an unsupported volume type
 * throws a `ConfigError`.
 */
export async function materializeVolumes(
  client: ApiClient,
  pod: Pod,
  podDir: string,
  tokens: ServiceAccountTokens = new ServiceAccountTokens(client),
): Promise<Map<string, string>> {
  const paths = new Map<string, string>();
  for (const volume of (pod.spec.volumes ?? []) as Volume[]) {
    paths.set(volume.name, await materialize(client, pod, podDir, volume, tokens));
  }
  return paths;
}

/** The names of the pod's volumes whose contents come from the API (mounted read-only). */
export function apiDataVolumes(pod: Pod): Set<string> {
  const volumes = (pod.spec.volumes ?? []) as Volume[];
  return new Set(volumes.filter((v) => apiDataSources.some((s) => v[s] !== undefined)).map((v) => v.name));
}

export function volumeDir(podDir: string, name: string): string {
  return join(podDir, 'volumes', name);
}

async function materialize(
  client: ApiClient,
  pod: Pod,
  podDir: string,
  volume: Volume,
  tokens: ServiceAccountTokens,
): Promise<string> {
  if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(volume.name)) {
    throw new ConfigError(`invalid volume name ${JSON.stringify(volume.name)}`);
  }
  const dir = volumeDir(podDir, volume.name);
  if (volume.hostPath) return checkHostPath(volume.hostPath.path, volume.hostPath.type ?? '');
  if (volume.emptyDir) {
    // Contents outlive container restarts: never cleared here.
    await mkdir(dir, { recursive: true, mode: 0o777 });
    await chmod(dir, 0o777);
    return dir;
  }
  const namespace = pod.metadata.namespace ?? 'default';
  let payload: Map<string, FileProjection>;
  if (volume.configMap) {
    const source = volume.configMap;
    const object = await findConfigMap(client, namespace, source.name);
    if (!object && !source.optional) throw notFound('configmap', source.name);
    payload = configMapPayload(object, source, source.defaultMode ?? defaultMode);
  } else if (volume.secret) {
    const source = volume.secret;
    const object = await findSecret(client, namespace, source.secretName);
    if (!object && !source.optional) throw notFound('secret', source.secretName);
    payload = secretPayload(
      object,
      { ...source, name: source.secretName },
      source.defaultMode ?? defaultMode,
    );
  } else if (volume.downwardAPI) {
    payload = downwardPayload(
      pod,
      volume.downwardAPI.items ?? [],
      volume.downwardAPI.defaultMode ?? defaultMode,
    );
  } else if (volume.projected) {
    payload = await projectedPayload(client, pod, volume.projected, tokens);
  } else {
    const kind = Object.keys(volume).find((key) => key !== 'name') ?? 'unknown';
    throw new ConfigError(`volume ${volume.name}: unsupported volume type ${kind}`);
  }
  await writeAtomically(dir, payload);
  return dir;
}

function configMapPayload(object: ConfigMap | undefined, source: ObjectSource, mode: number) {
  const values = new Map<string, Buffer>();
  for (const [key, text] of Object.entries(object?.data ?? {})) values.set(key, Buffer.from(text, 'utf8'));
  for (const [key, text] of Object.entries(object?.binaryData ?? {}))
    values.set(key, Buffer.from(text, 'base64'));
  return keyPayload(values, source, mode, 'configmap references non-existent config key');
}

function secretPayload(object: Secret | undefined, source: ObjectSource, mode: number) {
  const values = object ? secretValues(object) : new Map<string, Buffer>();
  return keyPayload(values, source, mode, 'references non-existent secret key');
}

/** Upstream `MakePayload`: every key as a file, or only `items` (a missing item key is an error unless optional). */
function keyPayload(values: Map<string, Buffer>, source: ObjectSource, mode: number, missing: string) {
  const payload = new Map<string, FileProjection>();
  if (!source.items?.length) {
    for (const [key, data] of values) payload.set(key, { data, mode });
    return payload;
  }
  for (const item of source.items) {
    const data = values.get(item.key);
    if (data === undefined) {
      if (source.optional) continue;
      throw new ConfigError(`${missing}: ${item.key}`);
    }
    payload.set(item.path, { data, mode: item.mode ?? mode });
  }
  return payload;
}

function downwardPayload(pod: Pod, items: DownwardAPIFile[], mode: number) {
  const payload = new Map<string, FileProjection>();
  for (const item of items) {
    let text: string;
    if (item.fieldRef) text = podFieldValue(pod, item.fieldRef);
    else if (item.resourceFieldRef && pod.spec.containers[0]) {
      // The selector names its container (required in volumes). An unset limit would be the node's
      // allocatable amount upstream; volumes are written without the Node here, so it reads 0.
      text = containerResourceValue(pod, pod.spec.containers[0], item.resourceFieldRef, {});
    } else continue;
    payload.set(item.path, { data: Buffer.from(text, 'utf8'), mode: item.mode ?? mode });
  }
  return payload;
}

/** Upstream's projected volume: its sources' files together. */
async function projectedPayload(
  client: ApiClient,
  pod: Pod,
  projected: NonNullable<Volume['projected']>,
  tokens: ServiceAccountTokens,
) {
  const mode = projected.defaultMode ?? defaultMode;
  const namespace = pod.metadata.namespace ?? 'default';
  const payload = new Map<string, FileProjection>();
  for (const source of projected.sources ?? []) {
    let part: Map<string, FileProjection>;
    if (source.configMap) {
      const object = await findConfigMap(client, namespace, source.configMap.name);
      if (!object && !source.configMap.optional) throw notFound('configmap', source.configMap.name);
      part = configMapPayload(object, source.configMap, mode);
    } else if (source.secret) {
      const object = await findSecret(client, namespace, source.secret.name);
      if (!object && !source.secret.optional) throw notFound('secret', source.secret.name);
      part = secretPayload(object, source.secret, mode);
    } else if (source.downwardAPI) {
      part = downwardPayload(pod, source.downwardAPI.items ?? [], mode);
    } else if (source.serviceAccountToken) {
      const token = await tokens.token(pod, source.serviceAccountToken);
      part = new Map([[source.serviceAccountToken.path, { data: Buffer.from(token), mode }]]);
    } else {
      const kind = Object.keys(source)[0] ?? 'unknown';
      throw new ConfigError(`projected volume source ${kind} is not supported`);
    }
    for (const [path, file] of part) payload.set(path, file);
  }
  return payload;
}

/** Upstream's hostPath type checks, with their messages; answers the path itself. */
async function checkHostPath(path: string, type: HostPathType): Promise<string> {
  const info = await stat(path).catch(() => undefined);
  const fail = (what: string) => new ConfigError(`hostPath type check failed: ${path} is not ${what}`);
  switch (type) {
    case 'DirectoryOrCreate':
      if (!info) await mkdir(path, { recursive: true, mode: 0o755 });
      else if (!info.isDirectory()) throw fail('a directory');
      break;
    case 'Directory':
      if (!info?.isDirectory()) throw fail('a directory');
      break;
    case 'FileOrCreate':
      if (!info) {
        const handle = await open(path, 'a', 0o644).catch((error: NodeJS.ErrnoException) => {
          throw new ConfigError(`hostPath ${path}: ${error.code ?? error.message}`);
        });
        await handle.close();
      } else if (!info.isFile()) throw fail('a file');
      break;
    case 'File':
      if (!info?.isFile()) throw fail('a file');
      break;
    case 'Socket':
      if (!info?.isSocket()) throw fail('a socket file');
      break;
    case 'CharDevice':
      if (!info?.isCharacterDevice()) throw fail('a character device');
      break;
    case 'BlockDevice':
      if (!info?.isBlockDevice()) throw fail('a block device');
      break;
  }
  return path;
}

const dataLink = '..data';

/** A payload path must stay inside the volume: relative, no `..` element, not starting with `..`. */
function checkPath(path: string): void {
  if (!path || isAbsolute(path) || path.startsWith('..') || path.split('/').includes('..')) {
    throw new ConfigError(`invalid path ${JSON.stringify(path)} in volume`);
  }
}

/** Upstream `AtomicWriter.Write`, simplified: see the module comment. */
export async function writeAtomically(dir: string, payload: Map<string, FileProjection>): Promise<void> {
  for (const path of payload.keys()) checkPath(path);
  await mkdir(dir, { recursive: true, mode: 0o755 });
  const current = await readlink(join(dir, dataLink)).catch(() => undefined);
  if (current !== undefined && (await samePayload(join(dir, current), payload))) {
    await linkEntries(dir, payload);
    return;
  }
  const stamp = new Date().toISOString().replace(/[-:]/g, '_').replace('T', '_').replace('Z', '');
  const fresh = await mkdtemp(join(dir, `..${stamp}.`));
  await chmod(fresh, 0o755);
  for (const [path, file] of payload) {
    const target = join(fresh, path);
    await mkdir(dirname(target), { recursive: true, mode: 0o755 });
    await writeFile(target, file.data);
    await chmod(target, file.mode & 0o7777);
  }
  const temporary = join(dir, `${dataLink}_tmp`);
  await rm(temporary, { force: true });
  await symlink(posix.basename(fresh), temporary);
  await rename(temporary, join(dir, dataLink));
  await linkEntries(dir, payload);
  if (current !== undefined) await rm(join(dir, current), { recursive: true, force: true });
}

/** The user-visible top-level entries: each a symlink through `..data`; stale ones removed. */
async function linkEntries(dir: string, payload: Map<string, FileProjection>): Promise<void> {
  const wanted = new Set([...payload.keys()].map((path) => path.split('/')[0] as string));
  for (const entry of await readdir(dir)) {
    if (entry.startsWith('..') || wanted.has(entry)) continue;
    await rm(join(dir, entry), { recursive: true, force: true });
  }
  for (const entry of wanted) {
    const link = join(dir, entry);
    const target = posix.join(dataLink, entry);
    const existing = await lstat(link).catch(() => undefined);
    if (existing?.isSymbolicLink() && (await readlink(link)) === target) continue;
    if (existing) await rm(link, { recursive: true, force: true });
    await symlink(target, link);
  }
}

/** Whether `dir` holds exactly `payload`, byte for byte and mode for mode. */
async function samePayload(dir: string, payload: Map<string, FileProjection>): Promise<boolean> {
  const files = await listFiles(dir).catch(() => undefined);
  if (!files || files.length !== payload.size) return false;
  for (const path of files) {
    const file = payload.get(path);
    if (!file) return false;
    const info = await stat(join(dir, path));
    if ((info.mode & 0o7777) !== (file.mode & 0o7777)) return false;
    if (!(await readFile(join(dir, path))).equals(file.data)) return false;
  }
  return true;
}

async function listFiles(dir: string, prefix = ''): Promise<string[]> {
  const files: string[] = [];
  for (const entry of await readdir(join(dir, prefix), { withFileTypes: true })) {
    const path = prefix ? `${prefix}/${entry.name}` : entry.name;
    if (entry.isDirectory()) files.push(...(await listFiles(dir, path)));
    else files.push(path);
  }
  return files;
}

/**
 * The container's `volumeMounts` as runtime mounts, over `materializeVolumes`' answer: `subPath` (or
 * `subPathExpr`, expanded with the container's resolved `env`) joined under the volume and created as
 * a directory when missing, as upstream does. Given the `pod`, its API-data volumes (ConfigMap,
 * Secret, downward API, projected) are always read-only, as upstream mounts them. A mount naming a
 * volume the pod does not have, or a sub-path leaving its volume, is a `ConfigError`.
 */
export function containerMounts(
  container: KubeletContainer,
  volumes: ReadonlyMap<string, string>,
  options: { pod?: Pod; env?: { name: string; value: string }[] } = {},
): Mount[] {
  const variables = new Map((options.env ?? []).map((e) => [e.name, e.value]));
  const readOnly = options.pod ? apiDataVolumes(options.pod) : new Set<string>();
  return (container.volumeMounts ?? []).map((mount) => {
    const volume = volumes.get(mount.name);
    if (volume === undefined) {
      throw new ConfigError(`cannot find volume "${mount.name}" to mount into container "${container.name}"`);
    }
    const subPath = mount.subPathExpr ? expandEnv(mount.subPathExpr, variables) : (mount.subPath ?? '');
    let hostPath = volume;
    if (subPath) {
      checkPath(subPath);
      hostPath = join(volume, subPath);
      if (!existsSync(hostPath)) mkdirSync(hostPath, { recursive: true, mode: 0o755 });
    }
    return {
      hostPath,
      containerPath: mount.mountPath,
      readOnly: mount.readOnly === true || readOnly.has(mount.name),
    };
  });
}

/** Removes everything `materializeVolumes` wrote for the pod (hostPath volumes are the node's and stay). */
export async function removePodVolumes(podDir: string): Promise<void> {
  await rm(join(podDir, 'volumes'), { recursive: true, force: true });
}
