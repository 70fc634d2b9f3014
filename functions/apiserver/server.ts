import { ApiError, asApiError, StatusReason } from '../../shared/api/errors.js';
import {
  findResourceType,
  type ResourceType,
  type Subresource,
  subresourceVerbs,
} from '../../shared/api/resources.js';
import type { ProxyUpgrade, UpgradeHandler } from '../../shared/http/contract.js';
import {
  negotiateOpenApiV2,
  OPENAPI_V2_PROTOBUF_CONTENT_TYPE,
  openApiV2Json,
  openApiV2Protobuf,
  openApiV3Index,
  openApiV3Json,
} from '../../shared/openapi/index.js';
import type { Store } from '../../shared/store/store.js';
import {
  aggregatedDiscovery,
  aggregatedDiscoveryType,
  coreVersions,
  groupDocument,
  groupList,
  resourceList,
  serverVersion,
} from './discovery.js';
import {
  type ApiHandler,
  type ApiRequest,
  type ApiResponse,
  acceptedTypes,
  json,
  statusResponse,
} from './http.js';
import { type KubeletAccess, podExec, podLogs } from './kubelet-proxy.js';
import { resourceRequestInfo } from './request-info.js';
import {
  createResource,
  deleteResource,
  getResource,
  listResource,
  methodNotAllowed,
  patchResource,
  type RestContext,
  updateResource,
} from './rest.js';
import { watchResource } from './watch.js';

export interface User {
  name: string;
  groups: string[];
}

export interface ApiServerOptions {
  store: Store;
  /** The user a bearer token belongs to, if any. */
  authenticate: (token: string) => Promise<User | undefined>;
  /** Strategic merge patch for built-in kinds. */
  strategicMergePatch: (target: unknown, patch: unknown) => unknown;
  now?: () => Date;
  /** The longest a watch stays open (default 30 min, as kube-apiserver's lower bound). */
  maxWatchSeconds?: number;
  /** Where internal errors go (never to the client). */
  logError?: (error: unknown) => void;
  /** How to reach kubelets for `pods/log` and `pods/exec`; without it they answer 503. */
  kubelet?: KubeletAccess;
}

/** The API: a request handler, and for the local server the handler of upgrade requests (exec). */
export type ApiServer = ApiHandler & { upgrade: UpgradeHandler };

/** The namespaces every cluster has. */
export const systemNamespaces = ['default', 'kube-system', 'kube-public', 'kube-node-lease'];

/**
 * Creates the system namespaces that are missing, through the same create path as a request (a
 * GET first, so a running cluster only pays reads). Safe to run concurrently: a lost race is a 409.
 */
export async function ensureSystemNamespaces(
  store: Store,
  now: () => Date = () => new Date(),
): Promise<void> {
  const type = findResourceType('', 'v1', 'namespaces') as ResourceType;
  const ctx: RestContext = { store, now, maxWatchSeconds: 0 };
  for (const name of systemNamespaces) {
    const exists = await store.get({ resource: 'namespaces', name }).then(
      () => true,
      (error: unknown) => {
        if (error instanceof ApiError && error.code === 404) return false;
        throw error;
      },
    );
    if (exists) continue;
    const response = await createResource(
      {
        type,
        info: { group: '', version: 'v1', resource: 'namespaces' },
        request: {
          method: 'POST',
          path: '/api/v1/namespaces',
          query: new URLSearchParams(),
          headers: { 'content-type': 'application/json' },
          body: Buffer.from(JSON.stringify({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } })),
          signal: new AbortController().signal,
        },
      },
      ctx,
    ).catch((error: unknown) => {
      if (error instanceof ApiError && error.reason === StatusReason.AlreadyExists) return undefined;
      throw error;
    });
    if (response && response.status !== 201)
      throw new Error(`could not create namespace ${name}: ${response.status}`);
  }
}

/** Paths anyone may read without a token. */
const publicPaths = new Set(['/healthz', '/livez', '/readyz', '/version']);

function unauthorized(): ApiError {
  return new ApiError(401, StatusReason.Unauthorized, 'Unauthorized');
}

function text(status: number, body: string): ApiResponse {
  return { status, headers: { 'content-type': 'text/plain; charset=utf-8' }, body };
}

function wantsAggregated(request: ApiRequest): boolean {
  return acceptedTypes(request.headers.accept).some(
    (t) => t.params.as === 'APIGroupDiscoveryList' && t.params.v === 'v2',
  );
}

/** The Kubernetes API as one request → response function, for the Lambda adapter and the local server. */
export function createApiServer(options: ApiServerOptions): ApiServer {
  const ctx: RestContext = {
    store: options.store,
    now: options.now ?? (() => new Date()),
    maxWatchSeconds: options.maxWatchSeconds ?? 1800,
  };
  const logError = options.logError ?? ((error: unknown) => console.error(error));

  async function route(request: ApiRequest): Promise<ApiResponse | ProxyUpgrade> {
    const path = request.path.length > 1 ? request.path.replace(/\/+$/, '') : request.path;
    if (!publicPaths.has(path)) {
      const header = request.headers.authorization ?? '';
      const token = /^Bearer\s+(\S+)$/i.exec(header)?.[1];
      if (!token || !(await options.authenticate(token))) throw unauthorized();
    }
    if (path === '/healthz' || path === '/livez' || path === '/readyz') return text(200, 'ok');
    if (path === '/version') return json(200, serverVersion);
    if (request.method === 'GET' && (path === '/openapi/v2' || path.startsWith('/openapi/v3')))
      return openApi(path, request);
    if (request.method === 'GET') {
      if (path === '/api')
        return wantsAggregated(request)
          ? json(200, aggregatedDiscovery(true), aggregatedDiscoveryType)
          : json(200, coreVersions());
      if (path === '/apis')
        return wantsAggregated(request)
          ? json(200, aggregatedDiscovery(false), aggregatedDiscoveryType)
          : json(200, groupList());
      const groupMatch = /^\/apis\/([^/]+)$/.exec(path);
      if (groupMatch) {
        const group = groupDocument(groupMatch[1] as string);
        if (group) return json(200, group);
      }
      const versionMatch = /^\/(?:api\/(v1)|apis\/([^/]+)\/([^/]+))$/.exec(path);
      if (versionMatch) {
        const list = versionMatch[1]
          ? resourceList('', 'v1')
          : resourceList(versionMatch[2] as string, versionMatch[3] as string);
        if (list) return json(200, list);
      }
    }
    const info = resourceRequestInfo(path);
    const type = info && findResourceType(info.group, info.version, info.resource);
    if (!info || !type) return notFoundPath();
    if (info.subresource && !type.subresources?.includes(info.subresource as never)) return notFoundPath();
    if (
      info.subresource &&
      !subresourceVerbs[info.subresource as Subresource].includes(verbOf(request.method))
    )
      throw methodNotAllowed();
    if (type.namespaced && info.namespace === undefined && info.name !== undefined) return notFoundPath();
    const req = { type, info, request };
    if (info.subresource === 'log') return podLogs(req, ctx, options.kubelet);
    if (info.subresource === 'exec') return podExec(req, ctx, options.kubelet);
    const watching = request.query.get('watch') === 'true' || request.query.get('watch') === '1';
    switch (request.method) {
      case 'GET':
        if (watching) return watchResource(req, ctx);
        return info.name === undefined ? listResource(req, ctx) : getResource(req, ctx);
      case 'POST':
        return createResource(req, ctx);
      case 'PUT':
        return updateResource(req, ctx);
      case 'PATCH':
        return patchResource(req, ctx, options.strategicMergePatch);
      case 'DELETE':
        return deleteResource(req, ctx);
      default:
        throw methodNotAllowed();
    }
  }

  const answer = async (request: ApiRequest): Promise<ApiResponse | ProxyUpgrade> => {
    try {
      return await route(request);
    } catch (error) {
      const apiError = asApiError(error);
      if (apiError.code >= 500) logError(apiError.cause ?? apiError);
      return statusResponse(apiError.toStatus());
    }
  };
  const handler: ApiHandler = async (request) => {
    const response = await answer({ ...request, upgrade: false });
    // Only an upgrade request is answered with a proxy.
    if ('proxy' in response) throw new Error('a proxy answer to a request that is not an upgrade');
    return response;
  };
  return Object.assign(handler, { upgrade: (request: ApiRequest) => answer({ ...request, upgrade: true }) });
}

/**
 * The OpenAPI documents kubectl explains from. They advertise server-side field validation, so kubectl
 * leaves validation to this server and reads `/openapi/v2` (which it wants as protobuf) only if asked.
 */
function openApi(path: string, request: ApiRequest): ApiResponse {
  if (path === '/openapi/v2') {
    const form = negotiateOpenApiV2(request.headers.accept);
    if (form === 'protobuf') {
      return {
        status: 200,
        headers: { 'content-type': OPENAPI_V2_PROTOBUF_CONTENT_TYPE },
        body: Buffer.from(openApiV2Protobuf(served)),
      };
    }
    if (form === 'json')
      return {
        status: 200,
        headers: { 'content-type': 'application/json' },
        body: openApiV2Json(served).json,
      };
    return statusResponse(
      new ApiError(
        406,
        StatusReason.NotAcceptable,
        'only application/json and protobuf are served',
      ).toStatus(),
    );
  }
  if (path === '/openapi/v3') return json(200, openApiV3Index(served));
  const document = openApiV3Json(path.slice('/openapi/v3/'.length), served);
  if (!document) return notFoundPath();
  return {
    status: 200,
    headers: { 'content-type': 'application/json', etag: `"${document.hash}"` },
    body: document.json,
  };
}

const served = { fieldValidation: true };

/** The API verb an HTTP method asks for on one object. */
function verbOf(method: string): string {
  const verbs: Record<string, string> = { GET: 'get', POST: 'create', PUT: 'update', PATCH: 'patch' };
  return verbs[method] ?? method.toLowerCase();
}

function notFoundPath(): ApiResponse {
  return statusResponse(
    new ApiError(
      404,
      StatusReason.NotFound,
      'the server could not find the requested resource',
      {},
    ).toStatus(),
  );
}
