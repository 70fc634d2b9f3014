/**
 * core/v1 printers other than pods and events: namespaces, services, endpoints, nodes, configmaps,
 * secrets and serviceaccounts (upstream's `printNamespace`, `printService`, …).
 */

import type { KubernetesObject } from '../../../shared/api/types.js';
import { ageColumn, arr, column, int, nameColumn, type Printer, size, str } from './common.js';
import { since } from './duration.js';
import { formatLabels } from './labels.js';

interface Namespace extends KubernetesObject {
  status?: { phase?: string };
}

export const namespacePrinter: Printer = {
  columns: [nameColumn, column('Status', 'string', 'The status of the namespace'), ageColumn],
  print(object, { now }) {
    const ns = object as Namespace;
    // SetDefaults_NamespaceStatus: an empty phase is Active.
    const phase = str(ns.status?.phase) || 'Active';
    return { cells: [ns.metadata.name, phase, since(ns.metadata.creationTimestamp, now)] };
  },
};

interface ServicePort {
  port?: number;
  nodePort?: number;
  protocol?: string;
}

interface Service extends KubernetesObject {
  spec?: {
    type?: string;
    clusterIP?: string;
    clusterIPs?: string[];
    externalIPs?: string[];
    externalName?: string;
    ports?: ServicePort[];
    selector?: Record<string, string>;
  };
  status?: { loadBalancer?: { ingress?: { ip?: string; hostname?: string }[] } };
}

export const servicePrinter: Printer = {
  columns: [
    nameColumn,
    column(
      'Type',
      'string',
      'type determines how the Service is exposed. Defaults to ClusterIP. Valid options are ExternalName, ClusterIP, NodePort, and LoadBalancer. "ClusterIP" allocates a cluster-internal IP address for load-balancing to endpoints. Endpoints are determined by the selector or if that is not specified, by manual construction of an Endpoints object or EndpointSlice objects. If clusterIP is "None", no virtual IP is allocated and the endpoints are published as a set of endpoints rather than a virtual IP. "NodePort" builds on ClusterIP and allocates a port on every node which routes to the same endpoints as the clusterIP. "LoadBalancer" builds on NodePort and creates an external load-balancer (if supported in the current cloud) which routes to the same endpoints as the clusterIP. "ExternalName" aliases this service to the specified externalName. Several other fields do not apply to ExternalName services. More info: https://kubernetes.io/docs/concepts/services-networking/service/#publishing-services-service-types',
    ),
    column(
      'Cluster-IP',
      'string',
      'clusterIP is the IP address of the service and is usually assigned randomly. If an address is specified manually, is in-range (as per system configuration), and is not in use, it will be allocated to the service; otherwise creation of the service will fail. This field may not be changed through updates unless the type field is also being changed to ExternalName (which requires this field to be blank) or the type field is being changed from ExternalName (in which case this field may optionally be specified, as describe above).  Valid values are "None", empty string (""), or a valid IP address. Setting this to "None" makes a "headless service" (no virtual IP), which is useful when direct endpoint connections are preferred and proxying is not required.  Only applies to types ClusterIP, NodePort, and LoadBalancer. If this field is specified when creating a Service of type ExternalName, creation will fail. This field will be wiped when updating a Service to type ExternalName. More info: https://kubernetes.io/docs/concepts/services-networking/service/#virtual-ips-and-service-proxies',
    ),
    column(
      'External-IP',
      'string',
      'externalIPs is a list of IP addresses for which nodes in the cluster will also accept traffic for this service.  These IPs are not managed by Kubernetes.  The user is responsible for ensuring that traffic arrives at a node with this IP.  A common example is external load-balancers that are not part of the Kubernetes system.',
    ),
    column(
      'Port(s)',
      'string',
      'The list of ports that are exposed by this service. More info: https://kubernetes.io/docs/concepts/services-networking/service/#virtual-ips-and-service-proxies',
    ),
    ageColumn,
    column(
      'Selector',
      'string',
      'Route service traffic to pods with label keys and values matching this selector. If empty or not present, the service is assumed to have an external process managing its endpoints, which Kubernetes will not modify. Only applies to types ClusterIP, NodePort, and LoadBalancer. Ignored if type is ExternalName. More info: https://kubernetes.io/docs/concepts/services-networking/service/',
      { priority: 1 },
    ),
  ],
  print(object, { now }) {
    const svc = object as Service;
    const spec = svc.spec ?? {};
    // SetDefaults_Service: the type defaults to ClusterIP.
    const type = str(spec.type) || 'ClusterIP';
    // v1 → internal conversion fills clusterIPs from clusterIP.
    const clusterIP = str(arr(spec.clusterIPs)[0]) || str(spec.clusterIP) || '<none>';
    const ports = makePortString(arr(spec.ports)) || '<none>';
    return {
      cells: [
        svc.metadata.name,
        type,
        clusterIP,
        serviceExternalIP(svc, type),
        ports,
        since(svc.metadata.creationTimestamp, now),
        formatLabels(spec.selector),
      ],
    };
  },
};

/** `getServiceExternalIP`, always wide on the server (load-balancer addresses are not clipped). */
function serviceExternalIP(svc: Service, type: string): string {
  const externalIPs = arr(svc.spec?.externalIPs);
  switch (type) {
    case 'ClusterIP':
    case 'NodePort':
      return externalIPs.length > 0 ? externalIPs.join(',') : '<none>';
    case 'LoadBalancer': {
      const lbIPs = loadBalancerStatusString(svc);
      if (externalIPs.length > 0) {
        const results = lbIPs.length > 0 ? lbIPs.split(',') : [];
        return [...results, ...externalIPs].join(',');
      }
      return lbIPs.length > 0 ? lbIPs : '<pending>';
    }
    case 'ExternalName':
      return str(svc.spec?.externalName);
  }
  return '<unknown>';
}

/** `loadBalancerStatusStringer`: the ingress IPs (or hostnames), de-duplicated and sorted. */
function loadBalancerStatusString(svc: Service): string {
  const result = new Set<string>();
  for (const ingress of arr(svc.status?.loadBalancer?.ingress)) {
    if (str(ingress.ip) !== '') result.add(str(ingress.ip));
    else if (str(ingress.hostname) !== '') result.add(str(ingress.hostname));
  }
  return [...result].sort().join(',');
}

/** `makePortString`: `port/PROTO`, or `port:nodePort/PROTO` when a node port is set. */
function makePortString(ports: ServicePort[]): string {
  return ports
    .map((p) => {
      // SetDefaults_ServicePort: the protocol defaults to TCP.
      const protocol = str(p.protocol) || 'TCP';
      return int(p.nodePort) > 0
        ? `${int(p.port)}:${int(p.nodePort)}/${protocol}`
        : `${int(p.port)}/${protocol}`;
    })
    .join(',');
}

interface Endpoints extends KubernetesObject {
  subsets?: {
    addresses?: { ip?: string }[];
    ports?: { name?: string; port?: number }[];
  }[];
}

export const endpointsPrinter: Printer = {
  columns: [
    nameColumn,
    column(
      'Endpoints',
      'string',
      'The set of all endpoints is the union of all subsets. Addresses are placed into subsets according to the IPs they share. A single address with multiple ports, some of which are ready and some of which are not (because they come from different containers) will result in the address being displayed in different subsets for the different ports. No address will appear in both Addresses and NotReadyAddresses in the same subset. Sets of addresses and ports that comprise a service.',
    ),
    ageColumn,
  ],
  print(object, { now }) {
    const ep = object as Endpoints;
    return { cells: [ep.metadata.name, formatEndpoints(ep), since(ep.metadata.creationTimestamp, now)] };
  },
};

/** `formatEndpoints(endpoints, nil)`: up to three ready `ip:port`s, then `+ N more...`. */
function formatEndpoints(endpoints: Endpoints): string {
  const subsets = arr(endpoints.subsets);
  if (subsets.length === 0) return '<none>';
  const list: string[] = [];
  const max = 3;
  let more = false;
  let count = 0;
  for (const subset of subsets) {
    const addresses = arr(subset.addresses);
    const ports = arr(subset.ports);
    if (ports.length === 0) {
      // Headless services may have no ports.
      count += addresses.length;
      for (const address of addresses) {
        if (list.length === max) {
          more = true;
          break;
        }
        list.push(str(address.ip));
      }
      continue;
    }
    for (const port of ports) {
      count += addresses.length;
      for (const address of addresses) {
        if (list.length === max) {
          more = true;
          break;
        }
        list.push(joinHostPort(str(address.ip), int(port.port)));
      }
    }
  }
  const text = list.join(',');
  return more ? `${text} + ${count - max} more...` : text;
}

/** `net.JoinHostPort`: brackets around hosts that contain a colon (IPv6). */
export function joinHostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

interface Node extends KubernetesObject {
  spec?: { unschedulable?: boolean };
  status?: {
    conditions?: { type?: string; status?: string }[];
    addresses?: { type?: string; address?: string }[];
    nodeInfo?: {
      kubeletVersion?: string;
      osImage?: string;
      kernelVersion?: string;
      containerRuntimeVersion?: string;
    };
  };
}

const addressesDescription =
  "List of addresses reachable to the node. Queried from cloud provider, if available. More info: https://kubernetes.io/docs/concepts/nodes/node/#addresses Note: This field is declared as mergeable, but the merge key is not sufficiently unique, which can cause data corruption when it is merged. Callers should instead use a full-replacement patch. See https://pr.k8s.io/79391 for an example. Consumers should assume that addresses can change during the lifetime of a Node. However, there are some exceptions where this may not be possible, such as Pods that inherit a Node's address in its own status or consumers of the downward API (status.hostIP).";

export const nodePrinter: Printer = {
  columns: [
    nameColumn,
    column('Status', 'string', 'The status of the node'),
    column('Roles', 'string', 'The roles of the node'),
    ageColumn,
    column('Version', 'string', 'Kubelet Version reported by the node.'),
    column('Internal-IP', 'string', addressesDescription, { priority: 1 }),
    column('External-IP', 'string', addressesDescription, { priority: 1 }),
    column(
      'OS-Image',
      'string',
      'OS Image reported by the node from /etc/os-release (e.g. Debian GNU/Linux 7 (wheezy)).',
      { priority: 1 },
    ),
    column(
      'Kernel-Version',
      'string',
      "Kernel Version reported by the node from 'uname -r' (e.g. 3.16.0-0.bpo.4-amd64).",
      { priority: 1 },
    ),
    column(
      'Container-Runtime',
      'string',
      'ContainerRuntime Version reported by the node through runtime remote API (e.g. containerd://1.4.2).',
      { priority: 1 },
    ),
  ],
  print(object, { now }) {
    const node = object as Node;
    const status: string[] = [];
    // Only the Ready condition counts; the last one of a type wins, as in upstream's condition map.
    const ready = arr(node.status?.conditions).findLast((c) => c.type === 'Ready');
    if (ready) status.push(ready.status === 'True' ? 'Ready' : 'NotReady');
    if (status.length === 0) status.push('Unknown');
    if (node.spec?.unschedulable === true) status.push('SchedulingDisabled');
    const roles = findNodeRoles(node).join(',') || '<none>';
    const info = node.status?.nodeInfo ?? {};
    return {
      cells: [
        node.metadata.name,
        status.join(','),
        roles,
        since(node.metadata.creationTimestamp, now),
        str(info.kubeletVersion),
        nodeAddress(node, 'InternalIP'),
        nodeAddress(node, 'ExternalIP'),
        str(info.osImage) || '<unknown>',
        str(info.kernelVersion) || '<unknown>',
        str(info.containerRuntimeVersion) || '<unknown>',
      ],
    };
  },
};

/** The first address of a type, `<none>` if there is none. */
function nodeAddress(node: Node, type: string): string {
  const address = arr(node.status?.addresses).find((a) => a.type === type);
  return address ? str(address.address) : '<none>';
}

/** `findNodeRoles`: `node-role.kubernetes.io/<role>` label keys and `kubernetes.io/role` values, sorted. */
function findNodeRoles(node: Node): string[] {
  const roles = new Set<string>();
  for (const [key, value] of Object.entries(node.metadata.labels ?? {})) {
    if (key.startsWith('node-role.kubernetes.io/')) {
      const role = key.slice('node-role.kubernetes.io/'.length);
      if (role.length > 0) roles.add(role);
    } else if (key === 'kubernetes.io/role' && value !== '') {
      roles.add(value);
    }
  }
  return [...roles].sort();
}

interface ConfigMap extends KubernetesObject {
  data?: Record<string, string>;
  binaryData?: Record<string, string>;
}

export const configMapPrinter: Printer = {
  columns: [
    nameColumn,
    column(
      'Data',
      'string',
      "Data contains the configuration data. Each key must consist of alphanumeric characters, '-', '_' or '.'. Values with non-UTF-8 byte sequences must use the BinaryData field. The keys stored in Data must not overlap with the keys in the BinaryData field, this is enforced during validation process.",
    ),
    ageColumn,
  ],
  print(object, { now }) {
    const cm = object as ConfigMap;
    return {
      cells: [
        cm.metadata.name,
        size(cm.data) + size(cm.binaryData),
        since(cm.metadata.creationTimestamp, now),
      ],
    };
  },
};

interface Secret extends KubernetesObject {
  type?: string;
  data?: Record<string, string>;
}

export const secretPrinter: Printer = {
  columns: [
    nameColumn,
    column(
      'Type',
      'string',
      'Used to facilitate programmatic handling of secret data. More info: https://kubernetes.io/docs/concepts/configuration/secret/#secret-types',
    ),
    column(
      'Data',
      'string',
      "Data contains the secret data. Each key must consist of alphanumeric characters, '-', '_' or '.'. The serialized form of the secret data is a base64 encoded string, representing the arbitrary (possibly non-string) data value here. Described in https://tools.ietf.org/html/rfc4648#section-4",
    ),
    ageColumn,
  ],
  print(object, { now }) {
    const secret = object as Secret;
    // SetDefaults_Secret: an empty type is Opaque.
    const type = str(secret.type) || 'Opaque';
    return {
      cells: [secret.metadata.name, type, size(secret.data), since(secret.metadata.creationTimestamp, now)],
    };
  },
};

interface ServiceAccount extends KubernetesObject {
  secrets?: unknown[];
}

export const serviceAccountPrinter: Printer = {
  columns: [
    nameColumn,
    column(
      'Secrets',
      'string',
      'Secrets is a list of the secrets in the same namespace that pods running using this ServiceAccount are allowed to use. Pods are only limited to this list if this service account has a "kubernetes.io/enforce-mountable-secrets" annotation set to "true". The "kubernetes.io/enforce-mountable-secrets" annotation is deprecated since v1.32. Prefer separate namespaces to isolate access to mounted secrets. This field should not be used to find auto-generated service account token secrets for use outside of pods. Instead, tokens can be requested directly using the TokenRequest API, or service account token secrets can be manually created. More info: https://kubernetes.io/docs/concepts/configuration/secret',
    ),
    ageColumn,
  ],
  print(object, { now }) {
    const sa = object as ServiceAccount;
    return { cells: [sa.metadata.name, arr(sa.secrets).length, since(sa.metadata.creationTimestamp, now)] };
  },
};
