import { badRequest } from '../../shared/api/errors.js';
import type { ResourceType } from '../../shared/api/resources.js';
import type { KubernetesObject } from '../../shared/api/types.js';
import { type SchemaNode, schemaFor } from '../../shared/openapi/index.js';

/**
 * Server-side field validation (`?fieldValidation=Strict|Warn|Ignore`, default Warn as in
 * kube-apiserver): fields the kind's schema does not know are an error, a warning, or ignored.
 */

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The paths of the fields in `value` that `node` does not define, e.g. `spec.template.spec.containers[0].imagePullPolic`. */
export function unknownFields(
  value: unknown,
  node: SchemaNode | undefined,
  path = '',
  found: string[] = [],
): string[] {
  if (!node || node.schema['x-kubernetes-preserve-unknown-fields'] === true) return found;
  const at = (name: string) => (path ? `${path}.${name}` : name);
  switch (node.shape) {
    case 'object':
      if (!isObject(value)) break;
      for (const [name, child] of Object.entries(value)) {
        const field = node.field(name);
        if (field) unknownFields(child, field, at(name), found);
        else found.push(at(name));
      }
      break;
    case 'map':
      if (isObject(value)) {
        for (const [key, child] of Object.entries(value))
          unknownFields(child, node.field(key), `${path}[${key}]`, found);
      }
      break;
    case 'array':
      if (Array.isArray(value)) {
        for (const [i, child] of value.entries()) unknownFields(child, node.items(), `${path}[${i}]`, found);
      }
      break;
  }
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
  const unknown = unknownFields(
    object,
    schemaFor({ group: type.group, version: type.version, kind: type.kind }),
  );
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
