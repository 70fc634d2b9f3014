import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { LambernetesStack } from '../../infra/stack.js';
import { createTableInput, tableSchema } from '../../shared/store/table.js';

describe('the CDK stack', () => {
  it('builds the store table with the keys, stream and TTL the store itself creates', () => {
    const template = Template.fromStack(new LambernetesStack(new App(), 'Test'));
    const local = createTableInput('any');
    const tables = template.findResources('AWS::DynamoDB::Table');
    const [table] = Object.values(tables) as {
      Properties: Record<string, unknown>;
      DeletionPolicy: string;
    }[];
    expect(Object.keys(tables)).toHaveLength(1);
    expect(table?.Properties.KeySchema).toEqual(local.KeySchema);
    expect(table?.Properties.AttributeDefinitions).toEqual(local.AttributeDefinitions);
    expect(table?.Properties.StreamSpecification).toEqual({
      StreamViewType: local.StreamSpecification?.StreamViewType,
    });
    expect(table?.Properties.TimeToLiveSpecification).toEqual({
      AttributeName: tableSchema.timeToLiveAttribute,
      Enabled: true,
    });
    expect(table?.Properties.BillingMode).toBe('PAY_PER_REQUEST');
    expect(table?.Properties.PointInTimeRecoverySpecification).toEqual({ PointInTimeRecoveryEnabled: true });
    expect(table?.Properties.SSESpecification).toEqual({ SSEEnabled: true });
    expect(table?.DeletionPolicy).toBe('Retain');
  });
});
