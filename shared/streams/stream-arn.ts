import { DescribeTableCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';

/** The ARN of the table's current stream; fails if the table has no stream enabled. */
export async function streamArnOf(client: DynamoDBClient, tableName: string): Promise<string> {
  const { Table: table } = await client.send(new DescribeTableCommand({ TableName: tableName }));
  if (!table?.StreamSpecification?.StreamEnabled || table.LatestStreamArn === undefined) {
    throw new Error(`Table ${tableName} has no stream enabled`);
  }
  return table.LatestStreamArn;
}
