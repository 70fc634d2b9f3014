/**
 * The cloud controller for EC2: one reconcile pass reads the nodes and pods through the API and the
 * group, instances and route tables from AWS, asks the pure modules what to do, and does it. Every
 * step is idempotent and safe beside a concurrent pass: desired capacity is set to an absolute value,
 * routes that already exist or are already gone count as done, the node to remove is chosen the same
 * way by every pass (and marked, so the next pass continues with it), and an instance is terminated
 * only while the group still lists it InService.
 *
 * It is one key (`cluster`) looked at on a schedule and when nodes change or a pod turns out
 * Unschedulable; it is not registered with the other controllers (the stack wires it).
 */
import type { Node, Pod } from '../../shared/api/core.js';
import { ApiError } from '../../shared/api/errors.js';
import { resourceType } from '../../shared/api/resources.js';
import { timestamp } from '../../shared/api/time.js';
import { unlessGone } from '../controllers/lifecycle/pods.js';
import type { Controller, ControllerContext, ReconcileResult } from '../runtime/controller.js';
import type { Ec2Cloud, RouteTableScope } from './ec2.js';
import { nodeInstanceIds, nodesOfGoneInstances } from './instances.js';
import { instanceIdOf } from './provider-id.js';
import { planRoutes } from './routes.js';
import {
  emptySinceAnnotation,
  emptySinceChanges,
  groupNodes,
  isUnschedulable,
  type NodeTemplate,
  occupies,
  podsToEvict,
  scaleDownAnnotation,
  scaleDownCandidate,
  scaleUp,
} from './scaling.js';
import { nodeTemplate } from './template.js';

const nodes = resourceType('nodes');
const pods = resourceType('pods');

/** The one reconcile key: the pass looks at the whole cluster. */
export const cloudKey = 'cluster';

export interface CloudControllerConfig {
  /** The workers' Auto Scaling group. */
  groupName: string;
  /** The pod network; routes inside it belong to this controller. */
  clusterCidr: string;
  routeTables: RouteTableScope;
  /**
   * What a new worker offers until a worker of the group has registered: this template, or else the
   * group's instance type as EC2 describes it (`nodeTemplate`).
   */
  template?: NodeTemplate;
  instanceType?: string;
  /** How long a node stays empty before it is removed. */
  scaleDownAfterMs: number;
}

/** What one pass did, for logs and tests. */
export interface CloudPassReport {
  desiredCapacity?: number;
  emptySince: { node: string; emptySince: string | null }[];
  cordoned?: string;
  evicted: string[];
  terminated?: string;
  routes: { created: number; replaced: number; deleted: number; sourceDestCheckOff: string[] };
  deletedNodes: string[];
}

export function cloudController(
  config: CloudControllerConfig,
  cloud: Ec2Cloud,
  resyncIntervalMs = 60_000,
): Controller {
  return {
    name: 'cloud-controller',
    triggers: [
      { resource: 'nodes', keys: () => [cloudKey] },
      {
        resource: 'pods',
        keys: (change) => (change.exists && isUnschedulable(change.after as Pod) ? [cloudKey] : []),
      },
    ],
    reconcile: async (_key, ctx): Promise<ReconcileResult | undefined> => {
      await reconcileCloud(ctx, cloud, config);
      return undefined;
    },
    resync: { intervalMs: resyncIntervalMs, keys: async () => [cloudKey] },
  };
}

export async function reconcileCloud(
  ctx: ControllerContext,
  cloud: Ec2Cloud,
  config: CloudControllerConfig,
): Promise<CloudPassReport> {
  const now = ctx.now();
  const allNodes = (await ctx.client.list<Node>(nodes)).items;
  const allPods = (await ctx.client.list<Pod>(pods)).items;
  const report: CloudPassReport = {
    emptySince: [],
    evicted: [],
    routes: { created: 0, replaced: 0, deleted: 0, sourceDestCheckOff: [] },
    deletedNodes: [],
  };

  // Nodes whose instance is gone: deleted first, so the routes and the sizing below ignore them.
  const instances = await cloud.describeInstances(nodeInstanceIds(allNodes));
  const gone = nodesOfGoneInstances(allNodes, instances);
  for (const node of gone) {
    if (await unlessGone(ctx.client.delete(nodes, undefined, node.metadata.name))) {
      report.deletedNodes.push(node.metadata.name);
      ctx.events.record(
        node,
        'Normal',
        'DeletingNode',
        `Deleting node ${node.metadata.name} because its instance is gone`,
      );
    }
  }
  const goneNames = new Set(gone.map((n) => n.metadata.name));
  const liveNodes = allNodes.filter((n) => !goneNames.has(n.metadata.name));

  await reconcileRoutes(cloud, config, liveNodes, instances, report);
  await reconcileSize(ctx, cloud, config, liveNodes, allPods, now, report);
  return report;
}

async function reconcileRoutes(
  cloud: Ec2Cloud,
  config: CloudControllerConfig,
  liveNodes: Node[],
  instances: { instanceId: string; sourceDestCheck?: boolean }[],
  report: CloudPassReport,
): Promise<void> {
  const plan = planRoutes({
    nodes: liveNodes,
    routeTables: await cloud.describeRouteTables(config.routeTables),
    clusterCidr: config.clusterCidr,
    sourceDestCheck: new Map(
      instances.flatMap((i) => (i.sourceDestCheck === undefined ? [] : [[i.instanceId, i.sourceDestCheck]])),
    ),
  });
  for (const id of plan.disableSourceDestCheck) await cloud.disableSourceDestCheck(id);
  for (const route of plan.create) await cloud.createRoute(route);
  for (const route of plan.replace) await cloud.replaceRoute(route);
  for (const route of plan.delete) await cloud.deleteRoute(route.routeTableId, route.cidr);
  report.routes = {
    created: plan.create.length,
    replaced: plan.replace.length,
    deleted: plan.delete.length,
    sourceDestCheckOff: plan.disableSourceDestCheck,
  };
}

async function reconcileSize(
  ctx: ControllerContext,
  cloud: Ec2Cloud,
  config: CloudControllerConfig,
  liveNodes: Node[],
  allPods: Pod[],
  now: Date,
  report: CloudPassReport,
): Promise<void> {
  const group = await cloud.describeGroup(config.groupName);
  const members = groupNodes(liveNodes, group);
  const pending = allPods.filter(isUnschedulable);

  const template = await templateFor(cloud, config, members);
  const up = template
    ? scaleUp({ pending, group, members, pods: allPods, template, now })
    : { desired: group.desired, unfittable: [] as Pod[] };
  if (up.desired !== group.desired) {
    await cloud.setDesiredCapacity(config.groupName, up.desired);
    report.desiredCapacity = up.desired;
    ctx.events.record(
      pending[0] as Pod,
      'Normal',
      'TriggeredScaleUp',
      `pod triggered scale-up: ${config.groupName} ${group.desired}->${up.desired} (max: ${group.max})`,
    );
  }

  report.emptySince = emptySinceChanges(members, allPods, timestamp(now));
  for (const change of report.emptySince) {
    await unlessGone(
      ctx.client.patch(nodes, undefined, change.node, {
        metadata: { annotations: { [emptySinceAnnotation]: change.emptySince } },
      }),
    );
  }
  const stamped = members.map((node) => {
    const change = report.emptySince.find((c) => c.node === node.metadata.name);
    if (!change) return node;
    const annotations = { ...node.metadata.annotations };
    if (change.emptySince === null) delete annotations[emptySinceAnnotation];
    else annotations[emptySinceAnnotation] = change.emptySince;
    return { ...node, metadata: { ...node.metadata, annotations } };
  });

  const candidate = scaleDownCandidate({
    nodes: stamped,
    pods: allPods,
    group,
    // Pods no new node could take never will: they do not hold up scale-down.
    pendingPods: pending.length - up.unfittable.length,
    scaleDownAfterMs: config.scaleDownAfterMs,
    now,
  });
  if (candidate) await removeNode(ctx, cloud, candidate, now, report);
}

/**
 * A registered worker tells what the instance type really offers; until there is one, the configured
 * template or the instance type's description. Undefined: nothing to size new nodes by (no scale-up).
 */
async function templateFor(
  cloud: Ec2Cloud,
  config: CloudControllerConfig,
  members: readonly Node[],
): Promise<NodeTemplate | undefined> {
  const sample = members.find((n) => n.status?.allocatable);
  if (sample?.status?.allocatable)
    return {
      allocatable: sample.status.allocatable,
      labels: { ...config.template?.labels, ...sample.metadata.labels },
    };
  if (config.template) return config.template;
  const type = config.instanceType ? await cloud.describeInstanceType(config.instanceType) : undefined;
  return type ? nodeTemplate(type) : undefined;
}

/** Cordon, evict through the Eviction API, and once nothing occupies the node, terminate its instance. */
async function removeNode(
  ctx: ControllerContext,
  cloud: Ec2Cloud,
  node: Node,
  now: Date,
  report: CloudPassReport,
): Promise<void> {
  const name = node.metadata.name;
  if (!node.spec?.unschedulable || node.metadata.annotations?.[scaleDownAnnotation] === undefined) {
    const cordoned = await unlessGone(
      ctx.client.patch(nodes, undefined, name, {
        metadata: { annotations: { [scaleDownAnnotation]: timestamp(now) } },
        spec: { unschedulable: true },
      }),
    );
    if (!cordoned) return;
    report.cordoned = name;
    ctx.events.record(node, 'Normal', 'ScaleDown', `Node ${name} has been empty; removing it`);
  }
  // Re-read after the cordon: a pod bound meanwhile is evicted too.
  const onNode = (await ctx.client.list<Pod>(pods, { fieldSelector: `spec.nodeName=${name}` })).items;
  for (const pod of podsToEvict(onNode, name)) {
    const evicted = await evict(ctx, pod);
    if (evicted) report.evicted.push(`${pod.metadata.namespace}/${pod.metadata.name}`);
  }
  if (onNode.some(occupies)) return; // Evicted pods are still terminating: the next pass goes on.
  const instanceId = instanceIdOf(node);
  if (!instanceId) return;
  await cloud.terminateInstance(instanceId);
  report.terminated = instanceId;
}

/** POSTs an Eviction; false when a disruption budget refuses it (429) or the pod is already gone. */
async function evict(ctx: ControllerContext, pod: Pod): Promise<boolean> {
  try {
    await ctx.client.post(pods, pod.metadata.namespace, pod.metadata.name, 'eviction', {
      apiVersion: 'policy/v1',
      kind: 'Eviction',
      metadata: { name: pod.metadata.name, namespace: pod.metadata.namespace },
    });
    return true;
  } catch (error) {
    if (error instanceof ApiError && (error.code === 404 || error.code === 429)) return false;
    throw error;
  }
}
