import { setTimeout as delay } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { WorkQueue } from '../../agent/kubelet/work-queue.js';

describe('the kubelet work queue', () => {
  it('never works on one key twice at once, and works again on a key added meanwhile', async () => {
    const log: string[] = [];
    let concurrent = 0;
    let most = 0;
    const queue = new WorkQueue(async (key) => {
      concurrent++;
      most = Math.max(most, concurrent);
      log.push(`start ${key}`);
      await delay(20);
      log.push(`end ${key}`);
      concurrent--;
    }, 4);
    queue.add('a');
    queue.add('a'); // queued once
    await delay(5);
    queue.add('a'); // while a runs: once more afterwards
    queue.add('a');
    queue.add('b');
    await queue.drained();
    expect(log.filter((l) => l === 'start a')).toHaveLength(2);
    expect(log.indexOf('start a', 1)).toBeGreaterThan(log.indexOf('end a'));
    expect(log).toContain('end b');
    expect(most).toBe(2);
  });

  it('bounds concurrency and reports failures without stopping', async () => {
    let concurrent = 0;
    let most = 0;
    const errors: string[] = [];
    const queue = new WorkQueue(
      async (key) => {
        concurrent++;
        most = Math.max(most, concurrent);
        await delay(10);
        concurrent--;
        if (key === 'k3') throw new Error('boom');
      },
      2,
      (key) => errors.push(key),
    );
    for (let i = 0; i < 8; i++) queue.add(`k${i}`);
    await queue.drained();
    expect(most).toBe(2);
    expect(errors).toEqual(['k3']);
  });

  it('re-adds a key later, keeping the earliest of several requests', async () => {
    const seen: number[] = [];
    const started = Date.now();
    const queue = new WorkQueue(async () => void seen.push(Date.now() - started));
    queue.after('x', 200);
    queue.after('x', 30);
    queue.after('x', 100);
    await delay(150);
    expect(seen).toHaveLength(1);
    expect(seen[0]).toBeLessThan(100);
    await queue.stop();
  });
});
