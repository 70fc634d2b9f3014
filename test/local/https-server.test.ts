import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import type { ClientRequest, IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  type ApiHandler,
  type ApiRequest,
  type HttpsServer,
  startHttpsServer,
} from '../../shared/local/https-server.js';
import { writeKubeconfig } from '../../shared/local/kubeconfig.js';
import { type LocalCertificates, loadOrCreateCertificates } from '../../shared/local/tls.js';

const versionInfo = {
  major: '1',
  minor: '32',
  gitVersion: 'v1.32.0',
  gitCommit: '',
  gitTreeState: 'clean',
  buildDate: '2024-12-11T00:00:00Z',
  goVersion: 'go1.23.4',
  compiler: 'gc',
  platform: 'linux/amd64',
};

const json = (status: number, value: unknown) => ({
  status,
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify(value),
});

let scratch: string;
let certificates: LocalCertificates;
const servers: HttpsServer[] = [];

beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'lambernetes-https-'));
  certificates = await loadOrCreateCertificates(join(scratch, 'certs'));
});
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close()));
});
afterAll(async () => {
  await rm(scratch, { recursive: true, force: true });
});

async function serve(handler: ApiHandler, maxBodyBytes?: number): Promise<HttpsServer> {
  const server = await startHttpsServer({
    handler,
    host: '127.0.0.1',
    port: 0,
    cert: certificates.serverCert,
    key: certificates.serverKey,
    ...(maxBodyBytes === undefined ? {} : { maxBodyBytes }),
  });
  servers.push(server);
  return server;
}

/** Rejects if `promise` has not settled within `ms`. */
function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

/** A request over TLS trusting only the local CA; no connection reuse. */
function open(
  url: string,
  path: string,
  options: { method?: string; headers?: Record<string, string | number> } = {},
): { request: ClientRequest; response: Promise<IncomingMessage> } {
  let request!: ClientRequest;
  const response = new Promise<IncomingMessage>((resolve, reject) => {
    request = httpsRequest(
      new URL(path, url),
      { method: options.method ?? 'GET', headers: options.headers, ca: certificates.caCert, agent: false },
      resolve,
    );
    request.on('error', reject);
  });
  return { request, response };
}

async function readAll(response: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of response) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

async function call(
  url: string,
  path: string,
  options: { method?: string; headers?: Record<string, string | number>; body?: string | Buffer } = {},
): Promise<{ status: number; headers: IncomingMessage['headers']; body: string }> {
  const { request, response } = open(url, path, options);
  request.end(options.body);
  const res = await within(response, 10_000, `${options.method ?? 'GET'} ${path}`);
  return { status: res.statusCode ?? 0, headers: res.headers, body: await readAll(res) };
}

/** Runs the real kubectl (through its version dispatcher) with a home of its own. */
function runKubectl(
  home: string,
  kubeconfig: string,
  args: string[],
): Promise<{ stdout: string; stderr: string; error?: string }> {
  return new Promise((resolve) => {
    execFile(
      '/usr/bin/kubectl',
      ['--kubeconfig', kubeconfig, ...args],
      { env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: home }, timeout: 60_000 },
      (error, stdout, stderr) => resolve({ stdout, stderr, ...(error ? { error: error.message } : {}) }),
    );
  });
}

/** Resolves with the next chunk of a response body. */
function nextChunk(response: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    response.once('data', (chunk: Buffer) => resolve(chunk.toString('utf8')));
    response.once('error', reject);
  });
}

function deferred<T = void>(): { promise: Promise<T>; resolve: (value: T) => void } {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

describe('https server', () => {
  it('listens on a random port and answers /version with the handler’s JSON', async () => {
    const seen: ApiRequest[] = [];
    const server = await serve(async (request) => {
      seen.push(request);
      return request.path === '/version' ? json(200, versionInfo) : json(404, {});
    });
    expect(server.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    expect(server.url).not.toMatch(/:0$/);

    const response = await call(server.url, '/version?timeout=32s&a=1&a=2', {
      headers: { 'X-Custom': 'Yes' },
    });
    expect(response.status).toBe(200);
    expect(response.headers['content-type']).toBe('application/json');
    expect(JSON.parse(response.body)).toEqual(versionInfo);
    const [request] = seen;
    expect(request?.method).toBe('GET');
    expect(request?.path).toBe('/version');
    expect(request?.query.get('timeout')).toBe('32s');
    expect(request?.query.getAll('a')).toEqual(['1', '2']);
    expect(request?.headers['x-custom']).toBe('Yes');
    expect(request?.body.length).toBe(0);
    expect(request?.remoteAddress).toBe('127.0.0.1');
  });

  it('hands the handler the whole request body', async () => {
    let received: Buffer | undefined;
    const server = await serve(async (request) => {
      received = request.body;
      return { status: 201, headers: {}, body: Buffer.from('created') };
    });
    const body = Buffer.alloc(200_000, 'x');
    const response = await call(server.url, '/api/v1/namespaces/default/configmaps', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body,
    });
    expect(response.status).toBe(201);
    expect(response.body).toBe('created');
    expect(received?.equals(body)).toBe(true);
  });

  it('serves the real kubectl over TLS trusted through the kubeconfig’s CA, with its bearer token', async () => {
    const seen: ApiRequest[] = [];
    const server = await serve(async (request) => {
      seen.push(request);
      if (request.path === '/version') return json(200, versionInfo);
      if (request.path === '/healthz')
        return { status: 200, headers: { 'content-type': 'text/plain' }, body: 'ok' };
      return json(404, {
        kind: 'Status',
        apiVersion: 'v1',
        status: 'Failure',
        reason: 'NotFound',
        code: 404,
      });
    });
    const home = await mkdtemp(join(scratch, 'home-'));
    const kubeconfig = join(home, '.kube', 'lambernetes');
    const token = 'test-token-0123456789';
    await writeKubeconfig(kubeconfig, {
      clusterName: 'lambernetes-test',
      server: server.url,
      caCert: certificates.caCert,
      user: 'tester',
      token,
    });
    const kubectl = async (...args: string[]) => {
      const run = await runKubectl(home, kubeconfig, args);
      if (run.error) throw new Error(`kubectl ${args.join(' ')}: ${run.error}\n${run.stderr}`);
      return run.stdout;
    };

    const version = JSON.parse(await kubectl('version', '-o', 'json'));
    expect(version.serverVersion).toMatchObject({ major: '1', minor: '32', gitVersion: 'v1.32.0' });
    expect(await kubectl('get', '--raw', '/healthz')).toBe('ok');

    expect(seen.map((request) => request.path)).toContain('/healthz');
    expect(seen.map((request) => request.path)).toContain('/version');
    for (const request of seen) expect(request.headers.authorization).toBe(`Bearer ${token}`);
  });

  it('is refused by kubectl when the kubeconfig trusts another CA', async () => {
    const seen: ApiRequest[] = [];
    const server = await serve(async (request) => {
      seen.push(request);
      return json(200, versionInfo);
    });
    const home = await mkdtemp(join(scratch, 'home-'));
    const strangerCa = (await loadOrCreateCertificates(join(home, 'other-ca'))).caCert;
    const kubeconfig = join(home, '.kube', 'config');
    await writeKubeconfig(kubeconfig, {
      clusterName: 'lambernetes-test',
      server: server.url,
      caCert: strangerCa,
      user: 'tester',
      token: 'never-sent',
    });
    const run = await runKubectl(home, kubeconfig, ['get', '--raw', '/healthz']);
    expect(run.error).toBeDefined();
    expect(run.stderr).toMatch(/x509|certificate/);
    expect(seen).toEqual([]);
  });

  it('delivers a streamed response chunk by chunk, the first before the stream ends', async () => {
    const release = deferred();
    let ended = false;
    const server = await serve(async () => ({
      status: 200,
      headers: { 'content-type': 'application/json' },
      stream: (async function* () {
        yield '{"type":"ADDED"}\n';
        await release.promise;
        yield Buffer.from('{"type":"MODIFIED"}\n');
        ended = true;
      })(),
    }));
    const { request, response } = open(server.url, '/api/v1/pods?watch=1');
    request.end();
    const res = await within(response, 10_000, 'response headers');
    expect(res.statusCode).toBe(200);
    expect(res.headers['transfer-encoding']).toBe('chunked');
    expect(await within(nextChunk(res), 10_000, 'first chunk')).toBe('{"type":"ADDED"}\n');
    expect(ended).toBe(false);
    release.resolve();
    expect(await within(readAll(res), 10_000, 'rest of the stream')).toBe('{"type":"MODIFIED"}\n');
    expect(ended).toBe(true);
  });

  it('stops a stream when its client disconnects: the signal aborts and the iterator is returned', async () => {
    const aborted = deferred();
    const returned = deferred();
    const server = await serve(async (request) => {
      request.signal.addEventListener('abort', () => aborted.resolve());
      let sent = false;
      // A hand-written iterator whose next() never settles after the first chunk, like an idle watch.
      const stream: AsyncIterableIterator<string> = {
        [Symbol.asyncIterator]() {
          return stream;
        },
        next() {
          if (sent) return new Promise(() => {});
          sent = true;
          return Promise.resolve({ done: false, value: 'first\n' });
        },
        return() {
          returned.resolve();
          return Promise.resolve({ done: true, value: undefined });
        },
      };
      return { status: 200, headers: {}, stream };
    });
    const { request, response } = open(server.url, '/watch');
    request.end();
    const res = await within(response, 10_000, 'response headers');
    expect(await within(nextChunk(res), 10_000, 'first chunk')).toBe('first\n');
    request.destroy();
    await within(aborted.promise, 10_000, 'signal aborted');
    await within(returned.promise, 10_000, 'iterator returned');
  });

  it('lets an async generator waiting on the signal finish when its client disconnects', async () => {
    const finished = deferred();
    const server = await serve(async ({ signal }) => ({
      status: 200,
      headers: {},
      stream: (async function* () {
        try {
          yield 'first\n';
          await new Promise((resolve) => signal.addEventListener('abort', resolve));
          yield 'never sent\n';
        } finally {
          finished.resolve();
        }
      })(),
    }));
    const { request, response } = open(server.url, '/watch');
    request.end();
    const res = await within(response, 10_000, 'response headers');
    expect(await within(nextChunk(res), 10_000, 'first chunk')).toBe('first\n');
    request.destroy();
    await within(finished.promise, 10_000, 'generator finished');
  });

  it('ends open streams on close and then closes', async () => {
    const server = await serve(async ({ signal }) => ({
      status: 200,
      headers: {},
      stream: (async function* () {
        yield 'first\n';
        await new Promise((resolve) => signal.addEventListener('abort', resolve));
      })(),
    }));
    const { request, response } = open(server.url, '/watch');
    request.end();
    const res = await within(response, 10_000, 'response headers');
    expect(await within(nextChunk(res), 10_000, 'first chunk')).toBe('first\n');
    const rest = readAll(res).then(
      (text) => ({ ended: true, text }),
      () => ({ ended: false, text: '' }),
    );
    await within(server.close(), 10_000, 'close');
    expect(await within(rest, 10_000, 'stream end')).toEqual({ ended: true, text: '' });
    await expect(call(server.url, '/version')).rejects.toThrow(/ECONNREFUSED/);
  });

  it('answers an oversized body with 413 and a Status, and closes the connection', async () => {
    let called = false;
    const server = await serve(async () => {
      called = true;
      return json(200, {});
    }, 1024);

    // Declared too large: refused without reading it.
    const declared = await call(server.url, '/api/v1/namespaces/default/configmaps', {
      method: 'POST',
      body: Buffer.alloc(256 * 1024, 'x'),
    });
    expect(declared.status).toBe(413);
    expect(declared.headers.connection).toBe('close');
    expect(JSON.parse(declared.body)).toEqual({
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: 'Request entity too large: limit is 1024',
      reason: 'RequestEntityTooLarge',
      code: 413,
    });

    // Chunked, no length: refused once the limit is crossed, while the client is still sending.
    const { request, response } = open(server.url, '/api/v1/namespaces/default/configmaps', {
      method: 'POST',
    });
    request.write(Buffer.alloc(2048, 'y'));
    const res = await within(response, 10_000, 'response to a chunked body');
    expect(res.statusCode).toBe(413);
    expect(JSON.parse(await readAll(res)).reason).toBe('RequestEntityTooLarge');
    await within(
      new Promise((resolve) =>
        request.socket?.destroyed ? resolve(null) : request.socket?.once('close', resolve),
      ),
      10_000,
      'connection closed',
    );

    // Expect: 100-continue with a large declared length: refused before any of the body is sent.
    const { request: asking, response: answer } = open(server.url, '/api/v1/namespaces/default/configmaps', {
      method: 'POST',
      headers: { expect: '100-continue', 'content-length': 1_000_000 },
    });
    let continued = false;
    asking.on('continue', () => {
      continued = true;
    });
    asking.flushHeaders();
    const refused = await within(answer, 10_000, 'response to Expect: 100-continue');
    expect(refused.statusCode).toBe(413);
    expect(continued).toBe(false);
    asking.destroy();

    expect(called).toBe(false);
  });

  it('takes bodies up to 3 MiB by default and refuses larger ones', async () => {
    const server = await serve(async (request) => json(200, { length: request.body.length }));
    const limit = 3 * 1024 * 1024;
    const atLimit = await call(server.url, '/upload', { method: 'PUT', body: Buffer.alloc(limit) });
    expect(JSON.parse(atLimit.body)).toEqual({ length: limit });
    const over = await call(server.url, '/upload', { method: 'PUT', body: Buffer.alloc(limit + 1) });
    expect(over.status).toBe(413);
  });

  it('answers a generic 500 Status when the handler throws, never the error', async () => {
    const server = await serve(async () => {
      throw new Error('secret table name: lambernetes-prod');
    });
    const response = await call(server.url, '/api/v1/pods');
    expect(response.status).toBe(500);
    expect(response.headers['content-type']).toBe('application/json');
    expect(JSON.parse(response.body)).toEqual({
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: 'Internal error occurred: an internal error occurred',
      reason: 'InternalError',
      code: 500,
    });
    expect(response.body).not.toContain('secret');
  });
});
