/**
 * Hostile input, property-based: thousands of random and malformed requests (bodies, paths, query
 * parameters, headers, patch documents) straight into the API server's handler, on a real store on the
 * run's DynamoDB Local. The server must never answer 5xx (but for the answers below), never let an
 * exception out, never store anything from a request it rejected, and keep serving valid requests.
 *
 * The answers that are neither 2xx nor 4xx and still correct:
 * - 503 ServiceUnavailable for `pods/<name>/log` and `pods/<name>/exec`: this server is built without a
 *   kubelet, so it cannot reach one (upstream answers the same when the kubelet is unreachable);
 * - 504 Timeout, `Too large resource version`, for a list at a resourceVersion newer than the store's
 *   (upstream's NewTooLargeResourceVersionError, which clients retry).
 * Everything else at or above 500 is a bug. The handler reports each 500 through `logError` with its
 * cause, which the failure message shows.
 *
 * Reproducing a failure: the seed is in every test name; fast-check's report adds the path.
 * `FUZZ_SEED=<seed> FUZZ_PATH=<path> npx vitest run --project control-plane test/apiserver/fuzz.test.ts`
 * replays it (the store is fresh, so requests before the failing one matter: replay the whole file).
 * `FUZZ_RUNS=<n>` sends n random requests instead of the default (sized to stay well under a minute).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify as toYaml } from 'yaml';
import type { AuditEvent } from '../../functions/apiserver/audit.js';
import { signingKeyFromSecret } from '../../functions/apiserver/auth/service-account-tokens.js';
import { ensureClusterDefaults } from '../../functions/apiserver/bootstrap.js';
import { maxNestingDepth } from '../../functions/apiserver/decode.js';
import { resourceRequestInfo } from '../../functions/apiserver/request-info.js';
import { type ApiServer, createApiServer, type User } from '../../functions/apiserver/server.js';
import { strategicMergePatch } from '../../functions/apiserver/strategic-merge.js';
import { serviceAccountIssuer } from '../../functions/apiserver/token-request.js';
import {
  apiVersionOf,
  qualifiedResource,
  type ResourceType,
  resourceTypes,
  servedTypes,
} from '../../shared/api/resources.js';
import { same } from '../../shared/api/same.js';
import { isJsonObject, type KubernetesObject } from '../../shared/api/types.js';
import { type HttpsServer, startHttpsServer } from '../../shared/local/https-server.js';
import { loadOrCreateCertificates } from '../../shared/local/tls.js';
import { KUBERNETES_PROTOBUF_MAGIC } from '../../shared/protobuf/decode.js';
import type { Store } from '../../shared/store/store.js';
import { freshStore } from '../support/dynamo.js';

type Json = Record<string, unknown>;

// ----- identities -----

const adminToken = 'fuzz-admin-token';
const nobodyToken = 'fuzz-nobody-token';
/** A user with every right (system:masters), and one with only what every authenticated user has. */
const users = new Map<string, User>([
  [adminToken, { name: 'fuzz-admin', groups: ['system:masters', 'system:authenticated'] }],
  [nobodyToken, { name: 'fuzz-nobody', groups: ['system:authenticated'] }],
]);

/** Namespaces the random requests use (and may delete); the two below them are never named by them. */
const fuzzNamespaces = ['default', 'fuzz', 'kube-system'];
/** Where the known-good requests run. */
const liveNamespace = 'fuzz-live';
/** Where the model-checked writes run. */
const writesNamespace = 'fuzz-writes';

// ----- the requests -----

/** One generated request, as the handler gets it, plus how the simulated client behaves. */
interface FuzzRequest {
  method: string;
  path: string;
  query: [string, string][];
  headers: Record<string, string>;
  body: Buffer;
  /** `before`: the client is gone before the server answers (its signal is already aborted). */
  abort: 'never' | 'before';
}

/** A request in a few lines, for failure messages (fast-check prints counterexamples with this). */
function describeRequest(r: FuzzRequest): string {
  const query = new URLSearchParams(r.query).toString();
  const body = r.body.toString('utf8');
  const shown = body.length > 300 ? `${body.slice(0, 300)}… (${r.body.length} bytes)` : body;
  return `${r.method} ${JSON.stringify(r.path.length > 200 ? `${r.path.slice(0, 200)}…` : r.path)}${query ? `?${query.slice(0, 300)}` : ''} headers=${JSON.stringify(r.headers)} abort=${r.abort} body=${JSON.stringify(shown)}`;
}

function withDescription(r: FuzzRequest): FuzzRequest {
  return Object.defineProperty(r, fc.toStringMethod, { value: () => describeRequest(r), enumerable: false });
}

// Names: a small pool, so creates collide and later requests find what earlier ones made.
const validName = fc.constantFrom('a', 'b', 'c');
const junkSegment = fc.oneof(
  fc.constantFrom(
    '..',
    '.',
    '%00',
    '%2F',
    '%2f..%2f',
    '%',
    '%zz',
    '%C0%AE',
    '%E2%82',
    'é',
    '%C3%A9',
    '🙂',
    '\u0000',
    ' ',
    'a%20b',
    'Bad_Name',
    '-a',
    'a.',
    '__proto__',
    'constructor',
    '*',
  ),
  fc.string({ unit: 'grapheme', maxLength: 12 }).map(encodeURIComponent),
  fc.string({ maxLength: 12 }),
  fc.integer({ min: 254, max: 5000 }).map((n) => 'a'.repeat(n)),
);
const nameArb = fc.oneof({ weight: 5, arbitrary: validName }, { weight: 1, arbitrary: junkSegment });
const namespaceArb = fc.oneof(
  { weight: 5, arbitrary: fc.constantFrom(...fuzzNamespaces) },
  { weight: 1, arbitrary: fc.constantFrom('missing', 'kube-public') },
  { weight: 1, arbitrary: junkSegment },
);

const groupVersions = [
  ...new Set(servedTypes.map((t) => apiVersionOf(t))),
  'policy/v1',
  'autoscaling/v1',
  'apps/v2',
  'nope.example.com/v1',
  'v2',
];
const resourceNames = [...new Set(servedTypes.map((t) => t.resource))];
const subresources = ['status', 'scale', 'binding', 'eviction', 'finalize', 'log', 'exec', 'token', 'proxy'];

/** `/api/v1[/namespaces/<ns>]/<resource>[/<name>[/<subresource>]]` and its `/apis/<group>/<version>` kin. */
const resourcePath = fc
  .record({
    groupVersion: fc.oneof({ weight: 6, arbitrary: fc.constantFrom(...groupVersions) }, junkSegment),
    namespace: fc.option(namespaceArb, { freq: 3 }),
    resource: fc.oneof({ weight: 8, arbitrary: fc.constantFrom(...resourceNames) }, junkSegment),
    name: fc.option(nameArb, { freq: 3 }),
    subresource: fc.option(
      fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...subresources) }, junkSegment),
      {
        freq: 2,
      },
    ),
    extra: fc.option(junkSegment, { freq: 12 }),
    trailingSlash: fc.boolean(),
  })
  .map(({ groupVersion, namespace, resource, name, subresource, extra, trailingSlash }) => {
    const root = groupVersion.includes('/') ? `/apis/${groupVersion}` : `/api/${groupVersion}`;
    const parts = [root];
    if (namespace !== null) parts.push('namespaces', namespace);
    parts.push(resource);
    if (name !== null) {
      parts.push(name);
      if (subresource !== null) parts.push(subresource);
    }
    if (extra !== null) parts.push(extra);
    return `${parts.join('/')}${trailingSlash ? '/' : ''}`;
  });

/** Paths glued from fragments, in any order. */
const fragmentPath = fc
  .array(
    fc.oneof(
      fc.constantFrom('api', 'apis', 'v1', 'apps', 'namespaces', 'default', 'configmaps', 'pods', ''),
      junkSegment,
    ),
    { maxLength: 9 },
  )
  .map((parts) => `/${parts.join('/')}`);

const fixedPath = fc.constantFrom(
  '/',
  '',
  '*',
  '//',
  '/healthz',
  '/livez',
  '/readyz/',
  '/version',
  '/metrics',
  '/.well-known/openid-configuration',
  '/openid/v1/jwks',
  '/openapi/v2',
  '/openapi/v3',
  '/openapi/v3/api/v1',
  '/openapi/v3/apis/apps/v1',
  '/openapi/v3/apis/nope/v1',
  '/openapi/v3/..',
  '/api',
  '/apis',
  '/apis/apps',
  '/apis/apps/v1',
  '/apis/nope',
  '/api/v1',
  '/api/v2',
);

const pathArb = fc.oneof(
  { weight: 10, arbitrary: resourcePath },
  { weight: 2, arbitrary: fragmentPath },
  { weight: 2, arbitrary: fixedPath },
);

const methodArb = fc.oneof(
  { weight: 12, arbitrary: fc.constantFrom('GET', 'POST', 'PUT', 'PATCH', 'DELETE') },
  { weight: 1, arbitrary: fc.constantFrom('HEAD', 'OPTIONS', 'CONNECT', 'TRACE', 'get', 'Post', 'FOO', '') },
);

const queryKeys = [
  'labelSelector',
  'fieldSelector',
  'limit',
  'continue',
  'resourceVersion',
  'resourceVersionMatch',
  'watch',
  'timeoutSeconds',
  'allowWatchBookmarks',
  'dryRun',
  'fieldManager',
  'fieldValidation',
  'propagationPolicy',
  'gracePeriodSeconds',
  'orphanDependents',
  'includeObject',
  'container',
  'follow',
  'previous',
  'timestamps',
  'tailLines',
  'sinceSeconds',
  'sinceTime',
  'limitBytes',
  'command',
  'stdin',
  'force',
  'pretty',
];
const continueToken = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
const queryValue = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.constantFrom(
      '',
      'true',
      'false',
      '1',
      '0',
      '-1',
      '5',
      '3.5',
      '1e3',
      'NaN',
      'Infinity',
      '99999999999999999999',
      '9007199254740993',
      'All',
      'all',
      'Strict',
      'Warn',
      'Ignore',
      'Exact',
      'NotOlderThan',
      'Orphan',
      'Background',
      'Foreground',
      'None',
      'Object',
      'Metadata',
      'a=b',
      'a==b,c!=d',
      'a in (x,y)',
      'a notin (x)',
      '!a',
      'a,b',
      'a in (',
      '((',
      ')',
      '=',
      '!',
      'a=b=c',
      `${'k'.repeat(400)}=v`,
      'metadata.name=a',
      'metadata.namespace!=default',
      'spec.nodeName=',
      'status.phase=Running',
      'spec.nope=x',
      'metadata.name=a,metadata.name=b',
      '2024-01-01T00:00:00Z',
      'yesterday',
      continueToken({ v: 'meta.k8s.io/v1', rv: 1, start: 'default/a' }),
      continueToken({ v: 'meta.k8s.io/v1', rv: -1, start: 5 }),
      continueToken({ rv: 99999999, start: '' }),
      '%%%',
      '\u0000',
    ),
  },
  { weight: 1, arbitrary: fc.string({ maxLength: 30 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'grapheme', maxLength: 30 }) },
);
const queryArb = fc.array(
  fc.tuple(
    fc.oneof({ weight: 10, arbitrary: fc.constantFrom(...queryKeys) }, fc.string({ maxLength: 8 })),
    queryValue,
  ),
  { maxLength: 4 },
);

const contentTypes = [
  'application/json',
  'application/json; charset=utf-8',
  'APPLICATION/JSON',
  'application/yaml',
  'application/x-yaml',
  'text/yaml',
  'application/vnd.kubernetes.protobuf',
  'application/merge-patch+json',
  'application/json-patch+json',
  'application/strategic-merge-patch+json',
  'application/apply-patch+yaml',
  'application/foo+json',
  'text/plain',
  'application/xml',
  'multipart/form-data; boundary=x',
  '',
  ';',
  ';;charset',
];
const acceptTypes = [
  'application/json',
  '*/*',
  'application/json;as=Table;v=v1;g=meta.k8s.io',
  'application/json;as=Table;v=v1;g=meta.k8s.io,application/json',
  'application/json;as=Table;v=v1beta1;g=meta.k8s.io',
  'application/json;as=PartialObjectMetadataList;v=v1;g=meta.k8s.io',
  'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList',
  'application/vnd.kubernetes.protobuf',
  'application/com.github.proto-openapi.spec.v2@v1.0+protobuf',
  'application/com.github.proto-openapi.spec.v2.v1.0+protobuf;q=0.9,application/json;q=0.1',
  'text/html',
  ';;;',
  '=',
  'a;b=;c;=d',
  'application/json;as',
];

const authorizationArb = fc.oneof(
  { weight: 8, arbitrary: fc.constant(`Bearer ${adminToken}`) },
  { weight: 3, arbitrary: fc.constant(`Bearer ${nobodyToken}`) },
  { weight: 1, arbitrary: fc.constant(undefined) },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      'Bearer',
      'Bearer ',
      'Bearer wrong',
      `bearer ${adminToken}`,
      `Bearer  ${adminToken}  `,
      `Bearer ${adminToken} extra`,
      `Basic ${Buffer.from('admin:admin').toString('base64')}`,
      `Bearer ${adminToken}\u0000`,
      '',
    ),
  },
  { weight: 1, arbitrary: fc.string({ maxLength: 40 }) },
);

const extraHeaders = fc.dictionary(
  fc.constantFrom(
    'impersonate-user',
    'impersonate-group',
    'x-remote-user',
    'content-encoding',
    'transfer-encoding',
    'upgrade',
    'x-forwarded-for',
    'if-match',
    'expect',
  ),
  fc.oneof(fc.constantFrom('system:admin', 'gzip', 'chunked', 'websocket', '100-continue'), fc.string()),
  { maxKeys: 2 },
);

// ----- bodies -----

const containers = [{ name: 'c', image: 'busybox:1.36' }];
const podSpec = { containers };
const rbacGroup = 'rbac.authorization.k8s.io';

/** A valid object of each served kind (and of the subresource kinds), to start mutations from. */
function template(resource: string, name: string): Json {
  const meta = { name };
  const labels = { app: 'fuzz' };
  const workload = { selector: { matchLabels: labels }, template: { metadata: { labels }, spec: podSpec } };
  const bodies: Record<string, Json> = {
    namespaces: { apiVersion: 'v1', kind: 'Namespace', metadata: meta },
    configmaps: { apiVersion: 'v1', kind: 'ConfigMap', metadata: meta, data: { a: '1' } },
    secrets: { apiVersion: 'v1', kind: 'Secret', metadata: meta, type: 'Opaque', stringData: { p: 'x' } },
    pods: { apiVersion: 'v1', kind: 'Pod', metadata: { ...meta, labels }, spec: podSpec },
    services: { apiVersion: 'v1', kind: 'Service', metadata: meta, spec: { ports: [{ port: 80 }] } },
    endpoints: { apiVersion: 'v1', kind: 'Endpoints', metadata: meta, subsets: [] },
    nodes: { apiVersion: 'v1', kind: 'Node', metadata: meta, spec: {} },
    events: {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: meta,
      involvedObject: { kind: 'Pod', name: 'a' },
      reason: 'Fuzz',
    },
    serviceaccounts: { apiVersion: 'v1', kind: 'ServiceAccount', metadata: meta },
    deployments: { apiVersion: 'apps/v1', kind: 'Deployment', metadata: meta, spec: workload },
    replicasets: { apiVersion: 'apps/v1', kind: 'ReplicaSet', metadata: meta, spec: workload },
    jobs: {
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: meta,
      spec: { template: { spec: { ...podSpec, restartPolicy: 'Never' } } },
    },
    leases: { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: meta, spec: {} },
    endpointslices: {
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSlice',
      metadata: meta,
      addressType: 'IPv4',
      endpoints: [],
    },
    roles: {
      apiVersion: `${rbacGroup}/v1`,
      kind: 'Role',
      metadata: meta,
      rules: [{ verbs: ['get'], apiGroups: [''], resources: ['configmaps'] }],
    },
    clusterroles: {
      apiVersion: `${rbacGroup}/v1`,
      kind: 'ClusterRole',
      metadata: meta,
      rules: [{ verbs: ['get'], apiGroups: [''], resources: ['configmaps'] }],
    },
    rolebindings: {
      apiVersion: `${rbacGroup}/v1`,
      kind: 'RoleBinding',
      metadata: meta,
      subjects: [{ kind: 'User', name: 'fuzz-nobody', apiGroup: rbacGroup }],
      roleRef: { apiGroup: rbacGroup, kind: 'ClusterRole', name: 'view' },
    },
    clusterrolebindings: {
      apiVersion: `${rbacGroup}/v1`,
      kind: 'ClusterRoleBinding',
      metadata: meta,
      subjects: [{ kind: 'Group', name: 'fuzz-nobodies', apiGroup: rbacGroup }],
      roleRef: { apiGroup: rbacGroup, kind: 'ClusterRole', name: 'view' },
    },
    selfsubjectaccessreviews: {
      apiVersion: 'authorization.k8s.io/v1',
      kind: 'SelfSubjectAccessReview',
      spec: { resourceAttributes: { verb: 'get', resource: 'pods', namespace: 'default' } },
    },
    selfsubjectrulesreviews: {
      apiVersion: 'authorization.k8s.io/v1',
      kind: 'SelfSubjectRulesReview',
      spec: { namespace: 'default' },
    },
    selfsubjectreviews: { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' },
    eviction: { apiVersion: 'policy/v1', kind: 'Eviction', metadata: meta, deleteOptions: {} },
    binding: { apiVersion: 'v1', kind: 'Binding', metadata: meta, target: { kind: 'Node', name: 'n1' } },
    scale: { apiVersion: 'autoscaling/v1', kind: 'Scale', metadata: meta, spec: { replicas: 2 } },
    deleteoptions: { apiVersion: 'v1', kind: 'DeleteOptions', propagationPolicy: 'Foreground' },
    tokenrequest: {
      apiVersion: 'authentication.k8s.io/v1',
      kind: 'TokenRequest',
      spec: { audiences: ['fuzz'], expirationSeconds: 3600, boundObjectRef: { kind: 'Pod', name: 'a' } },
    },
  };
  return structuredClone(bodies[resource] ?? bodies.configmaps) as Json;
}
const templateNames = [
  ...resourceNames,
  'eviction',
  'binding',
  'scale',
  'deleteoptions',
  'tokenrequest',
  'configmaps',
  'pods',
  'services',
  'deployments',
];

/** Where mutations land: the fields validation, defaulting, admission and authorization read. */
const editPaths: (string | number)[][] = [
  ['metadata'],
  ['metadata', 'name'],
  ['metadata', 'namespace'],
  ['metadata', 'generateName'],
  ['metadata', 'labels'],
  ['metadata', 'labels', 'app'],
  ['metadata', 'annotations'],
  ['metadata', 'resourceVersion'],
  ['metadata', 'uid'],
  ['metadata', 'finalizers'],
  ['metadata', 'ownerReferences'],
  ['metadata', 'ownerReferences', 0],
  ['metadata', 'deletionTimestamp'],
  ['metadata', 'deletionGracePeriodSeconds'],
  ['metadata', 'generation'],
  ['apiVersion'],
  ['kind'],
  ['spec'],
  ['spec', 'containers'],
  ['spec', 'containers', 0],
  ['spec', 'containers', 0, 'image'],
  ['spec', 'containers', 0, 'name'],
  ['spec', 'containers', 0, 'ports'],
  ['spec', 'containers', 0, 'ports', 0],
  ['spec', 'initContainers'],
  ['spec', 'nodeName'],
  ['spec', 'terminationGracePeriodSeconds'],
  ['spec', 'template'],
  ['spec', 'template', 'metadata'],
  ['spec', 'template', 'spec'],
  ['spec', 'template', 'spec', 'containers'],
  ['spec', 'template', 'spec', 'containers', 0],
  ['spec', 'template', 'spec', 'restartPolicy'],
  ['spec', 'selector'],
  ['spec', 'selector', 'matchLabels'],
  ['spec', 'selector', 'matchExpressions'],
  ['spec', 'replicas'],
  ['spec', 'strategy'],
  ['spec', 'ports'],
  ['spec', 'ports', 0],
  ['spec', 'ports', 0, 'port'],
  ['spec', 'ports', 0, 'nodePort'],
  ['spec', 'ports', 0, 'targetPort'],
  ['spec', 'type'],
  ['spec', 'clusterIP'],
  ['spec', 'finalizers'],
  ['spec', 'resourceAttributes'],
  ['spec', 'nonResourceAttributes'],
  ['spec', 'namespace'],
  ['spec', 'audiences'],
  ['spec', 'expirationSeconds'],
  ['spec', 'boundObjectRef'],
  ['spec', 'boundObjectRef', 'uid'],
  ['status'],
  ['status', 'phase'],
  ['data'],
  ['data', 'a'],
  ['stringData'],
  ['binaryData'],
  ['immutable'],
  ['type'],
  ['rules'],
  ['rules', 0],
  ['rules', 0, 'verbs'],
  ['rules', 0, 'resourceNames'],
  ['rules', 0, 'nonResourceURLs'],
  ['aggregationRule'],
  ['aggregationRule', 'clusterRoleSelectors'],
  ['subjects'],
  ['subjects', 0],
  ['subjects', 0, 'kind'],
  ['subjects', 0, 'name'],
  ['roleRef'],
  ['roleRef', 'kind'],
  ['roleRef', 'name'],
  ['target'],
  ['deleteOptions'],
  ['deleteOptions', 'preconditions'],
  ['involvedObject'],
  ['subsets'],
  ['endpoints'],
  ['unknownField'],
  ['__proto__'],
  ['constructor'],
];

/** About a megabyte in one string (a stored object may hold 1.5 MiB). */
const hugeString = 'x'.repeat(1_000_000);

const hostileValue = fc.oneof(
  {
    weight: 24,
    arbitrary: fc.constantFrom<unknown>(
      null,
      [],
      {},
      [null],
      [{}],
      [[]],
      '',
      'x',
      'Bad_Name',
      '..',
      '\u0000',
      '🙂',
      'a'.repeat(300),
      -1,
      0,
      1.5,
      1e308,
      65536,
      2 ** 53,
      true,
      false,
      { $patch: 'delete' },
      { $patch: 'replace' },
      'cluster-admin',
      'system:masters',
      '*',
      ['*'],
      { matchLabels: {} },
      { matchLabels: { app: 1 } },
      { matchExpressions: [{ key: 'a', operator: 'Foo' }] },
      [{ verbs: ['*'], apiGroups: ['*'], resources: ['*'] }],
      [{ kind: 'Group', name: 'system:authenticated' }],
      [{ name: 'c' }],
      [
        { name: 'c', image: 'busybox' },
        { name: 'c', image: 'busybox' },
      ],
      { kind: 'Role', name: 'x' },
      { kind: 'ClusterRole', apiGroup: rbacGroup, name: 'cluster-admin' },
      [{ port: 'http' }],
      [{ port: 80, nodePort: 1 }],
      [{ apiVersion: 'v1' }],
      '10.96.0.5',
      '999.1.1.1',
      'None',
      'NodePort',
      'ExternalName',
      '2024-01-01T00:00:00Z',
      ['kubernetes', ''],
      { uid: 'nope' },
      { resourceVersion: '1' },
    ),
  },
  { weight: 8, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
  { weight: 4, arbitrary: fc.string({ unit: 'grapheme', maxLength: 20 }) },
  { weight: 1, arbitrary: fc.constant(hugeString) },
  {
    weight: 3,
    arbitrary: fc
      .record({
        // Around the limit (where the value lands adds a few levels), past it, and far past it.
        depth: fc.oneof(
          fc.integer({ min: maxNestingDepth - 12, max: maxNestingDepth + 2 }),
          fc.integer({ min: maxNestingDepth, max: 1100 }),
          fc.integer({ min: 1000, max: 60_000 }),
        ),
        shape: fc.constantFrom('array', 'object', 'mixed'),
      })
      .map(({ depth, shape }) => `\u0001deep:${depth}:${shape}\u0001`),
  },
);

type Edit = { path: (string | number)[]; value: unknown } | { path: (string | number)[]; remove: true };
const editArb: fc.Arbitrary<Edit> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ path: fc.constantFrom(...editPaths), value: hostileValue }) },
  {
    weight: 1,
    arbitrary: fc.record({ path: fc.constantFrom(...editPaths), remove: fc.constant(true as const) }),
  },
);

/**
 * Sets (or removes) a value deep in a JSON value, making the containers on the way; keys like
 * `__proto__` become own keys, as JSON.parse makes them.
 */
function applyEdit(root: Json, edit: Edit): Json {
  let node: unknown = root;
  for (const [i, key] of edit.path.entries()) {
    if (node === null || typeof node !== 'object') return root;
    const container = node as Record<string | number, unknown>;
    if (i === edit.path.length - 1) {
      if ('remove' in edit) delete container[key];
      else
        Object.defineProperty(container, key, {
          // A copy: generated values are shared between runs, and later edits may write into this one.
          value: structuredClone(edit.value),
          enumerable: true,
          writable: true,
          configurable: true,
        });
      return root;
    }
    if (!Object.hasOwn(container, key) || container[key] === null || typeof container[key] !== 'object') {
      const next = typeof edit.path[i + 1] === 'number' ? [] : {};
      Object.defineProperty(container, key, {
        value: next,
        enumerable: true,
        writable: true,
        configurable: true,
      });
    }
    node = container[key];
  }
  return root;
}

/** A served kind's object, changed by a few hostile edits (none: it stays valid). */
const objectArb = fc
  .record({
    resource: fc.constantFrom(...templateNames),
    name: nameArb,
    edits: fc.array(editArb, { maxLength: 3 }),
  })
  .map(({ resource, name, edits }) => edits.reduce(applyEdit, template(resource, name)));

interface Body {
  bytes: Buffer;
  /** The content type that fits the body; the request may say something else. */
  contentType?: string;
}

/**
 * A deep value is a marker string while generated (JSON.stringify itself cannot write one 5000 deep);
 * the text gets the nesting when the body is written.
 */
const deepMarker = /"\\u0001deep:(\d+):(array|object|mixed)\\u0001"/g;

function toJson(value: unknown): string {
  return (JSON.stringify(value) ?? '').replace(
    deepMarker,
    (_, depth: string, shape: 'array' | 'object' | 'mixed') => nested(Number(depth), shape),
  );
}

const jsonBody = (value: unknown, contentType = 'application/json'): Body => ({
  bytes: Buffer.from(toJson(value)),
  contentType,
});

/** A value nested `depth` deep: arrays, objects, or both, around a leaf. */
function nested(depth: number, shape: 'array' | 'object' | 'mixed'): string {
  let open = '';
  let close = '';
  for (let i = 0; i < depth; i++) {
    const array = shape === 'array' || (shape === 'mixed' && i % 2 === 0);
    open += array ? '[' : '{"a":';
    close = (array ? ']' : '}') + close;
  }
  return `${open}1${close}`;
}

/** Deeply nested JSON, alone or in a field of an otherwise fine object. */
const deepBody = fc
  .record({
    depth: fc.oneof(fc.integer({ min: 90, max: 1100 }), fc.integer({ min: 1000, max: 120_000 })),
    shape: fc.constantFrom('array' as const, 'object' as const, 'mixed' as const),
    where: fc.constantFrom('top', 'labels', 'data', 'spec', 'unknown', 'patch', 'containers'),
    contentType: fc.constantFrom(
      'application/json',
      'application/merge-patch+json',
      'application/strategic-merge-patch+json',
      'application/yaml',
    ),
  })
  .map(({ depth, shape, where, contentType }): Body => {
    const value = nested(depth, shape);
    const wrap: Record<string, string> = {
      top: value,
      labels: `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"a","labels":${value}}}`,
      data: `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"a"},"data":{"a":${value}}}`,
      spec: `{"apiVersion":"v1","kind":"Pod","metadata":{"name":"a"},"spec":${value}}`,
      unknown: `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"a"},"x":${value}}`,
      patch: `{"metadata":{"annotations":null},"x":${value}}`,
      containers: `{"apiVersion":"v1","kind":"Pod","metadata":{"name":"a"},"spec":{"containers":[{"name":"c","image":"i","env":${value}}]}}`,
    };
    return { bytes: Buffer.from(wrap[where] as string), contentType };
  });

/** About a megabyte in one string: a ConfigMap value, a name, a label, or a patch value. */
const hugeBody = fc
  .record({
    size: fc.integer({ min: 900_000, max: 1_100_000 }),
    where: fc.constantFrom('data', 'name', 'label', 'annotation', 'patch'),
  })
  .map(({ size, where }): Body => {
    const big = 'x'.repeat(size);
    const objects: Record<string, unknown> = {
      data: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'huge' }, data: { a: big } },
      name: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: big } },
      label: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'a', labels: { a: big } } },
      annotation: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'a', annotations: { a: big } } },
      patch: { data: { big } },
    };
    return jsonBody(objects[where], where === 'patch' ? 'application/merge-patch+json' : 'application/json');
  });

/** Bytes that are not UTF-8, or JSON with NUL bytes inside and around it. */
const byteBody = fc.oneof(
  fc.uint8Array({ maxLength: 200 }).map((bytes): Body => ({ bytes: Buffer.from(bytes) })),
  fc.constantFrom<Body>(
    { bytes: Buffer.from([0xff, 0xfe, 0xfd, 0x80, 0xc0, 0xaf]) },
    { bytes: Buffer.from('{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"a\u0000b"}}') },
    {
      bytes: Buffer.from(
        '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"a"},"data":{"\u0000":"\u0000"}}',
      ),
    },
    { bytes: Buffer.concat([Buffer.from('{"metadata":{"name":"a"}}'), Buffer.from([0])]) },
    {
      bytes: Buffer.concat([
        Buffer.from('{"metadata":{"name":"'),
        Buffer.from([0xc3, 0x28]),
        Buffer.from('"}}'),
      ]),
    },
    { bytes: Buffer.from('\ufeff{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"bom"}}') },
  ),
);

/** YAML that expands (billion laughs), nests, aliases itself, or uses tags and merge keys. */
const yamlBody = fc.constantFrom<Body>(
  ...[
    [
      'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]',
      'b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]',
      'c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]',
      'd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]',
      'e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]',
      'f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]',
      'g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]',
      'apiVersion: v1',
      'kind: ConfigMap',
      'metadata: {name: lol}',
    ].join('\n'),
    'apiVersion: v1\nkind: ConfigMap\nmetadata: &m\n  name: a\n  labels: *m\n',
    'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n  <<: {namespace: other}\ndata: &d {a: "1"}\nbinaryData: *d\n',
    'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\ndata: {a: !!binary aGVsbG8=}\n',
    'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\ndata: {a: !!js/function "function(){}"}\n',
    'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: b}\n',
    'apiVersion: v1\nkind: ConfigMap\nkind: Secret\nmetadata: {name: a}\n',
    'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\ndata: {a: 1, b: 2020-01-01, c: 0x10, d: .inf, e: ~}\n',
    `${'- '.repeat(3000)}x\n`,
    '? [a, b]\n: c\n',
    '&a [*a]',
    '%YAML 9.9\n---\na: b\n',
    '\t- bad\n  indent: [\n',
  ].map((text) => ({ bytes: Buffer.from(text), contentType: 'application/yaml' })),
);

/** Protobuf: the magic and junk, or a well-formed envelope around a random message. */
function varint(n: number): Buffer {
  const out: number[] = [];
  let v = n;
  while (v >= 0x80) {
    out.push((v & 0x7f) | 0x80);
    v = Math.floor(v / 128);
  }
  out.push(v);
  return Buffer.from(out);
}
const field = (number: number, payload: Buffer) =>
  Buffer.concat([varint((number << 3) | 2), varint(payload.length), payload]);
const protobufBody = fc
  .oneof(
    fc
      .uint8Array({ maxLength: 120 })
      .map((junk): Body => ({ bytes: Buffer.concat([KUBERNETES_PROTOBUF_MAGIC, junk]) })),
    fc
      .record({
        apiVersion: fc.constantFrom('v1', 'apps/v1', 'nope/v1', ''),
        kind: fc.constantFrom('ConfigMap', 'Pod', 'Deployment', 'Secret', 'Nope', ''),
        raw: fc.uint8Array({ maxLength: 120 }),
        contentType: fc.constantFrom('', 'application/vnd.kubernetes.protobuf', 'application/json'),
      })
      .map(
        ({ apiVersion, kind, raw, contentType }): Body => ({
          bytes: Buffer.concat([
            KUBERNETES_PROTOBUF_MAGIC,
            field(1, Buffer.concat([field(1, Buffer.from(apiVersion)), field(2, Buffer.from(kind))])),
            field(2, Buffer.from(raw)),
            ...(contentType ? [field(4, Buffer.from(contentType))] : []),
          ]),
        }),
      ),
  )
  .map((body) => ({ ...body, contentType: 'application/vnd.kubernetes.protobuf' }));

const patchPath = fc.oneof(
  fc.constantFrom(
    '',
    '/',
    '/-',
    '/metadata/name',
    '/metadata/labels/a~1b',
    '/metadata/labels/~2',
    '/metadata/resourceVersion',
    '/metadata/finalizers/-',
    '/data/x',
    '/spec/containers/0',
    '/spec/containers/-',
    '/spec/containers/99',
    '/spec/replicas',
    '/status',
    '/kind',
    '/apiVersion',
    '/__proto__/polluted',
    '/constructor/prototype/polluted',
    '/a/b/c',
  ),
  fc.string({ maxLength: 12 }),
);
const jsonPatchBody = fc
  .array(
    fc.record(
      {
        op: fc.oneof(
          { weight: 6, arbitrary: fc.constantFrom('add', 'remove', 'replace', 'move', 'copy', 'test') },
          { weight: 1, arbitrary: fc.constantFrom('_get', 'nope', '', 'ADD') },
        ),
        path: patchPath,
        from: patchPath,
        value: hostileValue,
      },
      { requiredKeys: ['op', 'path'] },
    ),
    { maxLength: 4 },
  )
  .map((ops) => jsonBody(ops, 'application/json-patch+json'));

const mergePatchBody = fc
  .array(editArb, { minLength: 1, maxLength: 3 })
  .chain((edits) =>
    fc
      .constantFrom('application/merge-patch+json', 'application/strategic-merge-patch+json')
      .map((contentType) => jsonBody(edits.reduce(applyEdit, {}), contentType)),
  );

const strategicDirectives = fc.constantFrom<unknown>(
  { spec: { containers: [{ name: 'c', $patch: 'delete' }] } },
  { spec: { containers: [{ $patch: 'replace' }] } },
  { spec: { $patch: 'replace', containers: [] } },
  { spec: { $patch: 'nope' } },
  { spec: { $retainKeys: 'x' } },
  { spec: { $retainKeys: ['containers'] } },
  { spec: { '$setElementOrder/containers': [{ name: 'z' }, 'x', null] } },
  { metadata: { '$deleteFromPrimitiveList/finalizers': 'x' } },
  { metadata: { '$deleteFromPrimitiveList/finalizers': ['a'] } },
  { spec: { containers: [1, 'x', null] } },
  { spec: { ports: [{ port: 80, $patch: 'delete' }, null] } },
  { $patch: 'delete' },
  { $patch: 'replace' },
);
const strategicBody = strategicDirectives.map((patch) =>
  jsonBody(patch, 'application/strategic-merge-patch+json'),
);

const bodyArb: fc.Arbitrary<Body> = fc.oneof(
  { weight: 2, arbitrary: fc.constant<Body>({ bytes: Buffer.alloc(0) }) },
  { weight: 12, arbitrary: objectArb.map((o) => jsonBody(o)) },
  {
    weight: 2,
    arbitrary: objectArb.map(
      (o): Body => ({ bytes: Buffer.from(toYaml(o)), contentType: 'application/yaml' }),
    ),
  },
  { weight: 2, arbitrary: fc.jsonValue().map((v) => jsonBody(v)) },
  {
    weight: 1,
    arbitrary: fc.string({ unit: 'grapheme', maxLength: 60 }).map((s) => ({ bytes: Buffer.from(s) })),
  },
  { weight: 2, arbitrary: deepBody },
  { weight: 1, arbitrary: hugeBody },
  { weight: 2, arbitrary: byteBody },
  { weight: 2, arbitrary: yamlBody },
  { weight: 2, arbitrary: protobufBody },
  { weight: 3, arbitrary: jsonPatchBody },
  { weight: 3, arbitrary: mergePatchBody },
  { weight: 2, arbitrary: strategicBody },
);

/** What the server's router reads from a path; undefined for a path it does not route (or refuses). */
function infoOf(path: string) {
  try {
    return resourceRequestInfo(path.length > 1 ? path.replace(/\/+$/, '') : path);
  } catch {
    return undefined;
  }
}

/** Deleting every namespace (the live check's too) is a request that may succeed; it is left out. */
function deletesEveryNamespace(method: string, path: string, authorization: string | undefined): boolean {
  const info = infoOf(path);
  return (
    method === 'DELETE' &&
    authorization !== undefined &&
    info?.group === '' &&
    info.resource === 'namespaces' &&
    info.name === undefined
  );
}

/** Requests glued from random parts: mostly refused early (routing, authentication, decoding). */
const looseRequest: fc.Arbitrary<FuzzRequest> = fc
  .record({
    method: methodArb,
    path: pathArb,
    query: queryArb,
    authorization: authorizationArb,
    contentType: fc.option(
      fc.oneof({ weight: 5, arbitrary: fc.constantFrom(...contentTypes) }, fc.string({ maxLength: 30 })),
      { freq: 4 },
    ),
    accept: fc.option(
      fc.oneof({ weight: 5, arbitrary: fc.constantFrom(...acceptTypes) }, fc.string({ maxLength: 30 })),
      { freq: 2 },
    ),
    extra: extraHeaders,
    body: bodyArb,
    abort: fc.constantFrom<FuzzRequest['abort']>('never', 'never', 'never', 'before'),
  })
  .filter((r) => !deletesEveryNamespace(r.method, r.path, r.authorization))
  .map(({ method, path, query, authorization, contentType, accept, extra, body, abort }) => {
    const headers: Record<string, string> = { ...extra };
    if (authorization !== undefined) headers.authorization = authorization;
    const type = contentType ?? body.contentType;
    if (type !== undefined) headers['content-type'] = type;
    if (accept !== null) headers.accept = accept;
    return withDescription({ method, path, query, headers, body: body.bytes, abort });
  });

const patchArb = fc.oneof(mergePatchBody, jsonPatchBody, strategicBody);

/** An object body for a resource: JSON, the same JSON sent as YAML, or YAML proper. */
const objectBody = (resource: string) =>
  fc
    .record({
      name: nameArb,
      edits: fc.array(editArb, { maxLength: 3 }),
      format: fc.constantFrom('json', 'json', 'json', 'json-as-yaml', 'yaml'),
    })
    .map(({ name, edits, format }): Body => {
      const object = edits.reduce(applyEdit, template(resource, name));
      if (format === 'json') return jsonBody(object);
      if (format === 'json-as-yaml') return jsonBody(object, 'application/yaml');
      return { bytes: Buffer.from(toYaml(object)), contentType: 'application/yaml' };
    });

type Action =
  | 'create'
  | 'update'
  | 'patch'
  | 'delete'
  | 'get'
  | 'list'
  | 'watch'
  | 'deletecollection'
  | 'subresource';

/** The body a subresource request carries: its own kind (Scale, Binding, Eviction) or the resource's. */
const subresourceBody = (resource: string, subresource: string, method: string) => {
  if (method === 'PATCH') return patchArb;
  if (method === 'GET') return fc.constant<Body>({ bytes: Buffer.alloc(0) });
  const kinds: Record<string, string> = {
    scale: 'scale',
    binding: 'binding',
    eviction: 'eviction',
    token: 'tokenrequest',
  };
  return objectBody(kinds[subresource] ?? resource);
};

/**
 * Requests a client could mean: a served type's path, a method for the action, a body of the type's
 * kind (or a patch), the matching content type, with hostile edits in the body and junk around it.
 * These reach admission, validation, the store and authorization.
 */
const meantRequest: fc.Arbitrary<FuzzRequest> = fc
  .record({
    type: fc.constantFrom(...servedTypes),
    action: fc.constantFrom<Action>(
      'create',
      'create',
      'create',
      'update',
      'update',
      'patch',
      'patch',
      'delete',
      'get',
      'list',
      'watch',
      'deletecollection',
      'subresource',
      'subresource',
    ),
    /** Mostly one the type has; sometimes any. */
    subresource: fc.oneof(fc.nat(), fc.constantFrom(...subresources)),
    subresourceMethod: fc.constantFrom('GET', 'POST', 'PUT', 'PATCH'),
    namespace: namespaceArb,
    name: nameArb,
    query: queryArb,
    authorization: fc.oneof(
      { weight: 6, arbitrary: fc.constant(`Bearer ${adminToken}`) },
      { weight: 3, arbitrary: fc.constant(`Bearer ${nobodyToken}`) },
      { weight: 1, arbitrary: authorizationArb },
    ),
    contentType: fc.option(fc.constantFrom(...contentTypes), { freq: 10 }),
    accept: fc.option(fc.constantFrom(...acceptTypes), { freq: 4 }),
    deleteOptions: fc.option(objectBody('deleteoptions'), { freq: 2 }),
    abort: fc.constantFrom<FuzzRequest['abort']>('never', 'never', 'never', 'never', 'before'),
  })
  .map((r) => {
    const own = r.type.subresources ?? [];
    const subresource =
      typeof r.subresource === 'string' ? r.subresource : (own[r.subresource % own.length] ?? 'status');
    return { ...r, subresource };
  })
  .chain((r) => {
    const { type, action, subresource, subresourceMethod } = r;
    const body: fc.Arbitrary<Body> =
      action === 'create' || action === 'update'
        ? objectBody(type.resource)
        : action === 'patch'
          ? patchArb
          : action === 'subresource'
            ? subresourceBody(type.resource, subresource, subresourceMethod)
            : fc.constant(r.deleteOptions ?? { bytes: Buffer.alloc(0) });
    return body.map((b) => ({ ...r, body: b }));
  })
  .map((r): FuzzRequest => {
    const { type, action } = r;
    const root = type.group ? `/apis/${type.group}/${type.version}` : `/api/${type.version}`;
    const collection = type.namespaced
      ? `${root}/namespaces/${r.namespace}/${type.resource}`
      : `${root}/${type.resource}`;
    const named = `${collection}/${r.name}`;
    const routes: Record<Action, [string, string]> = {
      create: ['POST', collection],
      update: ['PUT', named],
      patch: ['PATCH', named],
      delete: ['DELETE', named],
      get: ['GET', named],
      list: ['GET', collection],
      watch: ['GET', collection],
      deletecollection: ['DELETE', collection],
      subresource: [r.subresourceMethod, `${named}/${r.subresource}`],
    };
    const [method, path] = routes[action];
    const query = action === 'watch' ? [...r.query, ['watch', 'true'] as [string, string]] : r.query;
    const headers: Record<string, string> = {};
    if (r.authorization !== undefined) headers.authorization = r.authorization;
    const contentType = r.contentType ?? r.body.contentType;
    if (contentType !== undefined) headers['content-type'] = contentType;
    if (r.accept !== null) headers.accept = r.accept;
    return { method, path, query, headers, body: r.body.bytes, abort: r.abort };
  })
  .filter((r) => !deletesEveryNamespace(r.method, r.path, r.headers.authorization))
  .map(withDescription);

const requestArb = fc.oneof({ weight: 3, arbitrary: meantRequest }, { weight: 1, arbitrary: looseRequest });

// ----- sending, and what every answer must be -----

interface Answer {
  status: number;
  headers: Record<string, string>;
  /** The body; for a stream, what it sent before the client left. */
  body: Buffer;
  streamed: boolean;
}

/** How long a simulated client reads a streamed answer (a watch) before it goes away. */
const streamReadMs = 25;

async function readStream(stream: AsyncIterable<string | Buffer>, stop: () => void): Promise<Buffer> {
  const timer = setTimeout(stop, streamReadMs);
  const chunks: Buffer[] = [];
  try {
    for await (const chunk of stream) chunks.push(Buffer.from(chunk));
  } finally {
    clearTimeout(timer);
  }
  return Buffer.concat(chunks);
}

interface Status {
  kind: string;
  apiVersion: string;
  status: string;
  code: number;
  reason: string;
  message: string;
}

function parseJson(body: Buffer): unknown {
  try {
    return JSON.parse(body.toString('utf8'));
  } catch {
    return undefined;
  }
}

function isStatus(value: unknown, code?: number): value is Status {
  return (
    isJsonObject(value) &&
    value.kind === 'Status' &&
    value.apiVersion === 'v1' &&
    typeof value.reason === 'string' &&
    typeof value.message === 'string' &&
    typeof value.code === 'number' &&
    (code === undefined || (value.status === 'Failure' && value.code === code))
  );
}

/**
 * The answers that are correct whatever was asked: 2xx, 4xx, and the two documented 5xx. Returns what
 * is wrong with the answer, if anything.
 */
function problemsWith(request: FuzzRequest, answer: Answer): string[] {
  const problems: string[] = [];
  const { status, body } = answer;
  const json = parseJson(body);
  if (status >= 400) {
    if (!isStatus(json, status))
      problems.push(`a ${status} whose body is not a Status: ${body.toString().slice(0, 300)}`);
    const reason = isStatus(json) ? json.reason : '';
    const message = isStatus(json) ? json.message : '';
    const kubeletSubresource = ['log', 'exec'].includes(infoOf(request.path)?.subresource ?? '');
    const legitimate5xx =
      (status === 503 && reason === 'ServiceUnavailable' && kubeletSubresource) ||
      (status === 504 && reason === 'Timeout' && message.startsWith('Too large resource version'));
    if (status >= 500 && !legitimate5xx)
      problems.push(`answered ${status}: ${body.toString().slice(0, 300)}`);
  } else if (status < 200 || status >= 300) {
    problems.push(`answered ${status}, neither success nor a client error`);
  }
  const contentType = answer.headers['content-type'] ?? '';
  if (answer.streamed) {
    for (const line of body.toString('utf8').split('\n').filter(Boolean)) {
      const event = parseJson(Buffer.from(line));
      if (
        !isJsonObject(event) ||
        !['ADDED', 'MODIFIED', 'DELETED', 'BOOKMARK', 'ERROR'].includes(String(event.type))
      )
        problems.push(`a watch event that is not one: ${line.slice(0, 200)}`);
      else if (event.type === 'ERROR' && !(isStatus(event.object) && event.object.code < 500))
        problems.push(`a watch ended with a server error: ${line.slice(0, 300)}`);
    }
  } else if (status < 300 && contentType.startsWith('application/json') && json === undefined) {
    problems.push(`a ${status} whose JSON body does not parse: ${body.toString().slice(0, 200)}`);
  }
  return problems;
}

// ----- what was accepted, to check the store against -----

type Key = string;
const keyOf = (type: ResourceType, namespace: string | undefined, name: string): Key =>
  `${qualifiedResource(type)}|${type.namespaced ? (namespace ?? '') : ''}|${name}`;

function typeOfObject(object: unknown): ResourceType | undefined {
  if (!isJsonObject(object)) return undefined;
  return resourceTypes.find((t) => apiVersionOf(t) === object.apiVersion && t.kind === object.kind);
}

function objectKey(object: unknown): Key | undefined {
  const type = typeOfObject(object);
  const metadata = (object as KubernetesObject | undefined)?.metadata;
  if (!type || !isJsonObject(metadata) || typeof metadata.name !== 'string') return undefined;
  return keyOf(type, metadata.namespace as string | undefined, metadata.name);
}

/** The key of the object a request's path names (for answers that do not carry the object). */
function pathKey(path: string): Key | undefined {
  const info = infoOf(path);
  const type =
    info &&
    resourceTypes.find(
      (t) => t.group === info.group && t.version === info.version && t.resource === info.resource,
    );
  if (!info || !type || info.name === undefined) return undefined;
  return keyOf(type, info.namespace, info.name);
}

/**
 * What the accepted writes left: the keys created, and for each key its state as the last accepted write
 * answered it (`deleted`, or `unknown` when the answer does not show it: a binding, an eviction, a scale).
 */
class AcceptedWrites {
  readonly created = new Set<Key>();
  readonly last = new Map<Key, KubernetesObject | 'deleted' | 'unknown'>();

  record(request: FuzzRequest, answer: Answer): void {
    if (
      answer.status >= 300 ||
      answer.streamed ||
      !['POST', 'PUT', 'PATCH', 'DELETE'].includes(request.method)
    )
      return;
    // A dry run changes nothing (and that is checked: what it answered is not recorded).
    if (request.query.some(([key]) => key === 'dryRun')) return;
    const json = parseJson(answer.body);
    if (!isJsonObject(json)) return;
    if (Array.isArray(json.items)) {
      // deletecollection: each item was deleted or only marked; which, the answer does not say.
      for (const item of json.items) {
        const key = objectKey(item);
        if (key) this.last.set(key, 'unknown');
      }
      return;
    }
    const key = objectKey(json);
    if (key) {
      if (request.method === 'POST') this.created.add(key);
      this.last.set(key, json as KubernetesObject);
      return;
    }
    const named = pathKey(request.path);
    if (!named) return;
    if (request.method === 'DELETE' && isStatus(json) && (json as { status?: string }).status === 'Success')
      this.last.set(named, 'deleted');
    else this.last.set(named, 'unknown');
  }
}

async function storedObjects(store: Store): Promise<Map<Key, KubernetesObject>> {
  const all = new Map<Key, KubernetesObject>();
  for (const type of resourceTypes) {
    const { items } = await store.list({ resource: qualifiedResource(type) });
    for (const item of items) all.set(keyOf(type, item.metadata.namespace, item.metadata.name), item);
  }
  return all;
}

// ----- the suite -----

const seed = Number(process.env.FUZZ_SEED ?? Math.floor(Math.random() * 2 ** 31));
const replayPath = process.env.FUZZ_PATH;
/** Random requests of the first property; the model-checked writes are a fifth of that. */
const runs = Number(process.env.FUZZ_RUNS ?? 1000);
const params = (numRuns: number): fc.Parameters<unknown> => ({
  seed,
  numRuns,
  ...(replayPath ? { path: replayPath } : {}),
});

describe(`the API server under hostile input (seed ${seed})`, () => {
  let store: Store;
  let server: ApiServer;
  const internalErrors: unknown[] = [];
  const audits: AuditEvent[] = [];
  const accepted = new AcceptedWrites();
  let before: Map<Key, KubernetesObject>;
  let liveChecks = 0;

  async function send(request: FuzzRequest): Promise<Answer> {
    const controller = new AbortController();
    if (request.abort === 'before') controller.abort();
    const response = await server({
      method: request.method,
      path: request.path,
      query: new URLSearchParams(request.query),
      headers: request.headers,
      body: request.body,
      signal: controller.signal,
    });
    const answer: Answer =
      'stream' in response
        ? {
            status: response.status,
            headers: response.headers,
            body: await readStream(response.stream, () => controller.abort()),
            streamed: true,
          }
        : {
            status: response.status,
            headers: response.headers,
            body: Buffer.from(response.body),
            streamed: false,
          };
    accepted.record(request, answer);
    return answer;
  }

  /** Sends a request and checks its answer (and that no 500 was logged meanwhile). */
  async function sendChecked(request: FuzzRequest): Promise<Answer> {
    const answer = await send(request);
    const logged = internalErrors.splice(0);
    const audited = audits.splice(0);
    // One audit line per request that may change something, with the code it was answered.
    if (['POST', 'PUT', 'PATCH', 'DELETE'].includes(request.method) && !answer.streamed)
      expect(
        audited.map((event) => JSON.parse(JSON.stringify(event)).responseStatus.code),
        describeRequest(request),
      ).toEqual([answer.status]);
    const problems = problemsWith(request, answer);
    if (problems.length === 0) return answer;
    for (const error of logged)
      problems.push(`logged: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    expect.fail(`${describeRequest(request)}\n${problems.join('\n')}`);
  }

  const call = (
    method: string,
    path: string,
    body?: unknown,
    token = adminToken,
    contentType = 'application/json',
  ): Promise<Answer> =>
    sendChecked(
      withDescription({
        method,
        path,
        query: [],
        headers: { authorization: `Bearer ${token}`, 'content-type': contentType },
        body: Buffer.from(body === undefined ? '' : JSON.stringify(body)),
        abort: 'never',
      }),
    );

  /**
   * Known-good requests, between random ones: a ConfigMap made, read and removed, and discovery as
   * the user with no rights.
   */
  async function expectStillServing(): Promise<void> {
    const name = `live-${++liveChecks}`;
    const path = `/api/v1/namespaces/${liveNamespace}/configmaps`;
    const created = await call('POST', path, { ...template('configmaps', name), data: { n: name } });
    expect(created.status, created.body.toString()).toBe(201);
    const read = await call('GET', `${path}/${name}`);
    expect(read.status).toBe(200);
    expect((parseJson(read.body) as Json).data).toEqual({ n: name });
    const removed = await call('DELETE', `${path}/${name}`);
    expect(removed.status).toBe(200);
    expect((await call('GET', `${path}/${name}`)).status).toBe(404);
    expect((await call('GET', '/api', undefined, nobodyToken)).status).toBe(200);
    expect((await call('GET', '/version', undefined, nobodyToken)).status).toBe(200);
  }

  beforeAll(async () => {
    ({ store } = await freshStore());
    await ensureClusterDefaults(store);
    server = createApiServer({
      store,
      authenticate: async (token) => users.get(token),
      strategicMergePatch,
      maxWatchSeconds: 1,
      logError: (error) => internalErrors.push(error),
      serviceAccounts: {
        keys: await signingKeyFromSecret('fuzz-signing-secret-'.repeat(4)),
        issuer: serviceAccountIssuer,
      },
      audit: (event) => audits.push(event),
      // The rate limit has its own tests; here it would make the run depend on the machine's speed.
      limits: { requestsPerSecond: 100_000, burst: 100_000, watchesPerIdentity: 100 },
    });
    for (const name of ['fuzz', liveNamespace, writesNamespace])
      expect((await call('POST', '/api/v1/namespaces', template('namespaces', name))).status).toBe(201);
    before = await storedObjects(store);
  });

  it(`answers random and malformed requests with 2xx, 4xx or a documented 5xx, and a Status for every error (seed ${seed})`, async () => {
    let sent = 0;
    await fc.assert(
      fc.asyncProperty(requestArb, async (request) => {
        await sendChecked(request);
        if (++sent % 50 === 0) await expectStillServing();
      }),
      params(runs),
    );
    await expectStillServing();
  });

  // ----- model-checked writes -----

  const writeKinds = ['configmaps', 'secrets', 'pods', 'deployments', 'services'] as const;
  type WriteKind = (typeof writeKinds)[number];
  const writeTypes: Record<WriteKind, { path: string; type: ResourceType }> = Object.fromEntries(
    writeKinds.map((resource) => {
      const type = resourceTypes.find((t) => t.resource === resource) as ResourceType;
      const root = type.group ? `/apis/${type.group}/${type.version}` : `/api/${type.version}`;
      return [resource, { path: `${root}/namespaces/${writesNamespace}/${resource}`, type }];
    }),
  ) as Record<WriteKind, { path: string; type: ResourceType }>;

  /**
   * A valid object of the kind, varied only where any update may vary it (labels, data, image,
   * replicas); for an update, the stored object so varied (as `kubectl replace` after a get: a pod's
   * spec as admission completed it may not change).
   */
  function validObject(kind: WriteKind, name: string, variant: number, stored?: KubernetesObject): Json {
    const object: Json = stored ? structuredClone(stored) : template(kind, name);
    if (stored) applyEdit(object, { path: ['metadata', 'resourceVersion'], remove: true });
    applyEdit(object, { path: ['metadata', 'labels', 'variant'], value: `v${variant}` });
    if (kind === 'configmaps') applyEdit(object, { path: ['data', 'n'], value: String(variant) });
    if (kind === 'secrets') applyEdit(object, { path: ['stringData', 'n'], value: String(variant) });
    if (kind === 'pods')
      applyEdit(object, { path: ['spec', 'containers', 0, 'image'], value: `busybox:1.${variant}` });
    if (kind === 'deployments') applyEdit(object, { path: ['spec', 'replicas'], value: variant % 4 });
    return object;
  }

  /** Changes that make any object of these kinds invalid, whatever is stored. */
  const invalidEdits: Record<WriteKind | 'any', Edit[]> = {
    any: [
      { path: ['metadata', 'labels', 'bad'], value: 'not a label value!' },
      { path: ['metadata', 'labels'], value: 'x' },
      { path: ['metadata', 'annotations', 'Bad Key'], value: 'x' },
      { path: ['kind'], value: 'Wrong' },
      { path: ['apiVersion'], value: 'v2' },
      { path: ['metadata'], value: [] },
      { path: ['metadata', 'ownerReferences'], value: [{ apiVersion: 'v1' }] },
    ],
    configmaps: [{ path: ['data'], value: { a: 1 } }],
    secrets: [{ path: ['data'], value: 'x' }],
    pods: [{ path: ['spec', 'containers', 0, 'image'], value: '' }],
    deployments: [
      { path: ['spec', 'replicas'], value: -1 },
      { path: ['spec', 'template', 'metadata', 'labels'], value: { app: 'other' } },
    ],
    services: [{ path: ['spec', 'ports'], value: [{ port: 0 }] }],
  };

  type Intent = 'valid' | 'invalid' | 'random';
  interface Write {
    kind: WriteKind;
    name: string;
    op: 'create' | 'update' | 'merge' | 'strategic' | 'json' | 'delete';
    intent: Intent;
    variant: number;
    invalid: Edit;
    random: Edit[];
    dryRun: boolean;
    strict: boolean;
  }
  const writeArb: fc.Arbitrary<Write> = fc.constantFrom(...writeKinds).chain((kind) =>
    fc.record({
      kind: fc.constant(kind),
      name: fc.constantFrom('w1', 'w2'),
      op: fc.constantFrom('create', 'create', 'update', 'merge', 'strategic', 'json', 'delete'),
      intent: fc.constantFrom<Intent>('valid', 'valid', 'invalid', 'random', 'random'),
      variant: fc.nat(20),
      invalid: fc.constantFrom(...invalidEdits.any, ...invalidEdits[kind]),
      random: fc.array(editArb, { minLength: 1, maxLength: 3 }),
      dryRun: fc.integer({ min: 0, max: 9 }).map((n) => n < 2),
      strict: fc.boolean(),
    }),
  );

  /** The request a write makes. Patches carry the change as a patch of the right type. */
  function writeRequest(write: Write, stored: KubernetesObject | undefined): FuzzRequest {
    const { path } = writeTypes[write.kind];
    const object = validObject(
      write.kind,
      write.name,
      write.variant,
      write.op === 'update' ? stored : undefined,
    );
    const edits =
      write.intent === 'invalid' ? [write.invalid] : write.intent === 'random' ? write.random : [];
    const query: [string, string][] = [];
    if (write.dryRun) query.push(['dryRun', 'All']);
    if (write.strict) query.push(['fieldValidation', 'Strict']);
    const request = (method: string, at: string, body: unknown, contentType = 'application/json') =>
      withDescription({
        method,
        path: at,
        query,
        headers: { authorization: `Bearer ${adminToken}`, 'content-type': contentType },
        body: Buffer.from(body === undefined ? '' : JSON.stringify(body)),
        abort: 'never',
      });
    const named = `${path}/${write.name}`;
    switch (write.op) {
      case 'create':
        return request('POST', path, edits.reduce(applyEdit, object));
      case 'update':
        return request('PUT', named, edits.reduce(applyEdit, object));
      case 'delete':
        return request('DELETE', named, undefined);
      case 'json': {
        const ops = edits.map((edit) => {
          const pointer = `/${edit.path.map((p) => String(p).replaceAll('~', '~0').replaceAll('/', '~1')).join('/')}`;
          return 'remove' in edit
            ? { op: 'remove', path: pointer }
            : { op: 'add', path: pointer, value: edit.value };
        });
        const labels = {
          op: 'add',
          path: '/metadata/labels',
          value: { app: 'fuzz', variant: `v${write.variant}` },
        };
        return request('PATCH', named, [labels, ...ops], 'application/json-patch+json');
      }
      default: {
        const patch = edits.reduce(applyEdit, { metadata: { labels: { variant: `v${write.variant}` } } });
        const type =
          write.op === 'merge' ? 'application/merge-patch+json' : 'application/strategic-merge-patch+json';
        return request('PATCH', named, patch, type);
      }
    }
  }

  /**
   * Objects only valid requests have written: any valid update of them must succeed. (One a random
   * write changed may, say, hold an unknown field that a strict update then refuses, or a selector a
   * valid update may not change.)
   */
  const clean = new Set<string>();
  const cleanKey = (write: Write) => `${write.kind}/${write.name}`;

  /** The answer a write must get, where the model knows it: undefined where it may go either way. */
  function expectedStatus(write: Write, exists: boolean, isClean: boolean): number | undefined {
    if (write.op === 'delete') return exists ? 200 : 404;
    if (write.intent !== 'valid' || write.dryRun) return undefined;
    if (write.op === 'create') return exists ? 409 : 201;
    if (!exists) return 404;
    return isClean ? 200 : undefined;
  }

  it(`carries out valid writes, refuses invalid ones with 4xx, and leaves the object as it was when it refuses (seed ${seed})`, async () => {
    let sent = 0;
    await fc.assert(
      fc.asyncProperty(writeArb, async (write) => {
        const { type } = writeTypes[write.kind];
        const key = { resource: qualifiedResource(type), namespace: writesNamespace, name: write.name };
        const read = () => store.get(key).catch(() => undefined);
        const was = await read();
        const request = writeRequest(write, was);
        const answer = await sendChecked(request);
        const now = await read();
        const body = parseJson(answer.body);
        const context = `${describeRequest(request)}\n→ ${answer.status} ${answer.body.toString().slice(0, 400)}`;
        if (answer.status >= 400 || write.dryRun) {
          expect(now, `${context}\nthe stored object changed`).toEqual(was);
        } else if (write.op !== 'delete') {
          // A random edit may have named the object otherwise: what is stored is where the answer says.
          const answered = (body as KubernetesObject).metadata.name;
          const stored =
            answered === write.name
              ? now
              : await store.get({ ...key, name: answered }).catch(() => undefined);
          expect(stored, `${context}\nwhat is stored is not what was answered`).toEqual(body);
        }
        if (write.intent === 'invalid' && write.op !== 'delete')
          expect(answer.status, context).toBeGreaterThanOrEqual(400);
        const expected = expectedStatus(write, was !== undefined, clean.has(cleanKey(write)));
        if (expected !== undefined) expect(answer.status, context).toBe(expected);
        if (!write.dryRun && answer.status < 300) {
          if (write.op === 'delete' || write.intent !== 'valid') clean.delete(cleanKey(write));
          else if (write.op === 'create') clean.add(cleanKey(write));
        }
        if (++sent % 50 === 0) await expectStillServing();
      }),
      params(Math.ceil(runs / 5)),
    );
  });

  it('stored nothing from rejected requests: every object was there before or came from an accepted write, as it answered', async () => {
    const after = await storedObjects(store);
    const problems: string[] = [];
    for (const [key, object] of after) {
      if (!before.has(key) && !accepted.created.has(key))
        problems.push(`${key} is stored, but no accepted request created it`);
      const last = accepted.last.get(key);
      if (last === 'deleted') problems.push(`${key} is stored, but an accepted delete removed it`);
      else if (last === undefined) {
        if (before.has(key) && !same(before.get(key), object))
          problems.push(`${key} changed, but no accepted request wrote it`);
      } else if (last !== 'unknown' && !same(last, object)) {
        problems.push(
          `${key} is not as the last accepted write left it:\n  stored ${JSON.stringify(object).slice(0, 400)}\n  answer ${JSON.stringify(last).slice(0, 400)}`,
        );
      }
    }
    expect(problems).toEqual([]);
  });

  describe('the store, past DynamoDB’s key and page limits', () => {
    const get = (path: string, query: [string, string][] = []) =>
      send(
        withDescription({
          method: 'GET',
          path,
          query,
          headers: { authorization: `Bearer ${adminToken}` },
          body: Buffer.alloc(0),
          abort: 'never',
        }),
      ).finally(() => {
        internalErrors.splice(0);
        audits.splice(0);
      });

    it('answers 404, not 500, to a name or namespace too long for a DynamoDB key', async () => {
      const long = 'a'.repeat(2000);
      expect((await get(`/api/v1/namespaces/default/configmaps/${long}`)).status).toBe(404);
      expect((await get(`/api/v1/namespaces/${long}/configmaps`)).status).toBe(200);
    });

    it('lists with a limit past 2^31 as with any large limit', async () => {
      expect((await get('/api/v1/namespaces/default/configmaps', [['limit', String(2 ** 31)]])).status).toBe(
        200,
      );
    });
  });

  describe('through the local HTTPS server', () => {
    let scratch: string;
    let https: HttpsServer;
    let ca: string;
    beforeAll(async () => {
      scratch = await mkdtemp(join(tmpdir(), 'lambernetes-fuzz-'));
      const certificates = await loadOrCreateCertificates(join(scratch, 'certs'));
      ca = certificates.caCert;
      https = await startHttpsServer({
        handler: server,
        host: '127.0.0.1',
        port: 0,
        cert: certificates.serverCert,
        key: certificates.serverKey,
      });
    });
    afterAll(async () => {
      await https?.close();
      if (scratch) await rm(scratch, { recursive: true, force: true });
    });

    const post = (path: string, body: Buffer, contentType = 'application/json') =>
      new Promise<{ status: number; body: string }>((resolve, reject) => {
        const req = httpsRequest(
          new URL(path, https.url),
          {
            method: 'POST',
            ca,
            headers: {
              authorization: `Bearer ${adminToken}`,
              'content-type': contentType,
              'content-length': String(body.length),
            },
          },
          (res) => {
            const chunks: Buffer[] = [];
            res.on('data', (chunk: Buffer) => chunks.push(chunk));
            res.on('end', () =>
              resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }),
            );
          },
        );
        // The server may answer and close before it has read the whole body.
        req.on('error', (error: NodeJS.ErrnoException) =>
          error.code === 'EPIPE' || error.code === 'ECONNRESET' ? undefined : reject(error),
        );
        req.end(body);
      });

    it('answers 413 with a Status to bodies over 3 MiB, stores none of them, and serves the next request', async () => {
      const limit = 3 * 1024 * 1024;
      const path = `/api/v1/namespaces/${liveNamespace}/configmaps`;
      const padded = (name: string, size: number) => {
        const object = JSON.stringify({ ...template('configmaps', name), data: { a: '' } });
        return Buffer.from(object.replace('"a":""', `"a":"${'x'.repeat(size - object.length)}"`));
      };
      for (const [name, size] of [
        ['over-by-one', limit + 1],
        ['over-by-a-lot', 4 * limit],
      ] as const) {
        const answer = await post(path, padded(name, size));
        expect(answer.status, answer.body).toBe(413);
        expect(JSON.parse(answer.body)).toMatchObject({
          kind: 'Status',
          code: 413,
          reason: 'RequestEntityTooLarge',
        });
        await expect(store.get({ resource: 'configmaps', namespace: liveNamespace, name })).rejects.toThrow(
          /not found/,
        );
      }
      // At the limit the body reaches the API, which refuses an object over its own 1.5 MiB limit.
      const atLimit = await post(path, padded('at-limit', limit));
      expect(atLimit.status, atLimit.body).toBe(413);
      expect(JSON.parse(atLimit.body).message).toMatch(/object is \d+ bytes, the limit is/);
      const fine = await post(path, Buffer.from(JSON.stringify(template('configmaps', 'after-413'))));
      expect(fine.status, fine.body).toBe(201);
    });
  });
});
