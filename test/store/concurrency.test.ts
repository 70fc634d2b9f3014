import { describe, expect, it } from 'vitest';
import { ApiError } from '../../shared/api/errors.js';
import type { KubernetesObject } from '../../shared/api/types.js';
import { EntryType } from '../../shared/store/log.js';
import { freshStore } from '../support/dynamo.js';

const key = { resource: 'configmaps', namespace: 'default', name: 'counter' };
const counter = (n: number): KubernetesObject => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name: 'counter', namespace: 'default' },
  data: { n: String(n) },
});

describe('compare-and-swap under concurrency', () => {
  it('loses no update when 16 writers read-modify-write one object', async () => {
    const { store, log } = await freshStore();
    await store.create(key, counter(0));
    let successes = 0;
    let conflicts = 0;
    const writer = async () => {
      for (let done = 0; done < 3; ) {
        const current = await store.get(key);
        const n = Number((current.data as { n: string }).n);
        try {
          await store.update(key, counter(n + 1), Number(current.metadata.resourceVersion));
          successes++;
          done++;
        } catch (error) {
          expect(error).toBeInstanceOf(ApiError);
          expect((error as ApiError).reason).toBe('Conflict');
          conflicts++;
        }
      }
    };
    await Promise.all(Array.from({ length: 16 }, writer));

    const final = await store.get(key);
    expect(successes).toBe(48);
    expect((final.data as { n: string }).n).toBe('48');
    expect(conflicts).toBeGreaterThan(0); // the test did exercise contention

    // Every revision is either a committed change of the counter or void; the committed ones chain.
    const top = await store.currentRevision();
    const entries = await log.read(Array.from({ length: top }, (_, i) => i + 1));
    expect(entries.size).toBe(top);
    const committed = [...entries.values()]
      .filter((e) => e.type !== EntryType.Void)
      .sort((a, b) => a.revision - b.revision);
    expect(committed.length).toBe(49);
    for (let i = 1; i < committed.length; i++) expect(committed[i]?.prev).toBe(committed[i - 1]?.revision);
    expect(Number(final.metadata.resourceVersion)).toBe(committed.at(-1)?.revision);
  });
});
