import { describe, expect, it } from 'vitest';
import { toTable } from '../../../functions/apiserver/table/index.js';
import type { KubernetesObject } from '../../../shared/api/types.js';
import { ago, now, table } from './helpers.js';

const configMap: KubernetesObject = {
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: {
    name: 'settings',
    namespace: 'default',
    uid: 'u-1',
    resourceVersion: '5',
    creationTimestamp: ago(60),
    labels: { app: 'web' },
  },
  data: { a: '1' },
};

describe('tables', () => {
  it('are meta.k8s.io/v1 Tables carrying the list metadata', () => {
    const t = toTable('configmaps', [configMap], {
      metadata: { resourceVersion: '42', continue: 'next', remainingItemCount: 3 },
      now,
    });
    expect(t.kind).toBe('Table');
    expect(t.apiVersion).toBe('meta.k8s.io/v1');
    expect(t.metadata).toEqual({ resourceVersion: '42', continue: 'next', remainingItemCount: 3 });
  });

  it('still define their columns when there are no rows', () => {
    const t = table('pods');
    expect(t.rows).toEqual([]);
    expect(t.columnDefinitions.map((c) => c.name)).toEqual([
      'Name',
      'Ready',
      'Status',
      'Restarts',
      'Age',
      'IP',
      'Node',
      'Nominated Node',
      'Readiness Gates',
    ]);
  });

  it('give every column a name, type, format, description and priority', () => {
    const t = table('deployments.apps');
    for (const c of t.columnDefinitions) {
      expect(Object.keys(c).sort()).toEqual(['description', 'format', 'name', 'priority', 'type']);
      expect(c.description).not.toBe('');
    }
    expect(t.columnDefinitions[4]?.description).toMatch(/^CreationTimestamp is a timestamp/);
  });

  it('keep rows in object order', () => {
    const other = { ...configMap, metadata: { ...configMap.metadata, name: 'other' } };
    expect(table('configmaps', configMap, other).rows.map((r) => r.cells[0])).toEqual(['settings', 'other']);
  });
});

describe('row objects', () => {
  const at = (includeObject?: 'None' | 'Metadata' | 'Object') =>
    toTable('configmaps', [configMap], { metadata: { resourceVersion: '5' }, now, includeObject }).rows[0];

  it('default to PartialObjectMetadata with the whole object metadata', () => {
    expect(at()?.object).toEqual({
      kind: 'PartialObjectMetadata',
      apiVersion: 'meta.k8s.io/v1',
      metadata: configMap.metadata,
    });
    expect(at('Metadata')?.object).toEqual(at()?.object);
  });

  it('embed the whole object for includeObject=Object and nothing for None', () => {
    expect(at('Object')?.object).toEqual(configMap);
    expect(at('None')).toEqual({ cells: ['settings', 1, '60s'], object: null });
  });
});

describe('the default table', () => {
  it('prints any other resource as NAME and CREATED AT, an RFC 3339 date', () => {
    const widget: KubernetesObject = {
      apiVersion: 'example.com/v1',
      kind: 'Widget',
      metadata: { name: 'w', creationTimestamp: '2024-04-30T08:15:00Z' },
    };
    const t = table('widgets.example.com', widget);
    expect(t.columnDefinitions).toEqual([
      expect.objectContaining({ name: 'Name', type: 'string', format: 'name', priority: 0 }),
      expect.objectContaining({ name: 'Created At', type: 'date', format: '', priority: 0 }),
    ]);
    expect(t.rows[0]?.cells).toEqual(['w', '2024-04-30T08:15:00Z']);
  });
});
