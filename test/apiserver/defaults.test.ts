import { describe, expect, it } from 'vitest';
import { applyDefaults } from '../../functions/apiserver/defaults.js';
import { unknownFields } from '../../functions/apiserver/field-validation.js';
import type { KubernetesObject } from '../../shared/api/types.js';

const podSpec = { containers: [{ name: 'c', image: 'busybox', ports: [{ containerPort: 80 }] }] };
const template = { metadata: { labels: { a: 'b' } }, spec: podSpec };
const objects: [string, KubernetesObject][] = [
  ['', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'n' } }],
  ['', { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec: podSpec }],
  ['', { apiVersion: 'v1', kind: 'Service', metadata: { name: 's' }, spec: { ports: [{ port: 80 }] } }],
  ['', { apiVersion: 'v1', kind: 'Secret', metadata: { name: 's' } }],
  [
    'apps',
    {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'd' },
      spec: { selector: { matchLabels: { a: 'b' } }, template },
    },
  ],
  [
    'apps',
    {
      apiVersion: 'apps/v1',
      kind: 'ReplicaSet',
      metadata: { name: 'r' },
      spec: { selector: { matchLabels: { a: 'b' } }, template },
    },
  ],
  [
    'batch',
    {
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: { name: 'j' },
      spec: { template: { spec: { ...podSpec, restartPolicy: 'Never' } } },
    },
  ],
];

describe('defaults', () => {
  it('only ever set fields field validation knows, so strict validation accepts the server’s own objects', () => {
    for (const [group, object] of objects) {
      const defaulted = applyDefaults(object);
      expect(JSON.stringify(defaulted), object.kind).not.toBe(JSON.stringify(object)); // something was defaulted
      expect(
        unknownFields({ group, version: 'v1', kind: object.kind as string }, defaulted),
        object.kind,
      ).toEqual([]);
    }
  });

  it('fill in what upstream fills in for a Deployment and its pod template', () => {
    const [, deployment] = objects[4] as [string, KubernetesObject];
    // biome-ignore lint/suspicious/noExplicitAny: reading nested defaults
    const spec = applyDefaults(deployment).spec as Record<string, any>;
    expect(spec).toMatchObject({
      replicas: 1,
      revisionHistoryLimit: 10,
      progressDeadlineSeconds: 600,
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: '25%' } },
    });
    expect(spec.template.spec).toMatchObject({
      restartPolicy: 'Always',
      dnsPolicy: 'ClusterFirst',
      terminationGracePeriodSeconds: 30,
      schedulerName: 'default-scheduler',
    });
    expect(spec.template.spec.containers[0]).toMatchObject({
      imagePullPolicy: 'Always',
      terminationMessagePath: '/dev/termination-log',
      ports: [{ containerPort: 80, protocol: 'TCP' }],
    });
  });
});

describe('Secret stringData', () => {
  it('is merged into data as base64 and not stored, winning over data for the same key', () => {
    const secret = applyDefaults({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 's' },
      data: { a: Buffer.from('old').toString('base64'), b: Buffer.from('kept').toString('base64') },
      stringData: { a: 'new', c: 'plain' },
    } as KubernetesObject);
    expect(secret).not.toHaveProperty('stringData');
    expect(secret.data).toEqual({
      a: Buffer.from('new').toString('base64'),
      b: Buffer.from('kept').toString('base64'),
      c: Buffer.from('plain').toString('base64'),
    });
    expect(secret.type).toBe('Opaque');
  });
});

describe('RoleBinding and ClusterRoleBinding', () => {
  it('get the RBAC group on their roleRef and on User and Group subjects, as upstream defaults them', () => {
    const group = 'rbac.authorization.k8s.io';
    const binding = applyDefaults({
      apiVersion: `${group}/v1`,
      kind: 'RoleBinding',
      metadata: { name: 'b', namespace: 'n' },
      roleRef: { kind: 'Role', name: 'r' },
      subjects: [
        { kind: 'User', name: 'alice' },
        { kind: 'Group', name: 'devs', apiGroup: 'example.com' },
        { kind: 'ServiceAccount', name: 'ci' },
        null,
      ],
    } as KubernetesObject);
    expect(binding.roleRef).toEqual({ kind: 'Role', name: 'r', apiGroup: group });
    expect(binding.subjects).toEqual([
      { kind: 'User', name: 'alice', apiGroup: group },
      { kind: 'Group', name: 'devs', apiGroup: 'example.com' },
      { kind: 'ServiceAccount', name: 'ci' },
      null,
    ]);
    const unreadable = {
      apiVersion: `${group}/v1`,
      kind: 'ClusterRoleBinding',
      metadata: { name: 'c' },
      roleRef: 'x',
    };
    expect(applyDefaults(unreadable as KubernetesObject)).toEqual(unreadable);
  });
});
