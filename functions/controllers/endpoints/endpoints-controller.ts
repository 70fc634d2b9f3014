/**
 * The endpoints controller: keeps one core/v1 Endpoints per Service with a selector, named as the
 * Service, listing its pods' addresses. Writes only when the computed object differs from the
 * stored one, always as a compare-and-swap on the version read (a conflict is thrown and retried).
 */
import type { Service } from '../../../shared/api/core.js';
import { ApiError, StatusReason } from '../../../shared/api/errors.js';
import { resourceType } from '../../../shared/api/resources.js';
import { same } from '../../../shared/api/same.js';
import type { ApiClient } from '../../../shared/client/client.js';
import { type Controller, keyOf } from '../../runtime/controller.js';
import { type DesiredEndpoints, desiredEndpoints, overCapacityAnnotation } from './endpoints.js';
import { readScope, type Scope, serviceAndPodTriggers } from './scope.js';
import type { Endpoints } from './types.js';

const endpoints = resourceType('endpoints');

export function endpointsController(): Controller {
  return {
    name: 'endpoints',
    triggers: [
      ...serviceAndPodTriggers,
      // Someone deleted a Service's Endpoints: put them back (or confirm they should be gone).
      { resource: 'endpoints', keys: (change) => (change.exists ? [] : [keyOf(change.key)]) },
    ],
    async reconcile(key, ctx) {
      const scope = await readScope(ctx.client, key);
      if (scope.gone) {
        await deleteIfPresent(ctx.client, scope.namespace, scope.gone);
        return undefined;
      }
      for (const [service, current] of await currentEndpoints(ctx.client, scope)) {
        await apply(ctx.client, service, current, desiredEndpoints(service, scope.pods));
      }
      return undefined;
    },
  };
}

/** Each service with its stored Endpoints (one read for one service, one list for a namespace). */
async function currentEndpoints(
  client: ApiClient,
  scope: Scope,
): Promise<[Service, Endpoints | undefined][]> {
  if (scope.services.length === 1) {
    const service = scope.services[0] as Service;
    return [[service, await client.find<Endpoints>(endpoints, scope.namespace, service.metadata.name)]];
  }
  if (scope.services.length === 0) return [];
  const stored = new Map(
    (await client.list<Endpoints>(endpoints, { namespace: scope.namespace })).items.map((e) => [
      e.metadata.name,
      e,
    ]),
  );
  return scope.services.map((service) => [service, stored.get(service.metadata.name)]);
}

function isCurrent(current: Endpoints, desired: DesiredEndpoints): boolean {
  return (
    same(current.subsets ?? [], desired.subsets) &&
    same(current.metadata.labels ?? {}, desired.labels) &&
    current.metadata.annotations?.[overCapacityAnnotation] === desired.annotations[overCapacityAnnotation]
  );
}

async function apply(
  client: ApiClient,
  service: Service,
  current: Endpoints | undefined,
  desired: DesiredEndpoints,
): Promise<void> {
  if (current && isCurrent(current, desired)) return;
  const annotations = { ...current?.metadata.annotations, ...desired.annotations };
  if (!desired.annotations[overCapacityAnnotation]) delete annotations[overCapacityAnnotation];
  const object: Endpoints = {
    ...current,
    apiVersion: 'v1',
    kind: 'Endpoints',
    metadata: {
      ...current?.metadata,
      name: service.metadata.name,
      namespace: service.metadata.namespace as string,
      labels: desired.labels,
      annotations,
    },
    subsets: desired.subsets,
  };
  if (current) {
    await client.update(endpoints, object);
    return;
  }
  try {
    await client.create(endpoints, object);
  } catch (error) {
    // The namespace is being deleted: nothing may be created in it, and nothing needs to be.
    if (error instanceof ApiError && error.reason === StatusReason.Forbidden) return;
    throw error;
  }
}

async function deleteIfPresent(client: ApiClient, namespace: string, name: string): Promise<void> {
  try {
    await client.delete(endpoints, namespace, name);
  } catch (error) {
    if (!(error instanceof ApiError && error.code === 404)) throw error;
  }
}
