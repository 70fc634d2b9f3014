import { join } from 'node:path';
import { AssetHashType, CfnParameter, DockerImage, Stack, Validations } from 'aws-cdk-lib';
import { AutoScalingGroup } from 'aws-cdk-lib/aws-autoscaling';
import {
  AmazonLinuxCpuType,
  BlockDeviceVolume,
  EbsDeviceVolumeType,
  InstanceType,
  LaunchTemplate,
  MachineImage,
  SubnetType,
  UserData,
} from 'aws-cdk-lib/aws-ec2';
import { PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Asset } from 'aws-cdk-lib/aws-s3-assets';
import type { ISecret } from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { instanceTag } from '../functions/notifier/queues.js';
import { agentBundleFiles, buildAgentBundle } from './agent-bundle.js';
import { projectRoot } from './functions.js';
import { acknowledgeWildcard, nodeQueuesArn } from './nag.js';
import type { ClusterNetwork } from './network.js';

/**
 * The pod network: a /10 outside the VPC, so VPC routes (one per node, made by the cloud controller)
 * can carry it. Each worker's /24 is derived from its address in `workerCidr` (infra/worker/bootstrap.sh),
 * so the /10's 16,384 /24s cover every address of the VPC's first /18, where the worker subnets are.
 */
export const clusterCidr = '100.64.0.0/10';
/** Where workers' private addresses are: the first /18 of the VPC (network.ts keeps the subnets there). */
export const workerCidr = '10.0.0.0/18';

/** The IAM policy variable of the calling instance's ARN (instance profile credentials). */
// biome-ignore lint/suspicious/noTemplateCurlyInString: an IAM policy variable, not a JavaScript one
export const sourceInstanceArn = '${ec2:SourceInstanceARN}';

/** Where the bundle is unpacked on a worker (the systemd unit runs `/opt/lambernetes/agent.mjs`). */
const bundleDir = '/opt/lambernetes';

export interface WorkersProps {
  network: ClusterNetwork;
  /** The API server's URL (the function URL). */
  apiUrl: string;
  /** What the API server presents to the agents' kubelet endpoints: each worker reads it at boot. */
  workerToken: ISecret;
  /** The cluster's name: agents authenticate with the instance role, minting tokens for it. */
  clusterName: string;
  /** Node queues are `<prefix>node-<node>` (`shared/queues/node-queue.ts`). */
  nodeQueuePrefix: string;
}

/**
 * The worker nodes: an Auto Scaling group of Amazon Linux 2023 instances (arm64 unless the
 * `workerArchitecture` context says x86_64) whose user data unpacks the agent bundle (an S3 asset) and
 * runs its bootstrap: Docker, Node.js 22, the agent's config, the agent under systemd. The instance
 * type and the group's bounds are stack parameters; the cloud controller sets the desired capacity.
 */
export class Workers extends Construct {
  readonly group: AutoScalingGroup;
  readonly role: Role;
  /** The instance type parameter's value (a token). */
  readonly instanceType: string;

  constructor(scope: Construct, id: string, props: WorkersProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const instanceType = new CfnParameter(stack, 'WorkerInstanceType', {
      type: 'String',
      default: 't4g.small',
      description: 'EC2 instance type of the workers (arm64 unless the workerArchitecture context is x86_64)',
    });
    const minCount = new CfnParameter(stack, 'WorkerMinCount', {
      type: 'Number',
      default: 1,
      minValue: 0,
      description: 'The fewest workers; the cloud controller never removes empty ones below it',
    });
    const maxCount = new CfnParameter(stack, 'WorkerMaxCount', {
      type: 'Number',
      default: 10,
      minValue: 1,
      description: 'The most workers the cloud controller may add for pods that do not fit',
    });
    const x86 = stack.node.tryGetContext('workerArchitecture') === 'x86_64';
    this.instanceType = instanceType.valueAsString;

    const bundle = new Asset(this, 'AgentBundle', {
      path: join(projectRoot, 'agent'),
      // The bundle is built here, with the locally installed esbuild (no Docker).
      assetHashType: AssetHashType.OUTPUT,
      bundling: {
        image: DockerImage.fromRegistry('unused-local-bundling-only'),
        local: {
          tryBundle(outputDir) {
            buildAgentBundle(outputDir);
            return true;
          },
        },
      },
    });

    this.role = new Role(this, 'Role', {
      assumedBy: new ServicePrincipal('ec2.amazonaws.com'),
      description:
        'Lambernetes worker (its identity: system:node:<its private DNS name>): its own node queue, the kubelet token, the agent bundle, ECR pulls',
    });
    // The bundle's one object, not the whole assets bucket (Asset.grantRead would grant that).
    this.role.addToPolicy(
      new PolicyStatement({
        actions: ['s3:GetObject'],
        resources: [bundle.bucket.arnForObjects(bundle.s3ObjectKey)],
      }),
    );
    props.workerToken.grantRead(this.role);
    this.grantOwnQueue(props.nodeQueuePrefix);
    this.grantImagePulls();

    const userData = UserData.forLinux();
    userData.addCommands('set -eu');
    const zip = userData.addS3DownloadCommand({
      bucket: bundle.bucket,
      bucketKey: bundle.s3ObjectKey,
      localFile: `${bundleDir}/bundle.zip`,
    });
    userData.addCommands(
      // python3 is part of every AL2023 image (dnf needs it); unzip is not always.
      `python3 -c 'import sys, zipfile; zipfile.ZipFile(sys.argv[1]).extractall(sys.argv[2])' ${zip} ${bundleDir}`,
      `export LAMBERNETES_API_SERVER='${props.apiUrl}'`,
      `export LAMBERNETES_CLUSTER_NAME='${props.clusterName}'`,
      `export LAMBERNETES_WORKER_TOKEN_SECRET='${props.workerToken.secretArn}'`,
      `export LAMBERNETES_QUEUE_PREFIX='${props.nodeQueuePrefix}'`,
      `export LAMBERNETES_CLUSTER_CIDR='${clusterCidr}'`,
      `export LAMBERNETES_WORKER_CIDR='${workerCidr}'`,
      `sh ${bundleDir}/${agentBundleFiles.bootstrap}`,
    );

    const template = new LaunchTemplate(this, 'Template', {
      machineImage: MachineImage.latestAmazonLinux2023({
        cpuType: x86 ? AmazonLinuxCpuType.X86_64 : AmazonLinuxCpuType.ARM_64,
      }),
      instanceType: new InstanceType(instanceType.valueAsString),
      userData,
      role: this.role,
      securityGroup: props.network.workers,
      requireImdsv2: true,
      // Containers' images and writable layers live here: 30 GiB of gp3, encrypted.
      blockDevices: [
        {
          deviceName: '/dev/xvda',
          volume: BlockDeviceVolume.ebs(30, { volumeType: EbsDeviceVolumeType.GP3, encrypted: true }),
        },
      ],
    });
    const natGateways = props.network.vpc.privateSubnets.length > 0;
    this.group = new AutoScalingGroup(this, 'Group', {
      vpc: props.network.vpc,
      vpcSubnets: { subnetType: natGateways ? SubnetType.PRIVATE_WITH_EGRESS : SubnetType.PUBLIC },
      launchTemplate: template,
      minCapacity: minCount.valueAsNumber,
      maxCapacity: maxCount.valueAsNumber,
      // No desiredCapacity: it starts at the minimum, and a redeploy leaves what the cloud controller set.
    });
    Validations.of(this.group).acknowledge({
      id: 'AwsSolutions::AwsSolutions-AS3',
      reason:
        'Scaling events are the cloud controller’s own decisions, recorded as Kubernetes Events ' +
        '(TriggeredScaleUp, ScaleDown); SNS notifications would be an extra, opt-in channel.',
    });
  }

  /**
   * SQS on the node queues, each only for the instance its tag names (the notifier tags each queue
   * with its node's instance ARN): a worker cannot read or delete another node's notifications.
   */
  private grantOwnQueue(nodeQueuePrefix: string): void {
    const queues = nodeQueuesArn(this, nodeQueuePrefix);
    this.role.addToPolicy(
      new PolicyStatement({
        actions: [
          'sqs:GetQueueUrl',
          'sqs:GetQueueAttributes',
          'sqs:ReceiveMessage',
          'sqs:DeleteMessage',
          'sqs:ChangeMessageVisibility',
        ],
        resources: [queues.arn],
        conditions: { StringEquals: { [`aws:ResourceTag/${instanceTag}`]: sourceInstanceArn } },
      }),
    );
    acknowledgeWildcard(
      this.role,
      queues.finding,
      'Node queues are made at run time, one per Node; the pattern is narrowed by the condition to the ' +
        "queue tagged with this very instance's ARN.",
    );
  }

  /** Image pulls from the account's private ECR repositories. */
  private grantImagePulls(): void {
    this.role.addToPolicy(new PolicyStatement({ actions: ['ecr:GetAuthorizationToken'], resources: ['*'] }));
    this.role.addToPolicy(
      new PolicyStatement({
        actions: ['ecr:BatchGetImage', 'ecr:GetDownloadUrlForLayer', 'ecr:BatchCheckLayerAvailability'],
        resources: [Stack.of(this).formatArn({ service: 'ecr', resource: 'repository', resourceName: '*' })],
      }),
    );
    acknowledgeWildcard(
      this.role,
      '*',
      'ecr:GetAuthorizationToken supports no resource-level permissions (IAM allows it only on *); ' +
        'the pulls themselves are limited to this account’s repositories.',
    );
    acknowledgeWildcard(
      this.role,
      'arn:<AWS::Partition>:ecr:<AWS::Region>:<AWS::AccountId>:repository/*',
      'Pods may run images from any repository of the account; pulling is read-only.',
    );
  }
}
