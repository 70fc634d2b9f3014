import type { ControlPlaneSettings } from '../../registry.js';
import type { Controller } from '../../runtime/controller.js';
import { jobController } from './controller.js';

/** The Job controller, for the registry. */
export function jobControllers(_settings: ControlPlaneSettings): Controller[] {
  return [jobController()];
}
