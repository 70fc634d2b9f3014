import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Kubelet } from '../../agent/kubelet/kubelet.js';
import type { DockerRuntime } from '../../agent/runtime/docker.js';
import type { Pod } from '../../shared/api/core.js';
import { resourceType } from '../../shared/api/resources.js';
import { busyboxImage, podmanAvailable } from '../../shared/local/podman.js';
import type { TestCluster } from '../support/cluster.js';
import { startTestKubelet, type TestKubelet } from '../support/kubelet.js';
import type { TestPodman } from '../support/podman.js';
import { until } from '../support/wait.js';

const pods = resourceType('pods');

function httpGet(host: string, port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request({ host, port, path: '/', timeout: 2000 }, (res) => {
      let body = '';
      res.on('data', (chunk) => {
        body += chunk;
      });
      res.on('end', () => resolve(`${res.statusCode} ${body}`));
    });
    req.on('error', reject);
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.end();
  });
}

const unavailable = await podmanAvailable();
if (unavailable) console.warn(`Skipping the kubelet tests: ${unavailable}`);

describe.skipIf(unavailable !== undefined)(
  'the kubelet runs pods bound to its node in real containers',
  () => {
    let harness: TestKubelet;
    let cluster: TestCluster;
    let podman: TestPodman;
    let runtime: DockerRuntime;
    let kubelet: Kubelet;
    let nodeName: string;
    let errors: unknown[];

    const pod = (name: string, spec: Partial<Pod['spec']>): Pod => ({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name, namespace: 'default' },
      spec: { nodeName, terminationGracePeriodSeconds: 2, containers: [], ...spec },
    });
    const run = async (object: Pod) => {
      await cluster.client.create(pods, object);
      kubelet.enqueue(`default/${object.metadata.name}`);
    };
    const get = (name: string) => cluster.client.get<Pod>(pods, 'default', name);

    beforeAll(async () => {
      harness = await startTestKubelet('kubelet');
      ({ cluster, podman, runtime, kubelet, nodeName, errors } = harness);
    });
    afterAll(() => harness?.stop());

    it('starts a web server pod: Running, Ready, with a pod IP that answers', async () => {
      await run(
        pod('web', {
          containers: [
            {
              name: 'httpd',
              image: busyboxImage,
              command: ['httpd', '-f', '-p', '8080', '-h', '/www'],
              readinessProbe: { tcpSocket: { port: 8080 }, periodSeconds: 1 },
            },
          ],
        }),
      );
      const running = await until('web is ready', async () => {
        const current = await get('web');
        return current.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')
          ? current
          : undefined;
      });
      expect(running.status?.phase).toBe('Running');
      expect(running.status?.containerStatuses?.[0]).toMatchObject({
        name: 'httpd',
        ready: true,
        restartCount: 0,
        state: { running: {} },
      });
      expect(running.status?.containerStatuses?.[0]?.containerID).toMatch(/^docker:\/\/[0-9a-f]{12,}/);
      const podIP = running.status?.podIP as string;
      expect(podIP.split('.').slice(0, 3)).toEqual(podman.subnet.split('.').slice(0, 3));
      expect(await httpGet(podIP, 8080)).toMatch(/^200 /);
      expect(errors).toEqual([]);
    });

    it('restarts a crashing container with a growing back-off and reports its last state', async () => {
      await run(
        pod('crash', { containers: [{ name: 'c', image: busyboxImage, command: ['sh', '-c', 'exit 3'] }] }),
      );
      const crashing = await until(
        'two restarts',
        async () => {
          const current = await get('crash');
          const status = current.status?.containerStatuses?.[0];
          return status && status.restartCount >= 2 ? status : undefined;
        },
        60_000,
      );
      expect(crashing.lastState).toMatchObject({ terminated: { exitCode: 3, reason: 'Error' } });
      const waitingNow = await until('CrashLoopBackOff', async () => {
        const status = (await get('crash')).status?.containerStatuses?.[0];
        return (status?.state?.waiting as { reason?: string } | undefined)?.reason === 'CrashLoopBackOff'
          ? status
          : undefined;
      });
      expect(waitingNow.state?.waiting).toHaveProperty(
        'message',
        expect.stringMatching(/^back-off \d+s restarting failed container=c pod=crash_default/),
      );
    });

    it('runs a pod to completion with restartPolicy Never, after its init container', async () => {
      await run(
        pod('job', {
          restartPolicy: 'Never',
          initContainers: [{ name: 'setup', image: busyboxImage, command: ['sh', '-c', 'exit 0'] }],
          containers: [{ name: 'main', image: busyboxImage, command: ['sh', '-c', 'echo done'] }],
        }),
      );
      const done = await until('the pod succeeded', async () => {
        const current = await get('job');
        return current.status?.phase === 'Succeeded' ? current : undefined;
      });
      expect(done.status?.initContainerStatuses?.[0]).toMatchObject({
        state: { terminated: { exitCode: 0 } },
      });
      expect(done.status?.containerStatuses?.[0]).toMatchObject({
        state: { terminated: { exitCode: 0, reason: 'Completed' } },
      });
    });

    it('stops and removes the containers of a deleted pod, then deletes the pod for good', async () => {
      const web = await get('web');
      await cluster.client.delete(pods, 'default', 'web');
      kubelet.enqueue('default/web');
      await until('the pod is gone', async () =>
        (await cluster.client.find(pods, 'default', 'web')) ? undefined : true,
      );
      const left = (await runtime.listContainers()).filter((c) => c.podUid === web.metadata.uid);
      const sandboxes = (await runtime.listSandboxes()).filter((s) => s.podUid === web.metadata.uid);
      expect([...left, ...sandboxes]).toEqual([]);
    });
  },
);
