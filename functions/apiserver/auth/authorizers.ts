import { type Authorization, type Authorizer, Decision } from './types.js';

/** Asks each authorizer in turn; the first that allows or denies decides (kube-apiserver's union). */
export function unionAuthorizer(...authorizers: Authorizer[]): Authorizer {
  return async (attributes) => {
    const reasons: string[] = [];
    for (const authorize of authorizers) {
      const answer = await authorize(attributes);
      if (answer.decision !== Decision.NoOpinion) return answer;
      if (answer.reason) reasons.push(answer.reason);
    }
    return { decision: Decision.NoOpinion, reason: reasons.join(', ') };
  };
}

/** Members of the group may do anything (kube-apiserver's `system:masters` shortcut, before RBAC). */
export function privilegedGroupAuthorizer(group: string): Authorizer {
  const allow: Authorization = { decision: Decision.Allow, reason: `member of ${group}` };
  const pass: Authorization = { decision: Decision.NoOpinion, reason: '' };
  return async ({ user }) => (user.groups.includes(group) ? allow : pass);
}
