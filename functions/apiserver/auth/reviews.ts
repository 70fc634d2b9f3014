/**
 * The questions a client may ask about itself, answered at once and never stored:
 * SelfSubjectAccessReview (`kubectl auth can-i`), SelfSubjectRulesReview (`kubectl auth can-i
 * --list`) and SelfSubjectReview (`kubectl auth whoami`).
 */
import { ApiError, StatusReason } from '../../../shared/api/errors.js';
import { type ResourceType, reviewTypes } from '../../../shared/api/resources.js';
import { isJsonObject } from '../../../shared/api/types.js';
import { decodeDocument, decodeObject } from '../decode.js';
import { type ApiRequest, type ApiResponse, json } from '../http.js';
import type { ResourceRequestInfo } from '../request-info.js';
import { methodNotAllowed } from '../rest.js';
import { type FieldError, invalid } from '../validation.js';
import { nonResourceAttributes, resourceAttributes } from './attributes.js';
import { type Authorizer, Decision, type PolicyRule, type User } from './types.js';

export interface ReviewContext {
  authorize: Authorizer;
  /** Every rule that applies to the user in a namespace. */
  rules: (user: User, namespace: string) => Promise<PolicyRule[]>;
}

export function findReviewType(info: ResourceRequestInfo): ResourceType | undefined {
  return reviewTypes.find(
    (t) => t.group === info.group && t.version === info.version && t.resource === info.resource,
  );
}

export async function answerReview(
  type: ResourceType,
  info: ResourceRequestInfo,
  request: ApiRequest,
  user: User,
  ctx: ReviewContext,
): Promise<ApiResponse> {
  if (info.namespace !== undefined || info.name !== undefined)
    throw new ApiError(404, StatusReason.NotFound, 'the server could not find the requested resource');
  if (request.method !== 'POST') throw methodNotAllowed();
  const review = decodeObject(type, decodeDocument(request.body, request.headers['content-type']));
  const spec = isJsonObject(review.spec) ? review.spec : {};
  const answered = { ...review, metadata: { ...review.metadata, creationTimestamp: null } };
  switch (type.kind) {
    case 'SelfSubjectAccessReview':
      return json(201, { ...answered, status: await accessReview(type, spec, user, ctx) });
    case 'SelfSubjectRulesReview':
      return json(201, { ...answered, status: await rulesReview(spec, user, ctx) });
    default:
      return json(201, { ...answered, status: { userInfo: userInfo(user) } });
  }
}

function userInfo(user: User) {
  return {
    username: user.name,
    ...(user.uid ? { uid: user.uid } : {}),
    groups: user.groups,
    ...(user.extra ? { extra: user.extra } : {}),
  };
}

const text = (value: unknown) => (typeof value === 'string' ? value : '');

async function accessReview(
  type: ResourceType,
  spec: Record<string, unknown>,
  user: User,
  ctx: ReviewContext,
) {
  const resource = spec.resourceAttributes;
  const nonResource = spec.nonResourceAttributes;
  const errors: FieldError[] = [];
  if ((resource === undefined) === (nonResource === undefined)) {
    errors.push({
      type: 'FieldValueRequired',
      field: 'spec.resourceAttributes',
      detail: 'exactly one of nonResourceAttributes or resourceAttributes must be specified',
    });
  }
  for (const [field, value] of [
    ['resourceAttributes', resource],
    ['nonResourceAttributes', nonResource],
  ] as const) {
    if (value !== undefined && !isJsonObject(value))
      errors.push({ type: 'FieldValueInvalid', field: `spec.${field}`, value, detail: 'must be an object' });
  }
  if (errors.length > 0) throw invalid(type, '', errors);
  const attributes = isJsonObject(resource)
    ? resourceAttributes(user, text(resource.verb), {
        apiGroup: text(resource.group),
        apiVersion: text(resource.version),
        resource: text(resource.resource),
        subresource: text(resource.subresource),
        namespace: text(resource.namespace),
        name: text(resource.name),
      })
    : nonResourceAttributes(
        user,
        text((nonResource as Record<string, unknown>).verb),
        text((nonResource as Record<string, unknown>).path),
      );
  const answer = await ctx.authorize(attributes);
  return {
    allowed: answer.decision === Decision.Allow,
    ...(answer.decision === Decision.Deny ? { denied: true } : {}),
    ...(answer.reason ? { reason: answer.reason } : {}),
  };
}

async function rulesReview(spec: Record<string, unknown>, user: User, ctx: ReviewContext) {
  const rules = await ctx.rules(user, text(spec.namespace));
  const list = (values: string[] | undefined) => values ?? [];
  return {
    resourceRules: rules
      .filter((r) => !r.nonResourceURLs?.length)
      .map((r) => ({
        verbs: r.verbs,
        apiGroups: list(r.apiGroups),
        resources: list(r.resources),
        ...(r.resourceNames?.length ? { resourceNames: r.resourceNames } : {}),
      })),
    nonResourceRules: rules
      .filter((r) => r.nonResourceURLs?.length)
      .map((r) => ({ verbs: r.verbs, nonResourceURLs: list(r.nonResourceURLs) })),
    incomplete: false,
  };
}
