/** coordination.k8s.io/v1 leases: upstream's `printLease` (NAME HOLDER AGE). */

import type { KubernetesObject } from '../../../shared/api/types.js';
import { ageColumn, column, nameColumn, type Printer, str } from './common.js';
import { since } from './duration.js';

interface Lease extends KubernetesObject {
  spec?: { holderIdentity?: string | null };
}

export const leasePrinter: Printer = {
  columns: [
    nameColumn,
    column(
      'Holder',
      'string',
      'holderIdentity contains the identity of the holder of a current lease. If Coordinated Leader Election is used, the holder identity must be equal to the elected LeaseCandidate.metadata.name field.',
    ),
    ageColumn,
  ],
  print(object, { now }) {
    const lease = object as Lease;
    return {
      cells: [
        lease.metadata.name,
        str(lease.spec?.holderIdentity),
        since(lease.metadata.creationTimestamp, now),
      ],
    };
  },
};
