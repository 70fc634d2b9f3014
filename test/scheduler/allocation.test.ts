import { describe, expect, it } from 'vitest';
import {
  type AllocationEntry,
  type AllocationRecord,
  entryFor,
  syncedEntries,
  usageOf,
} from '../../functions/scheduler/allocation.js';
import { podRequest } from '../../functions/scheduler/requests.js';
import type { Pod } from '../../shared/api/core.js';
import { pod } from './fixtures.js';

const now = new Date('2025-01-01T00:01:00Z');
const ago = (ms: number) => new Date(now.getTime() - ms).toISOString();

const entry = (name: string, reservedAt: string): AllocationEntry => ({
  namespace: 'default',
  name,
  cpuMilli: 100,
  memoryBytes: 0,
  hostPorts: [],
  reservedAt,
});

const record = (entries: Record<string, AllocationEntry>): AllocationRecord => ({
  metadata: { name: 'n', resourceVersion: '5' },
  pods: entries,
});

const bound = (name: string, nodeName = 'n', extra: Partial<Pod['status']> = {}): Pod => ({
  ...pod(name, [{ cpu: '100m' }], { nodeName }),
  status: { phase: 'Running', ...extra },
});

function sync(r: AllocationRecord | undefined, pods: Pod[]) {
  const byUid = new Map(pods.map((p) => [p.metadata.uid as string, p]));
  const onNode = pods.filter((p) => p.spec.nodeName === 'n');
  return syncedEntries(r, 'n', byUid, onNode, (p) => entryFor(p, podRequest(p), now), now);
}

describe('allocation records', () => {
  it('sums what the entries take, by owner too', () => {
    const usage = usageOf([
      { ...entry('a', ago(0)), owner: 'rs', hostPorts: ['TCP/0.0.0.0/80'] },
      { ...entry('b', ago(0)), owner: 'rs', nonZero: { cpuMilli: 100, memoryBytes: 5 }, scalars: { gpu: 1 } },
    ]);
    expect(usage).toMatchObject({ cpuMilli: 200, pods: 2, nonZeroMemoryBytes: 5, scalars: { gpu: 1 } });
    expect(usage.hostPorts).toEqual(['TCP/0.0.0.0/80']);
    expect(usage.owners.get('rs')).toBe(2);
  });

  it('keeps entries of pods bound to the node, and of young reservations not bound yet', () => {
    const r = record({ 'uid-a': entry('a', ago(120_000)), 'uid-b': entry('b', ago(5_000)) });
    expect(sync(r, [bound('a'), { ...pod('b'), status: { phase: 'Pending' } }])).toBeUndefined();
  });

  it('releases deleted, finished, rebound and leaked reservations', () => {
    const r = record({
      'uid-gone': entry('gone', ago(1_000)),
      'uid-done': entry('done', ago(120_000)),
      'uid-failed': entry('failed', ago(120_000)),
      'uid-elsewhere': entry('elsewhere', ago(1_000)),
      'uid-leaked': entry('leaked', ago(40_000)),
      'uid-kept': entry('kept', ago(120_000)),
    });
    const next = sync(r, [
      bound('done', 'n', { phase: 'Succeeded' }),
      bound('failed', 'n', { phase: 'Failed' }),
      bound('elsewhere', 'm'),
      { ...pod('leaked'), status: { phase: 'Pending' } },
      bound('kept'),
    ]);
    expect(Object.keys(next ?? {})).toEqual(['uid-kept']);
  });

  it('adds pods running on the node that no entry accounts for', () => {
    const next = sync(undefined, [bound('a'), bound('b', 'n', { phase: 'Succeeded' }), bound('c', 'm')]);
    expect(Object.keys(next ?? {})).toEqual(['uid-a']);
    expect(next?.['uid-a']).toMatchObject({ name: 'a', cpuMilli: 100, reservedAt: now.toISOString() });
  });
});
