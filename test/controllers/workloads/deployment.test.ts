import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Deployment, Pod, ReplicaSet } from '../../../shared/api/core.js';
import { resourceType } from '../../../shared/api/resources.js';
import type { KubernetesObject } from '../../../shared/api/types.js';
import { startTestCluster, type TestCluster } from '../../support/cluster.js';
import { type Simulator, startSimulator } from '../../support/simulator.js';
import { until } from '../../support/wait.js';
import { imageOf, isLive, isReady, livePods, recordPods } from './helpers.js';

const deployments = resourceType('deployments.apps');
const replicaSets = resourceType('replicasets.apps');
const events = resourceType('events');

const long = { timeout: 180_000 };

function manifest(name: string, image: string, replicas: number, spec: Partial<Deployment['spec']> = {}) {
  return JSON.stringify({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace: 'default' },
    spec: {
      replicas,
      selector: { matchLabels: { app: name } },
      ...spec,
      template: {
        metadata: { labels: { app: name } },
        spec: { containers: [{ name, image }] },
      },
    },
  });
}

describe('Deployments through kubectl', () => {
  let cluster: TestCluster;
  let simulator: Simulator;

  beforeAll(async () => {
    cluster = await startTestCluster();
    simulator = await startSimulator(cluster.client, [
      { name: 'sim-a' },
      { name: 'sim-b' },
      { name: 'sim-c' },
    ]);
  }, 120_000);
  afterAll(async () => {
    await simulator?.stop();
    await cluster?.stop();
  });

  const kubectl = (...args: string[]) => cluster.kubectl(args);
  const rolloutStatus = async (name: string) => {
    const result = await cluster.kubectl(['rollout', 'status', `deployment/${name}`, '--timeout=90s']);
    expect(result.stderr).toBe('');
    expect(result.stdout).toContain(`deployment "${name}" successfully rolled out`);
  };
  const replicaSetsOf = async (app: string) =>
    (
      await cluster.client.list<ReplicaSet>(replicaSets, {
        namespace: 'default',
        labelSelector: `app=${app}`,
      })
    ).items;

  describe('a rolling Deployment', () => {
    it('rolls out: kubectl rollout status succeeds with every replica running', long, async () => {
      const applied = await cluster.kubectl(['apply', '-f', '-'], manifest('web', 'nginx:1.26', 5));
      expect(applied.stderr).toBe('');
      await rolloutStatus('web');
      const pods = await livePods(cluster.client, 'default', 'app=web');
      expect(pods).toHaveLength(5);
      expect(pods.every(isReady)).toBe(true);
      const [rs] = await replicaSetsOf('web');
      const hash = rs?.metadata.labels?.['pod-template-hash'] as string;
      expect(rs?.metadata.name).toBe(`web-${hash}`);
      expect(rs?.spec.selector.matchLabels).toEqual({ app: 'web', 'pod-template-hash': hash });
      expect(rs?.metadata.annotations).toMatchObject({
        'deployment.kubernetes.io/revision': '1',
        'deployment.kubernetes.io/desired-replicas': '5',
        'deployment.kubernetes.io/max-replicas': '7',
      });
      for (const pod of pods) {
        expect(pod.metadata.name).toMatch(new RegExp(`^web-${hash}-[bcdfghjklmnpqrstvwxz2456789]{5}$`));
        expect(pod.metadata.labels).toEqual({ app: 'web', 'pod-template-hash': hash });
        expect(pod.metadata.ownerReferences).toEqual([
          {
            apiVersion: 'apps/v1',
            kind: 'ReplicaSet',
            name: rs?.metadata.name,
            uid: rs?.metadata.uid,
            controller: true,
            blockOwnerDeletion: true,
          },
        ]);
      }
      const d = await cluster.client.get<Deployment>(deployments, 'default', 'web');
      expect(d.metadata.annotations?.['deployment.kubernetes.io/revision']).toBe('1');
      const recorded = await cluster.client.list<KubernetesObject & { reason: string; message: string }>(
        events,
        {
          namespace: 'default',
          fieldSelector: 'involvedObject.name=web',
        },
      );
      expect(recorded.items.map((e) => [e.reason, e.message])).toContainEqual([
        'ScalingReplicaSet',
        `Scaled up replica set web-${hash} to 5`,
      ]);
      expect(d.status).toMatchObject({
        replicas: 5,
        updatedReplicas: 5,
        readyReplicas: 5,
        availableReplicas: 5,
      });
      expect(d.status?.conditions?.map((c) => [c.type, c.status, c.reason])).toEqual(
        expect.arrayContaining([
          ['Available', 'True', 'MinimumReplicasAvailable'],
          ['Progressing', 'True', 'NewReplicaSetAvailable'],
        ]),
      );
    });

    it(
      'updates the image with never more than replicas + maxSurge pods nor fewer than replicas - maxUnavailable available',
      long,
      async () => {
        const recorder = await recordPods(cluster.client, 'default', 'app=web');
        const set = await kubectl('set', 'image', 'deployment/web', 'web=nginx:1.27');
        expect(set.stderr).toBe('');
        await rolloutStatus('web');
        const { states } = await recorder.stop();
        // Every state from the old pods to the new ones was seen (at least a create and a delete each).
        expect(states.length).toBeGreaterThan(10);
        const live = states.map((pods) => pods.filter(isLive));
        // 5 replicas at 25%: a surge of 2 (rounded up), 1 unavailable (rounded down).
        expect(Math.max(...live.map((pods) => pods.length))).toBeLessThanOrEqual(7);
        expect(Math.min(...live.map((pods) => pods.filter(isReady).length))).toBeGreaterThanOrEqual(4);
        const pods = await livePods(cluster.client, 'default', 'app=web');
        expect(pods.map(imageOf)).toEqual(Array(5).fill('nginx:1.27'));
        expect(await replicaSetsOf('web')).toHaveLength(2);
        const recorded = await cluster.client.list<KubernetesObject & { message: string }>(events, {
          namespace: 'default',
          fieldSelector: 'involvedObject.name=web',
        });
        expect(recorded.items.map((e) => e.message)).toContainEqual(
          expect.stringMatching(/^Scaled down replica set web-\w+ to 0 from \d$/),
        );
      },
    );

    it('lists the revisions with their change cause in kubectl rollout history', long, async () => {
      const annotated = await kubectl('annotate', 'deployment/web', 'kubernetes.io/change-cause=image 1.27');
      expect(annotated.stderr).toBe('');
      await until(
        'the change cause on the new ReplicaSet',
        async () => {
          const sets = await replicaSetsOf('web');
          return sets.some((rs) => rs.metadata.annotations?.['kubernetes.io/change-cause'] === 'image 1.27')
            ? true
            : undefined;
        },
        60_000,
      );
      const history = await kubectl('rollout', 'history', 'deployment/web');
      expect(history.stderr).toBe('');
      expect(history.stdout).toMatch(/REVISION\s+CHANGE-CAUSE/);
      expect(history.stdout).toMatch(/^1\s+<none>$/m);
      expect(history.stdout).toMatch(/^2\s+image 1\.27$/m);
    });

    it(
      'goes back to the previous template with kubectl rollout undo, reusing its ReplicaSet',
      long,
      async () => {
        const undo = await kubectl('rollout', 'undo', 'deployment/web');
        expect(undo.stderr).toBe('');
        expect(undo.stdout).toContain('rolled back');
        await rolloutStatus('web');
        const pods = await livePods(cluster.client, 'default', 'app=web');
        expect(pods.map(imageOf)).toEqual(Array(5).fill('nginx:1.26'));
        const sets = await replicaSetsOf('web');
        expect(sets).toHaveLength(2);
        const reused = sets.find((rs) => imageOf(rs.spec.template as Pod) === 'nginx:1.26');
        expect(reused?.metadata.annotations).toMatchObject({
          'deployment.kubernetes.io/revision': '3',
          'deployment.kubernetes.io/revision-history': '1',
        });
        const d = await cluster.client.get<Deployment>(deployments, 'default', 'web');
        expect(d.metadata.annotations?.['deployment.kubernetes.io/revision']).toBe('3');
        const history = await kubectl('rollout', 'history', 'deployment/web');
        expect(history.stdout).toMatch(/^2\s+image 1\.27$/m);
        expect(history.stdout).toMatch(/^3\s+/m);
        expect(history.stdout).not.toMatch(/^1\s+/m);
      },
    );

    it('replaces every pod on kubectl rollout restart', long, async () => {
      const before = new Set(
        (await livePods(cluster.client, 'default', 'app=web')).map((p) => p.metadata.name),
      );
      const restart = await kubectl('rollout', 'restart', 'deployment/web');
      expect(restart.stderr).toBe('');
      await rolloutStatus('web');
      const after = await livePods(cluster.client, 'default', 'app=web');
      expect(after).toHaveLength(5);
      expect(after.filter((p) => before.has(p.metadata.name))).toEqual([]);
      expect(after[0]?.metadata.annotations?.['kubectl.kubernetes.io/restartedAt']).toBeDefined();
    });

    it('scales to zero and back with kubectl scale', long, async () => {
      expect((await kubectl('scale', 'deployment/web', '--replicas=0')).stderr).toBe('');
      await until(
        'no pods',
        async () => ((await livePods(cluster.client, 'default', 'app=web')).length === 0 ? true : undefined),
        60_000,
      );
      await until(
        'the status to say so',
        async () => {
          const d = await cluster.client.get<Deployment>(deployments, 'default', 'web');
          return (d.status?.replicas ?? 0) === 0 && d.status?.observedGeneration === d.metadata.generation
            ? true
            : undefined;
        },
        60_000,
      );
      expect((await kubectl('scale', 'deployment/web', '--replicas=3')).stderr).toBe('');
      await rolloutStatus('web');
      const pods = await livePods(cluster.client, 'default', 'app=web');
      expect(pods).toHaveLength(3);
      expect(pods.every(isReady)).toBe(true);
    });

    it('replaces a deleted pod', long, async () => {
      const [victim] = await livePods(cluster.client, 'default', 'app=web');
      expect((await kubectl('delete', 'pod', victim?.metadata.name as string)).stderr).toBe('');
      const pods = await until(
        'a replacement',
        async () => {
          const live = await livePods(cluster.client, 'default', 'app=web');
          return live.length === 3 &&
            live.every(isReady) &&
            !live.some((p) => p.metadata.name === victim?.metadata.name)
            ? live
            : undefined;
        },
        60_000,
      );
      expect(pods).toHaveLength(3);
    });
  });

  it(
    'deletes every old pod before creating new ones with the Recreate strategy, then the old ReplicaSet beyond the history limit',
    long,
    async () => {
      const applied = await cluster.kubectl(
        ['apply', '-f', '-'],
        manifest('recreate', 'nginx:1.26', 3, { strategy: { type: 'Recreate' }, revisionHistoryLimit: 0 }),
      );
      expect(applied.stderr).toBe('');
      await rolloutStatus('recreate');
      const recorder = await recordPods(cluster.client, 'default', 'app=recreate');
      expect((await kubectl('set', 'image', 'deployment/recreate', 'recreate=nginx:1.27')).stderr).toBe('');
      await rolloutStatus('recreate');
      const { states } = await recorder.stop();
      // Any pod of the old template, even one being deleted, rules out every pod of the new one.
      const overlapping = states.filter(
        (pods) =>
          pods.some((p) => imageOf(p) === 'nginx:1.26') && pods.some((p) => imageOf(p) === 'nginx:1.27'),
      );
      expect(overlapping).toEqual([]);
      expect(states.some((pods) => pods.length === 0)).toBe(true);
      const pods = await livePods(cluster.client, 'default', 'app=recreate');
      expect(pods.map(imageOf)).toEqual(Array(3).fill('nginx:1.27'));
      // revisionHistoryLimit 0: the old ReplicaSet goes once it has no pods.
      const [kept] = await until(
        'the old ReplicaSet deleted',
        async () => {
          const sets = await replicaSetsOf('recreate');
          return sets.length === 1 ? sets : undefined;
        },
        60_000,
      );
      expect(imageOf(kept?.spec.template as Pod)).toBe('nginx:1.27');
    },
  );

  it('stops a rollout while paused, still scales, and finishes it once resumed', long, async () => {
    const applied = await cluster.kubectl(['apply', '-f', '-'], manifest('paused', 'nginx:1.26', 2));
    expect(applied.stderr).toBe('');
    await rolloutStatus('paused');
    expect((await kubectl('rollout', 'pause', 'deployment/paused')).stderr).toBe('');
    expect((await kubectl('set', 'image', 'deployment/paused', 'paused=nginx:1.27')).stderr).toBe('');
    await until(
      'the controller to see the paused change',
      async () => {
        const d = await cluster.client.get<Deployment>(deployments, 'default', 'paused');
        const progressing = d.status?.conditions?.find((c) => c.type === 'Progressing');
        return d.status?.observedGeneration === d.metadata.generation &&
          progressing?.reason === 'DeploymentPaused'
          ? true
          : undefined;
      },
      60_000,
    );
    expect((await kubectl('scale', 'deployment/paused', '--replicas=3')).stderr).toBe('');
    const scaled = await until(
      'three pods of the old template',
      async () => {
        const live = await livePods(cluster.client, 'default', 'app=paused');
        return live.length === 3 && live.every(isReady) ? live : undefined;
      },
      60_000,
    );
    expect(scaled.map(imageOf)).toEqual(Array(3).fill('nginx:1.26'));
    expect(await replicaSetsOf('paused')).toHaveLength(1);

    expect((await kubectl('rollout', 'resume', 'deployment/paused')).stderr).toBe('');
    await rolloutStatus('paused');
    const pods = await livePods(cluster.client, 'default', 'app=paused');
    expect(pods.map(imageOf)).toEqual(Array(3).fill('nginx:1.27'));
  });
});
