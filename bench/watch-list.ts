/**
 * bench:watch-list: LIST and watch latency through the local HTTPS API server (alone: no controllers)
 * with a namespace of N ConfigMaps, for N = 1,000 and 10,000 (BENCH_SIZES="200,1000" to change), and
 * the resident memory of this process, which hosts the API server: at rest, and at its peak while it
 * serves the full lists.
 *
 * The namespaces are filled through the store directly, 16 writes at a time (the rate is reported, as
 * `fill<N>PerSec`): the fill is not what is measured, and the API's create path is bench:api's. Per N:
 * a full LIST (p50/p99 over BENCH_LIST_REPEATS), a LIST paged 500 at a time to the end, and watch
 * latency: with a watch open on the namespace, the time from sending a merge patch to reading its
 * MODIFIED event, one update at a time (BENCH_WATCH_UPDATES). Prints one JSON line last.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import type { IncomingMessage } from 'node:http';
import { Agent, request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { KubernetesObject } from '../shared/api/types.js';
import { startLocalCluster } from '../shared/local/cluster.js';
import { localCredentials, startDynamoDBLocal } from '../shared/local/dynamodb-local.js';
import { Store } from '../shared/store/store.js';
import { percentile } from './measure.js';

const sizes = (process.env.BENCH_SIZES ?? '1000,10000')
  .split(',')
  .map(Number)
  .sort((a, b) => a - b);
const listRepeats = Number(process.env.BENCH_LIST_REPEATS ?? 5);
const updates = Number(process.env.BENCH_WATCH_UPDATES ?? 100);
const pageLimit = 500;
const fillConcurrency = 16;
const tableName = 'bench-watch-list';

const ms = (x: number) => Number(x.toFixed(1));
const mib = (bytes: number) => Number((bytes / 1024 / 1024).toFixed(1));

if (sizes.some((n) => !Number.isInteger(n) || n < 1)) throw new Error(`BENCH_SIZES: not sizes: ${sizes}`);

/**
 * Peak resident memory while `work` runs. The kernel's high-water mark (VmHWM) is exact once reset
 * (writing 5 to /proc/self/clear_refs); where that is refused, RSS sampled every 5 ms, which can miss
 * a peak that a garbage collection undoes between samples, or one inside a long synchronous step.
 */
async function peakRss<T>(work: () => Promise<T>): Promise<{ result: T; peak: number }> {
  let exact = true;
  try {
    writeFileSync('/proc/self/clear_refs', '5');
  } catch {
    exact = false;
  }
  let sampled = process.memoryUsage.rss();
  const sampler = setInterval(() => {
    sampled = Math.max(sampled, process.memoryUsage.rss());
  }, 5);
  try {
    const result = await work();
    sampled = Math.max(sampled, process.memoryUsage.rss());
    const hwm = exact ? /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'))?.[1] : undefined;
    return { result, peak: Math.max(sampled, hwm === undefined ? 0 : Number(hwm) * 1024) };
  } finally {
    clearInterval(sampler);
  }
}

const configMap = (namespace: string, name: string): KubernetesObject => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  // What the API server would have given it on create.
  metadata: { name, namespace, uid: randomUUID(), creationTimestamp: new Date().toISOString() },
  data: { value: randomBytes(64).toString('hex') },
});

const dynamo = await startDynamoDBLocal();
const dataDir = await mkdtemp(join(tmpdir(), 'lambernetes-bench-'));
const cluster = await startLocalCluster({
  dataDir,
  port: 0,
  dynamoEndpoint: dynamo.endpoint,
  tableName,
  controlPlane: false,
});
const client = new DynamoDBClient({
  endpoint: dynamo.endpoint,
  region: 'us-east-1',
  credentials: localCredentials,
});
const ca = await readFile(join(dataDir, 'pki', 'ca.crt'), 'utf8');
const httpsAgent = new Agent({ keepAlive: true, ca });
try {
  const store = Store.of(client, tableName);

  /** One request over HTTPS; resolves once the whole body has arrived (upstream's "last byte" too). */
  const api = (
    method: string,
    path: string,
    body?: unknown,
    contentType = 'application/json',
  ): Promise<{ status: number; body: Buffer }> =>
    new Promise((resolve, reject) => {
      const req = request(
        new URL(path, cluster.url),
        {
          method,
          agent: httpsAgent,
          headers: { authorization: `Bearer ${cluster.token}`, 'content-type': contentType },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('end', () => {
            const status = res.statusCode ?? 0;
            const text = Buffer.concat(chunks);
            if (status < 300) resolve({ status, body: text });
            else reject(new Error(`${method} ${path}: ${status} ${text.toString('utf8').slice(0, 200)}`));
          });
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      req.end(body === undefined ? undefined : JSON.stringify(body));
    });
  const nsPath = (ns: string) => `/api/v1/namespaces/${ns}/configmaps`;

  /**
   * A full LIST, timed to its last byte. Checked (`check`): parsed, its items counted, its
   * resourceVersion returned; the timed ones are not parsed, which would add the client's copy of
   * 10,000 objects to this process's memory, the API server's.
   */
  const listAll = async (ns: string, n: number, check = false) => {
    const started = performance.now();
    const { body } = await api('GET', nsPath(ns));
    const elapsed = performance.now() - started;
    if (!check) return { ms: elapsed, bytes: body.length, resourceVersion: '' };
    const list = JSON.parse(body.toString('utf8')) as {
      items: unknown[];
      metadata: { resourceVersion: string };
    };
    if (list.items.length !== n) throw new Error(`LIST ${ns}: ${list.items.length} items, expected ${n}`);
    return { ms: elapsed, bytes: body.length, resourceVersion: list.metadata.resourceVersion };
  };

  /** LIST in pages of `pageLimit`, following `continue` to the end; checks the pages add up to `n`. */
  const listPaged = async (ns: string, n: number): Promise<void> => {
    let seen = 0;
    let next: string | undefined;
    do {
      const query = `?limit=${pageLimit}${next ? `&continue=${encodeURIComponent(next)}` : ''}`;
      const { body } = await api('GET', `${nsPath(ns)}${query}`);
      const page = JSON.parse(body.toString('utf8')) as { items: unknown[]; metadata: { continue?: string } };
      seen += page.items.length;
      next = page.metadata.continue || undefined;
    } while (next);
    if (seen !== n) throw new Error(`paged LIST ${ns}: ${seen} items, expected ${n}`);
  };

  /** Fills namespace `ns` with `n` ConfigMaps through the store, `fillConcurrency` at a time. */
  const fill = async (ns: string, n: number): Promise<number> => {
    await api('POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
    const started = performance.now();
    let next = 0;
    await Promise.all(
      Array.from({ length: fillConcurrency }, async () => {
        while (next < n) {
          const name = `cm-${next++}`;
          await store.create({ resource: 'configmaps', namespace: ns, name }, configMap(ns, name));
        }
      }),
    );
    return n / ((performance.now() - started) / 1000);
  };

  /**
   * A watch on namespace `ns` from `resourceVersion`: `next(name, value)` resolves when the MODIFIED
   * event of that object with that value is read (arrival time, performance.now()).
   */
  const openWatch = async (ns: string, resourceVersion: string) => {
    const waiting = new Map<string, (at: number) => void>();
    const arrived = new Map<string, number>();
    const response = await new Promise<IncomingMessage>((resolve, reject) => {
      const req = request(
        new URL(`${nsPath(ns)}?watch=1&resourceVersion=${resourceVersion}`, cluster.url),
        // Its own connection: the keep-alive pool's sockets carry the updates meanwhile.
        { agent: false, ca, headers: { authorization: `Bearer ${cluster.token}` } },
        resolve,
      );
      req.on('error', reject);
      req.end();
    });
    if (response.statusCode !== 200) throw new Error(`watch ${ns}: ${response.statusCode}`);
    let buffered = '';
    response.setEncoding('utf8');
    response.on('data', (chunk: string) => {
      const at = performance.now();
      buffered += chunk;
      for (let end = buffered.indexOf('\n'); end >= 0; end = buffered.indexOf('\n')) {
        const line = buffered.slice(0, end);
        buffered = buffered.slice(end + 1);
        const event = JSON.parse(line) as {
          type: string;
          object: KubernetesObject & { data?: { value?: string } };
        };
        if (event.type !== 'MODIFIED') continue;
        const key = `${event.object.metadata.name}=${event.object.data?.value}`;
        const resolve = waiting.get(key);
        if (resolve) resolve(at);
        else arrived.set(key, at);
      }
    });
    response.on('error', () => undefined); // ended by `close` below
    return {
      next: (name: string, value: string, timeoutMs = 10_000) =>
        new Promise<number>((resolve, reject) => {
          const key = `${name}=${value}`;
          const early = arrived.get(key);
          if (early !== undefined) return resolve(early);
          const timer = setTimeout(
            () => reject(new Error(`watch ${ns}: no event for ${key} in ${timeoutMs} ms`)),
            timeoutMs,
          );
          waiting.set(key, (at) => {
            clearTimeout(timer);
            waiting.delete(key);
            resolve(at);
          });
        }),
      close: () => response.destroy(),
    };
  };

  const patch = (ns: string, name: string, value: string) =>
    api('PATCH', `${nsPath(ns)}/${name}`, { data: { value } }, 'application/merge-patch+json');

  // At rest: the API server started, nothing asked of it yet (the process's RSS: tsx, the modules, the
  // server and the DynamoDB client).
  await new Promise((resolve) => setTimeout(resolve, 1000));
  const figures: Record<string, number> = {
    updates,
    listRepeats,
    pageLimit,
    rssAtRestMiB: mib(process.memoryUsage.rss()),
  };

  for (const n of sizes) {
    const ns = `n${n}`;
    const fillPerSec = await fill(ns, n);
    console.log(`${ns}: ${n} ConfigMaps written through the store at ${fillPerSec.toFixed(0)}/s`);
    // Untimed: warms DynamoDB Local's JIT and the server's paths for this size.
    const { bytes } = await listAll(ns, n, true);
    await listPaged(ns, n);

    const full: number[] = [];
    const paged: number[] = [];
    const { peak } = await peakRss(async () => {
      for (let i = 0; i < listRepeats; i++) full.push((await listAll(ns, n)).ms);
    });
    for (let i = 0; i < listRepeats; i++) {
      const started = performance.now();
      await listPaged(ns, n);
      paged.push(performance.now() - started);
    }
    console.log(
      `${ns}: full LIST p50 ${ms(percentile(full, 50))} ms, paged (${pageLimit}) p50 ${ms(percentile(paged, 50))} ms, ` +
        `peak RSS ${mib(peak)} MiB`,
    );

    const { resourceVersion } = await listAll(ns, n, true);
    const watch = await openWatch(ns, resourceVersion);
    const sentToEvent: number[] = [];
    const ackToEvent: number[] = [];
    const patchLatency: number[] = [];
    try {
      // Five untimed updates first: the watch is surely open once their events arrive.
      for (let i = -5; i < updates; i++) {
        const name = `cm-${((i % n) + n) % n}`;
        const value = `u${i}`;
        const sent = performance.now();
        await patch(ns, name, value);
        const acked = performance.now();
        const arrived = await watch.next(name, value);
        if (i < 0) continue;
        patchLatency.push(acked - sent);
        sentToEvent.push(arrived - sent);
        // A watcher may read the event before the writer reads its response: that counts as zero.
        ackToEvent.push(Math.max(0, arrived - acked));
      }
    } finally {
      watch.close();
    }
    console.log(
      `${ns}: watch latency (update sent → event read) p50 ${ms(percentile(sentToEvent, 50))} ms, ` +
        `p99 ${ms(percentile(sentToEvent, 99))} ms; the update's own p50 ${ms(percentile(patchLatency, 50))} ms`,
    );

    Object.assign(figures, {
      [`fill${n}PerSec`]: Math.round(fillPerSec),
      [`list${n}P50Ms`]: ms(percentile(full, 50)),
      [`list${n}P99Ms`]: ms(percentile(full, 99)),
      [`listBody${n}MiB`]: mib(bytes),
      [`pagedList${n}P50Ms`]: ms(percentile(paged, 50)),
      [`pagedList${n}P99Ms`]: ms(percentile(paged, 99)),
      [`watch${n}P50Ms`]: ms(percentile(sentToEvent, 50)),
      [`watch${n}P99Ms`]: ms(percentile(sentToEvent, 99)),
      [`watchAfterAck${n}P50Ms`]: ms(percentile(ackToEvent, 50)),
      [`patch${n}P50Ms`]: ms(percentile(patchLatency, 50)),
      [`rssPeakList${n}MiB`]: mib(peak),
    });
  }
  console.log(JSON.stringify(figures));
} finally {
  httpsAgent.destroy();
  await cluster.stop();
  client.destroy();
  await dynamo.stop();
  await rm(dataDir, { recursive: true, force: true });
}
