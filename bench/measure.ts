/** What the benchmarks share: percentiles, and CPU time read from /proc. */
import { readdir, readFile } from 'node:fs/promises';

/** The nearest-rank percentile `p` (0–100) of `xs`. */
export const percentile = (xs: number[], p: number) =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((xs.length * p) / 100))] as number;

export const median = (xs: number[]) => percentile(xs, 50);

/** CPU seconds a process has used so far (user + system), from /proc. */
export async function cpuSeconds(pid: number | string | undefined): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in clock ticks (USER_HZ = 100)
}

/**
 * CPU seconds used so far by the processes whose command line contains `pattern` (DynamoDB Local, the
 * Podman service). Processes that came and went in between (runc, short-lived helpers) are not
 * counted: they are in the machine's total only.
 */
export async function cpuSecondsMatching(pattern: string): Promise<number> {
  let total = 0;
  for (const pid of (await readdir('/proc')).filter((name) => /^\d+$/.test(name))) {
    try {
      const cmdline = (await readFile(`/proc/${pid}/cmdline`, 'utf8')).replaceAll('\0', ' ');
      if (cmdline.includes(pattern)) total += await cpuSeconds(pid);
    } catch {
      // The process ended meanwhile.
    }
  }
  return total;
}
