/**
 * Kubernetes `Status` errors: one class, built by the factories below (as apimachinery's
 * `errors.NewNotFound` and friends), serialised in one place by `toStatus`.
 */

export const StatusReason = {
  BadRequest: 'BadRequest',
  Unauthorized: 'Unauthorized',
  Forbidden: 'Forbidden',
  NotFound: 'NotFound',
  MethodNotAllowed: 'MethodNotAllowed',
  NotAcceptable: 'NotAcceptable',
  AlreadyExists: 'AlreadyExists',
  Conflict: 'Conflict',
  Gone: 'Gone',
  Expired: 'Expired',
  RequestEntityTooLarge: 'RequestEntityTooLarge',
  UnsupportedMediaType: 'UnsupportedMediaType',
  Invalid: 'Invalid',
  TooManyRequests: 'TooManyRequests',
  InternalError: 'InternalError',
  Timeout: 'Timeout',
  ServiceUnavailable: 'ServiceUnavailable',
} as const;
export type StatusReason = (typeof StatusReason)[keyof typeof StatusReason];

export interface StatusCause {
  reason?: string;
  message?: string;
  field?: string;
}

export interface StatusDetails {
  name?: string;
  group?: string;
  kind?: string;
  uid?: string;
  causes?: StatusCause[];
  retryAfterSeconds?: number;
}

export interface Status {
  kind: 'Status';
  apiVersion: 'v1';
  metadata: Record<string, never>;
  status: 'Failure';
  message: string;
  reason: StatusReason;
  details?: StatusDetails;
  code: number;
}

export class ApiError extends Error {
  constructor(
    readonly code: number,
    readonly reason: StatusReason,
    message: string,
    readonly details?: StatusDetails,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'ApiError';
  }

  /** The wire form. Internal errors never carry their cause's message. */
  toStatus(): Status {
    return {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: this.message,
      reason: this.reason,
      ...(this.details ? { details: this.details } : {}),
      code: this.code,
    };
  }
}

/** `deployments.apps` → { resource: 'deployments', group: 'apps' }; core resources have no group. */
/** Whether `error` is an ApiError with one of these HTTP codes (404, 409, …). */
export function hasCode(error: unknown, ...codes: number[]): error is ApiError {
  return error instanceof ApiError && codes.includes(error.code);
}

export function splitResource(qualified: string): { resource: string; group: string } {
  const dot = qualified.indexOf('.');
  return dot < 0
    ? { resource: qualified, group: '' }
    : { resource: qualified.slice(0, dot), group: qualified.slice(dot + 1) };
}

function objectDetails(qualifiedResource: string, name: string): StatusDetails {
  const { resource, group } = splitResource(qualifiedResource);
  return { name, ...(group ? { group } : {}), kind: resource };
}

export function notFound(qualifiedResource: string, name: string): ApiError {
  return new ApiError(
    404,
    StatusReason.NotFound,
    `${qualifiedResource} "${name}" not found`,
    objectDetails(qualifiedResource, name),
  );
}

export function alreadyExists(qualifiedResource: string, name: string): ApiError {
  return new ApiError(
    409,
    StatusReason.AlreadyExists,
    `${qualifiedResource} "${name}" already exists`,
    objectDetails(qualifiedResource, name),
  );
}

export const modifiedSinceRead =
  'the object has been modified; please apply your changes to the latest version and try again';

export function conflict(qualifiedResource: string, name: string, why: string = modifiedSinceRead): ApiError {
  return new ApiError(
    409,
    StatusReason.Conflict,
    `Operation cannot be fulfilled on ${qualifiedResource} "${name}": ${why}`,
    objectDetails(qualifiedResource, name),
  );
}

/** 410: the requested revision is older than the retained history. */
export function expired(message: string): ApiError {
  return new ApiError(410, StatusReason.Expired, message);
}

export function tooLarge(message: string): ApiError {
  return new ApiError(413, StatusReason.RequestEntityTooLarge, `Request entity too large: ${message}`);
}

export function serviceUnavailable(message: string): ApiError {
  return new ApiError(503, StatusReason.ServiceUnavailable, message);
}

export function badRequest(message: string): ApiError {
  return new ApiError(400, StatusReason.BadRequest, message);
}

export function tooManyRequests(message: string, retryAfterSeconds = 1): ApiError {
  return new ApiError(429, StatusReason.TooManyRequests, message, { retryAfterSeconds });
}

export function timeout(message: string, retryAfterSeconds = 1): ApiError {
  return new ApiError(504, StatusReason.Timeout, message, { retryAfterSeconds });
}

/** A generic 500 that says nothing about its cause (kept for logs only). */
export function internalError(cause: unknown): ApiError {
  return new ApiError(
    500,
    StatusReason.InternalError,
    'Internal error occurred: an internal error occurred',
    undefined,
    {
      cause,
    },
  );
}

/** Any thrown value as an ApiError: client-facing errors pass through, everything else becomes a 500. */
export function asApiError(error: unknown): ApiError {
  return error instanceof ApiError ? error : internalError(error);
}
