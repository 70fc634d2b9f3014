import { beforeAll, describe, expect, it } from 'vitest';
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
  const call = async (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) => {
    const url = new URL(path, 'https://x');
    const response = await handler({
      method,
      path: url.pathname,
      query: url.searchParams,
      headers: { authorization: 'Bearer t', 'content-type': 'application/json', ...headers },
      body: Buffer.from(body === undefined ? '' : JSON.stringify(body)),
      signal: new AbortController().signal,
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
      authenticate: async (t) => (t === 't' ? { name: 'admin', groups: ['system:masters'] } : undefined),
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
});
