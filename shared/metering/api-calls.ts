/**
 * A client's own API calls (the agent's), counted on the client's side by method: what one node costs
 * the API server, apart from everyone else's requests.
 */
import type { ApiHandler } from '../http/contract.js';
import type { Meter } from './meter.js';

/** `transport`, each request counted under `<service>` / `api.<METHOD>` (a watch as `api.WATCH`). */
export function meteredCalls(transport: ApiHandler, meter: Meter, service: string): ApiHandler {
  return (request) => {
    const method = request.query.get('watch') === 'true' ? 'WATCH' : request.method;
    meter.add(service, `api.${method}`, { requests: 1 });
    return transport(request);
  };
}
