/**
 * `npm run cost:model [-- --record]`: the analytic model from the recorded scenario runs.
 * `--record` first takes the runs from `reports/cost-{idle,steady,burst}.json` (made by `npm run cost`)
 * into `bench/cost/recorded.json`, which is kept with the code: the model's calibration and the README's
 * figures come from it. Then prints (and writes to `reports/cost-model.md`) how closely the model
 * reproduces each recorded run, clusters of 10 to 5,000 nodes, the break-even with EKS, what an open
 * watch costs and which quota binds first; and draws `docs/cost.svg`, the README's chart.
 */
import { execFileSync } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import type { MonthlyBill } from './bill.js';
import {
  breakEvenNodes,
  calibrate,
  clusterProfile,
  limitUse,
  measuredBill,
  predictedBill,
  type Recorded,
  recordedRun,
  type Workload,
  workloadOf,
} from './model.js';
import { type CostReport, costChart } from './report.js';
import { deployedRetryQueues } from './stack.js';

const recordedPath = new URL('./recorded.json', import.meta.url);
const { values } = parseArgs({ options: { record: { type: 'boolean', default: false } } });
const scenarioNames = ['idle', 'steady', 'burst'] as const;

if (values.record) {
  const reports = await Promise.all(
    scenarioNames.map(
      async (name) => JSON.parse(await readFile(`reports/cost-${name}.json`, 'utf8')) as CostReport,
    ),
  );
  const recorded: Recorded = {
    date: new Date().toISOString().slice(0, 10),
    commit: execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim(),
    retryQueues: deployedRetryQueues(),
    runs: Object.fromEntries(
      scenarioNames.map((name, i) => [name, recordedRun(reports[i] as CostReport)]),
    ) as Recorded['runs'],
  };
  await writeFile(recordedPath, `${JSON.stringify(recorded, null, 2)}\n`);
  console.log(`recorded ${scenarioNames.join(', ')} into ${recordedPath.pathname}`);
}

const recorded = JSON.parse(await readFile(recordedPath, 'utf8')) as Recorded;
const calibration = calibrate(recorded);
const usd = (x: number) => (x < 10 ? `$${x.toFixed(2)}` : `$${Math.round(x).toLocaleString('en-US')}`);
const services = (bill: MonthlyBill) =>
  Object.entries(bill.byService)
    .sort(([, a], [, b]) => b - a)
    .slice(0, 3)
    .map(([service, value]) => `${service} ${usd(value)}`)
    .join(', ');

const out: string[] = [
  '# Cost model',
  '',
  `Calibrated from the runs recorded on ${recorded.date} at ${recorded.commit} (\`npm run cost:model\`).`,
  '',
  '## The recorded runs, measured and as the model has them',
  '',
  '| scenario | measured per month | model | error |',
  '|---|---|---|---|',
];
for (const name of scenarioNames) {
  const run = recorded.runs[name];
  const measured = measuredBill(run, recorded.retryQueues).total;
  const model = predictedBill(calibration, workloadOf(name, run)).total;
  out.push(
    `| ${name} | ${usd(measured)} | ${usd(model)} | ${(((model - measured) / measured) * 100).toFixed(1)} % |`,
  );
}
const eks = predictedBill(calibration, clusterProfile(1)).eks;
out.push(
  '',
  '## Larger clusters (10 pods a node living an hour on average)',
  '',
  '| nodes | per month | largest parts | vs EKS standard | quota nearest its limit |',
  '|---|---|---|---|---|',
);
for (const nodes of [10, 100, 1000, 5000]) {
  const workload = clusterProfile(nodes);
  const bill = predictedBill(calibration, workload);
  const [nearest] = limitUse(calibration, workload);
  out.push(
    `| ${nodes.toLocaleString('en-US')} | ${usd(bill.total)} | ${services(bill)} | ${(bill.total / eks.standard).toFixed(1)}× | ${nearest ? `${nearest.limit} ${(nearest.share * 100).toFixed(0)} %` : ''} |`,
  );
}
const nothing: Workload = { nodes: 0, pods: 0, podsReplacedPerSecond: 0, readsPerSecond: 0, watchers: 0 };
const fixed = predictedBill(calibration, nothing).total;
/** What `driver` adds to the month of a cluster with nothing in it. */
const extra = (driver: Partial<Workload>) =>
  predictedBill(calibration, { ...nothing, ...driver }).total - fixed;
out.push(
  '',
  '## Drivers',
  '',
  `- the stack with no nodes (its secrets, the idle polling of its queues): ${usd(fixed)} a month;`,
  `- each node at rest (its agent's leases, status, resyncs and queue polls) with 10 pods: ${usd(extra({ nodes: 1, pods: 10 }))} a month;`,
  `- each pod replaced per second, all month: ${usd(extra({ podsReplacedPerSecond: 1 }))} a month (${usd(extra({ podsReplacedPerSecond: 1 }) / 2.628)} per million replacements);`,
  `- each watch held open all month: ${usd(extra({ watchers: 1 }))} a month;`,
  `- a dashboard listing 100 pods every second, all month: ${usd(extra({ readsPerSecond: 1 }))} a month (most of it the responses' bytes and read units).`,
  '',
  '## Break-even with EKS (the same profile)',
  '',
);
for (const [label, value] of [
  ['standard support', eks.standard],
  ['extended support', eks.extended],
] as const) {
  const nodes = breakEvenNodes(calibration, value);
  out.push(
    `- EKS ${label} (${usd(value)} a month) is cheaper from ${nodes === undefined ? 'no size up to 100,000' : `${nodes.toLocaleString('en-US')} nodes`} on; with two watches held open, from ${breakEvenNodes(calibration, value, 2)?.toLocaleString('en-US') ?? 'none'}.`,
  );
}
const text = `${out.join('\n')}\n`;
console.log(text);
await mkdir('reports', { recursive: true });
await writeFile('reports/cost-model.md', text);
await writeFile(
  new URL('../../docs/cost.svg', import.meta.url),
  costChart(
    scenarioNames.map((name) => ({
      label: name,
      bill: measuredBill(recorded.runs[name], recorded.retryQueues),
    })),
  ),
);
