/**
 * Decodes Kubernetes protobuf bodies (`application/vnd.kubernetes.protobuf`, as client-go's typed
 * clients send them) into the JSON the same object would have been sent as.
 *
 * A body is the magic `k8s\0` and a `runtime.Unknown` envelope: `typeMeta` (apiVersion, kind), `raw`
 * (the object's own message), `contentEncoding`, `contentType`. The object is decoded with the table
 * of `schema.generated.ts` (field numbers from upstream `generated.proto`).
 *
 * Why a hand-written reader rather than a protobuf library: the wire format needed here is five
 * things (varints, 64/32-bit fixed, length-delimited, skipping unknown fields), while the work is the
 * mapping to Kubernetes JSON (`omitempty`, inlined structs, Time/Quantity/IntOrString), which no
 * library does; a library would add a dependency and a second schema form without removing that.
 *
 * Zero values (the `omitempty` rule). gogo-generated marshalers write every non-pointer scalar even
 * when it is zero, and a pointer only when it is set. So:
 * - a scalar field the table marks `?` (a Go pointer) is kept whatever its value (`replicas: 0`,
 *   `automountServiceAccountToken: false`): it was set on purpose;
 * - any other scalar is dropped when it is `""`, `0`, `false` or empty bytes, as Go's `omitempty`
 *   drops it; the few Go fields without `omitempty` would print a zero there, which every consumer
 *   reads as unset anyway (and defaulting needs absent, not `""`);
 * - an IntOrString or Quantity that is zero (`0`, `""`) is dropped unless the field is a pointer;
 * - a zero (or empty) Time/MicroTime is dropped (Go prints `null`);
 * - a message field present on the wire is kept even when empty (`emptyDir: {}`, `strategy: {}`),
 *   as Go prints a struct; an absent one is absent;
 * - list elements and map values are kept as they are (`""` is a valid label value).
 *
 * Anything malformed (truncated, wrong wire type, lengths past the end, unknown kind, nesting deeper
 * than 64) is a 400; unknown field numbers are skipped. Nothing but an `ApiError` leaves this module.
 */
import { ApiError, badRequest } from '../api/errors.js';
import { protobufEnvelope, protobufKinds } from './schema.generated.js';
import {
  type FieldSpec,
  kubernetesSchema,
  type MessageSpec,
  type ProtoSchema,
  type ScalarType,
} from './schema.js';

export const KUBERNETES_PROTOBUF = 'application/vnd.kubernetes.protobuf';

/** The magic every Kubernetes protobuf body starts with: `k8s\0`. */
export const KUBERNETES_PROTOBUF_MAGIC = Buffer.from([0x6b, 0x38, 0x73, 0x00]);

export const MAX_DEPTH = 64;

const WIRE_VARINT = 0;
const WIRE_FIXED64 = 1;
const WIRE_LEN = 2;
const WIRE_FIXED32 = 5;

function malformed(detail: string): ApiError {
  return badRequest(`the protobuf body is malformed: ${detail}`);
}

class Reader {
  constructor(
    readonly buf: Buffer,
    public pos: number,
    readonly end: number,
  ) {}

  get done(): boolean {
    return this.pos >= this.end;
  }

  varint(): bigint {
    let result = 0n;
    let shift = 0n;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) throw malformed(`truncated varint at byte ${this.pos}`);
      const b = this.buf[this.pos++] as number;
      if (i === 9 && b > 1) throw malformed(`varint overflows 64 bits at byte ${this.pos - 1}`);
      result |= BigInt(b & 0x7f) << shift;
      if (b < 0x80) return result;
      shift += 7n;
    }
    throw malformed(`varint longer than 10 bytes at byte ${this.pos}`);
  }

  /** A varint that must fit 32 bits unsigned (tags, lengths). */
  small(what: string): number {
    const v = this.varint();
    if (v > 0xffffffffn) throw malformed(`${what} out of range at byte ${this.pos}`);
    return Number(v);
  }

  tag(): { field: number; wire: number } {
    const tag = this.small('tag');
    const field = tag >>> 3;
    if (field === 0) throw malformed(`field number 0 at byte ${this.pos}`);
    return { field, wire: tag & 7 };
  }

  /** A length-delimited payload, as a view of the body. */
  bytes(): Buffer {
    const length = this.small('length');
    if (length > this.end - this.pos) {
      throw malformed(`length ${length} runs past the end at byte ${this.pos}`);
    }
    const out = this.buf.subarray(this.pos, this.pos + length);
    this.pos += length;
    return out;
  }

  fixed(size: 4 | 8): Buffer {
    if (size > this.end - this.pos) throw malformed(`truncated fixed${size * 8} at byte ${this.pos}`);
    const out = this.buf.subarray(this.pos, this.pos + size);
    this.pos += size;
    return out;
  }

  skip(wire: number): void {
    switch (wire) {
      case WIRE_VARINT:
        this.varint();
        return;
      case WIRE_FIXED64:
        this.fixed(8);
        return;
      case WIRE_LEN:
        this.bytes();
        return;
      case WIRE_FIXED32:
        this.fixed(4);
        return;
      default:
        throw malformed(`unsupported wire type ${wire} at byte ${this.pos}`);
    }
  }
}

function wireOf(type: ScalarType): number {
  switch (type) {
    case 'string':
    case 'bytes':
      return WIRE_LEN;
    case 'double':
      return WIRE_FIXED64;
    case 'float':
      return WIRE_FIXED32;
    default:
      return WIRE_VARINT;
  }
}

type Scalar = string | Buffer | boolean | number | bigint;

/** One scalar as its wire type says (int64/uint64 as bigint: callers convert). */
function readScalar(r: Reader, type: ScalarType): Scalar {
  switch (type) {
    case 'string':
      return r.bytes().toString('utf8');
    case 'bytes':
      return r.bytes();
    case 'bool':
      return r.varint() !== 0n;
    case 'int32':
      return Number(BigInt.asIntN(32, r.varint()));
    case 'uint32':
      return Number(BigInt.asUintN(32, r.varint()));
    case 'int64':
      return BigInt.asIntN(64, r.varint());
    case 'uint64':
      return BigInt.asUintN(64, r.varint());
    case 'double':
      return r.fixed(8).readDoubleLE(0);
    case 'float':
      return r.fixed(4).readFloatLE(0);
  }
}

/** A scalar's JSON form. */
function jsonScalar(value: Scalar, where: string): unknown {
  if (typeof value === 'bigint') return Number(value);
  if (Buffer.isBuffer(value)) return value.toString('base64');
  if (typeof value === 'number' && !Number.isFinite(value))
    throw malformed(`${where} is not a finite number`);
  return value;
}

function isZero(value: unknown): boolean {
  return value === '' || value === 0 || value === false || value === undefined || value === null;
}

function zeroScalar(type: ScalarType): Scalar {
  switch (type) {
    case 'string':
      return '';
    case 'bytes':
      return Buffer.alloc(0);
    case 'bool':
      return false;
    default:
      return 0;
  }
}

function getOrAdd<V>(map: Map<number, V>, key: number, create: () => V): V {
  const existing = map.get(key);
  if (existing !== undefined) return existing;
  const created = create();
  map.set(key, created);
  return created;
}

/** `obj[key] = value`, also for keys such as `__proto__` (as JSON.parse does). */
function setOwn(obj: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
}

function expectWire(actual: number, expected: number, where: string): void {
  if (actual !== expected) throw malformed(`${where} has wire type ${actual}, expected ${expected}`);
}

/** Decodes protobuf messages of one schema into Kubernetes JSON. */
export class ProtobufDecoder {
  constructor(private readonly schema: ProtoSchema) {}

  private spec(type: string): MessageSpec {
    const spec = this.schema.get(type);
    if (!spec) throw malformed(`no message ${type}`);
    return spec;
  }

  /** The fields of a message, scalars as read and message fields as their (merged) bytes. */
  readRaw(type: string, bytes: Buffer, depth: number): Map<number, Scalar> {
    if (depth > MAX_DEPTH) throw malformed(`nested deeper than ${MAX_DEPTH}`);
    const spec = this.spec(type);
    const out = new Map<number, Scalar>();
    const r = new Reader(bytes, 0, bytes.length);
    while (!r.done) {
      const { field, wire } = r.tag();
      const f = spec.fields.get(field);
      if (!f || f.list || f.map) {
        r.skip(wire);
        continue;
      }
      const where = `${type}.${f.name ?? '...'}`;
      if (f.scalar) {
        expectWire(wire, wireOf(f.type as ScalarType), where);
        out.set(field, readScalar(r, f.type as ScalarType));
      } else {
        expectWire(wire, WIRE_LEN, where);
        const previous = out.get(field);
        const chunk = r.bytes();
        out.set(field, Buffer.isBuffer(previous) ? Buffer.concat([previous, chunk]) : chunk);
      }
    }
    return out;
  }

  /** A value of `type` (a message of the schema) in JSON; `undefined` for a zero Time. */
  decodeValue(type: string, bytes: Buffer, depth: number): unknown {
    if (depth > MAX_DEPTH) throw malformed(`nested deeper than ${MAX_DEPTH}`);
    const special = specials[type];
    if (special) return special(this.readRaw(type, bytes, depth), bytes, type);
    return this.decodeMessage(type, bytes, depth);
  }

  /** A message of the schema as a JSON object. */
  decodeMessage(type: string, bytes: Buffer, depth = 0): Record<string, unknown> {
    if (depth > MAX_DEPTH) throw malformed(`nested deeper than ${MAX_DEPTH}`);
    const spec = this.spec(type);
    const singular = new Map<number, Scalar>();
    const chunks = new Map<number, Buffer[]>();
    const lists = new Map<number, unknown[]>();
    const maps = new Map<number, Record<string, unknown>>();
    const r = new Reader(bytes, 0, bytes.length);
    while (!r.done) {
      const { field, wire } = r.tag();
      const f = spec.fields.get(field);
      if (!f) {
        r.skip(wire);
        continue;
      }
      const where = `${type}.${f.name ?? '...'}`;
      if (f.map) {
        expectWire(wire, WIRE_LEN, where);
        const entry = this.mapEntry(f, r.bytes(), depth + 1, where);
        setOwn(
          getOrAdd(maps, field, () => ({})),
          entry.key,
          entry.value,
        );
      } else if (f.list) {
        const list = getOrAdd(lists, field, () => []);
        if (!f.scalar) {
          expectWire(wire, WIRE_LEN, where);
          list.push(this.decodeValue(f.type, r.bytes(), depth + 1) ?? null);
          continue;
        }
        const scalar = f.type as ScalarType;
        const natural = wireOf(scalar);
        if (wire === WIRE_LEN && natural !== WIRE_LEN) {
          // Packed: the values back to back in one length-delimited field.
          const packed = r.bytes();
          const inner = new Reader(packed, 0, packed.length);
          while (!inner.done) list.push(jsonScalar(readScalar(inner, scalar), where));
        } else {
          expectWire(wire, natural, where);
          list.push(jsonScalar(readScalar(r, scalar), where));
        }
      } else if (f.scalar) {
        expectWire(wire, wireOf(f.type as ScalarType), where);
        singular.set(field, readScalar(r, f.type as ScalarType));
      } else {
        // A message field seen twice merges, as concatenated bytes do in protobuf.
        expectWire(wire, WIRE_LEN, where);
        getOrAdd(chunks, field, () => []).push(r.bytes());
      }
    }

    const out: Record<string, unknown> = {};
    for (const f of spec.ordered) {
      const where = `${type}.${f.name ?? '...'}`;
      let value: unknown;
      if (f.map) value = maps.get(f.number);
      else if (f.list) value = lists.get(f.number);
      else if (f.scalar) {
        const raw = singular.get(f.number);
        if (raw === undefined) continue;
        value = jsonScalar(raw, where);
        if (!f.keep && (isZero(value) || (Buffer.isBuffer(raw) && raw.length === 0))) continue;
      } else {
        const parts = chunks.get(f.number);
        if (!parts) continue;
        value = this.decodeValue(
          f.type,
          parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts),
          depth + 1,
        );
        if (value === undefined || (!f.keep && isZero(value))) continue;
        if (f.name === undefined) {
          for (const [k, v] of Object.entries(value as Record<string, unknown>)) setOwn(out, k, v);
          continue;
        }
      }
      if (value === undefined || f.name === undefined) continue;
      out[f.name] = value;
    }
    return out;
  }

  private mapEntry(
    f: FieldSpec,
    bytes: Buffer,
    depth: number,
    where: string,
  ): { key: string; value: unknown } {
    if (depth > MAX_DEPTH) throw malformed(`nested deeper than ${MAX_DEPTH}`);
    const r = new Reader(bytes, 0, bytes.length);
    let key = '';
    let scalar: Scalar | undefined;
    const parts: Buffer[] = [];
    while (!r.done) {
      const { field, wire } = r.tag();
      if (field === 1) {
        expectWire(wire, WIRE_LEN, `${where} key`);
        key = r.bytes().toString('utf8');
      } else if (field === 2 && f.scalar) {
        expectWire(wire, wireOf(f.type as ScalarType), `${where} value`);
        scalar = readScalar(r, f.type as ScalarType);
      } else if (field === 2) {
        expectWire(wire, WIRE_LEN, `${where} value`);
        parts.push(r.bytes());
      } else {
        r.skip(wire);
      }
    }
    if (f.scalar) return { key, value: jsonScalar(scalar ?? zeroScalar(f.type as ScalarType), where) };
    return { key, value: this.decodeValue(f.type, Buffer.concat(parts), depth + 1) ?? null };
  }
}

type Special = (fields: Map<number, Scalar>, bytes: Buffer, type: string) => unknown;

/** Go's zero time, 0001-01-01T00:00:00Z, in Unix seconds; and the last second of year 9999. */
const MIN_SECONDS = -62135596800n;
const MAX_SECONDS = 253402300799n;

function formatTime(fields: Map<number, Scalar>, bytes: Buffer, type: string): string | undefined {
  if (bytes.length === 0) return undefined;
  const seconds = (fields.get(1) as bigint | undefined) ?? 0n;
  const nanos = (fields.get(2) as number | undefined) ?? 0;
  if (nanos < 0 || nanos > 999_999_999) throw malformed(`${type}.nanos out of range`);
  if (seconds < MIN_SECONDS || seconds > MAX_SECONDS) throw malformed(`${type}.seconds out of range`);
  if (seconds === MIN_SECONDS && nanos === 0) return undefined;
  const base = new Date(Number(seconds) * 1000).toISOString().slice(0, 19);
  if (type === 'meta.v1.MicroTime') {
    return `${base}.${String(Math.floor(nanos / 1000)).padStart(6, '0')}Z`;
  }
  return `${base}Z`;
}

/** `v / scale` with its fraction, trailing zeros trimmed (`1.5`, `2`). */
function fraction(v: bigint, scale: bigint): string {
  const whole = v / scale;
  const rest = v % scale;
  if (rest === 0n) return `${whole}`;
  const digits = String(scale).length - 1;
  return `${whole}.${rest.toString().padStart(digits, '0').replace(/0+$/, '')}`;
}

/** Go's `time.Duration.String()` of a number of nanoseconds (`1h2m3.5s`, `1.5µs`, `0s`). */
export function formatDuration(nanoseconds: bigint): string {
  if (nanoseconds === 0n) return '0s';
  const negative = nanoseconds < 0n;
  let u = negative ? -nanoseconds : nanoseconds;
  let out: string;
  if (u < 1_000_000_000n) {
    if (u < 1000n) out = `${u}ns`;
    else if (u < 1_000_000n) out = `${fraction(u, 1000n)}µs`;
    else out = `${fraction(u, 1_000_000n)}ms`;
  } else {
    out = `${fraction(u % 60_000_000_000n, 1_000_000_000n)}s`;
    u /= 60_000_000_000n;
    if (u > 0n) {
      out = `${u % 60n}m${out}`;
      u /= 60n;
      if (u > 0n) out = `${u}h${out}`;
    }
  }
  return negative ? `-${out}` : out;
}

function parseRawJson(fields: Map<number, Scalar>, _bytes: Buffer, type: string): unknown {
  const raw = fields.get(1) as Buffer | undefined;
  if (!raw || raw.length === 0) return undefined;
  if (raw.subarray(0, 4).equals(KUBERNETES_PROTOBUF_MAGIC))
    throw malformed(`${type} holds protobuf, not JSON`);
  try {
    return JSON.parse(raw.toString('utf8'));
  } catch {
    throw malformed(`${type} is not JSON`);
  }
}

const specials: Readonly<Record<string, Special>> = {
  'meta.v1.Time': formatTime,
  'meta.v1.MicroTime': formatTime,
  'meta.v1.Duration': (fields) => formatDuration((fields.get(1) as bigint | undefined) ?? 0n),
  'meta.v1.FieldsV1': parseRawJson,
  'runtime.RawExtension': parseRawJson,
  'resource.Quantity': (fields) => (fields.get(1) as string | undefined) ?? '',
  'intstr.IntOrString': (fields, _bytes, type) => {
    const kind = (fields.get(1) as bigint | undefined) ?? 0n;
    if (kind === 0n) return (fields.get(2) as number | undefined) ?? 0;
    if (kind === 1n) return (fields.get(3) as string | undefined) ?? '';
    throw malformed(`${type}.type is ${kind}, neither 0 (int) nor 1 (string)`);
  },
};

export interface DecodedProtobuf {
  apiVersion: string;
  kind: string;
  object: Record<string, unknown>;
}

let decoder: ProtobufDecoder | undefined;

/**
 * A Kubernetes protobuf body as its apiVersion, kind and JSON object (apiVersion and kind set).
 * Throws a 400 `ApiError` for anything it cannot decode, and nothing else.
 */
export function decodeKubernetesProtobuf(body: Buffer): DecodedProtobuf {
  try {
    decoder ??= new ProtobufDecoder(kubernetesSchema());
    return decodeEnvelope(decoder, body);
  } catch (error) {
    if (error instanceof ApiError) throw error;
    throw badRequest('the protobuf body could not be decoded');
  }
}

function decodeEnvelope(d: ProtobufDecoder, body: Buffer): DecodedProtobuf {
  if (body.length < 4 || !body.subarray(0, 4).equals(KUBERNETES_PROTOBUF_MAGIC)) {
    throw badRequest('the protobuf body does not start with the Kubernetes magic "k8s\\0"');
  }
  const unknown = d.readRaw(protobufEnvelope, body.subarray(4), 0);
  const typeMeta = d.readRaw(
    'runtime.TypeMeta',
    (unknown.get(1) as Buffer | undefined) ?? Buffer.alloc(0),
    1,
  );
  const apiVersion = (typeMeta.get(1) as string | undefined) ?? '';
  const kind = (typeMeta.get(2) as string | undefined) ?? '';
  const encoding = (unknown.get(3) as string | undefined) ?? '';
  const contentType = (unknown.get(4) as string | undefined) ?? '';
  if (encoding !== '')
    throw badRequest(`the protobuf body has an unsupported content encoding "${encoding}"`);
  if (contentType !== '' && contentType !== KUBERNETES_PROTOBUF) {
    throw badRequest(`the protobuf body holds unsupported content "${contentType}"`);
  }
  if (apiVersion === '' || kind === '')
    throw badRequest('the protobuf body does not name its apiVersion and kind');
  const type = protobufKinds[`${apiVersion}/${kind}`] ?? protobufKinds[`*/${kind}`];
  if (!type) throw badRequest(`protobuf bodies of ${apiVersion}, Kind=${kind} are not supported`);
  const raw = (unknown.get(2) as Buffer | undefined) ?? Buffer.alloc(0);
  const object = { apiVersion, kind, ...d.decodeMessage(type, raw, 1) };
  return { apiVersion, kind, object };
}
