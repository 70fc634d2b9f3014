/**
 * A node's own credential (user `system:node:<name>`, group `system:nodes`) reaches only its own Node
 * and Lease, the pods bound to it, and the Secrets and ConfigMaps those pods use: the Node authorizer
 * and NodeRestriction, over HTTPS against a local API server.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kubectlWith } from '../../infra/cli/kubectl.js';
import { createToken } from '../../infra/cli/tokens.js';
import { startTestCluster, type TestCluster } from '../support/cluster.js';

const pod = (name: string, node: string, secret: string, configMap: string) => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, namespace: 'shop' },
  spec: {
    nodeName: node,
    containers: [
      {
        name: 'app',
        image: 'busybox',
        env: [{ name: 'PASSWORD', valueFrom: { secretKeyRef: { name: secret, key: 'p' } } }],
      },
    ],
    volumes: [{ name: 'config', projected: { sources: [{ configMap: { name: configMap } }] } }],
  },
});

describe('node restriction', () => {
  let cluster: TestCluster;
  const tokens: Record<string, string> = {};
  beforeAll(async () => {
    cluster = await startTestCluster({ controlPlane: false });
    const admin = kubectlWith(cluster.kubeconfigPath);
    for (const node of ['a', 'b'])
      tokens[node] = (
        await createToken(admin, { username: `system:node:${node}`, groups: ['system:nodes'] })
      ).token;
    await cluster.kubectlOk(['create', 'namespace', 'shop']);
    for (const node of ['a', 'b']) {
      await cluster.kubectlOk([
        'create',
        'secret',
        'generic',
        `secret-${node}`,
        '-n',
        'shop',
        '--from-literal=p=q',
      ]);
      await cluster.kubectlOk(['create', 'configmap', `config-${node}`, '-n', 'shop']);
      await cluster.kubectlOk(
        ['create', '-f', '-'],
        JSON.stringify(pod(`pod-${node}`, node, `secret-${node}`, `config-${node}`)),
      );
    }
    await cluster.kubectlOk(['create', 'secret', 'generic', 'unused', '-n', 'shop', '--from-literal=p=q']);
    await cluster.kubectlOk(['create', 'serviceaccount', 'default', '-n', 'shop']);
  });
  afterAll(async () => {
    await cluster?.stop();
  });

  const as = (node: string, method: string, path: string, body?: unknown) =>
    cluster.api(method, path, {
      headers: {
        authorization: `Bearer ${tokens[node]}`,
        'content-type': method === 'PATCH' ? 'application/merge-patch+json' : 'application/json',
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });

  it('reads only the Secrets and ConfigMaps its own pods use', async () => {
    expect((await as('a', 'GET', '/api/v1/namespaces/shop/secrets/secret-a')).status).toBe(200);
    expect((await as('a', 'GET', '/api/v1/namespaces/shop/configmaps/config-a')).status).toBe(200);
    const other = await as('a', 'GET', '/api/v1/namespaces/shop/secrets/secret-b');
    expect(other.status).toBe(403);
    expect(other.json()).toMatchObject({
      reason: 'Forbidden',
      message:
        'secrets "secret-b" is forbidden: User "system:node:a" cannot get resource "secrets" in API group "" in the namespace "shop"',
    });
    expect((await as('a', 'GET', '/api/v1/namespaces/shop/configmaps/config-b')).status).toBe(403);
    expect((await as('a', 'GET', '/api/v1/namespaces/shop/secrets/unused')).status).toBe(403);
    expect((await as('a', 'GET', '/api/v1/namespaces/shop/secrets')).status).toBe(403);
    expect((await as('b', 'GET', '/api/v1/namespaces/shop/secrets/secret-b')).status).toBe(200);
  });

  it("changes only its own pods' status, and deletes only its own pods", async () => {
    const current = (await as('a', 'GET', '/api/v1/namespaces/shop/pods/pod-b')).json<
      Record<string, unknown>
    >();
    const status = { ...current, status: { phase: 'Running' } };
    expect((await as('a', 'PUT', '/api/v1/namespaces/shop/pods/pod-b/status', status)).status).toBe(403);
    expect((await as('a', 'DELETE', '/api/v1/namespaces/shop/pods/pod-b')).status).toBe(403);
    expect(
      (await as('a', 'PATCH', '/api/v1/namespaces/shop/pods/pod-b', { metadata: { labels: { x: 'y' } } }))
        .status,
    ).toBe(403);
    const mine = (await as('a', 'GET', '/api/v1/namespaces/shop/pods/pod-a')).json<Record<string, unknown>>();
    const updated = await as('a', 'PUT', '/api/v1/namespaces/shop/pods/pod-a/status', {
      ...mine,
      status: { phase: 'Running' },
    });
    expect(updated.status).toBe(200);
    const after = await cluster.kubectlOk([
      'get',
      'pod',
      'pod-b',
      '-n',
      'shop',
      '-o',
      'jsonpath={.status.phase}',
    ]);
    expect(after).not.toBe('Running');
  });

  it('registers and updates only its own Node and Lease', async () => {
    const node = (name: string) => ({ apiVersion: 'v1', kind: 'Node', metadata: { name } });
    expect((await as('a', 'POST', '/api/v1/nodes', node('b'))).status).toBe(403);
    expect((await as('a', 'POST', '/api/v1/nodes', node('a'))).status).toBe(201);
    expect((await as('b', 'POST', '/api/v1/nodes', node('b'))).status).toBe(201);
    expect((await as('a', 'PATCH', '/api/v1/nodes/b', { metadata: { labels: { x: 'y' } } })).status).toBe(
      403,
    );
    expect((await as('a', 'PATCH', '/api/v1/nodes/a', { metadata: { labels: { x: 'y' } } })).status).toBe(
      200,
    );
    const lease = (name: string) => ({
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: { name, namespace: 'kube-node-lease' },
      spec: { holderIdentity: name },
    });
    const leases = '/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases';
    expect((await as('b', 'POST', leases, lease('b'))).status).toBe(201);
    const stolen = (await as('a', 'GET', `${leases}/b`)).status;
    expect(stolen).toBe(403);
    expect((await as('a', 'POST', leases, lease('a'))).status).toBe(201);
    expect((await as('a', 'PATCH', `${leases}/b`, { spec: { holderIdentity: 'a' } })).status).toBe(403);
  });

  it('requests tokens only for pods bound to it', async () => {
    const request = (pod: string) => ({
      apiVersion: 'authentication.k8s.io/v1',
      kind: 'TokenRequest',
      spec: { boundObjectRef: { apiVersion: 'v1', kind: 'Pod', name: pod } },
    });
    const path = '/api/v1/namespaces/shop/serviceaccounts/default/token';
    const granted = await as('a', 'POST', path, request('pod-a'));
    expect(granted.status).toBe(201);
    expect(granted.json<{ status: { token: string } }>().status.token).toMatch(/^ey/);
    expect((await as('a', 'POST', path, request('pod-b'))).status).toBe(403);
    expect(
      (
        await as('a', 'POST', path, {
          apiVersion: 'authentication.k8s.io/v1',
          kind: 'TokenRequest',
          spec: {},
        })
      ).status,
    ).toBe(403);
  });

  it('is refused everything else', async () => {
    for (const [method, path] of [
      ['GET', '/api/v1/namespaces/shop/serviceaccounts'],
      ['POST', '/api/v1/namespaces/shop/configmaps'],
      ['GET', '/apis/rbac.authorization.k8s.io/v1/clusterroles'],
      ['DELETE', '/api/v1/nodes/b'],
    ] as const) {
      expect(
        (await as('a', method, path, method === 'POST' ? { metadata: { name: 'x' } } : undefined)).status,
        `${method} ${path}`,
      ).toBe(403);
    }
  });
});
