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
  /** The client asks to switch protocols (`Upgrade: websocket`); only the local server can, not a function URL. */
  upgrade?: boolean;
  /** Aborted when the client goes away (or the server closes) before the response is complete. */
  signal: AbortSignal;
}

export type ApiResponse =
  | { status: number; headers: Record<string, string>; body: string | Buffer }
  /** Each chunk is written and flushed as it comes (Transfer-Encoding: chunked), e.g. for watch. */
  | { status: number; headers: Record<string, string>; stream: AsyncIterable<string | Buffer> };

/**
 * The answer to an upgrade request: forward it, with these headers added, to `url` (an HTTPS endpoint
 * whose certificate is not verified, as upstream reaches kubelets), and join the two connections.
 */
export interface ProxyUpgrade {
  proxy: { url: string; headers: Record<string, string> };
}

export type ApiHandler = (request: ApiRequest) => Promise<ApiResponse>;

/** Answers requests that ask to switch protocols: with a connection to forward them to, or a refusal. */
export type UpgradeHandler = (request: ApiRequest) => Promise<ApiResponse | ProxyUpgrade>;
