import type { SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPodSource } from '../../agent/kubelet/pod-source.js';
import type { Node, Pod } from '../../shared/api/core.js';
import { resourceType } from '../../shared/api/resources.js';
import { localNodeQueuePrefix } from '../../shared/local/cluster.js';
import { localSqsClient } from '../../shared/local/sqs.js';
import { nodeQueueName } from '../../shared/queues/node-queue.js';
import { startTestCluster, type TestCluster } from '../support/cluster.js';
import { until } from '../support/wait.js';

const nodes = resourceType('nodes');
const pods = resourceType('pods');

describe("the kubelet's pod source: its node queue and the periodic list", () => {
  let cluster: TestCluster;
  let sqs: SQSClient;
  const notified: string[] = [];
  let lastResync: ReadonlySet<string> = new Set();
  let source: { stop(): Promise<void> } | undefined;

  beforeAll(async () => {
    cluster = await startTestCluster({ notifier: true });
    sqs = localSqsClient(cluster.sqsEndpoint as string);
  });
  afterAll(async () => {
    await source?.stop();
    sqs?.destroy();
    await cluster?.stop();
  });

  it('hears of pods bound to its node from the queue, and lists them every resync', async () => {
    // A pod bound before the agent starts is found by the first list.
    await cluster.client.create<Node>(nodes, { apiVersion: 'v1', kind: 'Node', metadata: { name: 'w1' } });
    const pod = (name: string, nodeName: string): Pod => ({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name, namespace: 'default' },
      spec: { nodeName, containers: [{ name: 'c', image: 'busybox' }] },
    });
    await cluster.client.create(pods, pod('early', 'w1'));
    source = startPodSource({
      client: cluster.client,
      nodeName: 'w1',
      queue: { sqs, name: nodeQueueName(localNodeQueuePrefix, 'w1'), waitSeconds: 1 },
      resyncIntervalMs: 60_000,
      onPod: (key) => notified.push(key),
      onResync: (keys) => {
        lastResync = keys;
      },
    });
    await until('the first list', async () => (lastResync.has('default/early') ? true : undefined));

    // Later changes come through the queue (the next list is a minute away).
    await cluster.client.create(pods, pod('later', 'w1'));
    await cluster.client.create(pods, pod('other', 'w2'));
    await until('the notification', async () => (notified.includes('default/later') ? true : undefined));
    const before = notified.filter((k) => k === 'default/early').length;
    await cluster.client.delete(pods, 'default', 'early', { gracePeriodSeconds: 0 });
    await until('the deletion', async () =>
      notified.filter((k) => k === 'default/early').length > before ? true : undefined,
    );
    expect(notified).not.toContain('default/other');
    expect([...lastResync]).toEqual(['default/early']);
  });
});
