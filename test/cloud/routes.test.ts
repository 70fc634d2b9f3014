import { describe, expect, it } from 'vitest';
import { nodeInstanceIds, nodesOfGoneInstances } from '../../functions/cloud/instances.js';
import { instanceIdOf } from '../../functions/cloud/provider-id.js';
import { cidrContains, planRoutes, type RouteTable } from '../../functions/cloud/routes.js';
import { worker } from './fixtures.js';

const clusterCidr = '10.244.0.0/16';
const local = { destinationCidrBlock: '10.0.0.0/16', state: 'active' };
const internet = { destinationCidrBlock: '0.0.0.0/0', state: 'active' };

describe('provider ids', () => {
  it('reads the instance id from aws:///<az>/<id>', () => {
    expect(instanceIdOf(worker('a', 'i-0abc123'))).toBe('i-0abc123');
  });
  it('knows nothing of other providers', () => {
    expect(
      instanceIdOf({ metadata: { name: 'k' }, spec: { providerID: 'kind://docker/k/k' } }),
    ).toBeUndefined();
    expect(instanceIdOf({ metadata: { name: 'k' } })).toBeUndefined();
  });
});

describe('CIDR ownership', () => {
  it('a route is ours when its destination lies in the cluster CIDR', () => {
    expect(cidrContains(clusterCidr, '10.244.3.0/24')).toBe(true);
    expect(cidrContains(clusterCidr, '10.245.3.0/24')).toBe(false);
    expect(cidrContains(clusterCidr, '10.0.0.0/8')).toBe(false);
    expect(cidrContains(clusterCidr, 'fd00::/64')).toBe(false);
  });
});

describe('route plan', () => {
  const nodes = [
    worker('a', 'i-a', { podCIDR: '10.244.1.0/24' }),
    worker('b', 'i-b', { podCIDR: '10.244.2.0/24' }),
    worker('no-cidr', 'i-c'),
  ];
  const none = new Map<string, boolean>();

  it('creates a route for each node in each table', () => {
    const tables: RouteTable[] = [
      { routeTableId: 'rtb-1', routes: [local, internet] },
      { routeTableId: 'rtb-2', routes: [local] },
    ];
    const plan = planRoutes({ nodes, routeTables: tables, clusterCidr, sourceDestCheck: none });
    expect(plan.create).toEqual([
      { routeTableId: 'rtb-1', cidr: '10.244.1.0/24', instanceId: 'i-a' },
      { routeTableId: 'rtb-1', cidr: '10.244.2.0/24', instanceId: 'i-b' },
      { routeTableId: 'rtb-2', cidr: '10.244.1.0/24', instanceId: 'i-a' },
      { routeTableId: 'rtb-2', cidr: '10.244.2.0/24', instanceId: 'i-b' },
    ]);
    expect(plan.replace).toEqual([]);
    expect(plan.delete).toEqual([]);
  });

  it('does nothing when the routes are right', () => {
    const tables = [
      {
        routeTableId: 'rtb-1',
        routes: [
          local,
          { destinationCidrBlock: '10.244.1.0/24', instanceId: 'i-a', state: 'active' },
          { destinationCidrBlock: '10.244.2.0/24', instanceId: 'i-b', state: 'active' },
        ],
      },
    ];
    expect(planRoutes({ nodes, routeTables: tables, clusterCidr, sourceDestCheck: none })).toEqual({
      create: [],
      replace: [],
      delete: [],
      disableSourceDestCheck: [],
    });
  });

  it('replaces a route whose CIDR now belongs to another instance', () => {
    const tables = [
      {
        routeTableId: 'rtb-1',
        routes: [
          { destinationCidrBlock: '10.244.1.0/24', instanceId: 'i-old', state: 'blackhole' },
          { destinationCidrBlock: '10.244.2.0/24', instanceId: 'i-b', state: 'active' },
        ],
      },
    ];
    const plan = planRoutes({ nodes, routeTables: tables, clusterCidr, sourceDestCheck: none });
    expect(plan.replace).toEqual([{ routeTableId: 'rtb-1', cidr: '10.244.1.0/24', instanceId: 'i-a' }]);
    expect(plan.create).toEqual([]);
  });

  it('deletes routes of gone nodes inside the cluster CIDR only', () => {
    const tables = [
      {
        routeTableId: 'rtb-1',
        routes: [
          local,
          internet,
          { destinationCidrBlock: '10.244.1.0/24', instanceId: 'i-a', state: 'active' },
          { destinationCidrBlock: '10.244.2.0/24', instanceId: 'i-b', state: 'active' },
          { destinationCidrBlock: '10.244.9.0/24', instanceId: 'i-gone', state: 'blackhole' },
          { destinationCidrBlock: '192.168.5.0/24', instanceId: 'i-vpn', state: 'active' },
        ],
      },
    ];
    const plan = planRoutes({ nodes, routeTables: tables, clusterCidr, sourceDestCheck: none });
    expect(plan.delete).toEqual([{ routeTableId: 'rtb-1', cidr: '10.244.9.0/24' }]);
  });

  it('gives a CIDR two nodes claim to the older node', () => {
    const twins = [
      {
        ...worker('new', 'i-new', { podCIDR: '10.244.1.0/24' }),
        metadata: { name: 'new', creationTimestamp: '2026-11-22T10:05:00Z' },
      },
      worker('a', 'i-a', { podCIDR: '10.244.1.0/24' }),
    ];
    const plan = planRoutes({
      nodes: twins,
      routeTables: [{ routeTableId: 'rtb-1', routes: [] }],
      clusterCidr,
      sourceDestCheck: none,
    });
    expect(plan.create).toEqual([{ routeTableId: 'rtb-1', cidr: '10.244.1.0/24', instanceId: 'i-a' }]);
  });

  it('turns off source/destination check where it is on', () => {
    const checks = new Map([
      ['i-a', true],
      ['i-b', false],
      ['i-c', true],
    ]);
    const plan = planRoutes({ nodes, routeTables: [], clusterCidr, sourceDestCheck: checks });
    // i-c has no pod CIDR, so it forwards nothing.
    expect(plan.disableSourceDestCheck).toEqual(['i-a']);
  });
});

describe('nodes of gone instances', () => {
  const nodes = [
    worker('a', 'i-a'),
    worker('b', 'i-b'),
    worker('c', 'i-c'),
    worker('d', 'i-d'),
    { metadata: { name: 'local' } },
  ];
  it('lists each instance once', () => {
    expect(nodeInstanceIds([...nodes, worker('a2', 'i-a')])).toEqual(['i-a', 'i-b', 'i-c', 'i-d']);
  });
  it('deletes nodes whose instance is terminated or unknown, not stopped or non-EC2 ones', () => {
    const instances = [
      { instanceId: 'i-a', state: 'running' },
      { instanceId: 'i-b', state: 'terminated' },
      { instanceId: 'i-c', state: 'stopped' },
    ];
    expect(nodesOfGoneInstances(nodes, instances).map((n) => n.metadata.name)).toEqual(['b', 'd']);
  });
});
