import { badRequest } from '../../shared/api/errors.js';

/**
 * What a request path names, as Kubernetes' RequestInfoFactory reads it:
 * `/api/v1/namespaces/ns/pods/name/status` → group '', version v1, namespace ns, resource pods,
 * name, subresource status.
 */
export interface ResourceRequestInfo {
  group: string;
  version: string;
  namespace?: string;
  resource: string;
  name?: string;
  subresource?: string;
}

/** Namespace subresources: `/api/v1/namespaces/<name>/status` is the namespace's own status. */
const namespaceSubresources = new Set(['status', 'finalize']);

function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw badRequest(`malformed path segment: ${JSON.stringify(segment)}`);
  }
}

/** The resource a path addresses, or undefined when it is not a resource path (discovery, health…). */
export function resourceRequestInfo(path: string): ResourceRequestInfo | undefined {
  const parts = path
    .split('/')
    .filter((p) => p !== '')
    .map(decodeSegment);
  let group: string;
  let rest: string[];
  if (parts[0] === 'api' && parts.length >= 3) {
    group = '';
    rest = parts.slice(1);
  } else if (parts[0] === 'apis' && parts.length >= 4) {
    group = parts[1] as string;
    rest = parts.slice(2);
  } else {
    return undefined;
  }
  const [version, ...segments] = rest as [string, ...string[]];
  let namespace: string | undefined;
  if (segments[0] === 'namespaces' && segments.length > 1) {
    namespace = segments[1];
    if (segments.length > 2 && !namespaceSubresources.has(segments[2] as string)) segments.splice(0, 2);
  }
  const [resource, name, subresource, ...extra] = segments;
  if (!resource || extra.length > 0) return undefined;
  // `/namespaces/<name>` names the namespace itself: it is not the scope of a namespaced request.
  if (resource === 'namespaces') namespace = undefined;
  return {
    group,
    version,
    ...(namespace !== undefined ? { namespace } : {}),
    resource,
    ...(name !== undefined ? { name } : {}),
    ...(subresource !== undefined ? { subresource } : {}),
  };
}
