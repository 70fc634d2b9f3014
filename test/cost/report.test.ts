import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { describe, expect, it } from 'vitest';
import { monthlyBill } from '../../bench/cost/bill.js';
import { costChart } from '../../bench/cost/report.js';

describe('the cost chart', () => {
  it('is a valid SVG with a stacked bar per scenario and the EKS lines', () => {
    const small = monthlyBill({ lambda: { apiserver: { invocations: 1, gbSeconds: 0.01 } } }, 1, {
      retryQueues: 4,
    });
    const large = monthlyBill(
      {
        lambda: { apiserver: { invocations: 10, gbSeconds: 0.5 } },
        dynamodb: { x: { readUnits: 50, writeUnits: 20 } },
      },
      1,
      { retryQueues: 4 },
    );
    const svg = costChart([
      { label: 'idle <1 node>', bill: small },
      { label: 'steady', bill: large },
    ]);
    expect(XMLValidator.validate(svg)).toBe(true);
    const parsed = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '' }).parse(svg);
    expect(parsed.svg.xmlns).toBe('http://www.w3.org/2000/svg');
    const rects = [parsed.svg.rect].flat() as { height: string; y: string; title?: string }[];
    const bars = rects.filter((r) => r.title !== undefined);
    // Each bar has a segment per service with a cost: Lambda and Secrets Manager (and SQS's polling)
    // for the small one, DynamoDB as well for the large one.
    const services = (bill: typeof small) => Object.values(bill.byService).filter((v) => v > 0).length;
    expect(bars).toHaveLength(services(small) + services(large));
    for (const bar of bars) {
      expect(Number(bar.height)).toBeGreaterThan(0);
      expect(Number.isFinite(Number(bar.y))).toBe(true);
    }
    const texts = [parsed.svg.text].flat().map((t) => (typeof t === 'object' ? t['#text'] : t));
    expect(texts).toContain('idle <1 node>');
    expect(texts.some((t) => String(t).startsWith('EKS standard'))).toBe(true);
  });
});
