import { ArnFormat, Stack, Validations } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';

/**
 * Acknowledges cdk-nag's AwsSolutions-IAM5 finding (a wildcard) for one resource pattern of `scope`'s
 * policy, as cdk-nag names it (`*`, or an ARN with `<AWS::Region>`-style placeholders), with the reason.
 */
export function acknowledgeWildcard(scope: IConstruct, resource: string, reason: string): void {
  Validations.of(scope).acknowledge({ id: `AwsSolutions::AwsSolutions-IAM5[Resource::${resource}]`, reason });
}

/** The node queues' names start with `<prefix>node-` (`shared/queues/node-queue.ts`). */
const nodeQueuePattern = (prefix: string) => `${prefix}node-*`;

/** The ARN pattern of every node queue of the stack, and how cdk-nag names it. */
export function nodeQueuesArn(scope: IConstruct, prefix: string): { arn: string; finding: string } {
  return {
    arn: Stack.of(scope).formatArn({
      service: 'sqs',
      resource: nodeQueuePattern(prefix),
      arnFormat: ArnFormat.NO_RESOURCE_NAME,
    }),
    finding: `arn:<AWS::Partition>:sqs:<AWS::Region>:<AWS::AccountId>:${nodeQueuePattern(prefix)}`,
  };
}
