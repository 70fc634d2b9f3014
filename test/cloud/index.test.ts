/**
 * One pass of the cloud controller against a real local API server (no control plane running) and
 * mocked AWS clients: aws-sdk-client-mock stands in for EC2 and Auto Scaling because no EC2 exists
 * here. The tests assert the exact commands the pass sends and what it writes to the API.
 */
import {
  AutoScalingClient,
  DescribeAutoScalingGroupsCommand,
  SetDesiredCapacityCommand,
  TerminateInstanceInAutoScalingGroupCommand,
} from '@aws-sdk/client-auto-scaling';
import {
  CreateRouteCommand,
  DeleteRouteCommand,
  DescribeInstancesCommand,
  DescribeInstanceTypesCommand,
  DescribeRouteTablesCommand,
  EC2Client,
  ModifyInstanceAttributeCommand,
  ReplaceRouteCommand,
} from '@aws-sdk/client-ec2';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Ec2Cloud } from '../../functions/cloud/ec2.js';
import { type CloudControllerConfig, reconcileCloud } from '../../functions/cloud/index.js';
import { emptySinceAnnotation, scaleDownAnnotation } from '../../functions/cloud/scaling.js';
import type { ControllerContext } from '../../functions/runtime/controller.js';
import type { Node, Pod } from '../../shared/api/core.js';
import { resourceType } from '../../shared/api/resources.js';
import { eventRecorder } from '../../shared/client/events.js';
import { startTestCluster, type TestCluster } from '../support/cluster.js';
import { pod, worker } from './fixtures.js';

const nodes = resourceType('nodes');
const pods = resourceType('pods');
const ec2 = mockClient(EC2Client);
const autoScaling = mockClient(AutoScalingClient);

const config: CloudControllerConfig = {
  groupName: 'workers',
  clusterCidr: '10.244.0.0/16',
  routeTables: { vpcId: 'vpc-1' },
  template: { allocatable: { cpu: '1930m', memory: '7Gi', pods: '29' } },
  scaleDownAfterMs: 10 * 60_000,
};
const now = new Date('2026-11-22T11:00:00Z');

let cluster: TestCluster;
let ctx: ControllerContext;

beforeEach(async () => {
  cluster = await startTestCluster({ controlPlane: false });
  const clock = () => now;
  ctx = {
    client: cluster.client,
    events: eventRecorder(cluster.client, 'cloud-controller', clock, () => {}),
    now: clock,
  };
});
afterEach(async () => {
  await ctx.events.flush();
  await cluster?.stop();
  ec2.reset();
  autoScaling.reset();
});

async function addNode(node: Node): Promise<void> {
  const created = await cluster.client.create<Node>(nodes, node);
  await cluster.client.update<Node>(nodes, { ...created, status: node.status }, 'status');
}

async function addPod(template: Pod): Promise<void> {
  const created = await cluster.client.create<Pod>(pods, template);
  if (template.status?.conditions)
    await cluster.client.update<Pod>(pods, { ...created, status: template.status }, 'status');
}

interface AwsState {
  instances: { id: string; state: string; check?: boolean }[];
  routes: { cidr: string; instanceId?: string }[];
  group: { min: number; max: number; desired: number; members: [string, string][] };
}

/** Two running workers, both in service, in a group of 1 to 5: where most passes start. */
const twoWorkers: AwsState = {
  instances: [
    { id: 'i-a', state: 'running' },
    { id: 'i-b', state: 'running' },
  ],
  routes: [],
  group: {
    min: 1,
    max: 5,
    desired: 2,
    members: [
      ['i-a', 'InService'],
      ['i-b', 'InService'],
    ],
  },
};

function aws(state: AwsState) {
  ec2.on(DescribeInstancesCommand).resolves({
    Reservations: [
      {
        Instances: state.instances.map((i) => ({
          InstanceId: i.id,
          State: { Name: i.state as 'running' },
          SourceDestCheck: i.check ?? false,
        })),
      },
    ],
  });
  ec2.on(DescribeRouteTablesCommand).resolves({
    RouteTables: [
      {
        RouteTableId: 'rtb-1',
        Routes: [
          { DestinationCidrBlock: '10.0.0.0/16', GatewayId: 'local', State: 'active' },
          ...state.routes.map((r) => ({
            DestinationCidrBlock: r.cidr,
            ...(r.instanceId ? { InstanceId: r.instanceId } : {}),
            State: 'active' as const,
          })),
        ],
      },
    ],
  });
  ec2.on(CreateRouteCommand).resolves({ Return: true });
  ec2.on(ReplaceRouteCommand).resolves({});
  ec2.on(DeleteRouteCommand).resolves({});
  ec2.on(ModifyInstanceAttributeCommand).resolves({});
  autoScaling.on(DescribeAutoScalingGroupsCommand).resolves({
    AutoScalingGroups: [
      {
        AutoScalingGroupName: 'workers',
        MinSize: state.group.min,
        MaxSize: state.group.max,
        DesiredCapacity: state.group.desired,
        DefaultCooldown: 300,
        AvailabilityZones: ['eu-west-1a'],
        HealthCheckType: 'EC2',
        CreatedTime: now,
        Instances: state.group.members.map(([InstanceId, LifecycleState]) => ({
          InstanceId,
          LifecycleState: LifecycleState as 'InService',
          AvailabilityZone: 'eu-west-1a',
          HealthStatus: 'Healthy',
          ProtectedFromScaleIn: false,
        })),
      },
    ],
  });
  autoScaling.on(SetDesiredCapacityCommand).resolves({});
  autoScaling.on(TerminateInstanceInAutoScalingGroupCommand).resolves({});
}

const cloud = () =>
  new Ec2Cloud(new EC2Client({ region: 'eu-west-1' }), new AutoScalingClient({ region: 'eu-west-1' }));
const inputs = (mock: typeof ec2 | typeof autoScaling, command: unknown) =>
  // biome-ignore lint/suspicious/noExplicitAny: the mock's command type is a union of every command
  mock.commandCalls(command as any).map((call) => call.args[0].input);

describe('cloud controller pass', () => {
  it('routes a new node, turns off its source/destination check and scales up for unschedulable pods', async () => {
    await addNode(worker('node-a', 'i-a', { podCIDR: '10.244.1.0/24' }));
    await addPod(pod('big-1', { cpu: '1500m', unschedulable: true }));
    await addPod(pod('big-2', { cpu: '1500m', unschedulable: true }));
    // 1 of node-a's 1.93 CPU taken: neither 1.5 CPU pod fits there, each needs a node of its own.
    await addPod(pod('web', { cpu: '1', nodeName: 'node-a' }));
    aws({
      instances: [{ id: 'i-a', state: 'running', check: true }],
      routes: [],
      group: { min: 1, max: 5, desired: 1, members: [['i-a', 'InService']] },
    });

    const report = await reconcileCloud(ctx, cloud(), config);

    expect(inputs(ec2, DescribeInstancesCommand)).toEqual([
      { Filters: [{ Name: 'instance-id', Values: ['i-a'] }], NextToken: undefined },
    ]);
    expect(inputs(ec2, ModifyInstanceAttributeCommand)).toEqual([
      { InstanceId: 'i-a', SourceDestCheck: { Value: false } },
    ]);
    expect(inputs(ec2, CreateRouteCommand)).toEqual([
      { RouteTableId: 'rtb-1', DestinationCidrBlock: '10.244.1.0/24', InstanceId: 'i-a' },
    ]);
    expect(inputs(autoScaling, SetDesiredCapacityCommand)).toEqual([
      { AutoScalingGroupName: 'workers', DesiredCapacity: 3, HonorCooldown: false },
    ]);
    expect(inputs(autoScaling, TerminateInstanceInAutoScalingGroupCommand)).toEqual([]);
    expect(report.desiredCapacity).toBe(3);
  });

  it('deletes the Node of a terminated instance and its route, and replaces a moved route', async () => {
    await addNode(worker('node-a', 'i-a', { podCIDR: '10.244.1.0/24' }));
    await addNode(worker('node-b', 'i-b', { podCIDR: '10.244.2.0/24' }));
    await addPod(pod('web', { nodeName: 'node-a' }));
    aws({
      instances: [
        { id: 'i-a', state: 'running' },
        { id: 'i-b', state: 'terminated' },
      ],
      routes: [
        { cidr: '10.244.1.0/24', instanceId: 'i-old' },
        { cidr: '10.244.2.0/24', instanceId: 'i-b' },
      ],
      group: { min: 1, max: 5, desired: 1, members: [['i-a', 'InService']] },
    });

    const report = await reconcileCloud(ctx, cloud(), config);

    expect(report.deletedNodes).toEqual(['node-b']);
    expect(await cluster.client.find(nodes, undefined, 'node-b')).toBeUndefined();
    expect(inputs(ec2, ReplaceRouteCommand)).toEqual([
      { RouteTableId: 'rtb-1', DestinationCidrBlock: '10.244.1.0/24', InstanceId: 'i-a' },
    ]);
    expect(inputs(ec2, DeleteRouteCommand)).toEqual([
      { RouteTableId: 'rtb-1', DestinationCidrBlock: '10.244.2.0/24' },
    ]);
    expect(inputs(ec2, CreateRouteCommand)).toEqual([]);
    expect(inputs(autoScaling, SetDesiredCapacityCommand)).toEqual([]);
  });

  it('stamps a node empty of all but DaemonSet pods, and leaves it while it has not been empty long', async () => {
    await addNode(worker('node-a', 'i-a'));
    await addNode(worker('node-b', 'i-b'));
    await addPod(pod('web', { nodeName: 'node-a' }));
    await addPod(pod('logs', { nodeName: 'node-b', daemonSet: true }));
    aws(twoWorkers);

    await reconcileCloud(ctx, cloud(), config);
    await reconcileCloud(ctx, cloud(), config);

    const b = await cluster.client.get<Node>(nodes, undefined, 'node-b');
    expect(b.metadata.annotations?.[emptySinceAnnotation]).toBe('2026-11-22T11:00:00Z');
    expect(b.spec?.unschedulable).toBeFalsy();
    const a = await cluster.client.get<Node>(nodes, undefined, 'node-a');
    expect(a.metadata.annotations?.[emptySinceAnnotation]).toBeUndefined();
    expect(inputs(autoScaling, TerminateInstanceInAutoScalingGroupCommand)).toEqual([]);
  });

  it('cordons a node empty long enough and terminates its instance with a decrement, once', async () => {
    await addNode(worker('node-a', 'i-a'));
    await addNode(
      worker('node-b', 'i-b', { annotations: { [emptySinceAnnotation]: '2026-11-22T10:40:00Z' } }),
    );
    await addPod(pod('web', { nodeName: 'node-a' }));
    await addPod(pod('logs', { nodeName: 'node-b', daemonSet: true }));
    aws(twoWorkers);

    const report = await reconcileCloud(ctx, cloud(), config);

    expect(report).toMatchObject({ cordoned: 'node-b', evicted: [], terminated: 'i-b' });
    const b = await cluster.client.get<Node>(nodes, undefined, 'node-b');
    expect(b.spec?.unschedulable).toBe(true);
    expect(b.metadata.annotations?.[scaleDownAnnotation]).toBe('2026-11-22T11:00:00Z');
    expect(inputs(autoScaling, TerminateInstanceInAutoScalingGroupCommand)).toEqual([
      { InstanceId: 'i-b', ShouldDecrementDesiredCapacity: true },
    ]);

    // The next pass sees the instance Terminating: nothing more to do for it.
    autoScaling.reset();
    aws({
      instances: [
        { id: 'i-a', state: 'running' },
        { id: 'i-b', state: 'shutting-down' },
      ],
      routes: [],
      group: {
        ...twoWorkers.group,
        desired: 1,
        members: [
          ['i-a', 'InService'],
          ['i-b', 'Terminating'],
        ],
      },
    });
    await reconcileCloud(ctx, cloud(), config);
    expect(inputs(autoScaling, TerminateInstanceInAutoScalingGroupCommand)).toEqual([]);
  });

  it('evicts a pod that landed on a node being removed, and waits for it before terminating', async () => {
    await addNode(
      worker('node-b', 'i-b', {
        unschedulable: true,
        annotations: { [scaleDownAnnotation]: '2026-11-22T10:58:00Z' },
      }),
    );
    await addNode(worker('node-a', 'i-a'));
    await addPod(pod('web', { nodeName: 'node-a' }));
    await addPod(pod('late', { nodeName: 'node-b' }));
    aws(twoWorkers);

    const report = await reconcileCloud(ctx, cloud(), config);

    expect(report.cordoned).toBeUndefined();
    expect(report.evicted).toEqual(['default/late']);
    expect(report.terminated).toBeUndefined();
    expect(inputs(autoScaling, TerminateInstanceInAutoScalingGroupCommand)).toEqual([]);
    const late = await cluster.client.find<Pod>(pods, 'default', 'late');
    // Evicted: gone, or marked for deletion while its (absent) kubelet would stop it.
    expect(late === undefined || late.metadata.deletionTimestamp !== undefined).toBe(true);
    if (late)
      expect(late.status?.conditions?.find((c) => c.type === 'DisruptionTarget')?.status).toBe('True');
  });
});

describe('cloud controller pass with pods no node could take', () => {
  it('neither scales up for them nor keeps empty nodes for them', async () => {
    await addNode(worker('node-a', 'i-a'));
    await addNode(
      worker('node-b', 'i-b', { annotations: { [emptySinceAnnotation]: '2026-11-22T10:40:00Z' } }),
    );
    await addPod(pod('web', { nodeName: 'node-a' }));
    await addPod(pod('huge', { cpu: '64', unschedulable: true }));
    aws(twoWorkers);

    const report = await reconcileCloud(ctx, cloud(), config);

    expect(inputs(autoScaling, SetDesiredCapacityCommand)).toEqual([]);
    expect(report.terminated).toBe('i-b');
  });
});

describe('cloud controller pass with no worker registered (scale-up from zero)', () => {
  it('sizes new nodes by the instance type as EC2 describes it', async () => {
    // A t4g.small: 2 vCPU, 2 GiB; after the agent's reservations about 1.5 GiB are allocatable.
    ec2.on(DescribeInstanceTypesCommand).resolves({
      InstanceTypes: [
        {
          InstanceType: 't4g.small',
          VCpuInfo: { DefaultVCpus: 2 },
          MemoryInfo: { SizeInMiB: 2048 },
          ProcessorInfo: { SupportedArchitectures: ['arm64'] },
        },
      ],
    });
    await addPod(pod('small-1', { cpu: '1', unschedulable: true }));
    await addPod(pod('small-2', { cpu: '500m', unschedulable: true }));
    await addPod(pod('small-3', { cpu: '1', unschedulable: true }));
    aws({ instances: [], routes: [], group: { min: 0, max: 5, desired: 0, members: [] } });
    const { template: _, ...byType } = config;

    const report = await reconcileCloud(ctx, cloud(), { ...byType, instanceType: 't4g.small' });

    expect(inputs(ec2, DescribeInstanceTypesCommand)).toEqual([{ InstanceTypes: ['t4g.small'] }]);
    // 1.9 CPU per node: 1 + 0.5 on one, 1 on another.
    expect(inputs(autoScaling, SetDesiredCapacityCommand)).toEqual([
      { AutoScalingGroupName: 'workers', DesiredCapacity: 2, HonorCooldown: false },
    ]);
    expect(report.desiredCapacity).toBe(2);
  });

  it('does not scale up when the instance type is unknown to EC2', async () => {
    ec2
      .on(DescribeInstanceTypesCommand)
      .rejects(Object.assign(new Error('no'), { name: 'InvalidInstanceType' }));
    await addPod(pod('small', { cpu: '1', unschedulable: true }));
    aws({ instances: [], routes: [], group: { min: 0, max: 5, desired: 0, members: [] } });
    const { template: _, ...byType } = config;

    const report = await reconcileCloud(ctx, cloud(), { ...byType, instanceType: 't9.nothing' });

    expect(inputs(autoScaling, SetDesiredCapacityCommand)).toEqual([]);
    expect(report.desiredCapacity).toBeUndefined();
  });
});
