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

/**
 * The longest name of a resource named by path segments. Upstream sets none (etcd takes long keys);
 * the store keys an object by namespace and name in a DynamoDB sort key of at most 1024 bytes, so the
 * limit of every other name (a DNS subdomain's 253) applies, in bytes.
 */
const maxPathSegmentNameBytes = 253;

export function nameErrors(
  type: Pick<ResourceType, 'resource'>,
  name: string,
  field = 'metadata.name',
): FieldError[] {
  if (pathSegmentNamed.has(type.resource)) {
    if (name === '.' || name === '..')
      return [{ type: 'FieldValueInvalid', field, value: name, detail: `may not be '${name}'` }];
    if (/[/%]/.test(name))
      return [{ type: 'FieldValueInvalid', field, value: name, detail: "may not contain '/' or '%'" }];
    if (Buffer.byteLength(name) > maxPathSegmentNameBytes)
      return [
        { type: 'FieldValueTooLong', field, detail: `may not be more than ${maxPathSegmentNameBytes} bytes` },
      ];
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

const qualifiedNamePart = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const labelValue = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
/** kube-apiserver's limit on all annotations of one object together. */
const maxAnnotationBytes = 256 * 1024;

/** A label or annotation key: an optional DNS-subdomain prefix and a name of at most 63 characters. */
function keyErrors(key: string, field: string): FieldError[] {
  const slash = key.lastIndexOf('/');
  const prefix = slash < 0 ? undefined : key.slice(0, slash);
  const name = slash < 0 ? key : key.slice(slash + 1);
  const valid =
    name.length > 0 &&
    name.length <= 63 &&
    qualifiedNamePart.test(name) &&
    (prefix === undefined || (prefix.length <= 253 && dns1123Subdomain.test(prefix)));
  return valid
    ? []
    : [
        {
          type: 'FieldValueInvalid',
          field,
          value: key,
          detail:
            "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]') with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')",
        },
      ];
}

/** Labels, annotations and owner references, as ValidateObjectMeta checks them. */
export function metadataErrors(metadata: {
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  ownerReferences?: { apiVersion?: string; kind?: string; name?: string; uid?: string }[];
}): FieldError[] {
  const errors: FieldError[] = [];
  for (const [key, value] of Object.entries(metadata.labels ?? {})) {
    errors.push(...keyErrors(key, 'metadata.labels'));
    if (value.length > 63 || !labelValue.test(value)) {
      errors.push({
        type: 'FieldValueInvalid',
        field: 'metadata.labels',
        value,
        detail:
          "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')",
      });
    }
  }
  let annotationBytes = 0;
  for (const [key, value] of Object.entries(metadata.annotations ?? {})) {
    errors.push(...keyErrors(key.toLowerCase(), 'metadata.annotations'));
    annotationBytes += Buffer.byteLength(key) + Buffer.byteLength(value);
  }
  if (annotationBytes > maxAnnotationBytes) {
    errors.push({
      type: 'FieldValueTooLong',
      field: 'metadata.annotations',
      detail: `must have at most ${maxAnnotationBytes} bytes`,
    });
  }
  (metadata.ownerReferences ?? []).forEach((ref, i) => {
    for (const required of ['apiVersion', 'kind', 'name', 'uid'] as const) {
      if (!ref[required])
        errors.push({
          type: 'FieldValueRequired',
          field: `metadata.ownerReferences[${i}].${required}`,
          detail: '',
        });
    }
  });
  return errors;
}

// ----- RBAC (upstream pkg/apis/rbac/validation) -----

const rbacGroup = 'rbac.authorization.k8s.io';

type Json = Record<string, unknown>;

const asObject = (value: unknown): Json =>
  typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Json) : {};
const count = (value: unknown): number => (Array.isArray(value) ? value.length : 0);
const text = (value: unknown): string => (typeof value === 'string' ? value : '');

/**
 * A Role's or ClusterRole's rules, as upstream's validatePolicyRule: every rule names its verbs, and
 * either non-resource URLs (ClusterRoles only) or API groups and resources. The authorizer reads
 * every stored rule on every request, so a rule it cannot read must never be stored.
 */
export function policyRuleErrors(rules: unknown, namespaced: boolean): FieldError[] {
  const errors: FieldError[] = [];
  (Array.isArray(rules) ? rules : []).forEach((value, i) => {
    const rule = asObject(value);
    const field = `rules[${i}]`;
    if (count(rule.verbs) === 0)
      errors.push({
        type: 'FieldValueRequired',
        field: `${field}.verbs`,
        detail: 'verbs must contain at least one value',
      });
    if (count(rule.nonResourceURLs) > 0) {
      if (namespaced)
        errors.push({
          type: 'FieldValueInvalid',
          field: `${field}.nonResourceURLs`,
          value: rule.nonResourceURLs,
          detail: 'namespaced rules cannot apply to non-resource URLs',
        });
      if (count(rule.apiGroups) > 0 || count(rule.resources) > 0 || count(rule.resourceNames) > 0)
        errors.push({
          type: 'FieldValueInvalid',
          field: `${field}.nonResourceURLs`,
          value: rule.nonResourceURLs,
          detail: 'rules cannot apply to both regular resources and non-resource URLs',
        });
      return;
    }
    if (count(rule.apiGroups) === 0)
      errors.push({
        type: 'FieldValueRequired',
        field: `${field}.apiGroups`,
        detail: 'resource rules must supply at least one api group',
      });
    if (count(rule.resources) === 0)
      errors.push({
        type: 'FieldValueRequired',
        field: `${field}.resources`,
        detail: 'resource rules must supply at least one resource',
      });
    if (count(rule.resourceNames) > 0 && count(rule.resources) > 1)
      errors.push({
        type: 'FieldValueRequired',
        field: `${field}.resourceNames`,
        detail: 'resource names cannot apply to multiple resources',
      });
  });
  return errors;
}

const supported = (values: string[]) =>
  `supported values: ${values.map((v) => JSON.stringify(v)).join(', ')}`;

/**
 * A RoleBinding's or ClusterRoleBinding's roleRef and subjects, as upstream's ValidateRoleBinding:
 * a roleRef to a Role (bindings in a namespace only) or ClusterRole by name, and subjects that are
 * Users, Groups or ServiceAccounts with names (a ServiceAccount's namespace is required in a
 * ClusterRoleBinding).
 */
export function roleBindingErrors(binding: Json, namespaced: boolean): FieldError[] {
  const errors: FieldError[] = [];
  const roleRef = asObject(binding.roleRef);
  if (roleRef.apiGroup !== rbacGroup)
    errors.push({
      type: 'FieldValueNotSupported',
      field: 'roleRef.apiGroup',
      value: roleRef.apiGroup ?? '',
      detail: supported([rbacGroup]),
    });
  const kinds = namespaced ? ['Role', 'ClusterRole'] : ['ClusterRole'];
  if (!kinds.includes(text(roleRef.kind)))
    errors.push({
      type: 'FieldValueNotSupported',
      field: 'roleRef.kind',
      value: roleRef.kind ?? '',
      detail: supported(kinds),
    });
  const roleName = text(roleRef.name);
  if (roleName === '') errors.push({ type: 'FieldValueRequired', field: 'roleRef.name', detail: '' });
  else errors.push(...nameErrors({ resource: 'roles' }, roleName, 'roleRef.name'));
  const subjects = Array.isArray(binding.subjects) ? binding.subjects : [];
  subjects.forEach((value, i) => {
    const subject = asObject(value);
    const field = `subjects[${i}]`;
    const name = text(subject.name);
    if (name === '') errors.push({ type: 'FieldValueRequired', field: `${field}.name`, detail: '' });
    switch (subject.kind) {
      case 'ServiceAccount':
        if (name !== '') errors.push(...nameErrors({ resource: 'serviceaccounts' }, name, `${field}.name`));
        if (text(subject.apiGroup) !== '')
          errors.push({
            type: 'FieldValueNotSupported',
            field: `${field}.apiGroup`,
            value: subject.apiGroup,
            detail: supported(['']),
          });
        if (!namespaced && text(subject.namespace) === '')
          errors.push({ type: 'FieldValueRequired', field: `${field}.namespace`, detail: '' });
        break;
      case 'User':
      case 'Group':
        if (subject.apiGroup !== rbacGroup)
          errors.push({
            type: 'FieldValueNotSupported',
            field: `${field}.apiGroup`,
            value: subject.apiGroup ?? '',
            detail: supported([rbacGroup]),
          });
        break;
      default:
        errors.push({
          type: 'FieldValueNotSupported',
          field: `${field}.kind`,
          value: subject.kind ?? '',
          detail: supported(['ServiceAccount', 'User', 'Group']),
        });
    }
  });
  return errors;
}
