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

/** The media type kubectl asks `/openapi/v2` for. */
export const OPENAPI_V2_PROTOBUF = 'application/com.github.proto-openapi.spec.v2@v1.0+protobuf';
