import { describe, expect, it } from 'vitest';
import type { KubernetesObject } from '../../../shared/api/types.js';
import { ago, cells, headers } from './helpers.js';

function object(
  apiVersion: string,
  kind: string,
  fields: Record<string, unknown>,
  name = 'x',
): KubernetesObject {
  return { apiVersion, kind, metadata: { name, creationTimestamp: ago(90) }, ...fields };
}

describe('leases', () => {
  it('print NAME HOLDER AGE, an empty holder when nobody holds it', () => {
    expect(headers('leases.coordination.k8s.io')).toEqual({ narrow: ['Name', 'Holder', 'Age'], wide: [] });
    const held = object(
      'coordination.k8s.io/v1',
      'Lease',
      { spec: { holderIdentity: 'scheduler-1' } },
      'sched',
    );
    expect(cells('leases.coordination.k8s.io', held)).toEqual(['sched', 'scheduler-1', '90s']);
    expect(
      cells('leases.coordination.k8s.io', object('coordination.k8s.io/v1', 'Lease', { spec: {} }))[1],
    ).toBe('');
  });
});

describe('endpointslices', () => {
  const slice = (fields: Record<string, unknown>) =>
    object('discovery.k8s.io/v1', 'EndpointSlice', { addressType: 'IPv4', ...fields }, 'web-abc');

  it('print NAME ADDRESSTYPE PORTS ENDPOINTS AGE', () => {
    expect(headers('endpointslices.discovery.k8s.io').narrow).toEqual([
      'Name',
      'AddressType',
      'Ports',
      'Endpoints',
      'Age',
    ]);
    const s = slice({
      ports: [{ name: 'http', port: 80 }, { name: 'metrics', port: null }, { port: null }],
      endpoints: [{ addresses: ['10.0.0.1'] }, { addresses: ['10.0.0.2'] }],
    });
    expect(cells('endpointslices.discovery.k8s.io', s)).toEqual([
      'web-abc',
      'IPv4',
      '80,metrics,*',
      '10.0.0.1,10.0.0.2',
      '90s',
    ]);
  });

  it('print <unset> without ports or endpoints and + N more... past three', () => {
    expect(cells('endpointslices.discovery.k8s.io', slice({})).slice(2, 4)).toEqual(['<unset>', '<unset>']);
    const many = slice({ endpoints: [{ addresses: ['a', 'b'] }, { addresses: ['c', 'd', 'e'] }] });
    expect(cells('endpointslices.discovery.k8s.io', many)[3]).toBe('a,b,c + 2 more...');
  });
});

describe('rbac', () => {
  const rbac = 'rbac.authorization.k8s.io/v1';

  it('print roles and cluster roles as the default table: NAME CREATED AT', () => {
    for (const resource of ['roles.rbac.authorization.k8s.io', 'clusterroles.rbac.authorization.k8s.io']) {
      expect(headers(resource)).toEqual({ narrow: ['Name', 'Created At'], wide: [] });
    }
    const role = object(rbac, 'Role', { rules: [] }, 'reader');
    expect(cells('roles.rbac.authorization.k8s.io', role)).toEqual(['reader', '2024-05-01T11:58:30Z']);
  });

  it('print bindings as NAME ROLE AGE, and USERS GROUPS SERVICEACCOUNTS with -o wide', () => {
    for (const resource of [
      'rolebindings.rbac.authorization.k8s.io',
      'clusterrolebindings.rbac.authorization.k8s.io',
    ]) {
      expect(headers(resource)).toEqual({
        narrow: ['Name', 'Role', 'Age'],
        wide: ['Users', 'Groups', 'ServiceAccounts'],
      });
    }
    const binding = object(
      rbac,
      'RoleBinding',
      {
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'view' },
        subjects: [
          { kind: 'User', name: 'alice' },
          { kind: 'User', name: 'bob' },
          { kind: 'Group', name: 'devs' },
          { kind: 'ServiceAccount', name: 'ci', namespace: 'build' },
          { kind: 'Robot', name: 'ignored' },
        ],
      },
      'viewers',
    );
    expect(cells('rolebindings.rbac.authorization.k8s.io', binding)).toEqual([
      'viewers',
      'ClusterRole/view',
      '90s',
      'alice, bob',
      'devs',
      'build/ci',
    ]);
    const empty = object(
      rbac,
      'ClusterRoleBinding',
      { roleRef: { kind: 'ClusterRole', name: 'admin' } },
      'admins',
    );
    expect(cells('clusterrolebindings.rbac.authorization.k8s.io', empty)).toEqual([
      'admins',
      'ClusterRole/admin',
      '90s',
      '',
      '',
      '',
    ]);
  });
});
