/**
 * The kubelet relay (functions/kubelet-relay): its function against a real HTTPS server standing in for
 * a kubelet endpoint, and the API server's side against the Lambda client. There is no Lambda service
 * here, so two things are stood in for: the runtime's response stream (a Writable that keeps what is
 * written) and LambdaClient's InvokeWithResponseStream (aws-sdk-client-mock), which the composed test
 * answers by running the real relay function.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Writable } from 'node:stream';
import { InvokeWithResponseStreamCommand, LambdaClient } from '@aws-sdk/client-lambda';
import type { Context } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiError } from '../../shared/api/errors.js';
import { loadOrCreateCertificates } from '../../shared/local/tls.js';

const token = 'kubelet-token';
let kubelet: Server;
let base: string;
let work: string;
// The relay module calls the runtime's `awslambda.streamifyResponse` at load: stood in for, as in lambda.test.ts.
(globalThis as { awslambda?: unknown }).awslambda = { streamifyResponse: <T>(handler: T) => handler };
const { relay } = await import('../../functions/kubelet-relay/lambda.js');
const { relayedKubeletFetch } = await import('../../functions/kubelet-relay/client.js');
const { parseRelayRequest } = await import('../../functions/kubelet-relay/protocol.js');

const context = (remainingMs = 60_000) =>
  ({ getRemainingTimeInMillis: () => remainingMs }) as unknown as Context;

class Collected extends Writable {
  readonly chunks: Buffer[] = [];
  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: () => void): void {
    this.chunks.push(Buffer.from(chunk));
    callback();
  }
  text = () => Buffer.concat(this.chunks).toString('utf8');
}

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'lambernetes-relay-'));
  const pki = await loadOrCreateCertificates(join(work, 'pki'));
  kubelet = createServer({ cert: pki.serverCert, key: pki.serverKey }, (req, res) => {
    if (req.headers.authorization !== `Bearer ${token}`) {
      res.writeHead(401).end('Unauthorized');
      return;
    }
    if (req.url?.startsWith('/containerLogs/default/web/app')) {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.write('line 1\n');
      setTimeout(() => res.end('line 2\n'), 50);
      return;
    }
    res.writeHead(404, { 'content-type': 'text/plain' }).end('container not found');
  });
  await new Promise<void>((resolve) => kubelet.listen(0, '127.0.0.1', resolve));
  base = `https://127.0.0.1:${(kubelet.address() as { port: number }).port}`;
});
afterAll(async () => {
  await new Promise((resolve) => kubelet?.close(resolve));
  if (work) await rm(work, { recursive: true, force: true });
});

describe('the kubelet relay function', () => {
  it('relays only https container logs, with a token', () => {
    expect(parseRelayRequest({ url: `${base}/containerLogs/a/b/c?follow=true`, token }).url.pathname).toBe(
      '/containerLogs/a/b/c',
    );
    for (const bad of [
      { url: `${base}/exec/a/b/c`, token },
      { url: 'http://10.0.1.5:10250/containerLogs/a/b/c', token },
      { url: `${base}/containerLogs/a/b/c`, token: '' },
      { url: 'not a url', token },
      null,
    ])
      expect(() => parseRelayRequest(bad), JSON.stringify(bad)).toThrow(ApiError);
  });

  it("streams the kubelet's answer after a head line with its status", async () => {
    const out = new Collected();
    await relay({ url: `${base}/containerLogs/default/web/app?follow=true`, token }, out, context());
    expect(out.text()).toBe('{"status":200,"contentType":"text/plain"}\nline 1\nline 2\n');
    expect(out.writableEnded).toBe(true);

    const missing = new Collected();
    await relay({ url: `${base}/containerLogs/default/web/other`, token }, missing, context());
    expect(missing.text()).toBe('{"status":404,"contentType":"text/plain"}\ncontainer not found');
  });

  it('answers a Status when the kubelet cannot be reached or the request is not one it relays', async () => {
    const closed = new Collected();
    await relay({ url: 'https://127.0.0.1:1/containerLogs/a/b/c', token }, closed, context());
    const [head, body] = closed.text().split('\n');
    expect(JSON.parse(head as string)).toEqual({ status: 503, contentType: 'application/json' });
    expect(JSON.parse(body as string)).toMatchObject({ kind: 'Status', code: 503 });

    const refused = new Collected();
    await relay({ url: `${base}/exec/a/b/c`, token }, refused, context());
    expect(JSON.parse(refused.text().split('\n')[0] as string)).toMatchObject({ status: 400 });
  });
});

describe("the API server's side of the relay", () => {
  const lambda = mockClient(LambdaClient);
  afterAll(() => lambda.restore());
  const client = () => new LambdaClient({ region: 'eu-west-1' });
  const chunks = async (body: AsyncIterable<Buffer>) => {
    const parts: Buffer[] = [];
    for await (const part of body) parts.push(part);
    return Buffer.concat(parts).toString('utf8');
  };

  it('runs the real relay function behind InvokeWithResponseStream and streams its body', async () => {
    lambda
      .on(InvokeWithResponseStreamCommand)
      .callsFake(async (input: { Payload: Uint8Array; FunctionName: string }) => {
        expect(input.FunctionName).toBe('relay-fn');
        const stream = new PassThrough();
        void relay(JSON.parse(Buffer.from(input.Payload).toString('utf8')), stream, context());
        async function* events() {
          for await (const chunk of stream)
            yield { PayloadChunk: { Payload: new Uint8Array(chunk as Buffer) } };
          yield { InvokeComplete: {} };
        }
        return { StatusCode: 200, EventStream: events() };
      });
    const response = await relayedKubeletFetch(client(), 'relay-fn')(
      new URL(`${base}/containerLogs/default/web/app`),
      token,
    );
    expect(response.status).toBe(200);
    expect(response.contentType).toBe('text/plain');
    expect(await chunks(response.body)).toBe('line 1\nline 2\n');
  });

  it('reads a head split over chunks, and fails the body when the invocation fails midway', async () => {
    lambda.on(InvokeWithResponseStreamCommand).resolves({
      StatusCode: 200,
      EventStream: (async function* () {
        for (const part of ['{"status":200,', '"contentType":"text/plain"}\nfirst', ' line\n'])
          yield { PayloadChunk: { Payload: Buffer.from(part) } };
        yield { InvokeComplete: { ErrorCode: 'Sandbox.Timedout', ErrorDetails: 'Task timed out' } };
      })(),
    });
    const response = await relayedKubeletFetch(client(), 'relay-fn')(
      new URL(`${base}/containerLogs/a/b/c`),
      token,
    );
    expect(response.status).toBe(200);
    const parts: string[] = [];
    await expect(
      (async () => {
        for await (const part of response.body) parts.push(part.toString('utf8'));
      })(),
    ).rejects.toThrow('the kubelet relay failed: Sandbox.Timedout: Task timed out');
    expect(parts.join('')).toBe('first line\n');
  });

  it('answers 503 when the relay cannot be invoked or fails before its head', async () => {
    lambda.on(InvokeWithResponseStreamCommand).rejects(new Error('AccessDeniedException'));
    const denied = await relayedKubeletFetch(client(), 'relay-fn')(
      new URL(`${base}/containerLogs/a/b/c`),
      token,
    ).catch((error: unknown) => error);
    expect(denied).toBeInstanceOf(ApiError);
    expect((denied as ApiError).code).toBe(503);

    lambda.on(InvokeWithResponseStreamCommand).resolves({
      StatusCode: 200,
      EventStream: (async function* () {
        yield { InvokeComplete: { ErrorCode: 'Unhandled', ErrorDetails: 'boom' } };
      })(),
    });
    await expect(
      relayedKubeletFetch(client(), 'relay-fn')(new URL(`${base}/containerLogs/a/b/c`), token),
    ).rejects.toThrow('the kubelet relay failed: Unhandled: boom');
  });
});
