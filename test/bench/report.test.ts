import { describe, expect, it } from 'vitest';
import {
  type BenchRuns,
  computeRatios,
  flatten,
  judgeSlos,
  lastJsonLine,
  type Machine,
  renderReport,
  summarise,
  summary,
  unitOf,
} from '../../bench/report.js';

const machine: Machine = {
  cpuModel: 'Test CPU',
  cpus: 2,
  memoryGiB: 24,
  os: 'Debian GNU/Linux 12 (bookworm)',
  kernel: '6.1.0',
  node: 'v20.19.0',
  podman: 'podman version 4.3.1',
  date: '2025-01-01T00:00:00.000Z',
  commit: 'abc1234',
};

const run = (name: string, runs: Record<string, number>[], extra: Partial<BenchRuns> = {}): BenchRuns => ({
  name,
  runs,
  failures: [],
  ...extra,
});

const benches: BenchRuns[] = [
  run('store', [
    { concurrency: 16, writesPerSec: 300, rawTxnPerSec: 500, ratio: 0.6 },
    { concurrency: 16, writesPerSec: 200, rawTxnPerSec: 500, ratio: 0.4 },
    { concurrency: 16, writesPerSec: 250, rawTxnPerSec: 500, ratio: 0.5 },
  ]),
  run('api', [
    { createP99Ms: 40, getP99Ms: 10, overheadRatio: 2, rbacGetRatio: 1.1 },
    { createP99Ms: 1200, getP99Ms: 12, overheadRatio: 3, rbacGetRatio: 1.2 },
    { createP99Ms: 60, getP99Ms: 11, overheadRatio: 4, rbacGetRatio: 1.3 },
  ]),
  run('scheduler', [
    { bindsPerSec: 40, storeWritesPerSec: 200, revisionsPerPod: 5, dynamoBusyRatio: 0.9 },
    { bindsPerSec: 60, storeWritesPerSec: 200, revisionsPerPod: 5, dynamoBusyRatio: 1 },
  ]),
  run('pods', [], { skipped: 'Podman is not available here' }),
  run('watch-list', [
    { list1000P99Ms: 80, list10000P99Ms: 900, watch1000P50Ms: 60 },
    { list1000P99Ms: 90, list10000P99Ms: 31_000, watch1000P50Ms: 70 },
    { list1000P99Ms: 70, list10000P99Ms: 1000, watch1000P50Ms: 65 },
  ]),
];

describe('summaries', () => {
  it('takes the median, min and max over the runs', () => {
    expect(summary([5, 1, 3])).toEqual({ median: 3, min: 1, max: 5, n: 3 });
  });

  it('takes the mean of the middle two as the median of an even count', () => {
    expect(summary([4, 1, 2, 10])).toEqual({ median: 3, min: 1, max: 10, n: 4 });
  });

  it('summarises each figure over the runs it was found in', () => {
    const summaries = summarise([{ a: 1, b: 7 }, { a: 3 }, { a: 2 }]);
    expect(summaries.get('a')).toEqual({ median: 2, min: 1, max: 3, n: 3 });
    expect(summaries.get('b')).toEqual({ median: 7, min: 7, max: 7, n: 1 });
  });
});

describe('reading a run', () => {
  it('finds the last JSON object line among progress lines', () => {
    const output = 'warm-up: raw 2-item transactions 300/s\n{"not":"last"}\nround 1/3\n{"ratio":0.5}\n\n';
    expect(lastJsonLine(output)).toEqual({ ratio: 0.5 });
  });

  it('skips lines that only look like JSON', () => {
    expect(lastJsonLine('{"ratio":0.5}\n{ not json\n[1,2]')).toEqual({ ratio: 0.5 });
    expect(lastJsonLine('no figures here')).toBeUndefined();
  });

  it("flattens bench:sizing's nested figures and drops what is not a number", () => {
    expect(
      flatten({
        node: 'v20',
        apiserver: { 'cold start': { ms: 300, peakRssMiB: 80.5, label: 'cold start' } },
      }),
    ).toEqual({ 'apiserver / cold start / ms': 300, 'apiserver / cold start / peakRssMiB': 80.5 });
  });

  it('names units from the figures’ suffixes', () => {
    expect(unitOf('createP99Ms')).toBe('ms');
    expect(unitOf('writesPerSec')).toBe('/s');
    expect(unitOf('rssAtRestMiB')).toBe('MiB');
    expect(unitOf('ratio')).toBe('×');
    expect(unitOf('overheadRatio')).toBe('×');
    expect(unitOf('cpuAtRestMillicores')).toBe('mCPU');
    expect(unitOf('apiserver / cold start / ms')).toBe('ms');
    expect(unitOf('dynamoCpuMsPerPod')).toBe('CPU ms');
    expect(unitOf('revisionsPerPod')).toBe('');
  });
});

describe('ratios against floors', () => {
  const ratios = computeRatios(benches);
  const find = (label: string) => ratios.find((r) => r.ratio.label.startsWith(label))?.summary;

  it("summarises each run's own ratio over the runs", () => {
    expect(find('store writes/s')).toEqual({ median: 0.5, min: 0.4, max: 0.6, n: 3 });
    expect(find('API create p99')).toEqual({ median: 3, min: 2, max: 4, n: 3 });
  });

  it('divides within each run where the bench reports no ratio of its own', () => {
    // 40/200 and 60/200; 40×5/200 and 60×5/200.
    expect(find('binds/s')).toEqual({ median: 0.25, min: 0.2, max: 0.3, n: 2 });
    expect(find('store revisions/s')).toEqual({ median: 1.25, min: 1, max: 1.5, n: 2 });
  });

  it('leaves a ratio unmeasured when its bench did not run', () => {
    expect(find('pod startup')).toBeUndefined();
  });
});

describe('SLO verdicts', () => {
  const verdicts = judgeSlos(benches);
  const find = (label: string) => verdicts.find((v) => v.slo.label.startsWith(label));

  it('passes a latency whose median is within the limit and shows the worst run beside it', () => {
    const mutating = find('API mutating');
    expect(mutating?.verdict).toBe('pass');
    expect(mutating?.summary?.median).toBe(60);
    expect(mutating?.worst).toBe(1200);
  });

  it('fails a throughput whose median is below the target, the worst run being the slowest', () => {
    const scheduling = find('Scheduling throughput');
    expect(scheduling?.verdict).toBe('fail');
    expect(scheduling?.summary?.median).toBe(50);
    expect(scheduling?.worst).toBe(40);
  });

  it('judges the LIST SLO at the largest namespace measured', () => {
    const list = find('API LIST');
    expect(list?.key).toBe('list10000P99Ms');
    expect(list?.summary?.median).toBe(1000);
    expect(list?.worst).toBe(31_000);
    expect(list?.verdict).toBe('pass');
  });

  it('says why an SLO was not measured', () => {
    const startup = find('Pod startup');
    expect(startup?.verdict).toBe('not measured');
    expect(startup?.reason).toBe('Podman is not available here');
  });

  it('fails a latency over the limit', () => {
    const [slow] = judgeSlos([run('api', [{ createP99Ms: 1500, getP99Ms: 2 }])]);
    expect(slow?.verdict).toBe('fail');
  });
});

describe('BENCHMARKS.md', () => {
  const markdown = renderReport({
    machine,
    repeat: 3,
    benches: [...benches, run('agent', [{ rssAtRestMiB: 70 }], { failures: ['exit 1: no agents'] })],
    note: 'another benchmark ran meanwhile',
  });

  it('says how it was made and that the figures are not from AWS', () => {
    expect(markdown).toContain('`npm run bench`');
    expect(markdown).toContain('BENCH_REPEAT=3');
    expect(markdown).toContain('DynamoDB Local');
    expect(markdown).toContain('not from AWS');
  });

  it('lists the machine', () => {
    expect(markdown).toContain('| CPU | Test CPU × 2 |');
    expect(markdown).toContain('| Podman | podman version 4.3.1 |');
    expect(markdown).toContain('| Commit | abc1234 |');
  });

  it("carries the runner's note on the conditions", () => {
    expect(markdown).toContain('> Note: another benchmark ran meanwhile');
  });

  it('gives each figure its median, range and unit, and parameters once', () => {
    expect(markdown).toContain('| `writesPerSec` | 250 | 200–300 | /s | 3 |');
    expect(markdown).toContain('Parameters: `concurrency` 16.');
    expect(markdown).toContain('| `list10000P99Ms` | 1,000 | 900–31,000 | ms | 3 |');
  });

  it('shows the SLO verdicts and the ratios', () => {
    expect(markdown).toMatch(
      /\| API mutating call latency p99 ≤ 1 s \|.*\| 60 ms \| 1,200 ms \| \*\*pass\*\* \|/,
    );
    expect(markdown).toMatch(/\| Scheduling throughput ≥ 100 pods\/s \|.*\| \*\*fail\*\* \|/);
    expect(markdown).toMatch(
      /\| bench:store \| store writes\/s ÷ raw DynamoDB transactions\/s \|.*\| 0\.5× \| 0\.4–0\.6× \|/,
    );
  });

  it('says which benches did not run and which runs failed', () => {
    expect(markdown).toContain('Not run: Podman is not available here.');
    expect(markdown).toContain('1 of 2 run(s) succeeded (asked for 3)');
    expect(markdown).toContain('- A run failed: exit 1: no agents');
  });
});
