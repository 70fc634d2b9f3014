/**
 * Wire shapes of core/v1 Endpoints and discovery.k8s.io/v1 EndpointSlice, as far as these
 * controllers write them (shared/api/core.ts does not carry them).
 */
import type { KubernetesObject } from '../../../shared/api/types.js';

export interface ObjectReference {
  kind: string;
  namespace: string;
  name: string;
  uid: string;
}

export interface EndpointAddress {
  ip: string;
  hostname?: string;
  nodeName?: string;
  targetRef: ObjectReference;
}

export interface EndpointPort {
  name?: string;
  port: number;
  protocol: string;
  appProtocol?: string;
}

export interface EndpointSubset {
  addresses?: EndpointAddress[];
  notReadyAddresses?: EndpointAddress[];
  ports?: EndpointPort[];
}

export interface Endpoints extends KubernetesObject {
  subsets?: EndpointSubset[];
}

export interface SliceEndpoint {
  addresses: string[];
  conditions: { ready: boolean; serving: boolean; terminating: boolean };
  hostname?: string;
  nodeName?: string;
  targetRef: ObjectReference;
}

/** A slice port: `name` is always present (possibly empty), as the EndpointSlice controller writes it. */
export interface SlicePort {
  name: string;
  port: number;
  protocol: string;
  appProtocol?: string;
}

export interface EndpointSlice extends KubernetesObject {
  addressType: 'IPv4' | 'IPv6' | 'FQDN';
  endpoints: SliceEndpoint[];
  ports: SlicePort[];
}
