/**
 * Pod templates of Deployments: the `pod-template-hash` that names a Deployment's ReplicaSets and
 * labels their pods, and template equality ignoring that label. Pure.
 */
import type { PodTemplateSpec } from '../../../shared/api/core.js';
import { isJsonObject } from '../../../shared/api/types.js';

/** `apps.DefaultDeploymentUniqueLabelKey`. */
export const podTemplateHashLabel = 'pod-template-hash';

/**
 * The value with object keys sorted and null, `{}` and `[]` left out, as upstream's semantic equality
 * treats nil and empty maps and slices alike (and Go has no null).
 */
function canonical(value: unknown): unknown {
  if (Array.isArray(value)) {
    const items = value.map((item) => canonical(item) ?? null);
    return items.length > 0 ? items : undefined;
  }
  if (isJsonObject(value)) {
    const result: Record<string, unknown> = {};
    for (const key of Object.keys(value).sort()) {
      const item = canonical(value[key]);
      if (item !== undefined) result[key] = item;
    }
    return Object.keys(result).length > 0 ? result : undefined;
  }
  return value === null ? undefined : value;
}

function canonicalJson(value: unknown): string {
  return JSON.stringify(canonical(value) ?? {});
}

/** 32-bit FNV-1a over bytes (Go's `hash/fnv.New32a`). */
export function fnv32a(bytes: Uint8Array, hash = 0x811c9dc5): number {
  let h = hash;
  for (const byte of bytes) h = Math.imul(h ^ byte, 0x01000193) >>> 0;
  return h >>> 0;
}

const safeAlphabet = 'bcdfghjklmnpqrstvwxz2456789';

/** `rand.SafeEncodeString`: each character mapped into an alphabet without vowels (no words). */
export function safeEncodeString(text: string): string {
  let result = '';
  for (const c of text) result += safeAlphabet[(c.codePointAt(0) as number) % safeAlphabet.length];
  return result;
}

/**
 * `controller.ComputeHash`: FNV-32a of the template, then of the collision count (as eight bytes,
 * the uint32 little-endian, as upstream writes it), rendered in decimal and safe-encoded. Upstream
 * hashes Go's printed form of the struct; this hashes the canonical JSON, so values differ from a real
 * cluster's while having the same form and the same stability (the same template, the same hash).
 */
export function computeHash(template: PodTemplateSpec, collisionCount?: number): string {
  let hash = fnv32a(new TextEncoder().encode(canonicalJson(template)));
  if (collisionCount !== undefined) {
    const bytes = new Uint8Array(8);
    new DataView(bytes.buffer).setUint32(0, collisionCount >>> 0, true);
    hash = fnv32a(bytes, hash);
  }
  return safeEncodeString(String(hash));
}

function withoutHash(template: PodTemplateSpec): PodTemplateSpec {
  const labels = { ...template.metadata?.labels };
  delete labels[podTemplateHashLabel];
  return { ...template, metadata: { ...template.metadata, labels } };
}

/** `deploymentutil.EqualIgnoreHash`: the templates are the same but for the pod-template-hash label. */
export function equalIgnoreHash(a: PodTemplateSpec, b: PodTemplateSpec): boolean {
  return canonicalJson(withoutHash(a)) === canonicalJson(withoutHash(b));
}

/** The template with the hash label added (for the ReplicaSet's template and so its pods). */
export function withHashLabel(template: PodTemplateSpec, hash: string): PodTemplateSpec {
  return {
    ...template,
    metadata: {
      ...template.metadata,
      labels: { ...template.metadata?.labels, [podTemplateHashLabel]: hash },
    },
  };
}
