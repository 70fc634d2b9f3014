/**
 * The cloud controller's I/O with EC2 and EC2 Auto Scaling: marshal, send, and turn the errors that
 * mean "already done" into success, so every call is safe to repeat. No decisions here. The clients
 * take their region and endpoint from the environment (AWS_REGION, AWS_ENDPOINT_URL: LocalStack).
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
  type Filter,
  ModifyInstanceAttributeCommand,
  ReplaceRouteCommand,
} from '@aws-sdk/client-ec2';
import type { InstanceInfo } from './instances.js';
import type { RouteTable, RouteTarget } from './routes.js';
import type { GroupState } from './scaling.js';
import type { InstanceTypeInfo } from './template.js';

/** Where the managed route tables are: these ids, or every table of the VPC. */
export type RouteTableScope = { routeTableIds: string[] } | { vpcId: string };

/** EC2 accepts at most 200 values in one filter. */
const filterValuesLimit = 200;

function errorName(error: unknown): string | undefined {
  return (error as { name?: string; Code?: string } | undefined)?.name;
}

export class Ec2Cloud {
  /** Instance types found, by name: they do not change, so each is described once per container. */
  private readonly instanceTypes = new Map<string, InstanceTypeInfo>();

  constructor(
    readonly ec2: EC2Client = new EC2Client({}),
    readonly autoScaling: AutoScalingClient = new AutoScalingClient({}),
  ) {}

  async describeRouteTables(scope: RouteTableScope): Promise<RouteTable[]> {
    const tables: RouteTable[] = [];
    let NextToken: string | undefined;
    do {
      const filter: Filter =
        'vpcId' in scope
          ? { Name: 'vpc-id', Values: [scope.vpcId] }
          : { Name: 'route-table-id', Values: scope.routeTableIds };
      const page = await this.ec2.send(new DescribeRouteTablesCommand({ Filters: [filter], NextToken }));
      for (const table of page.RouteTables ?? []) {
        if (!table.RouteTableId) continue;
        tables.push({
          routeTableId: table.RouteTableId,
          routes: (table.Routes ?? []).flatMap((route) =>
            route.DestinationCidrBlock
              ? [
                  {
                    destinationCidrBlock: route.DestinationCidrBlock,
                    ...(route.InstanceId ? { instanceId: route.InstanceId } : {}),
                    ...(route.State ? { state: route.State } : {}),
                  },
                ]
              : [],
          ),
        });
      }
      NextToken = page.NextToken;
    } while (NextToken);
    return tables;
  }

  /** Creates the route; one that already exists counts as done (the next pass replaces it if it differs). */
  async createRoute({ routeTableId, cidr, instanceId }: RouteTarget): Promise<void> {
    try {
      await this.ec2.send(
        new CreateRouteCommand({
          RouteTableId: routeTableId,
          DestinationCidrBlock: cidr,
          InstanceId: instanceId,
        }),
      );
    } catch (error) {
      if (errorName(error) !== 'RouteAlreadyExists') throw error;
    }
  }

  async replaceRoute({ routeTableId, cidr, instanceId }: RouteTarget): Promise<void> {
    await this.ec2.send(
      new ReplaceRouteCommand({
        RouteTableId: routeTableId,
        DestinationCidrBlock: cidr,
        InstanceId: instanceId,
      }),
    );
  }

  /** Deletes the route; one already gone counts as done. */
  async deleteRoute(routeTableId: string, cidr: string): Promise<void> {
    try {
      await this.ec2.send(new DeleteRouteCommand({ RouteTableId: routeTableId, DestinationCidrBlock: cidr }));
    } catch (error) {
      if (errorName(error) !== 'InvalidRoute.NotFound') throw error;
    }
  }

  async disableSourceDestCheck(instanceId: string): Promise<void> {
    await this.ec2.send(
      new ModifyInstanceAttributeCommand({ InstanceId: instanceId, SourceDestCheck: { Value: false } }),
    );
  }

  /**
   * What EC2 knows of these instances. By an `instance-id` filter rather than InstanceIds, so an id
   * EC2 no longer knows is simply absent instead of failing the whole call.
   */
  async describeInstances(instanceIds: readonly string[]): Promise<InstanceInfo[]> {
    const found: InstanceInfo[] = [];
    for (let start = 0; start < instanceIds.length; start += filterValuesLimit) {
      const Values = instanceIds.slice(start, start + filterValuesLimit);
      let NextToken: string | undefined;
      do {
        const page = await this.ec2.send(
          new DescribeInstancesCommand({ Filters: [{ Name: 'instance-id', Values }], NextToken }),
        );
        for (const instance of (page.Reservations ?? []).flatMap((r) => r.Instances ?? [])) {
          if (!instance.InstanceId) continue;
          found.push({
            instanceId: instance.InstanceId,
            state: instance.State?.Name ?? 'unknown',
            ...(instance.SourceDestCheck !== undefined ? { sourceDestCheck: instance.SourceDestCheck } : {}),
          });
        }
        NextToken = page.NextToken;
      } while (NextToken);
    }
    return found;
  }

  /** The instance type's size; undefined if EC2 does not know it. */
  async describeInstanceType(instanceType: string): Promise<InstanceTypeInfo | undefined> {
    const known = this.instanceTypes.get(instanceType);
    if (known) return known;
    try {
      const answer = await this.ec2.send(
        new DescribeInstanceTypesCommand({ InstanceTypes: [instanceType as never] }),
      );
      const info = answer.InstanceTypes?.[0];
      const vcpus = info?.VCpuInfo?.DefaultVCpus;
      const memoryMiB = info?.MemoryInfo?.SizeInMiB;
      if (!info || vcpus === undefined || memoryMiB === undefined) return undefined;
      const found = {
        instanceType,
        vcpus,
        memoryMiB,
        architectures: info.ProcessorInfo?.SupportedArchitectures ?? [],
      };
      this.instanceTypes.set(instanceType, found);
      return found;
    } catch (error) {
      if (errorName(error) === 'InvalidInstanceType') return undefined;
      throw error;
    }
  }

  async describeGroup(name: string): Promise<GroupState> {
    const answer = await this.autoScaling.send(
      new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [name] }),
    );
    const group = answer.AutoScalingGroups?.[0];
    if (!group) throw new Error(`Auto Scaling group ${name} not found`);
    return {
      min: group.MinSize ?? 0,
      max: group.MaxSize ?? 0,
      desired: group.DesiredCapacity ?? 0,
      instances: (group.Instances ?? []).flatMap((i) =>
        i.InstanceId ? [{ instanceId: i.InstanceId, lifecycleState: i.LifecycleState ?? 'unknown' }] : [],
      ),
    };
  }

  /** An absolute value, so two passes that decide the same thing set the same thing. */
  async setDesiredCapacity(name: string, desired: number): Promise<void> {
    await this.autoScaling.send(
      new SetDesiredCapacityCommand({
        AutoScalingGroupName: name,
        DesiredCapacity: desired,
        HonorCooldown: false,
      }),
    );
  }

  /** Terminates the instance and lowers the desired capacity with it, so no replacement is launched. */
  async terminateInstance(instanceId: string): Promise<void> {
    await this.autoScaling.send(
      new TerminateInstanceInAutoScalingGroupCommand({
        InstanceId: instanceId,
        ShouldDecrementDesiredCapacity: true,
      }),
    );
  }
}
