import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestCluster, type TestCluster } from '../../support/cluster.js';

// biome-ignore lint/suspicious/noExplicitAny: responses are read deep in assertions
type Json = Record<string, any>;

/** The apiserver parts of node lifecycle: pods/eviction, namespaces/finalize, deletion policies. */
describe('lifecycle API', () => {
  let cluster: TestCluster;
  beforeAll(async () => {
    cluster = await startTestCluster({ controlPlane: false });
  });
  afterAll(async () => {
    await cluster?.stop();
  });

  const call = async (method: string, path: string, body?: unknown) => {
    const response = await cluster.api(
      method,
      path,
      body === undefined ? {} : { body: JSON.stringify(body) },
    );
    return { status: response.status, json: response.body ? response.json<Json>() : {} };
  };

  const pod = (name: string, nodeName?: string) => ({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name },
    spec: { ...(nodeName ? { nodeName } : {}), containers: [{ name: 'c', image: 'busybox' }] },
  });
  const eviction = (name: string, extra: Json = {}) => ({
    apiVersion: 'policy/v1',
    kind: 'Eviction',
    metadata: { name, namespace: 'default' },
    ...extra,
  });
  const podsPath = '/api/v1/namespaces/default/pods';

  it('advertises pods/eviction (policy/v1 Eviction) and namespaces/finalize in discovery', async () => {
    const core = (await call('GET', '/api/v1')).json;
    expect(core.resources.find((r: Json) => r.name === 'pods/eviction')).toEqual({
      name: 'pods/eviction',
      singularName: '',
      namespaced: true,
      group: 'policy',
      version: 'v1',
      kind: 'Eviction',
      verbs: ['create'],
    });
    expect(core.resources.find((r: Json) => r.name === 'namespaces/finalize')).toMatchObject({
      kind: 'Namespace',
      verbs: ['update'],
    });
  });

  it('evicts a pod: marks it a disruption target, deletes it and answers 201 Success', async () => {
    await call('POST', podsPath, pod('evicted', 'node-a'));
    const answer = await call('POST', `${podsPath}/evicted/eviction`, eviction('evicted'));
    expect(answer).toEqual({
      status: 201,
      json: { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', code: 201 },
    });
    const terminating = (await call('GET', `${podsPath}/evicted`)).json;
    expect(terminating.metadata.deletionTimestamp).toBeDefined();
    expect(terminating.metadata.deletionGracePeriodSeconds).toBe(30);
    expect(terminating.status.conditions).toContainEqual(
      expect.objectContaining({ type: 'DisruptionTarget', status: 'True', reason: 'EvictionByEvictionAPI' }),
    );
  });

  it('honours the DeleteOptions of an Eviction (policy/v1beta1 too)', async () => {
    await call('POST', podsPath, pod('at-once', 'node-a'));
    const body = eviction('at-once', {
      apiVersion: 'policy/v1beta1',
      deleteOptions: { gracePeriodSeconds: 0 },
    });
    expect((await call('POST', `${podsPath}/at-once/eviction`, body)).status).toBe(201);
    expect((await call('GET', `${podsPath}/at-once`)).status).toBe(404);

    await call('POST', podsPath, pod('pinned'));
    const stale = eviction('pinned', { deleteOptions: { preconditions: { uid: 'not-its-uid' } } });
    expect((await call('POST', `${podsPath}/pinned/eviction`, stale)).status).toBe(409);
    expect((await call('GET', `${podsPath}/pinned`)).status).toBe(200);
  });

  it('answers 404 for a missing pod, 400 for a name mismatch and 405 to a GET', async () => {
    expect((await call('POST', `${podsPath}/missing/eviction`, eviction('missing'))).json).toMatchObject({
      code: 404,
      reason: 'NotFound',
      message: 'pods "missing" not found',
    });
    await call('POST', podsPath, pod('named'));
    const mismatch = await call('POST', `${podsPath}/named/eviction`, eviction('other'));
    expect(mismatch.json).toMatchObject({
      code: 400,
      message: 'name in URL does not match name in Eviction object',
    });
    expect((await call('GET', `${podsPath}/named/eviction`)).status).toBe(405);
  });

  it('changes spec.finalizers only through namespaces/finalize, and removes a terminating namespace once none remain', async () => {
    await call('POST', '/api/v1/namespaces', {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: 'ending' },
    });
    const namespace = (await call('GET', '/api/v1/namespaces/ending')).json;
    const put = await call('PUT', '/api/v1/namespaces/ending', { ...namespace, spec: { finalizers: [] } });
    expect(put.json.spec.finalizers).toEqual(['kubernetes']);

    expect((await call('DELETE', '/api/v1/namespaces/ending')).json.status.phase).toBe('Terminating');
    const terminating = (await call('GET', '/api/v1/namespaces/ending')).json;
    const finalized = await call('PUT', '/api/v1/namespaces/ending/finalize', {
      ...terminating,
      spec: { finalizers: [] },
    });
    expect(finalized.status).toBe(200);
    expect((await call('GET', '/api/v1/namespaces/ending')).status).toBe(404);
  });

  it('orphans the dependents of a batch/v1 Job deleted with no propagation policy, as upstream', async () => {
    const job = {
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: { name: 'legacy' },
      spec: { template: { spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'busybox' }] } } },
    };
    await call('POST', '/apis/batch/v1/namespaces/default/jobs', job);
    const deleted = await call('DELETE', '/apis/batch/v1/namespaces/default/jobs/legacy');
    expect(deleted.json.metadata.finalizers).toEqual(['orphan']);
    const background = await call(
      'DELETE',
      '/apis/batch/v1/namespaces/default/jobs/legacy?propagationPolicy=Background',
    );
    expect(background.json).toMatchObject({ kind: 'Status', status: 'Success' });
  });

  it('keeps a pod whose graceful deletion is under way when its last finalizer goes', async () => {
    await call('POST', podsPath, {
      ...pod('graceful', 'node-a'),
      metadata: { name: 'graceful', finalizers: ['x/y'] },
    });
    await call('DELETE', `${podsPath}/graceful`);
    const current = (await call('GET', `${podsPath}/graceful`)).json;
    await call('PUT', `${podsPath}/graceful`, {
      ...current,
      metadata: { ...current.metadata, finalizers: [] },
    });
    expect((await call('GET', `${podsPath}/graceful`)).status).toBe(200);
    expect((await call('DELETE', `${podsPath}/graceful?gracePeriodSeconds=0`)).json.status).toBe('Success');
    expect((await call('GET', `${podsPath}/graceful`)).status).toBe(404);
  });
});
