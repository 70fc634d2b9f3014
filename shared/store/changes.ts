import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { DynamoDBRecord } from 'aws-lambda';
import type { KubernetesObject } from '../api/types.js';
import { decodeBody } from './body.js';
import { isChunkSortKey, keyOfItem, type ObjectKey, objectPartition } from './keys.js';

/**
 * A change to one live object, read from a table stream record: which object, and its states before
 * and after when the record carries them whole. A body split into chunks is not in the record (only
 * its first chunk is): then `before`/`after` are absent and readers fetch the object if they need it.
 */
export interface ObjectChange {
  key: ObjectKey;
  before?: KubernetesObject;
  after?: KubernetesObject;
  /** The object exists after the change. */
  exists: boolean;
}

type Image = Record<string, AttributeValue>;

function objectOf(image: Image | undefined): KubernetesObject | undefined {
  if (!image) return undefined;
  const item = unmarshall(image);
  // Lambda's records carry binary attributes base64-encoded; the SDK's stream client gives bytes.
  const body = typeof item.body === 'string' ? Buffer.from(item.body, 'base64') : item.body;
  if (Number(item.chunks ?? 1) > 1 || !(body instanceof Uint8Array)) return undefined;
  return decodeBody([body]);
}

/** The object change a stream record describes, or `undefined` for the store's other items. */
export function objectChangeOf(record: DynamoDBRecord): ObjectChange | undefined {
  const keys = record.dynamodb?.Keys as Image | undefined;
  const pk = keys?.pk?.S;
  const sk = keys?.sk?.S;
  if (!pk?.startsWith(objectPartition('')) || sk === undefined || isChunkSortKey(sk)) return undefined;
  const before = objectOf(record.dynamodb?.OldImage as Image | undefined);
  const after = objectOf(record.dynamodb?.NewImage as Image | undefined);
  return {
    key: keyOfItem(pk, sk),
    exists: record.eventName !== 'REMOVE',
    ...(before ? { before } : {}),
    ...(after ? { after } : {}),
  };
}
