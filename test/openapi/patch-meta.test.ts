import { describe, expect, it } from 'vitest';
import { definitionName, patchMeta, schemaFor } from '../../shared/openapi/index.js';

const deployment = { group: 'apps', version: 'v1', kind: 'Deployment' };
const podSpec = ['spec', 'template', 'spec'];

describe('patch metadata', () => {
  it('merges containers by name, their ports by containerPort, volumes by name', () => {
    expect(patchMeta(deployment, [...podSpec, 'containers'])).toMatchObject({
      strategies: ['merge'],
      mergeKey: 'name',
    });
    expect(patchMeta(deployment, [...podSpec, 'containers', 'ports'])).toMatchObject({
      strategies: ['merge'],
      mergeKey: 'containerPort',
      listType: 'map',
      listMapKeys: ['containerPort', 'protocol'],
    });
    expect(patchMeta(deployment, [...podSpec, 'volumes'])).toMatchObject({
      strategies: ['merge', 'retainKeys'],
      mergeKey: 'name',
    });
    expect(patchMeta(deployment, [...podSpec, 'containers', 'env'])).toMatchObject({ mergeKey: 'name' });
    expect(patchMeta(deployment, [...podSpec, 'containers', 'volumeMounts'])).toMatchObject({
      mergeKey: 'mountPath',
    });
    expect(patchMeta(deployment, ['spec', 'strategy'])).toEqual({ strategies: ['retainKeys'] });
    expect(patchMeta(deployment, ['metadata', 'finalizers'])).toMatchObject({ strategies: ['merge'] });
    expect(patchMeta(deployment, ['metadata', 'ownerReferences'])).toMatchObject({ mergeKey: 'uid' });
  });

  it('reports plain fields as replaced wholesale, and unknown fields as outside the schema', () => {
    expect(patchMeta(deployment, ['spec', 'replicas'])).toEqual({ strategies: [] });
    expect(patchMeta(deployment, [...podSpec, 'containers', 'args'])).toMatchObject({ strategies: [] });
    expect(patchMeta(deployment, ['spec', 'replicaz'])).toBeUndefined();
    expect(patchMeta({ group: 'apps', version: 'v1', kind: 'Nope' }, ['spec'])).toBeUndefined();
  });

  it('walks objects, maps and lists, following references', () => {
    const root = schemaFor(deployment);
    expect(root?.definition).toBe('io.k8s.api.apps.v1.Deployment');
    expect(root?.shape).toBe('object');
    expect(root?.fieldNames).toEqual(
      expect.arrayContaining(['apiVersion', 'kind', 'metadata', 'spec', 'status']),
    );
    const labels = root?.at(['metadata', 'labels']);
    expect(labels?.shape).toBe('map');
    expect(labels?.field('app')?.schema).toEqual({ type: 'string' });
    const containers = root?.at([...podSpec, 'containers']);
    expect(containers?.shape).toBe('array');
    expect(containers?.items()?.definition).toBe('io.k8s.api.core.v1.Container');
    expect(containers?.items()?.field('image')?.shape).toBe('primitive');
    // Definition names work too, and the same node is reachable both ways.
    expect(schemaFor('io.k8s.api.core.v1.PodSpec')?.field('containers')?.patch.mergeKey).toBe('name');
    expect(definitionName({ group: '', version: 'v1', kind: 'Pod' })).toBe('io.k8s.api.core.v1.Pod');
    expect(patchMeta('io.k8s.api.core.v1.Pod', ['spec', 'tolerations'])).toMatchObject({ strategies: [] });
    expect(patchMeta({ group: '', version: 'v1', kind: 'Service' }, ['spec', 'ports'])).toMatchObject({
      mergeKey: 'port',
    });
  });
});
