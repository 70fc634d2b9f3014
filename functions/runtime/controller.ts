import type { ResourceType } from '../../shared/api/resources.js';
import type { ApiClient } from '../../shared/client/client.js';
import type { EventRecorder } from '../../shared/client/events.js';
import type { ObjectChange } from '../../shared/store/changes.js';

/**
 * A level-based reconciler, as design.md §4 describes: changes only say which keys to look at;
 * `reconcile` reads the current state and moves it one step towards what is declared, through the
 * apiserver's code path with conditional writes. It must be idempotent and safe to run concurrently
 * with itself: there is no leader election.
 */
export interface Controller {
  /** Unique; names the controller in retry messages, logs and events. */
  name: string;
  /** Which object changes wake it, and the keys each change asks it to reconcile. */
  triggers: Trigger[];
  reconcile(key: string, ctx: ControllerContext): Promise<ReconcileResult | undefined>;
  /** Periodic work (the local timer or the EventBridge schedule): these keys are reconciled each time. */
  resync?: { intervalMs: number; keys(ctx: ControllerContext): Promise<string[]> };
}

/** One stream-driven Lambda function as the stack deploys it: its identity and its controllers. */
export interface ControlFunction {
  /** Names the function and its queues (`<name>-retry`, `<name>-dlq`). */
  name: string;
  /** It acts as `system:<component>`. */
  component: string;
  controllers: readonly Controller[];
}

export interface Trigger {
  /** A qualified resource (`pods`, `deployments.apps`): the store key's resource. */
  resource: string;
  keys(change: ObjectChange): Iterable<string>;
}

export interface ReconcileResult {
  /** Look again after this long, though nothing changed (e.g. minReadySeconds, a lease deadline). */
  requeueAfterMs?: number;
}

export interface ControllerContext {
  client: ApiClient;
  events: EventRecorder;
  now(): Date;
}

/** `namespace/name`, or `name` for a cluster-scoped object: the usual reconcile key. */
export function keyOf(metadata: { namespace?: string | undefined; name: string }): string {
  return metadata.namespace ? `${metadata.namespace}/${metadata.name}` : metadata.name;
}

/** The inverse of `keyOf`. */
export function splitKey(key: string): { namespace?: string; name: string } {
  const slash = key.indexOf('/');
  return slash < 0 ? { name: key } : { namespace: key.slice(0, slash), name: key.slice(slash + 1) };
}

/** Periodic keys: every object of a type (a resync as an informer's). */
export function everyObject(type: ResourceType): (ctx: ControllerContext) => Promise<string[]> {
  return async (ctx) => (await ctx.client.list(type)).items.map((object) => keyOf(object.metadata));
}

/** A trigger that reconciles the changed object itself. */
export function ownKey(resource: string): Trigger {
  return { resource, keys: (change) => [keyOf(change.key)] };
}

/** The resources whose changes wake a function: its controllers' triggers (its stream filter). */
export function triggerResources(controllers: readonly Controller[]): string[] {
  return [...new Set(controllers.flatMap((c) => c.triggers.map((t) => t.resource)))].sort();
}

/**
 * The whole minutes between a controller's scheduled resyncs as the stack schedules them: EventBridge
 * rates are whole minutes, so a shorter interval runs once a minute.
 */
export function scheduleMinutes(intervalMs: number): number {
  return Math.max(1, Math.ceil(intervalMs / 60_000));
}
