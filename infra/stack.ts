import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { ControlPlane } from './control-plane.js';
import { ClusterNetwork } from './network.js';
import { StoreTable } from './store-table.js';
import { ClusterTokens } from './tokens.js';

/**
 * The whole cluster in one stack. So far: the store's table, the API server behind its function URL,
 * the stream-driven control functions with their queues and schedules, and the workers' network.
 */
export class LambernetesStack extends Stack {
  readonly controlPlane: ControlPlane;
  readonly network: ClusterNetwork;

  constructor(scope: Construct, id: string, props?: StackProps) {
    super(scope, id, props);
    const store = new StoreTable(this, 'Store');
    const tokens = new ClusterTokens(this, 'Tokens');
    this.controlPlane = new ControlPlane(this, 'ControlPlane', {
      table: store.table,
      adminToken: tokens.admin,
      workerToken: tokens.worker,
    });
    this.network = new ClusterNetwork(this, 'Network', {
      natGateways: Number(this.node.tryGetContext('natGateways') ?? 0),
    });
    new CfnOutput(this, 'StoreTableName', { value: store.table.tableName });
    new CfnOutput(this, 'ApiUrl', { value: this.controlPlane.apiServer.url });
    new CfnOutput(this, 'StackName', { value: this.stackName });
    new CfnOutput(this, 'AdminTokenSecret', {
      value: tokens.admin.secretArn,
      description: 'The secret holding the admin token (npm run kubeconfig reads it)',
    });
  }
}
