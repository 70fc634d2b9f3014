import type { ControlPlaneSettings } from '../../registry.js';
import type { Controller } from '../../runtime/controller.js';
import { endpointsController } from './endpoints-controller.js';
import { endpointSliceController } from './slices-controller.js';

/** The Endpoints and EndpointSlice controllers, for the registry. */
export function endpointsControllers(_settings: ControlPlaneSettings): Controller[] {
  return [endpointsController(), endpointSliceController()];
}
