/**
 * The kubelet relay function (see protocol.ts), in the workers' VPC: one `containerLogs` request to a
 * node's kubelet, streamed back to the invoking API server through the runtime's response stream.
 */
import { once } from 'node:events';
import type { Writable } from 'node:stream';
import type { Context } from 'aws-lambda';
import { ApiError, internalError } from '../../shared/api/errors.js';
import { fetchKubelet } from '../apiserver/kubelet-client.js';
import { parseRelayRequest, type RelayHead } from './protocol.js';

/** What the Node.js runtime provides for response streaming. */
declare const awslambda: {
  streamifyResponse(
    handler: (event: unknown, responseStream: Writable, context: Context) => Promise<void>,
  ): unknown;
};

/** How long before the invocation's deadline a followed log is cut (the API server's watch margin). */
const deadlineMarginMs = 2000;

async function write(stream: Writable, chunk: string | Buffer): Promise<void> {
  if (!stream.write(chunk)) await once(stream, 'drain');
}

export async function relay(event: unknown, responseStream: Writable, context: Context): Promise<void> {
  const controller = new AbortController();
  const timer = setTimeout(
    () => controller.abort(),
    Math.max(0, context.getRemainingTimeInMillis() - deadlineMarginMs),
  );
  let headSent = false;
  const head = async (value: RelayHead) => {
    await write(responseStream, `${JSON.stringify(value)}\n`);
    headSent = true;
  };
  try {
    const { url, token } = parseRelayRequest(event);
    const response = await fetchKubelet(url, token, controller.signal);
    await head({ status: response.status, contentType: response.contentType });
    for await (const chunk of response.body) await write(responseStream, chunk);
  } catch (error) {
    // Before the head: the API server answers this Status. After it: the body is cut off, as a
    // kubelet connection that breaks would cut it.
    if (!headSent && !controller.signal.aborted) {
      const status = (error instanceof ApiError ? error : internalError(error)).toStatus();
      if (!(error instanceof ApiError)) console.error(error);
      await head({ status: status.code, contentType: 'application/json' });
      await write(responseStream, JSON.stringify(status));
    }
  } finally {
    clearTimeout(timer);
    responseStream.end();
  }
}

export const handler = awslambda.streamifyResponse(relay);
