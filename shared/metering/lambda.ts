/**
 * Lambda metering in the local runtime: each piece of work Lambda would run as one invocation is
 * counted as Lambda bills it: one request, its duration rounded up to the millisecond, and GB-seconds
 * at the function's configured memory. The API server's requests are also counted as its function
 * URL sees them (requests and bytes), and a watch, which holds its invocation for as long as it
 * streams, apart from the other requests.
 */
import type { ApiHandler, ApiResponse } from '../http/contract.js';
import type { Meter } from './meter.js';

/** A function as deployed: its name and configured memory (`functions/sizing.ts`). */
export interface MeteredFunction {
  name: string;
  memoryMiB: number;
}

/** Counts one invocation of `fn` that lasted `ms`, under `name` (the function's own by default). */
function countInvocation(meter: Meter, fn: MeteredFunction, ms: number, name = fn.name): void {
  const billedMs = Math.max(1, Math.ceil(ms));
  meter.add('lambda', name, {
    invocations: 1,
    billedMs,
    gbSeconds: (fn.memoryMiB / 1024) * (billedMs / 1000),
  });
}

/** Runs `work` as one invocation of `fn`, counted whether it succeeds or fails. */
export async function invocation<T>(meter: Meter, fn: MeteredFunction, work: () => Promise<T>): Promise<T> {
  const started = performance.now();
  try {
    return await work();
  } finally {
    countInvocation(meter, fn, performance.now() - started);
  }
}

/**
 * The API server's handler, each request counted as one invocation of `fn` behind its function URL:
 * a plain response ends the invocation when it is produced, a streamed one (a watch) when the stream
 * ends or the client goes away. Watches are counted under `<fn>.watch`.
 */
export function meteredApiHandler(handler: ApiHandler, meter: Meter, fn: MeteredFunction): ApiHandler {
  return async (request) => {
    const started = performance.now();
    const requestBytes = request.body.length;
    let response: ApiResponse;
    try {
      response = await handler(request);
    } catch (error) {
      countInvocation(meter, fn, performance.now() - started);
      meter.add('functionUrl', fn.name, { requests: 1, requestBytes, responseBytes: 0 });
      throw error;
    }
    if (!('stream' in response)) {
      countInvocation(meter, fn, performance.now() - started);
      meter.add('functionUrl', fn.name, {
        requests: 1,
        requestBytes,
        responseBytes: Buffer.byteLength(response.body),
      });
      return response;
    }
    const name = `${fn.name}.watch`;
    let responseBytes = 0;
    let ended = false;
    const end = () => {
      if (ended) return;
      ended = true;
      countInvocation(meter, fn, performance.now() - started, name);
      meter.add('functionUrl', name, { requests: 1, requestBytes, responseBytes });
    };
    // The client may leave while the stream waits for its next event: the invocation ends then.
    request.signal.addEventListener('abort', end, { once: true });
    const stream = response.stream;
    async function* counted(): AsyncGenerator<string | Buffer> {
      try {
        for await (const chunk of stream) {
          responseBytes += Buffer.byteLength(chunk);
          yield chunk;
        }
      } finally {
        end();
      }
    }
    return { ...response, stream: counted() };
  };
}
