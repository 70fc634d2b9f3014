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
      serviceAccountSigning: tokens.serviceAccountSigning,
      clusterName: this.stackName,
    });
    this.network = new ClusterNetwork(this, 'Network', {
      natGateways: Number(this.node.tryGetContext('natGateways') ?? 0),
    });
    this.workers = new Workers(this, 'Workers', {
      network: this.network,
      apiUrl: this.controlPlane.apiServer.url,
      workerToken: tokens.worker,
      clusterName: this.stackName,
      nodeQueuePrefix: this.controlPlane.nodeQueuePrefix,
    });
    this.controlPlane.manageWorkers(this.workers, this.network);
    // Each worker is the node its private DNS name names (as EKS maps worker roles), and the roles the
    // `adminRoleArns` context lists (comma-separated) are cluster admins.
    this.controlPlane.apiServer.mapIamIdentities({
      roles: [
        {
          roleArn: this.workers.role.roleArn,
          username: 'system:node:{{EC2PrivateDNSName}}',
          groups: ['system:nodes'],
        },
        ...adminRoleArns(this.node.tryGetContext('adminRoleArns')).map((roleArn) => ({
          roleArn,
          username: 'admin:{{SessionName}}',
          groups: ['system:masters'],
        })),
      ],
    });
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

/** The `adminRoleArns` context: IAM role ARNs, comma-separated (or a list, from cdk.json). */
function adminRoleArns(context: unknown): string[] {
  const list = Array.isArray(context) ? context : typeof context === 'string' ? context.split(',') : [];
  return list.map((arn) => String(arn).trim()).filter((arn) => arn !== '');
}
