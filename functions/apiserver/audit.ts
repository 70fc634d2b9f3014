/**
 * One audit line per mutating request, at kube-apiserver's `Metadata` level (who, verb, what, result;
 * never a body, so never a Secret's data): an audit.k8s.io/v1 Event as JSON, written to the function's
 * structured log on AWS and to `<dataDir>/audit.log` locally.
 */
import { randomUUID } from 'node:crypto';
import { timestamp } from '../../shared/api/time.js';
import type { RequestAttributes, User } from './auth/types.js';
import type { ApiRequest } from './http.js';

export interface AuditEvent {
  kind: 'Event';
  apiVersion: 'audit.k8s.io/v1';
  level: 'Metadata';
  auditID: string;
  stage: 'ResponseComplete' | 'ResponseStarted';
  requestURI: string;
  verb: string;
  user: { username: string; uid?: string; groups: string[] };
  sourceIPs: string[];
  userAgent?: string;
  objectRef?: {
    resource: string;
    namespace?: string;
    name?: string;
    apiGroup?: string;
    apiVersion: string;
    subresource?: string;
  };
  responseStatus: { code: number };
  requestReceivedTimestamp: string;
  stageTimestamp: string;
}

export type AuditSink = (event: AuditEvent) => void;

/** On AWS: one JSON line in the function's log (CloudWatch Logs reads its fields). */
export const logAuditEvent: AuditSink = (event) => console.log(JSON.stringify(event));

const mutating = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/** Whether a request is audited: every one that may change something. */
export function audited(request: Pick<ApiRequest, 'method'>): boolean {
  return mutating.has(request.method);
}

export function auditEvent(
  request: ApiRequest,
  who: { user?: User; attributes?: RequestAttributes },
  code: number,
  received: Date,
  now: Date,
): AuditEvent {
  const a = who.attributes;
  const query = request.query.toString();
  return {
    kind: 'Event',
    apiVersion: 'audit.k8s.io/v1',
    level: 'Metadata',
    auditID: randomUUID(),
    stage: 'ResponseComplete',
    requestURI: query ? `${request.path}?${query}` : request.path,
    verb: a?.verb ?? request.method.toLowerCase(),
    user: who.user
      ? { username: who.user.name, ...(who.user.uid ? { uid: who.user.uid } : {}), groups: who.user.groups }
      : { username: 'system:anonymous', groups: ['system:unauthenticated'] },
    sourceIPs: request.remoteAddress ? [request.remoteAddress] : [],
    ...(request.headers['user-agent'] ? { userAgent: request.headers['user-agent'] } : {}),
    ...(a?.resourceRequest
      ? {
          objectRef: {
            resource: a.resource,
            ...(a.namespace ? { namespace: a.namespace } : {}),
            ...(a.name ? { name: a.name } : {}),
            ...(a.apiGroup ? { apiGroup: a.apiGroup } : {}),
            apiVersion: a.apiVersion,
            ...(a.subresource ? { subresource: a.subresource } : {}),
          },
        }
      : {}),
    responseStatus: { code },
    requestReceivedTimestamp: precise(received),
    stageTimestamp: precise(now),
  };
}

/** RFC 3339 with microseconds, as upstream's audit timestamps. */
function precise(date: Date): string {
  return `${timestamp(date).slice(0, -1)}.${String(date.getUTCMilliseconds()).padStart(3, '0')}000Z`;
}
