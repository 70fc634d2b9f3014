/**
 * `npm run cost -- --scenario idle|steady|burst [--minutes N] [--json]`: runs a scenario on a fresh
 * throwaway local cluster with the deployed stack's timings (`asDeployed`) and simulated nodes (the
 * real agents over a runtime that runs no containers), meters its window, and extrapolates it to a
 * month: a table by AWS service next to EKS, and a Markdown report, an SVG chart and the raw usage
 * (JSON) under `reports/`. `--json` prints the result as JSON instead of the table.
 *
 * Durations are measured on this machine, where the whole control plane, DynamoDB Local and the agents
 * share the cores: billed milliseconds are higher than on Lambda, where each invocation has its own.
 */
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { inProcessClient } from '../../functions/runtime/in-process.js';
import { ApiClient } from '../../shared/client/client.js';
import { httpsTransport } from '../../shared/client/https-transport.js';
import { startLocalCluster } from '../../shared/local/cluster.js';
import { localCredentials, startDynamoDBLocal } from '../../shared/local/dynamodb-local.js';
import { Meter } from '../../shared/metering/meter.js';
import { Store } from '../../shared/store/store.js';
import { monthlyBill } from './bill.js';
import { type CostReport, costChart, costMarkdown, costTable, type Phase } from './report.js';
import { type PhaseName, scenarios } from './scenarios.js';
import { deployedRetryQueues } from './stack.js';

const { values } = parseArgs({
  options: {
    scenario: { type: 'string', default: 'idle' },
    minutes: { type: 'string' },
    json: { type: 'boolean', default: false },
    out: { type: 'string', default: 'reports' },
  },
});
const scenario = scenarios[values.scenario];
if (!scenario) {
  console.error(`no scenario ${values.scenario}: one of ${Object.keys(scenarios).join(', ')}`);
  process.exit(2);
}
const minutes = Number(values.minutes ?? scenario.defaultMinutes ?? 0);
const log = (message: string) => {
  if (!values.json) console.log(message);
};

const dynamo = await startDynamoDBLocal();
const dataDir = await mkdtemp(join(tmpdir(), 'lambernetes-cost-'));
const meter = new Meter();
const tableName = 'lambernetes';
const cluster = await startLocalCluster({
  dataDir,
  inMemory: true,
  dynamoEndpoint: dynamo.endpoint,
  tableName,
  port: 0,
  agents: scenario.nodes,
  simulatedNodes: true,
  asDeployed: true,
  meter,
  logError: (error) => console.error('cluster:', error),
});
// The observer reads the table through a DynamoDB client of its own, which the meter does not see.
const observerDynamo = new DynamoDBClient({
  endpoint: dynamo.endpoint,
  region: 'us-east-1',
  credentials: localCredentials,
});
const observer = inProcessClient(Store.of(observerDynamo, tableName), {
  name: 'cost-observer',
  groups: ['system:masters'],
});
const ca = await readFile(join(dataDir, 'pki', 'ca.crt'), 'utf8');
const user = new ApiClient(httpsTransport({ url: cluster.url, ca }), cluster.token);

const phases: Phase[] = [];
let current: { name: PhaseName; started: number } | undefined;
/** Ends the phase in progress: its length and what the meter counted in it. */
const endPhase = () => {
  if (!current) return;
  phases.push({
    name: current.name,
    seconds: (performance.now() - current.started) / 1000,
    usage: meter.snapshot(),
  });
  current = undefined;
};
try {
  log(`scenario ${scenario.name}: ${scenario.description}`);
  await scenario.run(
    {
      user,
      observer,
      phase: (name) => {
        endPhase();
        meter.reset();
        current = { name, started: performance.now() };
        log(`phase ${name}`);
      },
      log,
    },
    minutes,
  );
  endPhase();
  const window = phases.find((p) => p.name === 'window');
  if (!window) throw new Error(`scenario ${scenario.name} measured no window`);
  const { seconds: windowSeconds, usage } = window;
  const bill = monthlyBill(usage, windowSeconds, { retryQueues: deployedRetryQueues() });
  const report: CostReport = {
    scenario: scenario.name,
    description: scenario.description,
    nodes: scenario.nodes,
    windowSeconds,
    date: new Date().toISOString(),
    usage,
    bill,
    phases,
  };
  await mkdir(values.out, { recursive: true });
  const base = join(values.out, `cost-${scenario.name}`);
  await writeFile(`${base}.json`, `${JSON.stringify(report, null, 2)}\n`);
  await writeFile(`${base}.md`, costMarkdown(report, `cost-${scenario.name}.svg`));
  await writeFile(`${base}.svg`, costChart([{ label: report.scenario, bill }]));
  if (values.json) console.log(JSON.stringify(report));
  else {
    console.log(costTable(report));
    console.log(`\nwritten: ${base}.md, ${base}.svg, ${base}.json`);
  }
} finally {
  observerDynamo.destroy();
  await cluster.stop();
  await dynamo.stop();
  await rm(dataDir, { recursive: true, force: true });
}
