/**
 * Service accounts end to end with the real kubectl and the controllers: each namespace gets its
 * `default` ServiceAccount and the `kube-root-ca.crt` ConfigMap, pods get the API access volume,
 * `kubectl create token` signs bound, expiring tokens the API then accepts (and stops accepting with
 * the pod they are bound to), RBAC applies to service accounts, and the issuer's keys are published.
 */
import { createPublicKey } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestCluster, type TestCluster } from '../support/cluster.js';

describe('service accounts', () => {
  let cluster: TestCluster;
  beforeAll(async () => {
    cluster = await startTestCluster();
    await cluster.kubectlOk(['create', 'namespace', 'apps']);
  });
  afterAll(async () => {
    await cluster?.stop();
  });

  const whoami = async (token: string) => {
    const result = await cluster.kubectl(['--token', token, 'auth', 'whoami', '-o', 'json']);
    return result.code === 0 ? JSON.parse(result.stdout).status.userInfo : result.stderr;
  };

  it("gives every namespace a default service account and the cluster's CA, and puts them back", async () => {
    await expect
      .poll(async () => (await cluster.kubectl(['get', 'serviceaccount', 'default', '-n', 'apps'])).code, {
        timeout: 30_000,
        interval: 250,
      })
      .toBe(0);
    const ca = () =>
      cluster.kubectl([
        'get',
        'configmap',
        'kube-root-ca.crt',
        '-n',
        'apps',
        '-o',
        'jsonpath={.data.ca\\.crt}',
      ]);
    await expect.poll(async () => (await ca()).stdout, { timeout: 30_000 }).toBe(cluster.caCert);
    await cluster.kubectlOk(['delete', 'configmap', 'kube-root-ca.crt', '-n', 'apps']);
    await cluster.kubectlOk(['delete', 'serviceaccount', 'default', '-n', 'apps']);
    await expect.poll(async () => (await ca()).stdout, { timeout: 30_000 }).toBe(cluster.caCert);
    await expect
      .poll(async () => (await cluster.kubectl(['get', 'serviceaccount', 'default', '-n', 'apps'])).code, {
        timeout: 30_000,
      })
      .toBe(0);
  });

  it('signs tokens with kubectl create token that authenticate as the service account', async () => {
    const token = (
      await cluster.kubectlOk(['create', 'token', 'default', '-n', 'apps', '--duration', '15m'])
    ).trim();
    const [, payload] = token.split('.');
    const claims = JSON.parse(Buffer.from(payload as string, 'base64url').toString('utf8'));
    expect(claims).toMatchObject({
      sub: 'system:serviceaccount:apps:default',
      aud: ['https://kubernetes.default.svc.cluster.local'],
    });
    expect(claims.exp - claims.iat).toBe(900);
    expect(await whoami(token)).toMatchObject({
      username: 'system:serviceaccount:apps:default',
      groups: ['system:serviceaccounts', 'system:serviceaccounts:apps', 'system:authenticated'],
    });
    // Its permissions are RBAC's: none until bound.
    expect((await cluster.kubectl(['--token', token, 'get', 'pods', '-n', 'apps'])).stderr).toContain(
      'User "system:serviceaccount:apps:default" cannot list resource "pods"',
    );
    await cluster.kubectlOk([
      'create',
      'rolebinding',
      'default-view',
      '-n',
      'apps',
      '--clusterrole=view',
      '--serviceaccount=apps:default',
    ]);
    await expect
      .poll(async () => (await cluster.kubectl(['--token', token, 'get', 'pods', '-n', 'apps'])).code)
      .toBe(0);
    const short = await cluster.kubectl(['create', 'token', 'default', '-n', 'apps', '--duration', '5m']);
    expect(short.stderr).toContain('may not specify a duration less than 10 minutes');
    const missing = await cluster.kubectl(['create', 'token', 'nobody', '-n', 'apps']);
    expect(missing.stderr).toContain('serviceaccounts "nobody" not found');
  });

  it('gives pods the API access volume, and a token bound to a pod dies with it', async () => {
    await cluster.kubectlOk(['run', 'web', '-n', 'apps', '--image=busybox', '--restart=Never']);
    const pod = JSON.parse(await cluster.kubectlOk(['get', 'pod', 'web', '-n', 'apps', '-o', 'json']));
    expect(pod.spec.serviceAccountName).toBe('default');
    const volume = pod.spec.volumes.find((v: { name: string }) => v.name.startsWith('kube-api-access-'));
    expect(volume.projected.sources).toEqual([
      { serviceAccountToken: { expirationSeconds: 3607, path: 'token' } },
      { configMap: { name: 'kube-root-ca.crt', items: [{ key: 'ca.crt', path: 'ca.crt' }] } },
      {
        downwardAPI: {
          items: [{ path: 'namespace', fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.namespace' } }],
        },
      },
    ]);
    expect(pod.spec.containers[0].volumeMounts).toContainEqual({
      name: volume.name,
      readOnly: true,
      mountPath: '/var/run/secrets/kubernetes.io/serviceaccount',
    });
    const token = (
      await cluster.kubectlOk([
        'create',
        'token',
        'default',
        '-n',
        'apps',
        '--bound-object-kind',
        'Pod',
        '--bound-object-name',
        'web',
      ])
    ).trim();
    expect(await whoami(token)).toMatchObject({
      username: 'system:serviceaccount:apps:default',
      extra: {
        'authentication.kubernetes.io/pod-name': ['web'],
        'authentication.kubernetes.io/pod-uid': [pod.metadata.uid],
      },
    });
    await cluster.kubectlOk(['delete', 'pod', 'web', '-n', 'apps', '--grace-period=0', '--force']);
    expect(await whoami(token)).toContain('Unauthorized');
  });

  it('publishes the keys that verify its tokens', async () => {
    const discovery = (await cluster.api('GET', '/.well-known/openid-configuration')).json();
    expect(discovery).toMatchObject({
      issuer: 'https://kubernetes.default.svc.cluster.local',
      id_token_signing_alg_values_supported: ['EdDSA'],
    });
    const jwks = (await cluster.api('GET', '/openid/v1/jwks')).json<{ keys: { kty: string; x: string }[] }>();
    expect(jwks.keys).toHaveLength(1);
    expect(() => createPublicKey({ key: jwks.keys[0] as never, format: 'jwk' })).not.toThrow();
  });
});
