import { describe, expect, it } from 'vitest';
import { milliValue, resourceAmount, value } from '../../shared/api/quantity.js';

describe('quantities', () => {
  it('parses CPU to millicores exactly', () => {
    expect(milliValue('100m')).toBe(100);
    expect(milliValue('0.5')).toBe(500);
    expect(milliValue('2')).toBe(2000);
    expect(milliValue('0.1')).toBe(100);
    expect(milliValue('.25')).toBe(250);
    expect(milliValue('1.')).toBe(1000);
    expect(milliValue('250000u')).toBe(250);
  });

  it('rounds a fraction of a millicore up, as Quantity.MilliValue does', () => {
    expect(milliValue('1n')).toBe(1);
    expect(milliValue('0.0001')).toBe(1);
    expect(milliValue('100500u')).toBe(101);
  });

  it('parses memory with binary and decimal suffixes and exponents', () => {
    expect(value('128Mi')).toBe(128 * 2 ** 20);
    expect(value('1Gi')).toBe(2 ** 30);
    expect(value('1G')).toBe(1e9);
    expect(value('500M')).toBe(5e8);
    expect(value('1e3')).toBe(1000);
    expect(value('1E3')).toBe(1000);
    expect(value('12e-1')).toBe(2);
    expect(value('1.5Gi')).toBe(1.5 * 2 ** 30);
    expect(value('1k')).toBe(1000);
    expect(value('1Ki')).toBe(1024);
    expect(value('123456789')).toBe(123456789);
    expect(value('1Ei')).toBe(Number.MAX_SAFE_INTEGER);
  });

  it('takes a sign, and refuses what is not a quantity', () => {
    expect(value('+5')).toBe(5);
    expect(value('-5')).toBe(-5);
    for (const bad of ['', 'abc', '1KB', '1 Gi', '1.2.3', 'Mi', '1e', '--1'])
      expect(value(bad)).toBeUndefined();
  });

  it('scales cpu to millicores and every other resource to whole units', () => {
    expect(resourceAmount('cpu', '1')).toBe(1000);
    expect(resourceAmount('memory', '1Ki')).toBe(1024);
    expect(resourceAmount('nvidia.com/gpu', '2')).toBe(2);
    expect(resourceAmount('cpu', undefined)).toBeUndefined();
  });
});
