import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { ControlPlane } from './control-plane.js';
import { KubeletRelay } from './kubelet-relay.js';
import { ClusterNetwork } from './network.js';
import { StoreTable } from './store-table.js';
import { ClusterTokens } from './tokens.js';
import { Workers } from './workers.js';

/**
 * The whole cluster in one stack: the store's table, the cluster's tokens, the API server behind its
 * function URL, the stream-driven control functions with their queues and schedules (the cloud
 * controller among them), the workers' network and the workers.
 */
export class LambernetesStack extends Stack {
  readonly controlPlane: ControlPlane;
  readonly network: ClusterNetwork;
  readonly workers: Workers;
  readonly tokens: ClusterTokens;

  constructor(scope: Construct, id: string, props?: StackProps) {
    super(scope, id, props);
    const store = new StoreTable(this, 'Store');
    const tokens = new ClusterTokens(this, 'Tokens');
    this.tokens = tokens;
    this.controlPlane = new ControlPlane(this, 'ControlPlane', {
      table: store.table,
      adminToken: tokens.admin,
      workerToken: tokens.worker,
    });
    this.network = new ClusterNetwork(this, 'Network', {
      natGateways: Number(this.node.tryGetContext('natGateways') ?? 0),
    });
    this.workers = new Workers(this, 'Workers', {
      network: this.network,
      apiUrl: this.controlPlane.apiServer.url,
      workerToken: tokens.worker,
      nodeQueuePrefix: this.controlPlane.nodeQueuePrefix,
    });
    this.controlPlane.manageWorkers(this.workers, this.network);
    const relay = new KubeletRelay(this, 'KubeletRelay', { network: this.network });
    this.controlPlane.apiServer.relayKubeletsThrough(relay.fn);
    new CfnOutput(this, 'StoreTableName', { value: store.table.tableName });
    new CfnOutput(this, 'ApiUrl', { value: this.controlPlane.apiServer.url });
    new CfnOutput(this, 'StackName', { value: this.stackName });
    new CfnOutput(this, 'AdminTokenSecret', {
      value: tokens.admin.secretArn,
      description: 'The secret holding the admin token (npm run kubeconfig reads it)',
    });
  }
}
