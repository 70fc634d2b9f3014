import { badRequest } from '../../shared/api/errors.js';
import { apiVersionOf, type ResourceType } from '../../shared/api/resources.js';
import type { KubernetesObject } from '../../shared/api/types.js';
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

/** A place in a schema, seen as JSON: an object of named fields, a map, a list, or an opaque value. */
interface FieldCursor {
  readonly shape: 'object' | 'map' | 'array' | 'value';
  /** An object's field, or a map's value (whatever the key). */
  child(name: string): FieldCursor | undefined;
  items(): FieldCursor | undefined;
}

const opaque: FieldCursor = { shape: 'value', child: () => undefined, items: () => undefined };

function openApiCursor(node: SchemaNode | undefined): FieldCursor | undefined {
  if (!node) return undefined;
  if (node.schema['x-kubernetes-preserve-unknown-fields'] === true) return opaque;
  const shape = node.shape;
  if (shape !== 'object' && shape !== 'map' && shape !== 'array') return opaque;
  return {
    shape,
    child: (name) => openApiCursor(node.field(name)),
    items: () => openApiCursor(node.items()),
  };
}

/** Protobuf messages whose JSON form is one value (a string, a number or free JSON), not fields. */
const valueMessages = new Set([
  'meta.v1.Time',
  'meta.v1.MicroTime',
  'meta.v1.Duration',
  'meta.v1.FieldsV1',
  'runtime.RawExtension',
  'resource.Quantity',
  'intstr.IntOrString',
]);

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
  if (valueMessages.has(message)) return opaque;
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
  const element = () => (field.scalar ? opaque : protobufMessageCursor(field.type));
  if (field.list) return { shape: 'array', child: () => undefined, items: element };
  if (field.map) return { shape: 'map', child: element, items: () => undefined };
  return element();
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function walk(value: unknown, cursors: (FieldCursor | undefined)[], path: string, found: string[]): void {
  const known = cursors.filter((c): c is FieldCursor => c !== undefined);
  if (known.length === 0 || known.some((c) => c.shape === 'value')) return;
  if (isObject(value)) {
    const isMap = known.some((c) => c.shape === 'map');
    for (const [name, child] of Object.entries(value)) {
      const children = known.map((c) => c.child(name));
      const childPath = isMap ? `${path}[${name}]` : path ? `${path}.${name}` : name;
      if (!isMap && children.every((c) => c === undefined)) found.push(childPath);
      else walk(child, children, childPath, found);
    }
  } else if (Array.isArray(value)) {
    for (const [index, child] of value.entries()) {
      walk(
        child,
        known.map((c) => c.items()),
        `${path}[${index}]`,
        found,
      );
    }
  }
}

/** The paths of the fields of `object` that its kind does not define, e.g. `spec.template.spec.containers[0].imagePullPolic`. */
export function unknownFields(
  type: Pick<ResourceType, 'group' | 'version' | 'kind'>,
  object: unknown,
): string[] {
  const protobufMessage = protobufKinds[`${apiVersionOf(type)}/${type.kind}`];
  const found: string[] = [];
  walk(
    object,
    [openApiCursor(schemaFor(type)), protobufMessage ? protobufMessageCursor(protobufMessage) : undefined],
    '',
    found,
  );
  return found;
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
  if (mode === 'Ignore') return [];
  const unknown = unknownFields(type, object);
  if (unknown.length === 0) return [];
  const problems = unknown.map((field) => `unknown field "${field}"`);
  if (mode === 'Strict') {
    throw badRequest(
      `${type.kind} in version "${type.version}" cannot be handled as a ${type.kind}: strict decoding error: ${problems.join(', ')}`,
    );
  }
  return problems;
}

/** The `Warning` header value for these messages (RFC 7234 warn-code 299, as kube-apiserver sends). */
export function warningHeader(messages: readonly string[]): Record<string, string> {
  return messages.length === 0
    ? {}
    : { warning: messages.map((m) => `299 - ${JSON.stringify(m)}`).join(', ') };
}
