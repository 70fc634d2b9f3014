import { describe, expect, it } from 'vitest';
import {
  maxRevision,
  newReplicaSetAnnotations,
  revisionOf,
} from '../../../functions/controllers/workloads/revision.js';
import { replicaSet } from './fixtures.js';

const revision = 'deployment.kubernetes.io/revision';
const history = 'deployment.kubernetes.io/revision-history';

describe('revision bookkeeping', () => {
  it('reads revisions: none is 0, junk is unknown, the highest wins', () => {
    expect(revisionOf(replicaSet('a', 1))).toBe(0);
    expect(revisionOf(replicaSet('a', 1, { annotations: { [revision]: 'x' } }))).toBeUndefined();
    const sets = [3, 7, 2].map((r) => replicaSet(`rs${r}`, 0, { annotations: { [revision]: String(r) } }));
    expect(maxRevision(sets)).toBe(7);
    expect(maxRevision([])).toBe(0);
  });

  it('gives a new ReplicaSet the next revision, the replica annotations and the change cause', () => {
    const annotations = newReplicaSetAnnotations(
      {
        'kubernetes.io/change-cause': 'image 1.27',
        [revision]: '4',
        'kubectl.kubernetes.io/last-applied-configuration': '{}',
      },
      {},
      5,
      { desired: 3, max: 4 },
    );
    expect(annotations).toEqual({
      'kubernetes.io/change-cause': 'image 1.27',
      [revision]: '5',
      'deployment.kubernetes.io/desired-replicas': '3',
      'deployment.kubernetes.io/max-replicas': '4',
    });
  });

  it('raises a reused ReplicaSet to the next revision and keeps the old one in its history', () => {
    const rolledBack = newReplicaSetAnnotations({}, { [revision]: '1' }, 3);
    expect(rolledBack).toEqual({ [revision]: '3', [history]: '1' });
    const again = newReplicaSetAnnotations({}, rolledBack, 5);
    expect(again).toEqual({ [revision]: '5', [history]: '1,3' });
  });

  it('changes nothing when the ReplicaSet is up to date or its revision is junk', () => {
    expect(newReplicaSetAnnotations({ a: 'b' }, { a: 'b', [revision]: '3' }, 3)).toBeUndefined();
    expect(newReplicaSetAnnotations({ a: 'c' }, { [revision]: 'x' }, 3)).toBeUndefined();
  });

  it('copies annotations added to the Deployment later', () => {
    expect(newReplicaSetAnnotations({ 'kubernetes.io/change-cause': 'why' }, { [revision]: '2' }, 2)).toEqual(
      {
        [revision]: '2',
        'kubernetes.io/change-cause': 'why',
      },
    );
  });
});
