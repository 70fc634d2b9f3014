import { describe, expect, it } from 'vitest';
import {
  desiredEndpoints,
  maxEndpointsCapacity,
  overCapacityAnnotation,
} from '../../../functions/controllers/endpoints/endpoints.js';
import { pod, service } from './fixtures.js';

describe('the Endpoints a service should have', () => {
  it('lists ready pods as addresses and not-ready pods as notReadyAddresses, with the target port', () => {
    const { subsets } = desiredEndpoints(service(), [
      pod('a', { ip: '10.244.0.2' }),
      pod('b', { ip: '10.244.1.3', ready: false, node: 'sim-b' }),
    ]);
    expect(subsets).toEqual([
      {
        addresses: [
          {
            ip: '10.244.0.2',
            nodeName: 'sim-a',
            targetRef: { kind: 'Pod', namespace: 'default', name: 'a', uid: 'uid-a' },
          },
        ],
        notReadyAddresses: [
          {
            ip: '10.244.1.3',
            nodeName: 'sim-b',
            targetRef: { kind: 'Pod', namespace: 'default', name: 'b', uid: 'uid-b' },
          },
        ],
        ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
      },
    ]);
  });

  it('resolves a named target port per pod, grouping pods by the port they offer', () => {
    const svc = service({ ports: [{ name: 'http', port: 80, targetPort: 'web', protocol: 'TCP' }] });
    const { subsets } = desiredEndpoints(svc, [
      pod('a', { ip: '10.244.0.2', ports: [{ name: 'web', containerPort: 8080, protocol: 'TCP' }] }),
      pod('b', { ip: '10.244.0.3', ports: [{ name: 'web', containerPort: 9090, protocol: 'TCP' }] }),
      pod('c', { ip: '10.244.0.4', ports: [{ name: 'web', containerPort: 8080 }] }),
      pod('d', { ip: '10.244.0.5', ports: [{ name: 'other', containerPort: 8080 }] }),
    ]);
    expect(subsets.map((s) => [s.addresses?.map((a) => a.ip), s.ports?.map((p) => p.port)])).toEqual([
      [['10.244.0.2', '10.244.0.4'], [8080]],
      [['10.244.0.3'], [9090]],
    ]);
  });

  it('puts an address with several ports in one subset with all of them', () => {
    const svc = service({
      ports: [
        { name: 'http', port: 80, targetPort: 8080, protocol: 'TCP' },
        { name: 'metrics', port: 9100, targetPort: 9100, protocol: 'TCP' },
      ],
    });
    const { subsets } = desiredEndpoints(svc, [pod('a', { ip: '10.244.0.2' })]);
    expect(subsets).toHaveLength(1);
    expect(subsets[0]?.ports).toEqual([
      { name: 'http', port: 8080, protocol: 'TCP' },
      { name: 'metrics', port: 9100, protocol: 'TCP' },
    ]);
  });

  it('leaves out pods without an IP, finished pods, terminating pods and pods the selector does not match', () => {
    const { subsets } = desiredEndpoints(service(), [
      pod('no-ip', { ip: '' }),
      pod('done', { phase: 'Succeeded' }),
      pod('failed', { phase: 'Failed' }),
      pod('leaving', { deleting: true }),
      pod('other', { labels: { app: 'db' } }),
    ]);
    expect(subsets).toEqual([]);
  });

  it('publishes not-ready and terminating pods as ready addresses when publishNotReadyAddresses is set', () => {
    const { subsets } = desiredEndpoints(service({ publishNotReadyAddresses: true }), [
      pod('a', { ip: '10.244.0.2', ready: false }),
      pod('b', { ip: '10.244.0.3', deleting: true }),
    ]);
    expect(subsets).toHaveLength(1);
    expect(subsets[0]?.addresses?.map((a) => a.ip)).toEqual(['10.244.0.2', '10.244.0.3']);
    expect(subsets[0]?.notReadyAddresses).toBeUndefined();
  });

  it('labels the Endpoints as the service, with the headless label for a headless service', () => {
    expect(desiredEndpoints(service({}, { tier: 'front' }), []).labels).toEqual({ tier: 'front' });
    const headless = desiredEndpoints(service({ clusterIP: 'None', ports: [] }, { tier: 'front' }), [
      pod('a', { ip: '10.244.0.2' }),
    ]);
    expect(headless.labels).toEqual({ tier: 'front', 'service.kubernetes.io/headless': '' });
    expect(headless.subsets).toEqual([{ addresses: [expect.objectContaining({ ip: '10.244.0.2' })] }]);
  });

  it('truncates to 1000 addresses, ready ones first, and says so in an annotation', () => {
    const pods = Array.from({ length: 1100 }, (_, i) =>
      pod(`p${i}`, { ip: `10.${Math.floor(i / 250)}.${i % 250}.1`, ready: i < 900 }),
    );
    const result = desiredEndpoints(service(), pods);
    const ready = result.subsets.flatMap((s) => s.addresses ?? []);
    const notReady = result.subsets.flatMap((s) => s.notReadyAddresses ?? []);
    expect(ready).toHaveLength(900);
    expect(notReady).toHaveLength(maxEndpointsCapacity - 900);
    expect(result.annotations).toEqual({ [overCapacityAnnotation]: 'truncated' });
    expect(desiredEndpoints(service(), pods.slice(0, 10)).annotations).toEqual({});
  });
});
