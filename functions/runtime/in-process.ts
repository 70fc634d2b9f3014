import { randomBytes } from 'node:crypto';
import { ApiClient } from '../../shared/client/client.js';
import { eventRecorder } from '../../shared/client/events.js';
import type { Store } from '../../shared/store/store.js';
import type { AuditSink } from '../apiserver/audit.js';
import { createApiServer, type User } from '../apiserver/server.js';
import { strategicMergePatch } from '../apiserver/strategic-merge.js';
import type { ControllerContext } from './controller.js';

export interface InProcessOptions {
  now?: () => Date;
  logError?: (error: unknown) => void;
  /** Where the audit lines of its mutating requests go. */
  audit?: AuditSink;
}

/**
 * An API client for `user` that calls the apiserver's handler in this process: the same
 * authentication, admission, validation and conditional writes as a request over HTTPS, without the
 * network. The token is random and never leaves the process.
 */
export function inProcessClient(store: Store, user: User, options: InProcessOptions = {}): ApiClient {
  const token = randomBytes(32).toString('base64url');
  const handler = createApiServer({
    store,
    authenticate: async (presented) => (presented === token ? user : undefined),
    strategicMergePatch,
    ...(options.now ? { now: options.now } : {}),
    ...(options.logError ? { logError: options.logError } : {}),
    ...(options.audit ? { audit: options.audit } : {}),
  });
  return new ApiClient(handler, token);
}

/** What a control-plane component's reconcilers work with, acting as `system:<component>`. */
export function controllerContext(
  store: Store,
  component: string,
  options: InProcessOptions = {},
): ControllerContext {
  const now = options.now ?? (() => new Date());
  const logError = options.logError ?? ((error: unknown) => console.error(`${component}:`, error));
  const client = inProcessClient(
    store,
    { name: `system:${component}`, groups: ['system:authenticated'] },
    options,
  );
  return { client, events: eventRecorder(client, component, now, logError), now };
}
