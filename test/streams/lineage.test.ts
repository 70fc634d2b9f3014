import type { Shard } from '@aws-sdk/client-dynamodb-streams';
import { describe, expect, test } from 'vitest';
import { closedShards, shardsReadyToRead } from '../../shared/streams/lineage.js';

const closed = (id: string, parent?: string): Shard => ({
  ShardId: id,
  ParentShardId: parent,
  SequenceNumberRange: { StartingSequenceNumber: '100', EndingSequenceNumber: '200' },
});
const open = (id: string, parent?: string): Shard => ({
  ShardId: id,
  ParentShardId: parent,
  SequenceNumberRange: { StartingSequenceNumber: '300' },
});

describe('shardsReadyToRead', () => {
  const shards = [closed('root'), closed('left', 'root'), open('right', 'root'), open('grandchild', 'left')];

  test('starts with the shards whose parent is not listed', () => {
    expect(shardsReadyToRead(shards, new Set())).toEqual(['root']);
  });

  test('reads the children of a closed parent only once the parent is finished', () => {
    expect(shardsReadyToRead(shards, new Set(['root']))).toEqual(['left', 'right']);
    expect(shardsReadyToRead(shards, new Set(['root', 'left']))).toEqual(['right', 'grandchild']);
  });

  test('reads a child whose parent was trimmed away', () => {
    expect(shardsReadyToRead([open('orphan', 'trimmed')], new Set())).toEqual(['orphan']);
  });

  test('has nothing to read once every shard is finished', () => {
    expect(shardsReadyToRead(shards, new Set(['root', 'left', 'right', 'grandchild']))).toEqual([]);
  });
});

describe('closedShards', () => {
  test('lists the shards with an ending sequence number', () => {
    expect(closedShards([closed('root'), open('right', 'root'), closed('left', 'root')])).toEqual([
      'root',
      'left',
    ]);
  });
});
