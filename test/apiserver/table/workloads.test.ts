import { describe, expect, it } from 'vitest';
import type { KubernetesObject } from '../../../shared/api/types.js';
import { ago, cells, headers, narrowCells } from './helpers.js';

const template = {
  metadata: { labels: { app: 'web' } },
  spec: {
    containers: [
      { name: 'app', image: 'nginx:1.27' },
      { name: 'proxy', image: 'envoy:1.30' },
    ],
  },
};

function workload(
  kind: string,
  spec: Record<string, unknown>,
  status: Record<string, unknown> = {},
  metadata = {},
) {
  const apiVersion = kind === 'Job' ? 'batch/v1' : 'apps/v1';
  return {
    apiVersion,
    kind,
    metadata: { name: 'web', namespace: 'default', creationTimestamp: ago(7200), ...metadata },
    spec: { template, ...spec },
    status,
  } as KubernetesObject;
}

describe('deployments', () => {
  it('print NAME READY UP-TO-DATE AVAILABLE AGE, and CONTAINERS IMAGES SELECTOR with -o wide', () => {
    expect(headers('deployments.apps')).toEqual({
      narrow: ['Name', 'Ready', 'Up-to-date', 'Available', 'Age'],
      wide: ['Containers', 'Images', 'Selector'],
    });
    const d = workload(
      'Deployment',
      { replicas: 3, selector: { matchLabels: { app: 'web' } } },
      { replicas: 3, updatedReplicas: 3, readyReplicas: 2, availableReplicas: 2 },
    );
    expect(cells('deployments.apps', d)).toEqual([
      'web',
      '2/3',
      3,
      2,
      '120m',
      'app,proxy',
      'nginx:1.27,envoy:1.30',
      'app=web',
    ]);
  });

  it('default unset replicas to 1 and print an empty selector as empty, an invalid one as <invalid>', () => {
    const d = workload('Deployment', {});
    expect(cells('deployments.apps', d)).toEqual([
      'web',
      '0/1',
      0,
      0,
      '120m',
      'app,proxy',
      'nginx:1.27,envoy:1.30',
      '',
    ]);
    const invalid = workload('Deployment', {
      selector: { matchExpressions: [{ key: 'a', operator: 'Bogus' }] },
    });
    expect(cells('deployments.apps', invalid)[7]).toBe('<invalid>');
  });

  it('print zero replicas as scaled down', () => {
    expect(narrowCells('deployments.apps', workload('Deployment', { replicas: 0 }))[1]).toBe('0/0');
  });
});

describe('replicasets', () => {
  it('print NAME DESIRED CURRENT READY AGE as integers, and CONTAINERS IMAGES SELECTOR with -o wide', () => {
    expect(headers('replicasets.apps')).toEqual({
      narrow: ['Name', 'Desired', 'Current', 'Ready', 'Age'],
      wide: ['Containers', 'Images', 'Selector'],
    });
    const rs = workload(
      'ReplicaSet',
      {
        replicas: 3,
        selector: {
          matchLabels: { app: 'web', 'pod-template-hash': '5d9c' },
          matchExpressions: [{ key: 'env', operator: 'In', values: ['prod', 'canary'] }],
        },
      },
      { replicas: 3, readyReplicas: 1 },
    );
    expect(cells('replicasets.apps', rs)).toEqual([
      'web',
      3,
      3,
      1,
      '120m',
      'app,proxy',
      'nginx:1.27,envoy:1.30',
      'app=web,env in (canary,prod),pod-template-hash=5d9c',
    ]);
  });

  it('print <none> for an empty selector', () => {
    expect(cells('replicasets.apps', workload('ReplicaSet', { replicas: 2 })).slice(1, 2)).toEqual([2]);
    expect(cells('replicasets.apps', workload('ReplicaSet', { selector: {} }))[7]).toBe('<none>');
  });
});

describe('jobs', () => {
  it('print NAME STATUS COMPLETIONS DURATION AGE, and CONTAINERS IMAGES SELECTOR with -o wide', () => {
    expect(headers('jobs.batch')).toEqual({
      narrow: ['Name', 'Status', 'Completions', 'Duration', 'Age'],
      wide: ['Containers', 'Images', 'Selector'],
    });
    const job = workload(
      'Job',
      {
        completions: 3,
        parallelism: 1,
        selector: { matchLabels: { 'batch.kubernetes.io/controller-uid': 'u1' } },
      },
      {
        succeeded: 3,
        startTime: ago(7000),
        completionTime: ago(6800),
        conditions: [
          { type: 'SuccessCriteriaMet', status: 'True' },
          { type: 'Complete', status: 'True' },
        ],
      },
    );
    expect(cells('jobs.batch', job)).toEqual([
      'web',
      'Complete',
      '3/3',
      '3m20s',
      '120m',
      'app,proxy',
      'nginx:1.27,envoy:1.30',
      'batch.kubernetes.io/controller-uid=u1',
    ]);
  });

  it('measure a running job to now and print an unstarted one without duration', () => {
    expect(narrowCells('jobs.batch', workload('Job', { completions: 1 }, { startTime: ago(45) }))).toEqual([
      'web',
      'Running',
      '0/1',
      '45s',
      '120m',
    ]);
    expect(narrowCells('jobs.batch', workload('Job', {}))[3]).toBe('');
  });

  it('print completions as n/1, or n/1 of parallelism, without spec.completions', () => {
    expect(narrowCells('jobs.batch', workload('Job', {}, { succeeded: 0 }))[2]).toBe('0/1');
    expect(narrowCells('jobs.batch', workload('Job', { parallelism: 4 }, { succeeded: 2 }))[2]).toBe(
      '2/1 of 4',
    );
  });

  it('print Failed, Terminating, Suspended and FailureTarget in upstream precedence', () => {
    const status = (...types: string[]) => ({ conditions: types.map((type) => ({ type, status: 'True' })) });
    const deleting = { deletionTimestamp: ago(1) };
    expect(narrowCells('jobs.batch', workload('Job', {}, status('FailureTarget', 'Failed')))[1]).toBe(
      'Failed',
    );
    expect(narrowCells('jobs.batch', workload('Job', {}, status('Suspended'), deleting))[1]).toBe(
      'Terminating',
    );
    expect(narrowCells('jobs.batch', workload('Job', {}, status('Suspended')))[1]).toBe('Suspended');
    expect(narrowCells('jobs.batch', workload('Job', {}, status('FailureTarget')))[1]).toBe('FailureTarget');
    const notComplete = { conditions: [{ type: 'Complete', status: 'False' }] };
    expect(narrowCells('jobs.batch', workload('Job', {}, notComplete))[1]).toBe('Running');
  });
});
