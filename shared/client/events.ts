import { createHash } from 'node:crypto';
import { ApiError, StatusReason } from '../api/errors.js';
import { apiVersionOf, resourceType } from '../api/resources.js';
import { timestamp } from '../api/time.js';
import type { KubernetesObject } from '../api/types.js';
import type { ApiClient } from './client.js';

export interface EventRecorder {
  /**
   * Records in the background, as client-go's recorder does, so an event never slows the work it
   * reports; best effort: a failure is logged, never thrown.
   */
  record(object: KubernetesObject, type: 'Normal' | 'Warning', reason: string, message: string): void;
  /** Waits for the events recorded so far (the runtime calls it before an invocation returns). */
  flush(): Promise<void>;
}

const events = resourceType('events');

interface CoreEvent extends KubernetesObject {
  count?: number;
  lastTimestamp?: string;
}

/**
 * Records core/v1 Events that `kubectl describe` and `kubectl get events` show. The same event about
 * the same object is one Event whose `count` grows, as Kubernetes aggregates repeats; its name is
 * derived from what it says, so concurrent recorders of one event meet on one object.
 */
export function eventRecorder(
  client: ApiClient,
  component: string,
  now: () => Date,
  logError: (error: unknown) => void,
): EventRecorder {
  const pending = new Set<Promise<void>>();
  const write = async (object: KubernetesObject, type: string, reason: string, message: string) => {
    const { metadata } = object;
    const namespace = metadata.namespace ?? 'default';
    const digest = createHash('sha256')
      .update(`${metadata.uid}\0${type}\0${reason}\0${message}`)
      .digest('hex')
      .slice(0, 16);
    const name = `${metadata.name}.${digest}`;
    const time = timestamp(now());
    try {
      await client.create(events, {
        apiVersion: 'v1',
        kind: 'Event',
        metadata: { name, namespace },
        involvedObject: {
          apiVersion: object.apiVersion,
          kind: object.kind,
          ...(metadata.namespace ? { namespace: metadata.namespace } : {}),
          name: metadata.name,
          uid: metadata.uid,
          resourceVersion: metadata.resourceVersion,
        },
        reason,
        message,
        type,
        source: { component },
        reportingComponent: component,
        reportingInstance: component,
        firstTimestamp: time,
        lastTimestamp: time,
        count: 1,
      });
    } catch (error) {
      if (!(error instanceof ApiError && error.reason === StatusReason.AlreadyExists)) {
        logError(error);
        return;
      }
      try {
        const existing = await client.get<CoreEvent>(events, namespace, name);
        await client.update(events, {
          ...existing,
          apiVersion: apiVersionOf(events),
          kind: 'Event',
          count: (existing.count ?? 1) + 1,
          lastTimestamp: time,
        });
      } catch (repeatError) {
        // A concurrent recorder counted it (409), or it expired meanwhile (404): both fine.
        if (!(repeatError instanceof ApiError && [404, 409].includes(repeatError.code)))
          logError(repeatError);
      }
    }
  };
  return {
    record(object, type, reason, message) {
      const written = write(object, type, reason, message);
      pending.add(written);
      void written.finally(() => pending.delete(written));
    },
    async flush() {
      await Promise.all(pending);
    },
  };
}
