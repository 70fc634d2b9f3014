import jsonPatch from 'fast-json-patch';
import { ApiError, badRequest, StatusReason } from '../../shared/api/errors.js';
import { isJsonObject } from '../../shared/api/types.js';
import { checkNesting } from './decode.js';

type Json = Record<string, unknown>;

/** RFC 7386 JSON merge patch: objects merge recursively, null deletes, anything else replaces. */
export function mergePatch(target: unknown, patch: unknown): unknown {
  if (!isJsonObject(patch)) return patch;
  const result: Json = isJsonObject(target) ? { ...target } : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete result[key];
    else result[key] = mergePatch(result[key], value);
  }
  return result;
}

export const patchTypes = {
  json: 'application/json-patch+json',
  merge: 'application/merge-patch+json',
  strategic: 'application/strategic-merge-patch+json',
  apply: 'application/apply-patch+yaml',
} as const;

/**
 * Applies a patch document of the given content type to a copy of `target`. Neither the patch nor
 * what it makes may nest deeper than a request body may (see `maxNestingDepth`): the patches recurse
 * per level, and a JSON patch can build deeper than any of its parts.
 */
export function applyPatch(
  contentType: string | undefined,
  target: unknown,
  patch: unknown,
  strategic: (target: unknown, patch: unknown) => unknown,
): unknown {
  checkNesting(patch, 'the patch');
  const patched = applyChecked(contentType, target, patch, strategic);
  checkNesting(patched, 'the patched object');
  return patched;
}

function applyChecked(
  contentType: string | undefined,
  target: unknown,
  patch: unknown,
  strategic: (target: unknown, patch: unknown) => unknown,
): unknown {
  const type = contentType?.split(';')[0]?.trim().toLowerCase();
  switch (type) {
    case patchTypes.json: {
      if (!Array.isArray(patch)) throw badRequest('a JSON patch must be an array of operations');
      try {
        return jsonPatch.applyPatch(structuredClone(target), patch as jsonPatch.Operation[], true, false)
          .newDocument;
      } catch (error) {
        const message = error instanceof Error ? error.message.split('\n')[0] : 'invalid patch';
        if (error instanceof Error && error.name === 'TEST_OPERATION_FAILED') {
          throw new ApiError(
            422,
            StatusReason.Invalid,
            `the server rejected our request due to an error in our request: ${message}`,
          );
        }
        throw badRequest(`the JSON patch could not be applied: ${message}`);
      }
    }
    case patchTypes.merge:
      if (!isJsonObject(patch)) throw badRequest('a merge patch must be a JSON object');
      return mergePatch(target, patch);
    case patchTypes.strategic:
      if (!isJsonObject(patch)) throw badRequest('a strategic merge patch must be a JSON object');
      return strategic(target, patch);
    default:
      throw new ApiError(
        415,
        StatusReason.UnsupportedMediaType,
        `the body of the request was in an unknown format - accepted media types include: ${Object.values(patchTypes).slice(0, 3).join(', ')}`,
      );
  }
}
