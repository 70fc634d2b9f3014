import { describe, expect, it } from 'vitest';
import type { KubernetesObject } from '../../../shared/api/types.js';
import { ago, cells, headers, narrowCells } from './helpers.js';

function object(
  kind: string,
  name: string,
  fields: Record<string, unknown> = {},
  metadata = {},
): KubernetesObject {
  return { apiVersion: 'v1', kind, metadata: { name, creationTimestamp: ago(3600), ...metadata }, ...fields };
}

describe('namespaces', () => {
  it('print NAME STATUS AGE, an unset phase being Active', () => {
    expect(headers('namespaces')).toEqual({ narrow: ['Name', 'Status', 'Age'], wide: [] });
    expect(cells('namespaces', object('Namespace', 'team', { status: { phase: 'Terminating' } }))).toEqual([
      'team',
      'Terminating',
      '60m',
    ]);
    expect(cells('namespaces', object('Namespace', 'fresh'))[1]).toBe('Active');
  });
});

describe('services', () => {
  it('print NAME TYPE CLUSTER-IP EXTERNAL-IP PORT(S) AGE, and SELECTOR with -o wide', () => {
    expect(headers('services')).toEqual({
      narrow: ['Name', 'Type', 'Cluster-IP', 'External-IP', 'Port(s)', 'Age'],
      wide: ['Selector'],
    });
  });

  it('print a ClusterIP service with its ports and selector', () => {
    const svc = object('Service', 'kubernetes', {
      spec: {
        type: 'ClusterIP',
        clusterIP: '10.96.0.1',
        clusterIPs: ['10.96.0.1'],
        ports: [
          { port: 80, protocol: 'TCP' },
          { port: 443, protocol: 'TCP' },
        ],
        selector: { tier: 'web', app: 'nginx' },
      },
    });
    expect(cells('services', svc)).toEqual([
      'kubernetes',
      'ClusterIP',
      '10.96.0.1',
      '<none>',
      '80/TCP,443/TCP',
      '60m',
      'app=nginx,tier=web',
    ]);
  });

  it('print node ports as port:nodePort/PROTO and external IPs', () => {
    const svc = object('Service', 'web', {
      spec: {
        type: 'NodePort',
        clusterIPs: ['10.96.3.4'],
        externalIPs: ['192.0.2.1', '192.0.2.2'],
        ports: [
          { port: 80, nodePort: 30080, protocol: 'TCP' },
          { port: 53, protocol: 'UDP' },
        ],
      },
    });
    expect(narrowCells('services', svc)).toEqual([
      'web',
      'NodePort',
      '10.96.3.4',
      '192.0.2.1,192.0.2.2',
      '80:30080/TCP,53/UDP',
      '60m',
    ]);
  });

  it('print <pending> for a load balancer without ingress, else its sorted addresses then external IPs', () => {
    const lb = (status: Record<string, unknown>, externalIPs?: string[]) =>
      object('Service', 'lb', {
        spec: { type: 'LoadBalancer', clusterIP: '10.96.0.9', externalIPs },
        status,
      });
    expect(narrowCells('services', lb({}))[3]).toBe('<pending>');
    const ingress = { loadBalancer: { ingress: [{ ip: '203.0.113.9' }, { hostname: 'a.example.com' }] } };
    expect(narrowCells('services', lb(ingress))[3]).toBe('203.0.113.9,a.example.com');
    expect(narrowCells('services', lb(ingress, ['192.0.2.1']))[3]).toBe(
      '203.0.113.9,a.example.com,192.0.2.1',
    );
  });

  it('print an ExternalName service with its name, and defaults for unset type, protocol and ports', () => {
    const external = object('Service', 'db', {
      spec: { type: 'ExternalName', externalName: 'db.example.com' },
    });
    expect(narrowCells('services', external).slice(1, 5)).toEqual([
      'ExternalName',
      '<none>',
      'db.example.com',
      '<none>',
    ]);
    const bare = object('Service', 'bare', { spec: { clusterIP: 'None', ports: [{ port: 8080 }] } });
    expect(cells('services', bare)).toEqual([
      'bare',
      'ClusterIP',
      'None',
      '<none>',
      '8080/TCP',
      '60m',
      '<none>',
    ]);
  });
});

describe('endpoints', () => {
  it('print NAME ENDPOINTS AGE, <none> without subsets', () => {
    expect(headers('endpoints')).toEqual({ narrow: ['Name', 'Endpoints', 'Age'], wide: [] });
    expect(cells('endpoints', object('Endpoints', 'empty'))).toEqual(['empty', '<none>', '60m']);
  });

  it('print ready address:port pairs, IPv6 in brackets, up to three then + N more...', () => {
    const ep = object('Endpoints', 'web', {
      subsets: [
        {
          addresses: [{ ip: '10.0.0.1' }, { ip: '10.0.0.2' }],
          notReadyAddresses: [{ ip: '10.0.0.9' }],
          ports: [
            { name: 'http', port: 80 },
            { name: 'https', port: 443 },
          ],
        },
        { addresses: [{ ip: 'fd00::1' }], ports: [{ port: 53 }] },
      ],
    });
    expect(cells('endpoints', ep)[1]).toBe('10.0.0.1:80,10.0.0.2:80,10.0.0.1:443 + 2 more...');
    const small = object('Endpoints', 'dns', {
      subsets: [{ addresses: [{ ip: 'fd00::1' }], ports: [{ port: 53 }] }],
    });
    expect(cells('endpoints', small)[1]).toBe('[fd00::1]:53');
  });

  it('print bare IPs for a subset without ports', () => {
    const ep = object('Endpoints', 'headless', {
      subsets: [{ addresses: [{ ip: '10.0.0.1' }, { ip: '10.0.0.2' }] }],
    });
    expect(cells('endpoints', ep)[1]).toBe('10.0.0.1,10.0.0.2');
  });
});

describe('nodes', () => {
  const node = (fields: Record<string, unknown>, labels: Record<string, string> = {}) =>
    object('Node', 'worker-1', fields, { labels });

  it('print NAME STATUS ROLES AGE VERSION, and addresses, OS, kernel and runtime with -o wide', () => {
    expect(headers('nodes')).toEqual({
      narrow: ['Name', 'Status', 'Roles', 'Age', 'Version'],
      wide: ['Internal-IP', 'External-IP', 'OS-Image', 'Kernel-Version', 'Container-Runtime'],
    });
    const n = node(
      {
        status: {
          conditions: [
            { type: 'MemoryPressure', status: 'False' },
            { type: 'Ready', status: 'True' },
          ],
          addresses: [
            { type: 'Hostname', address: 'worker-1' },
            { type: 'InternalIP', address: '10.0.1.5' },
          ],
          nodeInfo: {
            kubeletVersion: 'v1.32.0',
            osImage: 'Amazon Linux 2023',
            kernelVersion: '6.1.0',
            containerRuntimeVersion: 'containerd://1.7.0',
          },
        },
      },
      { 'node-role.kubernetes.io/worker': '', 'node-role.kubernetes.io/control-plane': '' },
    );
    expect(cells('nodes', n)).toEqual([
      'worker-1',
      'Ready',
      'control-plane,worker',
      '60m',
      'v1.32.0',
      '10.0.1.5',
      '<none>',
      'Amazon Linux 2023',
      '6.1.0',
      'containerd://1.7.0',
    ]);
  });

  it('print Ready,SchedulingDisabled for a cordoned node and NotReady for a failing one', () => {
    const cordoned = node({
      spec: { unschedulable: true },
      status: { conditions: [{ type: 'Ready', status: 'True' }] },
    });
    expect(cells('nodes', cordoned)[1]).toBe('Ready,SchedulingDisabled');
    const failing = node({ status: { conditions: [{ type: 'Ready', status: 'Unknown' }] } });
    expect(cells('nodes', failing)[1]).toBe('NotReady');
  });

  it('print Unknown status, <none> roles and <unknown> node info for a node that never reported', () => {
    expect(cells('nodes', node({}))).toEqual([
      'worker-1',
      'Unknown',
      '<none>',
      '60m',
      '',
      '<none>',
      '<none>',
      '<unknown>',
      '<unknown>',
      '<unknown>',
    ]);
  });

  it('take roles from the kubernetes.io/role label value too, ignoring an empty role', () => {
    const n = node(
      {},
      { 'kubernetes.io/role': 'edge', 'node-role.kubernetes.io/': '', 'node-role.kubernetes.io/gpu': '' },
    );
    expect(cells('nodes', n)[2]).toBe('edge,gpu');
  });
});

describe('configmaps, secrets and serviceaccounts', () => {
  it('print configmaps as NAME DATA AGE, counting data and binaryData keys', () => {
    expect(headers('configmaps').narrow).toEqual(['Name', 'Data', 'Age']);
    const cm = object('ConfigMap', 'settings', { data: { a: '1', b: '2' }, binaryData: { c: 'AA==' } });
    expect(cells('configmaps', cm)).toEqual(['settings', 3, '60m']);
    expect(cells('configmaps', object('ConfigMap', 'empty'))).toEqual(['empty', 0, '60m']);
  });

  it('print secrets as NAME TYPE DATA AGE, an unset type being Opaque', () => {
    expect(headers('secrets').narrow).toEqual(['Name', 'Type', 'Data', 'Age']);
    const tls = object('Secret', 'cert', {
      type: 'kubernetes.io/tls',
      data: { 'tls.crt': 'x', 'tls.key': 'y' },
    });
    expect(cells('secrets', tls)).toEqual(['cert', 'kubernetes.io/tls', 2, '60m']);
    expect(cells('secrets', object('Secret', 'plain'))).toEqual(['plain', 'Opaque', 0, '60m']);
  });

  it('print serviceaccounts as NAME SECRETS AGE', () => {
    expect(headers('serviceaccounts').narrow).toEqual(['Name', 'Secrets', 'Age']);
    expect(cells('serviceaccounts', object('ServiceAccount', 'default'))).toEqual(['default', 0, '60m']);
    const sa = object('ServiceAccount', 'builder', { secrets: [{ name: 'a' }, { name: 'b' }] });
    expect(cells('serviceaccounts', sa)).toEqual(['builder', 2, '60m']);
  });
});

describe('events', () => {
  it('print LAST SEEN TYPE REASON OBJECT MESSAGE, and SUBOBJECT SOURCE FIRST SEEN COUNT NAME with -o wide', () => {
    expect(headers('events')).toEqual({
      narrow: ['Last Seen', 'Type', 'Reason', 'Object', 'Message'],
      wide: ['Subobject', 'Source', 'First Seen', 'Count', 'Name'],
    });
    const ev = object('Event', 'web.17c', {
      involvedObject: { kind: 'Pod', name: 'web', fieldPath: 'spec.containers{app}' },
      reason: 'BackOff',
      message: '  Back-off restarting failed container\n',
      source: { component: 'kubelet', host: 'worker-1' },
      firstTimestamp: ago(600),
      lastTimestamp: ago(30),
      count: 7,
      type: 'Warning',
    });
    expect(cells('events', ev)).toEqual([
      '30s',
      'Warning',
      'BackOff',
      'pod/web',
      'spec.containers{app}',
      'kubelet, worker-1',
      'Back-off restarting failed container',
      '10m',
      7,
      'web.17c',
    ]);
  });

  it('fall back to eventTime, series and reporting fields for events from the new API', () => {
    const ev = object('Event', 'n.1', {
      involvedObject: { kind: 'Node' },
      reason: 'Starting',
      eventTime: '2024-05-01T11:55:00.000000Z',
      series: { count: 4, lastObservedTime: '2024-05-01T11:59:00.000000Z' },
      reportingComponent: 'kube-proxy',
      type: 'Normal',
    });
    expect(cells('events', ev)).toEqual([
      '60s',
      'Normal',
      'Starting',
      'node',
      '',
      'kube-proxy',
      '',
      '5m',
      4,
      'n.1',
    ]);
  });

  it('count a singleton event once and reuse first seen as last seen', () => {
    const ev = object('Event', 'x', { involvedObject: { kind: 'Pod', name: 'p' }, firstTimestamp: ago(120) });
    const row = cells('events', ev);
    expect([row[0], row[7], row[8]]).toEqual(['2m', '2m', 1]);
  });
});
