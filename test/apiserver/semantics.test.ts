import { beforeAll, describe, expect, it } from 'vitest';
import { maxNestingDepth } from '../../functions/apiserver/decode.js';
import { createApiServer } from '../../functions/apiserver/server.js';
import { strategicMergePatch } from '../../functions/apiserver/strategic-merge.js';
import type { ApiHandler, ApiResponse } from '../../shared/http/contract.js';
import { freshStore } from '../support/dynamo.js';

// biome-ignore lint/suspicious/noExplicitAny: responses are read deep in assertions
type Json = Record<string, any>;

async function text(response: ApiResponse): Promise<string> {
  if ('body' in response) return response.body.toString();
  let out = '';
  for await (const chunk of response.stream) out += chunk.toString();
  return out;
}

describe('API semantics through the handler', () => {
  let handler: ApiHandler;
  let store: Awaited<ReturnType<typeof freshStore>>['store'];
  /** A request as the admin (a string body is sent as it is, anything else as JSON). */
  const call = async (
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
    signal = new AbortController().signal,
  ) => {
    const url = new URL(path, 'https://x');
    const response = await handler({
      method,
      path: url.pathname,
      query: url.searchParams,
      headers: { authorization: 'Bearer t', 'content-type': 'application/json', ...headers },
      body: Buffer.from(body === undefined ? '' : typeof body === 'string' ? body : JSON.stringify(body)),
      signal,
    });
    const raw = await text(response);
    return {
      status: response.status,
      headers: response.headers,
      raw,
      json: (() => {
        try {
          return JSON.parse(raw) as Json;
        } catch {
          return {} as Json;
        }
      })(),
    };
  };
  const cm = (name: string, extra: Json = {}) => ({
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name, ...extra },
    data: { a: '1' },
  });

  beforeAll(async () => {
    ({ store } = await freshStore());
    handler = createApiServer({
      store,
      authenticate: async (t) =>
        t === 't'
          ? { name: 'admin', groups: ['system:masters'] }
          : t === 'someone'
            ? { name: 'someone', groups: ['system:authenticated'] }
            : undefined,
      strategicMergePatch,
      maxWatchSeconds: 2,
    });
    for (const name of ['default', 'doomed'])
      expect(
        (
          await call('POST', '/api/v1/namespaces', {
            apiVersion: 'v1',
            kind: 'Namespace',
            metadata: { name },
          })
        ).status,
      ).toBe(201);
  });

  it('generates names from generateName and fills uid, timestamps and resourceVersion', async () => {
    const created = await call('POST', '/api/v1/namespaces/default/configmaps', {
      ...cm(''),
      metadata: { generateName: 'gen-' },
    });
    expect(created.status).toBe(201);
    expect(created.json.metadata.name).toMatch(/^gen-[a-z0-9]{5}$/);
    expect(created.json.metadata.uid).toMatch(/^[0-9a-f-]{36}$/);
    expect(created.json.metadata.creationTimestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect(Number(created.json.metadata.resourceVersion)).toBeGreaterThan(0);
  });

  it('changes status only through /status, and nothing else through it', async () => {
    const deployment = {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'd' },
      spec: {
        selector: { matchLabels: { a: 'b' } },
        template: { metadata: { labels: { a: 'b' } }, spec: { containers: [{ name: 'c', image: 'i' }] } },
      },
      status: { replicas: 7 },
    };
    const path = '/apis/apps/v1/namespaces/default/deployments';
    const created = await call('POST', path, deployment);
    expect(created.json.status).toBeUndefined();
    const viaMain = await call(
      'PATCH',
      `${path}/d`,
      { status: { replicas: 3 } },
      { 'content-type': 'application/merge-patch+json' },
    );
    expect(viaMain.json.status).toBeUndefined();
    const viaStatus = await call(
      'PATCH',
      `${path}/d/status`,
      { status: { replicas: 3 }, spec: { replicas: 9 } },
      { 'content-type': 'application/merge-patch+json' },
    );
    expect(viaStatus.status).toBe(200);
    expect(viaStatus.json.status).toEqual({ replicas: 3 });
    expect(viaStatus.json.spec.replicas).toBe(1);
    expect(viaStatus.json.metadata.generation).toBe(1);
  });

  it('keeps an object with finalizers until they are removed, then deletes it', async () => {
    await call(
      'POST',
      '/api/v1/namespaces/default/configmaps',
      cm('held', { finalizers: ['example.com/hold'] }),
    );
    const deleting = await call('DELETE', '/api/v1/namespaces/default/configmaps/held');
    expect(deleting.status).toBe(200);
    expect(deleting.json.metadata.deletionTimestamp).toBeDefined();
    expect((await call('GET', '/api/v1/namespaces/default/configmaps/held')).status).toBe(200);
    const released = await call(
      'PATCH',
      '/api/v1/namespaces/default/configmaps/held',
      [{ op: 'remove', path: '/metadata/finalizers' }],
      { 'content-type': 'application/json-patch+json' },
    );
    expect(released.status).toBe(200);
    expect((await call('GET', '/api/v1/namespaces/default/configmaps/held')).status).toBe(404);
  });

  it('refuses new content in a terminating namespace with 403', async () => {
    const deleting = await call('DELETE', '/api/v1/namespaces/doomed');
    expect(deleting.json.status.phase).toBe('Terminating');
    const refused = await call('POST', '/api/v1/namespaces/doomed/configmaps', cm('late'));
    expect(refused.status).toBe(403);
    expect(refused.json.reason).toBe('Forbidden');
    expect((await call('POST', '/api/v1/namespaces/missing/configmaps', cm('x'))).json).toMatchObject({
      code: 404,
      message: 'namespaces "missing" not found',
    });
  });

  it('changes nothing on dryRun=All', async () => {
    const dry = await call('POST', '/api/v1/namespaces/default/configmaps?dryRun=All', cm('dry'));
    expect(dry.status).toBe(201);
    expect(dry.json.metadata.name).toBe('dry');
    expect((await call('GET', '/api/v1/namespaces/default/configmaps/dry')).status).toBe(404);
  });

  it('pages lists on one revision and deletes collections by selector', async () => {
    for (const name of ['l1', 'l2', 'l3'])
      await call('POST', '/api/v1/namespaces/default/configmaps', cm(name, { labels: { batch: 'x' } }));
    const first = await call('GET', '/api/v1/namespaces/default/configmaps?labelSelector=batch%3Dx&limit=2');
    expect(first.json.items.map((i: Json) => i.metadata.name)).toEqual(['l1', 'l2']);
    await call('POST', '/api/v1/namespaces/default/configmaps', cm('l4', { labels: { batch: 'x' } }));
    const rest = await call(
      'GET',
      `/api/v1/namespaces/default/configmaps?labelSelector=batch%3Dx&limit=2&continue=${first.json.metadata.continue}`,
    );
    expect(rest.json.items.map((i: Json) => i.metadata.name)).toEqual(['l3']);
    expect(rest.json.metadata.resourceVersion).toBe(first.json.metadata.resourceVersion);
    const removed = await call('DELETE', '/api/v1/namespaces/default/configmaps?labelSelector=batch%3Dx');
    expect(removed.json.items).toHaveLength(4);
    expect(
      (await call('GET', '/api/v1/namespaces/default/configmaps?labelSelector=batch%3Dx')).json.items,
    ).toEqual([]);
  });

  it('answers a watch from a compacted revision with an ERROR event carrying 410 Expired', async () => {
    const top = await store.currentRevision();
    await store.compact(top);
    const watch = await call(
      'GET',
      `/api/v1/namespaces/default/configmaps?watch=true&resourceVersion=${top - 1}`,
    );
    expect(watch.status).toBe(200);
    const event = JSON.parse(watch.raw.trim().split('\n')[0] as string);
    expect(event).toMatchObject({ type: 'ERROR', object: { kind: 'Status', code: 410, reason: 'Expired' } });
  });

  it('answers 405 to a verb the path does not support', async () => {
    expect(
      (await call('POST', '/api/v1/namespaces/default/configmaps/some-name', cm('some-name'))).status,
    ).toBe(405);
  });

  it('allocates distinct ClusterIPs and NodePorts, refuses taken ones, and frees them on delete', async () => {
    const svc = (name: string, spec: Json = {}) => ({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name },
      spec: { selector: { app: name }, ports: [{ port: 80 }], ...spec },
    });
    const path = '/api/v1/namespaces/default/services';
    const a = (await call('POST', path, svc('a'))).json;
    const b = (await call('POST', path, svc('b', { type: 'NodePort' }))).json;
    for (const s of [a, b]) expect(s.spec.clusterIP).toMatch(/^10\.(9[6-9]|10[0-9]|11[01])\.\d+\.\d+$/);
    expect(a.spec.clusterIP).not.toBe(b.spec.clusterIP);
    expect(a.spec.clusterIPs).toEqual([a.spec.clusterIP]);
    expect(b.spec.ports[0].nodePort).toBeGreaterThanOrEqual(30000);
    expect(b.spec.ports[0].nodePort).toBeLessThanOrEqual(32767);
    expect(b.spec.ports[0].targetPort).toBe(80);

    const taken = await call('POST', path, svc('c', { clusterIP: a.spec.clusterIP }));
    expect(taken.json).toMatchObject({ code: 422, reason: 'Invalid' });
    expect(taken.json.message).toContain('provided IP is already allocated');
    const outside = await call('POST', path, svc('d', { clusterIP: '192.168.0.10' }));
    expect(outside.status).toBe(422);
    const headless = (await call('POST', path, svc('e', { clusterIP: 'None' }))).json;
    expect(headless.spec.clusterIP).toBe('None');

    expect((await call('DELETE', `${path}/a`)).status).toBe(200);
    const reused = await call('POST', path, svc('f', { clusterIP: a.spec.clusterIP }));
    expect(reused.status).toBe(201);
    expect(reused.json.spec.clusterIP).toBe(a.spec.clusterIP);
  });

  it('validates fields on the server: Strict rejects unknown ones, Warn (the default) warns, Ignore ignores', async () => {
    const path = '/apis/apps/v1/namespaces/default/deployments';
    const typo = (name: string) => ({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name, labels: { any: 'label' } },
      spec: {
        selector: { matchLabels: { a: 'b' } },
        replicaz: 2,
        template: {
          metadata: { labels: { a: 'b' } },
          spec: { containers: [{ name: 'c', image: 'i', imagePullPolic: 'Always' }] },
        },
      },
    });
    const strict = await call('POST', `${path}?fieldValidation=Strict`, typo('strict'));
    expect(strict.status).toBe(400);
    expect(strict.json.message).toBe(
      'Deployment in version "v1" cannot be handled as a Deployment: strict decoding error: unknown field "spec.replicaz", unknown field "spec.template.spec.containers[0].imagePullPolic"',
    );
    expect((await call('GET', `${path}/strict`)).status).toBe(404);
    const warned = await call('POST', path, typo('warned'));
    expect(warned.status).toBe(201);
    expect(warned.headers.warning).toBe(
      `299 - ${JSON.stringify('unknown field "spec.replicaz"')}, 299 - ${JSON.stringify('unknown field "spec.template.spec.containers[0].imagePullPolic"')}`,
    );
    const ignored = await call('POST', `${path}?fieldValidation=Ignore`, typo('ignored'));
    expect(ignored.status).toBe(201);
    expect(ignored.headers.warning).toBeUndefined();
    const patched = await call(
      'PATCH',
      `${path}/ignored?fieldValidation=Strict`,
      { spec: { paused: true, pauzed: true } },
      { 'content-type': 'application/merge-patch+json' },
    );
    expect(patched.json.message).toContain('unknown field "spec.pauzed"');
    expect((await call('POST', `${path}?fieldValidation=Loose`, typo('x'))).status).toBe(400);
  });

  it('validates label keys and values, annotation keys and owner references with 422 field causes', async () => {
    const path = '/api/v1/namespaces/default/configmaps';
    const bad = await call(
      'POST',
      path,
      cm('bad-labels', { labels: { 'bad key!': 'v', ok: 'not ok!' }, annotations: { '/x': '1' } }),
    );
    expect(bad.status).toBe(422);
    expect(bad.json.details.causes.map((c: Json) => c.field)).toEqual([
      'metadata.labels',
      'metadata.labels',
      'metadata.annotations',
    ]);
    const owner = await call(
      'POST',
      path,
      cm('orphan', { ownerReferences: [{ apiVersion: 'v1', kind: 'Pod', name: 'p' }] }),
    );
    expect(owner.json.details.causes).toEqual([
      { reason: 'FieldValueRequired', message: 'Required value', field: 'metadata.ownerReferences[0].uid' },
    ]);
    const good = await call(
      'POST',
      path,
      cm('good-labels', { labels: { 'example.com/team': 'A_b-1', empty: '' } }),
    );
    expect(good.status).toBe(201);
    const relabel = await call(
      'PATCH',
      `${path}/good-labels`,
      { metadata: { labels: { team: '-x' } } },
      { 'content-type': 'application/merge-patch+json' },
    );
    expect(relabel.status).toBe(422);
  });

  it('accepts fields newer than the served OpenAPI (native sidecars) under Strict, and still rejects typos in them', async () => {
    const pod = (restart: Json) => ({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: `sidecar-${Object.keys(restart)[0]?.length}` },
      spec: {
        initContainers: [{ name: 'proxy', image: 'envoy', ...restart }],
        containers: [{ name: 'app', image: 'app' }],
      },
    });
    const path = '/api/v1/namespaces/default/pods?fieldValidation=Strict';
    expect((await call('POST', path, pod({ restartPolicy: 'Always' }))).status).toBe(201);
    const typo = await call('POST', path, pod({ restartPolicee: 'Always' }));
    expect(typo.json.message).toContain('unknown field "spec.initContainers[0].restartPolicee"');
  });

  it('sends a BOOKMARK with the newest revision before it closes a watch at its timeout', async () => {
    const from = Number(
      (await call('GET', '/api/v1/namespaces/default/configmaps')).json.metadata.resourceVersion,
    );
    await call('POST', '/api/v1/namespaces', {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: 'elsewhere' },
    });
    const started = Date.now();
    const watch = await call(
      'GET',
      `/api/v1/namespaces/default/configmaps?watch=true&allowWatchBookmarks=true&timeoutSeconds=1&resourceVersion=${from}`,
    );
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
    const events = watch.raw
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    expect(events.at(-1)).toMatchObject({
      type: 'BOOKMARK',
      object: { kind: 'ConfigMap', apiVersion: 'v1' },
    });
    expect(Number(events.at(-1).object.metadata.resourceVersion)).toBeGreaterThan(from);
    const plain = await call(
      'GET',
      `/api/v1/namespaces/default/configmaps?watch=true&timeoutSeconds=1&resourceVersion=${from}`,
    );
    expect(plain.raw).toBe('');
  });

  it('rejects values of the wrong type with 400 in every validation mode, and stores nothing', async () => {
    const path = '/apis/apps/v1/namespaces/default/deployments';
    const deployment = (name: string, spec: Json) => ({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name },
      spec: {
        selector: { matchLabels: { a: 'b' } },
        template: {
          metadata: { labels: { a: 'b' } },
          spec: {
            containers: [
              {
                name: 'c',
                image: 'i',
                resources: { limits: { cpu: 1, memory: '64Mi' } },
                ports: [{ containerPort: 80 }],
              },
            ],
          },
        },
        ...spec,
      },
    });
    for (const [name, spec, field] of [
      ['t1', { replicas: 'three' }, 'spec.replicas'],
      ['t2', { paused: 'yes' }, 'spec.paused'],
      ['t3', { template: { spec: { containers: { name: 'c' } } } }, 'spec.template.spec.containers'],
      ['t4', { selector: ['a'] }, 'spec.selector'],
    ] as const) {
      const response = await call('POST', `${path}?fieldValidation=Ignore`, deployment(name, spec));
      expect(response.status, name).toBe(400);
      expect(response.json.message).toContain(`into field ${field} of type`);
      expect((await call('GET', `${path}/${name}`)).status).toBe(404);
    }
    const fine = await call(
      'POST',
      path,
      deployment('t5', {
        replicas: null,
        strategy: { rollingUpdate: { maxSurge: 1, maxUnavailable: '10%' } },
      }),
    );
    expect(fine.status, fine.raw).toBe(201);
  });
  it('refuses bodies and patches nested deeper than maxNestingDepth with 400 (thousands of levels were a 500)', async () => {
    const path = '/api/v1/namespaces/default/configmaps';
    // `x` is one level below the object; `levels` arrays go below it.
    const withX = (name: string, levels: number) =>
      `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"${name}"},"x":${'['.repeat(levels)}${']'.repeat(levels)}}`;
    const tooDeep = await call('POST', path, withX('too-deep', 5000));
    expect(tooDeep.status, tooDeep.raw).toBe(400);
    expect(tooDeep.json.message).toBe(`the request body is nested deeper than ${maxNestingDepth} levels`);
    expect((await call('POST', path, withX('one-too-deep', maxNestingDepth))).status).toBe(400);
    expect((await call('GET', `${path}/one-too-deep`)).status).toBe(404);
    const deepest = await call('POST', path, withX('deepest', maxNestingDepth - 1));
    expect(deepest.status, deepest.raw).toBe(201);

    for (const type of ['application/merge-patch+json', 'application/strategic-merge-patch+json']) {
      const patch = await call('PATCH', `${path}/deepest`, `{"y":${'['.repeat(5000)}${']'.repeat(5000)}}`, {
        'content-type': type,
      });
      expect(patch.status, type).toBe(400);
      expect(patch.json.message).toBe(`the patch is nested deeper than ${maxNestingDepth} levels`);
    }
    // Each part within the limit, together past it: a JSON patch adding below the deepest element.
    const innermost = `/x${'/0'.repeat(maxNestingDepth - 2)}/-`;
    const deeper = await call('PATCH', `${path}/deepest`, [{ op: 'add', path: innermost, value: [[[]]] }], {
      'content-type': 'application/json-patch+json',
    });
    expect(deeper.status, deeper.raw).toBe(400);
    expect(deeper.json.message).toBe(`the patched object is nested deeper than ${maxNestingDepth} levels`);
    expect((await call('GET', `${path}/deepest`)).json.metadata.resourceVersion).toBe(
      deepest.json.metadata.resourceVersion,
    );
  });

  it('reads a null list element or map value as Go does, as the zero value, and validates that (a 500 before)', async () => {
    const service = await call('POST', '/api/v1/namespaces/default/services', {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'null-port' },
      spec: { ports: [null] },
    });
    expect(service.status, service.raw).toBe(422);
    expect(service.json.details.causes.map((c: Json) => c.field)).toEqual(['spec.ports[0].port']);
    const owned = await call(
      'POST',
      '/api/v1/namespaces/default/configmaps',
      cm('null-owner', { ownerReferences: [null] }),
    );
    expect(owned.status, owned.raw).toBe(422);
    expect(owned.json.details.causes.map((c: Json) => c.field)).toEqual(
      ['apiVersion', 'kind', 'name', 'uid'].map((f) => `metadata.ownerReferences[0].${f}`),
    );
    const data = await call('POST', '/api/v1/namespaces/default/configmaps', {
      ...cm('null-value'),
      data: { a: null, b: 'x' },
    });
    expect(data.status, data.raw).toBe(201);
    expect(data.json.data).toEqual({ a: '', b: 'x' });
  });

  it('validates RBAC objects as upstream, so the authorizer never reads one it cannot (every user got 500s)', async () => {
    const rbac = '/apis/rbac.authorization.k8s.io/v1';
    const group = 'rbac.authorization.k8s.io';
    const role = (name: string, rules: unknown) => ({
      apiVersion: `${group}/v1`,
      kind: 'ClusterRole',
      metadata: { name },
      rules,
    });
    const binding = (name: string, extra: Json) => ({
      apiVersion: `${group}/v1`,
      kind: 'ClusterRoleBinding',
      metadata: { name },
      subjects: [{ kind: 'Group', name: 'system:authenticated' }],
      roleRef: { kind: 'ClusterRole', name: 'view' },
      ...extra,
    });
    const causes = (response: { json: Json }) =>
      response.json.details.causes.map((c: Json) => `${c.field}: ${c.message}`);

    const nullRule = await call('POST', `${rbac}/clusterroles`, role('null-rule', [null]));
    expect(nullRule.status, nullRule.raw).toBe(422);
    expect(causes(nullRule)).toEqual([
      'rules[0].verbs: Required value: verbs must contain at least one value',
      'rules[0].apiGroups: Required value: resource rules must supply at least one api group',
      'rules[0].resources: Required value: resource rules must supply at least one resource',
    ]);
    const namespaced = await call('POST', `${rbac}/namespaces/default/roles`, {
      ...role('urls', [{ verbs: ['get'], nonResourceURLs: ['/healthz'] }]),
      kind: 'Role',
    });
    expect(causes(namespaced)).toEqual([
      'rules[0].nonResourceURLs: Invalid value: ["/healthz"]: namespaced rules cannot apply to non-resource URLs',
    ]);
    const noRoleRef = await call(
      'POST',
      `${rbac}/clusterrolebindings`,
      binding('no-role-ref', { roleRef: null }),
    );
    expect(noRoleRef.status, noRoleRef.raw).toBe(422);
    expect(causes(noRoleRef)).toEqual([
      'roleRef.apiGroup: Unsupported value: "": supported values: "rbac.authorization.k8s.io"',
      'roleRef.kind: Unsupported value: "": supported values: "ClusterRole"',
      'roleRef.name: Required value',
    ]);
    const nullSubject = await call(
      'POST',
      `${rbac}/clusterrolebindings`,
      binding('null-subject', { subjects: [null] }),
    );
    expect(causes(nullSubject)).toEqual([
      'subjects[0].name: Required value',
      'subjects[0].kind: Unsupported value: "": supported values: "ServiceAccount", "User", "Group"',
    ]);
    const account = await call(
      'POST',
      `${rbac}/clusterrolebindings`,
      binding('account', { subjects: [{ kind: 'ServiceAccount', name: 'builder' }] }),
    );
    expect(causes(account)).toEqual(['subjects[0].namespace: Required value']);
    expect((await call('POST', `${rbac}/clusterroles`, role('r'.repeat(254), []))).status).toBe(422);
    expect((await call('POST', `${rbac}/clusterroles`, role('r'.repeat(253), []))).status).toBe(201);

    // The group of a roleRef and of User and Group subjects is defaulted, as upstream.
    const made = await call('POST', `${rbac}/clusterrolebindings`, binding('defaulted', {}));
    expect(made.status, made.raw).toBe(201);
    expect(made.json.roleRef).toEqual({ apiGroup: group, kind: 'ClusterRole', name: 'view' });
    expect(made.json.subjects).toEqual([{ kind: 'Group', apiGroup: group, name: 'system:authenticated' }]);
    const rebound = await call(
      'PATCH',
      `${rbac}/clusterrolebindings/defaulted`,
      { roleRef: { name: 'edit' } },
      { 'content-type': 'application/merge-patch+json' },
    );
    expect(causes(rebound)).toEqual([
      'roleRef: Invalid value: {"kind":"ClusterRole","name":"edit","apiGroup":"rbac.authorization.k8s.io"}: cannot change roleRef',
    ]);

    // Authorization reads every binding on every request of a user who is not in system:masters.
    const someone = await call('GET', '/api/v1/namespaces/default/configmaps', undefined, {
      authorization: 'Bearer someone',
    });
    expect(someone.status, someone.raw).toBe(200);
    expect((await call('DELETE', `${rbac}/clusterrolebindings/defaulted`)).status).toBe(200);
  });

  it('refuses an update or patch that would mark an object deleted: only a delete may (the object was removed)', async () => {
    const path = '/api/v1/namespaces/default/configmaps';
    const created = await call('POST', path, cm('not-deleted'));
    const stamp = '2030-01-01T00:00:00Z';
    const patched = await call(
      'PATCH',
      `${path}/not-deleted`,
      { metadata: { deletionTimestamp: stamp } },
      { 'content-type': 'application/merge-patch+json' },
    );
    expect(patched.status, patched.raw).toBe(422);
    expect(patched.json.details.causes).toEqual([
      {
        reason: 'FieldValueInvalid',
        message: `Invalid value: "${stamp}": field is immutable`,
        field: 'metadata.deletionTimestamp',
      },
    ]);
    const replaced = await call('PUT', `${path}/not-deleted`, {
      ...created.json,
      metadata: { ...created.json.metadata, deletionGracePeriodSeconds: 0 },
    });
    expect(replaced.status, replaced.raw).toBe(422);
    const stored = await call('GET', `${path}/not-deleted`);
    expect(stored.json.metadata.resourceVersion).toBe(created.json.metadata.resourceVersion);
    // Null is Go's unset: an update may carry it.
    const nulled = await call('PUT', `${path}/not-deleted`, {
      ...created.json,
      metadata: { ...created.json.metadata, deletionTimestamp: null },
    });
    expect(nulled.status, nulled.raw).toBe(200);
    expect(nulled.json.metadata).not.toHaveProperty('deletionTimestamp');
  });

  it('ends a watch at once when its client has gone before the watch began (it polled on to its timeout)', async () => {
    const gone = new AbortController();
    gone.abort();
    const started = Date.now();
    const watch = await call(
      'GET',
      '/api/v1/namespaces/default/configmaps?watch=true',
      undefined,
      {},
      gone.signal,
    );
    expect(watch.status).toBe(200);
    expect(Date.now() - started).toBeLessThan(1500);
  });
});
