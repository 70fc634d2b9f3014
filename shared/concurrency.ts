/** Small in-process concurrency helpers (the scheduler's view and passes, the agent's service refreshes). */

const ignore = () => undefined;

/**
 * Coalesces calls of `work`: every call resolves with a run that started at or after the call, and
 * callers that arrive while a run is in flight share the one run after it. So a burst of callers that
 * each need "a list taken after now" costs two lists, not one per caller.
 */
export function coalesced<A extends unknown[], T>(
  work: (...args: A) => Promise<T>,
): (...args: A) => Promise<T> {
  let running: Promise<T> | undefined;
  let queued: Promise<T> | undefined;
  const start = (args: A): Promise<T> => {
    const run = work(...args);
    running = run;
    const clear = () => {
      if (running === run) running = undefined;
    };
    run.then(clear, clear);
    return run;
  };
  return (...args) => {
    if (!running) return start(args);
    if (!queued) {
      queued = running.then(ignore, ignore).then(() => {
        queued = undefined;
        return start(args);
      });
    }
    return queued;
  };
}

/** One holder at a time per key; the others wait their turn in order. */
export class KeyedMutex {
  private readonly tails = new Map<string, Promise<void>>();

  async run<T>(key: string, work: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(key) ?? Promise.resolve();
    let release = ignore as () => void;
    const turn = new Promise<void>((resolve) => {
      release = resolve;
    });
    const tail = previous.then(() => turn);
    this.tails.set(key, tail);
    await previous;
    try {
      return await work();
    } finally {
      release();
      if (this.tails.get(key) === tail) this.tails.delete(key);
    }
  }
}

/** Runs `work` over `items`, at most `concurrency` at once; rejects with every failure once all have run. */
export async function forEachLimited<T>(
  items: readonly T[],
  concurrency: number,
  work: (item: T) => Promise<void>,
): Promise<void> {
  const errors: unknown[] = [];
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const item = items[next++] as T;
      await work(item).catch((error: unknown) => void errors.push(error));
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
  if (errors.length === 1) throw errors[0];
  if (errors.length > 1) throw new AggregateError(errors, `${errors.length} of ${items.length} failed`);
}
