import type { DynamoDBRecord } from 'aws-lambda';

/**
 * Where to resume a batch, read from what the handler returned the way Lambda reads a
 * `DynamoDBBatchResponse` (ReportBatchItemFailures): undefined when the whole batch succeeded (nothing
 * returned, or no or an empty `batchItemFailures` list); otherwise the index of the failed record with the
 * lowest sequence number, the records before it being done. A failure that names no record of the batch
 * (missing, empty or unknown `itemIdentifier`) or a malformed list fails the whole batch: index 0.
 */
export function firstFailedIndex(batch: readonly DynamoDBRecord[], response: unknown): number | undefined {
  if (typeof response !== 'object' || response === null) return undefined;
  const failures: unknown = (response as { batchItemFailures?: unknown }).batchItemFailures;
  if (failures === undefined || failures === null) return undefined;
  if (!Array.isArray(failures)) return 0;
  if (failures.length === 0) return undefined;
  const indexes = failures.map((failure: unknown) => {
    const id = (failure as { itemIdentifier?: unknown } | null | undefined)?.itemIdentifier;
    return typeof id === 'string' && id !== ''
      ? batch.findIndex((record) => record.dynamodb?.SequenceNumber === id)
      : -1;
  });
  return indexes.includes(-1) ? 0 : Math.min(...indexes);
}
