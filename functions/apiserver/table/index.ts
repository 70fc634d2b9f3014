/**
 * Server-side `meta.k8s.io/v1` Table output, as kube-apiserver produces it for
 * `Accept: application/json;as=Table;v=v1;g=meta.k8s.io`: the upstream printers' columns (all of
 * them; kubectl hides priority > 0 unless `-o wide`) and cells, and each row's object trimmed per
 * `?includeObject=`.
 */

import type { KubernetesObject, ListMeta } from '../../../shared/api/types.js';
import { deploymentPrinter, replicaSetPrinter } from './apps.js';
import { jobPrinter } from './batch.js';
import type { Printer, TableColumnDefinition, TableRowCondition } from './common.js';
import { leasePrinter } from './coordination.js';
import {
  configMapPrinter,
  endpointsPrinter,
  namespacePrinter,
  nodePrinter,
  secretPrinter,
  serviceAccountPrinter,
  servicePrinter,
} from './core.js';
import { defaultPrinter } from './default.js';
import { endpointSlicePrinter } from './discovery.js';
import { eventPrinter } from './events.js';
import { podPrinter } from './pods.js';
import { clusterRoleBindingPrinter, roleBindingPrinter } from './rbac.js';

export type { TableColumnDefinition, TableRowCondition } from './common.js';
export { humanDuration } from './duration.js';

export interface TableRow {
  cells: unknown[];
  /** Per `includeObject`: `PartialObjectMetadata`, the whole object, or `null` for `None`. */
  object: unknown;
  /** Set where upstream sets them: a `Completed` condition on succeeded and failed pods. */
  conditions?: TableRowCondition[];
}

export interface Table {
  kind: 'Table';
  apiVersion: 'meta.k8s.io/v1';
  metadata: ListMeta;
  columnDefinitions: TableColumnDefinition[];
  rows: TableRow[];
}

export type IncludeObject = 'None' | 'Metadata' | 'Object';

export interface TableOptions {
  /** The list's (or, for a single object, the object's) metadata. */
  metadata: ListMeta;
  /** The time ages and durations are measured to. */
  now: Date;
  /** `?includeObject=`; `Metadata` when absent, as upstream. */
  includeObject?: IncludeObject;
}

/** Printers by qualified resource (`pods`, `deployments.apps`, …); anything else gets the default table. */
const printers: ReadonlyMap<string, Printer> = new Map([
  ['pods', podPrinter],
  ['namespaces', namespacePrinter],
  ['services', servicePrinter],
  ['endpoints', endpointsPrinter],
  ['nodes', nodePrinter],
  ['configmaps', configMapPrinter],
  ['secrets', secretPrinter],
  ['events', eventPrinter],
  ['serviceaccounts', serviceAccountPrinter],
  ['deployments.apps', deploymentPrinter],
  ['replicasets.apps', replicaSetPrinter],
  ['jobs.batch', jobPrinter],
  ['leases.coordination.k8s.io', leasePrinter],
  ['endpointslices.discovery.k8s.io', endpointSlicePrinter],
  ['rolebindings.rbac.authorization.k8s.io', roleBindingPrinter],
  ['clusterrolebindings.rbac.authorization.k8s.io', clusterRoleBindingPrinter],
]);

/** Whether `resource` has its own printer (otherwise it is printed as NAME, CREATED AT). */
export function hasPrinter(resource: string): boolean {
  return printers.has(resource);
}

/**
 * Converts objects of one resource to a Table. `resource` is the qualified resource name:
 * `pods`, `deployments.apps`, `leases.coordination.k8s.io`, `roles.rbac.authorization.k8s.io` …
 * Column definitions are returned even when there are no objects.
 */
export function toTable(resource: string, objects: KubernetesObject[], options: TableOptions): Table {
  const printer = printers.get(resource) ?? defaultPrinter;
  const includeObject = options.includeObject ?? 'Metadata';
  const context = { now: options.now };
  const rows = objects.map((object): TableRow => {
    const printed = printer.print(object, context);
    const row: TableRow = { cells: printed.cells, object: rowObject(object, includeObject) };
    if (printed.conditions) row.conditions = printed.conditions.map((c) => ({ ...c }));
    return row;
  });
  return {
    kind: 'Table',
    apiVersion: 'meta.k8s.io/v1',
    metadata: { ...options.metadata },
    columnDefinitions: printer.columns.map((c) => ({ ...c })),
    rows,
  };
}

/** The row's `object` as the handler's `asTable` sets it for each `includeObject`. */
function rowObject(object: KubernetesObject, includeObject: IncludeObject): unknown {
  switch (includeObject) {
    case 'Object':
      return object;
    case 'None':
      return null;
    default:
      return { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: object.metadata };
  }
}
