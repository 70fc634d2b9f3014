import { randomInt } from 'node:crypto';
import { ApiError, StatusReason } from '../../shared/api/errors.js';
import type { ResourceType } from '../../shared/api/resources.js';
import type { KubernetesObject } from '../../shared/api/types.js';
import type { Store } from '../../shared/store/store.js';
import { invalid } from './validation.js';

/**
 * Service ClusterIPs and NodePorts, reserved as kube-apiserver reserves them: one stored object per
 * address (`IPAddress`) or port, created conditionally, so two services can never get the same one.
 */

/** 10.96.0.0/12, kube-apiserver's default service range; .0 and .1 (the `kubernetes` service) are skipped. */
const serviceRange = { first: (10 << 24) | (96 << 16), size: 1 << 20 };
const nodePortRange = { first: 30000, last: 32767 };
const attempts = 32;

const ipKey = (ip: string) => ({ resource: 'ipaddresses.networking.k8s.io', name: ip });
const portKey = (port: number) => ({ resource: 'servicenodeports', name: String(port) });

function ipOf(n: number): string {
  return [24, 16, 8, 0].map((shift) => (n >>> shift) & 255).join('.');
}

function inServiceRange(ip: string): boolean {
  const parts = ip.split('.').map(Number);
  if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255)) return false;
  const n =
    (((parts[0] as number) << 24) |
      ((parts[1] as number) << 16) |
      ((parts[2] as number) << 8) |
      (parts[3] as number)) >>>
    0;
  return n >= serviceRange.first && n < serviceRange.first + serviceRange.size;
}

type ServiceSpec = { type?: string; clusterIP?: string; ports?: { nodePort?: number; port?: number }[] };

async function reserve(
  store: Store,
  key: { resource: string; name: string },
  owner: KubernetesObject,
): Promise<boolean> {
  try {
    await store.create(key, {
      apiVersion: 'v1',
      kind: 'Reservation',
      metadata: { name: key.name },
      spec: {
        parentRef: { resource: 'services', namespace: owner.metadata.namespace, name: owner.metadata.name },
      },
    });
    return true;
  } catch (error) {
    if (error instanceof ApiError && error.reason === StatusReason.AlreadyExists) return false;
    throw error;
  }
}

/** Gives a new service its ClusterIP and NodePorts (the requested ones if free), reserving them. */
export async function allocateServiceAddresses(
  store: Store,
  type: ResourceType,
  service: KubernetesObject,
): Promise<KubernetesObject> {
  const spec = { ...(service.spec as ServiceSpec) };
  const name = service.metadata.name;
  const reserved: { resource: string; name: string }[] = [];
  try {
    if (spec.type !== 'ExternalName' && spec.clusterIP !== 'None') {
      if (spec.clusterIP) {
        if (!inServiceRange(spec.clusterIP)) {
          throw invalid(type, name, [
            {
              type: 'FieldValueInvalid',
              field: 'spec.clusterIP',
              value: spec.clusterIP,
              detail: 'provided IP is not in the valid range. The range of valid IPs is 10.96.0.0/12',
            },
          ]);
        }
        if (!(await reserve(store, ipKey(spec.clusterIP), service))) {
          throw invalid(type, name, [
            {
              type: 'FieldValueInvalid',
              field: 'spec.clusterIP',
              value: spec.clusterIP,
              detail: 'provided IP is already allocated',
            },
          ]);
        }
        reserved.push(ipKey(spec.clusterIP));
      } else {
        for (let i = 0; i < attempts && !spec.clusterIP; i++) {
          const ip = ipOf(serviceRange.first + randomInt(2, serviceRange.size - 1));
          if (await reserve(store, ipKey(ip), service)) {
            spec.clusterIP = ip;
            reserved.push(ipKey(ip));
          }
        }
        if (!spec.clusterIP)
          throw new ApiError(
            500,
            StatusReason.InternalError,
            'failed to allocate a service IP: range is full',
          );
      }
      Object.assign(spec, {
        clusterIPs: [spec.clusterIP],
        ipFamilies: ['IPv4'],
        ipFamilyPolicy: 'SingleStack',
        internalTrafficPolicy: 'Cluster',
      });
    }
    if (spec.type === 'NodePort' || spec.type === 'LoadBalancer') {
      spec.ports = [];
      for (const [index, port] of ((service.spec as ServiceSpec).ports ?? []).entries()) {
        let nodePort = port.nodePort;
        if (nodePort !== undefined) {
          if (
            nodePort < nodePortRange.first ||
            nodePort > nodePortRange.last ||
            !(await reserve(store, portKey(nodePort), service))
          ) {
            throw invalid(type, name, [
              {
                type: 'FieldValueInvalid',
                field: `spec.ports[${index}].nodePort`,
                value: nodePort,
                detail: 'provided port is already allocated or not in the valid range 30000-32767',
              },
            ]);
          }
        } else {
          for (let i = 0; i < attempts && nodePort === undefined; i++) {
            const candidate = randomInt(nodePortRange.first, nodePortRange.last + 1);
            if (await reserve(store, portKey(candidate), service)) nodePort = candidate;
          }
          if (nodePort === undefined)
            throw new ApiError(
              500,
              StatusReason.InternalError,
              'failed to allocate a node port: range is full',
            );
        }
        reserved.push(portKey(nodePort));
        spec.ports.push({ ...port, nodePort });
      }
      Object.assign(spec, {
        externalTrafficPolicy:
          (spec as { externalTrafficPolicy?: string }).externalTrafficPolicy ?? 'Cluster',
      });
    }
    return { ...service, spec };
  } catch (error) {
    await releaseKeys(store, reserved);
    throw error;
  }
}

async function releaseKeys(store: Store, keys: { resource: string; name: string }[]): Promise<void> {
  for (const key of keys) {
    await store.delete(key).catch((error: unknown) => {
      if (!(error instanceof ApiError && error.reason === StatusReason.NotFound)) throw error;
    });
  }
}

/** Frees what a deleted service held. */
export async function releaseServiceAddresses(store: Store, service: KubernetesObject): Promise<void> {
  const spec = (service.spec ?? {}) as ServiceSpec;
  const keys = [
    ...(spec.clusterIP && spec.clusterIP !== 'None' ? [ipKey(spec.clusterIP)] : []),
    ...(spec.ports ?? []).flatMap((p) => (p.nodePort ? [portKey(p.nodePort)] : [])),
  ];
  await releaseKeys(store, keys);
}
