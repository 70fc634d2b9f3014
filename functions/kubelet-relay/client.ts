/** The API server's side of the kubelet relay (protocol.ts): a `KubeletFetch` through the function. */
import {
  InvokeWithResponseStreamCommand,
  type InvokeWithResponseStreamResponseEvent,
  type LambdaClient,
} from '@aws-sdk/client-lambda';
import { serviceUnavailable } from '../../shared/api/errors.js';
import type { KubeletFetch } from '../apiserver/kubelet-client.js';
import type { RelayHead, RelayRequest } from './protocol.js';

/** An invocation that failed (in the relay's runtime, not the kubelet's answer). */
function failure(event: InvokeWithResponseStreamResponseEvent): string | undefined {
  const complete = event.InvokeComplete;
  return complete?.ErrorCode ? `${complete.ErrorCode}: ${complete.ErrorDetails ?? ''}`.trim() : undefined;
}

export function relayedKubeletFetch(lambda: LambdaClient, functionName: string): KubeletFetch {
  return async (url, token, signal) => {
    const request: RelayRequest = { url: url.toString(), token };
    const output = await lambda
      .send(
        new InvokeWithResponseStreamCommand({
          FunctionName: functionName,
          Payload: Buffer.from(JSON.stringify(request)),
        }),
        signal ? { abortSignal: signal } : {},
      )
      .catch((error: unknown) => {
        throw serviceUnavailable(`the kubelet relay could not be invoked: ${(error as Error).message}`);
      });
    if (!output.EventStream) throw serviceUnavailable('the kubelet relay sent no response stream');
    const events = output.EventStream[Symbol.asyncIterator]();

    // The head: everything up to the first newline.
    let buffered = Buffer.alloc(0);
    let newline = -1;
    while (newline < 0) {
      const next = await events.next();
      const failed = next.done ? 'the relay ended before its answer' : failure(next.value);
      if (failed) throw serviceUnavailable(`the kubelet relay failed: ${failed}`);
      const payload = next.value?.PayloadChunk?.Payload;
      if (payload) buffered = Buffer.concat([buffered, payload]);
      newline = buffered.indexOf(10);
    }
    const head = JSON.parse(buffered.subarray(0, newline).toString('utf8')) as RelayHead;
    const rest = buffered.subarray(newline + 1);

    async function* body(): AsyncGenerator<Buffer> {
      if (rest.length > 0) yield rest;
      for (let next = await events.next(); !next.done; next = await events.next()) {
        const failed = failure(next.value);
        if (failed) throw new Error(`the kubelet relay failed: ${failed}`);
        const payload = next.value.PayloadChunk?.Payload;
        if (payload && payload.length > 0) yield Buffer.from(payload);
      }
    }
    return { status: head.status, contentType: head.contentType, body: body() };
  };
}
