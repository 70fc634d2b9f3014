import { deflateRawSync, inflateRawSync } from 'node:zlib';
import { tooLarge } from '../api/errors.js';
import type { KubernetesObject } from '../api/types.js';

/** Kubernetes' own limit on a stored object (etcd's default request size). */
export const maxObjectBytes = 1.5 * 1024 * 1024;
/** Bytes of compressed body per item: DynamoDB items hold 400 KB including names and keys. */
export const chunkBytes = 350_000;

/** An object as stored: its JSON, deflated, cut into chunks that each fit in one item. */
export function encodeBody(object: KubernetesObject): Uint8Array[] {
  const json = Buffer.from(JSON.stringify(object));
  if (json.length > maxObjectBytes) {
    throw tooLarge(`object is ${json.length} bytes, the limit is ${maxObjectBytes}`);
  }
  const deflated = deflateRawSync(json);
  const chunks: Uint8Array[] = [];
  for (let offset = 0; offset === 0 || offset < deflated.length; offset += chunkBytes) {
    chunks.push(deflated.subarray(offset, offset + chunkBytes));
  }
  return chunks;
}

export function decodeBody(chunks: readonly Uint8Array[]): KubernetesObject {
  return JSON.parse(inflateRawSync(Buffer.concat(chunks)).toString()) as KubernetesObject;
}
