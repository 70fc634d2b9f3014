/**
 * `pods/log` and `pods/exec`: the API server resolves the pod's container and node, then forwards the
 * request to that node's kubelet endpoint (its InternalIP and `daemonEndpoints.kubeletEndpoint.Port`),
 * presenting the kubelet token, as kube-apiserver does with its kubelet client credentials. Logs stream
 * back as plain text; exec is a WebSocket upgrade, which only the local server can join (a function URL
 * cannot upgrade connections, see docs/adr/0004-agent.md).
 */
import type { Node, Pod } from '../../shared/api/core.js';
import { ApiError, badRequest, StatusReason, serviceUnavailable } from '../../shared/api/errors.js';
import type { ProxyUpgrade } from '../../shared/http/contract.js';
import type { ApiResponse } from './http.js';
import { fetchKubelet, type KubeletFetch } from './kubelet-client.js';
import type { ResourceRequest, RestContext } from './rest.js';

/** How the API server reaches kubelets. */
export interface KubeletAccess {
  /** The bearer token every agent's endpoint accepts. */
  token: string;
  /** How requests reach kubelets (for logs); default: straight to the node. */
  fetch?: KubeletFetch;
}

interface Target {
  /** `https://<node address>:<port>` */
  base: string;
  namespace: string;
  pod: string;
  container: string;
}

/**
 * The container a request names, or the pod's only one, or its `kubectl.kubernetes.io/default-container`,
 * as upstream's pod registry chooses (and with its messages when it cannot).
 */
function chooseContainer(pod: Pod, requested: string | null): string {
  const name = pod.metadata.name;
  const containers = (pod.spec?.containers ?? []).map((c) => c.name);
  const initContainers = (pod.spec?.initContainers ?? []).map((c) => c.name);
  if (requested) {
    if (containers.includes(requested) || initContainers.includes(requested)) return requested;
    throw badRequest(`container ${requested} is not valid for pod ${name}`);
  }
  if (containers.length === 1) return containers[0] as string;
  const annotated = pod.metadata.annotations?.['kubectl.kubernetes.io/default-container'];
  if (annotated && containers.includes(annotated)) return annotated;
  throw badRequest(
    `a container name must be specified for pod ${name}, choose one of: [${containers.join(' ')}]` +
      (initContainers.length > 0 ? ` or one of the init containers: [${initContainers.join(' ')}]` : ''),
  );
}

async function locate({ info, request }: ResourceRequest, ctx: RestContext): Promise<Target> {
  const namespace = info.namespace as string;
  const pod = (await ctx.store.get({ resource: 'pods', namespace, name: info.name as string })) as Pod;
  const container = chooseContainer(pod, request.query.get('container'));
  const nodeName = pod.spec?.nodeName;
  if (!nodeName) throw badRequest(`pod ${pod.metadata.name} does not have a host assigned`);
  const node = (await ctx.store.get({ resource: 'nodes', name: nodeName }).catch(() => undefined)) as
    | Node
    | undefined;
  const address = node?.status?.addresses?.find((a) => a.type === 'InternalIP')?.address;
  const port = (node?.status as { daemonEndpoints?: { kubeletEndpoint?: { Port?: number } } } | undefined)
    ?.daemonEndpoints?.kubeletEndpoint?.Port;
  if (!address || !port) throw serviceUnavailable(`node ${nodeName} publishes no kubelet endpoint`);
  return { base: `https://${address}:${port}`, namespace, pod: pod.metadata.name, container };
}

function targetPath(route: string, target: Target): string {
  return `/${route}/${[target.namespace, target.pod, target.container].map(encodeURIComponent).join('/')}`;
}

const flags = ['follow', 'previous', 'timestamps'] as const;

/** PodLogOptions from the query, checked as upstream validates them (the kubelet sees only valid ones). */
function logQuery(query: URLSearchParams): URLSearchParams {
  const forwarded = new URLSearchParams();
  for (const flag of flags) {
    const value = query.get(flag);
    if (value === null) continue;
    if (!['true', 'false', '1', '0'].includes(value)) throw badRequest(`${flag}: invalid boolean "${value}"`);
    forwarded.set(flag, String(value === 'true' || value === '1'));
  }
  const minimums = { tailLines: 0, sinceSeconds: 1, limitBytes: 1 } as const;
  for (const [name, minimum] of Object.entries(minimums)) {
    const value = query.get(name);
    if (value === null) continue;
    if (!/^-?\d+$/.test(value) || Number(value) < minimum)
      throw new ApiError(
        422,
        StatusReason.Invalid,
        `PodLogOptions "" is invalid: ${name}: Invalid value: ${JSON.stringify(value)}: must be greater than or equal to ${minimum}`,
      );
    forwarded.set(name, value);
  }
  if (query.get('sinceTime') !== null && query.get('sinceSeconds') !== null)
    throw badRequest('at most one of sinceTime or sinceSeconds may be specified');
  const sinceTime = query.get('sinceTime');
  if (sinceTime !== null) {
    const at = Date.parse(sinceTime);
    if (Number.isNaN(at)) throw badRequest(`sinceTime: invalid time "${sinceTime}"`);
    forwarded.set('sinceSeconds', String(Math.max(1, Math.ceil((Date.now() - at) / 1000))));
  }
  return forwarded;
}

/** GET `pods/<name>/log`: the container's output from its kubelet, streamed as it comes with `follow`. */
export async function podLogs(
  req: ResourceRequest,
  ctx: RestContext,
  kubelet: KubeletAccess | undefined,
): Promise<ApiResponse> {
  if (!kubelet) throw serviceUnavailable('this API server is not configured to reach kubelets');
  const query = logQuery(req.request.query);
  const target = await locate(req, ctx);
  const url = new URL(`${targetPath('containerLogs', target)}?${query}`, target.base);
  const response = await (kubelet.fetch ?? fetchKubelet)(url, kubelet.token, req.request.signal);
  const headers = { 'content-type': response.contentType };
  if (response.status !== 200) {
    const chunks: Buffer[] = [];
    for await (const chunk of response.body) chunks.push(chunk);
    return { status: response.status, headers, body: Buffer.concat(chunks) };
  }
  return { status: 200, headers, stream: response.body };
}

/** `pods/<name>/exec`: where to forward the WebSocket upgrade; a request that is not one is refused. */
export async function podExec(
  req: ResourceRequest,
  ctx: RestContext,
  kubelet: KubeletAccess | undefined,
): Promise<ProxyUpgrade> {
  if (!req.request.upgrade)
    throw badRequest(
      'Upgrade request required (this server serves exec over WebSocket, and not through a function URL)',
    );
  if (!kubelet) throw serviceUnavailable('this API server is not configured to reach kubelets');
  const target = await locate(req, ctx);
  const query = new URLSearchParams();
  for (const name of ['command', 'stdin', 'stdout', 'stderr', 'tty'])
    for (const value of req.request.query.getAll(name)) query.append(name, value);
  return {
    proxy: {
      url: new URL(`${targetPath('exec', target)}?${query}`, target.base).toString(),
      headers: { authorization: `Bearer ${kubelet.token}` },
    },
  };
}
