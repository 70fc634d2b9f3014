/** apps/v1 deployments and replicasets: upstream's `printDeployment` and `printReplicaSet`. */

import type { KubernetesObject } from '../../../shared/api/types.js';
import {
  ageColumn,
  type Container,
  column,
  containerCells,
  containersDescription,
  imagesDescription,
  int,
  nameColumn,
  type Printer,
} from './common.js';
import { since } from './duration.js';
import { formatLabelSelector, type LabelSelector, selectorString } from './labels.js';

interface Workload extends KubernetesObject {
  spec?: {
    replicas?: number | null;
    selector?: LabelSelector | null;
    template?: { spec?: { containers?: Container[] } };
  };
  status?: {
    replicas?: number;
    updatedReplicas?: number;
    readyReplicas?: number;
    availableReplicas?: number;
  };
}

/** `spec.replicas`, defaulted to 1 when unset as apps/v1 defaulting does. */
function desiredReplicas(workload: Workload): number {
  const replicas = workload.spec?.replicas;
  return replicas === undefined || replicas === null ? 1 : int(replicas);
}

export const deploymentPrinter: Printer = {
  columns: [
    nameColumn,
    column('Ready', 'string', 'Number of the pod with ready state'),
    column(
      'Up-to-date',
      'string',
      'Total number of non-terminated pods targeted by this deployment that have the desired template spec.',
    ),
    column(
      'Available',
      'string',
      'Total number of available pods (ready for at least minReadySeconds) targeted by this deployment.',
    ),
    ageColumn,
    column('Containers', 'string', containersDescription, { priority: 1 }),
    column('Images', 'string', imagesDescription, { priority: 1 }),
    column(
      'Selector',
      'string',
      'Label selector for pods. Existing ReplicaSets whose pods are selected by this will be the ones affected by this deployment.',
      { priority: 1 },
    ),
  ],
  print(object, { now }) {
    const deployment = object as Workload;
    const status = deployment.status ?? {};
    const [containers, images] = containerCells(deployment.spec?.template?.spec?.containers);
    return {
      cells: [
        deployment.metadata.name,
        `${int(status.readyReplicas)}/${desiredReplicas(deployment)}`,
        int(status.updatedReplicas),
        int(status.availableReplicas),
        since(deployment.metadata.creationTimestamp, now),
        containers,
        images,
        // Upstream prints the selector's String() here: '' when empty, not '<none>'.
        selectorString(deployment.spec?.selector) ?? '<invalid>',
      ],
    };
  },
};

export const replicaSetPrinter: Printer = {
  columns: [
    nameColumn,
    column(
      'Desired',
      'integer',
      'Replicas is the number of desired replicas. This is a pointer to distinguish between explicit zero and unspecified. Defaults to 1. More info: https://kubernetes.io/docs/concepts/workloads/controllers/replicationcontroller/#what-is-a-replicationcontroller',
    ),
    column(
      'Current',
      'integer',
      'Replicas is the most recently observed number of replicas. More info: https://kubernetes.io/docs/concepts/workloads/controllers/replicationcontroller/#what-is-a-replicationcontroller',
    ),
    column(
      'Ready',
      'integer',
      'readyReplicas is the number of pods targeted by this ReplicaSet with a Ready Condition.',
    ),
    ageColumn,
    column('Containers', 'string', containersDescription, { priority: 1 }),
    column('Images', 'string', imagesDescription, { priority: 1 }),
    column(
      'Selector',
      'string',
      'Selector is a label query over pods that should match the replica count. If the selector is empty, it is defaulted to the labels present on the pod template. Label keys and values that must match in order to be controlled by this replica set. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/labels/#label-selectors',
      { priority: 1 },
    ),
  ],
  print(object, { now }) {
    const rs = object as Workload;
    const status = rs.status ?? {};
    const [containers, images] = containerCells(rs.spec?.template?.spec?.containers);
    return {
      cells: [
        rs.metadata.name,
        desiredReplicas(rs),
        int(status.replicas),
        int(status.readyReplicas),
        since(rs.metadata.creationTimestamp, now),
        containers,
        images,
        formatLabelSelector(rs.spec?.selector),
      ],
    };
  },
};
