import type { Status } from '../../shared/api/errors.js';

export type { ApiHandler, ApiRequest, ApiResponse } from '../../shared/http/contract.js';

import type { ApiResponse } from '../../shared/http/contract.js';

export function json(
  status: number,
  value: unknown,
  contentType = 'application/json',
  headers: Record<string, string> = {},
): ApiResponse {
  return { status, headers: { 'content-type': contentType, ...headers }, body: JSON.stringify(value) };
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
