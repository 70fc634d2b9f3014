import { describe, expect, it } from 'vitest';
import {
  defaultPropagation,
  finalizersAfterDelete,
  podGracePeriod,
} from '../../../functions/apiserver/deletion.js';
import { resourceType } from '../../../shared/api/resources.js';

describe('garbage collection finalizers of a delete request', () => {
  it('adds foregroundDeletion or orphan as the propagation policy asks, nothing for Background', () => {
    expect(finalizersAfterDelete([], { propagationPolicy: 'Foreground' }, 'Background')).toEqual([
      'foregroundDeletion',
    ]);
    expect(finalizersAfterDelete(['x'], { propagationPolicy: 'Orphan' }, 'Background')).toEqual([
      'x',
      'orphan',
    ]);
    expect(finalizersAfterDelete(['x'], { propagationPolicy: 'Background' }, 'Background')).toEqual(['x']);
  });

  it('lets a later request switch the policy of a deletion under way', () => {
    expect(
      finalizersAfterDelete(['foregroundDeletion'], { propagationPolicy: 'Orphan' }, 'Background'),
    ).toEqual(['orphan']);
    expect(finalizersAfterDelete(['orphan'], { propagationPolicy: 'Background' }, 'Background')).toEqual([]);
    expect(finalizersAfterDelete(['orphan'], {}, 'Background')).toEqual(['orphan']);
  });

  it('takes the deprecated orphanDependents and the kind default when no policy is given', () => {
    expect(finalizersAfterDelete([], { orphanDependents: true }, 'Background')).toEqual(['orphan']);
    expect(finalizersAfterDelete([], {}, defaultPropagation(resourceType('jobs.batch')))).toEqual(['orphan']);
    expect(finalizersAfterDelete([], {}, defaultPropagation(resourceType('deployments.apps')))).toEqual([]);
    expect(
      finalizersAfterDelete([], { propagationPolicy: 'Orphan' }, defaultPropagation(resourceType('events'))),
    ).toEqual([]);
  });
});

describe('pod grace period', () => {
  const pod = (spec: object, phase?: string) => ({
    metadata: { name: 'p' },
    spec: { containers: [], ...spec },
    ...(phase ? { status: { phase } } : {}),
  });

  it('waits for the kubelet of a scheduled pod: the request, else the pod, else 30 s', () => {
    expect(podGracePeriod(pod({ nodeName: 'n' }), undefined)).toBe(30);
    expect(podGracePeriod(pod({ nodeName: 'n', terminationGracePeriodSeconds: 5 }), undefined)).toBe(5);
    expect(podGracePeriod(pod({ nodeName: 'n', terminationGracePeriodSeconds: 5 }), 0)).toBe(0);
  });

  it('does not wait for unscheduled or finished pods', () => {
    expect(podGracePeriod(pod({}), 10)).toBe(0);
    expect(podGracePeriod(pod({ nodeName: 'n' }, 'Succeeded'), undefined)).toBe(0);
    expect(podGracePeriod(pod({ nodeName: 'n' }, 'Failed'), undefined)).toBe(0);
  });
});
