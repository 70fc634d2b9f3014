import { describe, expect, it } from 'vitest';
import { type ObservedPod, podStatus, qosClass } from '../../agent/kubelet/pod-status.js';
import type { ContainerInfo } from '../../agent/runtime/runtime.js';
import type { Pod } from '../../shared/api/core.js';

const now = new Date('2026-11-22T10:00:00Z');
const pod = (spec: Partial<Pod['spec']> = {}): Pod => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name: 'web', namespace: 'default', uid: 'u1' },
  spec: { nodeName: 'n1', containers: [{ name: 'app', image: 'busybox' }], ...spec },
  status: {
    phase: 'Pending',
    conditions: [{ type: 'PodScheduled', status: 'True', lastTransitionTime: '2026-11-22T09:59:00Z' }],
  },
});
const info = (over: Partial<ContainerInfo>): ContainerInfo => ({
  id: 'c0',
  podUid: 'u1',
  name: 'app',
  kind: 'regular',
  restartCount: 0,
  image: 'busybox',
  imageId: 'sha256:abc',
  state: 'running',
  createdAt: new Date('2026-11-22T09:59:30Z'),
  startedAt: new Date('2026-11-22T09:59:31Z'),
  ...over,
});
const observed = (over: Partial<ObservedPod> = {}): ObservedPod => ({
  sandbox: {
    id: 's',
    podUid: 'u1',
    namespace: 'default',
    name: 'web',
    ip: '10.244.1.5',
    running: true,
    createdAt: now,
  },
  containers: [],
  waiting: new Map(),
  readiness: new Map(),
  started: new Map(),
  hostIP: '192.0.2.2',
  runtimeScheme: 'docker://',
  ...over,
});
const conditionOf = (status: ReturnType<typeof podStatus>, type: string) =>
  status.conditions?.find((c) => c.type === type);

describe('pod status', () => {
  it('is Pending with ContainerCreating before the container exists', () => {
    const status = podStatus(pod(), observed(), now);
    expect(status.phase).toBe('Pending');
    expect(status.containerStatuses?.[0]).toMatchObject({
      name: 'app',
      ready: false,
      restartCount: 0,
      state: { waiting: { reason: 'ContainerCreating' } },
    });
    expect(conditionOf(status, 'Ready')).toMatchObject({
      status: 'False',
      reason: 'ContainersNotReady',
      message: 'containers with unready status: [app]',
    });
    expect(conditionOf(status, 'PodScheduled')?.status).toBe('True');
    expect(status.startTime).toBe('2026-11-22T10:00:00Z');
  });

  it('is Running and Ready with the pod IP and container IDs once the container runs', () => {
    const status = podStatus(pod(), observed({ containers: [info({})] }), now);
    expect(status).toMatchObject({
      phase: 'Running',
      podIP: '10.244.1.5',
      hostIP: '192.0.2.2',
      qosClass: 'BestEffort',
    });
    expect(status.containerStatuses?.[0]).toMatchObject({
      ready: true,
      started: true,
      containerID: 'docker://c0',
      imageID: 'sha256:abc',
      state: { running: { startedAt: '2026-11-22T09:59:31Z' } },
    });
    expect(conditionOf(status, 'Ready')?.status).toBe('True');
    expect(conditionOf(status, 'ContainersReady')?.status).toBe('True');
  });

  it('is not Ready while the readiness probe fails or the startup probe has not passed', () => {
    const unready = podStatus(
      pod(),
      observed({ containers: [info({})], readiness: new Map([['app', false]]) }),
      now,
    );
    expect(unready.phase).toBe('Running');
    expect(conditionOf(unready, 'Ready')?.status).toBe('False');
    const starting = podStatus(
      pod(),
      observed({ containers: [info({})], started: new Map([['app', false]]) }),
      now,
    );
    expect(starting.containerStatuses?.[0]).toMatchObject({ started: false, ready: false });
  });

  it('shows a crashed container waiting in CrashLoopBackOff with its last run', () => {
    const status = podStatus(
      pod(),
      observed({
        containers: [
          info({ id: 'c0', restartCount: 0, state: 'exited', exitCode: 1, reason: 'Error', finishedAt: now }),
          info({ id: 'c1', restartCount: 1, state: 'exited', exitCode: 1, reason: 'Error', finishedAt: now }),
        ],
        waiting: new Map([
          ['app', { reason: 'CrashLoopBackOff', message: 'back-off 20s restarting failed container' }],
        ]),
      }),
      now,
    );
    expect(status.phase).toBe('Running');
    expect(status.containerStatuses?.[0]).toMatchObject({
      restartCount: 1,
      ready: false,
      state: { waiting: { reason: 'CrashLoopBackOff' } },
      lastState: { terminated: { exitCode: 1, reason: 'Error', containerID: 'docker://c1' } },
    });
  });

  it('keeps the previous run as lastState of a restarted running container', () => {
    const status = podStatus(
      pod(),
      observed({
        containers: [
          info({ id: 'c0', restartCount: 0, state: 'exited', exitCode: 137, reason: 'Error' }),
          info({ id: 'c1', restartCount: 1 }),
        ],
      }),
      now,
    );
    expect(status.containerStatuses?.[0]).toMatchObject({
      restartCount: 1,
      state: { running: {} },
      lastState: { terminated: { exitCode: 137, containerID: 'docker://c0' } },
    });
  });

  it('ends Succeeded or Failed by the restart policy', () => {
    const exited = (code: number) => observed({ containers: [info({ state: 'exited', exitCode: code })] });
    expect(podStatus(pod({ restartPolicy: 'Never' }), exited(0), now).phase).toBe('Succeeded');
    expect(podStatus(pod({ restartPolicy: 'Never' }), exited(1), now).phase).toBe('Failed');
    expect(podStatus(pod({ restartPolicy: 'OnFailure' }), exited(0), now).phase).toBe('Succeeded');
    expect(podStatus(pod({ restartPolicy: 'OnFailure' }), exited(1), now).phase).toBe('Running');
    expect(podStatus(pod({ restartPolicy: 'Always' }), exited(0), now).phase).toBe('Running');
    const done = podStatus(pod({ restartPolicy: 'Never' }), exited(0), now);
    expect(conditionOf(done, 'Ready')).toMatchObject({ status: 'False', reason: 'PodCompleted' });
  });

  it('stays Pending and not Initialized until every init container succeeded', () => {
    const spec = { initContainers: [{ name: 'setup', image: 'busybox' }] };
    const setup = (over: Partial<ContainerInfo>) => info({ id: 'i0', name: 'setup', kind: 'init', ...over });
    const running = podStatus(pod(spec), observed({ containers: [setup({})] }), now);
    expect(running.phase).toBe('Pending');
    expect(conditionOf(running, 'Initialized')).toMatchObject({
      status: 'False',
      reason: 'ContainersNotInitialized',
    });
    expect(running.initContainerStatuses?.[0]).toMatchObject({ name: 'setup', state: { running: {} } });
    const failed = podStatus(
      pod({ ...spec, restartPolicy: 'Never' }),
      observed({ containers: [setup({ state: 'exited', exitCode: 2 })] }),
      now,
    );
    expect(failed.phase).toBe('Failed');
    const done = podStatus(
      pod(spec),
      observed({ containers: [setup({ state: 'exited', exitCode: 0 }), info({})] }),
      now,
    );
    expect(done.phase).toBe('Running');
    expect(conditionOf(done, 'Initialized')?.status).toBe('True');
  });

  it('keeps condition transition times while their status holds', () => {
    const first = podStatus(pod(), observed({ containers: [info({})] }), now);
    const later = podStatus(
      { ...pod(), status: first },
      observed({ containers: [info({})] }),
      new Date('2026-11-22T10:05:00Z'),
    );
    expect(conditionOf(later, 'Ready')?.lastTransitionTime).toBe('2026-11-22T10:00:00Z');
    expect(later.startTime).toBe('2026-11-22T10:00:00Z');
  });

  it('classes QoS as upstream does', () => {
    const withResources = (resources: object) => pod({ containers: [{ name: 'a', resources }] });
    expect(qosClass(pod())).toBe('BestEffort');
    expect(qosClass(withResources({ limits: { cpu: '1', memory: '1Gi' } }))).toBe('Guaranteed');
    expect(qosClass(withResources({ requests: { cpu: '1' } }))).toBe('Burstable');
    expect(
      qosClass(withResources({ requests: { cpu: '1', memory: '1Gi' }, limits: { cpu: '2', memory: '1Gi' } })),
    ).toBe('Burstable');
  });
});
