import { createHash } from 'node:crypto';
import { describe, expect, it, vi } from 'vitest';
import {
  definitionName,
  groupVersionPath,
  type JsonValue,
  negotiateOpenApiV2,
  openApiResources,
  openApiV2,
  openApiV2Json,
  openApiV3,
  openApiV3GroupVersions,
  openApiV3Index,
  openApiV3Json,
  type Schema,
} from '../../shared/openapi/index.js';

function isObject(value: JsonValue | undefined): value is Schema {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function refs(value: JsonValue, into: string[] = []): string[] {
  if (Array.isArray(value)) for (const v of value) refs(v, into);
  else if (isObject(value)) {
    for (const [k, v] of Object.entries(value)) {
      if (k === '$ref' && typeof v === 'string') into.push(v);
      else refs(v, into);
    }
  }
  return into;
}

function gvkList(schema: JsonValue | undefined): { group: string; version: string; kind: string }[] {
  if (!isObject(schema)) return [];
  const list = schema['x-kubernetes-group-version-kind'];
  return Array.isArray(list) ? (list as never) : [];
}

const servedGroupVersions = [...new Set(openApiResources.map((r) => groupVersionPath(r.group, r.version)))];

describe('OpenAPI v3', () => {
  it('indexes every group version we serve, each at a URL carrying its hash', () => {
    const index = openApiV3Index();
    expect(Object.keys(index.paths).sort()).toEqual(
      [
        'api/v1',
        'apis/apps/v1',
        'apis/batch/v1',
        'apis/coordination.k8s.io/v1',
        'apis/discovery.k8s.io/v1',
        'apis/rbac.authorization.k8s.io/v1',
      ].sort(),
    );
    expect(openApiV3GroupVersions().sort()).toEqual(servedGroupVersions.sort());
    for (const [gv, { serverRelativeURL }] of Object.entries(index.paths)) {
      const served = openApiV3Json(gv);
      expect(serverRelativeURL).toBe(`/openapi/v3/${gv}?hash=${served?.hash}`);
      expect(served?.hash).toMatch(/^[0-9A-F]{128}$/);
    }
    expect(openApiV3('apis/extensions/v1beta1')).toBeUndefined();
    expect(openApiV3Json('apis/apps/v2')).toBeUndefined();
  });

  it.each(servedGroupVersions)(
    '%s has each kind with its GVK, and resolves every $ref inside itself',
    (gv) => {
      const doc = openApiV3(gv) as Schema;
      expect(doc.openapi).toBe('3.0.0');
      const schemas = (doc.components as Schema).schemas as Schema;
      for (const r of openApiResources.filter((x) => groupVersionPath(x.group, x.version) === gv)) {
        for (const kind of [r.kind, `${r.kind}List`]) {
          const gvk = { group: r.group, version: r.version, kind };
          const name = definitionName(gvk);
          expect(name, kind).toBeDefined();
          expect(gvkList(schemas[name as string])).toContainEqual(gvk);
        }
      }
      const all = refs(doc as JsonValue);
      expect(all.length).toBeGreaterThan(0);
      for (const ref of all) {
        expect(ref.startsWith('#/components/schemas/'), ref).toBe(true);
        expect(schemas[ref.slice('#/components/schemas/'.length)], ref).toBeDefined();
      }
      // Descriptions beside a reference live in `allOf`, as upstream serves OpenAPI v3.
      expect(JSON.stringify(doc)).not.toMatch(/"\$ref":"[^"]*","/);
    },
  );

  it('has a PATCH operation per kind that takes strategic merge patch, as kubectl apply looks for', () => {
    for (const r of openApiResources) {
      const doc = openApiV3(groupVersionPath(r.group, r.version)) as Schema;
      const patches = Object.values(doc.paths as Schema)
        .filter(isObject)
        .map((item) => item.patch)
        .filter(isObject)
        .filter((op) => {
          const g = op['x-kubernetes-group-version-kind'] as Schema;
          return g.group === r.group && g.version === r.version && g.kind === r.kind;
        });
      expect(patches.length, r.kind).toBeGreaterThan(0);
      for (const op of patches) {
        const content = (op.requestBody as Schema).content as Schema;
        expect(Object.keys(content)).toContain('application/strategic-merge-patch+json');
        // Without server-side field validation, kubectl must validate client-side: no fieldValidation.
        const names = (op.parameters as Schema[]).map((p) => p.name);
        expect(names).not.toContain('fieldValidation');
      }
    }
    const withValidation = openApiV3('apis/apps/v1', { fieldValidation: true }) as Schema;
    const patch = (
      (withValidation.paths as Schema)['/apis/apps/v1/namespaces/{namespace}/deployments/{name}'] as Schema
    ).patch as Schema;
    expect((patch.parameters as Schema[]).map((p) => p.name)).toContain('fieldValidation');
  });

  it('hashes are the SHA-512 of the served bytes: equal for an equal document, different otherwise', async () => {
    const before = Object.fromEntries(servedGroupVersions.map((gv) => [gv, openApiV3Json(gv)]));
    for (const served of Object.values(before)) {
      expect(served?.hash).toBe(
        createHash('sha512')
          .update(served?.json ?? '')
          .digest('hex')
          .toUpperCase(),
      );
    }
    // Rebuilt from scratch (fresh module state): the same bytes, so the same hashes.
    vi.resetModules();
    const fresh = await import('../../shared/openapi/index.js');
    for (const gv of servedGroupVersions) {
      expect(fresh.openApiV3Json(gv)?.json).toBe(before[gv]?.json);
      expect(fresh.openApiV3Index().paths[gv]?.serverRelativeURL).toBe(
        openApiV3Index().paths[gv]?.serverRelativeURL,
      );
    }
    // A different document (one more parameter on writes) has a different hash; all hashes differ.
    const hashes = new Set(Object.values(before).map((s) => s?.hash));
    for (const gv of servedGroupVersions) {
      const changed = openApiV3Json(gv, { fieldValidation: true });
      expect(changed?.json).not.toBe(before[gv]?.json);
      expect(changed?.hash).not.toBe(before[gv]?.hash);
      hashes.add(changed?.hash);
    }
    expect(hashes.size).toBe(servedGroupVersions.length * 2);
  });
});

describe('OpenAPI v2', () => {
  it('is Swagger 2.0 with every kind, its GVK, and every $ref resolved', () => {
    const doc = openApiV2() as Schema;
    expect(doc.swagger).toBe('2.0');
    const defs = doc.definitions as Schema;
    for (const r of openApiResources) {
      const gvk = { group: r.group, version: r.version, kind: r.kind };
      expect(gvkList(defs[definitionName(gvk) as string])).toContainEqual(gvk);
    }
    for (const name of [
      'io.k8s.api.autoscaling.v1.Scale',
      'io.k8s.api.core.v1.Binding',
      'io.k8s.apimachinery.pkg.apis.meta.v1.Status',
      'io.k8s.apimachinery.pkg.apis.meta.v1.ListMeta',
      'io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta',
      'io.k8s.apimachinery.pkg.apis.meta.v1.DeleteOptions',
      'io.k8s.apimachinery.pkg.apis.meta.v1.WatchEvent',
      'io.k8s.apimachinery.pkg.apis.meta.v1.APIResourceList',
    ]) {
      expect(defs[name], name).toBeDefined();
    }
    for (const ref of refs(doc as JsonValue)) {
      expect(ref.startsWith('#/definitions/'), ref).toBe(true);
      expect(defs[ref.slice('#/definitions/'.length)], ref).toBeDefined();
    }
    const patch = (
      (doc.paths as Schema)['/apis/apps/v1/namespaces/{namespace}/deployments/{name}/scale'] as Schema
    ).patch as Schema;
    expect(patch['x-kubernetes-group-version-kind']).toEqual({
      group: 'autoscaling',
      kind: 'Scale',
      version: 'v1',
    });
    expect(patch.consumes).toContain('application/strategic-merge-patch+json');
    expect(JSON.parse(openApiV2Json().json)).toEqual(doc);
  });

  it('publishes each subresource with the operations it serves, in its own kind, as upstream does', () => {
    const doc = openApiV2() as Schema;
    const paths = doc.paths as Schema;
    /** The operations of a path, by method, and the definition each one's body refers to. */
    const operationsOf = (path: string): Record<string, Schema> => {
      const item = paths[path] as Schema;
      return Object.fromEntries(Object.entries(item).filter(([method]) => method !== 'parameters')) as Record<
        string,
        Schema
      >;
    };
    const bodyOf = (op: Schema): JsonValue | undefined => {
      const body = (op.parameters as Schema[]).find((p) => p.in === 'body');
      return body ? (body.schema as Schema).$ref : undefined;
    };
    const tokenRequest = '#/definitions/io.k8s.api.authentication.v1.TokenRequest';

    const token = operationsOf('/api/v1/namespaces/{namespace}/serviceaccounts/{name}/token');
    expect(Object.keys(token)).toEqual(['post']);
    const post = token.post as Schema;
    expect(post).toMatchObject({
      operationId: 'createCoreV1NamespacedServiceAccountToken',
      'x-kubernetes-action': 'post',
      'x-kubernetes-group-version-kind': {
        group: 'authentication.k8s.io',
        kind: 'TokenRequest',
        version: 'v1',
      },
      tags: ['core_v1'],
    });
    expect(bodyOf(post)).toBe(tokenRequest);
    const responses = post.responses as Schema;
    for (const code of ['200', '201', '202']) {
      expect((responses[code] as Schema).schema, code).toEqual({ $ref: tokenRequest });
    }
    expect((doc.definitions as Schema)['io.k8s.api.authentication.v1.BoundObjectReference']).toBeDefined();

    const eviction = operationsOf('/api/v1/namespaces/{namespace}/pods/{name}/eviction');
    expect(Object.keys(eviction)).toEqual(['post']);
    expect((eviction.post as Schema).operationId).toBe('createCoreV1NamespacedPodEviction');
    expect(bodyOf(eviction.post as Schema)).toBe('#/definitions/io.k8s.api.policy.v1.Eviction');

    const finalize = operationsOf('/api/v1/namespaces/{name}/finalize');
    expect(Object.keys(finalize)).toEqual(['put']);
    expect((finalize.put as Schema).operationId).toBe('replaceCoreV1NamespaceFinalize');
    expect(bodyOf(finalize.put as Schema)).toBe('#/definitions/io.k8s.api.core.v1.Namespace');

    expect(Object.keys(operationsOf('/api/v1/namespaces/{namespace}/pods/{name}/status'))).toEqual([
      'get',
      'put',
      'patch',
    ]);

    // In OpenAPI v3, api/v1 carries TokenRequest and what it references.
    const v3 = openApiV3('api/v1') as Schema;
    const schemas = (v3.components as Schema).schemas as Schema;
    expect(schemas['io.k8s.api.authentication.v1.TokenRequestSpec']).toBeDefined();
    const v3Token = (v3.paths as Schema)[
      '/api/v1/namespaces/{namespace}/serviceaccounts/{name}/token'
    ] as Schema;
    expect((v3Token.post as Schema).operationId).toBe('createCoreV1NamespacedServiceAccountToken');
  });

  it('keeps what upstream puts beside a $ref: descriptions and retainKeys', () => {
    const defs = openApiV2().definitions as Schema;
    const strategy = ((defs['io.k8s.api.apps.v1.DeploymentSpec'] as Schema).properties as Schema).strategy;
    expect(strategy).toMatchObject({
      $ref: '#/definitions/io.k8s.api.apps.v1.DeploymentStrategy',
      'x-kubernetes-patch-strategy': 'retainKeys',
      description: expect.stringContaining('deployment strategy'),
    });
  });

  it('negotiates JSON or protobuf as upstream does', () => {
    expect(negotiateOpenApiV2('application/com.github.proto-openapi.spec.v2@v1.0+protobuf')).toBe('protobuf');
    expect(negotiateOpenApiV2('application/com.github.proto-openapi.spec.v2.v1.0+protobuf')).toBe('protobuf');
    expect(negotiateOpenApiV2('application/json, */*')).toBe('json');
    expect(negotiateOpenApiV2(undefined)).toBe('json');
    expect(negotiateOpenApiV2('*/*')).toBe('json');
    expect(negotiateOpenApiV2('text/html')).toBeUndefined();
  });
});
