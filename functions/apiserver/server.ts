import { ApiError, asApiError, StatusReason, tooManyRequests } from '../../shared/api/errors.js';
import { findResourceType, type Subresource, subresourceVerbs } from '../../shared/api/resources.js';
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
import { type AuditSink, auditEvent, audited } from './audit.js';
import { forbidden, isWatch, requestAttributes } from './auth/attributes.js';
import { firstAuthenticator } from './auth/authenticators.js';
import { privilegedGroupAuthorizer, unionAuthorizer } from './auth/authorizers.js';
import { controlPlaneUsers } from './auth/bootstrap-policy.js';
import { createNodeAuthorizer } from './auth/node-authorizer.js';
import { createRbacAuthorizer, rulesFor } from './auth/rbac.js';
import { rbacPolicySource } from './auth/rbac-policy.js';
import { createWriteRestriction } from './auth/restrictions.js';
import { answerReview, findReviewType, type ReviewContext } from './auth/reviews.js';
import {
  openIdConfiguration,
  publicJwks,
  serviceAccountAuthenticator,
} from './auth/service-account-tokens.js';
import { storeNodeGraph, storeReader } from './auth/store-readers.js';
import { type Authenticator, Decision, type RequestAttributes, type User } from './auth/types.js';
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
import { defaultLimits, type Limits, rateLimiter, releasing, watchCounter } from './limits.js';
import { resourceRequestInfo } from './request-info.js';
import {
  createResource,
  deleteResource,
  getResource,
  listResource,
  methodNotAllowed,
  patchResource,
  type ResourceRequest,
  type RestContext,
  updateResource,
} from './rest.js';
import { requestToken, type ServiceAccountSigning } from './token-request.js';
import { watchResource } from './watch.js';

export type { User } from './auth/types.js';

export interface ApiServerOptions {
  store: Store;
  /** The user a bearer token belongs to, if any. */
  authenticate: Authenticator;
  /** Strategic merge patch for built-in kinds. */
  strategicMergePatch: (target: unknown, patch: unknown) => unknown;
  now?: () => Date;
  /** The longest a watch stays open (default 30 min, as kube-apiserver's lower bound). */
  maxWatchSeconds?: number;
  /** Where internal errors go (never to the client). */
  logError?: (error: unknown) => void;
  /** How to reach kubelets for `pods/log` and `pods/exec`; without it they answer 503. */
  kubelet?: KubeletAccess;
  /** The key service account tokens are signed with; without it TokenRequest answers 503. */
  serviceAccounts?: ServiceAccountSigning;
  /** Per-identity request rate and open watches (default `defaultLimits`). */
  limits?: Limits;
  /** Where the audit line of each mutating request goes; none: not audited. */
  audit?: AuditSink;
}

/** The API: a request handler, and for the local server the handler of upgrade requests (exec). */
export type ApiServer = ApiHandler & { upgrade: UpgradeHandler };

/** Paths anyone may read without a token (a token presented there must still be good). */
const publicPaths = new Set(['/healthz', '/livez', '/readyz', '/version']);

/** The user a request's bearer token names; undefined for a request without one. 401 for a bad one. */
async function authenticateRequest(
  request: ApiRequest,
  authenticate: Authenticator,
): Promise<User | undefined> {
  const header = request.headers.authorization;
  if (header === undefined) return undefined;
  const token = /^Bearer\s+(\S+)\s*$/i.exec(header)?.[1];
  const user = token ? await authenticate(token) : undefined;
  if (!user) throw unauthorized();
  return user;
}

function isRbacPath(path: string): boolean {
  return path.startsWith('/apis/rbac.authorization.k8s.io/');
}

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
  const policy = rbacPolicySource(options.store);
  const authorize = unionAuthorizer(
    privilegedGroupAuthorizer('system:masters'),
    createNodeAuthorizer(storeNodeGraph(options.store)),
    createRbacAuthorizer(() => policy.load()),
  );
  const ctx: RestContext = {
    store: options.store,
    now: options.now ?? (() => new Date()),
    maxWatchSeconds: options.maxWatchSeconds ?? 1800,
    restrict: createWriteRestriction(authorize, () => policy.load()),
  };
  const logError = options.logError ?? ((error: unknown) => console.error(error));
  const signing = options.serviceAccounts;
  const authenticate = signing
    ? firstAuthenticator(
        options.authenticate,
        serviceAccountAuthenticator({
          keys: signing.keys,
          issuer: signing.issuer,
          audiences: [signing.issuer],
          lookup: (resource, namespace, name) => storeReader(options.store, resource)(namespace, name),
        }),
      )
    : options.authenticate;
  const reviews: ReviewContext = {
    authorize,
    rules: async (user, namespace) => rulesFor(user, namespace, await policy.load()),
  };
  const limits = options.limits ?? defaultLimits;
  const takeRequest = rateLimiter(limits);
  const takeWatch = watchCounter(limits.watchesPerIdentity);

  /** What the audit line says of a request: who asked, for what. */
  interface Seen {
    user?: User;
    attributes?: RequestAttributes;
  }

  async function route(request: ApiRequest, seen: Seen): Promise<ApiResponse | ProxyUpgrade> {
    const path = request.path.length > 1 ? request.path.replace(/\/+$/, '') : request.path;
    const user = await authenticateRequest(request, authenticate);
    if (!user && !publicPaths.has(path)) throw unauthorized();
    const info = resourceRequestInfo(path);
    if (user) {
      const attributes = requestAttributes(user, request, path, info);
      Object.assign(seen, { user, attributes });
      // kube-apiserver's priority and fairness exempts system:masters and gives the control plane's
      // components levels of their own, which a burst of pods must not starve: neither is limited here.
      const exempt = user.groups.includes('system:masters') || controlPlaneUsers.has(user.name);
      const wait = exempt ? 0 : takeRequest(user.name);
      if (wait > 0)
        throw tooManyRequests(`too many requests from ${user.name}, please try again later`, wait);
      const answer = await authorize(attributes);
      if (answer.decision !== Decision.Allow) throw forbidden(attributes);
      if (info) {
        const review = findReviewType(info);
        if (review) return answerReview(review, info, request, user, reviews);
      }
    }
    if (path === '/healthz' || path === '/livez' || path === '/readyz') return text(200, 'ok');
    if (path === '/version') return json(200, serverVersion);
    if (request.method === 'GET' && signing && path === '/.well-known/openid-configuration')
      return json(200, openIdConfiguration(signing.issuer));
    if (request.method === 'GET' && signing && path === '/openid/v1/jwks')
      return json(200, publicJwks(signing.keys), 'application/jwk-set+json');
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
    const type = info && findResourceType(info.group, info.version, info.resource);
    if (!info || !type) return notFoundPath();
    if (info.subresource && !type.subresources?.includes(info.subresource as never)) return notFoundPath();
    if (
      info.subresource &&
      !subresourceVerbs[info.subresource as Subresource].includes(verbOf(request.method))
    )
      throw methodNotAllowed();
    if (type.namespaced && info.namespace === undefined && info.name !== undefined) return notFoundPath();
    const req = { type, info, request, ...(user ? { user } : {}) };
    if (info.subresource === 'log') return podLogs(req, ctx, options.kubelet);
    if (info.subresource === 'exec') return podExec(req, ctx, options.kubelet);
    if (info.subresource === 'token') return requestToken(req, ctx, signing);
    switch (request.method) {
      case 'GET':
        if (isWatch(request)) return watchWithin(req, user);
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

  /** A watch, counted against its identity's cap until its stream ends. */
  async function watchWithin(req: ResourceRequest, user: User | undefined): Promise<ApiResponse> {
    const release = user ? takeWatch(user.name) : () => {};
    if (!release) throw tooManyRequests(`too many watches open for ${user?.name}, please try again later`, 5);
    try {
      const response = await watchResource(req, ctx);
      if (!('stream' in response)) {
        release();
        return response;
      }
      req.request.signal.addEventListener('abort', release, { once: true });
      return { ...response, stream: releasing(response.stream, release) };
    } catch (error) {
      release();
      throw error;
    }
  }

  const answer = async (request: ApiRequest): Promise<ApiResponse | ProxyUpgrade> => {
    const received = ctx.now();
    const seen: Seen = {};
    const response = await routed(request, seen);
    if (options.audit && audited(request) && 'status' in response)
      options.audit(auditEvent(request, seen, response.status, received, ctx.now()));
    return response;
  };

  const routed = async (request: ApiRequest, seen: Seen): Promise<ApiResponse | ProxyUpgrade> => {
    try {
      const response = await route(request, seen);
      // This process's own RBAC writes count at once, other containers' within rbacCheckMs.
      if (
        request.method !== 'GET' &&
        'status' in response &&
        response.status < 300 &&
        isRbacPath(request.path)
      )
        await policy.changed().catch(logError);
      return response;
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
