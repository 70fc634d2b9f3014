import type { ControlPlaneSettings } from '../../registry.js';
import type { Controller } from '../../runtime/controller.js';
import { garbageCollector } from './garbage-collector.js';
import { namespaceController } from './namespace.js';
import { nodeLifecycleController } from './node-lifecycle.js';
import { podGarbageCollector } from './pod-gc.js';
import { taintEvictionController } from './taint-eviction.js';

/**
 * Node lifecycle (heartbeats → conditions → taints), taint-based eviction, pod and object garbage
 * collection, and namespace deletion: the controllers of this folder, for the registry.
 */
export function lifecycleControllers(settings: ControlPlaneSettings): Controller[] {
  const gracePeriodMs = settings.nodeMonitorGracePeriodMs ?? 40_000;
  return [
    // Upstream looks at every node every 5 s; here each Lease renewal schedules a look at its expiry,
    // and this sweep is the backstop (the only way when stream records carry no object images).
    nodeLifecycleController({ gracePeriodMs, resyncIntervalMs: Math.min(5000, gracePeriodMs / 2) }),
    taintEvictionController({ defaultEvictionSeconds: settings.defaultEvictionSeconds ?? 300 }),
    // Upstream's gcCheckPeriod.
    podGarbageCollector({ resyncIntervalMs: 20_000 }),
    garbageCollector(),
    namespaceController({ resyncIntervalMs: 30_000 }),
  ];
}
