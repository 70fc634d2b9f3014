import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestCluster, type TestCluster } from '../support/cluster.js';

/**
 * kubectl's typed `create` subcommands send Kubernetes protobuf bodies
 * (`application/vnd.kubernetes.protobuf`); the server decodes them and answers JSON.
 */
describe('kubectl create subcommands (protobuf request bodies)', () => {
  let cluster: TestCluster;
  beforeAll(async () => {
    cluster = await startTestCluster({ controlPlane: false });
  });
  afterAll(async () => {
    await cluster?.stop();
  });

  async function ok(args: string[]): Promise<string> {
    const result = await cluster.kubectl(args);
    expect(result.stderr, `kubectl ${args.join(' ')}`).toBe('');
    expect(result.code).toBe(0);
    return result.stdout;
  }

  async function get<T = Record<string, unknown>>(args: string[]): Promise<T> {
    return JSON.parse(await ok(['get', ...args, '-o', 'json'])) as T;
  }

  it('creates a namespace, sending it as protobuf', async () => {
    const verbose = await cluster.kubectl(['create', 'namespace', 'proto', '-v=8']);
    expect(verbose.code).toBe(0);
    expect(verbose.stdout).toBe('namespace/proto created\n');
    expect(verbose.stderr).toMatch(/POST https:\S+\/api\/v1\/namespaces/);
    expect(verbose.stderr).toContain('Content-Type: application/vnd.kubernetes.protobuf');
    const ns = await get<{ metadata: Record<string, unknown>; status: { phase: string } }>([
      'namespace',
      'proto',
    ]);
    expect(ns.metadata.name).toBe('proto');
    expect(ns.metadata.labels).toEqual({ 'kubernetes.io/metadata.name': 'proto' });
    expect(ns.status.phase).toBe('Active');
  });

  it('creates a configmap and a secret from literals', async () => {
    await ok([
      '-n',
      'proto',
      'create',
      'configmap',
      'settings',
      '--from-literal=color=blue',
      '--from-literal=size=',
    ]);
    const cm = await get<{ data: Record<string, string> }>(['-n', 'proto', 'configmap', 'settings']);
    expect(cm.data).toEqual({ color: 'blue', size: '' });

    await ok(['-n', 'proto', 'create', 'secret', 'generic', 'creds', '--from-literal=password=s3cr3t']);
    const secret = await get<{ type: string; data: Record<string, string> }>([
      '-n',
      'proto',
      'secret',
      'creds',
    ]);
    expect(secret.type).toBe('Opaque');
    expect(Buffer.from(secret.data.password ?? '', 'base64').toString()).toBe('s3cr3t');
  });

  it('creates a service account', async () => {
    expect(await ok(['-n', 'proto', 'create', 'serviceaccount', 'robot'])).toBe(
      'serviceaccount/robot created\n',
    );
    const sa = await get<{ metadata: { name: string; namespace: string } }>(['-n', 'proto', 'sa', 'robot']);
    expect(sa.metadata).toMatchObject({ name: 'robot', namespace: 'proto' });
  });

  it('creates a deployment with zero replicas', async () => {
    await ok([
      '-n',
      'proto',
      'create',
      'deployment',
      'web',
      '--image=busybox',
      '--replicas=0',
      '--port=8080',
    ]);
    const d = await get<{
      metadata: { labels: Record<string, string> };
      spec: {
        replicas: number;
        selector: unknown;
        strategy: { type: string };
        template: { spec: { containers: { name: string; image: string; ports: unknown[] }[] } };
      };
    }>(['-n', 'proto', 'deployment', 'web']);
    expect(d.spec.replicas).toBe(0);
    expect(d.metadata.labels).toEqual({ app: 'web' });
    expect(d.spec.selector).toEqual({ matchLabels: { app: 'web' } });
    expect(d.spec.strategy.type).toBe('RollingUpdate');
    expect(d.spec.template.spec.containers).toMatchObject([
      { name: 'busybox', image: 'busybox', ports: [{ containerPort: 8080, protocol: 'TCP' }] },
    ]);
  });

  it('creates a ClusterIP service with a numeric target port', async () => {
    await ok(['-n', 'proto', 'create', 'service', 'clusterip', 'web', '--tcp=80:8080']);
    const svc = await get<{ spec: { type: string; selector: unknown; ports: unknown[]; clusterIP: string } }>(
      ['-n', 'proto', 'service', 'web'],
    );
    expect(svc.spec.type).toBe('ClusterIP');
    expect(svc.spec.selector).toEqual({ app: 'web' });
    expect(svc.spec.ports).toEqual([{ name: '80-8080', protocol: 'TCP', port: 80, targetPort: 8080 }]);
    expect(svc.spec.clusterIP).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
  });

  it('creates a role and a rolebinding', async () => {
    await ok(['-n', 'proto', 'create', 'role', 'pod-reader', '--verb=get', '--verb=list', '--resource=pods']);
    const role = await get<{ rules: unknown[] }>(['-n', 'proto', 'role', 'pod-reader']);
    expect(role.rules).toEqual([{ verbs: ['get', 'list'], apiGroups: [''], resources: ['pods'] }]);

    await ok(['-n', 'proto', 'create', 'rolebinding', 'read-pods', '--role=pod-reader', '--user=alice']);
    const binding = await get<{ roleRef: unknown; subjects: unknown[] }>([
      '-n',
      'proto',
      'rolebinding',
      'read-pods',
    ]);
    expect(binding.roleRef).toEqual({
      apiGroup: 'rbac.authorization.k8s.io',
      kind: 'Role',
      name: 'pod-reader',
    });
    expect(binding.subjects).toEqual([
      { apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: 'alice' },
    ]);
  });

  it('creates a clusterrole and a clusterrolebinding', async () => {
    await ok(['create', 'clusterrole', 'node-reader', '--verb=get', '--resource=nodes']);
    const role = await get<{ rules: unknown[] }>(['clusterrole', 'node-reader']);
    expect(role.rules).toEqual([{ verbs: ['get'], apiGroups: [''], resources: ['nodes'] }]);

    await ok([
      'create',
      'clusterrolebinding',
      'read-nodes',
      '--clusterrole=node-reader',
      '--serviceaccount=proto:robot',
    ]);
    const binding = await get<{ roleRef: unknown; subjects: unknown[] }>([
      'clusterrolebinding',
      'read-nodes',
    ]);
    expect(binding.roleRef).toEqual({
      apiGroup: 'rbac.authorization.k8s.io',
      kind: 'ClusterRole',
      name: 'node-reader',
    });
    expect(binding.subjects).toEqual([{ kind: 'ServiceAccount', name: 'robot', namespace: 'proto' }]);
  });

  it('creates a job', async () => {
    await ok(['-n', 'proto', 'create', 'job', 'once', '--image=busybox', '--', 'echo', 'hi']);
    const job = await get<{
      spec: {
        template: { spec: { restartPolicy: string; containers: { image: string; command: string[] }[] } };
      };
    }>(['-n', 'proto', 'job', 'once']);
    expect(job.spec.template.spec.restartPolicy).toBe('Never');
    expect(job.spec.template.spec.containers).toMatchObject([{ image: 'busybox', command: ['echo', 'hi'] }]);
  });
});
