import { badRequest } from '../../shared/api/errors.js';
import { isJsonObject } from '../../shared/api/types.js';
import { type SchemaNode, schemaFor } from '../../shared/openapi/index.js';

/**
 * Strategic merge patch, as Kubernetes applies it to built-in kinds: like a JSON merge patch, except
 * that lists whose schema says `x-kubernetes-patch-strategy: merge` merge element by element (by their
 * `x-kubernetes-patch-merge-key`, or as a set of primitives), and the patch may carry the directives
 * `$patch` (replace / delete / merge), `$retainKeys`, `$setElementOrder/<field>` and
 * `$deleteFromPrimitiveList/<field>`. The patch metadata comes from the served OpenAPI schemas.
 */

type Json = Record<string, unknown>;

const setElementOrder = '$setElementOrder/';
const deleteFromPrimitiveList = '$deleteFromPrimitiveList/';

/** Merges `patch` into `original`; undefined when the patch deletes the map (`$patch: delete`). */
function mergeMap(original: Json, patch: Json, node: SchemaNode | undefined): Json | undefined {
  const directive = patch.$patch;
  if (directive === 'delete') return undefined;
  if (directive === 'replace') return mergeMap({}, { ...patch, $patch: undefined }, node);
  if (directive !== undefined && directive !== 'merge')
    throw badRequest(`unknown patch directive $patch: ${JSON.stringify(directive)}`);
  const result: Json = { ...original };
  for (const [key, value] of Object.entries(patch)) {
    if (key === '$patch' || key === '$retainKeys' || key.startsWith(setElementOrder)) continue;
    if (key.startsWith(deleteFromPrimitiveList)) {
      const field = key.slice(deleteFromPrimitiveList.length);
      if (!Array.isArray(value)) throw badRequest(`${key} must be a list`);
      const current = result[field];
      if (Array.isArray(current)) result[field] = current.filter((v) => !value.includes(v));
      continue;
    }
    if (value === null || value === undefined) {
      delete result[key];
      continue;
    }
    const child = node?.field(key);
    if (isJsonObject(value)) {
      const merged = mergeMap(isJsonObject(result[key]) ? (result[key] as Json) : {}, value, child);
      if (merged === undefined) delete result[key];
      else result[key] = merged;
    } else if (Array.isArray(value)) {
      result[key] = mergeList(result[key], value, child);
    } else {
      result[key] = value;
    }
  }
  const retain = patch.$retainKeys;
  if (retain !== undefined) {
    if (!Array.isArray(retain)) throw badRequest('$retainKeys must be a list');
    for (const key of Object.keys(result)) if (!retain.includes(key)) delete result[key];
  }
  for (const [key, order] of Object.entries(patch)) {
    if (!key.startsWith(setElementOrder)) continue;
    const field = key.slice(setElementOrder.length);
    const list = result[field];
    if (Array.isArray(list) && Array.isArray(order))
      result[field] = ordered(list, order, node?.field(field)?.patch.mergeKey);
  }
  return result;
}

/** Elements named in `order` come first, in that order; the rest keep their relative order. */
function ordered(list: unknown[], order: unknown[], mergeKey: string | undefined): unknown[] {
  const keyOf = (element: unknown) => (mergeKey && isJsonObject(element) ? element[mergeKey] : element);
  const orderKeys = order.map(keyOf);
  const position = (element: unknown) => {
    const index = orderKeys.findIndex((k) => JSON.stringify(k) === JSON.stringify(keyOf(element)));
    return index < 0 ? orderKeys.length : index;
  };
  return list
    .map((element, index) => ({ element, index }))
    .sort((a, b) => position(a.element) - position(b.element) || a.index - b.index)
    .map(({ element }) => element);
}

function mergeList(original: unknown, patch: unknown[], node: SchemaNode | undefined): unknown[] {
  const replaceDirective = patch.findIndex((e) => isJsonObject(e) && e.$patch === 'replace');
  if (replaceDirective >= 0)
    return patch.filter((_, i) => i !== replaceDirective).map((e) => strip(e, node?.items()));
  const items = node?.items();
  if (!node?.patch.strategies.includes('merge')) return patch.map((e) => strip(e, items));
  const result = Array.isArray(original) ? [...original] : [];
  const mergeKey = node.patch.mergeKey;
  if (!mergeKey) {
    for (const value of patch)
      if (!result.some((v) => JSON.stringify(v) === JSON.stringify(value))) result.push(value);
    return result;
  }
  for (const element of patch) {
    if (!isJsonObject(element))
      throw badRequest(`elements of a list merged by "${mergeKey}" must be objects`);
    const index = result.findIndex(
      (e) => isJsonObject(e) && JSON.stringify(e[mergeKey]) === JSON.stringify(element[mergeKey]),
    );
    if (element.$patch === 'delete') {
      if (index >= 0) result.splice(index, 1);
      continue;
    }
    const merged = mergeMap(
      index >= 0 && isJsonObject(result[index]) ? (result[index] as Json) : {},
      element,
      items,
    );
    if (merged === undefined) {
      if (index >= 0) result.splice(index, 1);
    } else if (index >= 0) {
      result[index] = merged;
    } else {
      result.push(merged);
    }
  }
  return result;
}

/** A patch value that lands as new content: directives removed. */
function strip(value: unknown, node: SchemaNode | undefined): unknown {
  return isJsonObject(value) ? mergeMap({}, value, node) : value;
}

/** Applies a strategic merge patch to an object of a built-in kind (its schema found by apiVersion/kind). */
export function strategicMergePatch(target: unknown, patch: unknown): unknown {
  if (!isJsonObject(target) || !isJsonObject(patch))
    throw badRequest('a strategic merge patch must be a JSON object');
  const [group, version] = String(target.apiVersion ?? '').includes('/')
    ? String(target.apiVersion).split('/')
    : ['', String(target.apiVersion ?? '')];
  const node = schemaFor({ group: group ?? '', version: version ?? '', kind: String(target.kind ?? '') });
  return mergeMap(target, patch, node) ?? {};
}
