import { fileURLToPath } from 'node:url';
import { type Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import type { ISecurityGroup, IVpc, SubnetSelection } from 'aws-cdk-lib/aws-ec2';
import { Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Architecture, LoggingFormat, Runtime } from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { metricsEnv } from '../shared/metering/cloudwatch.js';
import { bundleTarget, esmBanner, mainFields } from './bundling.js';

/** The repository's root (package-lock.json, tsconfig.json), where esbuild resolves from. */
export const projectRoot = fileURLToPath(new URL('..', import.meta.url));

export interface LambernetesFunctionProps {
  /** The entry point's path from the repository root, e.g. `functions/apiserver/lambda.ts`. */
  entry: string;
  description: string;
  memoryMiB: number;
  timeout: Duration;
  environment: Record<string, string>;
  /** In a VPC: its subnets and security groups (the function then reaches only what they allow). */
  vpc?: { vpc: IVpc; subnets: SubnetSelection; securityGroups: ISecurityGroup[] };
}

/**
 * A function as every function of the stack is built: Node.js 22 on arm64 (Graviton, ~20% cheaper per
 * GB-s), bundled into one ESM file by the locally installed esbuild (no Docker), minified with source
 * maps, logging as JSON to its own log group with a retention.
 */
export function lambernetesFunction(scope: Construct, id: string, props: LambernetesFunctionProps) {
  const logGroup = new LogGroup(scope, `${id}Logs`, {
    retention: RetentionDays.ONE_MONTH,
    // Logs are diagnostics, not cluster state: they go with the stack.
    removalPolicy: RemovalPolicy.DESTROY,
  });
  // Its own role, allowed to write its own log group only (in place of AWSLambdaBasicExecutionRole,
  // which may write to any log group of the account).
  const role = new Role(scope, `${id}Role`, {
    assumedBy: new ServicePrincipal('lambda.amazonaws.com'),
  });
  logGroup.grantWrite(role);
  const fn = new NodejsFunction(scope, id, {
    role,
    entry: `${projectRoot}${props.entry}`,
    handler: 'handler',
    projectRoot,
    depsLockFilePath: `${projectRoot}package-lock.json`,
    description: props.description,
    runtime: Runtime.NODEJS_22_X,
    architecture: Architecture.ARM_64,
    memorySize: props.memoryMiB,
    timeout: props.timeout,
    environment: {
      NODE_OPTIONS: '--enable-source-maps',
      // `cdk deploy -c metrics=true`: each invocation's DynamoDB and SQS use as CloudWatch metrics.
      ...(String(scope.node.tryGetContext('metrics')) === 'true' ? { [metricsEnv]: 'on' } : {}),
      ...props.environment,
    },
    logGroup,
    loggingFormat: LoggingFormat.JSON,
    ...(props.vpc
      ? {
          vpc: props.vpc.vpc,
          vpcSubnets: props.vpc.subnets,
          securityGroups: props.vpc.securityGroups,
          // Public subnets when the VPC has no NAT: the function needs no internet, only the VPC.
          allowPublicSubnet: true,
        }
      : {}),
    bundling: {
      forceDockerBundling: false,
      format: OutputFormat.ESM,
      target: bundleTarget,
      mainFields,
      banner: esmBanner,
      minify: true,
      sourceMap: true,
      // The SDK v3 in the runtime may lag the one the code is tested with: bundle ours.
      externalModules: [],
    },
  });
  Validations.of(fn).acknowledge({
    id: 'AwsSolutions::AwsSolutions-L1',
    reason:
      'Node.js 22 is the runtime the design (§6) asks for and the one the bundles target (node22); ' +
      'Node.js 24 follows once the suites run on it.',
  });
  return { fn, logGroup, role };
}
