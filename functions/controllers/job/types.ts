/** batch/v1 Job as the Job controller reads and writes it: core.ts's Job with the status it tracks. */
import type { Condition, Job } from '../../../shared/api/core.js';
import type { KubernetesObject } from '../../../shared/api/types.js';

export interface UncountedTerminatedPods {
  succeeded?: string[];
  failed?: string[];
}

export interface JobStatus {
  active?: number;
  ready?: number;
  succeeded?: number;
  failed?: number;
  terminating?: number;
  startTime?: string;
  completionTime?: string;
  conditions?: Condition[];
  /** Finished pods whose tracking finalizer may still be on: counted once it is gone. */
  uncountedTerminatedPods?: UncountedTerminatedPods;
}

export interface TrackedJob extends KubernetesObject {
  /** `completions` may be null: a work queue, done when one pod succeeds and the rest have finished. */
  spec: Omit<Job['spec'], 'completions'> & { completions?: number | null };
  status?: JobStatus;
}
