import { describe, expect, it } from 'vitest';
import {
  formatLabelSelector,
  formatLabels,
  selectorString,
} from '../../../functions/apiserver/table/labels.js';

describe('label maps', () => {
  it('print as sorted k=v pairs, <none> when empty', () => {
    expect(formatLabels({ tier: 'web', app: 'nginx' })).toBe('app=nginx,tier=web');
    expect(formatLabels({})).toBe('<none>');
    expect(formatLabels(undefined)).toBe('<none>');
  });
});

describe('label selectors', () => {
  it('print requirements sorted by key, with set values sorted', () => {
    expect(
      selectorString({
        matchLabels: { app: 'web' },
        matchExpressions: [
          { key: 'tier', operator: 'In', values: ['frontend', 'backend'] },
          { key: 'env', operator: 'NotIn', values: ['prod'] },
          { key: 'canary', operator: 'DoesNotExist' },
          { key: 'example.com/managed', operator: 'Exists' },
        ],
      }),
    ).toBe('app=web,!canary,env notin (prod),example.com/managed,tier in (backend,frontend)');
  });

  it('are empty for a nil or empty selector: <none> where upstream formats them', () => {
    expect(selectorString(undefined)).toBe('');
    expect(selectorString({})).toBe('');
    expect(formatLabelSelector({ matchLabels: {} })).toBe('<none>');
  });

  it('are invalid for unknown operators, bad keys or values, or wrong value counts', () => {
    expect(
      selectorString({ matchExpressions: [{ key: 'a', operator: 'Gt', values: ['1'] }] }),
    ).toBeUndefined();
    expect(selectorString({ matchExpressions: [{ key: 'a', operator: 'In', values: [] }] })).toBeUndefined();
    expect(
      selectorString({ matchExpressions: [{ key: 'a', operator: 'Exists', values: ['x'] }] }),
    ).toBeUndefined();
    expect(selectorString({ matchLabels: { 'bad key': 'x' } })).toBeUndefined();
    expect(selectorString({ matchLabels: { app: 'has space' } })).toBeUndefined();
    expect(formatLabelSelector({ matchLabels: { '-a': 'x' } })).toBe('<error>');
  });
});
