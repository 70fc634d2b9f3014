import { ApiError, StatusReason } from '../../../shared/api/errors.js';
import type { ApiRequest } from '../http.js';
import type { ResourceRequestInfo } from '../request-info.js';
import type { RequestAttributes, User } from './types.js';

/** Whether the request asks for a watch (`?watch=true`, or `1` as Go's strconv.ParseBool). */
export function isWatch(request: Pick<ApiRequest, 'query'>): boolean {
  const value = request.query.get('watch');
  return value === 'true' || value === '1';
}

/**
 * The verb a request is authorized as, as kube-apiserver's RequestInfoFactory derives it: a GET is
 * get, list or watch; a DELETE without a name is deletecollection; a non-resource request's verb is
 * its method.
 */
export function requestVerb(method: string, request: Pick<ApiRequest, 'query'>, info?: ResourceRequestInfo) {
  const lower = method.toLowerCase();
  if (!info) return lower;
  switch (method) {
    case 'GET':
    case 'HEAD':
      if (isWatch(request)) return 'watch';
      return info.name === undefined ? 'list' : 'get';
    case 'POST':
      return 'create';
    case 'PUT':
      return 'update';
    case 'PATCH':
      return 'patch';
    case 'DELETE':
      return info.name === undefined ? 'deletecollection' : 'delete';
    default:
      return lower;
  }
}

/** A request's authorization attributes. `info` is undefined for non-resource paths. */
export function requestAttributes(
  user: User,
  request: Pick<ApiRequest, 'method' | 'query'>,
  path: string,
  info?: ResourceRequestInfo,
): RequestAttributes {
  return {
    user,
    verb: requestVerb(request.method, request, info),
    resourceRequest: info !== undefined,
    path,
    apiGroup: info?.group ?? '',
    apiVersion: info?.version ?? '',
    resource: info?.resource ?? '',
    subresource: info?.subresource ?? '',
    // A namespace's own path is in its namespace, so a RoleBinding there lets one read it.
    namespace:
      info?.resource === 'namespaces' && info.group === '' ? (info.name ?? '') : (info?.namespace ?? ''),
    name: info?.name ?? '',
  };
}

/** 403 Forbidden worded as kube-apiserver's (`pods "x" is forbidden: User "alice" cannot get …`). */
export function forbidden(attributes: RequestAttributes, reason = ''): ApiError {
  const { user, verb } = attributes;
  const why = reason ? `: ${reason}` : '';
  if (!attributes.resourceRequest) {
    return new ApiError(
      403,
      StatusReason.Forbidden,
      `forbidden: User "${user.name}" cannot ${verb} path "${attributes.path}"${why}`,
    );
  }
  const resource = attributes.subresource
    ? `${attributes.resource}/${attributes.subresource}`
    : attributes.resource;
  const scope = attributes.namespace ? `in the namespace "${attributes.namespace}"` : 'at the cluster scope';
  const subject = attributes.name ? `${resource} "${attributes.name}"` : resource;
  return new ApiError(
    403,
    StatusReason.Forbidden,
    `${subject} is forbidden: User "${user.name}" cannot ${verb} resource "${resource}" in API group "${attributes.apiGroup}" ${scope}${why}`,
    {
      ...(attributes.name ? { name: attributes.name } : {}),
      group: attributes.apiGroup,
      kind: attributes.resource,
    },
  );
}

/** Attributes of a question about a resource (a review's, or a check the server makes itself). */
export function resourceAttributes(
  user: User,
  verb: string,
  target: Partial<
    Pick<RequestAttributes, 'apiGroup' | 'apiVersion' | 'resource' | 'subresource' | 'namespace' | 'name'>
  >,
): RequestAttributes {
  return {
    user,
    verb,
    resourceRequest: true,
    path: '',
    apiGroup: target.apiGroup ?? '',
    apiVersion: target.apiVersion ?? '',
    resource: target.resource ?? '',
    subresource: target.subresource ?? '',
    namespace: target.namespace ?? '',
    name: target.name ?? '',
  };
}

/** Attributes of a question about a non-resource path. */
export function nonResourceAttributes(user: User, verb: string, path: string): RequestAttributes {
  return { ...resourceAttributes(user, verb, {}), resourceRequest: false, path };
}
