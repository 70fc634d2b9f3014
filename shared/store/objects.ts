import { getItem, type Item, query, type StoreTable } from './dynamo.js';
import {
  chunkPrefix,
  isChunkSortKey,
  type KeyPrefix,
  keyOfItem,
  type ObjectKey,
  objectPartition,
  objectSortKey,
  sortKeyAfter,
  sortKeyRange,
} from './keys.js';

/** A live object item with its body reassembled from its chunks. */
export interface StoredObject {
  sk: string;
  revision: number;
  body: Uint8Array[];
}

const maxTornReads = 5;

/**
 * Puts chunks back together, or `undefined` if they come from different revisions: a read that
 * raced a write (queries are not snapshots), to be read again.
 */
function assemble(main: Item, chunks: readonly Item[]): StoredObject | undefined {
  const revision = Number(main.revision);
  const count = Number(main.chunks ?? 1);
  if (chunks.length !== count - 1 || chunks.some((chunk) => Number(chunk.revision) !== revision))
    return undefined;
  return {
    sk: main.sk as string,
    revision,
    body: [main.body, ...chunks.map((chunk) => chunk.body)] as Uint8Array[],
  };
}

async function readChunks(table: StoreTable, pk: string, sk: string): Promise<Item[]> {
  const chunks: Item[] = [];
  const items = query(table, {
    KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
    ExpressionAttributeValues: { ':pk': pk, ':prefix': chunkPrefix(sk) },
  });
  for await (const chunk of items) chunks.push(chunk);
  return chunks;
}

/** The live object at `key`: one GetItem, plus one Query for the rare body split into chunks. */
export async function getObject(table: StoreTable, key: ObjectKey): Promise<StoredObject | undefined> {
  const pk = objectPartition(key.resource);
  const sk = objectSortKey(key);
  for (let attempt = 0; attempt < maxTornReads; attempt++) {
    const main = await getItem(table, { pk, sk });
    if (!main) return undefined;
    const stored =
      Number(main.chunks ?? 1) > 1 ? assemble(main, await readChunks(table, pk, sk)) : assemble(main, []);
    if (stored) return stored;
  }
  throw new Error(`object ${pk} ${sk} kept changing while its chunks were read`);
}

/** Live objects of a prefix in sort-key order, starting after `startAfter`: one Query, read lazily. */
export async function* readObjects(
  table: StoreTable,
  prefix: KeyPrefix,
  startAfter?: string,
  pageSize?: number,
): AsyncGenerator<StoredObject> {
  const pk = objectPartition(prefix.resource);
  const range = sortKeyRange(prefix);
  const from =
    startAfter !== undefined && (range.from === undefined || startAfter >= range.from)
      ? sortKeyAfter(startAfter)
      : range.from;
  const values: Record<string, string> = { ':pk': pk };
  let condition = 'pk = :pk';
  if (from !== undefined && range.to !== undefined) {
    condition += ' AND sk BETWEEN :from AND :to';
    Object.assign(values, { ':from': from, ':to': range.to });
  } else if (from !== undefined) {
    condition += ' AND sk >= :from';
    values[':from'] = from;
  }
  const items = query(table, {
    KeyConditionExpression: condition,
    ExpressionAttributeValues: values,
    ...(pageSize ? { Limit: pageSize } : {}),
  });
  let main: Item | undefined;
  let chunks: Item[] = [];
  const finish = async (): Promise<StoredObject | undefined> => {
    if (!main) return undefined;
    const sk = main.sk as string;
    return assemble(main, chunks) ?? (await getObject(table, keyOfItem(pk, sk)));
  };
  for await (const item of items) {
    const sk = item.sk as string;
    if (main && sk.startsWith(chunkPrefix(main.sk as string))) {
      chunks.push(item);
      continue;
    }
    if (isChunkSortKey(sk)) continue; // the tail of an object before this read's start
    const done = await finish();
    if (done) yield done;
    main = item;
    chunks = [];
  }
  const done = await finish();
  if (done) yield done;
}
