/**
 * A thin HTTPS (HTTP/1.1) server in front of a framework-agnostic handler: the same handler contract the
 * Lambda function-URL adapter serves. The server buffers request bodies up to a limit, writes buffered
 * or streamed responses (each streamed chunk is flushed as it comes), turns a thrown error into a generic
 * 500 Status, and tells the handler when the client goes away.
 */
import { type IncomingMessage, type ServerResponse, STATUS_CODES } from 'node:http';
import { createServer, request as httpsRequest, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { internalError, notFound, type Status, serviceUnavailable, tooLarge } from '../api/errors.js';
import type { ApiHandler, ApiRequest, ApiResponse, UpgradeHandler } from '../http/contract.js';

export type { ApiHandler, ApiRequest, ApiResponse } from '../http/contract.js';

export interface HttpsServerOptions {
  handler: ApiHandler;
  host: string;
  /** 0 picks a free port, reflected in `url`. */
  port: number;
  /** PEM of the server certificate (and any intermediates). */
  cert: string;
  /** PEM of the server's private key. */
  key: string;
  /** The largest request body accepted; larger ones get 413. Default 3 MiB, as kube-apiserver. */
  maxBodyBytes?: number;
  /** Requests to switch protocols (`kubectl exec`'s WebSocket); without it they get 404. */
  upgrade?: UpgradeHandler;
}

export interface HttpsServer {
  /** `https://host:port`, with the port actually bound. */
  url: string;
  /** Ends open streams, drops every connection and resolves when the server has closed. */
  close(): Promise<void>;
}

export const defaultMaxBodyBytes = 3 * 1024 * 1024;

/** The request was too large; the body was not (fully) read. */
class BodyTooLarge extends Error {}

export async function startHttpsServer(options: HttpsServerOptions): Promise<HttpsServer> {
  const { handler, host, port, cert, key } = options;
  const maxBodyBytes = options.maxBodyBytes ?? defaultMaxBodyBytes;
  /** Every request not yet answered in full; aborted on close. */
  const inFlight = new Set<AbortController>();
  /** Streams being written; close() lets them write their end. */
  const streams = new Set<Promise<void>>();

  const serve = (req: IncomingMessage, res: ServerResponse) => {
    const controller = new AbortController();
    inFlight.add(controller);
    // Writes after the client left fail quietly; nothing here should take the process down.
    res.on('error', () => {});
    res.on('close', () => {
      inFlight.delete(controller);
      // `close` after `finish` is the normal end; before it, the client went away.
      if (!res.writableFinished) controller.abort();
    });
    handle(req, res, controller.signal).catch(() => res.destroy());
  };

  const handle = async (req: IncomingMessage, res: ServerResponse, signal: AbortSignal): Promise<void> => {
    let body: Buffer;
    try {
      body = await readBody(req, maxBodyBytes);
    } catch (error) {
      if (error instanceof BodyTooLarge) rejectTooLarge(req, res, maxBodyBytes);
      else res.destroy();
      return;
    }
    if (signal.aborted) return;

    const request = apiRequest(req, body, signal);
    let response: ApiResponse;
    try {
      response = await handler(request);
    } catch (error) {
      writeStatus(res, internalError(error).toStatus());
      return;
    }
    if ('stream' in response) {
      const written = writeStream(res, response, signal);
      streams.add(written);
      try {
        await written;
      } finally {
        streams.delete(written);
      }
      return;
    }
    if (res.destroyed) return;
    try {
      const payload = typeof response.body === 'string' ? Buffer.from(response.body) : response.body;
      res.writeHead(response.status, {
        ...withoutFraming(response.headers),
        'content-length': String(payload.length),
      });
      res.end(payload);
    } catch (error) {
      // E.g. a header value Node refuses: still a generic 500, never the error.
      writeStatus(res, internalError(error).toStatus());
    }
  };

  /** Connections joined to a kubelet's (exec); dropped on close. */
  const joined = new Set<Duplex>();
  const upgrade = async (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => {});
    const controller = new AbortController();
    socket.once('close', () => controller.abort());
    let answer: Awaited<ReturnType<UpgradeHandler>>;
    try {
      answer = options.upgrade
        ? await options.upgrade(apiRequest(req, Buffer.alloc(0), controller.signal))
        : statusAnswer(notFound('', req.url ?? '/').toStatus());
    } catch (error) {
      answer = statusAnswer(internalError(error).toStatus());
    }
    if (socket.destroyed) return;
    if (!('proxy' in answer)) {
      writeRaw(socket, answer.status, answer.headers, 'body' in answer ? answer.body : '');
      return;
    }
    const target = new URL(answer.proxy.url);
    const { authorization: _presented, host: _host, ...forwarded } = flattenHeaders(req);
    const outgoing = httpsRequest(target, {
      method: req.method ?? 'GET',
      headers: { ...forwarded, ...answer.proxy.headers, host: target.host },
      rejectUnauthorized: false,
    });
    outgoing.on('upgrade', (res: IncomingMessage, upstream: Duplex, upstreamHead: Buffer) => {
      socket.write(`HTTP/1.1 101 Switching Protocols\r\n${rawHeaders(res.headers)}\r\n`);
      if (upstreamHead.length > 0) socket.write(upstreamHead);
      if (head.length > 0) upstream.write(head);
      upstream.on('error', () => socket.destroy());
      socket.on('close', () => upstream.destroy());
      upstream.on('close', () => socket.destroy());
      joined.add(socket);
      socket.once('close', () => joined.delete(socket));
      upstream.pipe(socket);
      socket.pipe(upstream);
    });
    // The kubelet refused the upgrade: its answer goes back as it is.
    outgoing.on('response', (res: IncomingMessage) => {
      socket.write(
        `HTTP/1.1 ${res.statusCode} ${res.statusMessage ?? ''}\r\n${rawHeaders(res.headers)}connection: close\r\n\r\n`,
      );
      res.pipe(socket);
    });
    outgoing.on('error', () => {
      const status = serviceUnavailable('the kubelet of this pod did not answer').toStatus();
      const refusal = statusAnswer(status);
      writeRaw(socket, refusal.status, refusal.headers, refusal.body);
    });
    outgoing.end();
  };

  const server: Server = createServer(
    {
      cert,
      key,
      // Idle keep-alive connections stay open longer than clients leave them idle between requests:
      // with Node's default 5 s, a client reusing a connection the server is just closing gets
      // "socket hang up" (seen under load). Go's clients (kubectl) keep idle connections 90 s and retry.
      keepAliveTimeout: 65_000,
      headersTimeout: 66_000,
    },
    serve,
  );
  server.on(
    'upgrade',
    (req: IncomingMessage, socket: Duplex, head: Buffer) => void upgrade(req, socket, head),
  );
  // A body declared larger than the limit is refused before the client sends it.
  server.on('checkContinue', (req: IncomingMessage, res: ServerResponse) => {
    if (declaredLength(req) > maxBodyBytes) {
      rejectTooLarge(req, res, maxBodyBytes);
      return;
    }
    res.writeContinue();
    serve(req, res);
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port: boundPort } = server.address() as AddressInfo;
  const urlHost = host.includes(':') ? `[${host}]` : host;

  let closing: Promise<void> | undefined;
  return {
    url: `https://${urlHost}:${boundPort}`,
    close() {
      closing ??= (async () => {
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        for (const controller of inFlight) controller.abort();
        for (const socket of joined) socket.destroy();
        // Aborted streams stop at once and end their responses; give those ends a moment to reach clients.
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([
          Promise.allSettled(streams),
          new Promise((resolve) => {
            timer = setTimeout(resolve, closeGraceMs);
          }),
        ]);
        clearTimeout(timer);
        server.closeAllConnections();
        await closed;
      })();
      return closing;
    },
  };
}

/** How long close() lets stopped streams flush their last bytes before dropping connections. */
const closeGraceMs = 1000;

/** Headers the server sets itself (length and chunking), removed from the handler's. */
function withoutFraming(headers: Record<string, string>): Record<string, string> {
  const kept: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    const lower = name.toLowerCase();
    if (lower === 'content-length' || lower === 'transfer-encoding') continue;
    kept[name] = value;
  }
  return kept;
}

function declaredLength(req: IncomingMessage): number {
  const header = req.headers['content-length'];
  return header === undefined ? 0 : Number(header);
}

function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  if (declaredLength(req) > limit) return Promise.reject(new BodyTooLarge());
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        cleanup();
        reject(new BodyTooLarge());
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () => {
      cleanup();
      resolve(Buffer.concat(chunks, size));
    };
    const onError = (error: Error) => {
      cleanup();
      reject(error);
    };
    const onClose = () => {
      cleanup();
      reject(new Error('request closed before its body was read'));
    };
    const cleanup = () => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
      req.off('close', onClose);
    };
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
    req.on('close', onClose);
  });
}

/**
 * 413 with a Status body, then the connection is closed: the rest of the body is never read. Node ends the
 * socket once the response is written (`Connection: close`); the unread body is discarded meanwhile, so
 * the client is not stalled on a full window before it reads the answer.
 */
function rejectTooLarge(req: IncomingMessage, res: ServerResponse, limit: number): void {
  req.resume();
  writeStatus(res, tooLarge(`limit is ${limit}`).toStatus(), { connection: 'close' });
}

function writeStatus(res: ServerResponse, status: Status, headers: Record<string, string> = {}): void {
  if (res.destroyed) return;
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const payload = Buffer.from(JSON.stringify(status));
  res.writeHead(status.code, {
    ...headers,
    'content-type': 'application/json',
    'content-length': String(payload.length),
  });
  res.end(payload);
}

function apiRequest(req: IncomingMessage, body: Buffer, signal: AbortSignal): ApiRequest {
  const target = req.url ?? '/';
  const queryAt = target.indexOf('?');
  return {
    method: req.method ?? 'GET',
    path: queryAt < 0 ? target : target.slice(0, queryAt),
    query: new URLSearchParams(queryAt < 0 ? '' : target.slice(queryAt + 1)),
    headers: flattenHeaders(req),
    body,
    signal,
    ...(req.socket.remoteAddress ? { remoteAddress: req.socket.remoteAddress } : {}),
  };
}

function statusAnswer(status: Status): { status: number; headers: Record<string, string>; body: string } {
  return {
    status: status.code,
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(status),
  };
}

/**
 * Header lines (each ending in CRLF) of a response relayed on a raw socket. The body is relayed decoded
 * and ends with the connection, so framing headers go, and `connection` stays only for an upgrade.
 */
function rawHeaders(headers: IncomingMessage['headers']): string {
  let lines = '';
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined || name === 'transfer-encoding' || name === 'content-length') continue;
    if (name === 'connection' && !/upgrade/i.test(String(value))) continue;
    for (const one of Array.isArray(value) ? value : [value]) lines += `${name}: ${one}\r\n`;
  }
  return lines;
}

/** A whole HTTP response on a socket that was not upgraded, then the end of the connection. */
function writeRaw(
  socket: Duplex,
  status: number,
  headers: Record<string, string>,
  body: string | Buffer,
): void {
  const payload = typeof body === 'string' ? Buffer.from(body) : body;
  const head = Object.entries(withoutFraming(headers))
    .map(([name, value]) => `${name}: ${value}\r\n`)
    .join('');
  socket.end(
    Buffer.concat([
      Buffer.from(
        `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\n${head}content-length: ${payload.length}\r\nconnection: close\r\n\r\n`,
      ),
      payload,
    ]),
  );
}

function flattenHeaders(req: IncomingMessage): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value === undefined) continue;
    headers[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return headers;
}

/**
 * Writes each chunk as the stream yields it, waiting for the socket to drain when it is full. Stops, and
 * returns the iterator, when the client goes away or the server closes (then the response is ended
 * cleanly); a stream that throws cuts the response off, so the client sees a truncated body, not an end.
 */
async function writeStream(
  res: ServerResponse,
  response: { status: number; headers: Record<string, string>; stream: AsyncIterable<string | Buffer> },
  signal: AbortSignal,
): Promise<void> {
  const iterator = response.stream[Symbol.asyncIterator]();
  const stopped = new Promise<'stopped'>((resolve) => {
    if (signal.aborted) resolve('stopped');
    else signal.addEventListener('abort', () => resolve('stopped'), { once: true });
  });
  const gone = new Promise<'gone'>((resolve) => {
    if (res.destroyed) resolve('gone');
    else res.once('close', () => resolve('gone'));
  });
  let settled = false;
  try {
    if (signal.aborted || res.destroyed) return;
    res.writeHead(response.status, withoutFraming(response.headers));
    res.flushHeaders();
    for (;;) {
      const next = iterator.next();
      const step = await Promise.race([next, stopped]);
      if (step === 'stopped') {
        // The pending next() may still settle, or fail, after we stop listening.
        next.catch(() => {});
        return;
      }
      if (step.done) {
        settled = true;
        break;
      }
      const chunk = typeof step.value === 'string' ? Buffer.from(step.value) : step.value;
      if (chunk.length === 0) continue;
      if (!res.write(chunk)) {
        const drained = new Promise<'drained'>((resolve) => res.once('drain', () => resolve('drained')));
        if ((await Promise.race([drained, stopped])) === 'stopped') return;
      }
    }
    res.end();
  } catch {
    settled = true;
    res.destroy();
  } finally {
    if (!settled) {
      // Let the producer release what it holds; an async generator parked in an await returns after it.
      Promise.resolve()
        .then(() => iterator.return?.())
        .catch(() => {});
      if (!res.destroyed && !res.writableEnded) {
        // Stopped by close(): end the chunked body cleanly and wait until it is written.
        res.end();
        await Promise.race([new Promise((resolve) => res.once('finish', resolve)), gone]);
      }
    }
  }
}
