import { describe, expect, it } from 'vitest';
import { monthlyBill, prices, secondsPerMonth } from '../../bench/cost/bill.js';

describe('the monthly bill', () => {
  it('prices a hand-counted month by service, and EKS at 730 hours', () => {
    // One second's usage, scaled to the month: 1 invocation/s of 100 ms at 512 MiB, 10 WRU/s (+1
    // refused write), 20 RRU/s, 2 SQS requests/s, 1 KB/s of audit log, 10 KB/s of responses.
    const usage = {
      lambda: { apiserver: { invocations: 1, billedMs: 100, gbSeconds: 0.05 } },
      dynamodb: {
        'create.TransactWriteItems': { requests: 2, writeUnits: 10, readUnits: 0 },
        'list.Query': { requests: 1, readUnits: 20, writeUnits: 0, refused: 0 },
        'list.UpdateItem': { requests: 1, refused: 1 },
      },
      sqs: { SendMessage: { requests: 2, billedRequests: 2 } },
      logs: { audit: { bytes: 1024 } },
      functionUrl: { apiserver: { requests: 1, requestBytes: 10, responseBytes: 10_240 } },
    };
    const bill = monthlyBill(usage, 1, { retryQueues: 4 });
    const month = secondsPerMonth;
    const line = (item: string) => bill.lines.find((l) => l.item.startsWith(item));
    expect(line('requests')?.quantity).toBeCloseTo(month);
    expect(line('requests')?.usd).toBeCloseTo((month / 1e6) * 0.2);
    expect(line('duration')?.usd).toBeCloseTo(0.05 * month * 1.33334e-5);
    expect(line('on-demand writes')?.quantity).toBeCloseTo(11 * month);
    expect(line('on-demand reads')?.usd).toBeCloseTo(((20 * month) / 1e6) * 0.125);
    // Two requests a second, and four queues polled by five pollers every 20 s.
    expect(line('requests (64 KB')?.quantity).toBeCloseTo(2 * month + 4 * 5 * (month / 20));
    expect(line('ingested')?.quantity).toBeCloseTo(((1024 + 500) * month) / 2 ** 30);
    expect(line('secrets')?.usd).toBeCloseTo(1.2);
    expect(line('API responses')?.usd).toBeCloseTo(((10_240 * month) / 2 ** 30) * 0.09);
    expect(bill.total).toBeCloseTo(bill.lines.reduce((sum, l) => sum + l.usd, 0));
    expect(Object.values(bill.byService).reduce((a, b) => a + b, 0)).toBeCloseTo(bill.total);
    expect(bill.eks).toEqual({ standard: 73, extended: 438 });
    expect(prices['eks.standardSupport.clusterHour']).toBe(0.1);
  });

  it('scales a window to the month', () => {
    const usage = { lambda: { f: { invocations: 60, gbSeconds: 0 } } };
    const perMinute = monthlyBill(usage, 60, { retryQueues: 0 });
    const perSecond = monthlyBill({ lambda: { f: { invocations: 1, gbSeconds: 0 } } }, 1, { retryQueues: 0 });
    expect(perMinute.total).toBeCloseTo(perSecond.total);
  });
});
