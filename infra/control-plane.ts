import { ArnFormat, Stack, Validations } from 'aws-cdk-lib';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { ISecret } from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { env } from '../functions/runtime/config.js';
import { ApiServer } from './apiserver.js';
import { ControlFunction } from './control-function.js';
import { functionTriggers } from './stream-filters.js';

export interface ControlPlaneProps {
  table: ITable;
  adminToken: ISecret;
  workerToken: ISecret;
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
        ...(notifier ? { environment: { [env.nodeQueuePrefix]: this.nodeQueuePrefix } } : {}),
      });
      if (notifier) this.grantNodeQueues(fn);
      this.controlFunctions.set(name, fn);
    }
  }

  /** The notifier makes, feeds and removes the node queues: those under the prefix, and no others. */
  private grantNodeQueues(notifier: ControlFunction): void {
    const nodeQueues = Stack.of(this).formatArn({
      service: 'sqs',
      resource: `${this.nodeQueuePrefix}node-*`,
      arnFormat: ArnFormat.NO_RESOURCE_NAME,
    });
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
        resources: [nodeQueues],
      }),
    );
    // ListQueues takes no resource (IAM allows it only on `*`); it returns names, and the notifier
    // asks only for its prefix.
    notifier.fn.addToRolePolicy(new PolicyStatement({ actions: ['sqs:ListQueues'], resources: ['*'] }));
    Validations.of(notifier.role).acknowledge({
      id: 'AwsSolutions::AwsSolutions-IAM5[Resource::*]',
      reason:
        'sqs:ListQueues supports no resource-level permissions (IAM allows it only on *); it returns ' +
        'queue URLs, no messages, and the notifier lists only its prefix. (dynamodb:ListStreams likewise.)',
    });
    Validations.of(notifier.role).acknowledge({
      id: `AwsSolutions::AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:sqs:<AWS::Region>:<AWS::AccountId>:${this.nodeQueuePrefix}node-*]`,
      reason:
        'Node queues are created at run time, one per Node, so their names are not known at deploy ' +
        "time; the pattern is limited to this stack's node-queue prefix (shared/queues/node-queue.ts).",
    });
  }
}

const capitalized = (name: string) => `${name.charAt(0).toUpperCase()}${name.slice(1)}`;
