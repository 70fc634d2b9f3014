import { parse as parseYaml } from 'yaml';
import { ApiError, badRequest, StatusReason } from '../../shared/api/errors.js';
import { apiVersionOf, type ResourceType } from '../../shared/api/resources.js';
import type { KubernetesObject } from '../../shared/api/types.js';
import { isJsonObject } from '../../shared/api/types.js';
import { decodeKubernetesProtobuf, KUBERNETES_PROTOBUF } from '../../shared/protobuf/decode.js';
import { withGoZeroValues } from './field-validation.js';

/**
 * How deep a request's JSON may nest (objects and arrays). Go's decoder stops at 10000; here every
 * later step recurses per level (JSON.stringify gives up near 4000 levels, structuredClone near 1900,
 * strategic merge and field validation sooner), so a body must stop far earlier to never reach the
 * stack limit, which would be a 500. The deepest built-in object (a pod template's projected volume
 * items, or managedFields) is some 20 levels deep.
 */
export const maxNestingDepth = 128;

/** 400 if `value` nests deeper than `maxNestingDepth`; iterative, so any depth is measured safely. */
export function checkNesting(value: unknown, what = 'the request body'): void {
  const pending: [unknown, number][] = [[value, 0]];
  for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
    const [node, depth] = next;
    if (node === null || typeof node !== 'object') continue;
    if (depth >= maxNestingDepth) throw badRequest(`${what} is nested deeper than ${maxNestingDepth} levels`);
    for (const child of Object.values(node)) pending.push([child, depth + 1]);
  }
}

/** The body's document: JSON, YAML or Kubernetes protobuf as the content type says; anything but an object is 400. */
export function decodeDocument(body: Buffer, contentType: string | undefined): unknown {
  const document = parseDocument(body, contentType);
  checkNesting(document);
  return document;
}

function parseDocument(body: Buffer, contentType: string | undefined): unknown {
  const type = (contentType ?? 'application/json').split(';')[0]?.trim().toLowerCase();
  if (type === KUBERNETES_PROTOBUF) return decodeKubernetesProtobuf(body).object;
  const text = body.toString('utf8');
  if (text.trim() === '') throw badRequest('the request body is empty');
  try {
    if (type === 'application/yaml' || type === 'application/x-yaml' || type === 'text/yaml')
      return parseYaml(text, { maxAliasCount: 100 });
    if (type === 'application/json' || type?.endsWith('+json')) return JSON.parse(text);
  } catch (error) {
    throw badRequest(
      `the request body could not be decoded: ${error instanceof Error ? error.message.split('\n')[0] : 'malformed'}`,
    );
  }
  throw new ApiError(
    415,
    StatusReason.UnsupportedMediaType,
    `the body of the request was in an unknown format - accepted media types include: application/json, application/yaml, application/vnd.kubernetes.protobuf`,
  );
}

/**
 * The body as an object of `type`, its apiVersion and kind checked (and filled in when absent), with
 * the zero values Go's decoder would leave for nulls in lists and maps.
 */
export function decodeObject(type: ResourceType, document: unknown): KubernetesObject {
  if (!isJsonObject(document)) throw badRequest('the request body must be a JSON object');
  const expectedVersion = apiVersionOf(type);
  if (document.apiVersion !== undefined && document.apiVersion !== expectedVersion) {
    throw badRequest(
      `the API version in the data (${String(document.apiVersion)}) does not match the expected API version (${expectedVersion})`,
    );
  }
  if (document.kind !== undefined && document.kind !== type.kind) {
    throw badRequest(
      `the kind in the data (${String(document.kind)}) does not match the expected kind (${type.kind})`,
    );
  }
  const metadata = document.metadata ?? {};
  if (!isJsonObject(metadata)) throw badRequest('metadata must be an object');
  for (const field of ['name', 'namespace', 'generateName', 'resourceVersion', 'uid'] as const) {
    if (metadata[field] !== undefined && metadata[field] !== null && typeof metadata[field] !== 'string') {
      throw badRequest(`metadata.${field} must be a string`);
    }
  }
  for (const field of ['labels', 'annotations'] as const) {
    const map = metadata[field];
    if (map === undefined || map === null) continue;
    if (!isJsonObject(map) || Object.values(map).some((v) => typeof v !== 'string')) {
      throw badRequest(`metadata.${field} must be a map of strings`);
    }
  }
  return withGoZeroValues(type, {
    ...document,
    apiVersion: expectedVersion,
    kind: type.kind,
    metadata: { ...metadata },
  } as KubernetesObject);
}
