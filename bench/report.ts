/**
 * What `npm run bench` (bench/suite.ts) writes to BENCHMARKS.md, as pure functions of the runs: each
 * bench's figures summarised over its repeats (median, min, max), the ratios against the floors each
 * bench measures in the same run, and the Kubernetes SLOs next to the figures that speak to them.
 * The suite does the I/O (child processes, machine facts, the file); everything here is testable.
 */

/** One run's figures: the numeric leaves of a bench's last JSON line, nested keys joined by " / ". */
export type Figures = Record<string, number>;

export interface BenchRuns {
  /** The bench's name as in its script: `store` for `npm run bench:store`. */
  name: string;
  /** The successful runs' figures, in the order they ran. */
  runs: Figures[];
  /** Why each failed run failed (an exit code, the last lines it printed). */
  failures: string[];
  /** Why the bench did not run at all (Podman missing, left out by the environment). */
  skipped?: string;
  /** How many runs were asked for, when not BENCH_REPEAT (bench:sizing runs once). */
  planned?: number;
  /** Wall-clock seconds all its runs took together. */
  seconds?: number;
}

export interface Machine {
  cpuModel: string;
  cpus: number;
  memoryGiB: number;
  os: string;
  kernel: string;
  node: string;
  podman?: string;
  /** The 1, 5 and 15-minute load averages when the suite started: whatever else was running. */
  loadAverage?: number[];
  date: string;
  commit: string;
}

export interface SuiteResult {
  machine: Machine;
  /** BENCH_REPEAT: how many times each bench was asked to run. */
  repeat: number;
  benches: BenchRuns[];
  /** BENCH_NOTE: what the person running the suite wants said about its conditions. */
  note?: string;
}

export interface Summary {
  median: number;
  min: number;
  max: number;
  /** How many runs the figure was found in. */
  n: number;
}

/**
 * The last line of a bench's output that is a JSON object: every bench prints its figures so, last;
 * lines before it (progress, warnings) may be anything, JSON-looking ones included.
 */
export function lastJsonLine(output: string): Record<string, unknown> | undefined {
  const lines = output.split('\n');
  for (let i = lines.length - 1; i >= 0; i--) {
    const line = (lines[i] as string).trim();
    if (!line.startsWith('{')) continue;
    try {
      const value: unknown = JSON.parse(line);
      if (value !== null && typeof value === 'object' && !Array.isArray(value))
        return value as Record<string, unknown>;
    } catch {
      // A progress line that only starts like JSON.
    }
  }
  return undefined;
}

/** The numeric leaves of `value` (bench:sizing nests its figures per function and step). */
export function flatten(value: unknown, prefix = ''): Figures {
  const figures: Figures = {};
  if (typeof value === 'number' && Number.isFinite(value)) figures[prefix] = value;
  else if (value !== null && typeof value === 'object' && !Array.isArray(value))
    for (const [key, inner] of Object.entries(value))
      Object.assign(figures, flatten(inner, prefix ? `${prefix} / ${key}` : key));
  return figures;
}

/** The median (the mean of the middle two for an even count), min and max of `xs` (not empty). */
export function summary(xs: number[]): Summary {
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  const median =
    sorted.length % 2 === 1
      ? (sorted[mid] as number)
      : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
  return { median, min: sorted[0] as number, max: sorted.at(-1) as number, n: sorted.length };
}

/** Each figure found in any run, summarised over the runs it was found in; keys in first-seen order. */
export function summarise(runs: Figures[]): Map<string, Summary> {
  const values = new Map<string, number[]>();
  for (const run of runs)
    for (const [key, value] of Object.entries(run)) values.set(key, [...(values.get(key) ?? []), value]);
  return new Map([...values].map(([key, xs]) => [key, summary(xs)]));
}

/** A figure's unit, from the naming the benches share (`…Ms`, `…PerSec`, `…MiB`, `…Ratio`). */
export function unitOf(key: string): string {
  const last = key.split(' / ').at(-1) as string;
  if (/CpuMsPer/.test(last)) return 'CPU ms';
  if (/Ms$/.test(last) || last === 'ms') return 'ms';
  if (/PerSec$/.test(last)) return '/s';
  if (/MiB$/.test(last)) return 'MiB';
  if (/Millicores$/.test(last)) return 'mCPU';
  if (/(^r|R)atio$/.test(last)) return '×';
  return '';
}

/** A ratio against a floor the same run measured: computed per run, then summarised over the runs. */
export interface RatioDefinition {
  bench: string;
  label: string;
  /** What it is divided by, in words. */
  floor: string;
  of: (figures: Figures) => number | undefined;
}

const divide = (a: number | undefined, b: number | undefined) =>
  a === undefined || b === undefined || b === 0 ? undefined : a / b;

export const ratioDefinitions: RatioDefinition[] = [
  {
    bench: 'store',
    label: 'store writes/s ÷ raw DynamoDB transactions/s',
    floor: 'two-item TransactWriteItems at the same concurrency (1 = as fast as the floor)',
    of: (f) => f.ratio,
  },
  {
    bench: 'api',
    label: 'API create p99 ÷ store create p99',
    floor: 'the same creates on the bare store, in-process (1 = no API overhead)',
    of: (f) => f.overheadRatio,
  },
  {
    bench: 'api',
    label: 'RBAC viewer get p50 ÷ admin get p50',
    floor: "the admin's get (system:masters, no RBAC evaluation)",
    of: (f) => f.rbacGetRatio,
  },
  {
    bench: 'scheduler',
    label: 'binds/s ÷ store writes/s',
    floor: "the store's compare-and-swap writes/s at 16 writers, measured before the cluster started",
    of: (f) => divide(f.bindsPerSec, f.storeWritesPerSec),
  },
  {
    bench: 'scheduler',
    label: 'store revisions/s while scheduling ÷ store writes/s',
    floor: 'the same floor; binds/s × revisions per pod (1 = scheduling kept the store as busy as the floor)',
    of: (f) =>
      f.bindsPerSec === undefined || f.revisionsPerPod === undefined
        ? undefined
        : divide(f.bindsPerSec * f.revisionsPerPod, f.storeWritesPerSec),
  },
  {
    bench: 'scheduler',
    label: 'DynamoDB Local busy while scheduling ÷ busy in the floor',
    floor: "DynamoDB Local's CPU/s under the floor's 16 writers (1 = saturated)",
    of: (f) => f.dynamoBusyRatio,
  },
  {
    bench: 'pods',
    label: 'pod startup p50 ÷ `podman run -d` p50',
    floor: 'a plain `podman run -d` of the same image on the same Podman (1 = no overhead over Podman)',
    of: (f) => f.overheadRatio,
  },
];

/** A Kubernetes SLO and the figure of ours that speaks to it. */
export interface SloDefinition {
  label: string;
  /** Where upstream states it, or that it is the issue's target rather than an upstream SLO. */
  origin: string;
  bench: string;
  /** The figure compared, chosen among those the bench reported (e.g. the largest list measured). */
  pick: (keys: string[]) => string | undefined;
  limit: number;
  /** `atMost`: a latency, lower is better; `atLeast`: a throughput. */
  direction: 'atMost' | 'atLeast';
  unit: string;
}

/** The key `list<N>P99Ms` with the largest N: the list SLO is judged at the largest namespace measured. */
const largestList = (keys: string[]) =>
  keys
    .map((key) => /^list(\d+)P99Ms$/.exec(key))
    .filter((m): m is RegExpExecArray => m !== null)
    .sort((a, b) => Number(b[1]) - Number(a[1]))[0]?.[0];

export const sloDefinitions: SloDefinition[] = [
  {
    label: 'API mutating call latency p99 ≤ 1 s',
    origin: 'upstream (sig-scalability, official)',
    bench: 'api',
    pick: () => 'createP99Ms',
    limit: 1000,
    direction: 'atMost',
    unit: 'ms',
  },
  {
    label: 'API read of one object p99 ≤ 1 s',
    origin: 'upstream (sig-scalability, official)',
    bench: 'api',
    pick: () => 'getP99Ms',
    limit: 1000,
    direction: 'atMost',
    unit: 'ms',
  },
  {
    label: 'API LIST of a namespace p99 ≤ 30 s',
    origin: 'upstream (sig-scalability, official; was 5 s before large namespaces were common)',
    bench: 'watch-list',
    pick: largestList,
    limit: 30_000,
    direction: 'atMost',
    unit: 'ms',
  },
  {
    label: 'Pod startup latency p99 ≤ 5 s',
    origin: 'upstream (sig-scalability, official)',
    bench: 'pods',
    pick: () => 'startupP99Ms',
    limit: 5000,
    direction: 'atMost',
    unit: 'ms',
  },
  {
    label: 'Scheduling throughput ≥ 100 pods/s',
    origin: "kube-scheduler's throughput (the issue's target; not an upstream SLO)",
    bench: 'scheduler',
    pick: () => 'bindsPerSec',
    limit: 100,
    direction: 'atLeast',
    unit: 'pods/s',
  },
];

export interface SloVerdict {
  slo: SloDefinition;
  key?: string;
  summary?: Summary;
  /** The worst run's value: the max of a latency, the min of a throughput. */
  worst?: number;
  /** `pass`/`fail` judge the median; `not measured` says why in `reason`. */
  verdict: 'pass' | 'fail' | 'not measured';
  reason?: string;
}

export function judgeSlos(benches: BenchRuns[]): SloVerdict[] {
  return sloDefinitions.map((slo) => {
    const bench = benches.find((b) => b.name === slo.bench);
    if (!bench || bench.runs.length === 0)
      return {
        slo,
        verdict: 'not measured',
        reason:
          bench?.skipped ?? (bench ? `every run of bench:${slo.bench} failed` : `bench:${slo.bench} not run`),
      };
    const summaries = summarise(bench.runs);
    const key = slo.pick([...summaries.keys()]);
    const found = key === undefined ? undefined : summaries.get(key);
    if (key === undefined || !found)
      return { slo, verdict: 'not measured', reason: `bench:${slo.bench} reported no such figure` };
    const atMost = slo.direction === 'atMost';
    const passes = atMost ? found.median <= slo.limit : found.median >= slo.limit;
    return {
      slo,
      key,
      summary: found,
      worst: atMost ? found.max : found.min,
      verdict: passes ? 'pass' : 'fail',
    };
  });
}

export interface RatioResult {
  ratio: RatioDefinition;
  summary?: Summary;
}

export function computeRatios(benches: BenchRuns[]): RatioResult[] {
  return ratioDefinitions.map((ratio) => {
    const runs = benches.find((b) => b.name === ratio.bench)?.runs ?? [];
    const values = runs.map(ratio.of).filter((x): x is number => x !== undefined && Number.isFinite(x));
    return values.length > 0 ? { ratio, summary: summary(values) } : { ratio };
  });
}

/** What each bench measures, for the reader of BENCHMARKS.md (each file's header says more). */
export const benchDescriptions: Record<string, string> = {
  store:
    "The store's compare-and-swap writes/s at 16 writers next to raw two-item DynamoDB transactions at the same " +
    'concurrency (its floor), alternating rounds; and watch lag from a write acknowledged to its event delivered.',
  api:
    'Create, get and list (100 objects) through the HTTPS API server, one at a time, next to the same calls on the ' +
    'bare store in the same run; get as an RBAC-evaluated viewer next to the admin.',
  scheduler:
    'Pods (BENCH_PODS, default 500) created through the API onto simulated nodes (BENCH_NODES, default 50); binds/s ' +
    'and create-to-bound latency, ' +
    "next to the store's write rate measured first in the same run.",
  pods:
    'Real busybox pods (BENCH_PODS, default 30) on a throwaway cluster with two agents and Podman: from create request sent ' +
    'to Ready seen by a watch, next to `podman run -d` of the same image.',
  'watch-list':
    'A namespace filled with N ConfigMaps for each N of BENCH_SIZES (through the store directly, 16 writes at a ' +
    "time, not through the API's create path, which bench:api measures); over HTTPS: a full LIST, a LIST paged 500 at a " +
    'time, and watch latency (update sent → its MODIFIED event read by an open watch); the resident memory of the ' +
    'process hosting the API server at rest and at its peak during the full lists.',
  agent:
    'One agent, bundled and run as on a worker node (`node agent.mjs`, its own process), on a throwaway cluster ' +
    'with Podman: its resident memory and CPU at rest, at their peak while BENCH_AGENT_PODS (default 30) pods start, and with ' +
    'them running.',
  sizing:
    "The deployed bundles' cold start, resident memory and duration in a Node.js process of their own: the API " +
    'server listing 1,000 objects and the scheduler handling 100 new pods (what sizes the Lambda functions).',
};

/** Figures that are the bench's parameters rather than measurements: shown once, not summarised. */
const parameterKeys = new Set([
  'concurrency',
  'pods',
  'nodes',
  'updates',
  'listRepeats',
  'pageLimit',
  'status',
]);
const isParameter = (key: string) => parameterKeys.has(key.split(' / ').at(-1) as string);

export function formatNumber(x: number): string {
  if (!Number.isFinite(x)) return String(x);
  if (Math.abs(x) >= 1000) return Math.round(x).toLocaleString('en-US');
  if (Math.abs(x) >= 100) return String(Math.round(x));
  return String(Number(x.toFixed(2)));
}

const range = (s: Summary) =>
  s.min === s.max ? formatNumber(s.min) : `${formatNumber(s.min)}–${formatNumber(s.max)}`;

/** Not a Markdown table's column separator. */
const cell = (text: string) => text.replaceAll('|', '\\|');

function table(header: string[], rows: string[][]): string[] {
  return [
    `| ${header.join(' | ')} |`,
    `| ${header.map(() => '---').join(' | ')} |`,
    ...rows.map((row) => `| ${row.map(cell).join(' | ')} |`),
  ];
}

function machineSection(machine: Machine): string[] {
  return [
    '## Machine',
    '',
    ...table(
      ['', ''],
      [
        ['CPU', `${machine.cpuModel} × ${machine.cpus}`],
        ['Memory', `${formatNumber(machine.memoryGiB)} GiB`],
        ['OS', machine.os],
        ['Kernel', machine.kernel],
        ['Node.js', machine.node],
        ['Podman', machine.podman ?? 'not available'],
        ...(machine.loadAverage
          ? [['Load average at start (1, 5, 15 min)', machine.loadAverage.map(formatNumber).join(', ')]]
          : []),
        ['Date', machine.date],
        ['Commit', machine.commit],
      ],
    ),
  ];
}

function sloSection(verdicts: SloVerdict[]): string[] {
  const rows = verdicts.map((v) => [
    v.slo.label,
    v.slo.origin,
    v.key ? `bench:${v.slo.bench} \`${v.key}\`` : `bench:${v.slo.bench}`,
    v.summary ? `${formatNumber(v.summary.median)} ${v.slo.unit}` : '—',
    v.worst === undefined ? '—' : `${formatNumber(v.worst)} ${v.slo.unit}`,
    v.verdict === 'not measured' ? `not measured: ${v.reason}` : `**${v.verdict}**`,
  ]);
  return [
    '## Kubernetes SLOs',
    '',
    'The verdict judges the median over the runs; the worst run is shown beside it. Upstream measures API latency',
    'inside the API server (request received to last byte sent) and pod startup from the creation timestamp,',
    'excluding image pulls; the figures here are taken at the client, over HTTPS, from the request sent: stricter.',
    '',
    ...table(['SLO', 'Origin', 'Figure', 'Median', 'Worst run', 'Verdict'], rows),
  ];
}

function ratioSection(ratios: RatioResult[]): string[] {
  const rows = ratios.map((r) => [
    `bench:${r.ratio.bench}`,
    r.ratio.label,
    r.ratio.floor,
    r.summary ? `${formatNumber(r.summary.median)}×` : 'not measured',
    r.summary ? `${range(r.summary)}×` : '—',
  ]);
  return [
    '## Ratios against floors measured in the same run',
    '',
    'Each ratio is computed within one run, against the floor that run measured, then summarised over the runs.',
    '',
    ...table(['Bench', 'Ratio', 'Floor', 'Median', 'Min–max'], rows),
  ];
}

function benchSection(bench: BenchRuns, repeat: number): string[] {
  const lines = [`## bench:${bench.name}`, ''];
  const description = benchDescriptions[bench.name];
  if (description) lines.push(description, '');
  if (bench.skipped) return [...lines, `Not run: ${bench.skipped}.`];
  const ran = bench.runs.length + bench.failures.length;
  const planned = bench.planned ?? repeat;
  const took = bench.seconds === undefined ? '' : `, ${formatNumber(bench.seconds)} s in all`;
  lines.push(
    `${bench.runs.length} of ${ran} run(s) succeeded${ran === planned ? '' : ` (asked for ${planned})`}${took}.`,
  );
  for (const failure of bench.failures) lines.push('', `- A run failed: ${failure.replaceAll('\n', ' ')}`);
  const summaries = summarise(bench.runs);
  const parameters = [...summaries].filter(([key]) => isParameter(key));
  if (parameters.length > 0)
    lines.push('', `Parameters: ${parameters.map(([key, s]) => `\`${key}\` ${range(s)}`).join(', ')}.`);
  const rows = [...summaries]
    .filter(([key]) => !isParameter(key))
    .map(([key, s]) => [
      `\`${key}\``,
      formatNumber(s.median),
      range(s),
      unitOf(key),
      s.n === bench.runs.length ? String(s.n) : `${s.n} of ${bench.runs.length}`,
    ]);
  if (rows.length > 0) lines.push('', ...table(['Figure', 'Median', 'Min–max', 'Unit', 'Runs'], rows));
  return lines;
}

/** BENCHMARKS.md: how it was made, the machine, the SLOs, the ratios, then every bench's figures. */
export function renderReport(result: SuiteResult): string {
  const { machine, repeat, benches, note } = result;
  const lines = [
    '# Benchmarks',
    '',
    `Written by \`npm run bench\` (bench/suite.ts) on ${machine.date}, commit ${machine.commit}. Each bench ran`,
    `BENCH_REPEAT=${repeat} time(s) as a child process (\`tsx bench/<name>.ts\`); each table gives the median over`,
    'the runs and the range from the fastest to the slowest run. Run `npm run bench` again to replace this file.',
    '',
    '**These figures come from DynamoDB Local (a Java process) and Podman on the machine below, not from AWS.**',
    "DynamoDB Local shares the machine's cores with the API server, the controllers and the agents, and its",
    'latencies and throughput differ from the DynamoDB service; Lambda cold starts and network hops do not occur.',
    'The ratios against floors measured in the same run are what carries over best to another machine.',
    '',
    ...(note ? [`> Note: ${note}`, ''] : []),
    ...machineSection(machine),
    '',
    ...sloSection(judgeSlos(benches)),
    '',
    ...ratioSection(computeRatios(benches)),
    '',
    '## Memory',
    '',
    '- The API server: bench:watch-list reports the resident memory (RSS) of the process hosting the local API',
    '  server, at rest and at its peak while it serves the full lists. That process also holds the HTTPS client',
    '  reading the lists and the DynamoDB client, and runs TypeScript through tsx: an upper bound of the handler.',
    "  bench:sizing (`BENCH_SIZING=1`) measures the deployed Lambda bundle's own RSS listing 1,000 objects.",
    '- An agent: bench:agent runs the bundled agent in its own process, as a worker node does, and reads its RSS',
    "  from /proc. It excludes Podman's service and the containers: on a worker node those are Docker's.",
    '',
    '## Not measured here',
    '',
    "- Anything on AWS: the DynamoDB service's latencies and throughput, Lambda cold starts in the request path,",
    '  function URLs and the network between the pieces.',
    "- The Lambda API handler's memory while it serves watches: on Lambda each open watch holds an invocation",
    '  (one request per instance); bench:sizing measures the handler per request for lists, not for watches.',
    "- The agent's memory with its proxy and DNS on (they program this host's iptables, which the bench leaves",
    "  alone) or with `kubectl logs`/`exec` going through its endpoint; bench:pods' agents run inside the",
    "  cluster's process, where their memory cannot be told apart.",
    '- Pod startup with an image pull: the pods use a local image, as upstream excludes pulls from its SLO.',
    '',
    ...benches.flatMap((bench) => [...benchSection(bench, repeat), '']),
  ];
  return `${lines.join('\n').trimEnd()}\n`;
}
