import { describe, expect, it } from 'vitest';
import { ApiError } from '../../shared/api/errors.js';
import { commitAt } from '../../shared/store/commit.js';
import type { KeyPrefix } from '../../shared/store/keys.js';
import { EntryType, entryObject, isChangeUnder } from '../../shared/store/log.js';
import type { Store } from '../../shared/store/store.js';
import type { StoreEvent } from '../../shared/store/watch.js';
import { freshStore } from '../support/dynamo.js';
import { readHistory } from '../support/history.js';
import { churn, configMap } from '../support/workload.js';

type Seen = { revision: number; type: string; object: unknown };

/**
 * Watches until `until()` says stop, reconnecting from the last revision seen after every few events when
 * asked. It fails when 30 s pass without progress (the shared DynamoDB Local can be slow, never silent).
 */
async function watcher(
  store: Store,
  prefix: KeyPrefix,
  from: number,
  until: (lastRevision: number) => boolean,
  reconnectEvery?: () => number,
): Promise<{ seen: Seen[]; reconnects: number }> {
  const seen: Seen[] = [];
  let last = from;
  let reconnects = 0;
  let deadline = Date.now() + 30_000;
  while (!until(last)) {
    if (Date.now() > deadline) throw new Error(`watcher stuck at ${last}`);
    const budget = reconnectEvery?.() ?? Number.POSITIVE_INFINITY;
    let taken = 0;
    for await (const event of store.watch(prefix, last, { pollIntervalMs: 10, progressIntervalMs: 50 })) {
      if (event.revision > last) deadline = Date.now() + 30_000;
      last = event.revision;
      if (event.type !== 'PROGRESS') {
        seen.push({ revision: event.revision, type: event.type, object: event.object });
        taken++;
      }
      if (until(last) || taken >= budget || Date.now() > deadline) break;
    }
    if (!until(last)) reconnects++;
  }
  return { seen, reconnects };
}

describe('watch', () => {
  it('delivers every committed revision exactly once, in order, to three watchers, one of which keeps reconnecting', async () => {
    const { store, log } = await freshStore({ holeDeadlineMs: 500 });
    await store.create(
      { resource: 'configmaps', namespace: 'alpha', name: 'seed' },
      configMap('alpha', 'seed', '0'),
    );
    const start = await store.currentRevision();
    let final = Number.POSITIVE_INFINITY;
    const done = (last: number) => last >= final;
    const all: KeyPrefix = { resource: 'configmaps' };
    const alpha: KeyPrefix = { resource: 'configmaps', namespace: 'alpha' };
    const watchers = [
      watcher(store, all, start, done),
      watcher(store, alpha, start, done),
      watcher(store, all, start, done, () => 1 + Math.floor(Math.random() * 8)),
    ];
    const landed = await Promise.all(Array.from({ length: 6 }, (_, w) => churn(store, w, 40)));
    final = await store.currentRevision();
    const [steady, namespaced, reconnecting] = await Promise.all(watchers);

    const history = (await readHistory(log, start + 1, final)).filter((e) => e.type !== EntryType.Void);
    expect(history.length).toBe(landed.reduce((a, b) => a + b, 0));
    expect(history.length).toBeLessThan(final - start); // writers collided: some revisions are void
    const expected = (prefix: KeyPrefix) =>
      history
        .filter((e) => isChangeUnder(e, prefix))
        .map((e) => ({ revision: e.revision, type: e.type, object: entryObject(e) }));
    expect(steady?.seen).toEqual(expected(all));
    expect(namespaced?.seen).toEqual(expected(alpha));
    expect(reconnecting?.seen).toEqual(expected(all));
    expect(reconnecting?.reconnects).toBeGreaterThan(10);
  });

  it("moves past a dead writer's hole within the deadline, voids it, and refuses the late commit", async () => {
    const { store, log } = await freshStore({ holeDeadlineMs: 300 });
    const from = await store.currentRevision();
    const events: StoreEvent[] = [];
    const controller = new AbortController();
    const watching = (async () => {
      for await (const event of store.watch({ resource: 'configmaps' }, from, {
        pollIntervalMs: 10,
        signal: controller.signal,
      })) {
        events.push(event);
      }
    })();

    const orphan = await log.allocate(); // a writer took this revision and died
    const after = await store.create(
      { resource: 'configmaps', namespace: 'alpha', name: 'after' },
      configMap('alpha', 'after', '1'),
    );
    const started = Date.now();
    while (events.length === 0 && Date.now() - started < 5000) await new Promise((r) => setTimeout(r, 10));
    const waited = Date.now() - started;
    controller.abort();
    await watching;

    expect(events.map((e) => e.revision)).toEqual([Number(after.metadata.resourceVersion)]);
    expect(waited).toBeGreaterThanOrEqual(250); // it did wait for the writer…
    expect(waited).toBeLessThan(3000); // …but not for long
    expect((await log.readOne(orphan))?.type).toBe(EntryType.Void);

    const late = await commitAt(
      log,
      {
        type: EntryType.Added,
        key: { resource: 'configmaps', namespace: 'alpha', name: 'late' },
        object: configMap('alpha', 'late', 'x'),
      },
      orphan,
    );
    expect(late).toEqual({ committed: false, voided: true });
    const missing = await store
      .get({ resource: 'configmaps', namespace: 'alpha', name: 'late' })
      .catch((e: unknown) => e);
    expect((missing as ApiError).code).toBe(404);
  });

  it('answers 410 Expired to a watch from below the compaction mark', async () => {
    const { store } = await freshStore();
    for (let i = 0; i < 5; i++)
      await store.create(
        { resource: 'configmaps', namespace: 'alpha', name: `c${i}` },
        configMap('alpha', `c${i}`, '0'),
      );
    const top = await store.currentRevision();
    await store.compact(top - 1);
    const error = await store
      .watch({ resource: 'configmaps' }, top - 2)
      .next()
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect((error as ApiError).toStatus()).toMatchObject({ code: 410, reason: 'Expired' });
    const ok = store.watch({ resource: 'configmaps' }, top - 1, { pollIntervalMs: 10 });
    expect((await ok.next()).value).toMatchObject({ type: 'ADDED', revision: top });
    await ok.return(undefined);
  });
});
