import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { env as apiserverEnv } from '../../functions/apiserver/config.js';
import { env as controlEnv } from '../../functions/runtime/config.js';
import { LambernetesStack } from '../../infra/stack.js';
import { functionTriggers } from '../../infra/stream-filters.js';
import { objectPartition } from '../../shared/store/keys.js';
import { createTableInput, tableSchema } from '../../shared/store/table.js';

interface Resource {
  Properties: Record<string, unknown>;
  DeletionPolicy?: string;
}

/** Variables the stack sets besides the config modules' (source maps in stack traces). */
const runtimeVariables = ['NODE_OPTIONS'];
const controlFunctionNames = ['scheduler', 'controllers', 'notifier'];

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
    expect([...functions.keys()].sort()).toEqual(['apiserver', ...controlFunctionNames].sort());
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
    // The tokens are the stack's generated secrets, named by reference: no token is in the template.
    const secrets = Object.keys(template.findResources('AWS::SecretsManager::Secret'));
    expect(secrets).toHaveLength(2);
    expect(
      [apiserverEnv.adminTokenSecret, apiserverEnv.workerTokenSecret].map(
        (name) => environmentOf(apiserver)[name],
      ),
    ).toEqual(expect.arrayContaining(secrets.map(ref)));
    const required = [controlEnv.tableName, controlEnv.retryQueueUrl, controlEnv.deadLetterQueueUrl];
    for (const name of controlFunctionNames) {
      const [, fn] = functionNamed(name);
      const expected = [
        ...required,
        ...runtimeVariables,
        ...(name === 'notifier' ? [controlEnv.nodeQueuePrefix] : []),
      ];
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
      // Only live objects of the resources its controllers' triggers name (pods for all three).
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

  it('builds a VPC with no NAT gateway, and lets workers in only from each other', () => {
    template.resourceCountIs('AWS::EC2::VPC', 1);
    template.resourceCountIs('AWS::EC2::NatGateway', 0);
    const [group] = resources('AWS::EC2::SecurityGroup');
    expect(group?.[1].Properties.SecurityGroupIngress).toBeUndefined();
    const ingress = resources('AWS::EC2::SecurityGroupIngress').map(([, r]) => r.Properties);
    expect(ingress).toEqual([
      expect.objectContaining({
        IpProtocol: '-1',
        SourceSecurityGroupId: { 'Fn::GetAtt': [group?.[0], 'GroupId'] },
      }),
    ]);
    expect(JSON.stringify(group?.[1].Properties.SecurityGroupEgress)).toContain('0.0.0.0/0');
  });

  it('adds NAT gateways and private worker subnets only when asked', () => {
    const app = new App({ context: { natGateways: 1 } });
    const withNat = Template.fromStack(new LambernetesStack(app, 'WithNat'));
    withNat.resourceCountIs('AWS::EC2::NatGateway', 1);
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
