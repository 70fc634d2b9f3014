import { randomInt, randomUUID } from 'node:crypto';
import { badRequest } from '../../shared/api/errors.js';
import type { ResourceType } from '../../shared/api/resources.js';
import { timestamp } from '../../shared/api/time.js';
import type { KubernetesObject } from '../../shared/api/types.js';
import { applyDefaults } from './defaults.js';
import {
  type FieldError,
  invalid,
  metadataErrors,
  nameErrors,
  policyRuleErrors,
  roleBindingErrors,
} from './validation.js';

/** Kinds whose metadata.generation counts changes to their spec. */
const generationKinds = new Set(['Deployment', 'ReplicaSet', 'Job']);

const generateNameAlphabet = 'bcdfghjklmnpqrstvwxz2456789';

function generatedName(prefix: string): string {
  let suffix = '';
  for (let i = 0; i < 5; i++) suffix += generateNameAlphabet[randomInt(generateNameAlphabet.length)];
  return `${prefix.slice(0, 58)}${suffix}`;
}

function same(a: unknown, b: unknown): boolean {
  return JSON.stringify(a ?? null) === JSON.stringify(b ?? null);
}

type Json = Record<string, unknown>;

function matchLabels(selector: unknown): Record<string, string> | undefined {
  return (selector as { matchLabels?: Record<string, string> } | undefined)?.matchLabels;
}

/** The checks every create and update of this kind must pass, as upstream validation words them. */
function specErrors(object: KubernetesObject): FieldError[] {
  const errors: FieldError[] = [];
  const spec = (object.spec ?? {}) as Json;
  const checkPodSpec = (podSpec: unknown, field: string) => {
    const containers = (podSpec as Json | undefined)?.containers;
    if (!Array.isArray(containers) || containers.length === 0) {
      errors.push({ type: 'FieldValueRequired', field: `${field}.containers`, detail: '' });
      return;
    }
    containers.forEach((c: Json, i: number) => {
      if (typeof c.name !== 'string' || c.name === '')
        errors.push({ type: 'FieldValueRequired', field: `${field}.containers[${i}].name`, detail: '' });
      if (typeof c.image !== 'string' || c.image === '')
        errors.push({ type: 'FieldValueRequired', field: `${field}.containers[${i}].image`, detail: '' });
    });
  };
  const checkSelectorMatchesTemplate = () => {
    const selector = spec.selector as Json | undefined;
    if (!selector || Object.keys(selector).length === 0) {
      errors.push({ type: 'FieldValueRequired', field: 'spec.selector', detail: '' });
      return;
    }
    const labels = ((spec.template as Json | undefined)?.metadata as Json | undefined)?.labels as
      | Record<string, string>
      | undefined;
    const wanted = matchLabels(selector) ?? {};
    if (!Object.entries(wanted).every(([k, v]) => labels?.[k] === v)) {
      errors.push({
        type: 'FieldValueInvalid',
        field: 'spec.template.metadata.labels',
        value: labels ?? {},
        detail: '`selector` does not match template `labels`',
      });
    }
  };
  switch (object.kind) {
    case 'Pod':
      checkPodSpec(spec, 'spec');
      break;
    case 'Deployment':
    case 'ReplicaSet':
      checkSelectorMatchesTemplate();
      checkPodSpec((spec.template as Json | undefined)?.spec, 'spec.template.spec');
      if (typeof spec.replicas === 'number' && spec.replicas < 0) {
        errors.push({
          type: 'FieldValueInvalid',
          field: 'spec.replicas',
          value: spec.replicas,
          detail: 'must be greater than or equal to 0',
        });
      }
      break;
    case 'Job': {
      checkPodSpec((spec.template as Json | undefined)?.spec, 'spec.template.spec');
      const restartPolicy = ((spec.template as Json | undefined)?.spec as Json | undefined)?.restartPolicy;
      if (restartPolicy !== 'Never' && restartPolicy !== 'OnFailure') {
        errors.push({
          type: 'FieldValueNotSupported',
          field: 'spec.template.spec.restartPolicy',
          value: restartPolicy,
          detail: 'supported values: "OnFailure", "Never"',
        });
      }
      break;
    }
    case 'Role':
    case 'ClusterRole':
      errors.push(...policyRuleErrors((object as { rules?: unknown }).rules, object.kind === 'Role'));
      break;
    case 'RoleBinding':
    case 'ClusterRoleBinding':
      errors.push(...roleBindingErrors(object, object.kind === 'RoleBinding'));
      break;
    case 'Service':
      if (
        spec.type !== 'ExternalName' &&
        spec.clusterIP !== 'None' &&
        (!Array.isArray(spec.ports) || spec.ports.length === 0)
      ) {
        errors.push({ type: 'FieldValueRequired', field: 'spec.ports', detail: '' });
      }
      (Array.isArray(spec.ports) ? spec.ports : []).forEach((p: Json, i: number) => {
        if (typeof p.port !== 'number' || p.port < 1 || p.port > 65535) {
          errors.push({
            type: 'FieldValueInvalid',
            field: `spec.ports[${i}].port`,
            value: p.port,
            detail: 'must be between 1 and 65535, inclusive',
          });
        }
      });
      break;
  }
  return errors;
}

/** Admission for a create: names, uid, timestamps, generation, defaults, validation. */
export function prepareForCreate(
  type: ResourceType,
  input: KubernetesObject,
  namespace: string | undefined,
  now: Date,
): KubernetesObject {
  const metadata = { ...input.metadata };
  if (type.namespaced) {
    if (metadata.namespace && metadata.namespace !== namespace) {
      throw badRequest(
        'the namespace of the provided object does not match the namespace sent on the request',
      );
    }
    metadata.namespace = namespace as string;
  } else {
    delete metadata.namespace;
  }
  if (!metadata.name && metadata.generateName) metadata.name = generatedName(metadata.generateName);
  if (!metadata.name) {
    throw invalid(type, '', [
      { type: 'FieldValueRequired', field: 'metadata.name', detail: 'name or generateName is required' },
    ]);
  }
  const errors = nameErrors(type, metadata.name);
  if (type.namespaced)
    errors.push(
      ...nameErrors({ ...type, resource: 'namespaces' }, metadata.namespace as string, 'metadata.namespace'),
    );
  metadata.uid = randomUUID();
  metadata.creationTimestamp = timestamp(now);
  delete metadata.resourceVersion;
  delete metadata.deletionTimestamp;
  delete metadata.deletionGracePeriodSeconds;
  if (generationKinds.has(type.kind)) metadata.generation = 1;
  else delete metadata.generation;
  let object = applyDefaults({ ...input, metadata });
  if (type.subresources?.includes('status')) {
    const { status: _ignored, ...rest } = object;
    object = rest as KubernetesObject;
    if (type.kind === 'Pod') object.status = { phase: 'Pending' };
    if (type.kind === 'Namespace') object.status = { phase: 'Active' };
  }
  errors.push(...metadataErrors(object.metadata), ...specErrors(object));
  if (errors.length > 0) throw invalid(type, metadata.name, errors);
  return object;
}

/** Fields that may never change once set, per kind. */
function immutableErrors(old: KubernetesObject, next: KubernetesObject): FieldError[] {
  const oldSpec = (old.spec ?? {}) as Json;
  const newSpec = (next.spec ?? {}) as Json;
  const errors: FieldError[] = [];
  const immutable = (field: string, a: unknown, b: unknown) => {
    if (!same(a, b))
      errors.push({ type: 'FieldValueInvalid', field, value: b, detail: 'field is immutable' });
  };
  switch (next.kind) {
    case 'Deployment':
    case 'ReplicaSet':
    case 'Job':
      immutable('spec.selector', oldSpec.selector, newSpec.selector);
      break;
    case 'RoleBinding':
    case 'ClusterRoleBinding':
      // What a binding grants is checked against its role when it is made: another role, another binding.
      if (!same(old.roleRef, next.roleRef))
        errors.push({
          type: 'FieldValueInvalid',
          field: 'roleRef',
          value: next.roleRef,
          detail: 'cannot change roleRef',
        });
      break;
    case 'Service':
      if (oldSpec.clusterIP)
        immutable('spec.clusterIP', oldSpec.clusterIP, newSpec.clusterIP ?? oldSpec.clusterIP);
      break;
    case 'Pod': {
      const mutable = (spec: Json) => ({
        ...spec,
        containers: (spec.containers as Json[] | undefined)?.map((c) => ({ ...c, image: undefined })),
        initContainers: (spec.initContainers as Json[] | undefined)?.map((c) => ({ ...c, image: undefined })),
        activeDeadlineSeconds: undefined,
        tolerations: undefined,
        terminationGracePeriodSeconds: undefined,
      });
      if (!same(mutable(oldSpec), mutable(newSpec))) {
        errors.push({
          type: 'FieldValueForbidden',
          field: 'spec',
          detail:
            'pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)',
        });
      }
      break;
    }
  }
  if ((old as { immutable?: boolean }).immutable === true) {
    for (const field of ['data', 'binaryData', 'stringData'] as const) {
      if (!same(old[field], next[field]))
        errors.push({
          type: 'FieldValueForbidden',
          field,
          detail: 'field is immutable when `immutable` is set',
        });
    }
  }
  return errors;
}

/**
 * Only a delete marks an object as being deleted (upstream's ValidateObjectMetaUpdate: the fields are
 * immutable, and an update restores them where they are set). An update that set them would delete
 * the object with no delete asked for, or authorized.
 */
function deletionMarkErrors(old: KubernetesObject, input: KubernetesObject): FieldError[] {
  return (['deletionTimestamp', 'deletionGracePeriodSeconds'] as const).flatMap((field): FieldError[] => {
    const given = input.metadata[field];
    return old.metadata[field] === undefined && given !== undefined && given !== null
      ? [
          {
            type: 'FieldValueInvalid',
            field: `metadata.${field}`,
            value: given,
            detail: 'field is immutable',
          },
        ]
      : [];
  });
}

/**
 * Admission for an update of the object or of its status subresource: identity and timestamps stay,
 * generation counts spec changes, status changes only through `/status` (and only status does).
 */
export function prepareForUpdate(
  type: ResourceType,
  old: KubernetesObject,
  input: KubernetesObject,
  subresource: string | undefined,
): KubernetesObject {
  const hasStatus = type.subresources?.includes('status') ?? false;
  if (subresource === 'status') {
    return { ...old, status: input.status, metadata: { ...old.metadata } };
  }
  const deletionErrors = deletionMarkErrors(old, input);
  const metadata = {
    ...input.metadata,
    name: old.metadata.name,
    uid: old.metadata.uid,
    creationTimestamp: old.metadata.creationTimestamp,
    ...(old.metadata.namespace ? { namespace: old.metadata.namespace } : {}),
    ...(old.metadata.deletionTimestamp ? { deletionTimestamp: old.metadata.deletionTimestamp } : {}),
    ...(old.metadata.deletionGracePeriodSeconds !== undefined
      ? { deletionGracePeriodSeconds: old.metadata.deletionGracePeriodSeconds }
      : {}),
  };
  if (!old.metadata.deletionTimestamp) delete metadata.deletionTimestamp;
  if (old.metadata.deletionGracePeriodSeconds === undefined) delete metadata.deletionGracePeriodSeconds;
  let object = applyDefaults({ ...input, metadata });
  if (type.kind === 'Namespace' && subresource !== 'finalize') {
    // Only `namespaces/<name>/finalize` changes a namespace's finalizers, as upstream.
    object.spec = {
      ...(object.spec as object),
      finalizers: (old.spec as { finalizers?: unknown })?.finalizers ?? [],
    };
  }
  if (hasStatus) {
    const { status: _ignored, ...rest } = object;
    object = { ...(rest as KubernetesObject), ...(old.status !== undefined ? { status: old.status } : {}) };
  }
  if (generationKinds.has(type.kind)) {
    const generation = old.metadata.generation ?? 1;
    object.metadata.generation = same(old.spec, object.spec) ? generation : generation + 1;
  } else {
    delete object.metadata.generation;
  }
  const errors = [
    ...deletionErrors,
    ...metadataErrors(object.metadata),
    ...specErrors(object),
    ...immutableErrors(old, object),
  ];
  if (errors.length > 0) throw invalid(type, old.metadata.name, errors);
  return object;
}
