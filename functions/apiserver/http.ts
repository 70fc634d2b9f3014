import type { Status } from '../../shared/api/errors.js';

/** A request as both the Lambda function-URL adapter and the local HTTPS server hand it over. */
export interface ApiRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  /** Lower-case header names. */
  headers: Record<string, string>;
  body: Buffer;
  remoteAddress?: string;
  /** Aborted when the client goes away. */
  signal: AbortSignal;
}

export type ApiResponse =
  | { status: number; headers: Record<string, string>; body: string | Buffer }
  /** A streamed body (watch): each chunk is written and flushed as it comes. */
  | { status: number; headers: Record<string, string>; stream: AsyncIterable<string | Buffer> };

export type ApiHandler = (request: ApiRequest) => Promise<ApiResponse>;

export function json(status: number, value: unknown, contentType = 'application/json'): ApiResponse {
  return { status, headers: { 'content-type': contentType }, body: JSON.stringify(value) };
}

export function statusResponse(status: Status): ApiResponse {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  const retryAfter = status.details?.retryAfterSeconds;
  if (retryAfter !== undefined) headers['retry-after'] = String(retryAfter);
  return { status: status.code, headers, body: JSON.stringify(status) };
}

/** The media types an Accept header lists, with their parameters (`as`, `g`, `v`), in order. */
export function acceptedTypes(
  accept: string | undefined,
): { type: string; params: Record<string, string> }[] {
  return (accept ?? '*/*').split(',').map((part) => {
    const [type = '', ...params] = part.split(';').map((s) => s.trim());
    return {
      type: type.toLowerCase(),
      params: Object.fromEntries(
        params.map((p) => {
          const eq = p.indexOf('=');
          return [p.slice(0, eq).trim().toLowerCase(), p.slice(eq + 1).trim()];
        }),
      ),
    };
  });
}
