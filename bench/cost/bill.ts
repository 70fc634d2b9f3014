/**
 * A metered usage snapshot → a monthly bill by AWS service, next to EKS. Pure: the prices come from
 * `prices.json`, the usage from a Meter's snapshot over a window of known length, which is scaled to a
 * month of 730 hours (AWS's own convention).
 */
import { total, type Usage } from '../../shared/metering/meter.js';
import pricesFile from './prices.json' with { type: 'json' };

export type PriceName = keyof typeof pricesFile.prices;
export type Prices = Record<PriceName, number>;

/** The dollar figures of the price table (its sources and dates stay in the file). */
export const prices: Prices = Object.fromEntries(
  Object.entries(pricesFile.prices).map(([name, price]) => [name, price.usd]),
) as Prices;

export const hoursPerMonth = 730;
export const secondsPerMonth = hoursPerMonth * 3600;

/**
 * What the stack has regardless of use: its secrets (admin token, worker token, service-account
 * signing secret) and its retry queues, one per control function, which Lambda's SQS event source
 * long-polls even when they are empty: five pollers, 20 s each (AWS: "scales back to five concurrent
 * batches", at least two), so 15 requests a minute per queue, an upper estimate.
 */
export const stackFixtures = { secrets: 3, eventSourcePollers: 5, longPollSeconds: 20 } as const;

/**
 * CloudWatch Logs bytes Lambda writes per invocation on its own (the JSON platform.start and
 * platform.report lines), an estimate from their documented shape; the functions' own lines (audit
 * events) are metered.
 */
export const platformLogBytesPerInvocation = 500;

export type Service = 'Lambda' | 'DynamoDB' | 'SQS' | 'CloudWatch Logs' | 'Secrets Manager' | 'Data transfer';

export interface BillLine {
  service: Service;
  item: string;
  /** Per month. */
  quantity: number;
  unit: string;
  usd: number;
}

export interface MonthlyBill {
  lines: BillLine[];
  byService: Record<Service, number>;
  total: number;
  /** EKS's control plane for the same month (the workers cost the same either way). */
  eks: { standard: number; extended: number };
}

export interface BillOptions {
  /** Control functions, each with a retry queue Lambda polls. */
  retryQueues: number;
}

/** The month's bill of a cluster that uses what `usage` counted in `windowSeconds`, all month long. */
export function monthlyBill(usage: Usage, windowSeconds: number, options: BillOptions): MonthlyBill {
  const scale = secondsPerMonth / windowSeconds;
  const perMonth = (service: string, metric: string, name?: (n: string) => boolean) =>
    total(usage, service, metric, name) * scale;
  const million = 1e6;
  const invocations = perMonth('lambda', 'invocations');
  const idlePolls =
    options.retryQueues *
    stackFixtures.eventSourcePollers *
    (secondsPerMonth / stackFixtures.longPollSeconds);
  const sqsRequests = perMonth('sqs', 'billedRequests') + idlePolls;
  // A refused conditional write is billed as the write would have been: one unit for our small items.
  const writeUnits = perMonth('dynamodb', 'writeUnits') + perMonth('dynamodb', 'refused');
  const readUnits = perMonth('dynamodb', 'readUnits');
  const logGb = (perMonth('logs', 'bytes') + invocations * platformLogBytesPerInvocation) / 2 ** 30;
  const outGb = perMonth('functionUrl', 'responseBytes') / 2 ** 30;
  const gbSeconds = perMonth('lambda', 'gbSeconds');

  const lines: BillLine[] = [
    {
      service: 'Lambda',
      item: 'requests',
      quantity: invocations,
      unit: 'invocations',
      usd: (invocations / million) * prices['lambda.requestMillion'],
    },
    {
      service: 'Lambda',
      item: 'duration (arm64)',
      quantity: gbSeconds,
      unit: 'GB-s',
      usd: gbSeconds * prices['lambda.arm64.gbSecond'],
    },
    {
      service: 'DynamoDB',
      item: 'on-demand writes',
      quantity: writeUnits,
      unit: 'WRU',
      usd: (writeUnits / million) * prices['dynamodb.onDemand.writeUnitMillion'],
    },
    {
      service: 'DynamoDB',
      item: 'on-demand reads',
      quantity: readUnits,
      unit: 'RRU',
      usd: (readUnits / million) * prices['dynamodb.onDemand.readUnitMillion'],
    },
    {
      service: 'SQS',
      item: 'requests (64 KB chunks; event source polling included)',
      quantity: sqsRequests,
      unit: 'requests',
      usd: (sqsRequests / million) * prices['sqs.standard.requestMillion'],
    },
    {
      service: 'CloudWatch Logs',
      item: 'ingested (audit lines, platform lines)',
      quantity: logGb,
      unit: 'GB',
      usd: logGb * prices['cloudwatch.logs.ingestedGb'],
    },
    {
      service: 'Secrets Manager',
      item: 'secrets',
      quantity: stackFixtures.secrets,
      unit: 'secrets',
      usd: stackFixtures.secrets * prices['secretsmanager.secretMonth'],
    },
    {
      service: 'Data transfer',
      item: 'API responses out',
      quantity: outGb,
      unit: 'GB',
      usd: outGb * prices['dataTransfer.internetOutGb'],
    },
  ];
  const byService = {} as Record<Service, number>;
  for (const line of lines) byService[line.service] = (byService[line.service] ?? 0) + line.usd;
  return {
    lines,
    byService,
    total: lines.reduce((total, line) => total + line.usd, 0),
    eks: {
      standard: hoursPerMonth * prices['eks.standardSupport.clusterHour'],
      extended: hoursPerMonth * prices['eks.extendedSupport.clusterHour'],
    },
  };
}
