import { ApiError, type StatusCause, StatusReason } from '../../shared/api/errors.js';
import type { ResourceType } from '../../shared/api/resources.js';

/** One field error, as apimachinery's field.Error: `metadata.name: Invalid value: "x": why`. */
export interface FieldError {
  type:
    | 'FieldValueRequired'
    | 'FieldValueInvalid'
    | 'FieldValueForbidden'
    | 'FieldValueNotSupported'
    | 'FieldValueTooLong';
  field: string;
  value?: unknown;
  detail: string;
}

const typeWords: Record<FieldError['type'], string> = {
  FieldValueRequired: 'Required value',
  FieldValueInvalid: 'Invalid value',
  FieldValueForbidden: 'Forbidden',
  FieldValueNotSupported: 'Unsupported value',
  FieldValueTooLong: 'Too long',
};

function describe(error: FieldError): string {
  const words = typeWords[error.type];
  if (error.type === 'FieldValueInvalid' || error.type === 'FieldValueNotSupported') {
    return `${error.field}: ${words}: ${JSON.stringify(error.value)}: ${error.detail}`;
  }
  return `${error.field}: ${words}${error.detail ? `: ${error.detail}` : ''}`;
}

/** 422 Invalid, with one cause per field error, worded as kube-apiserver words it. */
export function invalid(type: ResourceType, name: string, errors: FieldError[]): ApiError {
  const causes: StatusCause[] = errors.map((e) => ({
    reason: e.type,
    message: describe(e).slice(e.field.length + 2),
    field: e.field,
  }));
  const list = errors.map(describe);
  const message = `${type.kind} "${name}" is invalid: ${list.length === 1 ? list[0] : `[${list.join(', ')}]`}`;
  return new ApiError(422, StatusReason.Invalid, message, {
    name,
    ...(type.group ? { group: type.group } : {}),
    kind: type.kind,
    causes,
  });
}

const dns1123Label = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const dns1123Subdomain = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** Resources whose names are DNS-1123 labels rather than subdomains. */
const labelNamed = new Set(['namespaces', 'services']);
/** Resources whose names need only be valid path segments. */
const pathSegmentNamed = new Set(['roles', 'rolebindings', 'clusterroles', 'clusterrolebindings']);

export function nameErrors(type: ResourceType, name: string, field = 'metadata.name'): FieldError[] {
  if (pathSegmentNamed.has(type.resource)) {
    if (name === '.' || name === '..')
      return [{ type: 'FieldValueInvalid', field, value: name, detail: `may not be '${name}'` }];
    if (/[/%]/.test(name))
      return [{ type: 'FieldValueInvalid', field, value: name, detail: "may not contain '/' or '%'" }];
    return [];
  }
  if (labelNamed.has(type.resource)) {
    if (name.length > 63 || !dns1123Label.test(name)) {
      return [
        {
          type: 'FieldValueInvalid',
          field,
          value: name,
          detail:
            "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')",
        },
      ];
    }
    return [];
  }
  if (name.length > 253 || !dns1123Subdomain.test(name)) {
    return [
      {
        type: 'FieldValueInvalid',
        field,
        value: name,
        detail:
          "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')",
      },
    ];
  }
  return [];
}
