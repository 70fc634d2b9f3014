/**
 * A tiny protobuf writer for tests: builds bodies byte by byte, as gogo-generated marshalers write
 * them (including the zero values they always write), so the decoder can be checked against them.
 */

const MAGIC = Buffer.from([0x6b, 0x38, 0x73, 0x00]);

export function varint(value: number | bigint): Buffer {
  let v = BigInt.asUintN(64, BigInt(value));
  const out: number[] = [];
  while (v > 0x7fn) {
    out.push(Number(v & 0x7fn) | 0x80);
    v >>= 7n;
  }
  out.push(Number(v));
  return Buffer.from(out);
}

export function tag(field: number, wire: number): Buffer {
  return varint(field * 8 + wire);
}

/** A varint field (int32, int64, bool, enum); negatives as ten bytes, as Go writes them. */
export function int(field: number, value: number | bigint | boolean): Buffer {
  return Buffer.concat([tag(field, 0), varint(typeof value === 'boolean' ? Number(value) : value)]);
}

/** A length-delimited field: a string, bytes, or a message given as its parts. */
export function len(field: number, ...parts: (Buffer | string)[]): Buffer {
  const body = Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p, 'utf8') : p)));
  return Buffer.concat([tag(field, 2), varint(body.length), body]);
}

export const str = (field: number, value: string): Buffer => len(field, value);
export const msg = (field: number, ...parts: Buffer[]): Buffer => len(field, ...parts);

export function fixed64(field: number, value: bigint): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(value);
  return Buffer.concat([tag(field, 1), b]);
}

export function fixed32(field: number, value: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(value);
  return Buffer.concat([tag(field, 5), b]);
}

/** One map entry: key 1, value 2 (a string, or a message's parts). */
export function entry(field: number, key: string, value: string | Buffer | Buffer[]): Buffer {
  const v = Array.isArray(value)
    ? msg(2, ...value)
    : typeof value === 'string'
      ? str(2, value)
      : len(2, value);
  return msg(field, str(1, key), v);
}

/** The whole body: magic, then `runtime.Unknown{typeMeta{apiVersion, kind}, raw}`. */
export function body(apiVersion: string, kind: string, ...object: Buffer[]): Buffer {
  return Buffer.concat([
    MAGIC,
    msg(1, str(1, apiVersion), str(2, kind)),
    msg(2, ...object),
    str(3, ''),
    str(4, ''),
  ]);
}

/** An ObjectMeta as gogo writes it: every non-pointer field, zero or not, and an empty creationTimestamp. */
export function objectMeta(name: string, namespace = '', ...more: Buffer[]): Buffer {
  return Buffer.concat([
    str(1, name),
    str(2, ''),
    str(3, namespace),
    str(4, ''),
    str(5, ''),
    str(6, ''),
    int(7, 0),
    msg(8),
    ...more,
  ]);
}
