/**
 * npm run bench: every bench BENCH_REPEAT times (default 3), each run a child process of its own
 * (`tsx bench/<name>.ts`, its output passed through), then BENCHMARKS.md at the repository's root from
 * the last JSON line of each run (bench/report.ts renders it). The runs go round by round (store, api,
 * scheduler, pods, watch-list, agent, then again), so that whatever drifts on the machine during the
 * suite spreads over every bench instead of landing on one.
 *
 * BENCH_ONLY=store,api runs only those; BENCH_SIZING=1 adds bench:sizing once (slow; it sizes the
 * Lambda functions); BENCH_OUT writes elsewhere than BENCHMARKS.md (for a trial run); BENCH_NOTE adds a
 * note on the conditions (another load on the machine, say) to the file. Every other
 * BENCH_* variable reaches the benches (BENCH_ROUNDS, BENCH_PODS, BENCH_SIZES…: see each file's top).
 * Exits 1 when a run failed, after writing the file, which says which and why.
 */
import { execFile, spawn } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { cpus, loadavg, release, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { podmanAvailable } from '../shared/local/podman.js';
import { type BenchRuns, flatten, lastJsonLine, type Machine, renderReport } from './report.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const repeat = Number(process.env.BENCH_REPEAT ?? 3);
const only = process.env.BENCH_ONLY?.split(',').map((name) => name.trim());
const withSizing = process.env.BENCH_SIZING === '1' || only?.includes('sizing') === true;
const outPath = resolve(root, process.env.BENCH_OUT ?? 'BENCHMARKS.md');

if (!Number.isInteger(repeat) || repeat < 1) throw new Error(`BENCH_REPEAT must be a count, not ${repeat}`);

/** The benches in the order each round runs them; those that run real containers need Podman. */
const benches: { name: string; needsPodman?: boolean }[] = [
  { name: 'store' },
  { name: 'api' },
  { name: 'scheduler' },
  { name: 'pods', needsPodman: true },
  { name: 'watch-list' },
  { name: 'agent', needsPodman: true },
];

/** A command's trimmed stdout, or undefined when it cannot run. */
function output(command: string, args: string[]): Promise<string | undefined> {
  return new Promise((resolve) =>
    execFile(command, args, { cwd: root }, (error, stdout) => resolve(error ? undefined : stdout.trim())),
  );
}

async function machine(): Promise<Machine> {
  const osRelease = await readFile('/etc/os-release', 'utf8').catch(() => '');
  const commit = (await output('git', ['rev-parse', '--short', 'HEAD'])) ?? 'unknown';
  // BENCHMARKS.md itself is left out: a previous run's report would otherwise always count as a change.
  const changes = await output('git', ['status', '--porcelain', '--', '.', ':!BENCHMARKS.md']);
  const podman = await output('podman', ['--version']);
  return {
    cpuModel: cpus()[0]?.model.trim() ?? 'unknown',
    cpus: cpus().length,
    memoryGiB: totalmem() / 1024 ** 3,
    os: /^PRETTY_NAME="?([^"\n]*)"?$/m.exec(osRelease)?.[1] ?? process.platform,
    kernel: release(),
    node: process.version,
    ...(podman ? { podman } : {}),
    loadAverage: startLoad,
    date: new Date().toISOString(),
    commit: changes ? `${commit} (with uncommitted changes)` : commit,
  };
}

/**
 * Runs `tsx bench/<name>.ts`, its output passed through and kept; resolves with its figures, or with
 * why it failed (its exit code and the last lines it printed).
 */
function runBench(name: string): Promise<{ figures: Record<string, number> } | { failure: string }> {
  return new Promise((resolve) => {
    const child = spawn(join(root, 'node_modules', '.bin', 'tsx'), [join('bench', `${name}.ts`)], {
      cwd: root,
      env: process.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let all = '';
    child.stdout.on('data', (chunk: Buffer) => {
      process.stdout.write(chunk);
      stdout += chunk.toString('utf8');
      all += chunk.toString('utf8');
    });
    child.stderr.on('data', (chunk: Buffer) => {
      process.stderr.write(chunk);
      all += chunk.toString('utf8');
    });
    const lastLines = () =>
      all
        .split('\n')
        .map((line) => line.trim())
        .filter(Boolean)
        .slice(-3)
        .join(' / ')
        .slice(0, 500);
    child.on('error', (error) => resolve({ failure: `could not start: ${error.message}` }));
    child.on('close', (code, signal) => {
      const json = lastJsonLine(stdout);
      if (code === 0 && json) resolve({ figures: flatten(json) });
      else if (code === 0) resolve({ failure: `printed no JSON line: ${lastLines()}` });
      else resolve({ failure: `exit ${code ?? signal}: ${lastLines()}` });
    });
  });
}

// Before anything of ours runs: a high load here means the figures below shared the machine.
const startLoad = loadavg();
const podmanMissing = await podmanAvailable();
const results = new Map<string, BenchRuns>();
const selected = benches.filter((bench) => !only || only.includes(bench.name));
for (const bench of selected) {
  const skipped =
    bench.needsPodman && podmanMissing ? `Podman is not available here (${podmanMissing})` : undefined;
  if (skipped) console.log(`skipping bench:${bench.name}: ${skipped}`);
  results.set(bench.name, {
    name: bench.name,
    runs: [],
    failures: [],
    seconds: 0,
    ...(skipped ? { skipped } : {}),
  });
}
const runOnce = async (name: string, label: string) => {
  const result = results.get(name) as BenchRuns;
  console.log(`\n=== bench:${name} (${label}) ===`);
  const started = performance.now();
  const outcome = await runBench(name);
  result.seconds = (result.seconds ?? 0) + (performance.now() - started) / 1000;
  if ('figures' in outcome) result.runs.push(outcome.figures);
  else {
    result.failures.push(outcome.failure);
    console.log(`bench:${name} failed: ${outcome.failure}`);
  }
};
for (let round = 1; round <= repeat; round++)
  for (const bench of selected)
    if (!results.get(bench.name)?.skipped) await runOnce(bench.name, `run ${round} of ${repeat}`);
if (withSizing && (!only || only.includes('sizing'))) {
  results.set('sizing', { name: 'sizing', runs: [], failures: [], seconds: 0, planned: 1 });
  await runOnce('sizing', 'once');
}

const report = renderReport({
  machine: await machine(),
  repeat,
  benches: [...results.values()],
  ...(process.env.BENCH_NOTE ? { note: process.env.BENCH_NOTE } : {}),
});
await writeFile(outPath, report);
const failed = [...results.values()].reduce((n, bench) => n + bench.failures.length, 0);
console.log(`\nwrote ${outPath}${failed > 0 ? `; ${failed} run(s) failed (see the file)` : ''}`);
if (failed > 0) process.exitCode = 1;
