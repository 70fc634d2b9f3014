import type { ControlPlaneSettings } from '../../registry.js';
import type { Controller } from '../../runtime/controller.js';

/** Not written yet: the controllers of this folder, for the registry. */
export function workloadControllers(_settings: ControlPlaneSettings): Controller[] {
  return [];
}
