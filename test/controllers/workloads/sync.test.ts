import { describe, expect, it } from 'vitest';
import { retryOnConflict, syncEach } from '../../../functions/controllers/workloads/sync.js';
import { alreadyExists, conflict } from '../../../shared/api/errors.js';

describe('running syncs', () => {
  it('runs a sync again at once after a lost compare-and-swap, a few times', async () => {
    let calls = 0;
    const result = await retryOnConflict(async () => {
      if (++calls < 3) throw conflict('pods', 'p');
      return 'done';
    });
    expect([result, calls]).toEqual(['done', 3]);
    calls = 0;
    await expect(
      retryOnConflict(async () => {
        calls++;
        throw conflict('pods', 'p');
      }, 2),
    ).rejects.toThrow(/modified/);
    expect(calls).toBe(2);
  });

  it('does not run a sync again for any other error', async () => {
    let calls = 0;
    await expect(
      retryOnConflict(async () => {
        calls++;
        throw alreadyExists('pods', 'p');
      }),
    ).rejects.toThrow(/already exists/);
    expect(calls).toBe(1);
  });

  it('syncs every object of a namespace-wide key, even after a failure, asking for the earliest look', async () => {
    const seen: string[] = [];
    const waits: Record<string, number | undefined> = { a: 5000, b: undefined, c: 2000 };
    const result = await syncEach(['a', 'b', 'c'], async (name) => {
      seen.push(name);
      const wait = waits[name];
      return wait === undefined ? undefined : { requeueAfterMs: wait };
    });
    expect([seen, result]).toEqual([['a', 'b', 'c'], { requeueAfterMs: 2000 }]);
    seen.length = 0;
    await expect(
      syncEach(['a', 'b'], async (name) => {
        seen.push(name);
        if (name === 'a') throw new Error('boom');
        return undefined;
      }),
    ).rejects.toThrow(/1 of 2 syncs failed/);
    expect(seen).toEqual(['a', 'b']);
  });
});
