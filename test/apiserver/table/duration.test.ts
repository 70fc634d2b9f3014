import { describe, expect, it } from 'vitest';
import { humanDuration, rfc3339, since } from '../../../functions/apiserver/table/duration.js';
import { ago, now } from './helpers.js';

const s = 1000;
const m = 60 * s;
const h = 60 * m;
const d = 24 * h;

describe('humanDuration', () => {
  it.each([
    [5 * s, '5s'],
    [70 * s, '70s'],
    [119 * s, '119s'],
    [120 * s, '2m'],
    [190 * s, '3m10s'],
    [200 * s, '3m20s'],
    [9 * m + 59 * s, '9m59s'],
    [10 * m + 30 * s, '10m'],
    [70 * m, '70m'],
    [179 * m, '179m'],
    [3 * h, '3h'],
    [4 * h + 30 * m, '4h30m'],
    [8 * h + 30 * m, '8h'],
    [47 * h, '47h'],
    [49 * h, '2d1h'],
    [51 * h, '2d3h'],
    [3 * d, '3d'],
    [8 * d + 2 * h, '8d'],
    [367 * d, '367d'],
    [365 * 2 * d + 25 * h, '2y1d'],
    [365 * 3 * d, '3y'],
    [365 * 8 * d + 2 * h, '8y'],
    [365 * 20 * d, '20y'],
  ])('formats %d ms as %s', (ms, text) => {
    expect(humanDuration(ms)).toBe(text);
  });

  it('tolerates under two seconds of clock skew into the future as 0s, and calls more <invalid>', () => {
    expect(humanDuration(-1500)).toBe('0s');
    expect(humanDuration(-1000)).toBe('0s');
    expect(humanDuration(-2000)).toBe('<invalid>');
    expect(humanDuration(0)).toBe('0s');
  });
});

describe('ages', () => {
  it('are measured to the given now', () => {
    expect(since(ago(200), now)).toBe('3m20s');
  });

  it('are <unknown> for an unset, null, empty or Go-zero time', () => {
    for (const t of [undefined, null, '', '0001-01-01T00:00:00Z']) expect(since(t, now)).toBe('<unknown>');
  });

  it('accept micro-time precision', () => {
    expect(since('2024-05-01T11:59:55.123456Z', now)).toBe('4s');
  });
});

describe('RFC 3339 dates', () => {
  it('drop fractional seconds and print the zero time for an unset one', () => {
    expect(rfc3339('2024-05-01T11:59:55.123456Z')).toBe('2024-05-01T11:59:55Z');
    expect(rfc3339('2024-05-01T13:59:55+02:00')).toBe('2024-05-01T11:59:55Z');
    expect(rfc3339(undefined)).toBe('0001-01-01T00:00:00Z');
  });
});
