import { ApiError, type Status, StatusReason } from '../api/errors.js';
import { apiVersionOf, type ResourceType } from '../api/resources.js';
import type { KubernetesObject } from '../api/types.js';
import type { ApiHandler, ApiResponse } from '../http/contract.js';

/**
 * A Kubernetes API client over any `ApiHandler`: the apiserver in this process (controllers and the
 * scheduler write through the apiserver's own code path, with no network hop), or a transport that
 * sends the request over HTTPS. Every non-2xx answer becomes the `ApiError` its Status describes.
 */
export class ApiClient {
  constructor(
    private readonly handler: ApiHandler,
    /** The bearer token, or where to get the current one (tokens that expire, such as AWS IAM's). */
    private readonly token: string | (() => Promise<string>),
  ) {}

  async get<T extends KubernetesObject>(type: ResourceType, namespace: string | undefined, name: string) {
    return (await this.send('GET', path(type, namespace, name))) as T;
  }

  /** The object, or `undefined` when it does not exist. */
  async find<T extends KubernetesObject>(
    type: ResourceType,
    namespace: string | undefined,
    name: string,
  ): Promise<T | undefined> {
    try {
      return await this.get<T>(type, namespace, name);
    } catch (error) {
      if (error instanceof ApiError && error.code === 404) return undefined;
      throw error;
    }
  }

  async list<T extends KubernetesObject>(
    type: ResourceType,
    options: ListOptions = {},
  ): Promise<{ items: T[]; resourceVersion: string }> {
    const query = new URLSearchParams();
    if (options.labelSelector) query.set('labelSelector', options.labelSelector);
    if (options.fieldSelector) query.set('fieldSelector', options.fieldSelector);
    const list = (await this.send('GET', path(type, options.namespace), undefined, query)) as {
      items: T[];
      metadata: { resourceVersion: string };
    };
    const kind = type.kind;
    const apiVersion = apiVersionOf(type);
    // Lists carry their items without kind and apiVersion; put them back, as client-go's decoder does.
    return {
      items: list.items.map((item) => ({ ...item, apiVersion, kind })),
      resourceVersion: list.metadata.resourceVersion,
    };
  }

  async create<T extends KubernetesObject>(type: ResourceType, object: T): Promise<T> {
    return (await this.send('POST', path(type, object.metadata.namespace), object)) as T;
  }

  /** PUT: a compare-and-swap when `object.metadata.resourceVersion` is set (409 if it is stale). */
  async update<T extends KubernetesObject>(
    type: ResourceType,
    object: T,
    subresource?: 'status' | 'scale' | 'finalize',
  ): Promise<T> {
    return (await this.send(
      'PUT',
      path(type, object.metadata.namespace, object.metadata.name, subresource),
      object,
    )) as T;
  }

  async patch<T extends KubernetesObject>(
    type: ResourceType,
    namespace: string | undefined,
    name: string,
    patch: unknown,
    options: { patchType?: PatchType; subresource?: 'status' | 'scale' } = {},
  ): Promise<T> {
    return (await this.send('PATCH', path(type, namespace, name, options.subresource), patch, undefined, {
      'content-type': patchContentTypes[options.patchType ?? 'merge'],
    })) as T;
  }

  /** Deletes; resolves to the object as the server answered (absent once gone, or marked for deletion). */
  async delete(
    type: ResourceType,
    namespace: string | undefined,
    name: string,
    options: DeleteOptions = {},
  ): Promise<KubernetesObject | Status> {
    return (await this.send('DELETE', path(type, namespace, name), {
      apiVersion: 'v1',
      kind: 'DeleteOptions',
      ...options,
    })) as KubernetesObject | Status;
  }

  /** POST to a subresource: `binding` and `eviction` of pods. */
  async post(
    type: ResourceType,
    namespace: string | undefined,
    name: string,
    subresource: string,
    body: unknown,
  ): Promise<unknown> {
    return this.send('POST', path(type, namespace, name, subresource), body);
  }

  /** Changes after `resourceVersion` (or the current state first, when it is absent), until `signal` aborts. */
  async *watch<T extends KubernetesObject>(
    type: ResourceType,
    options: ListOptions & { resourceVersion?: string; signal?: AbortSignal; timeoutSeconds?: number } = {},
  ): AsyncGenerator<WatchEvent<T>> {
    const query = new URLSearchParams({ watch: 'true', allowWatchBookmarks: 'true' });
    if (options.labelSelector) query.set('labelSelector', options.labelSelector);
    if (options.fieldSelector) query.set('fieldSelector', options.fieldSelector);
    if (options.resourceVersion) query.set('resourceVersion', options.resourceVersion);
    if (options.timeoutSeconds) query.set('timeoutSeconds', String(options.timeoutSeconds));
    const response = await this.handler({
      method: 'GET',
      path: path(type, options.namespace),
      query,
      headers: await this.headers(),
      body: Buffer.alloc(0),
      signal: options.signal ?? new AbortController().signal,
    });
    if (!('stream' in response)) throw errorOf(response);
    const decoder = new TextDecoder();
    let buffered = '';
    for await (const chunk of response.stream) {
      buffered += typeof chunk === 'string' ? chunk : decoder.decode(chunk, { stream: true });
      for (let newline = buffered.indexOf('\n'); newline >= 0; newline = buffered.indexOf('\n')) {
        const line = buffered.slice(0, newline).trim();
        buffered = buffered.slice(newline + 1);
        if (!line) continue;
        const event = JSON.parse(line) as WatchEvent<T>;
        if (event.type === 'ERROR') throw statusError(event.object as unknown as Status);
        yield event;
      }
    }
  }

  private async headers(): Promise<Record<string, string>> {
    const token = typeof this.token === 'string' ? this.token : await this.token();
    return { authorization: `Bearer ${token}`, accept: 'application/json' };
  }

  private async send(
    method: string,
    requestPath: string,
    body?: unknown,
    query = new URLSearchParams(),
    headers: Record<string, string> = {},
  ): Promise<unknown> {
    const response = await this.handler({
      method,
      path: requestPath,
      query,
      headers: {
        ...(await this.headers()),
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...headers,
      },
      body: body === undefined ? Buffer.alloc(0) : Buffer.from(JSON.stringify(body)),
      signal: new AbortController().signal,
    });
    if (response.status >= 300 || !('body' in response)) throw errorOf(response);
    return JSON.parse(response.body.toString());
  }
}

export interface ListOptions {
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
}

export interface DeleteOptions {
  gracePeriodSeconds?: number;
  propagationPolicy?: 'Orphan' | 'Background' | 'Foreground';
  preconditions?: { uid?: string; resourceVersion?: string };
}

export type PatchType = 'merge' | 'strategic' | 'json';

const patchContentTypes: Record<PatchType, string> = {
  merge: 'application/merge-patch+json',
  strategic: 'application/strategic-merge-patch+json',
  json: 'application/json-patch+json',
};

export interface WatchEvent<T extends KubernetesObject = KubernetesObject> {
  type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';
  object: T;
}

/** The path of a resource collection, object or subresource. */
export function path(type: ResourceType, namespace?: string, name?: string, subresource?: string): string {
  const root = type.group ? `/apis/${type.group}/${type.version}` : `/api/${type.version}`;
  const scope =
    type.namespaced && namespace !== undefined ? `/namespaces/${encodeURIComponent(namespace)}` : '';
  const object = name !== undefined ? `/${encodeURIComponent(name)}` : '';
  return `${root}${scope}/${type.resource}${object}${subresource ? `/${subresource}` : ''}`;
}

function statusError(status: Status): ApiError {
  return new ApiError(
    status.code,
    status.reason ?? StatusReason.InternalError,
    status.message ?? '',
    status.details,
  );
}

function errorOf(response: ApiResponse): ApiError {
  if ('body' in response) {
    try {
      const status = JSON.parse(response.body.toString()) as Status;
      if (status.kind === 'Status') return statusError({ ...status, code: status.code ?? response.status });
    } catch {
      // not a Status: fall through
    }
  }
  return new ApiError(response.status, StatusReason.InternalError, `unexpected response ${response.status}`);
}
