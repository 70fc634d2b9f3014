/**
 * The kubelet's own HTTPS endpoint (upstream's port 10250), which the API server forwards `kubectl logs`
 * and `kubectl exec` to: `GET /containerLogs/<ns>/<pod>/<container>` streams a container's output, and
 * `/exec/<ns>/<pod>/<container>` upgrades to the remote-command WebSocket protocol. Only the API server
 * may call it: it presents a bearer token this server compares in constant time. The certificate is the
 * node's own (upstream's kubelet also serves a self-signed one unless given another).
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { WebSocket, WebSocketServer } from 'ws';
import { ApiError, asApiError, badRequest, notFound, StatusReason } from '../../shared/api/errors.js';
import type { ContainerInfo, ContainerRuntime } from '../runtime/runtime.js';
import {
  type ClientMessage,
  channel,
  chooseProtocol,
  exitStatus,
  failureStatus,
  frame,
  parseClientMessage,
} from './remote-command.js';

export interface KubeletServerOptions {
  runtime: ContainerRuntime;
  /** Default: every address. */
  host?: string;
  /** 0 picks a free port. */
  port: number;
  /** The bearer token the API server presents. */
  token: string;
  cert: string;
  key: string;
  onError: (error: unknown) => void;
}

export interface KubeletServer {
  port: number;
  close(): Promise<void>;
}

const sha256 = (value: string) => createHash('sha256').update(value).digest();

/** `/containerLogs/ns/pod/container` → its three names, for a route whose first segment is `route`. */
function containerPath(
  path: string,
  route: string,
): { namespace: string; pod: string; container: string } | undefined {
  const parts = path.split('/').filter((p) => p !== '');
  if (parts.length !== 4 || parts[0] !== route) return undefined;
  try {
    const [namespace, pod, container] = parts.slice(1).map(decodeURIComponent) as [string, string, string];
    return { namespace, pod, container };
  } catch {
    return undefined;
  }
}

const isTrue = (value: string | null) => value === 'true' || value === '1';

function nonNegative(query: URLSearchParams, name: string): number | undefined {
  const value = query.get(name);
  if (value === null) return undefined;
  const number = Number(value);
  if (!Number.isInteger(number) || number < 0) throw badRequest(`${name} must be a non-negative integer`);
  return number;
}

/**
 * The container `name` of the pod `namespace/pod` as this node runs it: the latest attempt, or with
 * `previous` the one before it. The pod is the newest sandbox of that name (a pod replaced by one of the
 * same name may still be cleaned up).
 */
async function findContainer(
  runtime: ContainerRuntime,
  target: { namespace: string; pod: string; container: string },
  previous: boolean,
): Promise<ContainerInfo> {
  const sandbox = (await runtime.listSandboxes())
    .filter((s) => s.namespace === target.namespace && s.name === target.pod)
    .sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime())[0];
  if (!sandbox) throw notFound('pods', target.pod);
  const attempts = (await runtime.listContainers())
    .filter((c) => c.podUid === sandbox.podUid && c.name === target.container)
    .sort((a, b) => b.restartCount - a.restartCount);
  const latest = attempts[0];
  if (!latest)
    throw badRequest(
      `container "${target.container}" in pod "${target.pod}" is waiting to start: ContainerCreating`,
    );
  if (!previous) return latest;
  const before = attempts.find((c) => c.restartCount < latest.restartCount);
  if (!before)
    throw badRequest(`previous terminated container "${target.container}" in pod "${target.pod}" not found`);
  return before;
}

function writeError(res: ServerResponse, error: ApiError): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const body = JSON.stringify(error.toStatus());
  res.writeHead(error.code, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(body),
  });
  res.end(body);
}

export async function startKubeletServer(options: KubeletServerOptions): Promise<KubeletServer> {
  const { runtime, onError } = options;
  const tokenHash = sha256(options.token);
  const authorized = (req: IncomingMessage) => {
    const token = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '')?.[1];
    return token !== undefined && timingSafeEqual(sha256(token), tokenHash);
  };
  const unauthorized = new ApiError(401, StatusReason.Unauthorized, 'Unauthorized');
  const sockets = new Set<WebSocket>();

  const logs = async (req: IncomingMessage, res: ServerResponse, url: URL) => {
    const target = containerPath(url.pathname, 'containerLogs');
    if (!target || req.method !== 'GET') throw notFound('', url.pathname);
    const query = url.searchParams;
    const tail = nonNegative(query, 'tailLines');
    const sinceSeconds = nonNegative(query, 'sinceSeconds');
    const limitBytes = nonNegative(query, 'limitBytes');
    const container = await findContainer(runtime, target, isTrue(query.get('previous')));
    const stop = new AbortController();
    res.on('close', () => stop.abort());
    let left = limitBytes ?? Number.POSITIVE_INFINITY;
    for await (const chunk of runtime.logs(container.id, {
      follow: isTrue(query.get('follow')),
      timestamps: isTrue(query.get('timestamps')),
      ...(tail !== undefined ? { tail } : {}),
      ...(sinceSeconds !== undefined ? { sinceSeconds } : {}),
      signal: stop.signal,
    })) {
      if (!res.headersSent) res.writeHead(200, { 'content-type': 'text/plain' });
      const part = chunk.length > left ? chunk.subarray(0, left) : chunk;
      left -= part.length;
      res.write(part);
      if (left <= 0) {
        stop.abort();
        break;
      }
    }
    if (!res.headersSent) res.writeHead(200, { 'content-type': 'text/plain' });
    res.end();
  };

  const server = createServer({ cert: options.cert, key: options.key }, (req, res) => {
    res.on('error', () => {});
    const url = new URL(req.url ?? '/', 'https://kubelet');
    if (url.pathname === '/healthz') {
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
      return;
    }
    if (!authorized(req)) {
      writeError(res, unauthorized);
      return;
    }
    logs(req, res, url).catch((error: unknown) => {
      const apiError = asApiError(error);
      if (apiError.code >= 500) onError(error);
      writeError(res, apiError);
    });
  });

  const webSockets = new WebSocketServer({
    noServer: true,
    handleProtocols: (offered) => chooseProtocol(offered),
  });

  const exec = async (ws: WebSocket, url: URL) => {
    // Messages arrive from the moment of the upgrade; keep them until the command can take them.
    const early: ClientMessage[] = [];
    const keep = (data: Buffer) => early.push(parseClientMessage(data));
    ws.on('message', keep);
    const target = containerPath(url.pathname, 'exec') as NonNullable<ReturnType<typeof containerPath>>;
    const query = url.searchParams;
    const command = query.getAll('command');
    const sendStatus = (status: object) => ws.send(frame(channel.error, JSON.stringify(status)));
    const refusal =
      command.length === 0
        ? 'you must specify at least one command for the container'
        : !['stdin', 'stdout', 'stderr'].some((name) => isTrue(query.get(name)))
          ? 'you must specify at least 1 of stdin, stdout, stderr'
          : undefined;
    if (refusal) {
      sendStatus(failureStatus(refusal));
      ws.close(1000);
      return;
    }
    const container = await findContainer(runtime, target, false);
    if (container.state !== 'running')
      throw badRequest(`container ${target.container} is not running in pod ${target.pod}`);
    const session = await runtime.execSession(container.id, command, {
      stdin: isTrue(query.get('stdin')),
      tty: isTrue(query.get('tty')),
    });
    if (ws.readyState !== WebSocket.OPEN) {
      session.close();
      return;
    }
    ws.on('close', () => session.close());
    const apply = (message: ClientMessage) => {
      if (message.type === 'stdin') session.write(message.data);
      else if (message.type === 'close-stdin') session.closeStdin();
      else if (message.type === 'resize') void session.resize(message.width, message.height).catch(onError);
    };
    // What the client sent while the command was being started (stdin, its EOF), then the rest as it comes.
    for (const message of early.splice(0)) apply(message);
    ws.off('message', keep);
    ws.on('message', (data: Buffer) => apply(parseClientMessage(data)));
    const wants = { stdout: isTrue(query.get('stdout')), stderr: isTrue(query.get('stderr')) };
    for await (const { stream, data } of session.output) {
      if (ws.readyState !== WebSocket.OPEN) return;
      if (wants[stream]) ws.send(frame(stream === 'stderr' ? channel.stderr : channel.stdout, data));
    }
    sendStatus(exitStatus(command, await session.exitCode()));
    ws.close(1000);
  };

  server.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => {
    const url = new URL(req.url ?? '/', 'https://kubelet');
    const rejectWith = (error: ApiError) => {
      const body = JSON.stringify(error.toStatus());
      socket.end(
        `HTTP/1.1 ${error.code} ${error.reason}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
      );
    };
    if (!authorized(req)) return rejectWith(unauthorized);
    if (!containerPath(url.pathname, 'exec')) return rejectWith(notFound('', url.pathname));
    webSockets.handleUpgrade(req, socket, head, (ws) => {
      sockets.add(ws);
      ws.on('close', () => sockets.delete(ws));
      exec(ws, url).catch((error: unknown) => {
        const apiError = asApiError(error);
        if (apiError.code >= 500) onError(error);
        if (ws.readyState === WebSocket.OPEN) {
          ws.send(frame(channel.error, JSON.stringify(apiError.toStatus())));
          ws.close(1000);
        }
      });
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host ?? '0.0.0.0', () => {
      server.off('error', reject);
      resolve();
    });
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: async () => {
      for (const ws of sockets) ws.terminate();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
    },
  };
}
