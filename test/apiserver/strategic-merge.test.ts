import { describe, expect, it } from 'vitest';
import { strategicMergePatch } from '../../functions/apiserver/strategic-merge.js';

const deployment = {
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'web', labels: { a: '1' }, finalizers: ['x'] },
  spec: {
    replicas: 1,
    strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: '25%' } },
    template: {
      spec: {
        containers: [
          {
            name: 'web',
            image: 'web:1',
            args: ['--a', '--b'],
            env: [
              { name: 'A', value: '1' },
              { name: 'B', value: '1' },
            ],
            ports: [{ containerPort: 80, protocol: 'TCP' }],
          },
          { name: 'sidecar', image: 'side:1' },
        ],
        volumes: [{ name: 'data', emptyDir: {} }],
      },
    },
  },
};

// biome-ignore lint/suspicious/noExplicitAny: the tests read deep into patched fixtures
type Loose = Record<string, any>;
const patched = (patch: unknown) =>
  strategicMergePatch(structuredClone(deployment), patch) as typeof deployment & Loose;
const containers = (patch: unknown) =>
  patched({ spec: { template: { spec: { containers: patch } } } }).spec.template.spec.containers;

describe('strategic merge patch', () => {
  it('merges containers by name, env by name and ports by containerPort, keeping what the patch does not name', () => {
    const result = containers([
      {
        name: 'web',
        image: 'web:2',
        env: [
          { name: 'B', value: '2' },
          { name: 'C', value: '3' },
        ],
        ports: [{ containerPort: 8080 }],
      },
    ]);
    expect(result).toHaveLength(2);
    expect(result[0]).toMatchObject({ name: 'web', image: 'web:2', args: ['--a', '--b'] });
    expect(result[0]?.env).toEqual([
      { name: 'A', value: '1' },
      { name: 'B', value: '2' },
      { name: 'C', value: '3' },
    ]);
    expect(result[0]?.ports).toEqual([{ containerPort: 80, protocol: 'TCP' }, { containerPort: 8080 }]);
    expect(result[1]).toEqual({ name: 'sidecar', image: 'side:1' });
  });

  it('replaces lists without a merge strategy, such as args', () => {
    expect(containers([{ name: 'web', args: ['--c'] }])[0]?.args).toEqual(['--c']);
  });

  it('deletes list elements with $patch: delete and fields with null', () => {
    const result = containers([
      { name: 'sidecar', $patch: 'delete' },
      { name: 'web', env: [{ name: 'A', $patch: 'delete' }], image: null },
    ]);
    expect(result).toEqual([
      {
        name: 'web',
        args: ['--a', '--b'],
        env: [{ name: 'B', value: '1' }],
        ports: [{ containerPort: 80, protocol: 'TCP' }],
      },
    ]);
  });

  it('replaces a whole list or map when told to', () => {
    expect(containers([{ $patch: 'replace' }, { name: 'only', image: 'o:1' }])).toEqual([
      { name: 'only', image: 'o:1' },
    ]);
    const result = patched({ metadata: { labels: { $patch: 'replace', b: '2' } } });
    expect(result.metadata.labels).toEqual({ b: '2' });
  });

  it('keeps only $retainKeys, as kubectl apply sends for a changed deployment strategy', () => {
    const result = patched({
      spec: { strategy: { $retainKeys: ['type'], type: 'Recreate', rollingUpdate: null } },
    });
    expect(result.spec.strategy).toEqual({ type: 'Recreate' });
  });

  it('orders merged elements by $setElementOrder and removes primitives by $deleteFromPrimitiveList', () => {
    const result = patched({
      metadata: {
        $deleteFromPrimitiveList: undefined,
        finalizers: ['y'],
        '$deleteFromPrimitiveList/finalizers': ['x'],
      },
      spec: {
        template: {
          spec: {
            '$setElementOrder/containers': [{ name: 'sidecar' }, { name: 'web' }],
            containers: [{ name: 'web', image: 'web:3' }],
          },
        },
      },
    });
    expect(result.metadata.finalizers).toEqual(['y']);
    expect(result.spec.template.spec.containers.map((c: { name: string }) => c.name)).toEqual([
      'sidecar',
      'web',
    ]);
    expect(JSON.stringify(result)).not.toContain('$');
  });

  it('rejects unknown directives and malformed lists with 400', () => {
    expect(() => patched({ spec: { $patch: 'explode' } })).toThrow(expect.objectContaining({ code: 400 }));
    expect(() => containers(['not-an-object'])).toThrow(expect.objectContaining({ code: 400 }));
  });
});
