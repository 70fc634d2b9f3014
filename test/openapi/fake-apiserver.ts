/**
 * A throwaway plain-HTTP server that answers what kubectl asks before it touches an object: the
 * version, legacy discovery and the OpenAPI documents, all from `shared/openapi`. It records every
 * request, so tests can assert what kubectl read.
 */
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  negotiateOpenApiV2,
  OPENAPI_V2_PROTOBUF_CONTENT_TYPE,
  type OpenApiOptions,
  openApiResources,
  openApiV2Json,
  openApiV2Protobuf,
  openApiV3Index,
  openApiV3Json,
} from '../../shared/openapi/index.js';

export interface SeenRequest {
  method: string;
  url: string;
  accept: string;
  status: number;
  contentType: string;
}

export interface FakeApiServer {
  url: string;
  /** A directory holding `kubeconfig` and serving as `HOME` for kubectl (its caches land there). */
  home: string;
  kubeconfig: string;
  requests: SeenRequest[];
  close(): Promise<void>;
}

const version = {
  major: '1',
  minor: '32',
  gitVersion: 'v1.32.0',
  gitCommit: '0000000000000000000000000000000000000000',
  gitTreeState: 'clean',
  buildDate: '2024-12-11T00:00:00Z',
  goVersion: 'go1.23.3',
  compiler: 'gc',
  platform: 'linux/amd64',
};

function groupVersions(): { group: string; version: string }[] {
  const seen = new Map<string, { group: string; version: string }>();
  for (const r of openApiResources)
    seen.set(`${r.group}/${r.version}`, { group: r.group, version: r.version });
  return [...seen.values()];
}

function resourceList(group: string, v: string): object {
  const resources = openApiResources
    .filter((r) => r.group === group && r.version === v)
    .flatMap((r) => [
      {
        name: r.resource,
        singularName: r.kind.toLowerCase(),
        namespaced: r.namespaced,
        kind: r.kind,
        verbs: ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'],
      },
      ...(r.subresources ?? []).map((s) => ({
        name: `${r.resource}/${s}`,
        singularName: '',
        namespaced: r.namespaced,
        group: s === 'scale' ? 'autoscaling' : undefined,
        version: s === 'scale' ? 'v1' : undefined,
        kind: s === 'scale' ? 'Scale' : s === 'binding' ? 'Binding' : r.kind,
        verbs: s === 'binding' ? ['create'] : ['get', 'patch', 'update'],
      })),
    ]);
  return {
    kind: 'APIResourceList',
    apiVersion: 'v1',
    groupVersion: group === '' ? v : `${group}/${v}`,
    resources,
  };
}

function route(
  req: IncomingMessage,
  options: OpenApiOptions,
): { status: number; type: string; body: string | Uint8Array } {
  const url = new URL(req.url ?? '/', 'http://localhost');
  const path = url.pathname.replace(/\/$/, '');
  const json = (body: unknown, status = 200) => ({
    status,
    type: 'application/json',
    body: JSON.stringify(body),
  });
  if (path === '/version') return json(version);
  if (path === '/api') return json({ kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [] });
  if (path === '/apis') {
    const groups = groupVersions()
      .filter((g) => g.group !== '')
      .map((g) => {
        const gv = { groupVersion: `${g.group}/${g.version}`, version: g.version };
        return { name: g.group, versions: [gv], preferredVersion: gv };
      });
    return json({ kind: 'APIGroupList', apiVersion: 'v1', groups });
  }
  if (path === '/api/v1') return json(resourceList('', 'v1'));
  const groupMatch = /^\/apis\/([^/]+)\/([^/]+)$/.exec(path);
  if (groupMatch?.[1] && groupMatch[2] && groupVersions().some((g) => g.group === groupMatch[1])) {
    return json(resourceList(groupMatch[1], groupMatch[2]));
  }
  if (path === '/openapi/v2') {
    const form = negotiateOpenApiV2(req.headers.accept);
    if (form === 'protobuf') {
      return { status: 200, type: OPENAPI_V2_PROTOBUF_CONTENT_TYPE, body: openApiV2Protobuf(options) };
    }
    if (form === 'json') return { status: 200, type: 'application/json', body: openApiV2Json(options).json };
    return json(
      { kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'NotAcceptable', code: 406 },
      406,
    );
  }
  if (path === '/openapi/v3') return json(openApiV3Index(options));
  if (path.startsWith('/openapi/v3/')) {
    const doc = openApiV3Json(path.slice('/openapi/v3/'.length), options);
    if (doc) return { status: 200, type: 'application/json', body: doc.json };
  }
  return json({ kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'NotFound', code: 404 }, 404);
}

export async function startFakeApiServer(options: OpenApiOptions = {}): Promise<FakeApiServer> {
  const requests: SeenRequest[] = [];
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const { status, type, body } = route(req, options);
    requests.push({
      method: req.method ?? '',
      url: req.url ?? '',
      accept: req.headers.accept ?? '',
      status,
      contentType: type,
    });
    res.writeHead(status, { 'Content-Type': type, 'Content-Length': Buffer.byteLength(body) });
    res.end(body);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  const url = `http://127.0.0.1:${port}`;
  const home = mkdtempSync(join(tmpdir(), 'kubectl-home-'));
  const kubeconfig = join(home, 'kubeconfig');
  writeFileSync(
    kubeconfig,
    [
      'apiVersion: v1',
      'kind: Config',
      'clusters:',
      `- name: fake`,
      '  cluster:',
      `    server: ${url}`,
      'users:',
      '- name: nobody',
      '  user: {}',
      'contexts:',
      '- name: fake',
      '  context: {cluster: fake, user: nobody, namespace: default}',
      'current-context: fake',
      '',
    ].join('\n'),
  );
  return {
    url,
    home,
    kubeconfig,
    requests,
    close: async () => {
      server.closeAllConnections();
      server.close();
      await once(server, 'close');
      rmSync(home, { recursive: true, force: true });
    },
  };
}
