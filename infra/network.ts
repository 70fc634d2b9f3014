import { Validations } from 'aws-cdk-lib';
import { IpAddresses, Port, SecurityGroup, SubnetType, Vpc } from 'aws-cdk-lib/aws-ec2';
import { Construct } from 'constructs';

export interface ClusterNetworkProps {
  /**
   * NAT gateways for private worker subnets (each costs about $33 a month plus traffic). The default,
   * 0, puts workers in public subnets with public addresses: nothing costs by the hour.
   */
  natGateways?: number;
}

/**
 * The workers' network: a VPC over two availability zones and one security group for the workers,
 * which lets them reach each other (pod-to-pod traffic between nodes, NodePorts, the kubelet
 * endpoint) and the internet (image pulls, the API server's function URL, SQS), and nothing else in.
 */
export class ClusterNetwork extends Construct {
  readonly vpc: Vpc;
  readonly workers: SecurityGroup;

  constructor(scope: Construct, id: string, props: ClusterNetworkProps = {}) {
    super(scope, id);
    const natGateways = props.natGateways ?? 0;
    this.vpc = new Vpc(this, 'Vpc', {
      ipAddresses: IpAddresses.cidr('10.0.0.0/16'),
      maxAzs: 2,
      natGateways,
      subnetConfiguration: [
        { name: 'public', subnetType: SubnetType.PUBLIC, cidrMask: 20 },
        ...(natGateways > 0
          ? [{ name: 'workers', subnetType: SubnetType.PRIVATE_WITH_EGRESS, cidrMask: 20 }]
          : []),
      ],
    });
    Validations.of(this.vpc).acknowledge({
      id: 'AwsSolutions::AwsSolutions-VPC7',
      reason:
        'VPC flow logs are an opt-in cost (CloudWatch Logs ingestion per GB); the cluster does not need them to work.',
    });
    this.workers = new SecurityGroup(this, 'Workers', {
      vpc: this.vpc,
      description: 'Lambernetes workers: each other, and out to the internet',
      allowAllOutbound: true,
    });
    // Pods on different nodes talk with their own addresses (VPC routes per pod CIDR), so every
    // protocol and port between workers.
    this.workers.addIngressRule(this.workers, Port.allTraffic(), 'between workers');
  }
}
