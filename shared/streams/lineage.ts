import type { Shard } from '@aws-sdk/client-dynamodb-streams';

/**
 * The shards to start reading now, in the order DescribeStream listed them: those not yet finished
 * whose parent is finished or not listed (it never had one, or the parent was trimmed away after the
 * stream's 24-hour retention). A child shard holds the changes made after its parent closed, so reading
 * it any earlier could deliver a key's later changes before its earlier ones.
 */
export function shardsReadyToRead(shards: readonly Shard[], finished: ReadonlySet<string>): string[] {
  const listed = new Set(shards.map((shard) => shard.ShardId));
  const ready: string[] = [];
  for (const { ShardId: id, ParentShardId: parent } of shards) {
    if (id === undefined || finished.has(id)) continue;
    if (parent === undefined || finished.has(parent) || !listed.has(parent)) ready.push(id);
  }
  return ready;
}

/**
 * The shards a reader starting at LATEST counts as finished from the outset: those already closed, which
 * hold no change newer than its start.
 */
export function closedShards(shards: readonly Shard[]): string[] {
  const closed: string[] = [];
  for (const { ShardId: id, SequenceNumberRange: range } of shards) {
    if (id !== undefined && range?.EndingSequenceNumber !== undefined) closed.push(id);
  }
  return closed;
}
