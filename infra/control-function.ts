import { Duration } from 'aws-cdk-lib';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { Rule, RuleTargetInput, Schedule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import type { Role } from 'aws-cdk-lib/aws-iam';
import { StartingPosition } from 'aws-cdk-lib/aws-lambda';
import { DynamoEventSource, SqsDlq, SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import type { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import { Construct } from 'constructs';
import { env } from '../functions/runtime/config.js';
import { batching, sizing } from '../functions/sizing.js';
import { lambernetesFunction } from './functions.js';
import { acknowledgeWildcard } from './nag.js';
import { RetryQueues } from './queues.js';
import { streamFilter } from './stream-filters.js';

/** Stream mapping settings (`batching` in functions/sizing.ts). */
export const streamSettings = {
  batchSize: batching.stream.batchSize,
  maxBatchingWindow: Duration.seconds(batching.stream.windowSeconds),
  /**
   * A batch fails only when the retry queue refuses a message (ADR 0003); retried, halved on error,
   * then described to the dead-letter queue. The periodic resync covers what is lost.
   */
  retryAttempts: 10,
} as const;

export interface ControlFunctionProps {
  /** The name in `controlFunctions` (`functions/registry.ts`); the entry is `functions/<name>/lambda.ts`. */
  name: string;
  table: ITable;
  /** The resources whose changes wake the function (its controllers' triggers). */
  resources: readonly string[];
  /** Resync interval in minutes → the controllers an EventBridge schedule resyncs that often. */
  resyncs: ReadonlyMap<number, readonly string[]>;
  /** Whether the function writes to the table (the notifier only reads). */
  writes: boolean;
  /** Extra settings from `functions/runtime/config.ts` (by its `env` names). */
  environment?: Record<string, string>;
}

/**
 * A stream-driven control function (ADR 0003): woken by the table's stream (filtered to its resources)
 * and by its own retry queue; failures that outlive every retry end in its dead-letter queue.
 */
export class ControlFunction extends Construct {
  readonly fn: NodejsFunction;
  readonly queues: RetryQueues;
  /** The function's role (its policy carries the grants). */
  readonly role: Role;

  constructor(scope: Construct, id: string, props: ControlFunctionProps) {
    super(scope, id);
    const queues = new RetryQueues(this, 'Queues', {
      visibilityTimeout: Duration.seconds(sizing.control.timeoutSeconds * 6),
    });
    const { fn, role } = lambernetesFunction(this, 'Function', {
      entry: `functions/${props.name}/lambda.ts`,
      description: `Lambernetes ${props.name} (table stream, retry queue)`,
      memoryMiB: sizing.control.memoryMiB,
      timeout: Duration.seconds(sizing.control.timeoutSeconds),
      environment: {
        [env.tableName]: props.table.tableName,
        [env.retryQueueUrl]: queues.queue.queueUrl,
        [env.deadLetterQueueUrl]: queues.deadLetterQueue.queueUrl,
        ...props.environment,
      },
    });
    // Controllers write through the in-process API server; the stream read is granted by the mapping.
    if (props.writes) props.table.grantReadWriteData(fn);
    else props.table.grantReadData(fn);
    // The runtime sends retries and gives up on keys by sending them to the dead letters.
    queues.queue.grantSendMessages(fn);
    queues.deadLetterQueue.grantSendMessages(fn);

    fn.addEventSource(
      new DynamoEventSource(props.table, {
        // From the oldest record, as locally (ADR 0003): writes made before the mapping is enabled
        // (the API server's system namespaces) are not missed; replays are harmless.
        startingPosition: StartingPosition.TRIM_HORIZON,
        ...streamSettings,
        bisectBatchOnError: true,
        reportBatchItemFailures: true,
        onFailure: new SqsDlq(queues.deadLetterQueue),
        filters: [streamFilter(props.resources)],
      }),
    );
    fn.addEventSource(
      new SqsEventSource(queues.queue, {
        batchSize: batching.queue.batchSize,
        maxBatchingWindow: Duration.seconds(batching.queue.windowSeconds),
        reportBatchItemFailures: true,
      }),
    );
    // Periodic resyncs (informers' resync, missed-change safety net): one schedule per interval; the
    // handler resyncs the controllers named in `detail`.
    for (const [minutes, controllers] of props.resyncs) {
      new Rule(this, `Resync${minutes}m`, {
        description: `Resync of ${controllers.join(', ')} every ${minutes} min`,
        schedule: Schedule.rate(Duration.minutes(minutes)),
        targets: [
          new LambdaFunction(fn, {
            event: RuleTargetInput.fromObject({
              source: 'lambernetes.resync',
              'detail-type': 'Scheduled resync',
              detail: { controllers },
            }),
          }),
        ],
      });
    }
    acknowledgeWildcard(
      role,
      '*',
      'dynamodb:ListStreams, added by the stream mapping, supports no resource-level permissions ' +
        '(IAM allows it only on *); it lists stream ARNs, no data. The stream reads themselves are ' +
        "granted on this table's stream only.",
    );
    this.fn = fn;
    this.queues = queues;
    this.role = role;
  }
}
