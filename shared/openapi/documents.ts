/**
 * The OpenAPI documents the API server serves: `/openapi/v2` (Swagger 2.0) and `/openapi/v3` (an index
 * of per-group-version OpenAPI 3.0 documents), built from the upstream definitions on first use.
 *
 * kubectl reads from them (client-go and kubectl v1.32):
 * - the definitions, found by their `x-kubernetes-group-version-kind` extension (an array on a
 *   definition): `kubectl explain` (v3), client-side validation (v2, protobuf only) and
 *   `kubectl apply`'s strategic merge patch (v3, falling back to v2, then to compiled-in types);
 * - the PATCH operations, found by their `x-kubernetes-group-version-kind` (one object on an
 *   operation): whether the server takes `fieldValidation` (if so kubectl skips client-side
 *   validation and leaves it to the server; if the kind has no PATCH operation at all, kubectl
 *   fails with "Path not found for GVK") and whether the request body may be
 *   `application/strategic-merge-patch+json` (if not, `kubectl apply` sends a JSON merge patch).
 */
import { createHash } from 'node:crypto';
import { encodeSwaggerDocument } from './protobuf.js';
import {
  apiVersionOf,
  type GroupVersionKind,
  groupVersionPath,
  metaDefinitions,
  type OpenApiResource,
  openApiResources,
  type Subresource,
  subresourceKind,
  subresourceVerbs,
} from './resources.js';
import {
  closure,
  DEFINITION_REF_PREFIX,
  definitionName,
  definitions,
  isSchema,
  type JsonValue,
  type Schema,
} from './schema.js';

export interface OpenApiOptions {
  /**
   * Advertise the `fieldValidation` query parameter on writes. Only when the server rejects unknown
   * fields itself (`fieldValidation=Strict`): kubectl then skips its own validation. Default false:
   * kubectl validates manifests client-side against `/openapi/v2`.
   */
  fieldValidation?: boolean;
}

export interface OpenApiV3Index {
  paths: Record<string, { serverRelativeURL: string }>;
}

/** A served document: its JSON text and a content hash (SHA-512, upper-case hex, as upstream). */
export interface ServedDocument {
  json: string;
  hash: string;
}

type Method = 'get' | 'put' | 'post' | 'delete' | 'patch';
type Action = 'get' | 'list' | 'post' | 'put' | 'patch' | 'delete' | 'deletecollection' | 'connect';

interface Operation {
  method: Method;
  action: Action;
  gvk: GroupVersionKind;
  operationId: string;
  description: string;
  /** Request body definition, for writes. */
  body?: string;
  /** Response definition per status code. */
  responses: Record<string, string | undefined>;
  query: string[];
  consumes: string[];
  /** The group version the path belongs to (`apps_v1`), also for the Scale of `deployments/scale`. */
  tag: string;
}

interface PathEntry {
  path: string;
  groupVersion: string;
  pathParams: string[];
  operations: Operation[];
}

const JSON_TYPE = 'application/json';
const PATCH_TYPES = [
  'application/json-patch+json',
  'application/merge-patch+json',
  'application/strategic-merge-patch+json',
  'application/apply-patch+yaml',
];
const META = 'io.k8s.apimachinery.pkg.apis.meta.v1';

const PARAMETERS: Record<string, { type: 'string' | 'boolean' | 'integer'; description: string }> = {
  name: { type: 'string', description: 'name of the object' },
  namespace: { type: 'string', description: 'object name and auth scope, such as for teams and projects' },
  pretty: { type: 'string', description: "If 'true', then the output is pretty printed." },
  dryRun: {
    type: 'string',
    description: 'When present, modifications are not persisted. The only valid value is All.',
  },
  fieldManager: { type: 'string', description: 'A name associated with the actor making these changes.' },
  fieldValidation: {
    type: 'string',
    description:
      'How the server treats unknown or duplicate fields in the request body: Ignore, Warn or Strict.',
  },
  force: { type: 'boolean', description: 'Re-acquire fields owned by other managers (apply patches only).' },
  labelSelector: { type: 'string', description: 'A selector on the objects\u2019 labels.' },
  fieldSelector: { type: 'string', description: 'A selector on the objects\u2019 fields.' },
  limit: { type: 'integer', description: 'The maximum number of items to return in one list call.' },
  continue: { type: 'string', description: 'The continue token of the previous page of a list.' },
  resourceVersion: { type: 'string', description: 'The resource version to list or watch from.' },
  resourceVersionMatch: {
    type: 'string',
    description: 'How resourceVersion applies to a list: Exact or NotOlderThan.',
  },
  timeoutSeconds: { type: 'integer', description: 'Timeout for the list or watch call.' },
  watch: { type: 'boolean', description: 'Watch for changes to the described resources.' },
  allowWatchBookmarks: { type: 'boolean', description: 'Ask for BOOKMARK watch events.' },
  sendInitialEvents: {
    type: 'boolean',
    description: 'Start a watch with the current state as ADDED events.',
  },
  gracePeriodSeconds: { type: 'integer', description: 'Seconds before the object is deleted.' },
  propagationPolicy: {
    type: 'string',
    description: 'Whether and how garbage collection is performed: Orphan, Background or Foreground.',
  },
};
const LIST_QUERY = [
  'allowWatchBookmarks',
  'continue',
  'fieldSelector',
  'labelSelector',
  'limit',
  'resourceVersion',
  'resourceVersionMatch',
  'sendInitialEvents',
  'timeoutSeconds',
  'watch',
];

function upperFirst(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

/** `core`, `apps`, `rbacAuthorization`: the upstream name of a group in operation ids and tags. */
function groupId(group: string): string {
  if (group === '') return 'core';
  const [first = '', ...rest] = group.replace(/\.k8s\.io$/, '').split('.');
  return first + rest.map(upperFirst).join('');
}

function requireDefinition(gvk: GroupVersionKind): string {
  const name = definitionName(gvk);
  if (name === undefined) throw new Error(`no OpenAPI definition for ${apiVersionOf(gvk)} ${gvk.kind}`);
  return name;
}

/** The operations of one resource: what our API server answers, described for clients. */
function resourcePaths(r: OpenApiResource, fieldValidation: boolean): PathEntry[] {
  const gv = groupVersionPath(r.group, r.version);
  const gvk = { group: r.group, version: r.version, kind: r.kind };
  const self = requireDefinition(gvk);
  const list = requireDefinition({ ...gvk, kind: `${r.kind}List` });
  const id = `${upperFirst(groupId(r.group))}${upperFirst(r.version)}`;
  const tag = `${groupId(r.group)}_${r.version}`;
  const ns = r.namespaced ? 'Namespaced' : '';
  const writeQuery = fieldValidation
    ? ['dryRun', 'fieldManager', 'fieldValidation']
    : ['dryRun', 'fieldManager'];
  const base = `/${gv}${r.namespaced ? '/namespaces/{namespace}' : ''}/${r.resource}`;
  const scopeParams = r.namespaced ? ['namespace'] : [];
  const op = (o: Omit<Operation, 'consumes' | 'tag'> & { consumes?: string[] }): Operation => ({
    consumes: ['*/*'],
    tag,
    ...o,
  });
  const entries: PathEntry[] = [
    {
      path: base,
      groupVersion: gv,
      pathParams: scopeParams,
      operations: [
        op({
          method: 'get',
          action: 'list',
          gvk,
          operationId: `list${id}${ns}${r.kind}`,
          description: `list or watch objects of kind ${r.kind}`,
          responses: { '200': list },
          query: LIST_QUERY,
        }),
        op({
          method: 'post',
          action: 'post',
          gvk,
          operationId: `create${id}${ns}${r.kind}`,
          description: `create a ${r.kind}`,
          body: self,
          responses: { '200': self, '201': self, '202': self },
          query: writeQuery,
        }),
        op({
          method: 'delete',
          action: 'deletecollection',
          gvk,
          operationId: `deletecollection${id}${ns}${r.kind}`,
          description: `delete collection of ${r.kind}`,
          body: `${META}.DeleteOptions`,
          responses: { '200': `${META}.Status` },
          query: ['dryRun', 'gracePeriodSeconds', 'propagationPolicy', ...LIST_QUERY],
        }),
      ],
    },
    {
      path: `${base}/{name}`,
      groupVersion: gv,
      pathParams: ['name', ...scopeParams],
      operations: [
        op({
          method: 'get',
          action: 'get',
          gvk,
          operationId: `read${id}${ns}${r.kind}`,
          description: `read the specified ${r.kind}`,
          responses: { '200': self },
          query: [],
        }),
        op({
          method: 'put',
          action: 'put',
          gvk,
          operationId: `replace${id}${ns}${r.kind}`,
          description: `replace the specified ${r.kind}`,
          body: self,
          responses: { '200': self, '201': self },
          query: writeQuery,
        }),
        op({
          method: 'patch',
          action: 'patch',
          gvk,
          operationId: `patch${id}${ns}${r.kind}`,
          description: `partially update the specified ${r.kind}`,
          body: `${META}.Patch`,
          consumes: PATCH_TYPES,
          responses: { '200': self, '201': self },
          query: [...writeQuery, 'force'],
        }),
        op({
          method: 'delete',
          action: 'delete',
          gvk,
          operationId: `delete${id}${ns}${r.kind}`,
          description: `delete a ${r.kind}`,
          body: `${META}.DeleteOptions`,
          responses: { '200': `${META}.Status`, '202': `${META}.Status` },
          query: ['dryRun', 'gracePeriodSeconds', 'propagationPolicy'],
        }),
      ],
    },
  ];
  if (r.namespaced) {
    entries.push({
      path: `/${gv}/${r.resource}`,
      groupVersion: gv,
      pathParams: [],
      operations: [
        op({
          method: 'get',
          action: 'list',
          gvk,
          operationId: `list${id}${r.kind}ForAllNamespaces`,
          description: `list or watch objects of kind ${r.kind}`,
          responses: { '200': list },
          query: LIST_QUERY,
        }),
      ],
    });
  }
  for (const sub of r.subresources ?? []) {
    // Connections to the kubelet (plain text, WebSocket) have no schema kubectl reads.
    if (sub === 'log' || sub === 'exec') continue;
    entries.push({
      path: `${base}/{name}/${sub}`,
      groupVersion: gv,
      pathParams: ['name', ...scopeParams],
      operations: subresourceOperations(r, sub, { id, ns, writeQuery, op }),
    });
  }
  return entries;
}

/**
 * A subresource's operations: one per verb it serves (`subresourceVerbs`, which the server enforces),
 * in upstream's form. The body and response are the subresource's own kind where it has one
 * (`pods/eviction` takes an Eviction, `serviceaccounts/token` a TokenRequest), else the parent's; the
 * GVK is that kind's, which is where kubectl looks a path up.
 */
function subresourceOperations(
  r: OpenApiResource,
  sub: Subresource,
  ctx: {
    id: string;
    ns: string;
    writeQuery: string[];
    op: (o: Omit<Operation, 'consumes' | 'tag'> & { consumes?: string[] }) => Operation;
  },
): Operation[] {
  const { id, ns, writeQuery, op } = ctx;
  const gvk = subresourceKind(r, sub);
  const self = requireDefinition(gvk);
  const name = `${id}${ns}${r.kind}${upperFirst(sub)}`;
  const verbs = subresourceVerbs[sub];
  const operations: Operation[] = [];
  if (verbs.includes('get')) {
    operations.push(
      op({
        method: 'get',
        action: 'get',
        gvk,
        operationId: `read${name}`,
        description: `read ${sub} of the specified ${r.kind}`,
        responses: { '200': self },
        query: [],
      }),
    );
  }
  if (verbs.includes('create')) {
    operations.push(
      op({
        method: 'post',
        action: 'post',
        gvk,
        operationId: `create${name}`,
        description: `create ${sub} of a ${r.kind}`,
        body: self,
        responses: { '200': self, '201': self, '202': self },
        query: writeQuery,
      }),
    );
  }
  if (verbs.includes('update')) {
    operations.push(
      op({
        method: 'put',
        action: 'put',
        gvk,
        operationId: `replace${name}`,
        description: `replace ${sub} of the specified ${r.kind}`,
        body: self,
        responses: { '200': self, '201': self },
        query: writeQuery,
      }),
    );
  }
  if (verbs.includes('patch')) {
    operations.push(
      op({
        method: 'patch',
        action: 'patch',
        gvk,
        operationId: `patch${name}`,
        description: `partially update ${sub} of the specified ${r.kind}`,
        body: `${META}.Patch`,
        consumes: PATCH_TYPES,
        responses: { '200': self, '201': self },
        query: [...writeQuery, 'force'],
      }),
    );
  }
  return operations;
}

function allPaths(fieldValidation: boolean): PathEntry[] {
  return openApiResources.flatMap((r) => resourcePaths(r, fieldValidation));
}

function operationDefinitions(entries: PathEntry[]): string[] {
  return entries.flatMap((e) =>
    e.operations.flatMap((o) => [o.body, ...Object.values(o.responses)].filter((n) => n !== undefined)),
  );
}

function gvkExtension(gvk: GroupVersionKind): Schema {
  return { group: gvk.group, kind: gvk.kind, version: gvk.version };
}

function responseDescription(code: string): string {
  return code === '201' ? 'Created' : code === '202' ? 'Accepted' : 'OK';
}

// ---- Swagger 2.0 ----

function v2Parameter(name: string, location: 'path' | 'query'): Schema {
  const p = PARAMETERS[name];
  if (!p) throw new Error(`undescribed parameter ${name}`);
  const out: Schema = { description: p.description, in: location, name, type: p.type, uniqueItems: true };
  if (location === 'path') out.required = true;
  return out;
}

function v2Operation(o: Operation): Schema {
  const parameters: JsonValue[] = [];
  if (o.body) {
    parameters.push({
      in: 'body',
      name: 'body',
      required: o.method !== 'delete',
      schema: { $ref: `${DEFINITION_REF_PREFIX}${o.body}` },
    });
  }
  for (const q of o.query) parameters.push(v2Parameter(q, 'query'));
  const responses: Schema = {};
  for (const [code, def] of Object.entries(o.responses)) {
    responses[code] = def
      ? { description: responseDescription(code), schema: { $ref: `${DEFINITION_REF_PREFIX}${def}` } }
      : { description: responseDescription(code) };
  }
  responses['401'] = { description: 'Unauthorized' };
  return {
    consumes: o.consumes,
    description: o.description,
    operationId: o.operationId,
    parameters,
    produces: [JSON_TYPE],
    responses,
    schemes: ['https'],
    tags: [o.tag],
    'x-kubernetes-action': o.action,
    'x-kubernetes-group-version-kind': gvkExtension(o.gvk),
  };
}

/** The paths of these entries, each operation and parameter in one OpenAPI version's form. */
function pathsOf(
  entries: PathEntry[],
  operation: (o: Operation) => Schema,
  parameter: (name: string, location: 'path' | 'query') => Schema,
): Schema {
  const paths: Schema = {};
  for (const e of entries) {
    const item: Schema = {};
    for (const o of e.operations) item[o.method] = operation(o);
    item.parameters = [...e.pathParams.map((p) => parameter(p, 'path')), parameter('pretty', 'query')];
    paths[e.path] = item;
  }
  return paths;
}

/** The definitions these resources, their lists and the entries' operations need, with all they reference. */
function definitionNamesFor(
  resources: readonly OpenApiResource[],
  entries: PathEntry[],
  extra: readonly string[],
): string[] {
  return [
    ...closure([
      ...resources.flatMap((r) => [
        requireDefinition(r),
        requireDefinition({ group: r.group, version: r.version, kind: `${r.kind}List` }),
      ]),
      ...extra,
      ...operationDefinitions(entries),
    ]),
  ].sort();
}

function buildV2(fieldValidation: boolean): Schema {
  const entries = allPaths(fieldValidation);
  const all = definitions();
  const defs: Schema = {};
  for (const n of definitionNamesFor(openApiResources, entries, metaDefinitions)) defs[n] = all[n] as Schema;
  return {
    swagger: '2.0',
    info: { title: 'Kubernetes', version: 'unversioned' },
    paths: pathsOf(entries, v2Operation, v2Parameter),
    definitions: defs,
  };
}

// ---- OpenAPI 3.0 ----

const V3_REF_PREFIX = '#/components/schemas/';

/** Swagger 2.0 schema to OpenAPI 3.0, as kube-openapi does it: a `$ref` with siblings moves into `allOf`. */
export function toV3Schema(value: JsonValue): JsonValue {
  if (Array.isArray(value)) return value.map(toV3Schema);
  if (!isSchema(value)) return value;
  const out: Schema = {};
  const ref = value.$ref;
  for (const [key, child] of Object.entries(value)) {
    if (key !== '$ref') out[key] = toV3Schema(child);
  }
  if (typeof ref !== 'string') return out;
  const v3Ref = V3_REF_PREFIX + ref.slice(DEFINITION_REF_PREFIX.length);
  return Object.keys(out).length === 0 ? { $ref: v3Ref } : { ...out, allOf: [{ $ref: v3Ref }] };
}

function v3Parameter(name: string, location: 'path' | 'query'): Schema {
  const p = PARAMETERS[name];
  if (!p) throw new Error(`undescribed parameter ${name}`);
  const out: Schema = {
    description: p.description,
    in: location,
    name,
    schema: { type: p.type, uniqueItems: true },
  };
  if (location === 'path') out.required = true;
  return out;
}

function v3Operation(o: Operation): Schema {
  const out: Schema = {
    description: o.description,
    operationId: o.operationId,
    parameters: o.query.map((q) => v3Parameter(q, 'query')),
    responses: {},
    tags: [o.tag],
    'x-kubernetes-action': o.action,
    'x-kubernetes-group-version-kind': gvkExtension(o.gvk),
  };
  if (o.body) {
    const schema = { $ref: `${V3_REF_PREFIX}${o.body}` };
    const content: Schema = {};
    for (const type of o.consumes) content[type] = { schema };
    out.requestBody = { content, required: o.method !== 'delete' };
  }
  const responses: Schema = {};
  for (const [code, def] of Object.entries(o.responses)) {
    responses[code] = def
      ? {
          description: responseDescription(code),
          content: { [JSON_TYPE]: { schema: { $ref: `${V3_REF_PREFIX}${def}` } } },
        }
      : { description: responseDescription(code) };
  }
  responses['401'] = { description: 'Unauthorized' };
  out.responses = responses;
  return out;
}

function buildV3(groupVersion: string, fieldValidation: boolean): Schema | undefined {
  const resources = openApiResources.filter((r) => groupVersionPath(r.group, r.version) === groupVersion);
  if (resources.length === 0) return undefined;
  const entries = resources.flatMap((r) => resourcePaths(r, fieldValidation));
  const all = definitions();
  const schemas: Schema = {};
  for (const n of definitionNamesFor(resources, entries, [`${META}.Status`, `${META}.WatchEvent`])) {
    schemas[n] = toV3Schema(all[n] as Schema);
  }
  return {
    openapi: '3.0.0',
    info: { title: 'Kubernetes', version: 'unversioned' },
    paths: pathsOf(entries, v3Operation, v3Parameter),
    components: { schemas },
  };
}

// ---- cached, served forms ----

interface Built {
  v2?: Schema;
  v2Json?: ServedDocument;
  v2Protobuf?: Uint8Array;
  v3: Map<string, Schema | null>;
  v3Json: Map<string, ServedDocument | null>;
  index?: OpenApiV3Index;
}

const built = new Map<boolean, Built>();

function cache(options: OpenApiOptions | undefined): Built {
  const key = options?.fieldValidation === true;
  let b = built.get(key);
  if (!b) {
    b = { v3: new Map(), v3Json: new Map() };
    built.set(key, b);
  }
  return b;
}

function serve(doc: Schema): ServedDocument {
  const json = JSON.stringify(doc);
  return { json, hash: createHash('sha512').update(json).digest('hex').toUpperCase() };
}

/** The group versions that have an OpenAPI v3 document: `api/v1`, `apis/apps/v1`, … */
export function openApiV3GroupVersions(): string[] {
  return [...new Set(openApiResources.map((r) => groupVersionPath(r.group, r.version)))].sort();
}

/** The Swagger 2.0 document (`/openapi/v2`). Shared and cached: do not modify. */
export function openApiV2(options?: OpenApiOptions): Readonly<Schema> {
  const b = cache(options);
  b.v2 ??= buildV2(options?.fieldValidation === true);
  return b.v2;
}

/** `/openapi/v2` as JSON text, with its hash (an ETag). */
export function openApiV2Json(options?: OpenApiOptions): ServedDocument {
  const b = cache(options);
  b.v2Json ??= serve(openApiV2(options));
  return b.v2Json;
}

/**
 * `/openapi/v2` as `application/com.github.proto-openapi.spec.v2@v1.0+protobuf` (gnostic's
 * `openapi.v2.Document`). kubectl only ever asks for this form, and fails to parse JSON.
 */
export function openApiV2Protobuf(options?: OpenApiOptions): Uint8Array {
  const b = cache(options);
  b.v2Protobuf ??= encodeSwaggerDocument(openApiV2(options));
  return b.v2Protobuf;
}

/** The OpenAPI 3.0 document of one group version (`api/v1`, `apis/apps/v1`); undefined if not served. */
export function openApiV3(groupVersion: string, options?: OpenApiOptions): Readonly<Schema> | undefined {
  const b = cache(options);
  let doc = b.v3.get(groupVersion);
  if (doc === undefined) {
    doc = buildV3(groupVersion, options?.fieldValidation === true) ?? null;
    b.v3.set(groupVersion, doc);
  }
  return doc ?? undefined;
}

/** One group version's OpenAPI 3.0 document as JSON text, with its hash. */
export function openApiV3Json(groupVersion: string, options?: OpenApiOptions): ServedDocument | undefined {
  const b = cache(options);
  let served = b.v3Json.get(groupVersion);
  if (served === undefined) {
    const doc = openApiV3(groupVersion, options);
    served = doc ? serve(doc) : null;
    b.v3Json.set(groupVersion, served);
  }
  return served ?? undefined;
}

/** `/openapi/v3`: each group version's document, at a URL carrying its content hash. */
export function openApiV3Index(options?: OpenApiOptions): OpenApiV3Index {
  const b = cache(options);
  if (!b.index) {
    const paths: OpenApiV3Index['paths'] = {};
    for (const gv of openApiV3GroupVersions()) {
      const served = openApiV3Json(gv, options);
      if (served) paths[gv] = { serverRelativeURL: `/openapi/v3/${gv}?hash=${served.hash}` };
    }
    b.index = { paths };
  }
  return b.index;
}
