import { badRequest } from '../../shared/api/errors.js';
import type { KubernetesObject } from '../../shared/api/types.js';

/**
 * Label and field selectors as the Kubernetes API concepts page defines them. Written here because no
 * maintained npm package parses Kubernetes' selector grammar (client libraries only build the strings).
 */

type Requirement =
  | { key: string; op: 'in' | 'notin'; values: string[] }
  | { key: string; op: 'exists' | '!exists' };

export type Selector = (labels: Record<string, string> | undefined) => boolean;

const labelKey =
  /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;
const labelValue = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

/** Splits on commas outside parentheses. */
function splitTerms(selector: string): string[] {
  const terms: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < selector.length; i++) {
    const c = selector[i];
    if (c === '(') depth++;
    else if (c === ')') depth--;
    else if (c === ',' && depth === 0) {
      terms.push(selector.slice(start, i));
      start = i + 1;
    }
  }
  terms.push(selector.slice(start));
  return terms.map((t) => t.trim()).filter((t) => t !== '');
}

function checkKey(key: string, selector: string): string {
  if (!labelKey.test(key) || key.length > 317)
    throw badRequest(`unable to parse requirement: invalid label key "${key}" in "${selector}"`);
  return key;
}

function checkValue(value: string, selector: string): string {
  if (!labelValue.test(value) || value.length > 63)
    throw badRequest(`unable to parse requirement: invalid label value "${value}" in "${selector}"`);
  return value;
}

function parseRequirement(term: string, selector: string): Requirement {
  const set = /^(\S+)\s+(in|notin)\s*\((.*)\)$/.exec(term);
  if (set) {
    const values = (set[3] as string).split(',').map((v) => checkValue(v.trim(), selector));
    return { key: checkKey(set[1] as string, selector), op: set[2] as 'in' | 'notin', values };
  }
  const equality = /^([^=!\s]+)\s*(==|=|!=)\s*(.*)$/.exec(term);
  if (equality) {
    const key = checkKey(equality[1] as string, selector);
    const value = checkValue((equality[3] as string).trim(), selector);
    return { key, op: equality[2] === '!=' ? 'notin' : 'in', values: [value] };
  }
  if (term.startsWith('!')) return { key: checkKey(term.slice(1).trim(), selector), op: '!exists' };
  return { key: checkKey(term, selector), op: 'exists' };
}

function matches(requirement: Requirement, labels: Record<string, string>): boolean {
  const has = Object.hasOwn(labels, requirement.key);
  switch (requirement.op) {
    case 'exists':
      return has;
    case '!exists':
      return !has;
    case 'in':
      return has && requirement.values.includes(labels[requirement.key] as string);
    case 'notin':
      return !has || !requirement.values.includes(labels[requirement.key] as string);
  }
}

export function parseLabelSelector(selector: string | null | undefined): Selector | undefined {
  if (!selector?.trim()) return undefined;
  const requirements = splitTerms(selector).map((term) => parseRequirement(term, selector));
  return (labels) => requirements.every((r) => matches(r, labels ?? {}));
}

/** The fields each resource can be selected by, besides metadata.name and metadata.namespace. */
const selectableFields: Record<string, string[]> = {
  pods: [
    'spec.nodeName',
    'spec.restartPolicy',
    'spec.schedulerName',
    'spec.serviceAccountName',
    'spec.hostNetwork',
    'status.phase',
    'status.podIP',
    'status.nominatedNodeName',
  ],
  events: [
    'involvedObject.kind',
    'involvedObject.namespace',
    'involvedObject.name',
    'involvedObject.uid',
    'involvedObject.apiVersion',
    'involvedObject.resourceVersion',
    'involvedObject.fieldPath',
    'reason',
    'reportingComponent',
    'source',
    'type',
  ],
  secrets: ['type'],
  namespaces: ['status.phase'],
  nodes: ['spec.unschedulable'],
  'replicasets.apps': ['status.replicas'],
  'jobs.batch': ['status.successful'],
};

function fieldValue(object: KubernetesObject, path: string): string {
  if (path === 'source') {
    const source = (object as { source?: { component?: string } }).source;
    return source?.component ?? '';
  }
  let value: unknown = object;
  for (const part of path.split('.')) value = (value as Record<string, unknown> | undefined)?.[part];
  if (value === undefined || value === null)
    return path === 'spec.hostNetwork' || path === 'spec.unschedulable' ? 'false' : '';
  return String(value);
}

export type FieldSelector = (object: KubernetesObject) => boolean;

/** Parses a field selector for `resource` (qualified name); unknown fields are 400 as upstream. */
export function parseFieldSelector(
  resource: string,
  selector: string | null | undefined,
): FieldSelector | undefined {
  if (!selector?.trim()) return undefined;
  const allowed = new Set(['metadata.name', 'metadata.namespace', ...(selectableFields[resource] ?? [])]);
  const terms = splitTerms(selector).map((term) => {
    const match = /^([^=!]+)(==|=|!=)(.*)$/.exec(term);
    if (!match) throw badRequest(`invalid selector: '${selector}'; can't understand '${term}'`);
    const field = (match[1] as string).trim();
    if (!allowed.has(field)) throw badRequest(`field label not supported: ${field}`);
    return { field, negate: match[2] === '!=', value: (match[3] as string).trim() };
  });
  return (object) => terms.every((t) => (fieldValue(object, t.field) === t.value) !== t.negate);
}

/** The single name a field selector pins down (`metadata.name=x`), for cheap single-object watches. */
export function selectedName(selector: string | null | undefined): string | undefined {
  if (!selector) return undefined;
  const names = splitTerms(selector)
    .map((term) => /^metadata\.name(==|=)(.*)$/.exec(term.replace(/\s+/g, ''))?.[2])
    .filter((n): n is string => n !== undefined);
  return names.length === 1 ? names[0] : undefined;
}
