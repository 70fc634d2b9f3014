/**
 * The local cluster's metering, hand-counted: each request to the API server is one invocation of the
 * apiserver function behind its function URL, with the bytes that went in and out; a watch is one
 * invocation for as long as it streams; and the DynamoDB calls a request makes are those the store's
 * operations are known to make.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Meter } from '../../shared/metering/meter.js';
import { startTestCluster, type TestCluster } from '../support/cluster.js';

describe('metering a local cluster', () => {
  const meter = new Meter();
  let cluster: TestCluster;
  beforeAll(async () => {
    cluster = await startTestCluster({ controlPlane: false, meter });
  });
  afterAll(async () => {
    await cluster?.stop();
  });

  it('counts each API request as an invocation with its bytes, and the DynamoDB calls it made', async () => {
    meter.reset();
    const body = JSON.stringify({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'metered', namespace: 'default' },
      data: { a: 'b' },
    });
    const path = '/api/v1/namespaces/default/configmaps';
    const created = await cluster.api('POST', path, {
      body,
      headers: { authorization: `Bearer ${cluster.token}`, 'content-type': 'application/json' },
    });
    expect(created.status).toBe(201);
    const got = await cluster.api('GET', `${path}/metered`);
    expect(got.status).toBe(200);
    const usage = meter.snapshot();
    expect(usage.lambda).toEqual({
      apiserver: {
        invocations: 2,
        billedMs: expect.any(Number),
        gbSeconds: expect.closeTo(((usage.lambda?.apiserver?.billedMs ?? 0) / 1000) * 0.5, 9),
      },
    });
    expect(usage.functionUrl).toEqual({
      apiserver: {
        requests: 2,
        requestBytes: Buffer.byteLength(body),
        responseBytes: Buffer.byteLength(created.body) + Buffer.byteLength(got.body),
      },
    });
    // The create: a read of its namespace (is it there, not terminating: a strongly consistent read of
    // a small item, 1 unit), a revision from the counter (an UpdateItem, 1 unit), then one transaction
    // writing the object and its history entry (two items under 1 KB: 2 units, twice for a
    // transaction). The get: one more small strongly consistent read.
    expect(usage.dynamodb).toEqual({
      'get.GetItem': { requests: 2, readUnits: 2, writeUnits: 0 },
      'create.UpdateItem': { requests: 1, readUnits: 0, writeUnits: 1 },
      'create.TransactWriteItems': { requests: 1, readUnits: 0, writeUnits: 4 },
    });
    // One audit line, for the create.
    expect(usage.logs?.audit?.bytes).toBeGreaterThan(100);
  });

  it('counts a watch as one invocation lasting as long as it streams', async () => {
    meter.reset();
    const started = performance.now();
    const watch = await cluster.api(
      'GET',
      '/api/v1/namespaces/default/configmaps?watch=true&timeoutSeconds=2',
    );
    const elapsed = performance.now() - started;
    expect(watch.status).toBe(200);
    const usage = meter.snapshot();
    expect(usage.lambda?.apiserver).toBeUndefined();
    expect(usage.lambda?.['apiserver.watch']?.invocations).toBe(1);
    expect(usage.lambda?.['apiserver.watch']?.billedMs).toBeGreaterThanOrEqual(2000);
    expect(usage.lambda?.['apiserver.watch']?.billedMs).toBeLessThanOrEqual(Math.ceil(elapsed));
    expect(usage.functionUrl?.['apiserver.watch']).toEqual({
      requests: 1,
      requestBytes: 0,
      responseBytes: Buffer.byteLength(watch.body),
    });
    // The watch's ADDED event for the ConfigMap made above.
    expect(watch.body).toContain('"metered"');
  });
});
