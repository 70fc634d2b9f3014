/**
 * The upstream Kubernetes definitions this server publishes, parsed on first use, and a walker over
 * them for strategic merge patch: which lists merge by which key, which fields replace or retain keys.
 */
import { definitionsJson } from './definitions.generated.js';
import type { GroupVersionKind } from './resources.js';

/** One OpenAPI schema object, as JSON. */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };
export interface Schema {
  [key: string]: JsonValue;
}

export const DEFINITION_REF_PREFIX = '#/definitions/';

let parsed: Readonly<Record<string, Schema>> | undefined;
let byGvk: Map<string, string> | undefined;

/** Every definition, by name (`io.k8s.api.apps.v1.Deployment`), in Swagger 2.0 form. Read-only. */
export function definitions(): Readonly<Record<string, Schema>> {
  parsed ??= JSON.parse(definitionsJson) as Record<string, Schema>;
  return parsed;
}

function gvkKey(gvk: GroupVersionKind): string {
  return `${gvk.group}/${gvk.version}/${gvk.kind}`;
}

export function isSchema(value: JsonValue | undefined): value is Schema {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The kinds a definition carries in `x-kubernetes-group-version-kind`. */
export function gvksOf(schema: Schema): GroupVersionKind[] {
  const list = schema['x-kubernetes-group-version-kind'];
  if (!Array.isArray(list)) return [];
  return list.filter(isSchema).map((g) => ({
    group: String(g.group ?? ''),
    version: String(g.version ?? ''),
    kind: String(g.kind ?? ''),
  }));
}

/** The definition name of a kind (`io.k8s.api.apps.v1.Deployment` for apps/v1 Deployment). */
export function definitionName(gvk: GroupVersionKind): string | undefined {
  if (!byGvk) {
    byGvk = new Map();
    for (const [name, schema] of Object.entries(definitions())) {
      for (const g of gvksOf(schema)) {
        // A few meta kinds (WatchEvent, DeleteOptions) list many group versions; the first one wins.
        if (!byGvk.has(gvkKey(g))) byGvk.set(gvkKey(g), name);
      }
    }
  }
  return byGvk.get(gvkKey(gvk));
}

/** The names a schema refers to, directly or nested. */
export function refsOf(value: JsonValue, into = new Set<string>()): Set<string> {
  if (Array.isArray(value)) {
    for (const child of value) refsOf(child, into);
  } else if (isSchema(value)) {
    for (const [key, child] of Object.entries(value)) {
      if (key === '$ref' && typeof child === 'string') into.add(child.slice(DEFINITION_REF_PREFIX.length));
      else refsOf(child, into);
    }
  }
  return into;
}

/** The named definitions and everything they refer to, transitively. */
export function closure(names: Iterable<string>): Set<string> {
  const all = definitions();
  const out = new Set<string>();
  const queue = [...names];
  while (queue.length > 0) {
    const name = queue.pop() as string;
    if (out.has(name)) continue;
    const schema = all[name];
    if (!schema) throw new Error(`no OpenAPI definition ${name}`);
    out.add(name);
    refsOf(schema, new Set()).forEach((ref) => {
      queue.push(ref);
    });
  }
  return out;
}

export type PatchStrategy = 'merge' | 'replace' | 'retainKeys';

/** What a field's own schema says about merging it (strategic merge patch and server-side apply). */
export interface FieldPatchMeta {
  /** `x-kubernetes-patch-strategy`, split at commas (`merge,retainKeys` on `PodSpec.volumes`). */
  strategies: PatchStrategy[];
  /** `x-kubernetes-patch-merge-key`: lists merged element by element, matched by this key. */
  mergeKey?: string;
  /** `x-kubernetes-list-type`. */
  listType?: 'atomic' | 'set' | 'map';
  /** `x-kubernetes-list-map-keys`. */
  listMapKeys?: string[];
  /** `x-kubernetes-map-type`. */
  mapType?: 'atomic' | 'granular';
}

export type SchemaShape = 'object' | 'map' | 'array' | 'primitive' | 'unknown';

function fieldPatchMeta(schema: Schema): FieldPatchMeta {
  const meta: FieldPatchMeta = { strategies: [] };
  const strategy = schema['x-kubernetes-patch-strategy'];
  if (typeof strategy === 'string' && strategy !== '') {
    meta.strategies = strategy.split(',').map((s) => s.trim()) as PatchStrategy[];
  }
  const mergeKey = schema['x-kubernetes-patch-merge-key'];
  if (typeof mergeKey === 'string') meta.mergeKey = mergeKey;
  const listType = schema['x-kubernetes-list-type'];
  if (listType === 'atomic' || listType === 'set' || listType === 'map') meta.listType = listType;
  const keys = schema['x-kubernetes-list-map-keys'];
  if (Array.isArray(keys)) meta.listMapKeys = keys.map(String);
  const mapType = schema['x-kubernetes-map-type'];
  if (mapType === 'atomic' || mapType === 'granular') meta.mapType = mapType;
  return meta;
}

/**
 * A place in a kind's schema. `patch` is what the field itself declares (its schema, including the
 * siblings of a `$ref`); `schema` is what it resolves to (the referenced definition, if any).
 */
export class SchemaNode {
  /** The definition this node resolves to, when it is a `$ref`. */
  readonly definition: string | undefined;
  /** The resolved schema: the referenced definition for a `$ref`, else the field's own schema. */
  readonly schema: Schema;
  readonly patch: FieldPatchMeta;

  constructor(readonly own: Schema) {
    this.patch = fieldPatchMeta(own);
    let resolved = own;
    let definition: string | undefined;
    // Follow `$ref` (Swagger 2.0 form) and a lone `allOf: [{$ref}]` (OpenAPI 3.0 form).
    for (let hops = 0; hops < 8; hops++) {
      const allOf = resolved.allOf;
      const target =
        typeof resolved.$ref === 'string'
          ? resolved.$ref
          : Array.isArray(allOf) &&
              allOf.length === 1 &&
              isSchema(allOf[0]) &&
              typeof allOf[0].$ref === 'string'
            ? allOf[0].$ref
            : undefined;
      if (target === undefined) break;
      definition = target.slice(target.lastIndexOf('/') + 1);
      const next = definitions()[definition];
      if (!next) throw new Error(`no OpenAPI definition ${definition}`);
      resolved = next;
    }
    this.definition = definition;
    this.schema = resolved;
  }

  get shape(): SchemaShape {
    const s = this.schema;
    if (s.type === 'array') return 'array';
    if (isSchema(s.properties)) return 'object';
    if (s.type === 'object' && (isSchema(s.additionalProperties) || s.additionalProperties === true))
      return 'map';
    if (s.type === 'object') return 'unknown';
    return typeof s.type === 'string' ? 'primitive' : 'unknown';
  }

  /** Names of an object's fields. */
  get fieldNames(): string[] {
    return isSchema(this.schema.properties) ? Object.keys(this.schema.properties) : [];
  }

  /**
   * A field of an object, or the value schema of a map (`labels`, `data`, `resources.limits`).
   * Undefined for an unknown field, and for everything below an untyped value.
   */
  field(name: string): SchemaNode | undefined {
    const properties = this.schema.properties;
    if (isSchema(properties)) {
      const child = properties[name];
      return isSchema(child) ? new SchemaNode(child) : undefined;
    }
    const values = this.schema.additionalProperties;
    return isSchema(values) ? new SchemaNode(values) : undefined;
  }

  /** The element schema of a list. */
  items(): SchemaNode | undefined {
    const items = this.schema.items;
    return isSchema(items) ? new SchemaNode(items) : undefined;
  }

  /**
   * Walks field names from here; a list on the way is stepped into implicitly, so
   * `['spec', 'template', 'spec', 'containers', 'ports']` reaches a container's ports.
   */
  at(path: readonly string[]): SchemaNode | undefined {
    let node: SchemaNode | undefined = this;
    for (const name of path) {
      if (node?.shape === 'array') node = node.items();
      node = node?.field(name);
      if (!node) return undefined;
    }
    return node;
  }
}

/** The schema of a kind (`{group: 'apps', version: 'v1', kind: 'Deployment'}`) or of a definition name. */
export function schemaFor(kind: GroupVersionKind | string): SchemaNode | undefined {
  const name = typeof kind === 'string' ? kind : definitionName(kind);
  if (name === undefined) return undefined;
  const schema = definitions()[name];
  return schema ? new SchemaNode({ $ref: `${DEFINITION_REF_PREFIX}${name}` }) : undefined;
}

/**
 * The patch metadata of the field at `path` in a kind (lists stepped into implicitly), e.g.
 * `patchMeta(deployment, ['spec', 'template', 'spec', 'containers'])` → `{strategies: ['merge'],
 * mergeKey: 'name', ...}`. Undefined when the path leaves the schema.
 */
export function patchMeta(
  kind: GroupVersionKind | string,
  path: readonly string[],
): FieldPatchMeta | undefined {
  return schemaFor(kind)?.at(path)?.patch;
}
