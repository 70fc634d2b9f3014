import { beforeAll, describe, expect, it } from 'vitest';
import { ensureClusterDefaults } from '../../functions/apiserver/bootstrap.js';
import { eventTtlController } from '../../functions/controllers/events/index.js';
import { controllerContext } from '../../functions/runtime/in-process.js';
import { resourceType } from '../../shared/api/resources.js';
import type { KubernetesObject } from '../../shared/api/types.js';
import type { Store } from '../../shared/store/store.js';
import { freshStore, grantClusterAdmin } from '../support/dynamo.js';

const events = resourceType('events');
const configmaps = resourceType('configmaps');

describe('events', () => {
  let store: Store;
  beforeAll(async () => {
    store = (await freshStore()).store;
    await ensureClusterDefaults(store);
    for (const component of ['test-recorder', 'test-ttl', 'long-ago'])
      await grantClusterAdmin(store, `system:${component}`);
  });

  it('records a repeated event as one Event with a growing count', async () => {
    const ctx = controllerContext(store, 'test-recorder');
    const subject = await ctx.client.create<KubernetesObject>(configmaps, {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'subject', namespace: 'default' },
    });
    ctx.events.record(subject, 'Normal', 'Poked', 'poked once');
    await ctx.events.flush();
    ctx.events.record(subject, 'Normal', 'Poked', 'poked once');
    ctx.events.record(subject, 'Warning', 'Other', 'something else');
    await ctx.events.flush();
    const { items } = await ctx.client.list<KubernetesObject & { count: number; reason: string }>(events, {
      namespace: 'default',
    });
    const about = items.filter((e) => (e.involvedObject as { uid: string }).uid === subject.metadata.uid);
    expect(about.map((e) => [e.reason, e.count]).sort()).toEqual([
      ['Other', 1],
      ['Poked', 2],
    ]);
    expect(about[0]?.source).toEqual({ component: 'test-recorder' });
  });

  it('deletes events an hour after they last happened, and only those', async () => {
    const now = new Date();
    const ctx = controllerContext(store, 'test-ttl', { now: () => now });
    const subject = await ctx.client.create<KubernetesObject>(configmaps, {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'old-news', namespace: 'default' },
    });
    const longAgo = controllerContext(store, 'long-ago', {
      now: () => new Date(now.getTime() - 2 * 3600_000),
    });
    longAgo.events.record(subject, 'Normal', 'Ancient', 'long ago');
    ctx.events.record(subject, 'Normal', 'Recent', 'just now');
    await Promise.all([longAgo.events.flush(), ctx.events.flush()]);
    const controller = eventTtlController();
    const keys = (await controller.resync?.keys(ctx)) ?? [];
    expect(keys).toHaveLength(1);
    for (const key of keys) await controller.reconcile(key, ctx);
    const { items } = await ctx.client.list<KubernetesObject & { reason: string }>(events, {
      namespace: 'default',
    });
    const reasons = items
      .filter((e) => (e.involvedObject as { name: string }).name === 'old-news')
      .map((e) => e.reason);
    expect(reasons).toEqual(['Recent']);
  });
});
