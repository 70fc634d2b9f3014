/**
 * What a node of the group offers before any of them has registered (scale-up from zero): the
 * agent's own arithmetic (agent/kubelet/node-status.ts) on the instance type's nominal size. Once a
 * worker of the group registers, its reported allocatable is used instead.
 */
import { defaults } from '../../agent/config.js';
import { milliValue, value } from '../../shared/api/quantity.js';
import type { NodeTemplate } from './scaling.js';

/** An instance type as DescribeInstanceTypes reports it. */
export interface InstanceTypeInfo {
  instanceType: string;
  vcpus: number;
  memoryMiB: number;
  /** EC2's names: `arm64`, `x86_64`, `i386`, `arm64_mac`… */
  architectures: string[];
}

const mi = 1024 * 1024;
/** The share of nominal memory the kernel keeps for itself (a 8 GiB instance shows ~7.6 GiB). */
const kernelShare = 0.05;
/** The agent's hard eviction threshold, as upstream's `memory.available<100Mi`. */
const evictionThresholdBytes = 100 * mi;

/** Kubernetes' architecture names for EC2's. */
const architectureOf = (ec2: string) => (ec2 === 'x86_64' ? 'amd64' : ec2 === 'arm64' ? 'arm64' : ec2);

export function nodeTemplate(type: InstanceTypeInfo): NodeTemplate {
  const reservedCpuMilli = milliValue(defaults.reservedCPU) ?? 0;
  const reservedMemory = value(defaults.reservedMemory) ?? 0;
  const memoryBytes = Math.floor(type.memoryMiB * mi * (1 - kernelShare));
  const allocatableMemory = Math.max(0, memoryBytes - reservedMemory - evictionThresholdBytes);
  const architecture = type.architectures[0];
  return {
    allocatable: {
      cpu: `${Math.max(0, type.vcpus * 1000 - reservedCpuMilli)}m`,
      memory: `${Math.floor(allocatableMemory / 1024)}Ki`,
      pods: String(defaults.maxPods),
    },
    labels: {
      'node.kubernetes.io/instance-type': type.instanceType,
      ...(architecture ? { 'kubernetes.io/arch': architectureOf(architecture) } : {}),
    },
  };
}
