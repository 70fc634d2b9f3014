import { Duration, Validations } from 'aws-cdk-lib';
import { Port, SecurityGroup, SubnetType } from 'aws-cdk-lib/aws-ec2';
import type { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import { Construct } from 'constructs';
import { defaults as agentDefaults } from '../agent/config.js';
import { lambernetesFunction } from './functions.js';
import type { ClusterNetwork } from './network.js';

/**
 * The kubelet relay (functions/kubelet-relay): a function in the workers' subnets that may open
 * connections to the workers' kubelet port and nothing else, so `kubectl logs` works while the API
 * server stays outside the VPC (where AWS's public endpoints are, with no NAT gateway to pay for).
 */
export class KubeletRelay extends Construct {
  readonly fn: NodejsFunction;

  constructor(scope: Construct, id: string, props: { network: ClusterNetwork }) {
    super(scope, id);
    const { vpc, workers } = props.network;
    const kubeletPort = Port.tcp(agentDefaults.kubeletPort);
    const securityGroup = new SecurityGroup(this, 'SecurityGroup', {
      vpc,
      description: 'Lambernetes kubelet relay: out to the worker kubelet endpoints only',
      allowAllOutbound: false,
    });
    securityGroup.addEgressRule(workers, kubeletPort, 'kubelet endpoints');
    workers.addIngressRule(securityGroup, kubeletPort, 'kubelet relay (kubectl logs)');
    const { fn, role } = lambernetesFunction(this, 'Function', {
      entry: 'functions/kubelet-relay/lambda.ts',
      description: 'Lambernetes relay (pods/log from the API server to kubelets in the VPC)',
      // It pipes bytes: the least memory; a followed log may run as long as a watch. In the public
      // subnets, which always exist; it needs no internet, only the workers.
      memoryMiB: 128,
      timeout: Duration.seconds(900),
      environment: {},
      vpc: { vpc, subnets: { subnetType: SubnetType.PUBLIC }, securityGroups: [securityGroup] },
    });
    Validations.of(role).acknowledge({
      id: 'AwsSolutions::AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole]',
      reason:
        "Lambda's own policy for a function in a VPC (creating and removing its network interfaces), " +
        'added by CDK; the function has no other AWS permission.',
    });
    this.fn = fn;
  }
}
