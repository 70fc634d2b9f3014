import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestCluster, type TestCluster } from '../support/cluster.js';

interface Status {
  kind: string;
  code: number;
  reason: string;
  message: string;
  details?: { causes?: { field?: string; reason?: string }[] };
}

const configMap = (name: string, extra: Record<string, unknown> = {}) =>
  JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name }, data: { a: '1' }, ...extra });

describe('bad input gets a Kubernetes Status and changes nothing', () => {
  let cluster: TestCluster;
  const configMaps = '/api/v1/namespaces/default/configmaps';
  beforeAll(async () => {
    cluster = await startTestCluster({ controlPlane: false });
  });
  afterAll(async () => {
    await cluster?.stop();
  });

  /** Sends the request, expects the Status, and checks that the namespace's configmaps did not change. */
  async function rejected(
    method: string,
    path: string,
    body: string | undefined,
    code: number,
    reason: string,
    headers?: Record<string, string>,
  ) {
    const before = (await cluster.api('GET', configMaps)).json<{ items: unknown[] }>().items;
    const response = await cluster.api(method, path, {
      ...(body !== undefined ? { body } : {}),
      ...(headers ? { headers: { authorization: `Bearer ${cluster.token}`, ...headers } } : {}),
    });
    const status = response.json<Status>();
    expect(response.status, response.body).toBe(code);
    expect(status).toMatchObject({ kind: 'Status', code, reason });
    expect((await cluster.api('GET', configMaps)).json<{ items: unknown[] }>().items).toEqual(before);
    return status;
  }

  it('answers 401 to requests without a valid token, but serves health and version', async () => {
    const attempts: Record<string, string>[] = [
      {},
      { authorization: 'Bearer wrong' },
      { authorization: `Basic ${cluster.token}` },
    ];
    for (const headers of attempts) {
      const response = await cluster.api('GET', configMaps, { headers });
      expect(response.status).toBe(401);
      expect(response.json<Status>()).toMatchObject({ kind: 'Status', code: 401, reason: 'Unauthorized' });
    }
    expect((await cluster.api('GET', '/readyz', { headers: {} })).body).toBe('ok');
    expect((await cluster.api('GET', '/version', { headers: {} })).json<{ major: string }>().major).toBe('1');
  });

  it('rejects malformed JSON and YAML with 400', async () => {
    await rejected('POST', configMaps, '{"apiVersion": "v1", "kind": ', 400, 'BadRequest');
    await rejected('POST', configMaps, 'kind: ConfigMap\n  bad: [indent', 400, 'BadRequest', {
      'content-type': 'application/yaml',
    });
    await rejected('POST', configMaps, '[1, 2, 3]', 400, 'BadRequest');
    await rejected('POST', configMaps, configMap('x'), 415, 'UnsupportedMediaType', {
      'content-type': 'text/plain',
    });
  });

  it('rejects a body whose apiVersion or kind does not match the URL', async () => {
    const wrongVersion = await rejected(
      'POST',
      configMaps,
      configMap('x', { apiVersion: 'apps/v1' }),
      400,
      'BadRequest',
    );
    expect(wrongVersion.message).toContain('does not match the expected API version');
    await rejected('POST', configMaps, configMap('x', { kind: 'Secret' }), 400, 'BadRequest');
  });

  it('answers 404 for an unknown resource or path', async () => {
    await rejected('GET', '/api/v1/namespaces/default/widgets', undefined, 404, 'NotFound');
    await rejected('GET', '/apis/example.com/v1/things', undefined, 404, 'NotFound');
  });

  it('answers 422 with field causes for invalid names and missing required fields', async () => {
    const badName = await rejected('POST', configMaps, configMap('Not_A_Name'), 422, 'Invalid');
    expect(badName.details?.causes?.[0]).toMatchObject({
      field: 'metadata.name',
      reason: 'FieldValueInvalid',
    });
    const pod = JSON.stringify({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'p' },
      spec: { containers: [{ name: 'c' }] },
    });
    const missing = await rejected('POST', '/api/v1/namespaces/default/pods', pod, 422, 'Invalid');
    expect(missing.details?.causes).toEqual([
      { reason: 'FieldValueRequired', message: 'Required value', field: 'spec.containers[0].image' },
    ]);
    const noName = await rejected(
      'POST',
      configMaps,
      JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: {} }),
      422,
      'Invalid',
    );
    expect(noName.details?.causes?.[0]?.field).toBe('metadata.name');
  });

  it('refuses to change an immutable field such as a Deployment selector', async () => {
    const deployment = (app: string) => ({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'd' },
      spec: {
        selector: { matchLabels: { app } },
        template: { metadata: { labels: { app } }, spec: { containers: [{ name: 'c', image: 'busybox' }] } },
      },
    });
    const path = '/apis/apps/v1/namespaces/default/deployments';
    expect((await cluster.api('POST', path, { body: JSON.stringify(deployment('one')) })).status).toBe(201);
    const status = await rejected('PUT', `${path}/d`, JSON.stringify(deployment('two')), 422, 'Invalid');
    expect(status.message).toContain('spec.selector');
    expect(status.message).toContain('field is immutable');
    const stored = (await cluster.api('GET', `${path}/d`)).json<{ spec: { selector: unknown } }>();
    expect(stored.spec.selector).toEqual({ matchLabels: { app: 'one' } });
  });

  it('answers 409 Conflict to an update with a stale resourceVersion and AlreadyExists to a duplicate create', async () => {
    const created = await cluster.api('POST', configMaps, { body: configMap('cas') });
    const rv = created.json<{ metadata: { resourceVersion: string } }>().metadata.resourceVersion;
    const fresh = await cluster.api('PUT', `${configMaps}/cas`, {
      body: configMap('cas', { metadata: { name: 'cas', resourceVersion: rv }, data: { a: '2' } }),
    });
    expect(fresh.status).toBe(200);
    await rejected(
      'PUT',
      `${configMaps}/cas`,
      configMap('cas', { metadata: { name: 'cas', resourceVersion: rv }, data: { a: '3' } }),
      409,
      'Conflict',
    );
    await rejected('POST', configMaps, configMap('cas'), 409, 'AlreadyExists');
  });

  it('answers 413 to an oversized object', async () => {
    await rejected(
      'POST',
      configMaps,
      configMap('huge', { data: { a: 'x'.repeat(2 * 1024 * 1024) } }),
      413,
      'RequestEntityTooLarge',
    );
    await rejected(
      'POST',
      configMaps,
      configMap('huger', { data: { a: 'x'.repeat(4 * 1024 * 1024) } }),
      413,
      'RequestEntityTooLarge',
    );
  });
});
