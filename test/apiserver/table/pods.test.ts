import { describe, expect, it } from 'vitest';
import type { KubernetesObject } from '../../../shared/api/types.js';
import { ago, cells, headers, narrowCells, table } from './helpers.js';

interface PodShape {
  spec?: Record<string, unknown>;
  status?: Record<string, unknown>;
  metadata?: Record<string, unknown>;
}

function pod(shape: PodShape): KubernetesObject {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'web', namespace: 'default', creationTimestamp: ago(300), ...shape.metadata },
    spec: { containers: [{ name: 'app', image: 'nginx' }], ...shape.spec },
    status: shape.status ?? {},
  };
}

const running = { running: { startedAt: ago(200) } };
const twoContainers = { containers: [{ name: 'a' }, { name: 'b' }] };

describe('pod columns', () => {
  it('are NAME READY STATUS RESTARTS AGE, and IP NODE NOMINATED NODE READINESS GATES with -o wide', () => {
    expect(headers('pods')).toEqual({
      narrow: ['Name', 'Ready', 'Status', 'Restarts', 'Age'],
      wide: ['IP', 'Node', 'Nominated Node', 'Readiness Gates'],
    });
    const columns = table('pods').columnDefinitions;
    expect(columns[0]).toMatchObject({ name: 'Name', type: 'string', format: 'name', priority: 0 });
    expect(columns[3]).toMatchObject({ name: 'Restarts', type: 'string', format: '' });
  });
});

describe('pod READY and STATUS', () => {
  it('count ready running containers of all, with the phase as status', () => {
    const p = pod({
      spec: twoContainers,
      status: {
        phase: 'Running',
        containerStatuses: [
          { name: 'a', ready: true, restartCount: 0, state: running },
          { name: 'b', ready: false, restartCount: 0, state: running },
        ],
      },
    });
    expect(narrowCells('pods', p)).toEqual(['web', '1/2', 'Running', '0', '5m']);
  });

  it('show the status reason over the phase', () => {
    const p = pod({ status: { phase: 'Failed', reason: 'Evicted' } });
    expect(narrowCells('pods', p)).toEqual(['web', '0/1', 'Evicted', '0', '5m']);
  });

  it('show a waiting reason, the first container winning', () => {
    const p = pod({
      spec: twoContainers,
      status: {
        phase: 'Pending',
        containerStatuses: [
          { name: 'a', state: { waiting: { reason: 'ErrImagePull' } } },
          { name: 'b', state: { waiting: { reason: 'ContainerCreating' } } },
        ],
      },
    });
    expect(narrowCells('pods', p)[2]).toBe('ErrImagePull');
  });

  it('show CrashLoopBackOff with restarts and when the last one happened', () => {
    const p = pod({
      status: {
        phase: 'Running',
        containerStatuses: [
          {
            name: 'app',
            ready: false,
            restartCount: 5,
            state: { waiting: { reason: 'CrashLoopBackOff' } },
            lastState: { terminated: { exitCode: 1, reason: 'Error', finishedAt: ago(30) } },
          },
        ],
      },
    });
    expect(narrowCells('pods', p)).toEqual(['web', '0/1', 'CrashLoopBackOff', '5 (30s ago)', '5m']);
  });

  it('show restarts without a time when no last termination is recorded', () => {
    const p = pod({
      status: {
        phase: 'Running',
        containerStatuses: [{ name: 'app', ready: true, restartCount: 3, state: running }],
      },
    });
    expect(narrowCells('pods', p)).toEqual(['web', '1/1', 'Running', '3', '5m']);
  });

  it('show Completed for a succeeded pod, and mark the row completed', () => {
    const p = pod({
      status: {
        phase: 'Succeeded',
        containerStatuses: [{ name: 'app', state: { terminated: { exitCode: 0, reason: 'Completed' } } }],
      },
    });
    const t = table('pods', p);
    expect(t.rows[0]?.cells.slice(0, 4)).toEqual(['web', '0/1', 'Completed', '0']);
    expect(t.rows[0]?.conditions).toEqual([
      {
        type: 'Completed',
        status: 'True',
        reason: 'Succeeded',
        message: 'The pod has completed successfully.',
      },
    ]);
  });

  it('mark failed pods completed too, and running pods not', () => {
    const failed = table('pods', pod({ status: { phase: 'Failed' } }));
    expect(failed.rows[0]?.conditions).toEqual([
      { type: 'Completed', status: 'True', reason: 'Failed', message: 'The pod failed.' },
    ]);
    expect(table('pods', pod({ status: { phase: 'Running' } })).rows[0]).not.toHaveProperty('conditions');
  });

  it('turn Completed back into Running (or NotReady) while another container still runs', () => {
    const status = (ready: boolean) => ({
      phase: 'Running',
      conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }],
      containerStatuses: [
        { name: 'a', ready: true, state: running },
        { name: 'b', ready: false, state: { terminated: { exitCode: 0, reason: 'Completed' } } },
      ],
    });
    expect(narrowCells('pods', pod({ spec: twoContainers, status: status(true) })).slice(1, 3)).toEqual([
      '1/2',
      'Running',
    ]);
    expect(narrowCells('pods', pod({ spec: twoContainers, status: status(false) }))[2]).toBe('NotReady');
  });

  it('show ExitCode:N or Signal:N for a termination without a reason', () => {
    const terminated = (t: Record<string, unknown>) =>
      pod({ status: { phase: 'Failed', containerStatuses: [{ name: 'app', state: { terminated: t } }] } });
    expect(narrowCells('pods', terminated({ exitCode: 137 }))[2]).toBe('ExitCode:137');
    expect(narrowCells('pods', terminated({ exitCode: 137, signal: 9 }))[2]).toBe('Signal:9');
  });

  it('show SchedulingGated for a pod with scheduling gates', () => {
    const p = pod({
      status: {
        phase: 'Pending',
        conditions: [{ type: 'PodScheduled', status: 'False', reason: 'SchedulingGated' }],
      },
    });
    expect(narrowCells('pods', p)[2]).toBe('SchedulingGated');
  });

  it('show Terminating for a deleted pod that has not finished', () => {
    const p = pod({
      metadata: { deletionTimestamp: ago(5) },
      status: { phase: 'Running', containerStatuses: [{ name: 'app', ready: true, state: running }] },
    });
    expect(narrowCells('pods', p)).toEqual(['web', '1/1', 'Terminating', '0', '5m']);
  });

  it('keep the final status of a deleted pod that has finished', () => {
    const p = pod({ metadata: { deletionTimestamp: ago(5) }, status: { phase: 'Succeeded' } });
    expect(narrowCells('pods', p)[2]).toBe('Succeeded');
  });

  it('show NodeLost for a pod of a lost node, and Unknown once it is being deleted', () => {
    const status = { phase: 'Running', reason: 'NodeLost' };
    expect(narrowCells('pods', pod({ status }))[2]).toBe('NodeLost');
    expect(narrowCells('pods', pod({ metadata: { deletionTimestamp: ago(5) }, status }))[2]).toBe('Unknown');
  });
});

describe('pod init containers', () => {
  const init = { initContainers: [{ name: 'init' }], containers: [{ name: 'app' }] };

  it('show Init:0/1 while the first init container runs', () => {
    const p = pod({
      spec: init,
      status: {
        phase: 'Pending',
        initContainerStatuses: [{ name: 'init', state: running }],
        containerStatuses: [{ name: 'app', state: { waiting: { reason: 'PodInitializing' } } }],
      },
    });
    expect(narrowCells('pods', p)).toEqual(['web', '0/1', 'Init:0/1', '0', '5m']);
  });

  it('show Init:1/2 once the first of two has succeeded', () => {
    const p = pod({
      spec: { initContainers: [{ name: 'one' }, { name: 'two' }], containers: [{ name: 'app' }] },
      status: {
        phase: 'Pending',
        initContainerStatuses: [
          { name: 'one', state: { terminated: { exitCode: 0, reason: 'Completed' } } },
          { name: 'two', state: { waiting: { reason: 'PodInitializing' } } },
        ],
      },
    });
    expect(narrowCells('pods', p)[2]).toBe('Init:1/2');
  });

  it('show Init:CrashLoopBackOff with the init container restarts', () => {
    const p = pod({
      spec: init,
      status: {
        phase: 'Pending',
        initContainerStatuses: [
          {
            name: 'init',
            restartCount: 4,
            state: { waiting: { reason: 'CrashLoopBackOff' } },
            lastState: { terminated: { exitCode: 1, finishedAt: ago(90) } },
          },
        ],
      },
    });
    expect(narrowCells('pods', p)).toEqual(['web', '0/1', 'Init:CrashLoopBackOff', '4 (90s ago)', '5m']);
  });

  it('show Init:<reason>, Init:Signal:N or Init:ExitCode:N for a failed init container', () => {
    const failed = (terminated: Record<string, unknown>) =>
      pod({
        spec: init,
        status: { phase: 'Failed', initContainerStatuses: [{ name: 'init', state: { terminated } }] },
      });
    expect(narrowCells('pods', failed({ exitCode: 1, reason: 'Error' }))[2]).toBe('Init:Error');
    expect(narrowCells('pods', failed({ exitCode: 2 }))[2]).toBe('Init:ExitCode:2');
    expect(narrowCells('pods', failed({ exitCode: 2, signal: 15 }))[2]).toBe('Init:Signal:15');
  });

  it('stop counting init container restarts once initialization is over', () => {
    const p = pod({
      spec: init,
      status: {
        phase: 'Running',
        conditions: [{ type: 'Initialized', status: 'True' }],
        initContainerStatuses: [{ name: 'init', restartCount: 2, state: { terminated: { exitCode: 0 } } }],
        containerStatuses: [{ name: 'app', ready: true, restartCount: 0, state: running }],
      },
    });
    expect(narrowCells('pods', p)).toEqual(['web', '1/1', 'Running', '0', '5m']);
  });

  it('count started sidecars as containers, with their restarts', () => {
    const p = pod({
      spec: { initContainers: [{ name: 'proxy', restartPolicy: 'Always' }], containers: [{ name: 'app' }] },
      status: {
        phase: 'Running',
        conditions: [{ type: 'Initialized', status: 'True' }],
        initContainerStatuses: [
          {
            name: 'proxy',
            started: true,
            ready: true,
            restartCount: 2,
            state: running,
            lastState: { terminated: { exitCode: 1, finishedAt: ago(60) } },
          },
        ],
        containerStatuses: [
          {
            name: 'app',
            ready: true,
            restartCount: 1,
            state: running,
            lastState: { terminated: { exitCode: 1, finishedAt: ago(600) } },
          },
        ],
      },
    });
    expect(narrowCells('pods', p)).toEqual(['web', '2/2', 'Running', '3 (60s ago)', '5m']);
  });
});

describe('pod wide columns', () => {
  it('show the pod IP, node, nominated node and readiness gates', () => {
    const p = pod({
      spec: {
        containers: [{ name: 'app' }],
        nodeName: 'worker-1',
        readinessGates: [{ conditionType: 'example.com/lb' }, { conditionType: 'example.com/dns' }],
      },
      status: {
        phase: 'Running',
        podIPs: [{ ip: '10.0.0.7' }, { ip: 'fd00::7' }],
        nominatedNodeName: 'worker-2',
        conditions: [
          { type: 'example.com/lb', status: 'True' },
          { type: 'example.com/dns', status: 'False' },
        ],
      },
    });
    expect(cells('pods', p).slice(5)).toEqual(['10.0.0.7', 'worker-1', 'worker-2', '1/2']);
  });

  it('show <none> for what is not set, and take status.podIP when podIPs is absent', () => {
    expect(cells('pods', pod({})).slice(5)).toEqual(['<none>', '<none>', '<none>', '<none>']);
    expect(cells('pods', pod({ status: { podIP: '10.0.0.9' } }))[5]).toBe('10.0.0.9');
  });

  it('show <unknown> age for a pod without a creation timestamp', () => {
    expect(cells('pods', pod({ metadata: { creationTimestamp: undefined } }))[4]).toBe('<unknown>');
  });
});
