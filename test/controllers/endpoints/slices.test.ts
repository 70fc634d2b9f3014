import { describe, expect, it } from 'vitest';
import { desiredSlices, maxEndpointsPerSlice } from '../../../functions/controllers/endpoints/slices.js';
import { pod, service } from './fixtures.js';

describe('the EndpointSlices a service should have', () => {
  it('gives each pod conditions: ready, serving, and terminating pods kept but not ready', () => {
    const [slice, ...rest] = desiredSlices(service(), [
      pod('a', { ip: '10.244.0.2' }),
      pod('b', { ip: '10.244.0.3', ready: false }),
      pod('c', { ip: '10.244.0.4', deleting: true }),
      pod('done', { ip: '10.244.0.5', phase: 'Succeeded' }),
    ]);
    expect(rest).toEqual([]);
    expect(slice?.addressType).toBe('IPv4');
    expect(slice?.ports).toEqual([{ name: 'http', port: 8080, protocol: 'TCP' }]);
    expect(slice?.endpoints).toEqual([
      {
        addresses: ['10.244.0.2'],
        conditions: { ready: true, serving: true, terminating: false },
        nodeName: 'sim-a',
        targetRef: { kind: 'Pod', namespace: 'default', name: 'a', uid: 'uid-a' },
      },
      expect.objectContaining({
        addresses: ['10.244.0.3'],
        conditions: { ready: false, serving: false, terminating: false },
      }),
      expect.objectContaining({
        addresses: ['10.244.0.4'],
        conditions: { ready: false, serving: true, terminating: true },
      }),
    ]);
  });

  it('marks every endpoint ready when the service publishes not-ready addresses', () => {
    const [slice] = desiredSlices(service({ publishNotReadyAddresses: true }), [
      pod('b', { ip: '10.244.0.3', ready: false }),
      pod('c', { ip: '10.244.0.4', deleting: true }),
    ]);
    expect(slice?.endpoints.map((e) => e.conditions)).toEqual([
      { ready: true, serving: true, terminating: false },
      { ready: true, serving: true, terminating: true },
    ]);
  });

  it('splits endpoints into slices of at most 100, with stable names, labels and an owner reference', () => {
    const pods = Array.from({ length: 250 }, (_, i) =>
      pod(`p${i}`, { ip: `10.244.${Math.floor(i / 200)}.${i % 200}` }),
    );
    const slices = desiredSlices(service({}, { tier: 'front' }), pods);
    expect(slices.map((s) => s.endpoints.length)).toEqual([maxEndpointsPerSlice, maxEndpointsPerSlice, 50]);
    expect(new Set(slices.map((s) => s.metadata.name)).size).toBe(3);
    expect(slices.every((s) => /^web-[a-z0-9]{5}$/.test(s.metadata.name))).toBe(true);
    expect(desiredSlices(service(), [...pods].reverse()).map((s) => s.metadata.name)).toEqual(
      slices.map((s) => s.metadata.name),
    );
    expect(slices[0]?.metadata).toMatchObject({
      generateName: 'web-',
      labels: {
        tier: 'front',
        'kubernetes.io/service-name': 'web',
        'endpointslice.kubernetes.io/managed-by': 'endpointslice-controller.k8s.io',
      },
      ownerReferences: [
        {
          apiVersion: 'v1',
          kind: 'Service',
          name: 'web',
          uid: 'svc-uid',
          controller: true,
          blockOwnerDeletion: true,
        },
      ],
    });
  });

  it('puts pods that resolve a named port differently into different slices', () => {
    const svc = service({ ports: [{ name: 'http', port: 80, targetPort: 'web', protocol: 'TCP' }] });
    const slices = desiredSlices(svc, [
      pod('a', { ip: '10.244.0.2', ports: [{ name: 'web', containerPort: 8080 }] }),
      pod('b', { ip: '10.244.0.3', ports: [{ name: 'web', containerPort: 9090 }] }),
    ]);
    expect(slices.map((s) => [s.ports.map((p) => p.port), s.endpoints.map((e) => e.addresses[0])])).toEqual([
      [[8080], ['10.244.0.2']],
      [[9090], ['10.244.0.3']],
    ]);
  });

  it('gives a service without endpoints one empty slice', () => {
    const slices = desiredSlices(service(), [pod('other', { labels: { app: 'db' } })]);
    expect(slices).toHaveLength(1);
    expect(slices[0]?.endpoints).toEqual([]);
    expect(slices[0]?.ports).toEqual([]);
  });
});
