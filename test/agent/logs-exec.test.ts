import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Kubelet } from '../../agent/kubelet/kubelet.js';
import { type KubeletServer, startKubeletServer } from '../../agent/kubelet/server.js';
import type { Node, Pod } from '../../shared/api/core.js';
import { resourceType } from '../../shared/api/resources.js';
import { busyboxImage, podmanAvailable } from '../../shared/local/podman.js';
import { loadOrCreateCertificates } from '../../shared/local/tls.js';
import type { TestCluster } from '../support/cluster.js';
import { startTestKubelet, type TestKubelet } from '../support/kubelet.js';
import { until } from '../support/wait.js';

const pods = resourceType('pods');
const nodes = resourceType('nodes');

const unavailable = await podmanAvailable();
if (unavailable) console.warn(`Skipping the logs and exec tests: ${unavailable}`);

/**
 * `kubectl logs` and `kubectl exec` end to end: the real kubectl, the API server forwarding `pods/log`
 * and `pods/exec` to the node's kubelet endpoint, and a kubelet running the pods in real containers.
 */
describe.skipIf(unavailable !== undefined)(
  'kubectl logs and exec reach containers through the kubelet',
  () => {
    let harness: TestKubelet;
    let cluster: TestCluster;
    let kubelet: Kubelet;
    let server: KubeletServer;
    let nodeName: string;
    let errors: unknown[];

    const run = async (name: string, containers: NonNullable<Pod['spec']>['containers']) => {
      await cluster.client.create<Pod>(pods, {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name, namespace: 'default' },
        spec: { nodeName, terminationGracePeriodSeconds: 1, containers },
      });
      kubelet.enqueue(`default/${name}`);
    };
    const ready = (name: string) =>
      until(`${name} running`, async () => {
        const pod = await cluster.client.get<Pod>(pods, 'default', name);
        return pod.status?.containerStatuses?.every((c) => c.state?.running) ? pod : undefined;
      });

    beforeAll(async () => {
      harness = await startTestKubelet('logs');
      ({ cluster, kubelet, nodeName, errors } = harness);
      const certificates = await loadOrCreateCertificates(join(harness.dataDir, 'pki'));
      server = await startKubeletServer({
        runtime: harness.runtime,
        host: '127.0.0.1',
        port: 0,
        token: cluster.kubeletToken,
        cert: certificates.serverCert,
        key: certificates.serverKey,
        onError: (error) => errors.push(error),
      });
      const node = await cluster.client.create<Node>(nodes, {
        apiVersion: 'v1',
        kind: 'Node',
        metadata: { name: nodeName },
      });
      await cluster.client.update<Node>(
        nodes,
        {
          ...node,
          status: {
            addresses: [{ type: 'InternalIP', address: '127.0.0.1' }],
            daemonEndpoints: { kubeletEndpoint: { Port: server.port } },
          } as Node['status'],
        },
        'status',
      );
      await run('talker', [
        {
          name: 'main',
          image: busyboxImage,
          imagePullPolicy: 'IfNotPresent',
          command: ['sh', '-c', 'echo one; echo two; echo oops >&2; exec sleep 3600'],
        },
      ]);
      await ready('talker');
    });
    afterAll(async () => {
      await server?.close();
      await harness?.stop();
    });

    it('shows a container’s output, stdout and stderr in order, and its last lines with --tail', async () => {
      const logs = await until('the three lines', async () => {
        const out = await cluster.kubectlOk(['logs', 'talker']);
        return out.split('\n').length >= 4 ? out : undefined;
      });
      expect(logs).toBe('one\ntwo\noops\n');
      expect(await cluster.kubectlOk(['logs', 'talker', '--tail=1'])).toBe('oops\n');
      expect(await cluster.kubectlOk(['logs', 'talker', '-c', 'main', '--limit-bytes=3'])).toBe('one');
      expect(await cluster.kubectlOk(['logs', 'talker', '--timestamps', '--tail=1'])).toMatch(
        /^\d{4}-\d\d-\d\dT\S+ oops\n$/,
      );
    });

    it('follows a container’s output with -f until the container exits', async () => {
      await run('counter', [
        {
          name: 'main',
          image: busyboxImage,
          imagePullPolicy: 'IfNotPresent',
          command: ['sh', '-c', 'sleep 2; for i in 1 2 3; do echo tick $i; sleep 1; done'],
        },
      ]);
      await ready('counter');
      // Started while the container is still silent: every line arrives through the open stream.
      const followed = await cluster.kubectlOk(['logs', '-f', 'counter']);
      expect(followed).toBe('tick 1\ntick 2\ntick 3\n');
    });

    it('shows the previous container’s output with --previous after a restart', async () => {
      await run('crasher', [
        {
          name: 'main',
          image: busyboxImage,
          imagePullPolicy: 'IfNotPresent',
          command: ['sh', '-c', 'echo "attempt $(cat /proc/sys/kernel/random/uuid)"; sleep 1; exit 1'],
        },
      ]);
      await until('a restart', async () => {
        const pod = await cluster.client.get<Pod>(pods, 'default', 'crasher');
        return (pod.status?.containerStatuses?.[0]?.restartCount ?? 0) >= 1 ? pod : undefined;
      });
      const previous = await cluster.kubectlOk(['logs', 'crasher', '--previous']);
      expect(previous).toMatch(/^attempt [0-9a-f-]{36}\n$/);
      const current = await until('the current attempt’s output', async () => {
        const out = await cluster.kubectl(['logs', 'crasher']);
        return out.code === 0 && out.stdout !== '' ? out.stdout : undefined;
      });
      expect(current).toMatch(/^attempt [0-9a-f-]{36}\n$/);
      expect(current).not.toBe(previous);
      const none = await cluster.kubectl(['logs', 'talker', '--previous']);
      expect(none.code).not.toBe(0);
      expect(none.stderr).toContain('previous terminated container "main" in pod "talker" not found');
    });

    it('refuses what cannot be shown with clear errors', async () => {
      const wrong = await cluster.kubectl(['logs', 'talker', '-c', 'nope']);
      expect(wrong.code).not.toBe(0);
      expect(wrong.stderr).toContain('container nope is not valid for pod talker');
      const badTail = await cluster.api('GET', '/api/v1/namespaces/default/pods/talker/log?tailLines=-1');
      expect(badTail.status).toBe(422);
      await cluster.client.create<Pod>(pods, {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: 'unbound', namespace: 'default' },
        spec: { containers: [{ name: 'main', image: busyboxImage }] },
      });
      const unbound = await cluster.kubectl(['logs', 'unbound']);
      expect(unbound.stderr).toContain('pod unbound does not have a host assigned');
      // Exec without an upgrade (what a function URL would carry) is refused, not half-served.
      const plain = await cluster.api(
        'POST',
        '/api/v1/namespaces/default/pods/talker/exec?command=true&stdout=1',
      );
      expect(plain.status).toBe(400);
      expect(plain.json<{ message: string }>().message).toContain('Upgrade request required');
    });

    it('runs a command with kubectl exec: stdout, stderr and the exit code come back', async () => {
      const result = await cluster.kubectl([
        'exec',
        'talker',
        '--',
        'sh',
        '-c',
        'echo out; echo err >&2; exit 3',
      ]);
      expect(result.stdout).toBe('out\n');
      expect(result.stderr).toContain('err\n');
      expect(result.code).toBe(3);
      const ok = await cluster.kubectl(['exec', 'talker', '--', 'cat', '/etc/hostname']);
      expect(ok.code).toBe(0);
    });

    it('passes stdin to the command with kubectl exec -i, ending with EOF', async () => {
      const echoed = await cluster.kubectl(
        ['exec', '-i', 'talker', '--', 'sh', '-c', 'wc -l; cat'],
        'a\nb\n',
      );
      expect(echoed.code).toBe(0);
      expect(echoed.stdout.trim()).toBe('2');
    });

    it('reports no internal errors', () => {
      expect(errors).toEqual([]);
    });
  },
);
