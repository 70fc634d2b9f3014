import { writeFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestCluster, type TestCluster } from '../support/cluster.js';

const manifest = (replicas: number, color: string) => `
apiVersion: v1
kind: Namespace
metadata:
  name: shop
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: shop
spec:
  replicas: ${replicas}
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: web
        image: busybox:1.36
        ports: [{containerPort: 8080}]
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: shop}
spec:
  selector: {app: web}
  ports: [{port: 80, targetPort: 8080}]
---
apiVersion: v1
kind: ConfigMap
metadata: {name: settings, namespace: shop}
data: {color: ${color}}
`;

describe('kubectl against the local API server', () => {
  let cluster: TestCluster;
  beforeAll(async () => {
    cluster = await startTestCluster({ controlPlane: false });
  });
  afterAll(async () => {
    await cluster?.stop();
  });

  async function ok(args: string[], input?: string): Promise<string> {
    const result = await cluster.kubectl(args, input);
    expect(result.stderr, `kubectl ${args.join(' ')}`).toBe('');
    expect(result.code).toBe(0);
    return result.stdout;
  }

  it('is ready and lists the system namespaces', async () => {
    expect(await ok(['get', '--raw', '/readyz'])).toBe('ok');
    const names = (await ok(['get', 'namespaces', '-o', 'name'])).trim().split('\n');
    expect(names).toEqual([
      'namespace/default',
      'namespace/kube-node-lease',
      'namespace/kube-public',
      'namespace/kube-system',
    ]);
  });

  it('applies a manifest and prints the same tables a real cluster prints', async () => {
    const applied = await ok(['apply', '-f', '-'], manifest(2, 'blue'));
    expect(applied.trim().split('\n')).toEqual([
      'namespace/shop created',
      'deployment.apps/web created',
      'service/web created',
      'configmap/settings created',
    ]);
    const deployments = (await ok(['-n', 'shop', 'get', 'deployments'])).split('\n');
    expect(deployments[0]?.split(/\s+/)).toEqual(['NAME', 'READY', 'UP-TO-DATE', 'AVAILABLE', 'AGE']);
    expect(deployments[1]).toMatch(/^web\s+0\/2\s+0\s+0\s+\d+s$/);
    const wide = (await ok(['-n', 'shop', 'get', 'deployment', 'web', '-o', 'wide'])).split('\n');
    expect(wide[0]?.split(/\s+/)).toEqual([
      'NAME',
      'READY',
      'UP-TO-DATE',
      'AVAILABLE',
      'AGE',
      'CONTAINERS',
      'IMAGES',
      'SELECTOR',
    ]);
    expect(wide[1]).toMatch(/web\s+busybox:1\.36\s+app=web$/);
    expect((await ok(['-n', 'shop', 'get', 'svc', 'web'])).split('\n')[1]).toMatch(
      /^web\s+ClusterIP\s+10\.\d+\.\d+\.\d+\s+<none>\s+80\/TCP\s+\d+s$/,
    );

    const yaml = await ok(['-n', 'shop', 'get', 'deployment', 'web', '-o', 'yaml']);
    expect(yaml).toContain('kind: Deployment');
    expect(yaml).toMatch(/resourceVersion: "\d+"/);
    expect(yaml).toMatch(/uid: [0-9a-f-]{36}/);
    expect(yaml).toContain('revisionHistoryLimit: 10'); // defaulted by the server
    expect(yaml).toContain('generation: 1');
  });

  it('re-applies a changed manifest as a strategic merge patch, and edits and sets images', async () => {
    expect(await ok(['apply', '-f', '-'], manifest(3, 'green'))).toContain('deployment.apps/web configured');
    const get = async (path: string) =>
      (await ok(['-n', 'shop', 'get', 'deployment', 'web', '-o', `jsonpath={${path}}`])).trim();
    expect(await get('.spec.replicas')).toBe('3');
    expect(
      (await ok(['-n', 'shop', 'get', 'configmap', 'settings', '-o', 'jsonpath={.data.color}'])).trim(),
    ).toBe('green');

    await ok(['-n', 'shop', 'set', 'image', 'deployment/web', 'web=busybox:1.37']);
    expect(await get('.spec.template.spec.containers[0].image')).toBe('busybox:1.37');
    expect(await get('.spec.template.spec.containers[0].ports[0].containerPort')).toBe('8080');

    const editor = `${cluster.dataDir}/editor.sh`;
    await writeFile(editor, '#!/bin/sh\nsed -i "s/replicas: 3/replicas: 4/" "$1"\n', { mode: 0o755 });
    const edited = await cluster.kubectl(['-n', 'shop', 'edit', 'deployment', 'web'], undefined, {
      EDITOR: editor,
    });
    expect(edited.stdout).toContain('deployment.apps/web edited');
    expect(await get('.spec.replicas')).toBe('4');
    expect(await get('.metadata.generation')).toBe('4');
  });

  it('has the server validate manifests (as the OpenAPI advertises) and explains fields', async () => {
    const typo = await cluster.kubectl(
      ['create', '-f', '-'],
      '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"typo"},"dta":{}}',
    );
    expect(typo.code).not.toBe(0);
    expect(typo.stderr).toContain('unknown field "dta"');
    const explained = await ok(['explain', 'deployment.spec.replicas']);
    expect(explained).toContain('FIELD: replicas <integer>');
    expect(explained).toMatch(/desired pods/i);
  });

  it('labels, annotates, scales and deletes', async () => {
    await ok(['-n', 'shop', 'label', 'configmap', 'settings', 'tier=backend']);
    await ok(['-n', 'shop', 'annotate', 'configmap', 'settings', 'owner=team-a']);
    const meta = JSON.parse(await ok(['-n', 'shop', 'get', 'configmap', 'settings', '-o', 'json'])).metadata;
    expect(meta.labels).toEqual({ tier: 'backend' });
    expect(meta.annotations.owner).toBe('team-a');

    const before = JSON.parse(await ok(['-n', 'shop', 'get', 'deployment', 'web', '-o', 'json']));
    await ok(['-n', 'shop', 'scale', 'deployment', 'web', '--replicas=5']);
    const deployment = JSON.parse(await ok(['-n', 'shop', 'get', 'deployment', 'web', '-o', 'json']));
    expect(deployment.spec.replicas).toBe(5);
    expect(deployment.metadata.generation).toBe(before.metadata.generation + 1);

    expect((await ok(['-n', 'shop', 'delete', 'configmap', 'settings'])).trim()).toBe(
      'configmap "settings" deleted',
    );
    const gone = await cluster.kubectl(['-n', 'shop', 'get', 'configmap', 'settings']);
    expect(gone.code).not.toBe(0);
    expect(gone.stderr).toContain('Error from server (NotFound): configmaps "settings" not found');
  });

  it('streams ADDED, MODIFIED and DELETED to kubectl get -w for changes made meanwhile', async () => {
    const watching = cluster.kubectl([
      '-n',
      'shop',
      'get',
      'pods',
      '-w',
      '--output-watch-events',
      '--request-timeout=8s',
    ]);
    await new Promise((r) => setTimeout(r, 1500));
    const pod =
      '{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p1","labels":{"app":"x"}},"spec":{"containers":[{"name":"c","image":"busybox"}]}}';
    await ok(['-n', 'shop', 'create', '-f', '-'], pod);
    await ok(['-n', 'shop', 'label', 'pod', 'p1', 'stage=one']);
    await ok(['-n', 'shop', 'delete', 'pod', 'p1']);
    const { stdout } = await watching;
    const events = stdout
      .trim()
      .split('\n')
      .slice(1)
      .map((line) => line.split(/\s+/).slice(0, 2).join(' '));
    expect(events).toEqual(['ADDED p1', 'MODIFIED p1', 'DELETED p1']);
  });

  it('lists the served resources for kubectl api-resources', async () => {
    const out = await ok(['api-resources', '--no-headers', '-o', 'name']);
    for (const name of [
      'pods',
      'namespaces',
      'deployments.apps',
      'jobs.batch',
      'leases.coordination.k8s.io',
      'roles.rbac.authorization.k8s.io',
    ]) {
      expect(out.split('\n')).toContain(name);
    }
  });
});
