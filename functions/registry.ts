import type { Store } from '../shared/store/store.js';
import type { Ec2Cloud } from './cloud/ec2.js';
import { type CloudControllerConfig, cloudController } from './cloud/index.js';
import { compactionController } from './controllers/compaction/index.js';
import { endpointsControllers } from './controllers/endpoints/index.js';
import { eventTtlController } from './controllers/events/index.js';
import { jobControllers } from './controllers/job/index.js';
import { lifecycleControllers } from './controllers/lifecycle/index.js';
import { serviceAccountsController } from './controllers/serviceaccounts/index.js';
import { workloadControllers } from './controllers/workloads/index.js';
import { notifierControllers } from './notifier/index.js';
import type { NodeQueues } from './notifier/queues.js';
import type { ControlFunction } from './runtime/controller.js';
import { schedulerControllers } from './scheduler/index.js';

/** Settings a cluster may change (tests shorten the node lifecycle's timeouts). */
export interface ControlPlaneSettings {
  /** How long a node's Lease may go unrenewed before the node is NotReady/Unknown. Default 40 s. */
  nodeMonitorGracePeriodMs?: number;
  /** How long pods tolerate an unreachable or not-ready node unless they say otherwise. Default 300 s. */
  defaultEvictionSeconds?: number;
  /** The PEM certificates that verify the API server, published to every namespace for its pods. */
  rootCa?: string;
}

/** The EC2 cloud controller's settings and AWS I/O. */
export interface CloudProvider {
  config: CloudControllerConfig;
  ec2: Ec2Cloud;
}

/**
 * The stream-driven functions of the control plane, each with its controllers: the one list the
 * local cluster hosts and the stack deploys. The notifier is there when there are node queues to feed,
 * the cloud controller when there is a cloud (EC2 workers).
 */
export function controlFunctions(
  store: Store,
  settings: ControlPlaneSettings = {},
  nodeQueues?: NodeQueues,
  cloud?: CloudProvider,
): ControlFunction[] {
  return [
    { name: 'scheduler', component: 'kube-scheduler', controllers: schedulerControllers(store, settings) },
    {
      name: 'controllers',
      component: 'kube-controller-manager',
      controllers: [
        ...workloadControllers(settings),
        ...endpointsControllers(settings),
        ...jobControllers(settings),
        ...lifecycleControllers(settings),
        eventTtlController(),
        serviceAccountsController({
          ...(settings.rootCa ? { rootCa: settings.rootCa } : {}),
          resyncIntervalMs: 10 * 60 * 1000,
        }),
        compactionController(store),
      ],
    },
    ...(nodeQueues
      ? [
          {
            name: 'notifier',
            component: 'lambernetes-notifier',
            controllers: notifierControllers(nodeQueues),
          },
        ]
      : []),
    ...(cloud
      ? [
          {
            name: 'cloud',
            component: 'cloud-controller-manager',
            controllers: [cloudController(cloud.config, cloud.ec2)],
          },
        ]
      : []),
  ];
}
