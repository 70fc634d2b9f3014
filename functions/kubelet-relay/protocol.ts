/**
 * The kubelet relay (ADR 0004): the API server function runs outside the workers' VPC (it needs AWS's
 * public endpoints, and a VPC without NAT has none), so `pods/log` reaches a node's kubelet endpoint
 * through a small function inside the VPC, invoked with response streaming. The request names the
 * kubelet URL and token; the response is one JSON line (the kubelet's status and content type), then
 * the kubelet's body as it comes.
 */
import { badRequest } from '../../shared/api/errors.js';

export interface RelayRequest {
  url: string;
  token: string;
}

export interface RelayHead {
  status: number;
  contentType: string;
}

/** The only kubelet paths relayed: container logs (exec needs an upgraded connection, which no invoke has). */
const relayedPath = /^\/containerLogs\/[^/]+\/[^/]+\/[^/]+$/;

/** The request, checked: an https URL of a kubelet's logs, and a token. */
export function parseRelayRequest(event: unknown): { url: URL; token: string } {
  const { url, token } = (event ?? {}) as Partial<RelayRequest>;
  if (typeof url !== 'string' || !URL.canParse(url) || typeof token !== 'string' || token === '')
    throw badRequest('a relay request names a kubelet url and a token');
  const parsed = new URL(url);
  if (parsed.protocol !== 'https:' || !relayedPath.test(parsed.pathname))
    throw badRequest('only https kubelet container logs are relayed');
  return { url: parsed, token };
}
