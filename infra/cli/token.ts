/**
 * `npm run token -- <command>`: the cluster's stored bearer tokens, through kubectl as an
 * administrator (`--kubeconfig FILE`, else `$KUBECONFIG` or `~/.kube/config`).
 *
 *   create --user NAME [--group GROUP]... [--ttl 24h] [--description TEXT]
 *       prints the new token (once: only its digest is stored)
 *   list
 *   revoke ID
 *
 * Give the token to its user: `kubectl --token TOKEN …`, or `kubectl config set-credentials NAME --token TOKEN`.
 * Grant it permissions with RBAC, e.g. `kubectl create rolebinding … --clusterrole view --user NAME`.
 */
import { parseArgs } from 'node:util';
import { kubectlWith } from './kubectl.js';
import { createToken, listTokens, parseDuration, revokeToken } from './tokens.js';

const usage =
  'usage: npm run token -- create --user NAME [--group GROUP]... [--ttl 24h] [--description TEXT] | list | revoke ID';

try {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      user: { type: 'string' },
      group: { type: 'string', multiple: true, default: [] },
      ttl: { type: 'string' },
      description: { type: 'string' },
      kubeconfig: { type: 'string' },
    },
  });
  const kubectl = kubectlWith(values.kubeconfig);
  const [command, ...rest] = positionals;
  if (command === 'create' && rest.length === 0 && values.user !== undefined) {
    const created = await createToken(kubectl, {
      username: values.user,
      groups: values.group,
      ...(values.ttl ? { ttlMs: parseDuration(values.ttl) } : {}),
      ...(values.description ? { description: values.description } : {}),
    });
    console.error(
      `token ${created.id} for ${values.user}${created.expiration ? `, expires ${created.expiration}` : ''} (shown once):`,
    );
    console.log(created.token);
  } else if (command === 'list' && rest.length === 0) {
    const tokens = await listTokens(kubectl);
    console.log(['ID', 'USER', 'GROUPS', 'EXPIRES', 'CREATED', 'DESCRIPTION'].join('\t'));
    for (const t of tokens) {
      console.log(
        [
          t.id,
          t.username,
          t.groups.join(',') || '-',
          t.expiration ?? 'never',
          t.created ?? '',
          t.description ?? '',
        ].join('\t'),
      );
    }
  } else if (command === 'revoke' && rest.length === 1) {
    await revokeToken(kubectl, rest[0] as string);
    console.error(`token ${rest[0]} revoked`);
  } else {
    throw new Error(usage);
  }
} catch (error) {
  console.error(`token: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
}
