import { describe, expect, it } from 'vitest';
import type { KubernetesObject } from '../../shared/api/types.js';
import type { KeyPrefix } from '../../shared/store/keys.js';
import { EntryType } from '../../shared/store/log.js';
import type { Store } from '../../shared/store/store.js';
import { freshStore } from '../support/dynamo.js';
import { rejection } from '../support/errors.js';
import { replayTo } from '../support/history.js';
import { churn, configMap } from '../support/workload.js';

const all: KeyPrefix = { resource: 'configmaps' };
const alpha: KeyPrefix = { resource: 'configmaps', namespace: 'alpha' };

/** Lists every page with `limit`, pausing between pages so writes land meanwhile. */
async function listInPages(store: Store, prefix: KeyPrefix, limit: number) {
  const pages = [await store.list(prefix, { limit })];
  while (pages.at(-1)?.continue) {
    await new Promise((r) => setTimeout(r, 5));
    pages.push(await store.list(prefix, { limit, continue: pages.at(-1)?.continue as string }));
  }
  return {
    revision: pages[0]?.revision as number,
    revisions: pages.map((p) => p.revision),
    items: pages.flatMap((p) => p.items),
    pages: pages.length,
  };
}

describe('snapshot lists', () => {
  it("equal the replay of history to their revision while writers run, and pages stay on the first page's revision", async () => {
    const { store, log } = await freshStore({ holeDeadlineMs: 500 });
    let writing = true;
    const writers = Promise.all(Array.from({ length: 4 }, (_, w) => churn(store, w, 50, 6))).finally(() => {
      writing = false;
    });
    const snapshots: { prefix: KeyPrefix; revision: number; items: KubernetesObject[] }[] = [];
    let paged = 0;
    while (writing) {
      const whole = await store.list(all);
      snapshots.push({ prefix: all, revision: whole.revision, items: whole.items });
      const inAlpha = await store.list(alpha);
      snapshots.push({ prefix: alpha, revision: inAlpha.revision, items: inAlpha.items });
      const pages = await listInPages(store, all, 2);
      expect(new Set(pages.revisions)).toEqual(new Set([pages.revision]));
      if (pages.pages > 1) paged++;
      snapshots.push({ prefix: all, revision: pages.revision, items: pages.items });
    }
    await writers;
    expect(paged).toBeGreaterThan(0);
    expect(new Set(snapshots.map((s) => s.revision)).size).toBeGreaterThan(2); // lists did interleave with writes
    for (const snapshot of snapshots) {
      expect(snapshot.items).toEqual(await replayTo(log, snapshot.prefix, snapshot.revision));
    }
  });

  it('lists the state at an exact older revision', async () => {
    const { store, log } = await freshStore();
    await churn(store, 0, 20, 4);
    const then = await store.currentRevision();
    const expected = await replayTo(log, all, then);
    await churn(store, 1, 20, 4);
    expect(await store.currentRevision()).toBeGreaterThan(then);
    const listed = await store.list(all, { revision: then });
    expect(listed.revision).toBe(then);
    expect(listed.items).toEqual(expected);
  });

  it('applies a filter before the limit and keeps paging until the limit is met', async () => {
    const { store } = await freshStore();
    for (let i = 0; i < 9; i++) {
      await store.create(
        { resource: 'configmaps', namespace: 'alpha', name: `n${i}` },
        configMap('alpha', `n${i}`, String(i % 3)),
      );
    }
    const filter = (o: KubernetesObject) => (o.data as { value: string }).value === '0';
    const first = await store.list(alpha, { limit: 2, filter });
    expect(first.items.map((o) => o.metadata.name)).toEqual(['n0', 'n3']);
    const rest = await store.list(alpha, { limit: 2, filter, continue: first.continue as string });
    expect(rest.items.map((o) => o.metadata.name)).toEqual(['n6']);
    expect(rest.continue).toBeUndefined();
  });

  it('rejects a malformed continue token with 400 and a future revision with 504', async () => {
    const { store } = await freshStore();
    await store.create(
      { resource: 'configmaps', namespace: 'alpha', name: 'x' },
      configMap('alpha', 'x', '1'),
    );
    expect((await rejection(store.list(all, { continue: 'not-a-token' }))).code).toBe(400);
    const foreign = Buffer.from(JSON.stringify({ rv: 1, start: 'zzz/x' })).toString('base64url');
    expect((await rejection(store.list(alpha, { continue: foreign }))).code).toBe(400);
    expect((await rejection(store.list(all, { revision: 10 ** 6 }))).code).toBe(504);
  });
});

describe('compaction', () => {
  it('keeps lists at the compaction mark exact, answers 410 below it, and deletes only superseded history', async () => {
    const { store, log } = await freshStore();
    await churn(store, 0, 30, 5);
    const mark = await store.currentRevision();
    const atMark = await replayTo(log, all, mark);
    const page = await store.list(all, { limit: 1, revision: mark - 1 });
    // Change and delete objects after the mark, so a list at the mark must look back into history.
    for (const object of atMark) {
      const key = {
        resource: 'configmaps',
        namespace: object.metadata.namespace as string,
        name: object.metadata.name,
      };
      if (object.metadata.name.endsWith('1')) await store.delete(key);
      else
        await store.update(
          key,
          configMap(key.namespace, key.name, 'after'),
          Number(object.metadata.resourceVersion),
        );
    }
    await store.compact(mark);

    expect((await store.list(all, { revision: mark })).items).toEqual(atMark);
    const below = await rejection(store.list(all, { revision: mark - 1 }));
    expect(below.toStatus()).toMatchObject({ code: 410, reason: 'Expired' });
    const stale = await rejection(store.list(all, { limit: 1, continue: page.continue as string }));
    expect(stale.code).toBe(410);
    expect(stale.message).toContain('continue parameter is too old');

    // What is left at or below the mark: the entry current at the mark for each live key, and voids.
    const left = await log.read(Array.from({ length: mark }, (_, i) => i + 1));
    const kept = [...left.values()]
      .filter((e) => e.type !== EntryType.Void)
      .map((e) => e.revision)
      .sort((a, b) => a - b);
    expect(kept).toEqual(atMark.map((o) => Number(o.metadata.resourceVersion)).sort((a, b) => a - b));
  });
});

describe('periodic compaction (as kube-apiserver drives etcd)', () => {
  it('compacts to the revision recorded an interval earlier, never sooner, and concurrently only once', async () => {
    const { store } = await freshStore();
    const interval = 5 * 60_000;
    const t0 = new Date('2026-11-22T12:00:00Z');
    await churn(store, 0, 5, 3);
    const first = await store.currentRevision();
    // The first tick only records the newest revision.
    expect(await store.compactPeriodically(t0, interval)).toBeUndefined();
    await churn(store, 1, 5, 3);
    // Too soon: nothing is compacted, and the recorded revision stays.
    expect(await store.compactPeriodically(new Date(t0.getTime() + interval - 1), interval)).toBeUndefined();
    expect((await store.marks()).compacted).toBe(0);
    // An interval later, two passes at once: each compacts to the first tick's revision, or (if it
    // reads after the other recorded the next revision) finds it too soon.
    const later = new Date(t0.getTime() + interval);
    const second = await store.currentRevision();
    const results = await Promise.all([
      store.compactPeriodically(later, interval),
      store.compactPeriodically(later, interval),
    ]);
    expect(results).toContain(first);
    for (const result of results) expect([first, undefined]).toContain(result);
    expect((await store.marks()).compacted).toBe(first);
    const expired = await rejection(store.list(all, { revision: first - 1 }));
    expect(expired.code).toBe(410);
    // The next interval compacts to what that tick recorded.
    expect(await store.compactPeriodically(new Date(later.getTime() + interval), interval)).toBe(second);
  });
});
