/**
 * The EndpointSlice controller: keeps the EndpointSlices of every Service with a selector. Slices
 * it manages carry `endpointslice.kubernetes.io/managed-by`; the computed set is applied by name
 * (create, compare-and-swap update where different, delete the rest), so concurrent reconciles
 * converge instead of duplicating.
 */
import { ApiError, StatusReason } from '../../../shared/api/errors.js';
import { resourceType } from '../../../shared/api/resources.js';
import { same } from '../../../shared/api/same.js';
import type { ApiClient } from '../../../shared/client/client.js';
import type { ObjectChange } from '../../../shared/store/changes.js';
import type { Controller } from '../../runtime/controller.js';
import { namespaceKey, readScope, type Scope, serviceAndPodTriggers } from './scope.js';
import { desiredSlices, endpointSliceControllerName, managedByLabel, serviceNameLabel } from './slices.js';
import type { EndpointSlice } from './types.js';

const endpointSlices = resourceType('endpointslices.discovery.k8s.io');
const managed = `${managedByLabel}=${endpointSliceControllerName}`;

export function endpointSliceController(): Controller {
  return {
    name: 'endpointslice',
    triggers: [
      ...serviceAndPodTriggers,
      { resource: 'endpointslices.discovery.k8s.io', keys: deletedSliceKeys },
    ],
    async reconcile(key, ctx) {
      const scope = await readScope(ctx.client, key);
      const stored = await storedSlices(ctx.client, scope);
      if (scope.gone) {
        // Garbage collection removes them too (they are owned by the Service); this is sooner.
        for (const slice of stored.get(scope.gone) ?? []) await deleteSlice(ctx.client, slice);
        return undefined;
      }
      for (const service of scope.services) {
        await apply(ctx.client, desiredSlices(service, scope.pods), stored.get(service.metadata.name) ?? []);
      }
      return undefined;
    },
  };
}

/** A managed slice deleted by someone else: its service is looked at again. */
function deletedSliceKeys(change: ObjectChange): string[] {
  if (change.exists || !change.key.namespace) return [];
  // Without the slice's last state, which service it served is unknown: look at them all.
  if (!change.before) return [namespaceKey(change.key.namespace)];
  const labels = change.before.metadata.labels;
  const service = labels?.[serviceNameLabel];
  if (!service || labels?.[managedByLabel] !== endpointSliceControllerName) return [];
  return [`${change.key.namespace}/${service}`];
}

/** The managed slices of the scope's services, by service name. */
async function storedSlices(client: ApiClient, scope: Scope): Promise<Map<string, EndpointSlice[]>> {
  const single = scope.gone ?? (scope.services.length === 1 ? scope.services[0]?.metadata.name : undefined);
  if (!single && scope.services.length === 0) return new Map();
  const labelSelector = single ? `${serviceNameLabel}=${single},${managed}` : managed;
  const { items } = await client.list<EndpointSlice>(endpointSlices, {
    namespace: scope.namespace,
    labelSelector,
  });
  const byService = new Map<string, EndpointSlice[]>();
  for (const slice of items) {
    const service = slice.metadata.labels?.[serviceNameLabel] as string;
    byService.set(service, [...(byService.get(service) ?? []), slice]);
  }
  return byService;
}

function isCurrent(stored: EndpointSlice, desired: EndpointSlice): boolean {
  return (
    same(stored.metadata.labels, desired.metadata.labels) &&
    same(stored.metadata.ownerReferences, desired.metadata.ownerReferences) &&
    stored.addressType === desired.addressType &&
    same(stored.endpoints ?? [], desired.endpoints) &&
    same(stored.ports ?? [], desired.ports)
  );
}

async function apply(client: ApiClient, desired: EndpointSlice[], stored: EndpointSlice[]): Promise<void> {
  const byName = new Map(stored.map((slice) => [slice.metadata.name, slice]));
  // Create and update first, delete last: the service never has fewer endpoints than either state.
  for (const slice of desired) {
    const current = byName.get(slice.metadata.name);
    if (!current) await createSlice(client, slice);
    else if (!isCurrent(current, slice))
      await client.update(endpointSlices, {
        ...current,
        metadata: {
          ...current.metadata,
          labels: slice.metadata.labels,
          ownerReferences: slice.metadata.ownerReferences,
        },
        addressType: slice.addressType,
        endpoints: slice.endpoints,
        ports: slice.ports,
      });
  }
  const wanted = new Set(desired.map((slice) => slice.metadata.name));
  for (const slice of stored) if (!wanted.has(slice.metadata.name)) await deleteSlice(client, slice);
}

async function createSlice(client: ApiClient, slice: EndpointSlice): Promise<void> {
  try {
    await client.create(endpointSlices, slice);
  } catch (error) {
    // The namespace is being deleted: nothing may be created in it, and nothing needs to be.
    if (error instanceof ApiError && error.reason === StatusReason.Forbidden) return;
    throw error;
  }
}

async function deleteSlice(client: ApiClient, slice: EndpointSlice): Promise<void> {
  try {
    await client.delete(endpointSlices, slice.metadata.namespace, slice.metadata.name, {
      preconditions: { uid: slice.metadata.uid as string },
    });
  } catch (error) {
    if (!(error instanceof ApiError && (error.code === 404 || error.code === 409))) throw error;
  }
}
