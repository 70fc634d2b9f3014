import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  breakEvenNodes,
  calibrate,
  limitUse,
  measuredBill,
  predict,
  predictedBill,
  type Rates,
  type Recorded,
  ratesOf,
  workloadOf,
} from '../../bench/cost/model.js';

const rates = (scale: number, commits = 0): Rates => ({
  invocations: scale,
  gbSeconds: scale / 10,
  readUnits: 3 * scale,
  writeUnits: 2 * scale,
  sqsRequests: scale / 2,
  logBytes: 100 * scale,
  responseBytes: 1000 * scale,
  commits,
});
const add = (...all: Rates[]): Rates =>
  Object.fromEntries(
    Object.keys(all[0] as Rates).map((q) => [q, all.reduce((sum, r) => sum + r[q as keyof Rates], 0)]),
  ) as unknown as Rates;
const times = (r: Rates, k: number) => add(...Array.from({ length: k }, () => r));

describe('the cost model', () => {
  it('recovers each driver from runs made of known parts, and predicts a run it was not given', () => {
    const fixed = rates(1);
    const node = rates(0.5, 0.1);
    const watcher = rates(2);
    const read = rates(3);
    const replacement = rates(7, 5);
    const recorded: Recorded = {
      date: '2026-11-22',
      commit: 'test',
      retryQueues: 4,
      runs: {
        idle: { nodes: 1, windowSeconds: 600, phases: { window: add(fixed, node) } },
        steady: {
          nodes: 10,
          windowSeconds: 300,
          phases: {
            quiet: add(fixed, times(node, 10)),
            watch: add(fixed, times(node, 10), watcher),
            reads: add(fixed, times(node, 10), read),
            window: add(fixed, times(node, 10), read, replacement),
          },
        },
        // 1,000 replacements over 500 s on 10 nodes: 2 a second.
        burst: {
          nodes: 10,
          windowSeconds: 500,
          phases: { window: add(fixed, times(node, 10), times(replacement, 2)) },
        },
      },
    };
    const calibration = calibrate(recorded);
    for (const [got, want] of [
      [calibration.fixed, fixed],
      [calibration.perNode, node],
      [calibration.perWatcher, watcher],
      [calibration.perRead, read],
      [calibration.perReplacement, replacement],
    ] as const) {
      for (const q of Object.keys(want) as (keyof Rates)[]) expect(got[q]).toBeCloseTo(want[q]);
    }
    for (const name of ['idle', 'steady', 'burst'] as const) {
      const run = recorded.runs[name];
      expect(predictedBill(calibration, workloadOf(name, run)).total).toBeCloseTo(measuredBill(run, 4).total);
    }
    // The revision counter's writes: 0.1 per node and 5 per replacement.
    const [nearest] = limitUse(calibration, {
      nodes: 1000,
      podsReplacedPerSecond: 100,
      readsPerSecond: 0,
      watchers: 0,
    });
    expect(nearest?.limit).toBe('counterWritesPerSecond');
    expect(nearest?.used).toBeCloseTo(100 + 500);
    expect(
      predict(calibration, { nodes: 0, podsReplacedPerSecond: 0, readsPerSecond: 0, watchers: 0 }),
    ).toEqual(calibration.fixed);
    const breakEven = breakEvenNodes(calibration, 73) as number;
    expect(
      predictedBill(calibration, {
        nodes: breakEven,
        podsReplacedPerSecond: breakEven / 10,
        readsPerSecond: 1,
        watchers: 0,
      }).total,
    ).toBeGreaterThan(73);
    expect(
      predictedBill(calibration, {
        nodes: breakEven - 1,
        podsReplacedPerSecond: (breakEven - 1) / 10,
        readsPerSecond: 1,
        watchers: 0,
      }).total,
    ).toBeLessThanOrEqual(73);
  });

  it('counts the revision counter writes of the store operations that commit', () => {
    const usage = {
      dynamodb: {
        'create.UpdateItem': { requests: 3, writeUnits: 3 },
        'update.UpdateItem': { requests: 4, writeUnits: 4 },
        'delete.UpdateItem': { requests: 1, writeUnits: 1 },
        'list.UpdateItem': { requests: 9, writeUnits: 2, refused: 7 },
      },
    };
    const r = ratesOf(usage, 2);
    expect(r.commits).toBe(4);
    expect(r.writeUnits).toBe(17 / 2);
  });

  it('reproduces every recorded scenario run within 20 %', () => {
    const recorded = JSON.parse(
      readFileSync(new URL('../../bench/cost/recorded.json', import.meta.url), 'utf8'),
    ) as Recorded;
    const calibration = calibrate(recorded);
    for (const name of ['idle', 'steady', 'burst'] as const) {
      const run = recorded.runs[name];
      const measured = measuredBill(run, recorded.retryQueues).total;
      const model = predictedBill(calibration, workloadOf(name, run)).total;
      expect(Math.abs(model - measured) / measured, name).toBeLessThanOrEqual(0.2);
    }
  });
});
