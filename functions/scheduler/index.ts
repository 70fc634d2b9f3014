import type { Store } from '../../shared/store/store.js';
import type { ControlPlaneSettings } from '../registry.js';
import type { Controller } from '../runtime/controller.js';

/** Not written yet: the controllers of this folder, for the registry. */
export function schedulerControllers(_store: Store, _settings: ControlPlaneSettings): Controller[] {
  return [];
}
