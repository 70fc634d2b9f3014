import { badRequest } from '../api/errors.js';

/**
 * Where an object lives: its resource (`pods`, `deployments.apps`), namespace (absent for
 * cluster-scoped resources) and name.
 */
export interface ObjectKey {
  resource: string;
  namespace?: string;
  name: string;
}

/** A set of objects: one resource, optionally narrowed to a namespace, optionally to one name. */
export interface KeyPrefix {
  resource: string;
  namespace?: string;
  name?: string;
}

export const metaKey = { pk: 'meta', sk: 'meta' } as const;

/** A change counter's item: beside the log's marks, outside every object's partition and history. */
export function counterKey(name: string): { pk: string; sk: string } {
  return { pk: 'meta', sk: `counter#${name}` };
}
export const historySortKey = 'h';
/** Separates a body's chunk index from its item's sort key; sorts before every name character. */
export const chunkSeparator = '\u0000';

export function objectPartition(resource: string): string {
  return `o#${resource}`;
}

export function objectSortKey(key: ObjectKey): string {
  return key.namespace ? `${key.namespace}/${key.name}` : key.name;
}

export function historyPartition(revision: number): string {
  return `h#${revision}`;
}

export function chunkSortKey(parentSortKey: string, index: number): string {
  return `${chunkPrefix(parentSortKey)}${index}`;
}

/** What every chunk sort key of this parent begins with. */
export function chunkPrefix(parentSortKey: string): string {
  return `${parentSortKey}${chunkSeparator}`;
}

export function isChunkSortKey(sortKey: string): boolean {
  return sortKey.includes(chunkSeparator);
}

/** The key of a live object item, from its partition and sort keys. */
export function keyOfItem(pk: string, sk: string): ObjectKey {
  const resource = pk.slice('o#'.length);
  const slash = sk.indexOf('/');
  return slash < 0
    ? { resource, name: sk }
    : { resource, namespace: sk.slice(0, slash), name: sk.slice(slash + 1) };
}

/** The first sort key after this one and all its chunks. */
export function sortKeyAfter(sortKey: string): string {
  return `${sortKey}\u0001`;
}

/**
 * The sort-key range of a prefix inside its resource partition, chunks included: [from, to]. A
 * namespace's keys all start with `<ns>/`, and `/` sorts just below `0`, so `<ns>0` bounds them.
 */
export function sortKeyRange(prefix: KeyPrefix): { from?: string; to?: string } {
  if (prefix.name !== undefined) {
    const sk = objectSortKey({ ...prefix, name: prefix.name });
    return { from: sk, to: sortKeyAfter(sk) };
  }
  return prefix.namespace ? { from: `${prefix.namespace}/`, to: `${prefix.namespace}0` } : {};
}

export function prefixContains(prefix: KeyPrefix, pk: string, sk: string): boolean {
  if (pk !== objectPartition(prefix.resource)) return false;
  const { from, to } = sortKeyRange(prefix);
  return (from === undefined || sk >= from) && (to === undefined || sk <= to);
}

/** `/` and `%` can't be in a path segment; control characters would break the key layout. */
function unstorable(value: string): boolean {
  return value.includes('/') || value.includes('%') || [...value].some((c) => c.charCodeAt(0) < 0x20);
}

function checkSegment(what: string, value: string): void {
  if (value === '' || value === '.' || value === '..' || unstorable(value)) {
    throw badRequest(`invalid ${what} ${JSON.stringify(value)}: must be a non-empty path segment`);
  }
}

/** Rejects keys that could not be stored unambiguously (the API layer validates names fully). */
export function checkKey(key: KeyPrefix): void {
  checkSegment('resource', key.resource);
  if (key.namespace !== undefined) checkSegment('namespace', key.namespace);
  if (key.name !== undefined) checkSegment('name', key.name);
}

/** DynamoDB's limit on a sort key, less room for a chunk's suffix (`\0` and its index). */
const maxSortKeyBytes = 1024 - 16;

/**
 * Whether a key (or a prefix's namespace) fits a DynamoDB sort key. One that does not names nothing
 * that can be stored: reads answer NotFound or an empty list instead of DynamoDB's ValidationException.
 */
export function fitsSortKey(prefix: KeyPrefix): boolean {
  const sk =
    prefix.name !== undefined
      ? objectSortKey({ ...prefix, name: prefix.name })
      : `${prefix.namespace ?? ''}/`;
  return Buffer.byteLength(sk, 'utf8') <= maxSortKeyBytes;
}
