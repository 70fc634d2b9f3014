/**
 * The API server as one request → response function: what the Lambda function-URL adapter and the
 * local HTTPS server both hand requests to.
 */

export interface ApiRequest {
  method: string;
  /** The path as sent, not percent-decoded (as a function URL's `rawPath`). */
  path: string;
  query: URLSearchParams;
  /** Lower-case names; a repeated header's values joined with `, `. */
  headers: Record<string, string>;
  body: Buffer;
  remoteAddress?: string;
  /** Aborted when the client goes away (or the server closes) before the response is complete. */
  signal: AbortSignal;
}

export type ApiResponse =
  | { status: number; headers: Record<string, string>; body: string | Buffer }
  /** Each chunk is written and flushed as it comes (Transfer-Encoding: chunked), e.g. for watch. */
  | { status: number; headers: Record<string, string>; stream: AsyncIterable<string | Buffer> };

export type ApiHandler = (request: ApiRequest) => Promise<ApiResponse>;
