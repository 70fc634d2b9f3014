import { ApiError, StatusReason } from '../../../shared/api/errors.js';
import type { ReconcileResult } from '../../runtime/controller.js';

/**
 * The name part of a namespace-wide key (`<namespace>/*`): no object is named `*`, so it cannot clash
 * with an object's key.
 */
export const sweepName = '*';

/**
 * Runs a level-based sync again at once when one of its compare-and-swaps lost (409 Conflict), a few
 * times, before leaving the key to the retry queue's backoff: the sync re-reads everything, so a rerun
 * is always safe, and it spares a rollout a second of backoff per lost race.
 */
export async function retryOnConflict<T>(sync: () => Promise<T>, attempts = 5): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await sync();
    } catch (error) {
      const lostRace = error instanceof ApiError && error.reason === StatusReason.Conflict;
      if (!lostRace || attempt >= attempts) throw error;
    }
  }
}

/**
 * The work of a namespace-wide key: each named object synced in turn (with `retryOnConflict`), all of
 * them tried even when one fails, and one later look for the key when any of them asked for one.
 */
export async function syncEach(
  names: readonly string[],
  sync: (name: string) => Promise<ReconcileResult | undefined>,
): Promise<ReconcileResult | undefined> {
  let requeueAfterMs: number | undefined;
  const errors: unknown[] = [];
  for (const name of names) {
    try {
      const wait = (await retryOnConflict(() => sync(name)))?.requeueAfterMs;
      if (wait !== undefined) requeueAfterMs = Math.min(wait, requeueAfterMs ?? wait);
    } catch (error) {
      errors.push(error);
    }
  }
  if (errors.length > 0) throw new AggregateError(errors, `${errors.length} of ${names.length} syncs failed`);
  return requeueAfterMs === undefined ? undefined : { requeueAfterMs };
}
