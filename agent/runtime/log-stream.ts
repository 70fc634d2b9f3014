/**
 * Docker's multiplexed stream (logs and exec of containers without a TTY): frames of an 8-byte header
 * — stream type (0 stdin, 1 stdout, 2 stderr), three zero bytes, a big-endian uint32 length — then the
 * payload. docker-modem's `demuxStream` writes into two Writables and ignores the end of the source;
 * the agent wants one ordered sequence of payloads it can iterate and stop, so this is a generator.
 */

const headerLength = 8;

function looksLikeHeader(buffer: Buffer): boolean {
  const type = buffer[0];
  return (type === 0 || type === 1 || type === 2) && buffer[1] === 0 && buffer[2] === 0 && buffer[3] === 0;
}

export interface Frame {
  /** 1 stdout, 2 stderr; a raw (TTY) stream is all stdout. */
  stream: 1 | 2;
  payload: Buffer;
}

/**
 * The frames of a multiplexed stream, in stream order. A stream that does not start with a valid header
 * (a TTY's raw output) passes through unchanged, as stdout.
 */
export async function* demultiplexFrames(
  source: AsyncIterable<Buffer | string> | Iterable<Buffer>,
): AsyncGenerator<Frame> {
  let pending: Buffer = Buffer.alloc(0);
  let raw = false;
  for await (const chunk of source) {
    const data = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    if (raw) {
      yield { stream: 1, payload: data };
      continue;
    }
    pending = pending.length === 0 ? data : Buffer.concat([pending, data]);
    while (pending.length >= headerLength) {
      if (!looksLikeHeader(pending)) {
        raw = true;
        yield { stream: 1, payload: pending };
        pending = Buffer.alloc(0);
        break;
      }
      const size = pending.readUInt32BE(4);
      if (pending.length < headerLength + size) break;
      const payload = pending.subarray(headerLength, headerLength + size);
      const stream = pending[0] === 2 ? 2 : 1;
      pending = pending.subarray(headerLength + size);
      if (payload.length > 0) yield { stream, payload };
    }
  }
  // A truncated frame or a short raw stream: what is left is still output.
  if (pending.length === 0) return;
  if (raw || !looksLikeHeader(pending)) yield { stream: 1, payload: pending };
  else yield { stream: pending[0] === 2 ? 2 : 1, payload: pending.subarray(headerLength) };
}

/** The payloads of a multiplexed stream, stdout and stderr alike, in stream order. */
export async function* demultiplex(
  source: AsyncIterable<Buffer | string> | Iterable<Buffer>,
): AsyncGenerator<Buffer> {
  for await (const frame of demultiplexFrames(source)) yield frame.payload;
}
