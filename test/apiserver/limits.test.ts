/**
 * Per-identity limits (429 TooManyRequests with Retry-After) and the audit line of each mutating
 * request, through the API server's handler on a store in DynamoDB Local.
 */
import { describe, expect, it } from 'vitest';
import type { AuditEvent } from '../../functions/apiserver/audit.js';
import { ensureClusterDefaults } from '../../functions/apiserver/bootstrap.js';
import { rateLimiter, watchCounter } from '../../functions/apiserver/limits.js';
import { type ApiServerOptions, createApiServer } from '../../functions/apiserver/server.js';
import { strategicMergePatch } from '../../functions/apiserver/strategic-merge.js';
import type { ApiHandler } from '../../shared/http/contract.js';
import { freshStore } from '../support/dynamo.js';

const users = {
  admin: { name: 'admin', groups: ['system:masters', 'system:authenticated'] },
  // Bound to nothing, but the limits count before authorization, as priority and fairness does.
  busy: { name: 'busy', groups: ['system:authenticated'] },
};

function request(
  handler: ApiHandler,
  token: keyof typeof users,
  method: string,
  path: string,
  body?: unknown,
) {
  const controller = new AbortController();
  const response = handler({
    method,
    path: path.split('?')[0] as string,
    query: new URLSearchParams(path.split('?')[1] ?? ''),
    headers: {
      authorization: `Bearer ${token}`,
      'content-type': 'application/json',
      'user-agent': 'limits-test',
    },
    body: Buffer.from(body === undefined ? '' : JSON.stringify(body)),
    signal: controller.signal,
    remoteAddress: '192.0.2.7',
  });
  return { response, abort: () => controller.abort() };
}

/** The API server on a fresh table with the cluster's defaults, these two users, and `options`. */
async function serverWith(options: Pick<ApiServerOptions, 'limits' | 'audit'>): Promise<ApiHandler> {
  const { store } = await freshStore();
  await ensureClusterDefaults(store);
  return createApiServer({
    store,
    authenticate: async (token) => users[token as keyof typeof users],
    strategicMergePatch,
    ...options,
  });
}

describe('limits', () => {
  it('refills each identity’s bucket at its rate, and says how long to wait', () => {
    let now = 0;
    const take = rateLimiter({ requestsPerSecond: 2, burst: 3 }, () => now);
    expect([take('a'), take('a'), take('a')]).toEqual([0, 0, 0]);
    expect(take('a')).toBe(1);
    expect(take('b')).toBe(0);
    now += 500;
    expect(take('a')).toBe(0);
    expect(take('a')).toBe(1);
  });

  it('caps open watches per identity and frees a slot once, when released', () => {
    const take = watchCounter(2);
    const first = take('a');
    const second = take('a');
    expect(take('a')).toBeUndefined();
    expect(take('b')).toBeDefined();
    first?.();
    first?.();
    expect(take('a')).toBeDefined();
    expect(take('a')).toBeUndefined();
    second?.();
  });

  it('answers 429 with Retry-After past the rate, to everyone but system:masters', async () => {
    const handler = await serverWith({ limits: { requestsPerSecond: 0.5, burst: 2, watchesPerIdentity: 1 } });
    const statuses = [];
    for (let i = 0; i < 3; i++)
      statuses.push((await request(handler, 'busy', 'GET', '/api/v1/pods').response).status);
    expect(statuses).toEqual([403, 403, 429]);
    const limited = await request(handler, 'busy', 'GET', '/api/v1/pods').response;
    expect(limited.headers['retry-after']).toBe('2');
    expect(JSON.parse(String('body' in limited ? limited.body : ''))).toMatchObject({
      kind: 'Status',
      code: 429,
      reason: 'TooManyRequests',
      details: { retryAfterSeconds: 2 },
    });
    for (let i = 0; i < 5; i++)
      expect((await request(handler, 'admin', 'GET', '/api/v1/pods').response).status).toBe(200);
  });

  it('answers 429 to a watch past the identity’s cap, until one of its watches ends', async () => {
    const handler = await serverWith({
      limits: { requestsPerSecond: 1000, burst: 1000, watchesPerIdentity: 1 },
    });
    const first = request(handler, 'admin', 'GET', '/api/v1/namespaces?watch=true');
    expect((await first.response).status).toBe(200);
    const second = await request(handler, 'admin', 'GET', '/api/v1/namespaces?watch=true').response;
    expect(second.status).toBe(429);
    first.abort();
    const third = request(handler, 'admin', 'GET', '/api/v1/namespaces?watch=true');
    expect((await third.response).status).toBe(200);
    third.abort();
  });

  it('writes one audit line per mutating request: who, verb, what, result; never a body', async () => {
    const lines: AuditEvent[] = [];
    const handler = await serverWith({ audit: (event) => lines.push(event) });
    const secret = { metadata: { name: 'db' }, stringData: { password: 'hunter2-do-not-log' } };
    expect(
      (await request(handler, 'admin', 'POST', '/api/v1/namespaces/default/secrets', secret).response).status,
    ).toBe(201);
    expect(
      (await request(handler, 'busy', 'DELETE', '/api/v1/namespaces/default/secrets/db').response).status,
    ).toBe(403);
    expect(
      (await request(handler, 'admin', 'GET', '/api/v1/namespaces/default/secrets/db').response).status,
    ).toBe(200);
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatchObject({
      kind: 'Event',
      apiVersion: 'audit.k8s.io/v1',
      level: 'Metadata',
      stage: 'ResponseComplete',
      verb: 'create',
      user: { username: 'admin', groups: ['system:masters', 'system:authenticated'] },
      sourceIPs: ['192.0.2.7'],
      userAgent: 'limits-test',
      objectRef: { resource: 'secrets', namespace: 'default', apiVersion: 'v1' },
      responseStatus: { code: 201 },
    });
    expect(lines[1]).toMatchObject({
      verb: 'delete',
      user: { username: 'busy' },
      objectRef: { resource: 'secrets', namespace: 'default', name: 'db' },
      responseStatus: { code: 403 },
    });
    expect(JSON.stringify(lines)).not.toContain('hunter2');
  });
});
