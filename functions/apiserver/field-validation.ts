import { badRequest } from '../../shared/api/errors.js';
import { apiVersionOf, type ResourceType } from '../../shared/api/resources.js';
import type { KubernetesObject } from '../../shared/api/types.js';
import { isJsonObject } from '../../shared/api/types.js';
import { type SchemaNode, schemaFor } from '../../shared/openapi/index.js';
import { protobufKinds } from '../../shared/protobuf/schema.generated.js';
import { type FieldSpec, kubernetesSchema } from '../../shared/protobuf/schema.js';

/**
 * Server-side field validation (`?fieldValidation=Strict|Warn|Ignore`, default Warn as in
 * kube-apiserver): fields the kind's schema does not know are an error, a warning, or ignored.
 *
 * Two schemas are consulted and a field is unknown only if neither knows it: the served OpenAPI
 * definitions (upstream v1.27, with `x-kubernetes-preserve-unknown-fields`) and the protobuf field
 * table, generated from newer upstream files — so fields added since 1.27 (native sidecars'
 * `restartPolicy`, Job `podReplacementPolicy`, …) are accepted.
 */

/** A place in a schema, seen as JSON: an object of named fields, a map, a list, or a single value. */
interface FieldCursor {
  readonly shape: 'object' | 'map' | 'array' | 'value';
  /** For a value: the JSON types it may have; absent for anything (free JSON). */
  readonly types?: readonly JsonType[];
  /** An object's field, or a map's value (whatever the key). */
  child(name: string): FieldCursor | undefined;
  items(): FieldCursor | undefined;
}

type JsonType = 'string' | 'integer' | 'number' | 'boolean';

function valueCursor(types?: readonly JsonType[]): FieldCursor {
  return { shape: 'value', ...(types ? { types } : {}), child: () => undefined, items: () => undefined };
}

const opaque = valueCursor();

function jsonTypeOf(value: unknown): string {
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  return typeof value;
}

/** Whether a value has the JSON shape a cursor wants (null fits anything, as Go's decoder allows). */
function fits(cursor: FieldCursor, value: unknown): boolean {
  if (value === null) return true;
  switch (cursor.shape) {
    case 'object':
    case 'map':
      return isJsonObject(value);
    case 'array':
      return Array.isArray(value);
    case 'value': {
      if (!cursor.types) return true;
      const type = jsonTypeOf(value);
      return cursor.types.some((t) => t === type || (t === 'number' && type === 'integer'));
    }
  }
}

const quantity = 'io.k8s.apimachinery.pkg.api.resource.Quantity';

function openApiCursor(node: SchemaNode | undefined): FieldCursor | undefined {
  if (!node) return undefined;
  const schema = node.schema;
  if (schema['x-kubernetes-preserve-unknown-fields'] === true) return opaque;
  if (schema['x-kubernetes-int-or-string'] === true) return valueCursor(['integer', 'string']);
  if (node.definition === quantity) return valueCursor(['string', 'number']);
  const shape = node.shape;
  if (
    shape === 'primitive' &&
    (schema.type === 'string' ||
      schema.type === 'integer' ||
      schema.type === 'number' ||
      schema.type === 'boolean')
  ) {
    return valueCursor([schema.type]);
  }
  if (shape !== 'object' && shape !== 'map' && shape !== 'array') return opaque;
  return {
    shape,
    child: (name) => openApiCursor(node.field(name)),
    items: () => openApiCursor(node.items()),
  };
}

/** Protobuf messages whose JSON form is one value (a string, a number or free JSON), not fields. */
const valueMessages: Readonly<Record<string, FieldCursor>> = {
  'meta.v1.Time': valueCursor(['string']),
  'meta.v1.MicroTime': valueCursor(['string']),
  'meta.v1.Duration': valueCursor(['string']),
  'meta.v1.FieldsV1': opaque,
  'runtime.RawExtension': opaque,
  'resource.Quantity': valueCursor(['string', 'number']),
  'intstr.IntOrString': valueCursor(['integer', 'string']),
};

const scalarJsonTypes: Readonly<Record<string, JsonType>> = {
  string: 'string',
  bytes: 'string',
  bool: 'boolean',
  int32: 'integer',
  int64: 'integer',
  uint32: 'integer',
  uint64: 'integer',
  double: 'number',
  float: 'number',
};

const jsonFieldsCache = new Map<string, Map<string, FieldSpec>>();

/** A message's fields by JSON name, with embedded structs' fields inlined as Go's JSON does. */
function jsonFields(message: string): Map<string, FieldSpec> {
  let fields = jsonFieldsCache.get(message);
  if (!fields) {
    fields = new Map();
    for (const field of kubernetesSchema().get(message)?.ordered ?? []) {
      if (field.name === undefined)
        for (const [name, inlined] of jsonFields(field.type)) fields.set(name, inlined);
      else fields.set(field.name, field);
    }
    jsonFieldsCache.set(message, fields);
  }
  return fields;
}

function protobufMessageCursor(message: string): FieldCursor {
  const value = valueMessages[message];
  if (value) return value;
  const fields = jsonFields(message);
  return {
    shape: 'object',
    child: (name) => {
      const field = fields.get(name);
      return field && protobufFieldCursor(field);
    },
    items: () => undefined,
  };
}

function protobufFieldCursor(field: FieldSpec): FieldCursor {
  const element = () =>
    field.scalar ? valueCursor([scalarJsonTypes[field.type] ?? 'string']) : protobufMessageCursor(field.type);
  if (field.list) return { shape: 'array', child: () => undefined, items: element };
  if (field.map) return { shape: 'map', child: element, items: () => undefined };
  return element();
}

interface Findings {
  unknown: string[];
  /** Values of the wrong JSON type: the path and what was expected. */
  mistyped: { path: string; got: string; want: string }[];
}

function describeCursor(cursor: FieldCursor): string {
  return cursor.shape === 'value'
    ? (cursor.types ?? ['any']).join(' or ')
    : cursor.shape === 'array'
      ? 'array'
      : 'object';
}

function walk(value: unknown, cursors: (FieldCursor | undefined)[], path: string, found: Findings): void {
  const known = cursors.filter((c): c is FieldCursor => c !== undefined);
  if (known.length === 0 || value === null) return;
  const fitting = known.filter((c) => fits(c, value));
  if (fitting.length === 0) {
    found.mistyped.push({ path, got: jsonTypeOf(value), want: describeCursor(known[0] as FieldCursor) });
    return;
  }
  if (fitting.some((c) => c.shape === 'value')) return;
  if (isJsonObject(value)) {
    const isMap = fitting.some((c) => c.shape === 'map');
    for (const [name, child] of Object.entries(value)) {
      const children = fitting.map((c) => c.child(name));
      const childPath = isMap ? `${path}[${name}]` : path ? `${path}.${name}` : name;
      if (!isMap && children.every((c) => c === undefined)) found.unknown.push(childPath);
      else walk(child, children, childPath, found);
    }
  } else if (Array.isArray(value)) {
    for (const [index, child] of value.entries()) {
      walk(
        child,
        fitting.map((c) => c.items()),
        `${path}[${index}]`,
        found,
      );
    }
  }
}

/**
 * The zero value Go's decoder leaves where JSON has `null` for a list element or a map value of this
 * schema place: `{}` for a struct, `""` for a string, `0` for a number, `false` for a bool, `"0"` for
 * a Quantity; null where Go keeps nil (a list, free JSON).
 */
function zeroValue(cursors: (FieldCursor | undefined)[]): unknown {
  const cursor = cursors.find((c): c is FieldCursor => c !== undefined);
  if (!cursor) return null;
  if (cursor.shape === 'object' || cursor.shape === 'map') return {};
  if (cursor.shape === 'array' || !cursor.types) return null;
  const types = cursor.types;
  if (types.includes('string') && types.includes('number')) return '0';
  switch (types[0]) {
    case 'string':
      return '';
    case 'boolean':
      return false;
    default:
      return 0;
  }
}

/** `value`, or a copy with the nulls of its lists and maps replaced (copied only along changed paths). */
function zeroNulls(value: unknown, cursors: (FieldCursor | undefined)[]): unknown {
  const known = cursors.filter((c): c is FieldCursor => c !== undefined);
  if (known.length === 0 || value === null || typeof value !== 'object') return value;
  const fitting = known.filter((c) => fits(c, value));
  if (fitting.length === 0 || fitting.some((c) => c.shape === 'value')) return value;
  if (Array.isArray(value)) {
    const items = fitting.map((c) => c.items());
    let copy: unknown[] | undefined;
    for (const [index, element] of value.entries()) {
      const next = element === null ? zeroValue(items) : zeroNulls(element, items);
      if (next === element) continue;
      copy ??= [...value];
      copy[index] = next;
    }
    return copy ?? value;
  }
  const isMap = fitting.some((c) => c.shape === 'map');
  let copy: Record<string, unknown> | undefined;
  for (const [name, child] of Object.entries(value)) {
    const children = fitting.map((c) => c.child(name));
    const next = child === null ? (isMap ? zeroValue(children) : null) : zeroNulls(child, children);
    if (next === child) continue;
    copy ??= { ...value };
    // An own property even for `__proto__`, as JSON.parse makes it.
    Object.defineProperty(copy, name, { value: next, enumerable: true, writable: true, configurable: true });
  }
  return copy ?? value;
}

/**
 * `object` as Go's decoder would hand it on: a `null` list element or map value becomes its type's
 * zero value (`containers: [null]` is one empty container, `verbs: [null]` one empty verb), so the
 * checks and the authorizer after decoding see only the shapes the schema allows. A `null` field
 * stays: Go leaves the field unset.
 */
export function withGoZeroValues<T>(type: Pick<ResourceType, 'group' | 'version' | 'kind'>, object: T): T {
  const protobufMessage = protobufKinds[`${apiVersionOf(type)}/${type.kind}`];
  return zeroNulls(object, [
    openApiCursor(schemaFor(type)),
    protobufMessage ? protobufMessageCursor(protobufMessage) : undefined,
  ]) as T;
}

/** What in `object` its kind does not define, and which values have the wrong type. */
export function inspectFields(
  type: Pick<ResourceType, 'group' | 'version' | 'kind'>,
  object: unknown,
): Findings {
  const protobufMessage = protobufKinds[`${apiVersionOf(type)}/${type.kind}`];
  const found: Findings = { unknown: [], mistyped: [] };
  walk(
    object,
    [openApiCursor(schemaFor(type)), protobufMessage ? protobufMessageCursor(protobufMessage) : undefined],
    '',
    found,
  );
  return found;
}

/** The paths of the fields of `object` that its kind does not define, e.g. `spec.template.spec.containers[0].imagePullPolic`. */
export function unknownFields(
  type: Pick<ResourceType, 'group' | 'version' | 'kind'>,
  object: unknown,
): string[] {
  return inspectFields(type, object).unknown;
}

export type FieldValidation = 'Strict' | 'Warn' | 'Ignore';

export function fieldValidationOf(query: URLSearchParams): FieldValidation {
  const value = query.get('fieldValidation') ?? 'Warn';
  if (value !== 'Strict' && value !== 'Warn' && value !== 'Ignore') {
    throw badRequest(`fieldValidation must be one of Strict, Warn or Ignore, not "${value}"`);
  }
  return value;
}

/** Checks `object` for unknown fields: throws 400 when strict, returns the warnings to send when warning. */
export function checkFields(type: ResourceType, object: KubernetesObject, mode: FieldValidation): string[] {
  const { unknown, mistyped } = inspectFields(type, object);
  const handledAs = `${type.kind} in version "${type.version}" cannot be handled as a ${type.kind}`;
  if (mistyped.length > 0) {
    // A value of the wrong type cannot be decoded at all, whatever the validation mode (as upstream).
    const { path, got, want } = mistyped[0] as Findings['mistyped'][number];
    throw badRequest(`${handledAs}: json: cannot unmarshal ${got} into field ${path} of type ${want}`);
  }
  if (mode === 'Ignore' || unknown.length === 0) return [];
  const problems = unknown.map((field) => `unknown field "${field}"`);
  if (mode === 'Strict') {
    throw badRequest(`${handledAs}: strict decoding error: ${problems.join(', ')}`);
  }
  return problems;
}

/** The `Warning` header value for these messages (RFC 7234 warn-code 299, as kube-apiserver sends). */
export function warningHeader(messages: readonly string[]): Record<string, string> {
  return messages.length === 0
    ? {}
    : { warning: messages.map((m) => `299 - ${JSON.stringify(m)}`).join(', ') };
}
