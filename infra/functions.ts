import { fileURLToPath } from 'node:url';
import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import type { ISecurityGroup, IVpc, SubnetSelection } from 'aws-cdk-lib/aws-ec2';
import { Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Architecture, LoggingFormat, Runtime } from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { bundleTarget, esmBanner, mainFields } from './bundling.js';

/**
 * Memory and timeouts, from `npm run bench:sizing` (the bundles as deployed, in a Node.js process of
 * their own, invoked with Lambda's events against DynamoDB Local; on this 2-core machine, Node 20):
 * - API server: cold start 1.3–2.2 s to the first answer (module load, the tokens, the system
 *   namespaces), 77 MiB resident after it; listing 1,000 ConfigMaps peaks at 126–133 MiB and takes
 *   0.7–1.1 s of one core (JSON) or 0.2–0.7 s (Table).
 * - Scheduler: 77 MiB after its cold start; a stream batch of 100 new pods on 10 nodes peaks at
 *   135 MiB and takes 7–12 s here, most of it waiting on DynamoDB Local's serialised transactions.
 * Lambda's CPU grows with memory (1,769 MB is one vCPU). 512 MB gives 3.8× the measured peak and about
 * 0.29 vCPU, so a 1,000-object list stays within a few seconds; 256 MB would fit the memory but
 * stretch CPU-bound work about 7×. Watches are mostly idle and billed by the GB-second they stay open:
 * the cost model (issue 8) weighs a smaller API server against that.
 */
export const sizing = {
  /**
   * The API server. Its timeout bounds a watch: the handler ends a watch cleanly ~2 s before the
   * deadline and clients reconnect. 900 s is Lambda's (and a streamed function URL's) maximum; a
   * shorter one costs less per open watch but makes clients reconnect more often.
   */
  apiserver: { memoryMiB: 512, timeout: Duration.seconds(900) },
  /**
   * A control function: a stream batch (up to `streamBatchSize` records, reconciled 8 at a time) or a
   * retry-queue batch. 120 s is ten times the slowest 100-pod batch measured, which leaves room for
   * the smaller CPU share.
   */
  control: { memoryMiB: 512, timeout: Duration.seconds(120) },
} as const;

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
    environment: { NODE_OPTIONS: '--enable-source-maps', ...props.environment },
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
