import { describe, expect, it } from 'vitest';
import { hostPortsOf, podRequest, portsConflict } from '../../functions/scheduler/requests.js';
import { pod } from './fixtures.js';

const Mi = 2 ** 20;

describe('pod requests', () => {
  it('sums the containers', () => {
    const r = podRequest(
      pod('p', [
        { cpu: '100m', memory: '64Mi' },
        { cpu: '0.2', memory: '1Mi' },
      ]),
    );
    expect(r).toMatchObject({ cpuMilli: 300, memoryBytes: 65 * Mi, scalars: {} });
  });

  it('counts a container without requests as zero, but scores it with 100m and 200Mi', () => {
    const r = podRequest(pod('p', [{}, { cpu: '50m' }]));
    expect(r.cpuMilli).toBe(50);
    expect(r.memoryBytes).toBe(0);
    expect(r.nonZero).toEqual({ cpuMilli: 150, memoryBytes: 400 * Mi });
  });

  it('takes the largest init container when it asks for more than the containers together', () => {
    const p = pod('p', [{ cpu: '100m' }, { cpu: '100m' }], {
      initContainers: [
        { name: 'i1', resources: { requests: { cpu: '500m', memory: '10Mi' } } },
        { name: 'i2', resources: { requests: { cpu: '50m', memory: '20Mi' } } },
      ],
    });
    expect(podRequest(p)).toMatchObject({ cpuMilli: 500, memoryBytes: 20 * Mi });
  });

  it('runs sidecar init containers beside the containers and the later init containers', () => {
    const p = pod('p', [{ cpu: '100m' }], {
      initContainers: [
        { name: 'sidecar', restartPolicy: 'Always', resources: { requests: { cpu: '200m' } } },
        { name: 'init', resources: { requests: { cpu: '250m' } } },
      ],
    });
    // containers + sidecar = 300m; init while the sidecar runs = 450m
    expect(podRequest(p).cpuMilli).toBe(450);
  });

  it('requests its limit where a container gives only a limit, and adds the pod overhead', () => {
    const p = pod('p', [], {
      containers: [{ name: 'c', resources: { limits: { cpu: '1', 'nvidia.com/gpu': '1' } } }],
      overhead: { cpu: '10m' },
    });
    expect(podRequest(p)).toMatchObject({ cpuMilli: 1010, scalars: { 'nvidia.com/gpu': 1 } });
  });

  it('lists host ports, with host networking every container port', () => {
    const p = pod('p', [], {
      containers: [
        { name: 'a', ports: [{ containerPort: 80, hostPort: 8080 }, { containerPort: 81 }] },
        { name: 'b', ports: [{ containerPort: 53, hostPort: 53, protocol: 'UDP', hostIP: '10.0.0.1' }] },
      ],
    });
    expect(hostPortsOf(p)).toEqual(['TCP/0.0.0.0/8080', 'UDP/10.0.0.1/53']);
    const host = pod('h', [], {
      hostNetwork: true,
      containers: [{ name: 'a', ports: [{ containerPort: 9100 }] }],
    });
    expect(hostPortsOf(host)).toEqual(['TCP/0.0.0.0/9100']);
  });

  it('sees a port conflict on the same protocol and port when either binds every address', () => {
    expect(portsConflict('TCP/0.0.0.0/80', 'TCP/10.0.0.1/80')).toBe(true);
    expect(portsConflict('TCP/10.0.0.1/80', 'TCP/10.0.0.1/80')).toBe(true);
    expect(portsConflict('TCP/10.0.0.1/80', 'TCP/10.0.0.2/80')).toBe(false);
    expect(portsConflict('TCP/0.0.0.0/80', 'UDP/0.0.0.0/80')).toBe(false);
    expect(portsConflict('TCP/0.0.0.0/80', 'TCP/0.0.0.0/81')).toBe(false);
  });
});
