import type { _Record } from '@aws-sdk/client-dynamodb-streams';
import { describe, expect, test } from 'vitest';
import { toLambdaRecord } from '../../shared/streams/records.js';

const source = {
  streamArn: 'arn:aws:dynamodb:us-east-1:123456789012:table/t/stream/2024-01-01T00:00:00.000',
  awsRegion: 'us-east-1',
};

const bytes = (...values: number[]) => new Uint8Array(values);

describe('toLambdaRecord', () => {
  test('reshapes a MODIFY record into the record Lambda delivers', () => {
    const record: _Record = {
      eventID: 'e1',
      eventName: 'MODIFY',
      eventVersion: '1.1',
      eventSource: 'aws:dynamodb',
      awsRegion: 'ddblocal',
      dynamodb: {
        ApproximateCreationDateTime: new Date('2024-05-06T07:08:09.000Z'),
        Keys: { pk: { S: 'a' }, sk: { S: 'b' } },
        NewImage: {
          pk: { S: 'a' },
          sk: { S: 'b' },
          n: { N: '1.5' },
          bin: { B: bytes(1, 2, 255) },
          bins: { BS: [bytes(0), bytes(9, 9)] },
          nested: { M: { list: { L: [{ B: bytes(104, 105) }, { NULL: true }, { BOOL: false }] } } },
          sets: { L: [{ SS: ['x'] }, { NS: ['1', '2'] }] },
        },
        OldImage: { pk: { S: 'a' }, sk: { S: 'b' } },
        SequenceNumber: '000000000000000000042',
        SizeBytes: 64,
        StreamViewType: 'NEW_AND_OLD_IMAGES',
      },
    };
    expect(toLambdaRecord(record, source)).toStrictEqual({
      eventID: 'e1',
      eventName: 'MODIFY',
      eventVersion: '1.1',
      eventSource: 'aws:dynamodb',
      awsRegion: 'us-east-1',
      dynamodb: {
        ApproximateCreationDateTime: 1714979289,
        Keys: { pk: { S: 'a' }, sk: { S: 'b' } },
        NewImage: {
          pk: { S: 'a' },
          sk: { S: 'b' },
          n: { N: '1.5' },
          bin: { B: 'AQL/' },
          bins: { BS: ['AA==', 'CQk='] },
          nested: { M: { list: { L: [{ B: 'aGk=' }, { NULL: true }, { BOOL: false }] } } },
          sets: { L: [{ SS: ['x'] }, { NS: ['1', '2'] }] },
        },
        OldImage: { pk: { S: 'a' }, sk: { S: 'b' } },
        SequenceNumber: '000000000000000000042',
        SizeBytes: 64,
        StreamViewType: 'NEW_AND_OLD_IMAGES',
      },
      eventSourceARN: source.streamArn,
    });
  });

  test('rounds the creation time down to whole epoch seconds', () => {
    const record: _Record = { dynamodb: { ApproximateCreationDateTime: new Date(1714979289999) } };
    expect(toLambdaRecord(record, source).dynamodb?.ApproximateCreationDateTime).toBe(1714979289);
  });

  test('encodes only the bytes a binary view covers', () => {
    const view = new Uint8Array([7, 1, 2, 7]).subarray(1, 3);
    const record: _Record = { dynamodb: { Keys: { pk: { B: view } } } };
    expect(toLambdaRecord(record, source).dynamodb?.Keys).toEqual({ pk: { B: 'AQI=' } });
  });

  test('leaves out the fields the stream did not send', () => {
    const record: _Record = {
      eventID: 'e2',
      eventName: 'REMOVE',
      dynamodb: { Keys: { pk: { S: 'a' } }, OldImage: { pk: { S: 'a' } }, SequenceNumber: '1', SizeBytes: 3 },
    };
    const converted = toLambdaRecord(record, source);
    expect(Object.keys(converted.dynamodb ?? {})).toEqual([
      'Keys',
      'OldImage',
      'SequenceNumber',
      'SizeBytes',
    ]);
    expect(converted).not.toHaveProperty('userIdentity');
  });

  test('passes on an attribute type newer than the SDK as it came', () => {
    const record: _Record = { dynamodb: { Keys: { pk: { $unknown: ['V', { x: 1 }] } } } };
    expect(toLambdaRecord(record, source).dynamodb?.Keys).toEqual({ pk: { V: { x: 1 } } });
  });

  test('spells the identity of a TTL deletion as Lambda does', () => {
    const record: _Record = {
      eventName: 'REMOVE',
      userIdentity: { Type: 'Service', PrincipalId: 'dynamodb.amazonaws.com' },
    };
    expect(toLambdaRecord(record, source).userIdentity).toEqual({
      type: 'Service',
      principalId: 'dynamodb.amazonaws.com',
    });
  });
});
