/**
 * On AWS the functions publish their usage as CloudWatch metrics in the embedded metric format:
 * Powertools writes one JSON line to stdout, which Lambda's log stream carries to CloudWatch. No AWS
 * call is made, so nothing is mocked: the line itself is checked.
 */
import { afterEach, expect, it, vi } from 'vitest';
import { usagePublisher } from '../../shared/metering/cloudwatch.js';

afterEach(() => {
  vi.restoreAllMocks();
});

it('is off unless the stack turns it on', () => {
  expect(usagePublisher({})).toBeUndefined();
  expect(usagePublisher({ LAMBERNETES_METRICS: 'off' })).toBeUndefined();
});

it("publishes an invocation's DynamoDB and SQS use as one EMF line, then starts over", () => {
  const lines: string[] = [];
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    lines.push(String(chunk));
    return true;
  });
  const publisher = usagePublisher({ LAMBERNETES_METRICS: 'on' });
  if (!publisher) throw new Error('metrics are on');
  publisher.meter.add('dynamodb', 'create.TransactWriteItems', { requests: 1, readUnits: 0, writeUnits: 4 });
  publisher.meter.add('dynamodb', 'get.GetItem', { requests: 2, readUnits: 1.5, writeUnits: 0 });
  publisher.meter.add('dynamodb', 'list.UpdateItem', { requests: 1, refused: 1 });
  publisher.meter.add('sqs', 'SendMessage', { requests: 1, billedRequests: 2 });
  publisher.publish();
  const emf = lines.map((line) => JSON.parse(line)).find((entry) => entry._aws);
  expect(emf).toMatchObject({
    service: 'lambernetes',
    DynamoDBRequests: 4,
    DynamoDBReadUnits: 1.5,
    DynamoDBWriteUnits: 4,
    DynamoDBRefusedWrites: 1,
    SQSBilledRequests: 2,
  });
  expect(emf.ApiResponseBytes).toBeUndefined(); // nothing counted, nothing published
  const [directive] = emf._aws.CloudWatchMetrics;
  expect(directive.Namespace).toBe('Lambernetes');
  expect(directive.Dimensions).toEqual([['service']]);
  expect(publisher.meter.snapshot()).toEqual({});
});
