/**
 * The decoder's view of `schema.generated.ts`: each message's fields by number, parsed once from the
 * compact text form the generator writes.
 */
import { protobufMessages } from './schema.generated.js';

export type ScalarType =
  | 'string'
  | 'bytes'
  | 'bool'
  | 'int32'
  | 'int64'
  | 'uint32'
  | 'uint64'
  | 'double'
  | 'float';

const scalarTypes: ReadonlySet<string> = new Set<ScalarType>([
  'string',
  'bytes',
  'bool',
  'int32',
  'int64',
  'uint32',
  'uint64',
  'double',
  'float',
]);

export interface FieldSpec {
  number: number;
  /** The JSON name; `undefined` for an embedded Go struct whose fields are inlined into the parent. */
  name: string | undefined;
  /** A scalar type, or the name of a message of the same schema. */
  type: string;
  scalar: boolean;
  list: boolean;
  map: boolean;
  /** A Go pointer: a zero value on the wire was set on purpose, and is kept. */
  keep: boolean;
}

export interface MessageSpec {
  name: string;
  /** By field number. */
  fields: ReadonlyMap<number, FieldSpec>;
  /** In field-number order. */
  ordered: readonly FieldSpec[];
}

export type ProtoSchema = ReadonlyMap<string, MessageSpec>;

/** Parses a table in the generated form (`'<number> <name> <type><suffix>;...'` per message). */
export function parseSchema(table: Readonly<Record<string, string>>): ProtoSchema {
  const out = new Map<string, MessageSpec>();
  for (const [name, text] of Object.entries(table)) {
    const fields = new Map<number, FieldSpec>();
    for (const part of text === '' ? [] : text.split(';')) {
      const m = /^(\d+) (\S+) ([\w.]+)(\[\]|\{\}|\?)?$/.exec(part);
      if (!m) throw new Error(`protobuf schema: ${name}: cannot parse "${part}"`);
      const [, number, fieldName, type, suffix] = m as unknown as [string, string, string, string, string?];
      fields.set(Number(number), {
        number: Number(number),
        name: fieldName === '...' ? undefined : fieldName,
        type,
        scalar: scalarTypes.has(type),
        list: suffix === '[]',
        map: suffix === '{}',
        keep: suffix === '?',
      });
    }
    const ordered = [...fields.values()].sort((a, b) => a.number - b.number);
    out.set(name, { name, fields, ordered });
  }
  for (const message of out.values()) {
    for (const f of message.ordered) {
      if (!f.scalar && !out.has(f.type)) {
        throw new Error(`protobuf schema: ${message.name}.${f.name ?? '...'} refers to unknown ${f.type}`);
      }
      if (f.name === undefined && (f.scalar || f.list || f.map)) {
        throw new Error(`protobuf schema: ${message.name}: only a single message can be inlined`);
      }
    }
  }
  return out;
}

let kubernetes: ProtoSchema | undefined;

/** The Kubernetes schema of `schema.generated.ts`, parsed on first use. */
export function kubernetesSchema(): ProtoSchema {
  kubernetes ??= parseSchema(protobufMessages);
  return kubernetes;
}
