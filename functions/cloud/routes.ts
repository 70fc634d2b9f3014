/**
 * The cloud controller's routes (upstream's route controller), pure: each node's pod CIDR routed to
 * its instance in every managed VPC route table, and that instance's source/destination check off so
 * it may forward pods' packets. The controller owns the routes whose destination lies inside the
 * cluster CIDR and no others: those it creates, replaces when the CIDR moved to another instance, and
 * deletes when no node has the CIDR any more.
 */
import type { Node } from '../../shared/api/core.js';
import { formatIPv4, ipv4CidrContains, parseIPv4Cidr } from '../../shared/net/ipv4.js';
import { instanceIdOf } from './provider-id.js';

/** One route of a route table, as DescribeRouteTables reports it. */
export interface Route {
  destinationCidrBlock: string;
  /** The target instance; absent for gateways, NAT, peering… */
  instanceId?: string;
  /** `active`, or `blackhole` once the target is gone. */
  state?: string;
}

export interface RouteTable {
  routeTableId: string;
  routes: Route[];
}

export interface RouteTarget {
  routeTableId: string;
  cidr: string;
  instanceId: string;
}

export interface RoutePlan {
  create: RouteTarget[];
  replace: RouteTarget[];
  delete: { routeTableId: string; cidr: string }[];
  /** Instances whose source/destination check is on and must be turned off. */
  disableSourceDestCheck: string[];
}

/** Whether `inner` lies inside `outer` (both IPv4 CIDR). */
export function cidrContains(outer: string, inner: string): boolean {
  const a = parseIPv4Cidr(outer.trim());
  const b = parseIPv4Cidr(inner.trim());
  return a !== undefined && b !== undefined && ipv4CidrContains(a, b);
}

/** CIDRs compare by value: `10.244.1.0/24` and `10.244.1.7/24` are one network. */
function canonical(cidr: string): string | undefined {
  const parsed = parseIPv4Cidr(cidr.trim());
  return parsed && `${formatIPv4(parsed.network)}/${parsed.prefix}`;
}

/**
 * Each node's pod CIDR → its instance: nodes without either are skipped; when two nodes claim one
 * CIDR, the older (then the first by name) keeps it, so a plan never flips between them.
 */
export function wantedRoutes(nodes: readonly Node[], clusterCidr: string): Map<string, string> {
  const wanted = new Map<string, string>();
  const ordered = [...nodes].sort(
    (a, b) =>
      (a.metadata.creationTimestamp ?? '').localeCompare(b.metadata.creationTimestamp ?? '') ||
      a.metadata.name.localeCompare(b.metadata.name),
  );
  for (const node of ordered) {
    const instanceId = instanceIdOf(node);
    const cidr = node.spec?.podCIDR ? canonical(node.spec.podCIDR) : undefined;
    if (!instanceId || !cidr || node.metadata.deletionTimestamp) continue;
    if (!cidrContains(clusterCidr, cidr) || wanted.has(cidr)) continue;
    wanted.set(cidr, instanceId);
  }
  return wanted;
}

export function planRoutes(input: {
  nodes: readonly Node[];
  routeTables: readonly RouteTable[];
  clusterCidr: string;
  /** The source/destination check of the nodes' instances, where known. */
  sourceDestCheck: ReadonlyMap<string, boolean>;
}): RoutePlan {
  const wanted = wantedRoutes(input.nodes, input.clusterCidr);
  const plan: RoutePlan = { create: [], replace: [], delete: [], disableSourceDestCheck: [] };
  for (const table of input.routeTables) {
    const owned = new Map<string, Route>();
    for (const route of table.routes) {
      const cidr = canonical(route.destinationCidrBlock);
      if (cidr && cidrContains(input.clusterCidr, cidr)) owned.set(cidr, route);
    }
    for (const [cidr, instanceId] of wanted) {
      const route = owned.get(cidr);
      const target = { routeTableId: table.routeTableId, cidr, instanceId };
      if (!route) plan.create.push(target);
      else if (route.instanceId !== instanceId) plan.replace.push(target);
    }
    for (const [cidr, route] of owned) {
      if (!wanted.has(cidr))
        plan.delete.push({ routeTableId: table.routeTableId, cidr: route.destinationCidrBlock });
    }
  }
  const instances = new Set(wanted.values());
  plan.disableSourceDestCheck = [...instances].filter((id) => input.sourceDestCheck.get(id) === true).sort();
  return plan;
}
