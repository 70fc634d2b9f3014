/**
 * What every printer shares: the Table wire types, the column-definition helpers and the
 * `metav1.ObjectMeta` descriptions the upstream printers reuse for NAME and AGE.
 */

import type { KubernetesObject } from '../../../shared/api/types.js';

export interface TableColumnDefinition {
  name: string;
  type: string;
  format: string;
  description: string;
  priority: number;
}

/** `metav1.TableRowCondition`; upstream marks finished pods with a `Completed` condition. */
export interface TableRowCondition {
  type: string;
  status: string;
  reason?: string;
  message?: string;
}

/** One printed row: its cells in column order, and row conditions where upstream sets them. */
export interface PrintedRow {
  cells: unknown[];
  conditions?: TableRowCondition[];
}

export interface PrintContext {
  now: Date;
}

/** A resource's printer: its columns (all of them, as the server generates them wide) and rows. */
export interface Printer {
  columns: TableColumnDefinition[];
  print(object: KubernetesObject, context: PrintContext): PrintedRow;
}

/** `metav1.ObjectMeta{}.SwaggerDoc()["name"]`. */
export const nameDescription =
  'Name must be unique within a namespace. Is required when creating resources, although some resources may allow a client to request the generation of an appropriate name automatically. Name is primarily intended for creation idempotence and configuration definition. Cannot be updated. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names';

/** `metav1.ObjectMeta{}.SwaggerDoc()["creationTimestamp"]`. */
export const creationTimestampDescription =
  'CreationTimestamp is a timestamp representing the server time when this object was created. It is not guaranteed to be set in happens-before order across separate operations. Clients may not set this value. It is represented in RFC3339 form and is in UTC.\n\nPopulated by the system. Read-only. Null for lists. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata';

export const containersDescription = 'Names of each container in the template.';
export const imagesDescription = 'Images referenced by each container in the template.';

/** A column definition; `format` and `priority` default to `''` and `0` as in Go's zero values. */
export function column(
  name: string,
  type: string,
  description: string,
  options: { format?: string; priority?: number } = {},
): TableColumnDefinition {
  return { name, type, format: options.format ?? '', description, priority: options.priority ?? 0 };
}

/** The `Name` column every printer starts with. */
export const nameColumn = column('Name', 'string', nameDescription, { format: 'name' });
/** The `Age` column (`translateTimestampSince(creationTimestamp)`). */
export const ageColumn = column('Age', 'string', creationTimestampDescription);

/** An array field, or `[]` when it is absent or not an array. */
export function arr<T>(value: T[] | null | undefined): T[] {
  return Array.isArray(value) ? value : [];
}

/** A string field, or `''` (Go's zero value) when it is absent or not a string. */
export function str(value: unknown): string {
  return typeof value === 'string' ? value : '';
}

/** An integer field, or `0` (Go's zero value) when it is absent or not a number. */
export function int(value: unknown): number {
  return typeof value === 'number' && Number.isFinite(value) ? Math.trunc(value) : 0;
}

/** The number of keys of a map field (`len(map)`), `0` when absent. */
export function size(value: unknown): number {
  return value !== null && typeof value === 'object' ? Object.keys(value).length : 0;
}

export interface Container {
  name?: string;
  image?: string;
  restartPolicy?: string;
}

/** `layoutContainerCells`: container names and images, each joined by commas. */
export function containerCells(containers: Container[] | undefined): [string, string] {
  const list = arr(containers);
  return [list.map((c) => str(c.name)).join(','), list.map((c) => str(c.image)).join(',')];
}
