/**
 * Encodes a Swagger 2.0 document as gnostic's `openapi.v2.Document` protobuf
 * (`application/com.github.proto-openapi.spec.v2@v1.0+protobuf`), the only form in which client-go's
 * `OpenAPISchema()` reads `/openapi/v2`. Field numbers are those of gnostic's `OpenAPIv2.proto`.
 * Covers what Kubernetes documents use: info, paths with operations (body, query and path
 * parameters, responses), definitions, and `x-` extensions (as `Any.yaml`; JSON text is valid YAML).
 */
import type { JsonValue, Schema } from './schema.js';

/**
 * One growing buffer for the whole document. A nested message is written in place, then moved right
 * by the size of its length prefix (a memmove per nesting level, no buffer per message).
 */
class Writer {
  private buf = Buffer.allocUnsafe(1 << 20);
  private pos = 0;

  private reserve(n: number): void {
    if (this.pos + n > this.buf.length) this.grow(n);
  }

  private grow(n: number): void {
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  private varint(value: number): void {
    this.reserve(10);
    if (value >= 0 && value <= Number.MAX_SAFE_INTEGER) {
      let v = Math.trunc(value);
      while (v > 0x7f) {
        this.buf[this.pos++] = (v % 0x80) | 0x80;
        v = Math.floor(v / 0x80);
      }
      this.buf[this.pos++] = v;
      return;
    }
    // Negative int64: ten bytes of two's complement.
    let v = BigInt.asUintN(64, BigInt(Math.trunc(value)));
    while (v > 0x7fn) {
      this.buf[this.pos++] = Number(v & 0x7fn) | 0x80;
      v >>= 7n;
    }
    this.buf[this.pos++] = Number(v);
  }

  private tag(field: number, wireType: number): void {
    this.varint(field * 8 + wireType);
  }

  int(field: number, value: number | undefined): void {
    if (value === undefined || value === 0) return;
    this.tag(field, 0);
    this.varint(value);
  }

  bool(field: number, value: boolean | undefined): void {
    if (!value) return;
    this.tag(field, 0);
    this.varint(1);
  }

  double(field: number, value: number | undefined): void {
    if (value === undefined || value === 0) return;
    this.tag(field, 1);
    this.reserve(8);
    this.buf.writeDoubleLE(value, this.pos);
    this.pos += 8;
  }

  private rawString(value: string): void {
    const length = Buffer.byteLength(value);
    this.varint(length);
    this.reserve(length);
    this.pos += this.buf.write(value, this.pos, 'utf8');
  }

  string(field: number, value: string | undefined): void {
    if (value === undefined || value === '') return;
    this.tag(field, 2);
    this.rawString(value);
  }

  strings(field: number, values: readonly string[] | undefined): void {
    for (const v of values ?? []) {
      this.tag(field, 2);
      this.rawString(v);
    }
  }

  message(field: number, encode: (w: Writer) => void): void {
    this.tag(field, 2);
    const start = this.pos;
    encode(this);
    const length = this.pos - start;
    let prefix = 1;
    for (let v = length; v > 0x7f; v = Math.floor(v / 0x80)) prefix++;
    this.reserve(prefix);
    this.buf.copyWithin(start + prefix, start, this.pos);
    const end = this.pos + prefix;
    this.pos = start;
    this.varint(length);
    this.pos = end;
  }

  finish(): Uint8Array {
    return Uint8Array.prototype.slice.call(this.buf, 0, this.pos);
  }
}

function isObject(value: JsonValue | undefined): value is Schema {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function str(value: JsonValue | undefined): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

function num(value: JsonValue | undefined): number | undefined {
  return typeof value === 'number' ? value : undefined;
}

function strs(value: JsonValue | undefined): string[] | undefined {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : undefined;
}

/** `Any { string yaml = 2; }`. */
function any(w: Writer, value: JsonValue): void {
  w.string(2, JSON.stringify(value));
}

/** Repeated `NamedAny { name = 1; Any value = 2; }` for every `x-` key. */
function extensions(w: Writer, field: number, object: Schema): void {
  for (const key in object) {
    // 'x' then '-'.
    if (key.charCodeAt(0) !== 120 || key.charCodeAt(1) !== 45) continue;
    const value = object[key] as JsonValue;
    w.message(field, (n) => {
      n.string(1, key);
      n.message(2, (a) => any(a, value));
    });
  }
}

/** `Schema`. */
function schema(w: Writer, s: Schema): void {
  w.string(1, str(s.$ref));
  w.string(2, str(s.format));
  w.string(3, str(s.title));
  w.string(4, str(s.description));
  if (s.default !== undefined) w.message(5, (a) => any(a, s.default as JsonValue));
  w.double(6, num(s.multipleOf));
  w.double(7, num(s.maximum));
  w.bool(8, s.exclusiveMaximum === true);
  w.double(9, num(s.minimum));
  w.bool(10, s.exclusiveMinimum === true);
  w.int(11, num(s.maxLength));
  w.int(12, num(s.minLength));
  w.string(13, str(s.pattern));
  w.int(14, num(s.maxItems));
  w.int(15, num(s.minItems));
  w.bool(16, s.uniqueItems === true);
  w.int(17, num(s.maxProperties));
  w.int(18, num(s.minProperties));
  w.strings(19, strs(s.required));
  if (Array.isArray(s.enum)) for (const e of s.enum) w.message(20, (a) => any(a, e));
  const additional = s.additionalProperties;
  if (isObject(additional)) w.message(21, (a) => a.message(1, (x) => schema(x, additional)));
  else if (typeof additional === 'boolean') w.message(21, (a) => a.bool(2, additional));
  const type = s.type;
  if (typeof type === 'string') w.message(22, (t) => t.strings(1, [type]));
  else if (Array.isArray(type)) w.message(22, (t) => t.strings(1, strs(type)));
  const items = s.items;
  if (isObject(items)) w.message(23, (i) => i.message(1, (x) => schema(x, items)));
  else if (Array.isArray(items)) {
    w.message(23, (i) => {
      for (const item of items.filter(isObject)) i.message(1, (x) => schema(x, item));
    });
  }
  if (Array.isArray(s.allOf)) for (const a of s.allOf.filter(isObject)) w.message(24, (x) => schema(x, a));
  const properties = s.properties;
  if (isObject(properties)) {
    w.message(25, (p) => {
      for (const [name, value] of Object.entries(properties)) {
        if (!isObject(value)) continue;
        p.message(1, (n) => {
          n.string(1, name);
          n.message(2, (x) => schema(x, value));
        });
      }
    });
  }
  w.string(26, str(s.discriminator));
  w.bool(27, s.readOnly === true);
  if (s.example !== undefined) w.message(30, (a) => any(a, s.example as JsonValue));
  extensions(w, 31, s);
}

/** `ParametersItem { Parameter parameter = 1; JsonReference json_reference = 2; }`. */
function parameter(w: Writer, p: Schema): void {
  if (typeof p.$ref === 'string') {
    w.message(2, (r) => r.string(1, p.$ref as string));
    return;
  }
  w.message(1, (param) => {
    if (p.in === 'body') {
      // Parameter.body_parameter = 1: BodyParameter { description, name, in, required, schema = 5 }.
      param.message(1, (b) => {
        b.string(1, str(p.description));
        b.string(2, str(p.name));
        b.string(3, 'body');
        b.bool(4, p.required === true);
        if (isObject(p.schema)) b.message(5, (x) => schema(x, p.schema as Schema));
        extensions(b, 6, p);
      });
      return;
    }
    // Parameter.non_body_parameter = 2: NonBodyParameter { query = 3, path = 4 }.
    param.message(2, (nb) => {
      const isPath = p.in === 'path';
      nb.message(isPath ? 4 : 3, (q) => {
        q.bool(1, p.required === true);
        q.string(2, str(p.in));
        q.string(3, str(p.description));
        q.string(4, str(p.name));
        if (isPath) {
          q.string(5, str(p.type));
          q.string(6, str(p.format));
          q.bool(19, p.uniqueItems === true);
          extensions(q, 22, p);
        } else {
          q.string(6, str(p.type));
          q.string(7, str(p.format));
          q.bool(20, p.uniqueItems === true);
          extensions(q, 23, p);
        }
      });
    });
  });
}

/** `Operation`. */
function operation(w: Writer, o: Schema): void {
  w.strings(1, strs(o.tags));
  w.string(2, str(o.summary));
  w.string(3, str(o.description));
  w.string(5, str(o.operationId));
  w.strings(6, strs(o.produces));
  w.strings(7, strs(o.consumes));
  if (Array.isArray(o.parameters))
    for (const p of o.parameters.filter(isObject)) w.message(8, (x) => parameter(x, p));
  const responses = o.responses;
  if (isObject(responses)) {
    // Responses { repeated NamedResponseValue response_code = 1; }
    w.message(9, (rs) => {
      for (const [code, r] of Object.entries(responses)) {
        if (!isObject(r)) continue;
        rs.message(1, (named) => {
          named.string(1, code);
          // ResponseValue.response = 1: Response { description = 1; SchemaItem schema = 2; }
          named.message(2, (rv) =>
            rv.message(1, (resp) => {
              resp.string(1, str(r.description));
              if (isObject(r.schema))
                resp.message(2, (si) => si.message(1, (x) => schema(x, r.schema as Schema)));
              extensions(resp, 5, r);
            }),
          );
        });
      }
    });
  }
  w.strings(10, strs(o.schemes));
  w.bool(11, o.deprecated === true);
  extensions(w, 13, o);
}

const PATH_ITEM_FIELDS: Record<string, number> = {
  get: 2,
  put: 3,
  post: 4,
  delete: 5,
  options: 6,
  head: 7,
  patch: 8,
};

/** `Document`. */
export function encodeSwaggerDocument(doc: Readonly<Schema>): Uint8Array {
  const w = new Writer();
  w.string(1, str(doc.swagger));
  const info = doc.info;
  if (isObject(info)) {
    w.message(2, (i) => {
      i.string(1, str(info.title));
      i.string(2, str(info.version));
      i.string(3, str(info.description));
      extensions(i, 7, info);
    });
  }
  w.string(3, str(doc.host));
  w.string(4, str(doc.basePath));
  w.strings(5, strs(doc.schemes));
  w.strings(6, strs(doc.consumes));
  w.strings(7, strs(doc.produces));
  const paths = doc.paths;
  if (isObject(paths)) {
    w.message(8, (ps) => {
      extensions(ps, 1, paths);
      for (const [path, item] of Object.entries(paths)) {
        if (path.startsWith('x-') || !isObject(item)) continue;
        ps.message(2, (named) => {
          named.string(1, path);
          named.message(2, (pi) => {
            pi.string(1, str(item.$ref));
            for (const [method, field] of Object.entries(PATH_ITEM_FIELDS)) {
              const op = item[method];
              if (isObject(op)) pi.message(field, (x) => operation(x, op));
            }
            if (Array.isArray(item.parameters)) {
              for (const p of item.parameters.filter(isObject)) pi.message(9, (x) => parameter(x, p));
            }
            extensions(pi, 10, item);
          });
        });
      }
    });
  }
  const definitions = doc.definitions;
  if (isObject(definitions)) {
    w.message(9, (ds) => {
      for (const [name, s] of Object.entries(definitions)) {
        if (!isObject(s)) continue;
        ds.message(1, (named) => {
          named.string(1, name);
          named.message(2, (x) => schema(x, s));
        });
      }
    });
  }
  extensions(w, 16, doc);
  return w.finish();
}
