import { describe, expect, it } from 'vitest';
import { openApiV2, openApiV2Protobuf, type Schema } from '../../shared/openapi/index.js';
import { encodeSwaggerDocument } from '../../shared/openapi/protobuf.js';

/** A minimal protobuf wire-format reader: field number → raw values, in order. */
function fields(bytes: Uint8Array): Map<number, (Uint8Array | number)[]> {
  const out = new Map<number, (Uint8Array | number)[]>();
  let pos = 0;
  const varint = (): number => {
    let result = 0;
    let scale = 1;
    for (;;) {
      const b = bytes[pos++] as number;
      result += (b & 0x7f) * scale;
      if (b < 0x80) return result;
      scale *= 0x80;
    }
  };
  while (pos < bytes.length) {
    const key = varint();
    const field = Math.floor(key / 8);
    const wire = key % 8;
    let value: Uint8Array | number;
    if (wire === 0) value = varint();
    else if (wire === 2) {
      const length = varint();
      value = bytes.subarray(pos, pos + length);
      pos += length;
    } else if (wire === 1) {
      value = new DataView(bytes.buffer, bytes.byteOffset + pos, 8).getFloat64(0, true);
      pos += 8;
    } else throw new Error(`unexpected wire type ${wire}`);
    out.set(field, [...(out.get(field) ?? []), value]);
  }
  return out;
}

const text = (v: Uint8Array | number | undefined) => new TextDecoder().decode(v as Uint8Array);
const one = (m: Map<number, (Uint8Array | number)[]>, f: number) => m.get(f)?.[0] as Uint8Array;

describe('OpenAPI v2 as protobuf', () => {
  const bytes = openApiV2Protobuf();
  const doc = openApiV2() as Schema;

  it('is a gnostic openapi.v2.Document with every definition', () => {
    const document = fields(bytes);
    expect(text(one(document, 1))).toBe('2.0');
    expect(text(one(fields(one(document, 2)), 1))).toBe('Kubernetes');
    const named = fields(one(document, 9)).get(1) ?? [];
    const names = named.map((n) => text(one(fields(n as Uint8Array), 1)));
    expect(names).toEqual(Object.keys(doc.definitions as Schema));
    const paths = fields(one(document, 8)).get(2) ?? [];
    expect(paths.map((p) => text(one(fields(p as Uint8Array), 1)))).toEqual(Object.keys(doc.paths as Schema));
  });

  it('carries a definition’s type, description, properties and extensions', () => {
    const named = (fields(one(fields(bytes), 9)).get(1) ?? []).map((n) => fields(n as Uint8Array));
    const deployment = named.find((n) => text(one(n, 1)) === 'io.k8s.api.apps.v1.Deployment');
    const schema = fields(one(deployment as Map<number, (Uint8Array | number)[]>, 2));
    expect(text(one(schema, 4))).toContain('declarative updates');
    expect(text(one(fields(one(schema, 22)), 1))).toBe('object');
    const extension = fields(one(schema, 31));
    expect(text(one(extension, 1))).toBe('x-kubernetes-group-version-kind');
    expect(JSON.parse(text(one(fields(one(extension, 2)), 2)))).toEqual([
      { group: 'apps', kind: 'Deployment', version: 'v1' },
    ]);
    const properties = (fields(one(schema, 25)).get(1) ?? []).map((p) =>
      text(one(fields(p as Uint8Array), 1)),
    );
    expect(properties).toEqual(['apiVersion', 'kind', 'metadata', 'spec', 'status']);
  });

  it('is deterministic', () => {
    expect(Buffer.from(encodeSwaggerDocument(structuredClone(doc))).equals(Buffer.from(bytes))).toBe(true);
  });
});
