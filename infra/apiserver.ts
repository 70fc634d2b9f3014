import { Duration, Stack } from 'aws-cdk-lib';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { type IRole, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { FunctionUrlAuthType, InvokeMode } from 'aws-cdk-lib/aws-lambda';
import type { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import type { ISecret } from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import type { IamAccessConfig } from '../functions/apiserver/auth/aws-iam.js';
import { env } from '../functions/apiserver/config.js';
import { sizing } from '../functions/sizing.js';
import { lambernetesFunction } from './functions.js';
import { acknowledgeWildcard } from './nag.js';

export interface ApiServerProps {
  table: ITable;
  /** The cluster's tokens (`infra/tokens.ts`), read by the function at cold start. */
  adminToken: ISecret;
  workerToken: ISecret;
  serviceAccountSigning: ISecret;
  /** What `aws eks get-token` tokens must be minted for (the stack's name). */
  clusterName: string;
}

/** The API server: one function behind a function URL that streams its responses (watches). */
export class ApiServer extends Construct {
  readonly fn: NodejsFunction;
  readonly url: string;

  constructor(scope: Construct, id: string, props: ApiServerProps) {
    super(scope, id);
    const { fn } = lambernetesFunction(this, 'Function', {
      entry: 'functions/apiserver/lambda.ts',
      description: 'Lambernetes API server (Kubernetes API over a function URL)',
      memoryMiB: sizing.apiserver.memoryMiB,
      timeout: Duration.seconds(sizing.apiserver.timeoutSeconds),
      environment: {
        [env.tableName]: props.table.tableName,
        [env.adminTokenSecret]: props.adminToken.secretArn,
        [env.workerTokenSecret]: props.workerToken.secretArn,
        [env.serviceAccountSigningSecret]: props.serviceAccountSigning.secretArn,
        [env.clusterName]: props.clusterName,
      },
    });
    for (const secret of [props.adminToken, props.workerToken, props.serviceAccountSigning])
      secret.grantRead(fn);
    // Reads and writes objects and history; watches read the history partitions, not the stream.
    props.table.grantReadWriteData(fn);
    const url = fn.addFunctionUrl({
      // No IAM auth: kubectl sends a bearer token, not a SigV4 signature. The server authenticates every
      // request itself (against the tokens of its secrets, in constant time) and answers 401 to
      // anything else.
      authType: FunctionUrlAuthType.NONE,
      // A watch is a response that stays open and streams events; buffered responses could not.
      invokeMode: InvokeMode.RESPONSE_STREAM,
    });
    this.fn = fn;
    this.url = url.url;
  }

  /**
   * Accepts `aws eks get-token` tokens of these IAM roles and users, as these Kubernetes users (EKS's
   * access mapping); `{{EC2PrivateDNSName}}` needs the instance's name, so the function may describe
   * instances.
   */
  mapIamIdentities(access: IamAccessConfig): void {
    this.fn.addEnvironment(env.iamAccess, Stack.of(this).toJsonString(access));
    this.fn.addToRolePolicy(new PolicyStatement({ actions: ['ec2:DescribeInstances'], resources: ['*'] }));
    acknowledgeWildcard(
      this.fn.role as IRole,
      '*',
      "ec2:DescribeInstances has no resource-level permissions; the API server only reads a node instance's private DNS name.",
    );
  }

  /** `pods/log` through the kubelet relay (the workers' kubelets are inside the VPC, this function is not). */
  relayKubeletsThrough(relay: NodejsFunction): void {
    this.fn.addEnvironment(env.kubeletRelay, relay.functionName);
    // The function itself (grantInvoke would add its versions, `<arn>:*`, too).
    this.fn.addToRolePolicy(
      new PolicyStatement({ actions: ['lambda:InvokeFunction'], resources: [relay.functionArn] }),
    );
  }
}
