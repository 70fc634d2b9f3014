import { Duration } from 'aws-cdk-lib';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';

/** Receives before a message that cannot be handled at all (not a work item) goes to the dead letters. */
const maxReceiveCount = 5;

/**
 * A control function's retry queue and its dead-letter queue (ADR 0003). The dead-letter queue takes
 * three kinds of message, all for an operator: retry messages that could not be handled (redrive),
 * keys the runtime gave up on after 12 failures (`LAMBERNETES_DEAD_LETTER_QUEUE_URL`), and the
 * descriptions of stream batches that failed every retry (the stream mapping's on-failure destination).
 */
export class RetryQueues extends Construct {
  readonly queue: Queue;
  readonly deadLetterQueue: Queue;

  /** `visibilityTimeout` must be at least the consuming function's timeout (AWS advises six times). */
  constructor(scope: Construct, id: string, props: { visibilityTimeout: Duration }) {
    super(scope, id);
    this.deadLetterQueue = new Queue(this, 'DeadLetters', {
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    this.queue = new Queue(this, 'Retries', {
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      visibilityTimeout: props.visibilityTimeout,
      // A retry is at most 15 minutes away (longer ones are re-delayed), so a day is plenty.
      retentionPeriod: Duration.days(1),
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount },
    });
  }
}
