import { describe, expect, it } from 'vitest';
import { type AllocationEntry, usageOf } from '../../functions/scheduler/allocation.js';
import {
  effectiveTaints,
  filterNode,
  matchesNodeSelector,
  Reason,
  tolerates,
} from '../../functions/scheduler/filters.js';
import { podRequest } from '../../functions/scheduler/requests.js';
import { node, pod } from './fixtures.js';

const entry = (cpuMilli: number, memoryBytes = 0, hostPorts: string[] = []): AllocationEntry => ({
  namespace: 'default',
  name: 'x',
  cpuMilli,
  memoryBytes,
  hostPorts,
  reservedAt: new Date().toISOString(),
});

const check = (p: ReturnType<typeof pod>, n: ReturnType<typeof node>, entries: AllocationEntry[] = []) =>
  filterNode(p, podRequest(p), n, usageOf(entries));

describe('filters', () => {
  it('passes a pod that fits a Ready node', () => {
    expect(check(pod('p', [{ cpu: '1' }]), node('n'))).toBeUndefined();
  });

  it('rejects requests beyond what is left, naming every short resource', () => {
    const p = pod('p', [{ cpu: '1', memory: '1Gi' }]);
    const n = node('n', { cpu: '2', memory: '2Gi' });
    expect(check(p, n, [entry(1000, 2 ** 30)])).toBeUndefined();
    expect(check(p, n, [entry(1500, 2 ** 30 + 1)])).toEqual({
      reasons: ['Insufficient cpu', 'Insufficient memory'],
      resolvable: true,
    });
  });

  it('counts pods against the node pod limit', () => {
    const n = node('n', { pods: '2' });
    expect(check(pod('p'), n, [entry(0), entry(0)])).toEqual({
      reasons: ['Too many pods'],
      resolvable: true,
    });
  });

  it('ignores a resource the pod does not request, even on an overcommitted node', () => {
    expect(check(pod('p', [{ memory: '1Mi' }]), node('n', { cpu: '1' }), [entry(5000)])).toBeUndefined();
  });

  it('rejects an extended resource the node does not have', () => {
    const p = pod('p', [], { containers: [{ name: 'c', resources: { limits: { 'nvidia.com/gpu': '1' } } }] });
    expect(check(p, node('n'))?.reasons).toEqual(['Insufficient nvidia.com/gpu']);
    expect(check(p, node('g', { extra: { 'nvidia.com/gpu': '1' } }))).toBeUndefined();
  });

  it('rejects a cordoned node unless the pod tolerates unschedulable', () => {
    const n = node('n', { spec: { unschedulable: true } });
    expect(check(pod('p'), n)).toEqual({ reasons: [Reason.unschedulable], resolvable: false });
    const tolerant = pod('p', [{}], {
      tolerations: [{ key: 'node.kubernetes.io/unschedulable', operator: 'Exists', effect: 'NoSchedule' }],
    });
    expect(check(tolerant, n)).toBeUndefined();
  });

  it('rejects NoSchedule and NoExecute taints the pod does not tolerate, naming the first', () => {
    const n = node('n', {
      spec: {
        taints: [
          { key: 'soft', value: 'x', effect: 'PreferNoSchedule' },
          { key: 'dedicated', value: 'gpu', effect: 'NoSchedule' },
          { key: 'evict', effect: 'NoExecute' },
        ],
      },
    });
    expect(check(pod('p'), n)).toEqual({
      reasons: ['node(s) had untolerated taint {dedicated: gpu}'],
      resolvable: false,
    });
    const some = pod('p', [{}], { tolerations: [{ key: 'dedicated', value: 'gpu', effect: 'NoSchedule' }] });
    expect(check(some, n)?.reasons).toEqual(['node(s) had untolerated taint {evict: }']);
    const all = pod('p', [{}], { tolerations: [{ operator: 'Exists' }] });
    expect(check(all, n)).toBeUndefined();
  });

  it('matches tolerations as upstream', () => {
    const taint = { key: 'k', value: 'v', effect: 'NoSchedule' as const };
    expect(tolerates({ key: 'k', value: 'v' }, taint)).toBe(true);
    expect(tolerates({ key: 'k', operator: 'Equal', value: 'w' }, taint)).toBe(false);
    expect(tolerates({ key: 'k', operator: 'Exists' }, taint)).toBe(true);
    expect(tolerates({ key: 'k', operator: 'Exists', effect: 'NoExecute' }, taint)).toBe(false);
    expect(tolerates({ operator: 'Exists' }, taint)).toBe(true);
    expect(tolerates({ key: 'other', operator: 'Exists' }, taint)).toBe(false);
  });

  it('treats a node that is not Ready as tainted not-ready, and one not heard from as unreachable', () => {
    expect(check(pod('p'), node('n', { ready: 'False' }))?.reasons).toEqual([
      'node(s) had untolerated taint {node.kubernetes.io/not-ready: }',
    ]);
    expect(check(pod('p'), node('n', { ready: null }))?.reasons).toEqual([
      'node(s) had untolerated taint {node.kubernetes.io/not-ready: }',
    ]);
    expect(check(pod('p'), node('n', { ready: 'Unknown' }))?.reasons).toEqual([
      'node(s) had untolerated taint {node.kubernetes.io/unreachable: }',
    ]);
    const tolerant = pod('p', [{}], {
      tolerations: [{ key: 'node.kubernetes.io/not-ready', operator: 'Exists' }],
    });
    expect(check(tolerant, node('n', { ready: 'False' }))).toBeUndefined();
    expect(effectiveTaints(node('n'))).toEqual([]);
  });

  it('requires every nodeSelector label', () => {
    const p = pod('p', [{}], { nodeSelector: { disk: 'ssd', zone: 'a' } });
    expect(check(p, node('n', { labels: { disk: 'ssd', zone: 'a' } }))).toBeUndefined();
    expect(check(p, node('n', { labels: { disk: 'ssd' } }))).toEqual({
      reasons: [Reason.affinity],
      resolvable: false,
    });
  });

  it('evaluates required node affinity: terms ORed, requirements ANDed, every operator', () => {
    const n = node('n1', { labels: { zone: 'a', gen: '5', disk: 'ssd' } });
    const withTerms = (...nodeSelectorTerms: object[]) =>
      pod('p', [{}], {
        affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms } } },
      } as never);
    const expr = (key: string, operator: string, values?: string[]) => ({
      matchExpressions: [{ key, operator, ...(values ? { values } : {}) }],
    });
    const yes = [
      expr('zone', 'In', ['a', 'b']),
      expr('zone', 'NotIn', ['c']),
      expr('missing', 'NotIn', ['c']),
      expr('disk', 'Exists'),
      expr('gpu', 'DoesNotExist'),
      expr('gen', 'Gt', ['4']),
      expr('gen', 'Lt', ['6']),
      { matchFields: [{ key: 'metadata.name', operator: 'In', values: ['n1'] }] },
      { matchFields: [{ key: 'metadata.name', operator: 'NotIn', values: ['n2'] }] },
    ];
    const no = [
      expr('zone', 'In', ['b']),
      expr('zone', 'NotIn', ['a']),
      expr('disk', 'DoesNotExist'),
      expr('gpu', 'Exists'),
      expr('gen', 'Gt', ['5']),
      expr('gen', 'Lt', ['x']),
      expr('zone', 'Gt', ['1']),
      { matchFields: [{ key: 'metadata.name', operator: 'In', values: ['n2'] }] },
      {},
    ];
    for (const term of yes) expect(matchesNodeSelector(withTerms(term), n), JSON.stringify(term)).toBe(true);
    for (const term of no) expect(matchesNodeSelector(withTerms(term), n), JSON.stringify(term)).toBe(false);
    expect(matchesNodeSelector(withTerms(no[0] as object, yes[0] as object), n)).toBe(true);
    const both = {
      matchExpressions: [
        { key: 'zone', operator: 'In', values: ['a'] },
        { key: 'zone', operator: 'In', values: ['b'] },
      ],
    };
    expect(matchesNodeSelector(withTerms(both), n)).toBe(false);
    expect(check(withTerms(no[0] as object), n)).toEqual({ reasons: [Reason.affinity], resolvable: false });
  });

  it('rejects a node where a host port is taken', () => {
    const p = pod('p', [], { containers: [{ name: 'c', ports: [{ containerPort: 80, hostPort: 8080 }] }] });
    expect(check(p, node('n'), [entry(0, 0, ['TCP/0.0.0.0/8080'])])).toEqual({
      reasons: [Reason.ports],
      resolvable: true,
    });
    expect(check(p, node('n'), [entry(0, 0, ['UDP/0.0.0.0/8080'])])).toBeUndefined();
  });

  it('stops at the first failing filter, in upstream order', () => {
    const n = node('n', {
      cpu: '1',
      spec: { unschedulable: true, taints: [{ key: 'k', effect: 'NoSchedule' }] },
    });
    expect(check(pod('p', [{ cpu: '2' }]), n)?.reasons).toEqual([Reason.unschedulable]);
  });
});
