/**
 * The service proxy's only contact with iptables: read our chains, restore rules, keep the jumps from
 * the built-in chains, remove everything. Thin I/O around rules.ts; every failure carries stderr.
 */
import { execFile } from 'node:child_process';
import { baseChains, defaultPrefix, isOurChain } from './rules.js';

export class IptablesError extends Error {
  constructor(
    message: string,
    readonly stderr: string,
    readonly exitCode: number | null,
  ) {
    super(stderr.trim() ? `${message}: ${stderr.trim()}` : message);
    this.name = 'IptablesError';
  }
}

export interface IptablesOptions {
  /** Chain prefix (see rules.ts); tests use their own so that cleanup cannot touch the agent's. */
  prefix?: string;
}

export class Iptables {
  readonly prefix: string;

  constructor(options: IptablesOptions = {}) {
    this.prefix = options.prefix ?? defaultPrefix;
  }

  /** Our chains in table nat, as `iptables-save -t nat` declares them. */
  async currentChains(): Promise<string[]> {
    return parseChains(await run('iptables-save', ['-t', 'nat']), this.prefix);
  }

  /** Feeds an `iptables-restore` input to `--noflush` (one atomic transaction). */
  async apply(text: string): Promise<void> {
    await run('iptables-restore', ['-w', '--noflush'], text);
  }

  /** Inserts the jumps from PREROUTING, OUTPUT and POSTROUTING unless present, creating the targets. */
  async ensureJumps(): Promise<void> {
    const present = new Set(await this.currentChains());
    for (const chain of [baseChains(this.prefix).services, baseChains(this.prefix).postrouting]) {
      if (!present.has(chain)) await run('iptables', ['-w', '-t', 'nat', '-N', chain]);
    }
    for (const [from, spec] of this.jumps()) {
      if (!(await check(from, spec))) await run('iptables', ['-w', '-t', 'nat', '-I', from, '1', ...spec]);
    }
  }

  /** Removes every jump to our chains and every chain of ours. */
  async cleanup(): Promise<void> {
    for (const [from, spec] of this.jumps()) {
      while (await check(from, spec)) await run('iptables', ['-w', '-t', 'nat', '-D', from, ...spec]);
    }
    const chains = await this.currentChains();
    if (chains.length === 0) return;
    // Flush all first (declarations), then delete: chains may jump to each other.
    await this.apply(
      ['*nat', ...chains.map((c) => `:${c} - [0:0]`), ...chains.map((c) => `-X ${c}`), 'COMMIT', ''].join(
        '\n',
      ),
    );
  }

  private jumps(): [string, string[]][] {
    const { services, postrouting } = baseChains(this.prefix);
    const portals = ['-m', 'comment', '--comment', 'lambernetes service portals', '-j', services];
    return [
      ['PREROUTING', portals],
      ['OUTPUT', portals],
      ['POSTROUTING', ['-m', 'comment', '--comment', 'lambernetes postrouting rules', '-j', postrouting]],
    ];
  }
}

/** The chains of ours an `iptables-save` output declares (`:NAME POLICY [p:b]` lines). */
export function parseChains(save: string, prefix = defaultPrefix): string[] {
  const out: string[] = [];
  for (const line of save.split('\n')) {
    const match = /^:(\S+)\s/.exec(line);
    if (match?.[1] && isOurChain(match[1], prefix)) out.push(match[1]);
  }
  return out;
}

/** `iptables -C`: exit 0 when the rule exists, 1 when it (or its target chain) does not. */
async function check(chain: string, spec: string[]): Promise<boolean> {
  try {
    await run('iptables', ['-w', '-t', 'nat', '-C', chain, ...spec]);
    return true;
  } catch (error) {
    if (error instanceof IptablesError && error.exitCode === 1) return false;
    // "Couldn't load target" (exit 2) when the target chain is missing: not present either.
    if (error instanceof IptablesError && /does not exist|load target|No chain/i.test(error.stderr))
      return false;
    throw error;
  }
}

function run(command: string, args: string[], input?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile(command, args, { maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (!error) return resolve(stdout);
      const code = typeof error.code === 'number' ? error.code : null;
      reject(new IptablesError(`${command} ${args.join(' ')} failed (${error.code})`, stderr, code));
    });
    if (input !== undefined) child.stdin?.end(input);
  });
}
