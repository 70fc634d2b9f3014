/**
 * The analytic cost model: a cluster's use of each billed quantity per second as a sum of what its
 * drivers cost, each calibrated from the measured scenarios:
 *
 *   use = nodes · perNode + pods · perPod + podsReplacedPerSecond · perReplacement
 *         + readsPerSecond · perRead + watchers · perWatcher
 *
 * (the stack's fixtures, its secrets and the idle polling of its queues, are priced by the bill).
 * `perNode` is what the idle run (1 node, no pods) used; `perPod` what the steady run's quiet phase
 * (10 nodes, 100 pods at rest) used beyond its nodes; `perWatcher`, `perRead` and `perReplacement` come
 * from the steady run's phases that add one driver at a time (a watcher's Lambda time is its function's
 * memory every second, not measured). The burst scenario is not used to calibrate: the model predicts it. Pure.
 */
import { sizing } from '../../functions/sizing.js';
import { total, type Usage } from '../../shared/metering/meter.js';
import { type MonthlyBill, monthlyBill } from './bill.js';
import type { CostReport } from './report.js';

export interface Workload {
  nodes: number;
  /** Pods running. */
  pods: number;
  podsReplacedPerSecond: number;
  /** API reads (a list of a namespace's pods) per second. */
  readsPerSecond: number;
  /** Watches held open all the time. */
  watchers: number;
}

/** Per second, what the bill prices, and the store's commits (the revision counter's writes). */
export interface Rates {
  invocations: number;
  gbSeconds: number;
  readUnits: number;
  writeUnits: number;
  sqsRequests: number;
  logBytes: number;
  responseBytes: number;
  commits: number;
}

const quantities: (keyof Rates)[] = [
  'invocations',
  'gbSeconds',
  'readUnits',
  'writeUnits',
  'sqsRequests',
  'logBytes',
  'responseBytes',
  'commits',
];

/** A store write takes a revision with one UpdateItem of the counter (`<operation>.UpdateItem`). */
const isCommit = (name: string) => /^(create|update|delete)\.UpdateItem$/.test(name);

/** What `usage`, counted over `seconds`, uses per second. */
export function ratesOf(usage: Usage, seconds: number): Rates {
  return {
    invocations: total(usage, 'lambda', 'invocations') / seconds,
    gbSeconds: total(usage, 'lambda', 'gbSeconds') / seconds,
    readUnits: total(usage, 'dynamodb', 'readUnits') / seconds,
    writeUnits: (total(usage, 'dynamodb', 'writeUnits') + total(usage, 'dynamodb', 'refused')) / seconds,
    sqsRequests: total(usage, 'sqs', 'billedRequests') / seconds,
    logBytes: total(usage, 'logs', 'bytes') / seconds,
    responseBytes: total(usage, 'functionUrl', 'responseBytes') / seconds,
    commits: total(usage, 'dynamodb', 'requests', isCommit) / seconds,
  };
}

/** The usage of one second at `rates`, in the Meter's shape, for `monthlyBill` to price. */
function usageOf(rates: Rates): Usage {
  return {
    lambda: { model: { invocations: rates.invocations, gbSeconds: rates.gbSeconds } },
    dynamodb: { model: { readUnits: rates.readUnits, writeUnits: rates.writeUnits } },
    sqs: { model: { billedRequests: rates.sqsRequests } },
    logs: { model: { bytes: rates.logBytes } },
    functionUrl: { model: { responseBytes: rates.responseBytes } },
  };
}

const combine = (f: (q: keyof Rates) => number): Rates =>
  Object.fromEntries(quantities.map((q) => [q, f(q)])) as unknown as Rates;
/** a − b, never below zero (a driver that measured as costing less than nothing cost nothing). */
const minus = (a: Rates, b: Rates, per = 1) => combine((q) => Math.max(0, (a[q] - b[q]) / per));

export interface Calibration {
  perNode: Rates;
  perPod: Rates;
  perReplacement: Rates;
  perRead: Rates;
  perWatcher: Rates;
  /** Control functions with a retry queue, as the bill counts them. */
  retryQueues: number;
}

/** A scenario run as the model keeps it: its size, its window's length and each phase's rates. */
export interface RecordedRun {
  nodes: number;
  windowSeconds: number;
  phases: Partial<Record<'quiet' | 'watch' | 'reads' | 'window', Rates>>;
}

/** The recorded runs (`recorded.json`), by scenario. */
export interface Recorded {
  /** When and where they ran. */
  date: string;
  commit: string;
  retryQueues: number;
  runs: Record<'idle' | 'steady' | 'burst', RecordedRun>;
}

/** A run as the model keeps it, from a cost report. */
export function recordedRun(report: CostReport): RecordedRun {
  return {
    nodes: report.nodes,
    windowSeconds: report.windowSeconds,
    phases: Object.fromEntries(report.phases.map((p) => [p.name, ratesOf(p.usage, p.seconds)])),
  };
}

function phase(run: RecordedRun, name: keyof RecordedRun['phases']): Rates {
  const rates = run.phases[name];
  if (!rates) throw new Error(`the run has no ${name} phase`);
  return rates;
}

/** Calibrates from the idle run (1 node) and the steady run (10 nodes; quiet, watch, reads, window). */
export function calibrate(recorded: Recorded): Calibration {
  const { idle, steady } = recorded.runs;
  const idleRates = phase(idle, 'window');
  const quiet = phase(steady, 'quiet');
  // An idle cluster's use beyond the stack's fixtures is put on its node (its resyncs run anyway).
  const perNode = combine((q) => idleRates[q] / idle.nodes);
  const steadyPods = workloadOf('steady', steady).pods;
  const perPod = combine((q) => Math.max(0, (quiet[q] - steady.nodes * perNode[q]) / steadyPods));
  const reads = phase(steady, 'reads');
  return {
    perNode,
    perPod,
    perWatcher: {
      ...minus(phase(steady, 'watch'), quiet),
      // A watch holds its invocation all the time (counted when it ends, so possibly after its phase):
      // its memory every second, and a new invocation per API server timeout when the client reconnects.
      gbSeconds: sizing.apiserver.memoryMiB / 1024,
      invocations: 1 / sizing.apiserver.timeoutSeconds,
    },
    perRead: minus(reads, quiet),
    // The window adds one replacement a second to the reads phase.
    perReplacement: minus(phase(steady, 'window'), reads),
    retryQueues: recorded.retryQueues,
  };
}

/** The month's bill of a run's window, as measured. */
export function measuredBill(run: RecordedRun, retryQueues: number): MonthlyBill {
  return monthlyBill(usageOf(phase(run, 'window')), 1, { retryQueues });
}

/** What `workload` uses per second. */
export function predict(calibration: Calibration, workload: Workload): Rates {
  const { perNode, perPod, perReplacement, perRead, perWatcher } = calibration;
  return combine(
    (q) =>
      workload.nodes * perNode[q] +
      workload.pods * perPod[q] +
      workload.podsReplacedPerSecond * perReplacement[q] +
      workload.readsPerSecond * perRead[q] +
      workload.watchers * perWatcher[q],
  );
}

/** The month's bill of `workload`. */
export function predictedBill(calibration: Calibration, workload: Workload): MonthlyBill {
  return monthlyBill(usageOf(predict(calibration, workload)), 1, { retryQueues: calibration.retryQueues });
}

/**
 * The workload a scenario's window put on the cluster: its drivers, and for the burst (500 pods
 * started, replaced by the rollout, deleted: 1,000 starts and 1,000 stops) 1,000 replacements over the
 * window.
 */
export function workloadOf(scenario: keyof Recorded['runs'], run: RecordedRun): Workload {
  const drivers = {
    idle: { pods: 0, podsReplacedPerSecond: 0, readsPerSecond: 0, watchers: 0 },
    steady: { pods: 100, podsReplacedPerSecond: 1, readsPerSecond: 1, watchers: 0 },
    burst: { pods: 500, podsReplacedPerSecond: 1000 / run.windowSeconds, readsPerSecond: 0, watchers: 0 },
  };
  return { nodes: run.nodes, ...drivers[scenario] };
}

/**
 * A cluster of `nodes` for the extrapolation: 10 pods a node that live an hour on average (batch and CI
 * workloads churn more, long-running services less) and `watchers` open watches; no polling dashboard.
 * The steady scenario itself is far busier: each of its pods lives 100 s.
 */
export function clusterProfile(nodes: number, watchers = 0): Workload {
  const pods = 10 * nodes;
  return { nodes, pods, podsReplacedPerSecond: pods / 3600, readsPerSecond: 0, watchers };
}

/** The smallest node count at which `clusterProfile` costs more than `usd` a month, if any up to 100,000. */
export function breakEvenNodes(calibration: Calibration, usd: number, watchers = 0): number | undefined {
  const cost = (n: number) => predictedBill(calibration, clusterProfile(n, watchers)).total;
  if (cost(100_000) <= usd) return undefined;
  let low = 0;
  let high = 100_000;
  while (high - low > 1) {
    const mid = Math.floor((low + high) / 2);
    if (cost(mid) > usd) high = mid;
    else low = mid;
  }
  return high;
}

/** Quotas that bound the control plane (AWS defaults; most can be raised on request). */
export const limits = {
  /** Writes per second to one partition key: every commit updates the one revision counter item. */
  counterWritesPerSecond: 1000,
  /** Concurrent executions per account and region (new accounts may start lower). */
  lambdaConcurrency: 1000,
  /** An on-demand table's default throughput quota, each of reads and writes. */
  tableUnitsPerSecond: 40_000,
} as const;

export interface LimitUse {
  limit: keyof typeof limits;
  /** What the workload asks of it, per second (or at once, for concurrency). */
  used: number;
  /** used / limit. */
  share: number;
}

/**
 * How close `workload` comes to each limit, highest first. Concurrency is the Lambda busy time per
 * second: GB-seconds over each function's memory (all 512 MiB).
 */
export function limitUse(calibration: Calibration, workload: Workload, memoryMiB = 512): LimitUse[] {
  const rates = predict(calibration, workload);
  const uses: [keyof typeof limits, number][] = [
    ['counterWritesPerSecond', rates.commits],
    ['lambdaConcurrency', rates.gbSeconds / (memoryMiB / 1024)],
    ['tableUnitsPerSecond', Math.max(rates.readUnits, rates.writeUnits)],
  ];
  return uses
    .map(([limit, used]) => ({ limit, used, share: used / limits[limit] }))
    .sort((a, b) => b.share - a.share);
}
