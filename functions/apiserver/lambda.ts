/**
 * The API server as a Lambda function behind a function URL (payload format 2.0) whose invoke mode is
 * RESPONSE_STREAM, so a watch can stay open for minutes.
 *
 * The event becomes the shared contract's `ApiRequest`; the `ApiResponse` goes back through middy's
 * `streamifyResponse`: the handler returns `{ statusCode, headers, body }` with `body` a Readable, and
 * middy writes the status and headers as the runtime's metadata prelude
 * (`awslambda.HttpResponseStream.from`) and pipes the body after it. A plain body is one chunk; a
 * streamed one is written chunk by chunk as it comes. The request's signal is aborted ~2 s before the
 * invocation's deadline, so a watch ends cleanly instead of being cut off, and when the response
 * stream fails or goes away.
 */
import { Readable } from 'node:stream';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EC2Client } from '@aws-sdk/client-ec2';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import middy from '@middy/core';
import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';
import { internalError, tooLarge } from '../../shared/api/errors.js';
import type { ApiHandler, ApiRequest, ApiResponse } from '../../shared/http/contract.js';
import { usagePublisher } from '../../shared/metering/cloudwatch.js';
import { meterDynamoDB } from '../../shared/metering/dynamodb.js';
import { Store } from '../../shared/store/store.js';
import { relayedKubeletFetch } from '../kubelet-relay/client.js';
import { logAuditEvent } from './audit.js';
import { cachedAuthenticator, clusterAuthenticator, firstAuthenticator } from './auth/authenticators.js';
import { iamAuthenticator } from './auth/aws-iam.js';
import { instancePrivateDnsName } from './auth/ec2-names.js';
import { signingKeyFromSecret } from './auth/service-account-tokens.js';
import { ensureClusterDefaults } from './bootstrap.js';
import { loadConfig } from './config.js';
import { adminUser, readToken } from './credentials.js';
import { statusResponse } from './http.js';
import { createApiServer } from './server.js';
import { strategicMergePatch } from './strategic-merge.js';
import { serviceAccountIssuer } from './token-request.js';

/** What the handler returns for middy to stream: the prelude's fields and the body. */
export interface StreamedResponse {
  statusCode: number;
  headers: Record<string, string>;
  body: Readable;
}

/** How long before the invocation's deadline the request's signal is aborted (a watch then ends). */
export const deadlineMarginMs = 2000;
/** The largest request body accepted, as kube-apiserver and the local server (a function URL allows 6 MB). */
const maxBodyBytes = 3 * 1024 * 1024;

// Cold start: configuration (a missing variable fails the init, loudly), one client per container. The
// SDK takes the region from AWS_REGION and honours AWS_ENDPOINT_URL(_DYNAMODB) for local endpoints.
const config = loadConfig();
const client = new DynamoDBClient({});
const secrets = new SecretsManagerClient({});
const usage = usagePublisher();
if (usage) meterDynamoDB(client, usage.meter);
const logError = (error: unknown) => console.error(error);
const store = Store.of(client, config.tableName);

/**
 * Before a container's first request: its secrets from Secrets Manager (the admin's token, the token
 * it presents to kubelets, the service account signing secret), and the cluster's defaults (reads only
 * once they exist). A failure is retried by the next request.
 */
let ready: Promise<ApiHandler> | undefined;
function bootstrap(): Promise<ApiHandler> {
  ready ??= (async () => {
    const [adminToken, workerToken, signingSecret] = await Promise.all([
      readToken(secrets, config.adminTokenSecret),
      readToken(secrets, config.workerTokenSecret),
      readToken(secrets, config.serviceAccountSigningSecret),
    ]);
    await ensureClusterDefaults(store);
    const known = clusterAuthenticator(store, [{ token: adminToken, user: adminUser }]);
    return createApiServer({
      store,
      // Nodes and people with IAM identities present `aws eks get-token` tokens for this cluster.
      authenticate: config.iamAccess
        ? firstAuthenticator(
            known,
            cachedAuthenticator(
              iamAuthenticator({
                clusterName: config.clusterName,
                access: config.iamAccess,
                privateDnsName: instancePrivateDnsName(new EC2Client({})),
              }),
            ),
          )
        : known,
      serviceAccounts: { keys: await signingKeyFromSecret(signingSecret), issuer: serviceAccountIssuer },
      strategicMergePatch,
      logError,
      audit: logAuditEvent,
      kubelet: {
        token: workerToken,
        ...(config.kubeletRelay
          ? { fetch: relayedKubeletFetch(new LambdaClient({}), config.kubeletRelay) }
          : {}),
      },
    });
  })().catch((error: unknown) => {
    ready = undefined;
    throw error;
  });
  return ready;
}

/** The function URL event as the shared contract's request. */
function toApiRequest(event: APIGatewayProxyEventV2, signal: AbortSignal): ApiRequest {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(event.headers ?? {})) {
    if (value === undefined) continue;
    const lower = name.toLowerCase();
    headers[lower] = headers[lower] === undefined ? value : `${headers[lower]}, ${value}`;
  }
  const body =
    event.body === undefined
      ? Buffer.alloc(0)
      : Buffer.from(event.body, event.isBase64Encoded ? 'base64' : 'utf8');
  return {
    method: event.requestContext.http.method,
    path: event.rawPath,
    query: new URLSearchParams(event.rawQueryString ?? ''),
    headers,
    body,
    signal,
    ...(event.requestContext.http.sourceIp ? { remoteAddress: event.requestContext.http.sourceIp } : {}),
  };
}

async function respond(event: APIGatewayProxyEventV2, context: Context): Promise<StreamedResponse> {
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  let responseBytes = 0;
  let stopped = false;
  // The end of the invocation: the body is written (or the client left).
  const stop = () => {
    clearTimeout(timer);
    controller.abort();
    if (stopped) return;
    stopped = true;
    usage?.meter.add('functionUrl', 'apiserver', { requests: 1, responseBytes });
    usage?.publish();
  };
  let response: ApiResponse;
  try {
    const untilDeadline = context.getRemainingTimeInMillis() - deadlineMarginMs;
    timer = setTimeout(() => controller.abort(), Math.max(0, untilDeadline));
    const request = toApiRequest(event, controller.signal);
    const api = await bootstrap();
    response =
      request.body.length > maxBodyBytes
        ? statusResponse(tooLarge(`limit is ${maxBodyBytes}`).toStatus())
        : await api(request);
  } catch (error) {
    // The shared server answers its own errors; this is the adapter's (a malformed event, say).
    logError(error);
    response = statusResponse(internalError(error).toStatus());
  }
  return {
    statusCode: response.status,
    headers: withoutFraming(response.headers),
    body: readableOf(
      chunks(response, (bytes) => (responseBytes += bytes)),
      stop,
    ),
  };
}

/**
 * The body as chunks. A streamed body starts with an empty chunk: the runtime sends the status and headers
 * on the first write, and a watch must not wait for its first event to send them. A stream that fails
 * after that cuts the response off (the client sees a truncated body, not an end); its error is logged and
 * replaced by one that says nothing, since the runtime reports it.
 */
async function* chunks(
  response: ApiResponse,
  written: (bytes: number) => void,
): AsyncGenerator<string | Buffer> {
  if (!('stream' in response)) {
    written(Buffer.byteLength(response.body));
    yield response.body;
    return;
  }
  yield '';
  try {
    for await (const chunk of response.stream) {
      if (chunk.length === 0) continue;
      written(Buffer.byteLength(chunk));
      yield chunk;
    }
  } catch (error) {
    logError(error);
    throw new Error('the response stream failed');
  }
}

/**
 * A Readable that pulls one chunk at a time from `source` (so a slow client holds the producer back) and
 * calls `stop` when it is destroyed: at its end, or when the pipe to the response fails. `stop` aborts the
 * request's signal, which ends a watch waiting for its next change; `Readable.from` would instead wait for
 * that change before it let go.
 */
function readableOf(source: AsyncGenerator<string | Buffer>, stop: () => void): Readable {
  return new Readable({
    objectMode: true,
    read() {
      source.next().then(
        (step) => {
          if (!this.destroyed) this.push(step.done ? null : step.value);
        },
        (error: unknown) => this.destroy(error instanceof Error ? error : new Error(String(error))),
      );
    },
    destroy(error, callback) {
      stop();
      // Lets the producer release what it holds; a generator parked in an await returns after it.
      source.return(undefined).catch(() => {});
      callback(error);
    },
  });
}

/** Headers the function URL sets itself (length and chunking), removed from the handler's. */
function withoutFraming(headers: Record<string, string>): Record<string, string> {
  const kept: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    const lower = name.toLowerCase();
    if (lower !== 'content-length' && lower !== 'transfer-encoding') kept[name] = value;
  }
  return kept;
}

/**
 * The function's handler (`lambda.handler`). middy's own early timeout is off: it covers only the time
 * until the handler returns, not the streamed body, and would answer with a thrown error; the deadline
 * signal above covers both.
 */
export const handler = middy<APIGatewayProxyEventV2, StreamedResponse>(respond, {
  streamifyResponse: true,
  timeoutEarlyInMillis: 0,
});
