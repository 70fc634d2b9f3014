import { ApiError, asApiError } from '../../shared/api/errors.js';
import { apiVersionOf, qualifiedResource } from '../../shared/api/resources.js';
import type { KubernetesObject } from '../../shared/api/types.js';
import type { StoreEvent } from '../../shared/store/watch.js';
import type { ApiResponse } from './http.js';
import { acceptedTypes } from './http.js';
import { listObjects, type ResourceRequest, type RestContext } from './rest.js';
import { parseFieldSelector, parseLabelSelector, selectedName } from './selectors.js';
import { toTable } from './table/index.js';

const bookmarkIntervalMs = 60_000;

type WatchType = 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';

/**
 * A watch over HTTP: newline-delimited JSON events. resourceVersion unset or "0" starts with the
 * current state as ADDED events, then the changes after it; "N" starts after revision N. Objects that
 * stop (or start) matching the selectors leave (or enter) as DELETED (or ADDED).
 */
export async function watchResource(req: ResourceRequest, ctx: RestContext): Promise<ApiResponse> {
  const { type, info, request } = req;
  const query = request.query;
  const labels = parseLabelSelector(query.get('labelSelector'));
  const fields = parseFieldSelector(qualifiedResource(type), query.get('fieldSelector'));
  const matches = (object: KubernetesObject | undefined) =>
    object !== undefined && (!labels || labels(object.metadata.labels)) && (!fields || fields(object));
  const filtered = Boolean(labels || fields);
  const timeoutText = query.get('timeoutSeconds');
  const timeoutSeconds =
    timeoutText !== null && /^\d+$/.test(timeoutText)
      ? Math.min(Number(timeoutText), ctx.maxWatchSeconds)
      : ctx.maxWatchSeconds;
  const bookmarks = query.get('allowWatchBookmarks') === 'true';
  const asTable = acceptedTypes(request.headers.accept).some((t) => t.params.as === 'Table');
  const name = info.name ?? selectedName(query.get('fieldSelector'));
  const prefix = {
    resource: qualifiedResource(type),
    ...(type.namespaced && info.namespace ? { namespace: info.namespace } : {}),
    ...(name !== undefined && (!type.namespaced || info.namespace) ? { name } : {}),
  };

  const resourceVersion = query.get('resourceVersion') ?? '';
  let initial: KubernetesObject[] = [];
  let from: number;
  if (resourceVersion === '' || resourceVersion === '0') {
    const list = await listObjects({ ...req, request: { ...request, query: withoutPaging(query) } }, ctx);
    initial = list.items;
    from = list.revision;
  } else if (/^\d+$/.test(resourceVersion)) {
    from = Number(resourceVersion);
  } else {
    throw new ApiError(400, 'BadRequest', `invalid resourceVersion: "${resourceVersion}"`);
  }

  const encode = (eventType: WatchType, object: unknown) => {
    const body =
      asTable && eventType !== 'ERROR' && eventType !== 'BOOKMARK'
        ? toTable(qualifiedResource(type), [object as KubernetesObject], {
            metadata: { resourceVersion: (object as KubernetesObject).metadata.resourceVersion ?? '' },
            now: ctx.now(),
          })
        : object;
    return `${JSON.stringify({ type: eventType, object: body })}\n`;
  };

  const controller = new AbortController();
  const stop = () => controller.abort();
  request.signal.addEventListener('abort', stop, { once: true });
  // A client gone before this point (during the initial list, say) fired no event to hear: without
  // this the watch would poll the store for it until its timeout.
  if (request.signal.aborted) stop();
  const timer = setTimeout(stop, timeoutSeconds * 1000);

  async function* events(): AsyncGenerator<string> {
    try {
      for (const object of initial) yield encode('ADDED', object);
      const changes = ctx.store.watch(prefix, from, {
        signal: controller.signal,
        withPrevious: filtered,
        ...(bookmarks ? { progressIntervalMs: bookmarkIntervalMs } : {}),
      });
      for await (const event of changes) {
        const line = translate(event);
        if (line) yield line;
      }
    } catch (error) {
      yield encode('ERROR', asApiError(error).toStatus());
    } finally {
      clearTimeout(timer);
      request.signal.removeEventListener('abort', stop);
    }
  }

  function translate(event: StoreEvent): string | undefined {
    if (event.type === 'PROGRESS') {
      return bookmarks
        ? encode('BOOKMARK', {
            kind: type.kind,
            apiVersion: apiVersionOf(type),
            metadata: { resourceVersion: String(event.revision) },
          })
        : undefined;
    }
    if (!filtered) return encode(event.type, event.object);
    const now = matches(event.object);
    const before = event.type === 'MODIFIED' ? matches(event.previous) : event.type === 'DELETED';
    if (event.type === 'ADDED') return now ? encode('ADDED', event.object) : undefined;
    if (event.type === 'DELETED') return now ? encode('DELETED', event.object) : undefined;
    if (now && before) return encode('MODIFIED', event.object);
    if (now) return encode('ADDED', event.object);
    if (before) return encode('DELETED', event.object);
    return undefined;
  }

  return {
    status: 200,
    headers: { 'content-type': 'application/json', 'cache-control': 'no-cache, private' },
    stream: events(),
  };
}

function withoutPaging(query: URLSearchParams): URLSearchParams {
  const copy = new URLSearchParams(query);
  for (const key of ['limit', 'continue', 'resourceVersion', 'resourceVersionMatch']) copy.delete(key);
  return copy;
}
