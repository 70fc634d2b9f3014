/**
 * The smoke test of a deployed cluster (`npm run smoke`, infra/cli/smoke.ts), with the real kubectl:
 * the API answers, a namespace and a Deployment are created, the Deployment's controllers make its
 * pods, and where a worker is Ready the rollout completes; then the namespace is deleted.
 */
import { randomBytes } from 'node:crypto';
import type { Kubectl } from './kubectl.js';

export interface SmokeOptions {
  /** The Deployment's image; it runs `sleep`. */
  image: string;
  /** How long each wait may take. */
  timeoutSeconds: number;
  log: (line: string) => void;
}

export const defaultImage = 'public.ecr.aws/docker/library/busybox:1.36';
const replicas = 2;

/** Runs the checks; throws on the first that fails. Returns whether the rollout was waited for. */
export async function smokeTest(kubectl: Kubectl, options: SmokeOptions): Promise<{ rolledOut: boolean }> {
  const ok = async (what: string, args: string[]) => {
    const started = Date.now();
    const result = await kubectl(args);
    if (result.code !== 0)
      throw new Error(`${what}: kubectl ${args.join(' ')} failed: ${result.stderr.trim()}`);
    options.log(`ok  ${what} (${Date.now() - started} ms)`);
    return result.stdout;
  };
  const waitFor = async <T>(what: string, probe: () => Promise<T | undefined>) => {
    const started = Date.now();
    for (;;) {
      const value = await probe();
      if (value !== undefined) {
        options.log(`ok  ${what} (${Date.now() - started} ms)`);
        return value;
      }
      if (Date.now() - started > options.timeoutSeconds * 1000)
        throw new Error(`${what}: not within ${options.timeoutSeconds} s`);
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
  };

  await ok('the API server is ready', ['get', '--raw', '/readyz']);
  const namespace = `smoke-${randomBytes(3).toString('hex')}`;
  await ok(`namespace ${namespace} created`, ['create', 'namespace', namespace]);
  try {
    await ok('Deployment created', [
      '-n',
      namespace,
      'create',
      'deployment',
      'smoke',
      `--image=${options.image}`,
      `--replicas=${replicas}`,
      '--',
      'sleep',
      '3600',
    ]);
    await waitFor(`its ${replicas} pods made by the Deployment and ReplicaSet controllers`, async () => {
      const out = await kubectl(['-n', namespace, 'get', 'pods', '-l', 'app=smoke', '-o', 'name']);
      return out.code === 0 && out.stdout.trim().split('\n').filter(Boolean).length === replicas
        ? true
        : undefined;
    });
    const nodes = JSON.parse(await ok('nodes listed', ['get', 'nodes', '-o', 'json'])) as {
      items: { status?: { conditions?: { type: string; status: string }[] } }[];
    };
    const ready = nodes.items.filter((n) =>
      n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'),
    );
    if (ready.length === 0) {
      options.log(
        '--  no Ready worker node: the pods wait to be scheduled, so the rollout is not waited for',
      );
      return { rolledOut: false };
    }
    await ok(`rolled out on ${ready.length} Ready node(s)`, [
      '-n',
      namespace,
      'rollout',
      'status',
      'deployment/smoke',
      `--timeout=${options.timeoutSeconds}s`,
    ]);
    return { rolledOut: true };
  } finally {
    await ok(`namespace ${namespace} deleted`, [
      'delete',
      'namespace',
      namespace,
      '--wait=true',
      `--timeout=${options.timeoutSeconds}s`,
    ]);
  }
}

/** Why an endpoint cannot be used (nothing answers), or undefined if something does. */
export async function unreachable(endpoint: string): Promise<string | undefined> {
  try {
    await fetch(endpoint, { signal: AbortSignal.timeout(3000) });
    return undefined;
  } catch (error) {
    const cause = (error as { cause?: { code?: string } }).cause?.code ?? (error as Error).message;
    return `nothing answers at ${endpoint} (${cause})`;
  }
}
