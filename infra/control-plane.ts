import { type CfnElement, Stack } from 'aws-cdk-lib';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { ISecret } from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { env } from '../functions/runtime/config.js';
import { ApiServer } from './apiserver.js';
import { ControlFunction } from './control-function.js';
import { acknowledgeWildcard, nodeQueuesArn } from './nag.js';
import type { ClusterNetwork } from './network.js';
import { functionTriggers } from './stream-filters.js';
import { clusterCidr, type Workers } from './workers.js';

export interface ControlPlaneProps {
  table: ITable;
  adminToken: ISecret;
  workerToken: ISecret;
  serviceAccountSigning: ISecret;
  clusterName: string;
}

/** The longest node-queue prefix kept: node queue names (at most 80 characters) need the rest. */
const maxPrefix = 40;

/**
 * The control plane: the API server and, for each control function of `functions/registry.ts`, its
 * function, retry queue, dead-letter queue and triggers.
 */
export class ControlPlane extends Construct {
  readonly apiServer: ApiServer;
  readonly controlFunctions: Map<string, ControlFunction>;
  /** Node queues are named `<prefix>node-<node>` (`shared/queues/node-queue.ts`). */
  readonly nodeQueuePrefix: string;

  constructor(scope: Construct, id: string, props: ControlPlaneProps) {
    super(scope, id);
    const stack = Stack.of(this);
    this.nodeQueuePrefix = `${stack.stackName.slice(0, maxPrefix - 1)}-`;
    this.apiServer = new ApiServer(this, 'ApiServer', props);

    this.controlFunctions = new Map();
    for (const [name, { resources, resyncs }] of functionTriggers()) {
      const notifier = name === 'notifier';
      const fn = new ControlFunction(this, capitalized(name), {
        name,
        table: props.table,
        resources,
        resyncs,
        // The notifier only reads (pods, nodes) and writes to node queues.
        writes: !notifier,
        ...(notifier
          ? {
              environment: {
                [env.nodeQueuePrefix]: this.nodeQueuePrefix,
                [env.instanceArnPrefix]: stack.formatArn({
                  service: 'ec2',
                  resource: 'instance',
                  resourceName: '',
                }),
              },
            }
          : {}),
      });
      if (notifier) this.grantNodeQueues(fn);
      this.controlFunctions.set(name, fn);
    }
  }

  /**
   * The cloud controller's settings and permissions over the workers: the group's size and instances,
   * the VPC's route tables, instances' source/destination check.
   */
  manageWorkers(workers: Workers, network: ClusterNetwork): void {
    const cloud = this.controlFunctions.get('cloud');
    if (!cloud) throw new Error('no cloud control function');
    const stack = Stack.of(this);
    const settings = {
      [env.workerGroup]: workers.group.autoScalingGroupName,
      [env.workerInstanceType]: workers.instanceType,
      [env.clusterCidr]: clusterCidr,
      [env.vpcId]: network.vpc.vpcId,
    };
    for (const [name, value] of Object.entries(settings)) cloud.fn.addEnvironment(name, value);
    const grant = (actions: string[], resources: string[], conditions?: Record<string, unknown>) =>
      cloud.fn.addToRolePolicy(
        new PolicyStatement({ actions, resources, ...(conditions ? { conditions } : {}) }),
      );
    // Describe calls support no resource-level permissions.
    grant(
      [
        'autoscaling:DescribeAutoScalingGroups',
        'ec2:DescribeInstances',
        'ec2:DescribeInstanceTypes',
        'ec2:DescribeRouteTables',
      ],
      ['*'],
    );
    grant(
      ['autoscaling:SetDesiredCapacity', 'autoscaling:TerminateInstanceInAutoScalingGroup'],
      [workers.group.autoScalingGroupArn],
    );
    grant(
      ['ec2:CreateRoute', 'ec2:ReplaceRoute', 'ec2:DeleteRoute'],
      [stack.formatArn({ service: 'ec2', resource: 'route-table', resourceName: '*' })],
      {
        ArnEquals: {
          'ec2:Vpc': stack.formatArn({ service: 'ec2', resource: 'vpc', resourceName: network.vpc.vpcId }),
        },
      },
    );
    grant(
      ['ec2:ModifyInstanceAttribute'],
      [stack.formatArn({ service: 'ec2', resource: 'instance', resourceName: '*' })],
      { StringEquals: { 'aws:ResourceTag/aws:autoscaling:groupName': workers.group.autoScalingGroupName } },
    );
    const groupId = stack.getLogicalId(workers.group.node.defaultChild as CfnElement);
    const ec2Arn = 'arn:<AWS::Partition>:ec2:<AWS::Region>:<AWS::AccountId>';
    for (const [resource, reason] of [
      [
        '*',
        'Describe calls (Auto Scaling groups, instances, instance types, route tables) and ' +
          'dynamodb:ListStreams support no resource-level permissions; they read, and change nothing.',
      ],
      [
        `arn:<AWS::Partition>:autoscaling:<AWS::Region>:<AWS::AccountId>:autoScalingGroup:*:autoScalingGroupName/<${groupId}>`,
        "The group's ARN as Auto Scaling gives it: the * is the group's generated id.",
      ],
      [
        `${ec2Arn}:route-table/*`,
        "Route tables are narrowed by the condition to the cluster VPC's own (ec2:Vpc).",
      ],
      [
        `${ec2Arn}:instance/*`,
        "Instances are launched at run time; the condition narrows the grant to the worker group's " +
          '(tagged aws:autoscaling:groupName by Auto Scaling).',
      ],
    ] as const)
      acknowledgeWildcard(cloud.role, resource, reason);
  }

  /** The notifier makes, feeds and removes the node queues: those under the prefix, and no others. */
  private grantNodeQueues(notifier: ControlFunction): void {
    const nodeQueues = nodeQueuesArn(this, this.nodeQueuePrefix);
    notifier.fn.addToRolePolicy(
      new PolicyStatement({
        actions: [
          'sqs:CreateQueue',
          'sqs:TagQueue',
          'sqs:DeleteQueue',
          'sqs:GetQueueUrl',
          'sqs:GetQueueAttributes',
          'sqs:SendMessage',
        ],
        resources: [nodeQueues.arn],
      }),
    );
    // ListQueues takes no resource (IAM allows it only on `*`); it returns names, and the notifier
    // asks only for its prefix.
    notifier.fn.addToRolePolicy(new PolicyStatement({ actions: ['sqs:ListQueues'], resources: ['*'] }));
    acknowledgeWildcard(
      notifier.role,
      '*',
      'sqs:ListQueues supports no resource-level permissions (IAM allows it only on *); it returns ' +
        'queue URLs, no messages, and the notifier lists only its prefix. (dynamodb:ListStreams likewise.)',
    );
    acknowledgeWildcard(
      notifier.role,
      nodeQueues.finding,
      'Node queues are created at run time, one per Node, so their names are not known at deploy ' +
        "time; the pattern is limited to this stack's node-queue prefix (shared/queues/node-queue.ts).",
    );
  }
}

const capitalized = (name: string) => `${name.charAt(0).toUpperCase()}${name.slice(1)}`;
