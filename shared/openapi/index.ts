/**
 * The Kubernetes OpenAPI this server publishes (`/openapi/v2`, `/openapi/v3`) and the schema walker
 * strategic merge patch uses. Pure functions; everything is built on first use and cached.
 */
export {
  type OpenApiOptions,
  type OpenApiV3Index,
  openApiV2,
  openApiV2Json,
  openApiV2Protobuf,
  openApiV3,
  openApiV3GroupVersions,
  openApiV3Index,
  openApiV3Json,
  type ServedDocument,
  toV3Schema,
} from './documents.js';
export {
  type GroupVersionKind,
  groupVersionPath,
  type OpenApiResource,
  openApiResources,
} from './resources.js';
export {
  closure,
  definitionName,
  definitions,
  type FieldPatchMeta,
  type JsonValue,
  type PatchStrategy,
  patchMeta,
  type Schema,
  SchemaNode,
  type SchemaShape,
  schemaFor,
} from './schema.js';

/** The media type kubectl asks `/openapi/v2` for (`Accept`); upstream still accepts it. */
export const OPENAPI_V2_PROTOBUF_ACCEPT = 'application/com.github.proto-openapi.spec.v2@v1.0+protobuf';
/**
 * The `Content-Type` of a protobuf `/openapi/v2` response. Not the `Accept` form: client-go parses the
 * response type with Go's `mime.ParseMediaType`, which rejects the `@` ("mime: unexpected content after
 * media subtype"), and kubectl then fails validation with an internal error.
 */
export const OPENAPI_V2_PROTOBUF_CONTENT_TYPE = 'application/com.github.proto-openapi.spec.v2.v1.0+protobuf';

/**
 * Which form of `/openapi/v2` an `Accept` header asks for, as upstream negotiates it (first matching
 * clause wins; JSON before protobuf for wildcards); undefined means 406 Not Acceptable.
 */
export function negotiateOpenApiV2(accept: string | undefined): 'json' | 'protobuf' | undefined {
  const clauses = (accept === undefined || accept.trim() === '' ? '*/*' : accept)
    .split(',')
    .map((c) => (c.split(';')[0] ?? '').trim().toLowerCase())
    .filter((c) => c !== '');
  for (const clause of clauses) {
    const [type = '', subtype = ''] = clause.split('/');
    if ((type === 'application' || type === '*') && (subtype === 'json' || subtype === '*')) return 'json';
    if (
      (type === 'application' || type === '*') &&
      (subtype === 'com.github.proto-openapi.spec.v2@v1.0+protobuf' ||
        subtype === 'com.github.proto-openapi.spec.v2.v1.0+protobuf')
    ) {
      return 'protobuf';
    }
  }
  return undefined;
}
