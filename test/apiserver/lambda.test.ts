/**
 * The Lambda entry point (`functions/apiserver/lambda.ts`) against DynamoDB Local, invoked with function
 * URL events as the Lambda service sends them.
 *
 * There is no Lambda runtime here, so the one thing that cannot exist is faked: the global `awslambda`
 * object the Node.js runtime provides (`streamifyResponse`, `HttpResponseStream.from`). The fake stands in
 * for the runtime: it records the response metadata (status and headers, which the runtime sends as its
 * prelude on the first write) and every chunk written. Everything else is real: middy, the handler's
 * configuration read from the environment, the DynamoDB client and the store. The tokens' secrets are
 * read from Secrets Manager, which does not exist here either: its client is mocked with
 * aws-sdk-client-mock, answering for the two secrets the configuration names.
 */
import { Writable } from 'node:stream';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { env, loadConfig } from '../../functions/apiserver/config.js';
import { localCredentials } from '../../shared/local/dynamodb-local.js';
import { dynamoEndpoint, freshTable, testClient } from '../support/dynamo.js';

/** Stands in for the Lambda runtime's response stream. */
class FakeResponseStream extends Writable {
  contentType: string | undefined;
  metadata: { statusCode: number; headers: Record<string, string> } | undefined;
  /** The runtime sends the metadata prelude on the first write, whatever its size. */
  metadataSent = false;
  readonly chunks: Buffer[] = [];

  setContentType(contentType: string): void {
    this.contentType = contentType;
  }

  override _write(chunk: Buffer | string, _encoding: BufferEncoding, callback: () => void): void {
    this.metadataSent = true;
    const data = Buffer.from(chunk);
    if (data.length > 0) this.chunks.push(data);
    callback();
  }

  text(): string {
    return Buffer.concat(this.chunks).toString('utf8');
  }
}

/** Stands in for the global the Lambda runtime provides. */
const fakeRuntime = {
  streamifyResponse: <T>(handler: T): T => handler,
  HttpResponseStream: {
    from(stream: FakeResponseStream, metadata: { statusCode: number; headers: Record<string, string> }) {
      stream.setContentType('application/vnd.awslambda.http-integration-response');
      stream.metadata = metadata;
      return stream;
    },
  },
};

type StreamingHandler = (
  event: APIGatewayProxyEventV2,
  responseStream: FakeResponseStream,
  context: Context,
) => Promise<void>;

const token = 'admin-token-for-tests';
const workerToken = 'worker-token-for-tests';
const auth = { authorization: `Bearer ${token}` };
const secretIds = {
  admin: 'lambernetes/admin-token',
  worker: 'lambernetes/worker-token',
  signing: 'lambernetes/service-account-signing',
};
const secretsManager = mockClient(SecretsManagerClient);
secretsManager
  .on(GetSecretValueCommand, { SecretId: secretIds.admin })
  .resolves({ SecretString: `${token}\n` })
  .on(GetSecretValueCommand, { SecretId: secretIds.worker })
  .resolves({ SecretString: workerToken })
  .on(GetSecretValueCommand, { SecretId: secretIds.signing })
  .resolves({ SecretString: 'signing-secret-for-tests-0123456789abcdef' });

function urlEvent(
  method: string,
  rawPath: string,
  options: { query?: string; headers?: Record<string, string>; body?: string | Buffer } = {},
): APIGatewayProxyEventV2 {
  const base64 = Buffer.isBuffer(options.body);
  const now = new Date();
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath,
    rawQueryString: options.query ?? '',
    headers: { host: 'abc.lambda-url.us-east-1.on.aws', 'user-agent': 'test', ...options.headers },
    requestContext: {
      accountId: 'anonymous',
      apiId: 'abc',
      domainName: 'abc.lambda-url.us-east-1.on.aws',
      domainPrefix: 'abc',
      http: { method, path: rawPath, protocol: 'HTTP/1.1', sourceIp: '203.0.113.7', userAgent: 'test' },
      requestId: `req-${now.getTime()}`,
      routeKey: '$default',
      stage: '$default',
      time: now.toISOString(),
      timeEpoch: now.getTime(),
    },
    isBase64Encoded: base64,
    ...(options.body === undefined
      ? {}
      : { body: base64 ? (options.body as Buffer).toString('base64') : (options.body as string) }),
  };
}

/** A Lambda context whose deadline is `remainingMs` from now. */
function lambdaContext(remainingMs = 60_000): Context {
  const deadline = Date.now() + remainingMs;
  const unused = () => {
    throw new Error('not a callback handler');
  };
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName: 'apiserver',
    functionVersion: '$LATEST',
    invokedFunctionArn: 'arn:aws:lambda:us-east-1:000000000000:function:apiserver',
    memoryLimitInMB: '1024',
    awsRequestId: 'request',
    logGroupName: '/aws/lambda/apiserver',
    logStreamName: 'stream',
    getRemainingTimeInMillis: () => deadline - Date.now(),
    done: unused,
    fail: unused,
    succeed: unused,
  };
}

/** Polls `check` every 20 ms until it holds; fails after `timeoutMs`. */
async function until(check: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Waits until `count` has not changed for `quietMs`; fails if it keeps changing for `timeoutMs`. */
async function quiet(count: () => number, quietMs: number, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = count();
  let since = Date.now();
  while (Date.now() - since < quietMs) {
    if (Date.now() > deadline) throw new Error(`${what} did not stop`);
    await new Promise((resolve) => setTimeout(resolve, 20));
    if (count() !== last) {
      last = count();
      since = Date.now();
    }
  }
}

interface Status {
  kind: string;
  code: number;
  reason: string;
  message: string;
}

const configVariables = [
  env.tableName,
  env.adminTokenSecret,
  env.workerTokenSecret,
  env.serviceAccountSigningSecret,
  env.clusterName,
  env.iamAccess,
  'AWS_ENDPOINT_URL',
  'AWS_REGION',
  'AWS_ACCESS_KEY_ID',
  'AWS_SECRET_ACCESS_KEY',
] as const;

describe('the API server Lambda function behind a streaming function URL', () => {
  let client: DynamoDBClient;
  let handler: StreamingHandler;
  let deadlineMarginMs: number;
  const saved = new Map<string, string | undefined>();
  const runtime = globalThis as unknown as { awslambda?: unknown };

  beforeAll(async () => {
    client = testClient();
    const tableName = await freshTable(client);
    for (const name of configVariables) saved.set(name, process.env[name]);
    Object.assign(process.env, {
      [env.tableName]: tableName,
      [env.adminTokenSecret]: secretIds.admin,
      [env.workerTokenSecret]: secretIds.worker,
      [env.serviceAccountSigningSecret]: secretIds.signing,
      [env.clusterName]: 'test-cluster',
      [env.iamAccess]: JSON.stringify({
        roles: [
          {
            roleArn: 'arn:aws:iam::111122223333:role/workers',
            username: 'system:node:{{EC2PrivateDNSName}}',
            groups: ['system:nodes'],
          },
        ],
      }),
      AWS_ENDPOINT_URL: dynamoEndpoint,
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: localCredentials.accessKeyId,
      AWS_SECRET_ACCESS_KEY: localCredentials.secretAccessKey,
    });
    runtime.awslambda = fakeRuntime;
    // Imported only now: the module reads its configuration (and middy finds `awslambda`) at cold start.
    const lambda = await import('../../functions/apiserver/lambda.js');
    handler = lambda.handler as unknown as StreamingHandler;
    deadlineMarginMs = lambda.deadlineMarginMs;
  });

  afterAll(() => {
    client?.destroy();
    delete runtime.awslambda;
    for (const [name, value] of saved) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  });

  /** One invocation to its end: the metadata the runtime got, and the whole body. */
  async function invoke(event: APIGatewayProxyEventV2) {
    const stream = new FakeResponseStream();
    await handler(event, stream, lambdaContext());
    expect(stream.writableFinished).toBe(true);
    expect(stream.metadataSent).toBe(true);
    const body = stream.text();
    return {
      status: stream.metadata?.statusCode,
      headers: stream.metadata?.headers ?? {},
      body,
      json: <T = Record<string, unknown>>() => JSON.parse(body) as T,
    };
  }

  it('serves /version without a token, and resources only with the admin token (not the kubelet token)', async () => {
    const version = await invoke(urlEvent('GET', '/version'));
    expect(version.status).toBe(200);
    expect(version.headers['content-type']).toBe('application/json');
    expect(version.json()).toMatchObject({ major: '1' });

    const anonymous = await invoke(urlEvent('GET', '/api/v1/namespaces'));
    expect(anonymous.status).toBe(401);
    expect(anonymous.json<Status>()).toMatchObject({ kind: 'Status', code: 401, reason: 'Unauthorized' });

    const wrong = await invoke(
      urlEvent('GET', '/api/v1/namespaces', { headers: { authorization: 'Bearer no' } }),
    );
    expect(wrong.status).toBe(401);

    const admin = await invoke(urlEvent('GET', '/api/v1/namespaces', { headers: auth }));
    expect(admin.status).toBe(200);
    // Read from the secrets once for the container, not per request.
    expect(secretsManager.commandCalls(GetSecretValueCommand)).toHaveLength(3);
    // What the API server presents to kubelets is no API credential: nodes use their IAM role.
    const worker = await invoke(
      urlEvent('GET', '/api/v1/nodes', { headers: { authorization: `Bearer ${workerToken}` } }),
    );
    expect(worker.status).toBe(401);
    expect(secretsManager.commandCalls(GetSecretValueCommand)).toHaveLength(3);
    // The first request of a container made the system namespaces.
    expect(
      admin.json<{ items: { metadata: { name: string } }[] }>().items.map((n) => n.metadata.name),
    ).toEqual(['default', 'kube-node-lease', 'kube-public', 'kube-system']);
  });

  it('creates a ConfigMap from a base64-encoded body and reads it back by name', async () => {
    const configMap = {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'settings' },
      data: { a: '1' },
    };
    const created = await invoke(
      urlEvent('POST', '/api/v1/namespaces/default/configmaps', {
        headers: { ...auth, 'content-type': 'application/json' },
        body: Buffer.from(JSON.stringify(configMap)),
      }),
    );
    expect(created.status, created.body).toBe(201);
    expect(created.json()).toMatchObject({ metadata: { name: 'settings', namespace: 'default' } });

    const read = await invoke(
      urlEvent('GET', '/api/v1/namespaces/default/configmaps/settings', { headers: auth }),
    );
    expect(read.status).toBe(200);
    expect(read.json()).toMatchObject({ kind: 'ConfigMap', data: { a: '1' } });
  });

  it('streams a watch event by event, and ends it cleanly before the invocation deadline', async () => {
    const base = 'watched';
    const first = await invoke(
      urlEvent('POST', '/api/v1/namespaces/default/configmaps', {
        headers: { ...auth, 'content-type': 'application/json' },
        body: JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `${base}-0` } }),
      }),
    );
    const from = first.json<{ metadata: { resourceVersion: string } }>().metadata.resourceVersion;

    // The invocation has 5 s left: the watch should end on its own 2 s before that.
    const remainingMs = 5000;
    const context = lambdaContext(remainingMs);
    const deadline = Date.now() + remainingMs;
    const stream = new FakeResponseStream();
    let ended = false;
    const watching = handler(
      urlEvent('GET', '/api/v1/namespaces/default/configmaps', {
        query: `watch=true&resourceVersion=${from}`,
        headers: auth,
      }),
      stream,
      context,
    ).finally(() => {
      ended = true;
    });

    // Status and headers go out before any event.
    await until(() => stream.metadataSent, 2000, 'the response metadata');
    expect(stream.metadata).toMatchObject({
      statusCode: 200,
      headers: { 'content-type': 'application/json' },
    });
    expect(stream.chunks).toEqual([]);

    const created = await invoke(
      urlEvent('POST', '/api/v1/namespaces/default/configmaps', {
        headers: { ...auth, 'content-type': 'application/json' },
        body: JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `${base}-1` } }),
      }),
    );
    expect(created.status).toBe(201);

    await until(() => stream.text().includes('\n'), 2000, 'the first watch event');
    expect(ended).toBe(false);
    const [line] = stream.text().split('\n');
    expect(JSON.parse(line as string)).toMatchObject({
      type: 'ADDED',
      object: { kind: 'ConfigMap', metadata: { name: `${base}-1` } },
    });

    await watching;
    // Ended by the deadline signal: at the margin before the deadline, not at it.
    expect(Date.now()).toBeGreaterThanOrEqual(deadline - deadlineMarginMs - 50);
    expect(Date.now()).toBeLessThan(deadline);
    expect(stream.writableFinished).toBe(true);
    const lines = stream.text().split('\n');
    expect(lines.pop()).toBe('');
    expect(lines.map((l) => JSON.parse(l).object.metadata.name)).toEqual([`${base}-1`]);
  });

  it('stops a watch at once when the response stream fails (the client went away)', async () => {
    const stream = new FakeResponseStream();
    const watching = handler(
      urlEvent('GET', '/api/v1/namespaces/default/configmaps', { query: 'watch=true', headers: auth }),
      stream,
      lambdaContext(60_000),
    );
    await until(() => stream.metadataSent, 2000, 'the response metadata');
    const reads = vi.spyOn(DynamoDBDocumentClient.prototype, 'send');
    try {
      await until(() => reads.mock.calls.length > 2, 2000, 'the watch to poll');
      stream.destroy(new Error('client went away'));
      await expect(watching).rejects.toThrow();
      // The watch polls DynamoDB every 50 ms while it lives; it must stop now, not at the deadline or the
      // next change.
      await quiet(() => reads.mock.calls.length, 500, 3000, 'the watch');
    } finally {
      reads.mockRestore();
    }
  });

  it('answers malformed requests with a Status, never a stack trace', async () => {
    const errorLog = vi.spyOn(console, 'error').mockImplementation(() => {});
    try {
      const badJson = await invoke(
        urlEvent('POST', '/api/v1/namespaces/default/configmaps', {
          headers: { ...auth, 'content-type': 'application/json' },
          body: Buffer.from('{"apiVersion": "v1", "kind": '),
        }),
      );
      expect(badJson.status).toBe(400);
      expect(badJson.json<Status>()).toMatchObject({ kind: 'Status', code: 400 });

      const badQuery = await invoke(
        urlEvent('GET', '/api/v1/namespaces/default/configmaps', {
          query: 'labelSelector=%zz!!%3D%3D&limit=-3&watch',
          headers: auth,
        }),
      );
      expect(badQuery.json<Status>()).toMatchObject({ kind: 'Status', code: badQuery.status });
      expect(badQuery.status).toBeGreaterThanOrEqual(400);

      const badVersion = await invoke(
        urlEvent('GET', '/api/v1/namespaces/default/configmaps', {
          query: 'watch=true&resourceVersion=not-a-number',
          headers: auth,
        }),
      );
      expect(badVersion.status).toBe(400);
      expect(badVersion.json<Status>()).toMatchObject({ kind: 'Status', code: 400, reason: 'BadRequest' });

      // Not a function URL event at all: the adapter itself fails, and still answers a generic 500.
      const notAnEvent = await invoke({ rawPath: '/version' } as unknown as APIGatewayProxyEventV2);
      expect(notAnEvent.status).toBe(500);
      expect(notAnEvent.json<Status>()).toEqual({
        kind: 'Status',
        apiVersion: 'v1',
        metadata: {},
        status: 'Failure',
        message: 'Internal error occurred: an internal error occurred',
        reason: 'InternalError',
        code: 500,
      });
      expect(notAnEvent.body).not.toMatch(/TypeError|at .*\.ts/);
      expect(errorLog).toHaveBeenCalled();
    } finally {
      errorLog.mockRestore();
    }
  });

  it('refuses an oversized body with 413 before the server sees it', async () => {
    const response = await invoke(
      urlEvent('POST', '/api/v1/namespaces/default/configmaps', {
        headers: { ...auth, 'content-type': 'application/json' },
        body: Buffer.alloc(3 * 1024 * 1024 + 1, 0x20),
      }),
    );
    expect(response.status).toBe(413);
    expect(response.json<Status>()).toMatchObject({ kind: 'Status', reason: 'RequestEntityTooLarge' });
  });
});

describe('the API server function configuration', () => {
  it('names every missing variable', () => {
    expect(() => loadConfig({})).toThrow(
      /LAMBERNETES_TABLE is not set.*LAMBERNETES_ADMIN_TOKEN_SECRET is not set.*LAMBERNETES_WORKER_TOKEN_SECRET is not set.*LAMBERNETES_SERVICE_ACCOUNT_SIGNING_SECRET is not set.*LAMBERNETES_CLUSTER_NAME is not set/,
    );
    const required = {
      [env.tableName]: 't',
      [env.adminTokenSecret]: ' a ',
      [env.workerTokenSecret]: 'w',
      [env.serviceAccountSigningSecret]: 's',
      [env.clusterName]: 'c',
    };
    expect(loadConfig(required)).toEqual({
      tableName: 't',
      adminTokenSecret: 'a',
      workerTokenSecret: 'w',
      serviceAccountSigningSecret: 's',
      clusterName: 'c',
    });
    const users = { users: [{ userArn: 'arn:aws:iam::111122223333:user/alice', username: 'alice' }] };
    expect(loadConfig({ ...required, [env.iamAccess]: JSON.stringify(users) }).iamAccess).toEqual(users);
    expect(() => loadConfig({ ...required, [env.iamAccess]: '{"mapRoles": []}' })).toThrow(/mapRoles/);
  });

  it('fails the cold start when a variable is missing', async () => {
    const saved = process.env[env.tableName];
    const runtime = globalThis as unknown as { awslambda?: unknown };
    delete process.env[env.tableName];
    runtime.awslambda = fakeRuntime;
    vi.resetModules();
    try {
      await expect(import('../../functions/apiserver/lambda.js')).rejects.toThrow(
        /LAMBERNETES_TABLE is not set/,
      );
    } finally {
      delete runtime.awslambda;
      if (saved !== undefined) process.env[env.tableName] = saved;
    }
  });
});
