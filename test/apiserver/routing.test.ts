import { describe, expect, it } from 'vitest';
import { aggregatedDiscovery, groupList, resourceList } from '../../functions/apiserver/discovery.js';
import { resourceRequestInfo } from '../../functions/apiserver/request-info.js';
import { parseFieldSelector, parseLabelSelector, selectedName } from '../../functions/apiserver/selectors.js';
import type { KubernetesObject } from '../../shared/api/types.js';

describe('request paths', () => {
  it('reads group, version, namespace, resource, name and subresource as kube-apiserver does', () => {
    expect(resourceRequestInfo('/api/v1/namespaces/ns/pods/p/status')).toEqual({
      group: '',
      version: 'v1',
      namespace: 'ns',
      resource: 'pods',
      name: 'p',
      subresource: 'status',
    });
    expect(resourceRequestInfo('/apis/apps/v1/deployments')).toEqual({
      group: 'apps',
      version: 'v1',
      resource: 'deployments',
    });
    expect(resourceRequestInfo('/api/v1/namespaces/ns')).toEqual({
      group: '',
      version: 'v1',
      resource: 'namespaces',
      name: 'ns',
    });
    expect(resourceRequestInfo('/api/v1/namespaces/ns/status')).toEqual({
      group: '',
      version: 'v1',
      resource: 'namespaces',
      name: 'ns',
      subresource: 'status',
    });
    expect(resourceRequestInfo('/api/v1/namespaces/a%20b/configmaps')).toMatchObject({ namespace: 'a b' });
    expect(resourceRequestInfo('/api/v1/namespaces/ns/pods/p/status/extra')).toBeUndefined();
    expect(resourceRequestInfo('/version')).toBeUndefined();
    expect(() => resourceRequestInfo('/api/v1/namespaces/%zz/pods')).toThrow(
      expect.objectContaining({ code: 400 }),
    );
  });
});

describe('discovery', () => {
  it('lists every named group with its preferred version', () => {
    expect(groupList().groups.map((g) => g.name)).toEqual([
      'apps',
      'batch',
      'coordination.k8s.io',
      'discovery.k8s.io',
      'rbac.authorization.k8s.io',
      'authorization.k8s.io',
      'authentication.k8s.io',
    ]);
  });

  it('lists the reviews as create-only resources', () => {
    expect(resourceList('authorization.k8s.io', 'v1')?.resources).toEqual([
      expect.objectContaining({
        name: 'selfsubjectaccessreviews',
        kind: 'SelfSubjectAccessReview',
        verbs: ['create'],
      }),
      expect.objectContaining({
        name: 'selfsubjectrulesreviews',
        kind: 'SelfSubjectRulesReview',
        verbs: ['create'],
      }),
    ]);
  });

  it('describes resources and their subresources with their kinds and verbs', () => {
    const apps = resourceList('apps', 'v1');
    const scale = apps?.resources.find((r) => r.name === 'deployments/scale');
    expect(scale).toMatchObject({
      group: 'autoscaling',
      version: 'v1',
      kind: 'Scale',
      verbs: ['get', 'patch', 'update'],
    });
    const core = resourceList('', 'v1');
    expect(core?.resources.find((r) => r.name === 'pods')).toMatchObject({
      namespaced: true,
      kind: 'Pod',
      shortNames: ['po'],
      categories: ['all'],
    });
    expect(core?.resources.find((r) => r.name === 'pods/binding')).toMatchObject({
      kind: 'Binding',
      verbs: ['create'],
    });
    expect(resourceList('example.com', 'v1')).toBeUndefined();
  });

  it('serves the same resources as aggregated discovery', () => {
    const named = aggregatedDiscovery(false);
    const deployments = named.items
      .find((g) => g.metadata.name === 'apps')
      ?.versions[0]?.resources.find((r) => r.resource === 'deployments');
    expect(deployments).toMatchObject({
      scope: 'Namespaced',
      responseKind: { group: 'apps', version: 'v1', kind: 'Deployment' },
    });
    expect(deployments?.subresources?.map((s) => s.subresource)).toEqual(['status', 'scale']);
    expect(aggregatedDiscovery(true).items.map((g) => g.metadata.name)).toEqual(['']);
  });
});

describe('selectors', () => {
  const labels = { app: 'web', tier: 'front', 'example.com/team': 'a' };
  it('matches equality and set-based label selectors', () => {
    const cases: [string, boolean][] = [
      ['app=web', true],
      ['app==web,tier=front', true],
      ['app!=web', false],
      ['tier in (front, back)', true],
      ['tier notin (front)', false],
      ['example.com/team', true],
      ['!missing', true],
      ['!app', false],
      ['app in (web),tier notin (back)', true],
    ];
    for (const [selector, expected] of cases)
      expect(parseLabelSelector(selector)?.(labels), selector).toBe(expected);
    expect(parseLabelSelector('')).toBeUndefined();
  });

  it('rejects malformed label selectors with 400', () => {
    for (const bad of ['app=web=x', 'a b', 'tier in (fr ont)', '-app=x']) {
      expect(() => parseLabelSelector(bad), bad).toThrow(expect.objectContaining({ code: 400 }));
    }
  });

  it('selects by the fields each resource supports and refuses the others', () => {
    const pod = {
      metadata: { name: 'p', namespace: 'ns' },
      spec: { nodeName: 'n1' },
      status: { phase: 'Running' },
    } as KubernetesObject;
    expect(parseFieldSelector('pods', 'spec.nodeName=n1,status.phase!=Failed')?.(pod)).toBe(true);
    expect(parseFieldSelector('pods', 'metadata.name=q')?.(pod)).toBe(false);
    expect(() => parseFieldSelector('configmaps', 'spec.nodeName=n1')).toThrow(
      expect.objectContaining({ code: 400, message: 'field label not supported: spec.nodeName' }),
    );
    expect(selectedName('metadata.name=p')).toBe('p');
    expect(selectedName('metadata.name=p,spec.nodeName=x')).toBe('p');
  });
});
