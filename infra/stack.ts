import { CfnOutput, CfnParameter, Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { ControlPlane } from './control-plane.js';
import { ClusterNetwork } from './network.js';
import { StoreTable } from './store-table.js';

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
    // For now a stack parameter (`cdk deploy --parameters AdminTokenSha256=$(printf %s "$TOKEN" |
    // sha256sum | cut -d' ' -f1)`): only the hash is in the template. A later step stores the token
    // itself (Secrets Manager) for `npm run kubeconfig`.
    const adminTokenSha256 = new CfnParameter(this, 'AdminTokenSha256', {
      type: 'String',
      description: 'SHA-256 (64 hex digits) of the admin bearer token',
      allowedPattern: '^[0-9a-fA-F]{64}$',
      constraintDescription: 'must be a SHA-256 in hex (64 hex digits)',
    });
    this.controlPlane = new ControlPlane(this, 'ControlPlane', {
      table: store.table,
      adminTokenSha256: adminTokenSha256.valueAsString,
    });
    this.network = new ClusterNetwork(this, 'Network', {
      natGateways: Number(this.node.tryGetContext('natGateways') ?? 0),
    });
    new CfnOutput(this, 'StoreTableName', { value: store.table.tableName });
    new CfnOutput(this, 'ApiUrl', { value: this.controlPlane.apiServer.url });
    new CfnOutput(this, 'StackName', { value: this.stackName });
  }
}
