/**
 * rbac.authorization.k8s.io/v1 bindings: upstream's `printRoleBinding` and `printClusterRoleBinding`.
 * Roles and cluster roles have no printer upstream; they use the default table (NAME, CREATED AT).
 */

import type { KubernetesObject } from '../../../shared/api/types.js';
import { ageColumn, arr, column, nameColumn, type Printer, str } from './common.js';
import { since } from './duration.js';

interface Subject {
  kind?: string;
  name?: string;
  namespace?: string;
}

interface Binding extends KubernetesObject {
  roleRef?: { kind?: string; name?: string };
  subjects?: Subject[];
}

function bindingPrinter(kind: 'roleBinding' | 'clusterRoleBinding', roleRefDescription: string): Printer {
  return {
    columns: [
      nameColumn,
      column('Role', 'string', roleRefDescription),
      ageColumn,
      column('Users', 'string', `Users in the ${kind}`, { priority: 1 }),
      column('Groups', 'string', `Groups in the ${kind}`, { priority: 1 }),
      column('ServiceAccounts', 'string', `ServiceAccounts in the ${kind}`, { priority: 1 }),
    ],
    print(object, { now }) {
      const binding = object as Binding;
      const roleRef = `${str(binding.roleRef?.kind)}/${str(binding.roleRef?.name)}`;
      const { users, groups, serviceAccounts } = subjectsStrings(arr(binding.subjects));
      return {
        cells: [
          binding.metadata.name,
          roleRef,
          since(binding.metadata.creationTimestamp, now),
          users.join(', '),
          groups.join(', '),
          serviceAccounts.join(', '),
        ],
      };
    },
  };
}

/** `rbac.SubjectsStrings`: user and group names, and service accounts as `namespace/name`. */
function subjectsStrings(subjects: Subject[]) {
  const users: string[] = [];
  const groups: string[] = [];
  const serviceAccounts: string[] = [];
  for (const subject of subjects) {
    switch (subject.kind) {
      case 'ServiceAccount':
        serviceAccounts.push(`${str(subject.namespace)}/${str(subject.name)}`);
        break;
      case 'User':
        users.push(str(subject.name));
        break;
      case 'Group':
        groups.push(str(subject.name));
        break;
    }
  }
  return { users, groups, serviceAccounts };
}

export const roleBindingPrinter = bindingPrinter(
  'roleBinding',
  'RoleRef can reference a Role in the current namespace or a ClusterRole in the global namespace. If the RoleRef cannot be resolved, the Authorizer must return an error.',
);

export const clusterRoleBindingPrinter = bindingPrinter(
  'clusterRoleBinding',
  'RoleRef can only reference a ClusterRole in the global namespace. If the RoleRef cannot be resolved, the Authorizer must return an error.',
);
