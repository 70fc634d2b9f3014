/** batch/v1 jobs: upstream's `printJob` as of 1.32 (NAME STATUS COMPLETIONS DURATION AGE). */

import type { KubernetesObject } from '../../../shared/api/types.js';
import {
  ageColumn,
  arr,
  type Container,
  column,
  containerCells,
  containersDescription,
  imagesDescription,
  int,
  nameColumn,
  type Printer,
} from './common.js';
import { humanDuration, parseTime, since } from './duration.js';
import { formatLabelSelector, type LabelSelector } from './labels.js';

interface Job extends KubernetesObject {
  spec?: {
    completions?: number | null;
    parallelism?: number | null;
    selector?: LabelSelector | null;
    template?: { spec?: { containers?: Container[] } };
  };
  status?: {
    succeeded?: number;
    startTime?: string | null;
    completionTime?: string | null;
    conditions?: { type?: string; status?: string }[];
  };
}

export const jobPrinter: Printer = {
  columns: [
    nameColumn,
    column('Status', 'string', 'Status of the job.'),
    column(
      'Completions',
      'string',
      'The number of pods which reached phase Succeeded. The value increases monotonically for a given spec. However, it may decrease in reaction to scale down of elastic indexed jobs.',
    ),
    column('Duration', 'string', 'Time required to complete the job.'),
    ageColumn,
    column('Containers', 'string', containersDescription, { priority: 1 }),
    column('Images', 'string', imagesDescription, { priority: 1 }),
    column(
      'Selector',
      'string',
      'A label query over pods that should match the pod count. Normally, the system sets this field for you. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/labels/#label-selectors',
      { priority: 1 },
    ),
  ],
  print(object, { now }) {
    const job = object as Job;
    const spec = job.spec ?? {};
    const status = job.status ?? {};
    const succeeded = int(status.succeeded);

    let completions: string;
    if (spec.completions !== undefined && spec.completions !== null) {
      completions = `${succeeded}/${int(spec.completions)}`;
    } else {
      const parallelism = int(spec.parallelism);
      completions = parallelism > 1 ? `${succeeded}/1 of ${parallelism}` : `${succeeded}/1`;
    }

    let duration = '';
    const start = parseTime(status.startTime);
    const completion = parseTime(status.completionTime);
    if (start !== undefined) {
      duration = humanDuration((completion ?? now.getTime()) - start);
    }

    const conditions = arr(status.conditions);
    const has = (type: string) => conditions.find((c) => c.type === type)?.status === 'True';
    let jobStatus: string;
    if (has('Complete')) jobStatus = 'Complete';
    else if (has('Failed')) jobStatus = 'Failed';
    else if (job.metadata.deletionTimestamp) jobStatus = 'Terminating';
    else if (has('Suspended')) jobStatus = 'Suspended';
    else if (has('FailureTarget')) jobStatus = 'FailureTarget';
    else jobStatus = 'Running';

    const [containers, images] = containerCells(spec.template?.spec?.containers);
    return {
      cells: [
        job.metadata.name,
        jobStatus,
        completions,
        duration,
        since(job.metadata.creationTimestamp, now),
        containers,
        images,
        formatLabelSelector(spec.selector),
      ],
    };
  },
};
