/**
 * The EC2 and Auto Scaling I/O. The SDK clients are mocked with aws-sdk-client-mock because no EC2
 * exists here (issue 6: the one place mocks are right); the tests assert the exact commands sent.
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
import { afterEach, describe, expect, it } from 'vitest';
import { Ec2Cloud } from '../../functions/cloud/ec2.js';

const ec2 = mockClient(EC2Client);
const autoScaling = mockClient(AutoScalingClient);
const cloud = () =>
  new Ec2Cloud(new EC2Client({ region: 'eu-west-1' }), new AutoScalingClient({ region: 'eu-west-1' }));

afterEach(() => {
  ec2.reset();
  autoScaling.reset();
});

function awsError(name: string): Error {
  return Object.assign(new Error(name), { name });
}

describe('route tables', () => {
  it('reads every page of the VPC tables, keeping destination, target and state', async () => {
    ec2
      .on(DescribeRouteTablesCommand, { NextToken: undefined })
      .resolves({
        RouteTables: [
          {
            RouteTableId: 'rtb-1',
            Routes: [
              { DestinationCidrBlock: '10.0.0.0/16', GatewayId: 'local', State: 'active' },
              { DestinationCidrBlock: '10.244.1.0/24', InstanceId: 'i-a', State: 'active' },
              { DestinationIpv6CidrBlock: '::/0', GatewayId: 'igw-1' },
            ],
          },
        ],
        NextToken: 'page2',
      })
      .on(DescribeRouteTablesCommand, { NextToken: 'page2' })
      .resolves({ RouteTables: [{ RouteTableId: 'rtb-2', Routes: [] }] });
    expect(await cloud().describeRouteTables({ vpcId: 'vpc-1' })).toEqual([
      {
        routeTableId: 'rtb-1',
        routes: [
          { destinationCidrBlock: '10.0.0.0/16', state: 'active' },
          { destinationCidrBlock: '10.244.1.0/24', instanceId: 'i-a', state: 'active' },
        ],
      },
      { routeTableId: 'rtb-2', routes: [] },
    ]);
    expect(ec2.commandCalls(DescribeRouteTablesCommand).map((c) => c.args[0].input)).toEqual([
      { Filters: [{ Name: 'vpc-id', Values: ['vpc-1'] }], NextToken: undefined },
      { Filters: [{ Name: 'vpc-id', Values: ['vpc-1'] }], NextToken: 'page2' },
    ]);
  });

  it('filters by table ids when given them', async () => {
    ec2.on(DescribeRouteTablesCommand).resolves({ RouteTables: [] });
    await cloud().describeRouteTables({ routeTableIds: ['rtb-1', 'rtb-2'] });
    expect(ec2.commandCalls(DescribeRouteTablesCommand)[0]?.args[0].input).toEqual({
      Filters: [{ Name: 'route-table-id', Values: ['rtb-1', 'rtb-2'] }],
      NextToken: undefined,
    });
  });

  it('creates, replaces and deletes routes to instances', async () => {
    ec2.on(CreateRouteCommand).resolves({ Return: true });
    ec2.on(ReplaceRouteCommand).resolves({});
    ec2.on(DeleteRouteCommand).resolves({});
    const target = { routeTableId: 'rtb-1', cidr: '10.244.1.0/24', instanceId: 'i-a' };
    await cloud().createRoute(target);
    await cloud().replaceRoute(target);
    await cloud().deleteRoute('rtb-1', '10.244.9.0/24');
    const expected = { RouteTableId: 'rtb-1', DestinationCidrBlock: '10.244.1.0/24', InstanceId: 'i-a' };
    expect(ec2.commandCalls(CreateRouteCommand)[0]?.args[0].input).toEqual(expected);
    expect(ec2.commandCalls(ReplaceRouteCommand)[0]?.args[0].input).toEqual(expected);
    expect(ec2.commandCalls(DeleteRouteCommand)[0]?.args[0].input).toEqual({
      RouteTableId: 'rtb-1',
      DestinationCidrBlock: '10.244.9.0/24',
    });
  });

  it('treats RouteAlreadyExists and InvalidRoute.NotFound as done', async () => {
    ec2.on(CreateRouteCommand).rejects(awsError('RouteAlreadyExists'));
    ec2.on(DeleteRouteCommand).rejects(awsError('InvalidRoute.NotFound'));
    await cloud().createRoute({ routeTableId: 'rtb-1', cidr: '10.244.1.0/24', instanceId: 'i-a' });
    await cloud().deleteRoute('rtb-1', '10.244.1.0/24');
  });

  it('lets other errors through', async () => {
    ec2.on(CreateRouteCommand).rejects(awsError('UnauthorizedOperation'));
    await expect(
      cloud().createRoute({ routeTableId: 'rtb-1', cidr: '10.244.1.0/24', instanceId: 'i-a' }),
    ).rejects.toThrow('UnauthorizedOperation');
  });
});

describe('instance types', () => {
  it('describes each instance type once, as types do not change', async () => {
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
    const aws = cloud();
    const expected = { instanceType: 't4g.small', vcpus: 2, memoryMiB: 2048, architectures: ['arm64'] };
    expect(await aws.describeInstanceType('t4g.small')).toEqual(expected);
    expect(await aws.describeInstanceType('t4g.small')).toEqual(expected);
    expect(ec2.commandCalls(DescribeInstanceTypesCommand)).toHaveLength(1);
  });
});

describe('instances', () => {
  it('turns off the source/destination check', async () => {
    ec2.on(ModifyInstanceAttributeCommand).resolves({});
    await cloud().disableSourceDestCheck('i-a');
    expect(ec2.commandCalls(ModifyInstanceAttributeCommand)[0]?.args[0].input).toEqual({
      InstanceId: 'i-a',
      SourceDestCheck: { Value: false },
    });
  });

  it('describes instances by filter, 200 ids at a time, so unknown ids do not fail the call', async () => {
    ec2.on(DescribeInstancesCommand).callsFake((input: { Filters: { Values: string[] }[] }) => ({
      Reservations: [
        {
          Instances: input.Filters[0]?.Values.filter((id) => id !== 'i-gone').map((InstanceId) => ({
            InstanceId,
            State: { Name: InstanceId === 'i-0' ? 'terminated' : 'running' },
            SourceDestCheck: true,
          })),
        },
      ],
    }));
    const ids = [...Array.from({ length: 250 }, (_, i) => `i-${i}`), 'i-gone'];
    const found = await cloud().describeInstances(ids);
    expect(found).toHaveLength(250);
    expect(found[0]).toEqual({ instanceId: 'i-0', state: 'terminated', sourceDestCheck: true });
    expect(
      ec2.commandCalls(DescribeInstancesCommand).map((c) => c.args[0].input.Filters?.[0]?.Values?.length),
    ).toEqual([200, 51]);
  });

  it('sends nothing for no ids', async () => {
    expect(await cloud().describeInstances([])).toEqual([]);
    expect(ec2.calls()).toHaveLength(0);
  });
});

describe('auto scaling group', () => {
  it('reads sizes and instances', async () => {
    autoScaling.on(DescribeAutoScalingGroupsCommand).resolves({
      AutoScalingGroups: [
        {
          AutoScalingGroupName: 'workers',
          MinSize: 1,
          MaxSize: 5,
          DesiredCapacity: 2,
          DefaultCooldown: 300,
          AvailabilityZones: ['eu-west-1a'],
          HealthCheckType: 'EC2',
          CreatedTime: new Date(),
          Instances: [
            {
              InstanceId: 'i-a',
              LifecycleState: 'InService',
              AvailabilityZone: 'eu-west-1a',
              HealthStatus: 'Healthy',
              ProtectedFromScaleIn: false,
            },
          ],
        },
      ],
    });
    expect(await cloud().describeGroup('workers')).toEqual({
      min: 1,
      max: 5,
      desired: 2,
      instances: [{ instanceId: 'i-a', lifecycleState: 'InService' }],
    });
    expect(autoScaling.commandCalls(DescribeAutoScalingGroupsCommand)[0]?.args[0].input).toEqual({
      AutoScalingGroupNames: ['workers'],
    });
  });

  it('fails on a group that does not exist', async () => {
    autoScaling.on(DescribeAutoScalingGroupsCommand).resolves({ AutoScalingGroups: [] });
    await expect(cloud().describeGroup('nope')).rejects.toThrow('nope not found');
  });

  it('sets an absolute desired capacity and terminates with a decrement', async () => {
    autoScaling.on(SetDesiredCapacityCommand).resolves({});
    autoScaling.on(TerminateInstanceInAutoScalingGroupCommand).resolves({});
    await cloud().setDesiredCapacity('workers', 4);
    await cloud().terminateInstance('i-a');
    expect(autoScaling.commandCalls(SetDesiredCapacityCommand)[0]?.args[0].input).toEqual({
      AutoScalingGroupName: 'workers',
      DesiredCapacity: 4,
      HonorCooldown: false,
    });
    expect(autoScaling.commandCalls(TerminateInstanceInAutoScalingGroupCommand)[0]?.args[0].input).toEqual({
      InstanceId: 'i-a',
      ShouldDecrementDesiredCapacity: true,
    });
  });
});

describe('client configuration', () => {
  it('hard-codes no region or endpoint: they come from AWS_REGION and AWS_ENDPOINT_URL', async () => {
    const saved = { region: process.env.AWS_REGION, endpoint: process.env.AWS_ENDPOINT_URL };
    process.env.AWS_REGION = 'ap-southeast-2';
    process.env.AWS_ENDPOINT_URL = 'http://localhost:4566';
    try {
      const { ec2: client, autoScaling: asg } = new Ec2Cloud();
      expect(await client.config.region()).toBe('ap-southeast-2');
      expect(await asg.config.region()).toBe('ap-southeast-2');
      // No endpoint is fixed in the client: the SDK resolves AWS_ENDPOINT_URL on each request.
      expect(client.config.endpoint).toBeUndefined();
      expect(client.config.isCustomEndpoint).toBe(false);
    } finally {
      for (const [key, value] of [
        ['AWS_REGION', saved.region],
        ['AWS_ENDPOINT_URL', saved.endpoint],
      ] as const) {
        if (value === undefined) delete process.env[key];
        else process.env[key] = value;
      }
    }
  });
});
