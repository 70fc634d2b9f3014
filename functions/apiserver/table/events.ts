/** core/v1 events: upstream's `printEvent` (LAST SEEN TYPE REASON OBJECT MESSAGE, and the wide columns). */

import type { KubernetesObject } from '../../../shared/api/types.js';
import { column, int, nameDescription, type Printer, str } from './common.js';
import { parseTime, since } from './duration.js';

interface Event extends KubernetesObject {
  involvedObject?: { kind?: string; name?: string; fieldPath?: string };
  reason?: string;
  message?: string;
  source?: { component?: string; host?: string };
  firstTimestamp?: string | null;
  lastTimestamp?: string | null;
  count?: number;
  type?: string;
  eventTime?: string | null;
  series?: { count?: number; lastObservedTime?: string } | null;
  reportingComponent?: string;
  reportingInstance?: string;
}

export const eventPrinter: Printer = {
  columns: [
    column('Last Seen', 'string', 'The time at which the most recent occurrence of this event was recorded.'),
    column('Type', 'string', 'Type of this event (Normal, Warning), new types could be added in the future'),
    column(
      'Reason',
      'string',
      "This should be a short, machine understandable string that gives the reason for the transition into the object's current status.",
    ),
    column('Object', 'string', 'The object that this event is about.'),
    column(
      'Subobject',
      'string',
      'If referring to a piece of an object instead of an entire object, this string should contain a valid JSON/Go field access statement, such as desiredState.manifest.containers[2]. For example, if the object reference is to a container within a pod, this would take on a value like: "spec.containers{name}" (where "name" refers to the name of the container that triggered the event) or if no container name is specified "spec.containers[2]" (container with index 2 in this pod). This syntax is chosen only to have some well-defined way of referencing a part of an object.',
      { priority: 1 },
    ),
    column(
      'Source',
      'string',
      'The component reporting this event. Should be a short machine understandable string.',
      { priority: 1 },
    ),
    column('Message', 'string', 'A human-readable description of the status of this operation.'),
    column(
      'First Seen',
      'string',
      'The time at which the event was first recorded. (Time of server receipt is in TypeMeta.)',
      { priority: 1 },
    ),
    column('Count', 'string', 'The number of times this event has occurred.', { priority: 1 }),
    column('Name', 'string', nameDescription, { format: 'name', priority: 1 }),
  ],
  print(object, { now }) {
    const event = object as Event;
    const firstTimestamp =
      parseTime(event.firstTimestamp) === undefined
        ? since(event.eventTime, now)
        : since(event.firstTimestamp, now);
    let lastTimestamp =
      parseTime(event.lastTimestamp) === undefined ? firstTimestamp : since(event.lastTimestamp, now);
    let count = int(event.count);
    if (event.series) {
      lastTimestamp = since(event.series.lastObservedTime, now);
      count = int(event.series.count);
    } else if (count === 0) {
      // Singleton events don't have a count set in the new API.
      count = 1;
    }
    const involved = event.involvedObject ?? {};
    const kind = str(involved.kind).toLowerCase();
    const target = str(involved.name) !== '' ? `${kind}/${str(involved.name)}` : kind;
    return {
      cells: [
        lastTimestamp,
        str(event.type),
        str(event.reason),
        target,
        str(involved.fieldPath),
        formatEventSource(event),
        str(event.message).trim(),
        firstTimestamp,
        count,
        event.metadata.name,
      ],
    };
  },
};

/**
 * `formatEventSource`: `component, host`, falling back to `reportingComponent` and
 * `reportingInstance`; just the component when there is no host.
 */
function formatEventSource(event: Event): string {
  const component = str(event.source?.component) || str(event.reportingComponent);
  const instance = str(event.source?.host) || str(event.reportingInstance);
  return instance === '' ? component : `${component}, ${instance}`;
}
