import { ApiError } from '../../../shared/api/errors.js';
import { resourceType } from '../../../shared/api/resources.js';
import type { KubernetesObject } from '../../../shared/api/types.js';
import type { Controller } from '../../runtime/controller.js';
import { keyOf, splitKey } from '../../runtime/controller.js';

/** How long an Event is kept after it last happened: kube-apiserver's default `--event-ttl`. */
export const eventTtlMs = 60 * 60 * 1000;

const events = resourceType('events');

interface CoreEvent extends KubernetesObject {
  lastTimestamp?: string;
  eventTime?: string;
}

/** When an event was last seen: its lastTimestamp, eventTime or creation time. */
export function lastSeen(event: CoreEvent): number {
  return Date.parse(event.lastTimestamp ?? event.eventTime ?? event.metadata.creationTimestamp ?? '');
}

/**
 * Events expire `eventTtlMs` after they last happened, as etcd leases expire them upstream. The store
 * has no per-object TTL (every removal is a revisioned delete), so a periodic sweep deletes them,
 * each only if it is still the version that was found expired.
 */
export function eventTtlController(): Controller {
  return {
    name: 'event-ttl',
    triggers: [],
    resync: {
      intervalMs: 5 * 60 * 1000,
      keys: async (ctx) => {
        const { items } = await ctx.client.list<CoreEvent>(events);
        const now = ctx.now().getTime();
        return items.filter((e) => now - lastSeen(e) > eventTtlMs).map((e) => keyOf(e.metadata));
      },
    },
    async reconcile(key, ctx) {
      const { namespace, name } = splitKey(key);
      const event = await ctx.client.find<CoreEvent>(events, namespace, name);
      if (!event || ctx.now().getTime() - lastSeen(event) <= eventTtlMs) return undefined;
      try {
        await ctx.client.delete(events, namespace, name, {
          preconditions: { resourceVersion: event.metadata.resourceVersion as string },
        });
      } catch (error) {
        // Repeated meanwhile (409: it lives on) or already gone (404).
        if (!(error instanceof ApiError && (error.code === 404 || error.code === 409))) throw error;
      }
      return undefined;
    },
  };
}
