import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { StoreTable } from './store-table.js';

/** The whole cluster in one stack. So far: the store's table. */
export class LambernetesStack extends Stack {
  constructor(scope: Construct, id: string, props?: StackProps) {
    super(scope, id, props);
    const store = new StoreTable(this, 'Store');
    new CfnOutput(this, 'StoreTableName', { value: store.table.tableName });
  }
}
