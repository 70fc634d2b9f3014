/**
 * The real kubectl (v1.32, behind the gcloud dispatcher at /usr/bin/kubectl) against a plain-HTTP
 * fake API server that serves discovery and this module's OpenAPI documents.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FakeApiServer, startFakeApiServer } from './fake-apiserver.js';

const KUBECTL = '/usr/bin/kubectl';

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function kubectl(server: FakeApiServer, args: string[], input = ''): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(KUBECTL, ['--kubeconfig', server.kubeconfig, ...args], {
      env: { ...process.env, HOME: server.home, KUBECONFIG: server.kubeconfig },
      timeout: 60_000,
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => {
      stdout += d;
    });
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(input);
  });
}

const deployment = (containerField: string) => `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 2
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: web
        image: nginx
        ${containerField}: Always
`;

describe.skipIf(!existsSync(KUBECTL))('kubectl 1.32 against our OpenAPI', () => {
  describe('without server-side field validation', () => {
    let server: FakeApiServer;
    beforeAll(async () => {
      server = await startFakeApiServer();
    });
    afterAll(async () => {
      await server?.close();
    });

    it('explains a field from the OpenAPI v3 document of its group version', async () => {
      server.requests.length = 0;
      const run = await kubectl(server, ['explain', 'deployment.spec.replicas']);
      expect(run.stderr).toBe('');
      expect(run.code).toBe(0);
      expect(run.stdout).toContain('FIELD: replicas <integer>');
      expect(run.stdout).toContain('Number of desired pods');
      const urls = server.requests.map((r) => r.url.split('?')[0]);
      expect(urls).toContain('/openapi/v3');
      expect(urls).toContain('/openapi/v3/apis/apps/v1');
      expect(urls).not.toContain('/openapi/v2');
    });

    it('rejects an unknown field client-side, from /openapi/v2 as protobuf', async () => {
      server.requests.length = 0;
      const run = await kubectl(
        server,
        ['create', '--dry-run=client', '--validate=strict', '-f', '-', '-o', 'yaml'],
        deployment('imagePullPolic'),
      );
      expect(run.code).toBe(1);
      expect(run.stderr).toContain('unknown field "imagePullPolic" in io.k8s.api.core.v1.Container');
      const v2 = server.requests.find((r) => r.url.startsWith('/openapi/v2'));
      expect(v2?.accept).toBe('application/com.github.proto-openapi.spec.v2@v1.0+protobuf');
      expect(v2?.contentType).toBe('application/com.github.proto-openapi.spec.v2.v1.0+protobuf');
    });

    it('accepts a correct manifest', async () => {
      const run = await kubectl(
        server,
        ['create', '--dry-run=client', '--validate=strict', '-f', '-', '-o', 'yaml'],
        deployment('imagePullPolicy'),
      );
      expect(run.stderr).toBe('');
      expect(run.code).toBe(0);
      expect(run.stdout).toContain('imagePullPolicy: Always');
    });
  });

  describe('with fieldValidation advertised', () => {
    let server: FakeApiServer;
    beforeAll(async () => {
      server = await startFakeApiServer({ fieldValidation: true });
    });
    afterAll(async () => {
      await server?.close();
    });

    it('leaves validation to the server: a client-side dry run no longer checks fields', async () => {
      server.requests.length = 0;
      const run = await kubectl(
        server,
        ['create', '--dry-run=client', '--validate=strict', '-f', '-', '-o', 'name'],
        deployment('imagePullPolic'),
      );
      expect(run.stderr).toBe('');
      expect(run.code).toBe(0);
      expect(run.stdout.trim()).toBe('deployment.apps/web');
      expect(server.requests.map((r) => r.url.split('?')[0])).not.toContain('/openapi/v2');
    });
  });
});
