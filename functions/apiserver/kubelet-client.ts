/**
 * One request to a kubelet endpoint (an agent's HTTPS server), as kube-apiserver's kubelet client makes
 * it: the kubelet token as a bearer token; the kubelet's self-signed certificate is not verified
 * (upstream's default without `--kubelet-certificate-authority`, see docs/adr/0004-agent.md).
 */
import { request as httpsRequest } from 'node:https';
import { serviceUnavailable } from '../../shared/api/errors.js';

export interface KubeletResponse {
  status: number;
  contentType: string;
  body: AsyncIterable<Buffer>;
}

/** GETs `url` from a kubelet; how the API server reaches it may differ (directly, or through a relay). */
export type KubeletFetch = (url: URL, token: string, signal?: AbortSignal) => Promise<KubeletResponse>;

/** Straight to the kubelet: the API server and the node share a network (locally, or in a VPC). */
export const fetchKubelet: KubeletFetch = (url, token, signal) =>
  new Promise((resolve, reject) => {
    const outgoing = httpsRequest(url, {
      headers: { authorization: `Bearer ${token}` },
      rejectUnauthorized: false,
      ...(signal ? { signal } : {}),
    });
    outgoing.once('response', (response) =>
      resolve({
        status: response.statusCode ?? 502,
        contentType: response.headers['content-type'] ?? 'text/plain',
        body: response,
      }),
    );
    outgoing.once('error', (error) =>
      reject(serviceUnavailable(`the kubelet of this pod did not answer: ${error.message}`)),
    );
    outgoing.end();
  });
