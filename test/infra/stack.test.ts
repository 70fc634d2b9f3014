import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, type CfnElement, Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { env as apiserverEnv } from '../../functions/apiserver/config.js';
import { cidrContains } from '../../functions/cloud/routes.js';
import { instanceTag } from '../../functions/notifier/queues.js';
import { env as controlEnv } from '../../functions/runtime/config.js';
import { LambernetesStack } from '../../infra/stack.js';
import { functionTriggers } from '../../infra/stream-filters.js';
import { clusterCidr, sourceInstanceArn, workerCidr } from '../../infra/workers.js';
import { objectPartition } from '../../shared/store/keys.js';
import { createTableInput, tableSchema } from '../../shared/store/table.js';

interface Resource {
  Properties: Record<string, unknown>;
  DeletionPolicy?: string;
}

interface Statement {
  Action: unknown;
  Resource: unknown;
  Condition?: unknown;
}

/** Variables the stack sets besides the config modules' (source maps in stack traces). */
const runtimeVariables = ['NODE_OPTIONS'];
const controlFunctionNames = ['scheduler', 'controllers', 'notifier', 'cloud'];
/** Each function's own settings beyond the three every control function has. */
const ownVariables: Record<string, string[]> = {
  notifier: [controlEnv.nodeQueuePrefix, controlEnv.instanceArnPrefix],
  cloud: [controlEnv.workerGroup, controlEnv.workerInstanceType, controlEnv.clusterCidr, controlEnv.vpcId],
};

// One synthesis (esbuild bundles four functions, about a second) shared by the tests, with cdk-nag
// applied; the cloud assembly goes to a temporary directory.
let stack: LambernetesStack;
let template: Template;
let outdir: string;
beforeAll(() => {
  outdir = mkdtempSync(join(tmpdir(), 'lambernetes-cdk-'));
  const app = new App({ outdir });
  stack = new LambernetesStack(app, 'Test');
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  app.synth();
  template = Template.fromStack(stack);
});
afterAll(() => rmSync(outdir, { recursive: true, force: true }));

const resources = (type: string) => Object.entries(template.findResources(type)) as [string, Resource][];
const functionsByEntry = () => {
  const byName = new Map<string, [string, Resource]>();
  for (const [id, fn] of resources('AWS::Lambda::Function')) {
    const match = /^Lambernetes (\w+)/.exec(String(fn.Properties.Description));
    if (match?.[1]) byName.set(match[1] === 'API' ? 'apiserver' : match[1], [id, fn]);
  }
  return byName;
};
/** The function deployed from `functions/<name>/lambda.ts`: its logical id and resource. */
const functionNamed = (name: string): [string, Resource] => {
  const found = functionsByEntry().get(name);
  if (!found) throw new Error(`no function ${name}`);
  return found;
};
const environmentOf = (fn: Resource) =>
  (fn.Properties.Environment as { Variables: Record<string, unknown> }).Variables;
const variables = (fn: Resource) => Object.keys(environmentOf(fn)).sort();
const ref = (id: string) => ({ Ref: id });
/** The workers' token secret's logical id. */
const workerTokenId = () =>
  stack.resolve(stack.getLogicalId(stack.tokens.worker.node.defaultChild as CfnElement));
/** The logical id in `{ 'Fn::GetAtt': [id, attribute] }`. */
const getAtt = (value: unknown) => String((value as { 'Fn::GetAtt': string[] })['Fn::GetAtt'][0]);

describe('the CDK stack', () => {
  it('builds the store table with the keys, stream and TTL the store itself creates', () => {
    const local = createTableInput('any');
    const tables = resources('AWS::DynamoDB::Table');
    expect(tables).toHaveLength(1);
    const [, table] = tables[0] as [string, Resource];
    expect(table.Properties.KeySchema).toEqual(local.KeySchema);
    expect(table.Properties.AttributeDefinitions).toEqual(local.AttributeDefinitions);
    expect(table.Properties.StreamSpecification).toEqual({
      StreamViewType: local.StreamSpecification?.StreamViewType,
    });
    expect(table.Properties.TimeToLiveSpecification).toEqual({
      AttributeName: tableSchema.timeToLiveAttribute,
      Enabled: true,
    });
    expect(table.Properties.BillingMode).toBe('PAY_PER_REQUEST');
    expect(table.Properties.PointInTimeRecoverySpecification).toEqual({ PointInTimeRecoveryEnabled: true });
    expect(table.Properties.SSESpecification).toEqual({ SSEEnabled: true });
    expect(table.DeletionPolicy).toBe('Retain');
  });

  it('runs every function on Node.js 22 or newer on arm64, bundled as ESM', () => {
    const functions = functionsByEntry();
    expect([...functions.keys()].sort()).toEqual(['apiserver', 'relay', ...controlFunctionNames].sort());
    for (const [, fn] of functions.values()) {
      const version = Number(/^nodejs(\d+)\.x$/.exec(String(fn.Properties.Runtime))?.[1]);
      expect(version).toBeGreaterThanOrEqual(22);
      expect(fn.Properties.Architectures).toEqual(['arm64']);
      expect(fn.Properties.Handler).toBe('index.handler');
    }
  });

  it('serves the API from a function URL that streams responses and authenticates nothing itself', () => {
    const [apiserverId] = functionNamed('apiserver');
    template.hasResourceProperties('AWS::Lambda::Url', {
      TargetFunctionArn: { 'Fn::GetAtt': [apiserverId, 'Arn'] },
      InvokeMode: 'RESPONSE_STREAM',
      AuthType: 'NONE',
    });
    template.hasOutput('ApiUrl', { Value: { 'Fn::GetAtt': [Match.anyValue(), 'FunctionUrl'] } });
    template.hasOutput('StackName', { Value: 'Test' });
  });

  it('sets exactly the variables the config modules read', () => {
    const [, apiserver] = functionNamed('apiserver');
    expect(variables(apiserver)).toEqual([...Object.values(apiserverEnv), ...runtimeVariables].sort());
    // The secrets are the stack's generated ones, named by reference: no secret is in the template.
    const secrets = Object.keys(template.findResources('AWS::SecretsManager::Secret'));
    expect(secrets).toHaveLength(3);
    expect(
      [
        apiserverEnv.adminTokenSecret,
        apiserverEnv.workerTokenSecret,
        apiserverEnv.serviceAccountSigningSecret,
      ].map((name) => environmentOf(apiserver)[name]),
    ).toEqual(expect.arrayContaining(secrets.map(ref)));
    // Workers are nodes by their instance role, named by their private DNS name (as EKS maps them).
    const access = JSON.stringify(environmentOf(apiserver)[apiserverEnv.iamAccess]);
    expect(access).toContain('system:node:{{EC2PrivateDNSName}}');
    expect(access).toContain(
      Object.keys(template.findResources('AWS::IAM::Role')).find((id) => id.startsWith('WorkersRole')),
    );
    const required = [controlEnv.tableName, controlEnv.retryQueueUrl, controlEnv.deadLetterQueueUrl];
    for (const name of controlFunctionNames) {
      const [, fn] = functionNamed(name);
      const expected = [...required, ...runtimeVariables, ...(ownVariables[name] ?? [])];
      expect(variables(fn), name).toEqual(expected.sort());
    }
  });

  it('wakes each control function from the stream, filtered to its resources, with bisect and a DLQ', () => {
    const mappings = resources('AWS::Lambda::EventSourceMapping');
    const watched = functionTriggers();
    for (const name of controlFunctionNames) {
      const [id] = functionNamed(name);
      const mine = mappings.filter(
        ([, m]) => JSON.stringify(m.Properties.FunctionName) === JSON.stringify(ref(id)),
      );
      const stream = mine.find(([, m]) => m.Properties.StartingPosition !== undefined)?.[1];
      expect(stream?.Properties, name).toMatchObject({
        BisectBatchOnFunctionError: true,
        MaximumRetryAttempts: expect.any(Number),
        BatchSize: expect.any(Number),
        MaximumBatchingWindowInSeconds: expect.any(Number),
        FunctionResponseTypes: ['ReportBatchItemFailures'],
        DestinationConfig: { OnFailure: { Destination: { 'Fn::GetAtt': [expect.any(String), 'Arn'] } } },
      });
      // Only live objects of the resources its controllers' triggers name (pods for all of them).
      const criteria = stream?.Properties.FilterCriteria as { Filters: { Pattern: string }[] } | undefined;
      const partitions = JSON.parse(criteria?.Filters[0]?.Pattern ?? '{}').dynamodb.Keys.pk.S as string[];
      expect(partitions, name).toContain(objectPartition('pods'));
      expect(partitions.sort(), name).toEqual(
        (watched.get(name)?.resources ?? []).map(objectPartition).sort(),
      );
      // …and from its retry queue, reporting failed messages one by one.
      const queue = mine.find(([, m]) => m.Properties.StartingPosition === undefined)?.[1];
      expect(queue?.Properties.FunctionResponseTypes, name).toEqual(['ReportBatchItemFailures']);
      // Failed stream batches are described to the same dead-letter queue the retry queue redrives to.
      const retryQueueId = getAtt(queue?.Properties.EventSourceArn);
      const redrive = template.findResources('AWS::SQS::Queue')[retryQueueId]?.Properties.RedrivePolicy;
      const destination = stream?.Properties.DestinationConfig as { OnFailure: { Destination: unknown } };
      expect(getAtt(destination.OnFailure.Destination), name).toBe(getAtt(redrive.deadLetterTargetArn));
    }
  });

  it('resyncs each controller that asks for it on an EventBridge schedule of its interval', () => {
    const rules = resources('AWS::Events::Rule');
    let expected = 0;
    for (const [name, { resyncs }] of functionTriggers()) {
      const [id] = functionNamed(name);
      for (const [minutes, controllers] of resyncs) {
        expected++;
        const rule = rules.find(([, r]) => {
          const target = (r.Properties.Targets as { Arn: unknown; Input: string }[])[0];
          return (
            JSON.stringify(target?.Arn) === JSON.stringify({ 'Fn::GetAtt': [id, 'Arn'] }) &&
            JSON.parse(target?.Input ?? '{}').detail?.controllers?.join() === controllers.join()
          );
        });
        expect(rule?.[1].Properties.ScheduleExpression, `${name} ${controllers.join()}`).toBe(
          `rate(${minutes} minute${minutes === 1 ? '' : 's'})`,
        );
      }
    }
    expect(expected).toBeGreaterThan(0);
    expect(rules).toHaveLength(expected);
  });

  it('gives every queue a dead-letter queue, and encrypts and requires TLS on all of them', () => {
    const queues = resources('AWS::SQS::Queue');
    const deadLetterIds = new Set(
      queues.flatMap(([, q]) => {
        const target = (q.Properties.RedrivePolicy as { deadLetterTargetArn?: { 'Fn::GetAtt': string[] } })
          ?.deadLetterTargetArn?.['Fn::GetAtt'][0];
        return target ? [target] : [];
      }),
    );
    expect(deadLetterIds.size).toBe(controlFunctionNames.length);
    for (const [id, q] of queues) {
      if (!deadLetterIds.has(id)) expect(q.Properties.RedrivePolicy, id).toBeDefined();
      expect(q.Properties.SqsManagedSseEnabled, id).toBe(true);
    }
    const policies = resources('AWS::SQS::QueuePolicy');
    const secured = policies.flatMap(([, p]) =>
      JSON.stringify(p.Properties).includes('aws:SecureTransport') ? (p.Properties.Queues as unknown[]) : [],
    );
    expect(secured).toHaveLength(queues.length);
  });

  it('lets the notifier manage only the queues under its prefix', () => {
    const prefix = stack.controlPlane.nodeQueuePrefix;
    const statements = resources('AWS::IAM::Policy').flatMap(
      ([, p]) =>
        (p.Properties.PolicyDocument as { Statement: { Action: unknown; Resource: unknown }[] }).Statement,
    );
    const create = statements.filter((s) => [s.Action].flat().includes('sqs:CreateQueue'));
    expect(create).toHaveLength(1);
    expect(JSON.stringify(create[0]?.Resource)).toContain(`:${prefix}node-*`);
  });

  it('builds function bundles that load in Node.js and stop only at their missing configuration', async () => {
    const manifest = JSON.parse(readFileSync(join(outdir, 'Test.assets.json'), 'utf8')) as {
      files: Record<string, { source: { path: string } }>;
    };
    const bundles = Object.values(manifest.files)
      .map((f) => join(outdir, f.source.path, 'index.mjs'))
      .filter((path) => existsSync(path));
    expect(bundles).toHaveLength(controlFunctionNames.length + 2);
    const outcomes: string[] = [];
    for (const bundle of bundles) {
      // A child process with an empty environment (the bundle reads its configuration at load) and the
      // runtime's `awslambda` global stood in for.
      const load =
        'globalThis.awslambda = { streamifyResponse: (h) => h, HttpResponseStream: { from: (s) => s } };' +
        `try { await import(${JSON.stringify(bundle)}); console.error('LOADED') } catch (e) { console.error('LOAD-ERROR ' + e.message); process.exit(3) }`;
      const outcome = spawnSync(process.execPath, ['--input-type=module', '-e', load], {
        env: { PATH: process.env.PATH ?? '' },
        encoding: 'utf8',
      });
      outcomes.push(outcome.stderr.trim());
      expect(outcome.stderr.trim(), bundle).toMatch(
        /^(LOAD-ERROR \w[\w ]* configuration: LAMBERNETES_TABLE is not set|LOADED$)/,
      );
    }
    // Only the relay has no configuration to miss.
    expect(outcomes.filter((o) => o === 'LOADED')).toHaveLength(1);
  });

  it('launches workers from Amazon Linux 2023 with IMDSv2, an encrypted disk and a user data that runs the bootstrap', () => {
    const [, launchTemplate] = resources('AWS::EC2::LaunchTemplate')[0] as [string, Resource];
    const data = launchTemplate.Properties.LaunchTemplateData as Record<string, unknown>;
    expect(data.MetadataOptions).toMatchObject({ HttpTokens: 'required' });
    expect(JSON.stringify(data.ImageId)).toMatch(/al2023.*arm64/i);
    expect(data.InstanceType).toEqual(ref('WorkerInstanceType'));
    expect(data.BlockDeviceMappings).toEqual([
      expect.objectContaining({ Ebs: expect.objectContaining({ Encrypted: true, VolumeType: 'gp3' }) }),
    ]);
    const userData = JSON.stringify(data.UserData);
    for (const expected of [
      'set -eu',
      'aws s3 cp',
      `export LAMBERNETES_QUEUE_PREFIX='${stack.controlPlane.nodeQueuePrefix}'`,
      `export LAMBERNETES_CLUSTER_CIDR='${clusterCidr}'`,
      `export LAMBERNETES_WORKER_CIDR='${workerCidr}'`,
      'sh /opt/lambernetes/bootstrap.sh',
    ])
      expect(userData).toContain(expected);
    // The API server's URL and the workers' token secret, by reference.
    const parts = (data.UserData as { 'Fn::Base64': { 'Fn::Join': [string, unknown[]] } })['Fn::Base64'][
      'Fn::Join'
    ][1];
    const partAfter = (text: string) => parts[parts.findIndex((p) => String(p).endsWith(text)) + 1];
    const urlId = Object.keys(template.findResources('AWS::Lambda::Url'))[0];
    expect(partAfter("LAMBERNETES_API_SERVER='")).toEqual({ 'Fn::GetAtt': [urlId, 'FunctionUrl'] });
    expect(partAfter("LAMBERNETES_WORKER_TOKEN_SECRET='")).toEqual(ref(workerTokenId()));
    // The set -eu comes first: a failed download stops the script.
    expect(userData.indexOf('set -eu')).toBeLessThan(userData.indexOf('aws s3 cp'));
    template.hasResourceProperties('AWS::AutoScaling::AutoScalingGroup', {
      MinSize: ref('WorkerMinCount'),
      MaxSize: ref('WorkerMaxCount'),
    });
    expect(template.findResources('AWS::AutoScaling::AutoScalingGroup')).not.toHaveProperty(
      'Properties.DesiredCapacity',
    );
  });

  it('lets a worker use only the node queue tagged with its own instance, its token and its bundle', () => {
    const [roleId] = Object.entries(template.findResources('AWS::IAM::Role')).find(([, r]) =>
      JSON.stringify(r.Properties.AssumeRolePolicyDocument).includes('ec2.amazonaws.com'),
    ) as [string, Resource];
    const statements = resources('AWS::IAM::Policy')
      .filter(([, p]) => JSON.stringify(p.Properties.Roles).includes(roleId))
      .flatMap(([, p]) => (p.Properties.PolicyDocument as { Statement: Statement[] }).Statement);
    const sqs = statements.filter((st) => [st.Action].flat().some((a) => String(a).startsWith('sqs:')));
    expect(sqs).toHaveLength(1);
    expect([sqs[0]?.Action].flat().sort()).toEqual(
      [
        'sqs:ChangeMessageVisibility',
        'sqs:DeleteMessage',
        'sqs:GetQueueAttributes',
        'sqs:GetQueueUrl',
        'sqs:ReceiveMessage',
      ].sort(),
    );
    expect(sqs[0]?.Condition).toEqual({
      StringEquals: { [`aws:ResourceTag/${instanceTag}`]: sourceInstanceArn },
    });
    expect(JSON.stringify(sqs[0]?.Resource)).toContain(`:${stack.controlPlane.nodeQueuePrefix}node-*`);
    // The notifier tags each queue with that ARN: arn:<partition>:ec2:<region>:<account>:instance/<id>.
    const [, notifier] = functionNamed('notifier');
    expect(JSON.stringify(environmentOf(notifier)[controlEnv.instanceArnPrefix])).toMatch(
      /:ec2:.*:instance\/"/,
    );
    const s3 = statements.filter((st) => [st.Action].flat().some((a) => String(a).startsWith('s3:')));
    expect(s3.map((st) => st.Action)).toEqual(['s3:GetObject']);
    expect(JSON.stringify(s3[0]?.Resource)).toMatch(/\/[0-9a-f]{64}\.zip"/);
    const secrets = statements.filter((st) =>
      [st.Action].flat().some((a) => String(a).startsWith('secretsmanager:')),
    );
    expect(secrets.map((st) => st.Resource)).toEqual([ref(workerTokenId())]);
    const services = new Set(
      statements.flatMap((st) => [st.Action].flat().map((a) => String(a).split(':')[0])),
    );
    expect([...services].sort()).toEqual(['ecr', 's3', 'secretsmanager', 'sqs']);
  });

  it("lets the cloud controller change only its group, the VPC's route tables and the group's instances", () => {
    const [, cloud] = functionNamed('cloud');
    const roleId = getAtt(cloud.Properties.Role as unknown);
    const statements = resources('AWS::IAM::Policy')
      .filter(([, p]) => JSON.stringify(p.Properties.Roles).includes(roleId))
      .flatMap(([, p]) => (p.Properties.PolicyDocument as { Statement: Statement[] }).Statement);
    const granting = (action: string) => statements.filter((st) => [st.Action].flat().includes(action));
    const [scale] = granting('autoscaling:SetDesiredCapacity');
    expect(JSON.stringify(scale?.Resource)).toContain('autoScalingGroupName/');
    expect(granting('autoscaling:TerminateInstanceInAutoScalingGroup')).toEqual([scale]);
    const [routes] = granting('ec2:CreateRoute');
    expect(routes?.Condition).toEqual({ ArnEquals: { 'ec2:Vpc': expect.anything() } });
    const [attribute] = granting('ec2:ModifyInstanceAttribute');
    expect(attribute?.Condition).toEqual({
      StringEquals: { 'aws:ResourceTag/aws:autoscaling:groupName': expect.anything() },
    });
    const unscoped = statements.filter((st) => JSON.stringify(st.Resource) === '"*"');
    for (const st of unscoped)
      for (const action of [st.Action].flat()) expect(String(action)).toMatch(/:(Describe|List)/);
  });

  it('keeps every subnet inside the worker CIDR that pod CIDRs are derived from, with or without NAT', () => {
    // Only the network matters here: no stack's assets are bundled (CDK's bundling-stacks context).
    const app = new App({ context: { natGateways: 1, 'aws:cdk:bundling-stacks': [] } });
    const withNat = Template.fromStack(new LambernetesStack(app, 'Nat'));
    for (const synthesized of [template, withNat]) {
      const subnets = Object.values(synthesized.findResources('AWS::EC2::Subnet')) as Resource[];
      expect(subnets.length).toBeGreaterThanOrEqual(2);
      for (const subnet of subnets)
        expect(cidrContains(workerCidr, String(subnet.Properties.CidrBlock))).toBe(true);
    }
    withNat.resourceCountIs('AWS::EC2::NatGateway', 1);
  });

  it('builds a VPC with no NAT gateway, and lets workers in only from each other and the kubelet relay', () => {
    template.resourceCountIs('AWS::EC2::VPC', 1);
    template.resourceCountIs('AWS::EC2::NatGateway', 0);
    const groups = resources('AWS::EC2::SecurityGroup');
    const groupId = (prefix: string) => groups.find(([id]) => id.startsWith(prefix))?.[0];
    const [workers, relay] = [groupId('NetworkWorkers'), groupId('KubeletRelay')];
    for (const [, group] of groups) expect(group.Properties.SecurityGroupIngress).toBeUndefined();
    const ingress = resources('AWS::EC2::SecurityGroupIngress').map(([, r]) => r.Properties);
    expect(ingress).toEqual([
      expect.objectContaining({
        IpProtocol: '-1',
        SourceSecurityGroupId: { 'Fn::GetAtt': [workers, 'GroupId'] },
      }),
      expect.objectContaining({
        IpProtocol: 'tcp',
        FromPort: 10250,
        ToPort: 10250,
        SourceSecurityGroupId: { 'Fn::GetAtt': [relay, 'GroupId'] },
      }),
    ]);
    const workersGroup = groups.find(([id]) => id === workers)?.[1];
    expect(JSON.stringify(workersGroup?.Properties.SecurityGroupEgress)).toContain('0.0.0.0/0');
    // The relay may open connections to the workers' kubelet port, and to nothing else.
    const relayGroup = groups.find(([id]) => id === relay)?.[1];
    expect(JSON.stringify(relayGroup?.Properties.SecurityGroupEgress ?? [])).not.toContain('0.0.0.0/0');
    expect(resources('AWS::EC2::SecurityGroupEgress').map(([, r]) => r.Properties)).toEqual([
      expect.objectContaining({
        GroupId: { 'Fn::GetAtt': [relay, 'GroupId'] },
        IpProtocol: 'tcp',
        FromPort: 10250,
        DestinationSecurityGroupId: { 'Fn::GetAtt': [workers, 'GroupId'] },
      }),
    ]);
  });

  it('sends pods/log through the relay in the VPC, which the API server alone may invoke', () => {
    const [relayId, relay] = functionNamed('relay');
    expect(relay.Properties.VpcConfig).toBeDefined();
    const [, apiserver] = functionNamed('apiserver');
    expect(environmentOf(apiserver)[apiserverEnv.kubeletRelay]).toEqual(ref(relayId));
    const invokers = resources('AWS::IAM::Policy').filter(([, p]) =>
      JSON.stringify(p.Properties.PolicyDocument).includes('lambda:InvokeFunction'),
    );
    expect(invokers).toHaveLength(1);
    expect(JSON.stringify(invokers[0]?.[1].Properties.Roles)).toContain(getAtt(apiserver.Properties.Role));
  });

  it('passes cdk-nag (AwsSolutions) with every acknowledged finding given its reason', () => {
    // Synthesis itself fails on an unacknowledged finding; the report lists the acknowledged ones.
    const report = JSON.parse(readFileSync(join(outdir, 'validation-report.json'), 'utf8')) as {
      pluginReports: {
        pluginName: string;
        conclusion: string;
        violations: unknown[];
        suppressedViolations: { ruleName: string; reason: string }[];
      }[];
    };
    const nag = report.pluginReports.find((r) => r.pluginName === 'AwsSolutions');
    expect(nag?.conclusion).toBe('success');
    expect(nag?.violations).toEqual([]);
    for (const { ruleName, reason } of nag?.suppressedViolations ?? [])
      expect(reason.length, ruleName).toBeGreaterThan(60);
  });
});
