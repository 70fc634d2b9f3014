import { CoreV1Api, KubeConfig, type ListWatch, makeInformer, type V1Pod } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestCluster, type TestCluster } from '../support/cluster.js';

describe('@kubernetes/client-node against the local API server', () => {
  let cluster: TestCluster;
  beforeAll(async () => {
    // Watches end after 2 s, so the informer has to resume several times during the test.
    cluster = await startTestCluster({ maxWatchSeconds: 2, controlPlane: false });
  });
  afterAll(async () => {
    await cluster?.stop();
  });

  it('ends a watch after the configured time, as kube-apiserver does', async () => {
    const started = Date.now();
    const response = await cluster.api('GET', '/api/v1/namespaces/default/pods?watch=true&resourceVersion=1');
    expect(response.status).toBe(200);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1900);
    expect(Date.now() - started).toBeLessThan(6000);
  });

  it('runs an informer that resumes after the server closes its watch without missing or repeating an event', async () => {
    const config = new KubeConfig();
    config.loadFromFile(cluster.kubeconfigPath);
    const core = config.makeApiClient(CoreV1Api);
    const namespace = 'default';
    const informer = makeInformer(config, `/api/v1/namespaces/${namespace}/pods`, () =>
      core.listNamespacedPod({ namespace }),
    ) as ListWatch<V1Pod>;
    const seen: string[] = [];
    const record = (verb: string) => (pod: V1Pod) =>
      seen.push(`${verb} ${pod.metadata?.name} ${pod.metadata?.labels?.step ?? ''}`.trim());
    informer.on('add', record('add'));
    informer.on('update', record('update'));
    informer.on('delete', record('delete'));
    await core.createNamespacedPod({ namespace, body: pod('before') });
    await informer.start();

    const expected = ['add before'];
    const started = Date.now();
    for (let step = 1; step <= 4; step++) {
      await new Promise((r) => setTimeout(r, 1200)); // changes land across several watch restarts
      await core.createNamespacedPod({ namespace, body: pod(`p${step}`) });
      await core.patchNamespacedPod({
        namespace,
        name: 'before',
        body: [{ op: 'add', path: '/metadata/labels', value: { step: String(step) } }],
      });
      expected.push(`add p${step}`, `update before ${step}`);
    }
    await core.deleteNamespacedPod({ namespace, name: 'p1' });
    expected.push('delete p1');
    expect(Date.now() - started).toBeGreaterThan(4000); // at least two watch restarts happened meanwhile

    const deadline = Date.now() + 15_000;
    while (seen.length < expected.length && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 50));
    await new Promise((r) => setTimeout(r, 2500)); // one more restart: nothing may be repeated
    await informer.stop();
    expect(seen).toEqual(expected);
    expect(
      informer
        .list(namespace)
        .map((p) => p.metadata?.name)
        .sort(),
    ).toEqual(['before', 'p2', 'p3', 'p4']);
  });
});

function pod(name: string): V1Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name },
    spec: { containers: [{ name: 'c', image: 'busybox' }] },
  };
}
