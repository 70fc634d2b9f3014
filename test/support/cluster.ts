import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, readFile } from 'node:fs/promises';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApiClient } from '../../shared/client/client.js';
import { httpsTransport } from '../../shared/client/https-transport.js';
import {
  type LocalCluster,
  type LocalClusterOptions,
  startLocalCluster,
} from '../../shared/local/cluster.js';
import { dynamoEndpoint } from './dynamo.js';

export interface TestCluster extends LocalCluster {
  dataDir: string;
  caCert: string;
  /** An API client with the admin token, over HTTPS. */
  client: ApiClient;
  /** Runs the real kubectl against the cluster, with its own HOME (and so its own discovery cache). */
  kubectl(
    args: string[],
    input?: string,
    extraEnv?: Record<string, string>,
  ): Promise<{ stdout: string; stderr: string; code: number }>;
  /** kubectl that must succeed: its stdout, or an error with its stderr. */
  kubectlOk(args: string[], input?: string): Promise<string>;
  /** A raw HTTPS request with the admin token (or the given headers). */
  api(
    method: string,
    path: string,
    options?: { body?: string; headers?: Record<string, string> },
  ): Promise<{ status: number; body: string; json: <T = Record<string, unknown>>() => T }>;
}

/**
 * A local cluster on a free port, on a fresh table of the run's DynamoDB Local; with `agents`, that
 * many worker nodes running containers through Podman (`cluster.agents.podman` reaches it).
 */
export async function startTestCluster(
  options: Pick<
    LocalClusterOptions,
    'maxWatchSeconds' | 'controlPlane' | 'notifier' | 'agents' | 'simulatedNodes' | 'asDeployed' | 'meter'
  > = {},
): Promise<TestCluster> {
  const dataDir = await mkdtemp(join(tmpdir(), 'lambernetes-test-'));
  const cluster = await startLocalCluster({
    dataDir,
    port: 0,
    dynamoEndpoint,
    tableName: `t-${randomUUID()}`,
    // A throwaway cluster: its agents remove their containers and proxy rules when it stops.
    inMemory: true,
    ...options,
  });
  const caCert = await readFile(join(dataDir, 'pki', 'ca.crt'), 'utf8');
  const env = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: join(dataDir, 'home'),
    KUBECONFIG: cluster.kubeconfigPath,
  };
  const kubectl: TestCluster['kubectl'] = (args, input, extraEnv) =>
    new Promise((resolve) => {
      const child = execFile(
        'kubectl',
        args,
        { env: { ...env, ...extraEnv }, timeout: 150_000 },
        (error, stdout, stderr) => {
          resolve({ stdout, stderr, code: error ? ((error as { code?: number }).code ?? 1) : 0 });
        },
      );
      if (input !== undefined) child.stdin?.end(input);
    });
  return {
    ...cluster,
    dataDir,
    caCert,
    client: new ApiClient(httpsTransport({ url: cluster.url, ca: caCert }), cluster.token),
    kubectl,
    kubectlOk: async (args, input) => {
      const result = await kubectl(args, input);
      if (result.code !== 0) throw new Error(`kubectl ${args.join(' ')}: ${result.stderr}`);
      return result.stdout;
    },
    api: (method, path, options = {}) =>
      new Promise((resolve, reject) => {
        const url = new URL(path, cluster.url);
        const headers = {
          ...(options.headers ?? {
            authorization: `Bearer ${cluster.token}`,
            'content-type': 'application/json',
          }),
          // Node sends a DELETE body unframed unless told its length.
          ...(options.body !== undefined
            ? { 'content-length': String(Buffer.byteLength(options.body)) }
            : {}),
        };
        const req = request(url, { method, headers, ca: caCert }, (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('end', () => {
            const body = Buffer.concat(chunks).toString('utf8');
            resolve({ status: res.statusCode ?? 0, body, json: <T>() => JSON.parse(body) as T });
          });
        });
        req.on('error', reject);
        req.end(options.body);
      }),
  };
}
