/**
 * On AWS, what a function used in an invocation as CloudWatch metrics (Powertools' embedded metric
 * format, written to the function's log: no API calls). Lambda already publishes invocations and
 * duration itself; these are what it cannot see: DynamoDB requests and units (refused writes apart),
 * SQS requests as billed, and the API's response bytes. Off unless the stack turns it on (context
 * `metrics=true`): each metric is a custom metric CloudWatch bills at $0.30 a month, six in all, as
 * every function publishes under one service name without per-function dimensions.
 */
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { Meter, total, type Usage } from './meter.js';

/** Set (to `on`) by the stack when the functions publish their usage. */
export const metricsEnv = 'LAMBERNETES_METRICS';

/** The metrics an invocation's usage becomes, each a total over every name of its service. */
export function usageMetrics(
  usage: Usage,
): Record<string, { value: number; unit: (typeof MetricUnit)[keyof typeof MetricUnit] }> {
  const count = (value: number) => ({ value, unit: MetricUnit.Count });
  return {
    DynamoDBRequests: count(total(usage, 'dynamodb', 'requests')),
    DynamoDBReadUnits: count(total(usage, 'dynamodb', 'readUnits')),
    DynamoDBWriteUnits: count(total(usage, 'dynamodb', 'writeUnits')),
    DynamoDBRefusedWrites: count(total(usage, 'dynamodb', 'refused')),
    SQSBilledRequests: count(total(usage, 'sqs', 'billedRequests')),
    ApiResponseBytes: { value: total(usage, 'functionUrl', 'responseBytes'), unit: MetricUnit.Bytes },
  };
}

export interface UsagePublisher {
  /** What the function's AWS clients are metered on. */
  meter: Meter;
  /** Publishes what the meter counted since the last call, and starts over. */
  publish(): void;
}

/** A publisher when the stack turned metrics on (`LAMBERNETES_METRICS=on`), else undefined. */
export function usagePublisher(environment: Record<string, string | undefined> = process.env) {
  if (environment[metricsEnv] !== 'on') return undefined;
  const meter = new Meter();
  const metrics = new Metrics({ namespace: 'Lambernetes', serviceName: 'lambernetes' });
  const publisher: UsagePublisher = {
    meter,
    publish() {
      for (const [name, { value, unit }] of Object.entries(usageMetrics(meter.snapshot()))) {
        if (value > 0) metrics.addMetric(name, unit, value);
      }
      meter.reset();
      metrics.publishStoredMetrics();
    },
  };
  return publisher;
}
