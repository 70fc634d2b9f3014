import { Agent, request } from 'node:https';
import type { ApiHandler } from '../http/contract.js';

/**
 * An `ApiHandler` that sends each request to an API server over HTTPS (trusting only `ca`): the
 * transport of `ApiClient` outside the server's process. Watches come back as streams.
 */
export function httpsTransport(options: { url: string; ca: string }): ApiHandler {
  const agent = new Agent({ keepAlive: true, ca: options.ca });
  return (apiRequest) =>
    new Promise((resolve, reject) => {
      const url = new URL(apiRequest.path, options.url);
      url.search = apiRequest.query.toString();
      const req = request(
        url,
        {
          method: apiRequest.method,
          // Node sends a DELETE body unframed unless told its length.
          headers: { ...apiRequest.headers, 'content-length': String(apiRequest.body.length) },
          agent,
          signal: apiRequest.signal,
        },
        (res) => {
          const headers = Object.fromEntries(
            Object.entries(res.headers).map(([name, value]) => [name, String(value)]),
          );
          const status = res.statusCode ?? 0;
          if (apiRequest.query.get('watch') === 'true' && status === 200) {
            resolve({ status, headers, stream: res });
            return;
          }
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('end', () => resolve({ status, headers, body: Buffer.concat(chunks) }));
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      req.end(apiRequest.body);
    });
}
