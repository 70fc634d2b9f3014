/**
 * The scenario end to end: a local cluster with two worker nodes whose agents run real
 * containers through Podman, driven by the real kubectl. Three web servers behind a NodePort Service;
 * the Service from the host and from a pod (ClusterIP and DNS); a killed container, a failing liveness
 * probe and a failing readiness probe; a deleted pod; a node that stops; and the Deployment's deletion,
 * each checked against the API and against what Podman runs.
 *
 * The steps run in order on one cluster, each building on the state the previous one left.
 */
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { request } from 'node:http';
import { networkInterfaces } from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { labels } from '../../agent/runtime/docker.js';
import type { Pod } from '../../shared/api/core.js';
import { resourceType } from '../../shared/api/resources.js';
import { busyboxImage, podmanAvailable } from '../../shared/local/podman.js';
import { startTestCluster, type TestCluster } from '../support/cluster.js';
import { until } from '../support/wait.js';

const pods = resourceType('pods');

/** A namespace of this run's own, so that Podman's labels tell its containers from any other cluster's. */
const ns = `scenario-${randomUUID().slice(0, 8)}`;

/**
 * Each pod's page names it. The probes read files the command writes before httpd starts; a test
 * removes one through `podman exec` to fail that probe (a restarted container writes them afresh).
 */
const manifest = `
apiVersion: v1
kind: Namespace
metadata: { name: ${ns} }
---
apiVersion: apps/v1
kind: Deployment
metadata: { name: web, namespace: ${ns} }
spec:
  replicas: 3
  selector: { matchLabels: { app: web } }
  template:
    metadata: { labels: { app: web } }
    spec:
      terminationGracePeriodSeconds: 2
      containers:
        - name: httpd
          image: ${busyboxImage}
          imagePullPolicy: IfNotPresent
          env:
            - name: POD_NAME
              valueFrom: { fieldRef: { fieldPath: metadata.name } }
          command:
            - sh
            - -c
            - echo "$POD_NAME" > /www/index.html && touch /www/alive /www/ready && exec httpd -f -p 8080 -h /www
          ports: [{ containerPort: 8080 }]
          livenessProbe:
            httpGet: { path: /alive, port: 8080 }
            initialDelaySeconds: 1
            periodSeconds: 2
            failureThreshold: 3
          readinessProbe:
            httpGet: { path: /ready, port: 8080 }
            periodSeconds: 1
            failureThreshold: 1
---
apiVersion: v1
kind: Service
metadata: { name: web, namespace: ${ns} }
spec:
  type: NodePort
  selector: { app: web }
  ports: [{ port: 80, targetPort: 8080 }]
`;

/** `GET /` on host:port: the status and the body (a pod's name), or undefined if nothing answers. */
function httpGet(host: string, port: number): Promise<{ status: number; body: string } | undefined> {
  return new Promise((resolve) => {
    const req = request({ host, port, path: '/', timeout: 3000, agent: false }, (res) => {
      let body = '';
      res.on('data', (chunk: Buffer) => {
        body += chunk.toString();
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: body.trim() }));
      res.on('error', () => resolve(undefined));
    });
    req.on('error', () => resolve(undefined));
    req.on('timeout', () => req.destroy());
    req.end();
  });
}

/** The pod names `count` requests to host:port see (new connections each, so the proxy picks anew). */
async function namesSeen(host: string, port: number, count: number): Promise<string[]> {
  const names: string[] = [];
  for (let i = 0; i < count; i++) {
    const answer = await httpGet(host, port);
    names.push(answer?.status === 200 ? answer.body : `<${answer ? answer.status : 'no answer'}>`);
  }
  return names;
}

/** This host's first non-loopback IPv4 address (NodePorts answer on the node's addresses). */
function hostAddress(): string {
  const found = Object.values(networkInterfaces())
    .flat()
    .find((a) => a?.family === 'IPv4' && !a.internal && !a.address.startsWith('10.244.'));
  return found?.address ?? '127.0.0.1';
}

/** What `podman ps --format json` says of a container (Podman 4.3). */
interface PodmanContainer {
  Id: string;
  Names: string[];
  State: string;
  Labels: Record<string, string> | null;
}

const unavailable = await podmanAvailable();
if (unavailable) console.warn(`Skipping the scenario test: ${unavailable}`);

describe
  .skipIf(unavailable !== undefined)
  .sequential('three web servers on two Podman worker nodes, through kubectl', () => {
    let cluster: TestCluster;
    let clusterIP = '';
    let nodePort = 0;

    const podman = (args: string[]) =>
      new Promise<string>((resolve, reject) =>
        execFile(
          'podman',
          args,
          { env: cluster.agents?.podman?.env, timeout: 60_000 },
          (error, stdout, stderr) =>
            error
              ? reject(new Error(`podman ${args.join(' ')}: ${stderr || error.message}`))
              : resolve(stdout),
        ),
      );
    /** The containers (all states) carrying every one of these `io.lambernetes.*` labels. */
    const containers = async (filters: Record<string, string>): Promise<PodmanContainer[]> => {
      const args = ['ps', '-a', '--format', 'json'];
      for (const [key, value] of Object.entries(filters)) args.push('--filter', `label=${key}=${value}`);
      return JSON.parse((await podman(args)) || '[]') as PodmanContainer[];
    };
    /** The running app container of a pod, as Podman lists it. */
    const appContainer = async (pod: Pod) =>
      until(`the running container of ${pod.metadata.name}`, async () =>
        (
          await containers({ [labels.podUid]: pod.metadata.uid as string, [labels.containerKind]: 'regular' })
        ).find((c) => c.State === 'running'),
      );
    /** Runs a shell command in a pod's app container. */
    const inPod = (pod: Pod, script: string) =>
      cluster.kubectlOk(['exec', '-n', ns, pod.metadata.name, '--', 'sh', '-c', script]);

    const webPods = async () =>
      (await cluster.client.list<Pod>(pods, { namespace: ns, labelSelector: 'app=web' })).items.filter(
        (p) => !p.metadata.deletionTimestamp,
      );
    const isReady = (pod: Pod) =>
      pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
    /** Three ready web pods (none being deleted), once the ReplicaSet and the kubelets get there. */
    const threeReady = (what: string, timeoutMs = 90_000) =>
      until(
        what,
        async () => {
          const current = await webPods();
          return current.length === 3 && current.every(isReady) ? current : undefined;
        },
        timeoutMs,
      );
    const getPod = (name: string) => cluster.client.find<Pod>(pods, ns, name);
    const restartCount = (pod: Pod | undefined) => pod?.status?.containerStatuses?.[0]?.restartCount;
    const kubectlGet = (args: string[]) => cluster.kubectlOk(['get', '-n', ns, ...args]);
    /** The ready and not-ready addresses of the Service's Endpoints and of its EndpointSlices. */
    const endpointAddresses = async () => ({
      ready: (await kubectlGet(['endpoints', 'web', '-o', 'jsonpath={.subsets[*].addresses[*].ip}']))
        .split(' ')
        .filter(Boolean)
        .sort(),
      notReady: (
        await kubectlGet(['endpoints', 'web', '-o', 'jsonpath={.subsets[*].notReadyAddresses[*].ip}'])
      )
        .split(' ')
        .filter(Boolean)
        .sort(),
      sliceReady: (
        await kubectlGet([
          'endpointslices',
          '-l',
          'kubernetes.io/service-name=web',
          '-o',
          'jsonpath={range .items[*].endpoints[?(@.conditions.ready==true)]}{.addresses[0]} {end}',
        ])
      )
        .split(' ')
        .filter(Boolean)
        .sort(),
    });
    const ipsOf = (list: Pod[]) => list.map((p) => p.status?.podIP as string).sort();

    beforeAll(async () => {
      cluster = await startTestCluster({
        agents: 2,
        // Short enough for the node step to finish in seconds, long enough that a heartbeat (every
        // 10 s) late on a loaded machine does not make a healthy node NotReady.
        controlPlane: { nodeMonitorGracePeriodMs: 25_000, defaultEvictionSeconds: 5 },
      });
    }, 180_000);
    afterAll(async () => {
      // A test cluster's agents remove their containers and proxy rules as they stop.
      await cluster?.stop();
    }, 120_000);

    it('runs two worker nodes through Podman', async () => {
      expect(cluster.agentsUnavailable).toBeUndefined();
      expect(cluster.nodes).toEqual(['worker-1', 'worker-2']);
      const nodes = await until('two Ready nodes', async () => {
        const out = await cluster.kubectlOk(['get', 'nodes', '--no-headers']);
        return /^worker-1\s+Ready\s/m.test(out) && /^worker-2\s+Ready\s/m.test(out) ? out : undefined;
      });
      expect(nodes).toMatch(/^worker-2\s+Ready\s/m);
    });

    it('rolls out a Deployment of three web servers behind a NodePort Service', {
      timeout: 180_000,
    }, async () => {
      const applied = await cluster.kubectl(['apply', '-f', '-'], manifest);
      expect(applied.stderr).toBe('');
      expect(applied.stdout).toContain('deployment.apps/web created');
      const status = await cluster.kubectl([
        'rollout',
        'status',
        '-n',
        ns,
        'deployment/web',
        '--timeout=150s',
      ]);
      expect(status.stderr).toBe('');
      expect(status.stdout).toContain('successfully rolled out');
      const running = await threeReady('three ready web pods');
      expect(running.every((p) => p.status?.phase === 'Running')).toBe(true);
      expect(new Set(running.map((p) => p.spec.nodeName))).toEqual(new Set(['worker-1', 'worker-2']));
      clusterIP = await kubectlGet(['service', 'web', '-o', 'jsonpath={.spec.clusterIP}']);
      nodePort = Number(await kubectlGet(['service', 'web', '-o', 'jsonpath={.spec.ports[0].nodePort}']));
      expect(clusterIP).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
      expect(nodePort).toBeGreaterThanOrEqual(30000);
    });

    it('serves each pod’s page through the NodePort from the host, spread over the replicas', {
      timeout: 120_000,
    }, async () => {
      const names = (await webPods()).map((p) => p.metadata.name);
      const seen = new Set<string>();
      await until(
        'requests through the NodePort to reach all three pods',
        async () => {
          for (const name of await namesSeen(hostAddress(), nodePort, 10)) seen.add(name);
          return names.every((n) => seen.has(n)) ? seen : undefined;
        },
        90_000,
      );
      // Only the Deployment's pods answer, each with its own name.
      expect([...seen].sort()).toEqual([...names].sort());
    });

    it('serves the Service from inside a pod, by ClusterIP and by DNS name', {
      timeout: 150_000,
    }, async () => {
      await cluster.kubectlOk([
        'run',
        'client',
        '-n',
        ns,
        `--image=${busyboxImage}`,
        '--restart=Never',
        '--',
        'sleep',
        '3600',
      ]);
      const client = await until(
        'the client pod to run',
        async () => {
          const pod = await getPod('client');
          return pod && isReady(pod) ? pod : undefined;
        },
        90_000,
      );
      const names = (await webPods()).map((p) => p.metadata.name);
      const fetch = (target: string) => `printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc -w 3 ${target} 80`;
      for (const target of [clusterIP, 'web', `web.${ns}`, `web.${ns}.svc.cluster.local`]) {
        const answer = await until(
          `${target} to answer inside the client pod`,
          async () => {
            const out = await inPod(client, fetch(target)).catch(() => '');
            return /^HTTP\/1\.[01] 200/.test(out) ? out : undefined;
          },
          60_000,
        );
        // The body is the page of one of the web pods.
        expect(names).toContain(answer.trim().split(/\r?\n/).at(-1));
      }
      // The cluster DNS answers the Service's name with its ClusterIP.
      const lookup = await inPod(client, `nslookup web.${ns}.svc.cluster.local`);
      expect(lookup).toContain(clusterIP);
    });

    it('lets a pod call the API server through the kubernetes Service with its service account token', {
      timeout: 120_000,
    }, async () => {
      const client = (await getPod('client')) as Pod;
      const service = JSON.parse(
        await cluster.kubectlOk(['get', 'service', 'kubernetes', '-n', 'default', '-o', 'json']),
      );
      expect(service.spec.clusterIP).toBe('10.96.0.1');
      // What client-go's InClusterConfig reads: the address from the environment, the token and the CA
      // from the projected volume.
      const account = '/var/run/secrets/kubernetes.io/serviceaccount';
      const [address, token, ca, namespace] = await Promise.all(
        [
          'echo $KUBERNETES_SERVICE_HOST:$KUBERNETES_SERVICE_PORT',
          `cat ${account}/token`,
          `cat ${account}/ca.crt`,
          `cat ${account}/namespace`,
        ].map((script) => inPod(client, script)),
      );
      expect(address?.trim()).toBe('10.96.0.1:443');
      expect(namespace).toBe(ns);
      // Busybox's TLS client cannot talk to this server (it knows no ECDSA), so the request is made by
      // Node from inside the pod's network namespace: through the Service's address, the certificate
      // checked against the pod's ca.crt (and so naming 10.96.0.1), with the pod's token.
      const pid = (
        await podman(['inspect', '--format', '{{.State.Pid}}', (await appContainer(client)).Id])
      ).trim();
      const whoami = `
        const request = require('node:https').request({
          host: '10.96.0.1', port: 443, method: 'POST',
          path: '/apis/authentication.k8s.io/v1/selfsubjectreviews',
          ca: process.env.CA,
          headers: { authorization: 'Bearer ' + process.env.TOKEN, 'content-type': 'application/json' },
        }, (response) => response.pipe(process.stdout));
        request.on('error', (error) => { console.error(error.message); process.exit(1); });
        request.end(JSON.stringify({ apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' }));`;
      const review = await new Promise<string>((resolve, reject) =>
        execFile(
          'nsenter',
          [`--net=/proc/${pid}/ns/net`, process.execPath, '-e', whoami],
          { env: { CA: ca, TOKEN: token }, timeout: 30_000 },
          (error, stdout, stderr) => (error ? reject(new Error(stderr || error.message)) : resolve(stdout)),
        ),
      );
      expect(JSON.parse(review).status.userInfo.username).toBe(`system:serviceaccount:${ns}:default`);
    });

    it('reaches the pods on either node with kubectl exec and kubectl logs', {
      timeout: 120_000,
    }, async () => {
      const pods = await webPods();
      expect(new Set(pods.map((p) => p.spec?.nodeName)).size).toBe(2);
      for (const pod of pods) {
        const page = await cluster.kubectlOk([
          'exec',
          '-n',
          ns,
          pod.metadata.name,
          '--',
          'cat',
          '/www/index.html',
        ]);
        expect(page).toBe(`${pod.metadata.name}\n`);
      }
      // What a command writes to the container's main process's stdout is the container's log.
      await cluster.kubectlOk([
        'exec',
        '-n',
        ns,
        'client',
        '--',
        'sh',
        '-c',
        'echo hello from the client > /proc/1/fd/1',
      ]);
      const logs = await until('the client pod’s log line', async () => {
        const out = await cluster.kubectlOk(['logs', '-n', ns, 'client']);
        return out.includes('hello') ? out : undefined;
      });
      expect(logs).toBe('hello from the client\n');
    });

    it('restarts a container whose process is killed, and counts the restart', {
      timeout: 120_000,
    }, async () => {
      const [victim] = await threeReady('three ready web pods');
      if (!victim) throw new Error('no web pod');
      const before = await appContainer(victim);
      await podman(['kill', before.Id]);
      const restarted = await until(
        `${victim.metadata.name} to restart its container`,
        async () => {
          const pod = await getPod(victim.metadata.name);
          return restartCount(pod) === 1 && pod && isReady(pod) ? pod : undefined;
        },
        90_000,
      );
      // The same pod, a new container: the kill is the last state, as kubectl describe shows it.
      expect(restarted.metadata.uid).toBe(victim.metadata.uid);
      const status = restarted.status?.containerStatuses?.[0];
      expect(status?.lastState?.terminated).toMatchObject({ exitCode: 137 });
      const after = await appContainer(restarted);
      expect(after.Id).not.toBe(before.Id);
      expect(after.Labels?.[labels.restartCount]).toBe('1');
      expect(status?.containerID).toBe(`podman://${after.Id}`);
    });

    it('restarts a container whose liveness probe fails', { timeout: 120_000 }, async () => {
      const victim = (await threeReady('three ready web pods')).find((p) => restartCount(p) === 0);
      if (!victim) throw new Error('no web pod that has not restarted');
      const before = await appContainer(victim);
      // The liveness probe GETs /alive; without it httpd answers 404.
      await inPod(victim, 'rm /www/alive');
      const restarted = await until(
        `${victim.metadata.name} to be restarted by its liveness probe`,
        async () => {
          const pod = await getPod(victim.metadata.name);
          return restartCount(pod) === 1 && pod && isReady(pod) ? pod : undefined;
        },
        90_000,
      );
      expect(restarted.metadata.uid).toBe(victim.metadata.uid);
      const after = await appContainer(restarted);
      expect(after.Id).not.toBe(before.Id);
      // Stopped by the kubelet (SIGTERM through the container's init, or SIGKILL after the grace period).
      const terminated = restarted.status?.containerStatuses?.[0]?.lastState?.terminated as
        | { exitCode?: number }
        | undefined;
      expect([137, 143]).toContain(terminated?.exitCode);
      // The kubelet said so, as `kubectl describe pod` shows: the failed probes, then the kill.
      const events = await until(`the liveness events of ${victim.metadata.name}`, async () => {
        const out = await cluster.kubectlOk([
          'get',
          'events',
          '-n',
          ns,
          '--field-selector',
          `involvedObject.name=${victim.metadata.name}`,
          '-o',
          'jsonpath={range .items[*]}{.type} {.reason} {.message}{"\\n"}{end}',
        ]);
        return out.includes('Killing') ? out : undefined;
      });
      expect(events).toMatch(
        /^Warning Unhealthy Liveness probe failed: HTTP probe failed with statuscode: 404$/m,
      );
      expect(events).toMatch(/^Normal Killing Container httpd failed liveness probe, will be restarted$/m);
    });

    it('takes a pod whose readiness probe fails out of the Endpoints, the EndpointSlice and the proxy', {
      timeout: 150_000,
    }, async () => {
      const running = await threeReady('three ready web pods');
      const victim = running[2] as Pod;
      const victimIP = victim.status?.podIP as string;
      const name = victim.metadata.name;
      const restartsBefore = restartCount(victim);
      const allIPs = ipsOf(running);
      await until('all three pods in the Endpoints and the EndpointSlice', async () => {
        const a = await endpointAddresses();
        return same(a.ready, allIPs) && same(a.sliceReady, allIPs) ? a : undefined;
      });
      // Before: the ClusterIP reaches the pod (from the host, through the proxy's rules).
      await until(
        `the ClusterIP to reach ${name}`,
        async () => ((await namesSeen(clusterIP, 80, 5)).includes(name) ? true : undefined),
        60_000,
      );

      // The readiness probe GETs /ready.
      await inPod(victim, 'rm /www/ready');
      await until(
        `${name} to be not ready`,
        async () => {
          const pod = await getPod(name);
          return pod && !isReady(pod) ? pod : undefined;
        },
        60_000,
      );
      const others = allIPs.filter((ip) => ip !== victimIP);
      const addresses = await until(
        `${name} to leave the Endpoints and the EndpointSlice`,
        async () => {
          const a = await endpointAddresses();
          return same(a.ready, others) && same(a.sliceReady, others) ? a : undefined;
        },
        60_000,
      );
      // Not ready, but still a member: Endpoints keeps it among the notReadyAddresses.
      expect(addresses.notReady).toEqual([victimIP]);
      // The proxy follows: once a round of requests misses the pod, no further one reaches it.
      await until(
        `the proxy to stop sending requests to ${name}`,
        async () => ((await namesSeen(clusterIP, 80, 10)).includes(name) ? undefined : true),
        60_000,
      );
      const after = await namesSeen(clusterIP, 80, 30);
      expect(after).not.toContain(name);
      expect(new Set(after).size).toBe(2);

      // Ready again: back in the Endpoints (the pod was not restarted; only liveness restarts).
      await inPod(victim, 'touch /www/ready');
      await until(
        `${name} to be back in the Endpoints`,
        async () => {
          const a = await endpointAddresses();
          return same(a.ready, allIPs) && same(a.sliceReady, allIPs) ? a : undefined;
        },
        60_000,
      );
      expect(restartCount(await getPod(name))).toBe(restartsBefore);
    });

    it('replaces a deleted pod through the ReplicaSet', { timeout: 120_000 }, async () => {
      const [victim] = await threeReady('three ready web pods');
      if (!victim) throw new Error('no web pod');
      await cluster.kubectlOk(['delete', 'pod', '-n', ns, victim.metadata.name, '--timeout=60s']);
      expect(await getPod(victim.metadata.name)).toBeUndefined();
      const replaced = await threeReady('a replacement pod to be ready');
      expect(replaced.map((p) => p.metadata.name)).not.toContain(victim.metadata.name);
      // The deleted pod's containers are gone from Podman.
      expect(await containers({ [labels.podUid]: victim.metadata.uid as string })).toEqual([]);
    });

    it('adopts the running containers when an agent restarts, starting no duplicates', {
      timeout: 120_000,
    }, async () => {
      const agents = cluster.agents;
      if (!agents) throw new Error('no agents');
      const before = await threeReady('three ready web pods');
      const onWorker1 = async () =>
        (await containers({ [labels.node]: 'worker-1', [labels.podNamespace]: ns }))
          .filter((c) => c.State === 'running')
          .map((c) => c.Id)
          .sort();
      const running = await onWorker1();
      expect(running.length).toBeGreaterThan(0);
      await agents.stopNode('worker-1');
      await agents.startNode('worker-1');
      // The restarted kubelet lists its pods at start and syncs each within a second or two. Nothing
      // must come of it, so there is no state to wait for: give it the time it would take.
      await new Promise((r) => setTimeout(r, 5000));
      expect(await onWorker1()).toEqual(running);
      const restarts = (list: Pod[]) => list.map((p) => `${p.metadata.uid} ${restartCount(p)}`).sort();
      expect(restarts(await threeReady('three ready web pods after the restart'))).toEqual(restarts(before));
    });

    it('moves the pods of a stopped node to the other node, and the node cleans up when it starts again', {
      timeout: 240_000,
    }, async () => {
      const agents = cluster.agents;
      if (!agents) throw new Error('no agents');
      const before = await threeReady('three ready web pods');
      const stranded = before.filter((p) => p.spec.nodeName === 'worker-2');
      // The scheduler spreads a ReplicaSet's pods over the nodes, so worker-2 runs some of them.
      expect(stranded.length).toBeGreaterThan(0);

      await agents.stopNode('worker-2');
      await until(
        'worker-2 to be NotReady',
        async () => {
          const out = await cluster.kubectlOk(['get', 'nodes', '--no-headers']);
          return /^worker-2\s+NotReady\s/m.test(out) && /^worker-1\s+Ready\s/m.test(out) ? out : undefined;
        },
        90_000,
      );
      // After the (shortened) eviction timeout the pods are evicted and replaced on worker-1.
      const moved = await until(
        'three ready web pods on worker-1',
        async () => {
          const current = await webPods();
          return current.length === 3 && current.every((p) => isReady(p) && p.spec.nodeName === 'worker-1')
            ? current
            : undefined;
        },
        150_000,
      );
      for (const pod of stranded) expect(moved.map((p) => p.metadata.name)).not.toContain(pod.metadata.name);
      // The Service follows: the NodePort reaches only the new pods.
      const movedNames = moved.map((p) => p.metadata.name);
      await until(
        'the NodePort to reach only the pods on worker-1',
        async () => {
          const names = await namesSeen(hostAddress(), nodePort, 10);
          return names.every((n) => movedNames.includes(n)) ? names : undefined;
        },
        60_000,
      );

      // The stopped node's containers kept running meanwhile; started again, its agent removes them.
      await agents.startNode('worker-2');
      await until(
        'worker-2 to be Ready again',
        async () => {
          const out = await cluster.kubectlOk(['get', 'nodes', '--no-headers']);
          return /^worker-2\s+Ready\s/m.test(out) ? out : undefined;
        },
        90_000,
      );
      for (const pod of stranded) {
        await until(
          `${pod.metadata.name} to be gone from the API and from Podman`,
          async () =>
            (await getPod(pod.metadata.name)) === undefined &&
            (await containers({ [labels.podUid]: pod.metadata.uid as string })).length === 0
              ? true
              : undefined,
          90_000,
        );
      }
    });

    it('removes all the containers of a deleted Deployment', { timeout: 120_000 }, async () => {
      await threeReady('three ready web pods');
      const webContainers = async () =>
        (await containers({ [labels.podNamespace]: ns })).filter((c) =>
          c.Labels?.[labels.podName]?.startsWith('web-'),
        );
      // Each pod is a sandbox and its httpd container (exited attempts may linger too).
      expect((await webContainers()).length).toBeGreaterThanOrEqual(6);
      await cluster.kubectlOk(['delete', 'deployment', '-n', ns, 'web', '--timeout=60s']);
      await until(
        'the web pods to be gone',
        async () =>
          (await cluster.client.list<Pod>(pods, { namespace: ns, labelSelector: 'app=web' })).items.length ===
          0
            ? true
            : undefined,
        90_000,
      );
      await until(
        'the web pods’ containers to be gone from Podman',
        async () => ((await webContainers()).length === 0 ? true : undefined),
        90_000,
      );
    });
  });

function same(a: string[], b: string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}
