import type { DynamoDBRecord } from 'aws-lambda';
import { describe, expect, test } from 'vitest';
import { firstFailedIndex } from '../../shared/streams/batch-response.js';

const batch: DynamoDBRecord[] = ['101', '102', '103', '104'].map((SequenceNumber) => ({
  dynamodb: { SequenceNumber },
}));
const failing = (...ids: unknown[]) => ({
  batchItemFailures: ids.map((itemIdentifier) => ({ itemIdentifier })),
});

describe('firstFailedIndex', () => {
  test.each([
    ['nothing', undefined],
    ['null', null],
    ['an empty response', {}],
    ['a null list', { batchItemFailures: null }],
    ['an empty list', { batchItemFailures: [] }],
  ])('counts %s as success', (_, response) => {
    expect(firstFailedIndex(batch, response)).toBeUndefined();
  });

  test('resumes at the failed record with the lowest sequence number', () => {
    expect(firstFailedIndex(batch, failing('104', '102', '103'))).toBe(1);
  });

  test.each([
    ['a sequence number not in the batch', failing('103', '999')],
    ['an empty identifier', failing('')],
    ['a null identifier', failing(null)],
    ['a misspelled key', { batchItemFailures: [{ itemIdentifer: '103' }] }],
    ['a list that is no list', { batchItemFailures: { itemIdentifier: '103' } }],
  ])('fails the whole batch for %s', (_, response) => {
    expect(firstFailedIndex(batch, response)).toBe(0);
  });
});
