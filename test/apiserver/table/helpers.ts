import { type Table, toTable } from '../../../functions/apiserver/table/index.js';
import type { KubernetesObject } from '../../../shared/api/types.js';

/** The fixed "now" every printer test measures ages against. */
export const now = new Date('2024-05-01T12:00:00Z');

/** The RFC 3339 time `seconds` before `now`. */
export function ago(seconds: number): string {
  return new Date(now.getTime() - seconds * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** Tables `objects` of `resource` at `now`. */
export function table(resource: string, ...objects: KubernetesObject[]): Table {
  return toTable(resource, objects, { metadata: { resourceVersion: '7' }, now });
}

/** The cells of the single row printed for `object`. */
export function cells(resource: string, object: KubernetesObject): unknown[] {
  const rows = table(resource, object).rows;
  if (rows.length !== 1) throw new Error(`expected one row, got ${rows.length}`);
  return rows[0]?.cells ?? [];
}

/** The cells shown without `-o wide` (columns of priority 0). */
export function narrowCells(resource: string, object: KubernetesObject): unknown[] {
  const t = table(resource, object);
  const row = t.rows[0]?.cells ?? [];
  return row.filter((_, i) => t.columnDefinitions[i]?.priority === 0);
}

/** Column names, and which ones `-o wide` adds. */
export function headers(resource: string): { narrow: string[]; wide: string[] } {
  const columns = table(resource).columnDefinitions;
  return {
    narrow: columns.filter((c) => c.priority === 0).map((c) => c.name),
    wide: columns.filter((c) => c.priority > 0).map((c) => c.name),
  };
}
