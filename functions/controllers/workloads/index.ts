import type { ControlPlaneSettings } from '../../registry.js';
import type { Controller } from '../../runtime/controller.js';
import { deploymentController } from './deployment.js';
import { replicaSetController } from './replicaset.js';

/** The ReplicaSet and Deployment controllers, for the registry. */
export function workloadControllers(_settings: ControlPlaneSettings): Controller[] {
  return [replicaSetController(), deploymentController()];
}
