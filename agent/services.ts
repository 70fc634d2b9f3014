import type { Service } from '../shared/api/core.js';
import { resourceType } from '../shared/api/resources.js';
import type { ApiClient } from '../shared/client/client.js';
import { coalesced } from '../shared/concurrency.js';
import { buildDnsTable, type DnsTable } from './dns/records.js';
import { type DnsServer, startDnsServer } from './dns/server.js';
import { ServiceProxy } from './proxy/proxy.js';
import type { EndpointSlice } from './proxy/rules.js';

const services = resourceType('services');
const endpointSlices = resourceType('endpointslices.discovery.k8s.io');

export interface ServicesOptions {
  client: ApiClient;
  /** Program this host's iptables for Services (kube-proxy's part). */
  proxy: boolean;
  /** Serve cluster DNS on this address, port 53 (all addresses: `0.0.0.0`). */
  dnsHost?: string;
  clusterDomain: string;
  /** The pod CIDR of the whole cluster (traffic from outside it to a ClusterIP is masqueraded). */
  clusterCIDR?: string;
  onError: (error: unknown) => void;
}

export interface Services {
  /** Services or EndpointSlices changed: list them again (calls during a refresh share the next one). */
  refresh(): void;
  /** With `cleanup`, also removes the proxy's rules from the host. */
  stop(options?: { cleanup?: boolean }): Promise<void>;
}

/**
 * The agent's kube-proxy and cluster DNS, fed by whole lists of Services and EndpointSlices each time
 * the notifier says they changed (and at every resync): iptables rules and DNS records always
 * describe one consistent read.
 */
export async function startServices(options: ServicesOptions): Promise<Services> {
  const { client, onError } = options;
  const proxy = options.proxy
    ? new ServiceProxy(options.clusterCIDR ? { clusterCIDR: options.clusterCIDR } : {})
    : undefined;
  let table: DnsTable = new Map();
  let dns: DnsServer | undefined;
  if (options.dnsHost !== undefined)
    dns = await startDnsServer({
      host: options.dnsHost,
      zone: options.clusterDomain,
      lookup: (name) => table.get(name),
    });

  const listOnce = coalesced(async () => {
    const [serviceList, sliceList] = await Promise.all([
      client.list<Service>(services),
      client.list<EndpointSlice>(endpointSlices),
    ]);
    table = buildDnsTable(serviceList.items, sliceList.items, options.clusterDomain);
    await proxy?.update(serviceList.items, sliceList.items);
  });
  let latest: Promise<void> = Promise.resolve();
  const refresh = () => {
    latest = listOnce().catch(onError);
  };
  return {
    refresh,
    stop: async ({ cleanup = false } = {}) => {
      await latest;
      await proxy?.stop({ cleanup });
      await dns?.close();
    },
  };
}
