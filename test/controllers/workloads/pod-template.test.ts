import { describe, expect, it } from 'vitest';
import {
  computeHash,
  equalIgnoreHash,
  fnv32a,
  safeEncodeString,
  withHashLabel,
} from '../../../functions/controllers/workloads/pod-template.js';
import type { PodTemplateSpec } from '../../../shared/api/core.js';

const template = (image: string): PodTemplateSpec => ({
  metadata: { labels: { app: 'web' } },
  spec: { containers: [{ name: 'c', image, resources: {} }], restartPolicy: 'Always' },
});

describe('the pod-template hash', () => {
  it('is FNV-32a', () => {
    const bytes = (text: string) => new TextEncoder().encode(text);
    expect(fnv32a(bytes(''))).toBe(0x811c9dc5);
    expect(fnv32a(bytes('a'))).toBe(0xe40c292c);
    expect(fnv32a(bytes('foobar'))).toBe(0xbf9cf968);
  });

  it('is rendered in the safe alphabet, one character per decimal digit', () => {
    expect(safeEncodeString('0123456789')).toBe('456789bcdf');
    expect(computeHash(template('nginx'))).toMatch(/^[456789bcdf]{1,10}$/);
  });

  it('is the same for the same template, whatever the order of its fields', () => {
    const reordered: PodTemplateSpec = {
      spec: { restartPolicy: 'Always', containers: [{ resources: {}, image: 'nginx', name: 'c' }] },
      metadata: { labels: { app: 'web' } },
    };
    expect(computeHash(reordered)).toBe(computeHash(template('nginx')));
  });

  it('does not change between releases (ReplicaSet names depend on it)', () => {
    expect(computeHash(template('nginx'))).toBe('6f945b995d');
  });

  it('differs for another template and for another collision count', () => {
    const hash = computeHash(template('nginx'));
    expect(computeHash(template('nginx:1.27'))).not.toBe(hash);
    expect(computeHash(template('nginx'), 1)).not.toBe(hash);
    expect(computeHash(template('nginx'), 1)).not.toBe(computeHash(template('nginx'), 2));
  });

  it('compares templates without the hash label and without empty fields', () => {
    const labelled = withHashLabel(template('nginx'), 'abc');
    expect(labelled.metadata?.labels).toEqual({ app: 'web', 'pod-template-hash': 'abc' });
    expect(equalIgnoreHash(labelled, template('nginx'))).toBe(true);
    const sparse: PodTemplateSpec = {
      metadata: { labels: { app: 'web' }, annotations: {} },
      spec: { containers: [{ name: 'c', image: 'nginx' }], restartPolicy: 'Always' },
    };
    expect(equalIgnoreHash(sparse, template('nginx'))).toBe(true);
    expect(equalIgnoreHash(labelled, template('nginx:1.27'))).toBe(false);
  });
});
