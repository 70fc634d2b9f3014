import { ApiError, StatusReason } from '../../shared/api/errors.js';

/** Strategic merge patch needs the built-in types' merge keys (from the OpenAPI schemas): not yet served. */
export function strategicMergePatch(_target: unknown, _patch: unknown): unknown {
  throw new ApiError(
    415,
    StatusReason.UnsupportedMediaType,
    'strategic merge patch is not supported yet: use application/merge-patch+json or application/json-patch+json',
  );
}
