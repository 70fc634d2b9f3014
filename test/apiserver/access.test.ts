/**
 * Authentication and RBAC through the real kubectl: stored tokens made with the token CLI's code, a
 * user limited to `view` in one namespace, `kubectl auth can-i` agreeing with what the API enforces,
 * `kubectl auth whoami`, escalation prevention, and revocation.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kubectlWith } from '../../infra/cli/kubectl.js';
import { createToken, listTokens, revokeToken } from '../../infra/cli/tokens.js';
import { startTestCluster, type TestCluster } from '../support/cluster.js';

describe('authentication and authorization', () => {
  let cluster: TestCluster;
  let alice: string;
  let aliceId: string;
  beforeAll(async () => {
    cluster = await startTestCluster({ controlPlane: false });
    const admin = kubectlWith(cluster.kubeconfigPath);
    ({ token: alice, id: aliceId } = await createToken(admin, { username: 'alice', groups: ['dev'] }));
    for (const ns of ['team', 'other']) await cluster.kubectlOk(['create', 'namespace', ns]);
    await cluster.kubectlOk(['create', 'configmap', 'settings', '-n', 'team', '--from-literal=a=b']);
    await cluster.kubectlOk(['create', 'secret', 'generic', 'password', '-n', 'team', '--from-literal=p=q']);
  });
  afterAll(async () => {
    await cluster?.stop();
  });

  const as = (token: string, args: string[]) => cluster.kubectl(['--token', token, ...args]);

  it('stores only a digest of a token and lists it without the token', async () => {
    const secret = await cluster.kubectlOk([
      'get',
      'secret',
      '-n',
      'kube-system',
      `token-${aliceId}`,
      '-o',
      'json',
    ]);
    expect(secret).not.toContain(alice.split('.')[1]);
    expect(secret).not.toContain(Buffer.from(alice).toString('base64'));
    const listed = await listTokens(kubectlWith(cluster.kubeconfigPath));
    expect(listed).toContainEqual(
      expect.objectContaining({ id: aliceId, username: 'alice', groups: ['dev'] }),
    );
  });

  it('answers 401 to a missing or unknown token, except on the public health and version paths', async () => {
    const none = { 'content-type': 'application/json' };
    const wrong = { authorization: `Bearer ${aliceId}.${'x'.repeat(43)}` };
    for (const headers of [none, wrong, { authorization: 'Basic YWxpY2U6cA==' }]) {
      const response = await cluster.api('GET', '/api/v1/namespaces', { headers });
      expect(response.status).toBe(401);
      expect(response.json()).toMatchObject({ kind: 'Status', reason: 'Unauthorized', code: 401 });
    }
    for (const path of ['/healthz', '/livez', '/readyz', '/version']) {
      expect((await cluster.api('GET', path, { headers: none })).status).toBe(200);
      // A token presented must be good, even where none is needed (kube-apiserver does the same).
      expect((await cluster.api('GET', path, { headers: wrong })).status).toBe(401);
    }
  });

  it('tells a user who they are', async () => {
    const result = await as(alice, ['auth', 'whoami', '-o', 'json']);
    expect(result.stderr).toBe('');
    const review = JSON.parse(result.stdout);
    expect(review).toMatchObject({
      kind: 'SelfSubjectReview',
      status: {
        userInfo: { username: 'alice', uid: `token:${aliceId}`, groups: ['dev', 'system:authenticated'] },
      },
    });
  });

  it('forbids a user without bindings everything but discovery and the reviews', async () => {
    const listed = await as(alice, ['get', 'pods', '-n', 'team']);
    expect(listed.code).not.toBe(0);
    expect(listed.stderr).toContain(
      'pods is forbidden: User "alice" cannot list resource "pods" in API group "" in the namespace "team"',
    );
    expect((await as(alice, ['auth', 'can-i', 'list', 'pods', '-n', 'team'])).stdout.trim()).toBe('no');
    expect((await as(alice, ['api-resources', '-o', 'name'])).stdout).toContain('deployments.apps');
  });

  it('limits a view binding to its namespace, and can-i agrees with what the API enforces', async () => {
    await cluster.kubectlOk([
      'create',
      'rolebinding',
      'alice-view',
      '-n',
      'team',
      '--clusterrole=view',
      '--user=alice',
    ]);
    const cases: [string[], boolean][] = [
      [['get', 'configmaps', '-n', 'team'], true],
      [['get', 'configmap', 'settings', '-n', 'team'], true],
      [['get', 'configmaps', '-n', 'other'], false],
      [['get', 'configmaps', '--all-namespaces'], false],
      [['get', 'secrets', '-n', 'team'], false],
      [['get', 'secret', 'password', '-n', 'team'], false],
      [['get', 'nodes'], false],
      [['delete', 'configmap', 'settings', '-n', 'team'], false],
    ];
    for (const [args, allowed] of cases) {
      const result = await as(alice, args);
      expect(result.code === 0, `${args.join(' ')}: ${result.stderr}`).toBe(allowed);
      if (!allowed) expect(result.stderr).toContain('Forbidden');
      const [verb, resource, ...rest] = args;
      const name = rest[0]?.startsWith('-') ? [] : rest.slice(0, 1);
      const flags = rest.slice(name.length);
      const canI = await as(alice, [
        'auth',
        'can-i',
        verb === 'get' && name.length === 0 ? 'list' : (verb as string),
        `${resource}${name.length ? `/${name[0]}` : ''}`,
        ...flags,
      ]);
      expect(canI.stdout.trim(), `can-i ${args.join(' ')}`).toBe(allowed ? 'yes' : 'no');
    }
    const created = await as(alice, ['create', 'configmap', 'mine', '-n', 'team']);
    expect(created.stderr).toContain(
      'configmaps is forbidden: User "alice" cannot create resource "configmaps"',
    );
    expect((await cluster.kubectl(['get', 'configmap', 'mine', '-n', 'team'])).code).not.toBe(0);
    const rules = await as(alice, ['auth', 'can-i', '--list', '-n', 'team']);
    expect(rules.stdout).toMatch(/configmaps\s+\[\]\s+\[\]\s+\[get list watch\]/);
  });

  it('lets no one grant what they do not hold', async () => {
    await cluster.kubectlOk([
      'create',
      'rolebinding',
      'alice-admin',
      '-n',
      'team',
      '--clusterrole=admin',
      '--user=alice',
    ]);
    // An admin of the namespace may hand out admin, edit or view there…
    const granted = await as(alice, [
      'create',
      'rolebinding',
      'bob-edit',
      '-n',
      'team',
      '--clusterrole=edit',
      '--user=bob',
    ]);
    expect(granted.stderr).toBe('');
    // …but not cluster-admin, nor a role with rules it lacks.
    const escalated = await as(alice, [
      'create',
      'rolebinding',
      'bob-root',
      '-n',
      'team',
      '--clusterrole=cluster-admin',
      '--user=bob',
    ]);
    expect(escalated.stderr).toContain('is attempting to grant RBAC permissions not currently held');
    const role = await as(alice, [
      'create',
      'role',
      'node-reader',
      '-n',
      'team',
      '--verb=list',
      '--resource=nodes',
    ]);
    expect(role.stderr).toContain('is attempting to grant RBAC permissions not currently held');
    const kept = await as(alice, [
      'create',
      'role',
      'cm-reader',
      '-n',
      'team',
      '--verb=get',
      '--resource=configmaps',
    ]);
    expect(kept.stderr).toBe('');
    expect((await cluster.kubectl(['get', 'rolebinding', 'bob-root', '-n', 'team'])).code).not.toBe(0);
    // Outside the namespace, nothing.
    const elsewhere = await as(alice, [
      'create',
      'rolebinding',
      'bob-view',
      '-n',
      'other',
      '--clusterrole=view',
      '--user=bob',
    ]);
    expect(elsewhere.stderr).toContain('rolebindings is forbidden: User "alice" cannot create');
  });

  it('stops accepting a revoked token', async () => {
    await revokeToken(kubectlWith(cluster.kubeconfigPath), aliceId);
    // A container trusts what it read about a token for a few seconds.
    await expect
      .poll(async () => (await as(alice, ['auth', 'whoami'])).stderr, { timeout: 15_000, interval: 500 })
      .toContain('Unauthorized');
  });
});
