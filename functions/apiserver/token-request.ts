/**
 * `serviceaccounts/<name>/token` (TokenRequest, `kubectl create token`): a signed, expiring token for a
 * ServiceAccount, optionally bound to a Pod or Secret of its namespace so it dies with that object.
 * A node may ask only for the service account of a pod bound to it, bound to that pod (kube-apiserver's
 * NodeRestriction).
 */
import { ApiError, badRequest, StatusReason } from '../../shared/api/errors.js';
import { type ResourceType, subresourceKinds } from '../../shared/api/resources.js';
import { isJsonObject, type KubernetesObject } from '../../shared/api/types.js';
import { nodeOf } from './auth/node-authorizer.js';
import {
  issueToken,
  type ServiceAccountKeys,
  type TokenBinding,
  validateExpirationSeconds,
} from './auth/service-account-tokens.js';
import { decodeDocument, decodeObject } from './decode.js';
import { type ApiResponse, json } from './http.js';
import type { ResourceRequest, RestContext } from './rest.js';
import { type FieldError, invalid } from './validation.js';

/** The issuer (and default audience) of service account tokens, as kube-apiserver's usual setting. */
export const serviceAccountIssuer = 'https://kubernetes.default.svc.cluster.local';

export interface ServiceAccountSigning {
  keys: ServiceAccountKeys;
  issuer: string;
}

const tokenRequestType: ResourceType = {
  ...subresourceKinds.token,
  resource: 'tokenrequests',
  singular: 'tokenrequest',
  namespaced: true,
};

export async function requestToken(
  req: ResourceRequest,
  ctx: RestContext,
  signing: ServiceAccountSigning | undefined,
): Promise<ApiResponse> {
  const { info, request, user } = req;
  const namespace = info.namespace as string;
  const name = info.name as string;
  if (!signing)
    throw new ApiError(503, StatusReason.ServiceUnavailable, 'this server signs no service account tokens');
  const input = decodeObject(tokenRequestType, decodeDocument(request.body, request.headers['content-type']));
  const spec = isJsonObject(input.spec) ? input.spec : {};
  const errors: FieldError[] = [];
  const audiences = spec.audiences ?? [];
  if (!Array.isArray(audiences) || audiences.some((a) => typeof a !== 'string' || a === ''))
    errors.push({
      type: 'FieldValueInvalid',
      field: 'spec.audiences',
      value: audiences,
      detail: 'must be a list of names',
    });
  const seconds = spec.expirationSeconds ?? 3600;
  const problem = typeof seconds === 'number' ? validateExpirationSeconds(seconds) : 'must be a number';
  if (problem)
    errors.push({
      type: 'FieldValueInvalid',
      field: 'spec.expirationSeconds',
      value: seconds,
      detail: problem,
    });
  if (errors.length > 0) throw invalid(tokenRequestType, name, errors);

  const serviceAccount = await ctx.store.get({ resource: 'serviceaccounts', namespace, name });
  const binding: TokenBinding = {
    serviceAccount: { namespace, name, uid: serviceAccount.metadata.uid as string },
  };
  const ref = spec.boundObjectRef;
  const node = user && nodeOf(user);
  if (ref !== undefined && ref !== null) {
    const bound = await boundObject(ctx, namespace, ref);
    if (bound.kind === 'Pod') {
      binding.pod = bound.ref;
      const nodeName = (bound.object.spec as { nodeName?: string } | undefined)?.nodeName;
      if (node !== undefined && nodeName !== node) throw nodeForbidden(node, name);
      if (nodeName) {
        const nodeObject = await ctx.store.get({ resource: 'nodes', name: nodeName }).catch(() => undefined);
        if (nodeObject) binding.node = { name: nodeName, uid: nodeObject.metadata.uid as string };
      }
    } else {
      if (node !== undefined) throw nodeForbidden(node, name);
      binding.secret = bound.ref;
    }
  } else if (node !== undefined) {
    throw nodeForbidden(node, name);
  }
  // No audience asked for: the API's own, as kube-apiserver's --api-audiences.
  const granted = (audiences as string[]).length > 0 ? (audiences as string[]) : [signing.issuer];
  const issued = await issueToken(signing.keys, {
    binding,
    audiences: granted,
    expirationSeconds: seconds as number,
    issuer: signing.issuer,
    now: ctx.now(),
  });
  return json(201, {
    ...input,
    metadata: { ...input.metadata, name, namespace, creationTimestamp: null },
    spec: {
      ...spec,
      audiences: granted,
      expirationSeconds: seconds,
    },
    status: issued,
  });
}

async function boundObject(
  ctx: RestContext,
  namespace: string,
  ref: unknown,
): Promise<{ kind: 'Pod' | 'Secret'; ref: { name: string; uid: string }; object: KubernetesObject }> {
  if (!isJsonObject(ref) || (ref.kind !== 'Pod' && ref.kind !== 'Secret') || typeof ref.name !== 'string')
    throw badRequest("spec.boundObjectRef must name a Pod or a Secret of the service account's namespace");
  const resource = ref.kind === 'Pod' ? 'pods' : 'secrets';
  const object = await ctx.store.get({ resource, namespace, name: ref.name });
  const uid = object.metadata.uid as string;
  if (ref.uid !== undefined && ref.uid !== '' && ref.uid !== uid) {
    throw new ApiError(
      409,
      StatusReason.Conflict,
      `the UID in the bound object reference (${String(ref.uid)}) does not match the UID in record. The object might have been deleted and then recreated`,
    );
  }
  return { kind: ref.kind, ref: { name: ref.name, uid }, object };
}

function nodeForbidden(node: string, name: string): ApiError {
  return new ApiError(
    403,
    StatusReason.Forbidden,
    `serviceaccounts "${name}" is forbidden: node "${node}" may only request tokens bound to pods scheduled on it`,
    { name, kind: 'serviceaccounts' },
  );
}
