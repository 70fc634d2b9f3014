import { randomInt, randomUUID } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DockerRuntime } from '../../agent/runtime/docker.js';
import { demultiplex } from '../../agent/runtime/log-stream.js';
import {
  type ContainerInfo,
  type ContainerSpec,
  ExecTimeoutError,
  ImageError,
  type SandboxInfo,
} from '../../agent/runtime/runtime.js';
import { busyboxImage, podmanAvailable } from '../../shared/local/podman.js';
import { startTestPodman, type TestPodman } from '../support/podman.js';
import { until } from '../support/wait.js';

function frame(type: number, text: string): Buffer {
  const header = Buffer.alloc(8);
  header.writeUInt8(type, 0);
  header.writeUInt32BE(Buffer.byteLength(text), 4);
  return Buffer.concat([header, Buffer.from(text)]);
}

async function collect(source: AsyncIterable<Buffer>): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of source) chunks.push(chunk);
  return Buffer.concat(chunks).toString();
}

describe('demultiplex', () => {
  it('joins stdout and stderr payloads in stream order, whatever the chunking', async () => {
    const stream = Buffer.concat([frame(1, 'out\n'), frame(2, 'err\n'), frame(1, 'out2\n')]);
    const chunks = [stream.subarray(0, 3), stream.subarray(3, 13), stream.subarray(13)];
    expect(await collect(demultiplex(chunks))).toBe('out\nerr\nout2\n');
  });

  it('passes a stream without headers (a TTY) through unchanged', async () => {
    expect(await collect(demultiplex([Buffer.from('plain terminal output\n'), Buffer.from('more\n')]))).toBe(
      'plain terminal output\nmore\n',
    );
  });
});

const unavailable = await podmanAvailable();
if (unavailable) console.warn(`Skipping the container runtime tests: ${unavailable}`);

describe.skipIf(unavailable !== undefined)('DockerRuntime on Podman', () => {
  let podman: TestPodman;
  let runtime: DockerRuntime;
  let other: DockerRuntime;
  let docker: Docker;
  let hostDir: string;

  beforeAll(async () => {
    podman = await startTestPodman();
    hostDir = await mkdtemp(join(tmpdir(), 'lambernetes-runtime-'));
    const options = { socketPath: podman.socketPath, network: podman.network, sandboxImage: busyboxImage };
    runtime = new DockerRuntime({ ...options, node: `node-${randomUUID()}` });
    other = new DockerRuntime({ ...options, node: `node-${randomUUID()}` });
    docker = new Docker({ socketPath: podman.socketPath });
  });

  afterAll(async () => {
    for (const r of [runtime, other]) {
      if (!r) continue;
      for (const container of await r.listContainers()) await r.removeContainer(container.id);
      for (const sandbox of await r.listSandboxes()) await r.removeSandbox(sandbox.id);
    }
    await podman?.stop();
    if (hostDir) await rm(hostDir, { recursive: true, force: true });
  });

  function sandboxFor(r = runtime): Promise<SandboxInfo> {
    const podUid = randomUUID();
    const name = `pod-${podUid.slice(0, 8)}`;
    return r.startSandbox({ podUid, namespace: 'default', name, hostname: name, ports: [] });
  }

  function spec(sandbox: SandboxInfo, overrides: Partial<ContainerSpec>): ContainerSpec {
    return {
      podUid: sandbox.podUid,
      name: 'main',
      kind: 'regular',
      restartCount: 0,
      image: busyboxImage,
      env: [],
      mounts: [],
      resources: {},
      ...overrides,
    };
  }

  async function run(sandbox: SandboxInfo, overrides: Partial<ContainerSpec>, r = runtime): Promise<string> {
    const id = await r.createContainer(sandbox, spec(sandbox, overrides));
    await r.startContainer(id);
    return id;
  }

  async function info(id: string, r = runtime): Promise<ContainerInfo | undefined> {
    return (await r.listContainers()).find((c) => c.id === id);
  }

  function exited(id: string, r = runtime): Promise<ContainerInfo> {
    return until(`container ${id} to exit`, async () => {
      const c = await info(id, r);
      return c?.state === 'exited' ? c : undefined;
    });
  }

  async function output(id: string): Promise<string> {
    await exited(id);
    return collect(runtime.logs(id, {}));
  }

  it('gives a sandbox an IP in the node network’s subnet, and adopts it when asked again', async () => {
    const podUid = randomUUID();
    const spec = { podUid, namespace: 'default', name: 'web', hostname: 'web', ports: [] };
    const sandbox = await runtime.startSandbox(spec);
    expect(sandbox).toMatchObject({ podUid, namespace: 'default', name: 'web', running: true });
    const prefix = podman.subnet.split('.').slice(0, 3).join('.');
    expect(sandbox.ip).toMatch(new RegExp(`^${prefix.replaceAll('.', '\\.')}\\.\\d+$`));
    expect(await runtime.listSandboxes()).toContainEqual(sandbox);
    expect((await runtime.startSandbox(spec)).id).toBe(sandbox.id);
  });

  it('lets two containers of one pod talk over localhost', async () => {
    const sandbox = await sandboxFor();
    await run(sandbox, { name: 'web', command: ['busybox', 'httpd', '-f', '-p', '8080', '-h', '/www'] });
    const client = await run(sandbox, { name: 'client', command: ['sleep', '600'] });
    const request = "printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc -w 3 127.0.0.1 8080";
    const answer = await until('httpd to answer on localhost', async () => {
      const { output } = await runtime.exec(client, ['sh', '-c', request], 10_000);
      return /^HTTP\/1\.[01] 200/.test(output) ? output : undefined;
    });
    // The page itself depends on who made the shared busybox image first.
    expect(answer).toMatch(/\r\n\r\n\S/);
    expect(await runtime.exec(client, ['hostname'], 10_000)).toEqual({
      exitCode: 0,
      output: `${sandbox.name}\n`,
    });
  });

  it('publishes host ports and gives the pod its DNS settings', async () => {
    const hostPort = 20_000 + randomInt(10_000);
    const sandbox = await runtime.startSandbox({
      podUid: randomUUID(),
      namespace: 'web',
      name: 'published',
      hostname: 'published',
      ports: [{ containerPort: 8080, hostPort, protocol: 'TCP', hostIP: '127.0.0.1' }],
      dns: { servers: ['10.96.0.10'], searches: ['web.svc.cluster.local'], options: ['ndots:5'] },
    });
    const web = await run(sandbox, {
      name: 'web',
      command: ['busybox', 'httpd', '-f', '-p', '8080', '-h', '/www'],
    });
    const status = await until('httpd to answer on the host port', () =>
      fetch(`http://127.0.0.1:${hostPort}/`).then(
        (response) => (response.ok ? response.status : undefined),
        () => undefined,
      ),
    );
    expect(status).toBe(200);
    const { output } = await runtime.exec(web, ['cat', '/etc/resolv.conf'], 10_000);
    expect(output).toContain('nameserver 10.96.0.10');
    expect(output).toContain('search web.svc.cluster.local');
    expect(output).toContain('options ndots:5');
  });

  it('follows Kubernetes semantics for command, args and env', async () => {
    const sandbox = await sandboxFor();
    // command alone replaces the ENTRYPOINT and drops the image's CMD (/bin/sh).
    const commandOnly = await run(sandbox, { name: 'a', command: ['echo', 'command-only'] });
    // args alone replace the CMD.
    const argsOnly = await run(sandbox, { name: 'b', args: ['echo', 'args-only'] });
    const both = await run(sandbox, {
      name: 'c',
      command: ['sh', '-c', 'echo "$GREETING:$0:$1"'],
      args: ['x', 'y'],
      env: [{ name: 'GREETING', value: 'hello world' }],
    });
    expect(await output(commandOnly)).toBe('command-only\n');
    expect(await output(argsOnly)).toBe('args-only\n');
    expect(await output(both)).toBe('hello world:x:y\n');
  });

  it('mounts a host path read-only, sets the working directory and the memory limit', async () => {
    await writeFile(join(hostDir, 'config.txt'), 'from the host\n');
    const sandbox = await sandboxFor();
    const id = await run(sandbox, {
      command: ['sh', '-c', 'cat /config/config.txt; pwd; touch /config/x 2>/dev/null || echo read-only'],
      workingDir: '/tmp',
      mounts: [{ hostPath: hostDir, containerPath: '/config', readOnly: true }],
      resources: { memoryLimitBytes: 64 * 1024 * 1024, cpuMilliLimit: 500, cpuMilliRequest: 250 },
    });
    expect(await output(id)).toBe('from the host\n/tmp\nread-only\n');
    const { HostConfig } = await docker.getContainer(id).inspect();
    expect(HostConfig).toMatchObject({ Memory: 64 * 1024 * 1024, NanoCpus: 500_000_000, CpuShares: 256 });
  });

  it('reports the exit code and reason of exited containers, and no start time for unstarted ones', async () => {
    const sandbox = await sandboxFor();
    const failed = await run(sandbox, { name: 'failed', command: ['sh', '-c', 'exit 3'] });
    const done = await run(sandbox, { name: 'done', kind: 'init', command: ['true'], restartCount: 2 });
    const idle = await runtime.createContainer(sandbox, spec(sandbox, { name: 'idle' }));
    expect(await exited(failed)).toMatchObject({
      exitCode: 3,
      reason: 'Error',
      name: 'failed',
      kind: 'regular',
    });
    const completed = await exited(done);
    expect(completed).toMatchObject({ exitCode: 0, reason: 'Completed', kind: 'init', restartCount: 2 });
    expect(completed.finishedAt?.getTime()).toBeGreaterThanOrEqual(
      completed.startedAt?.getTime() ?? Infinity,
    );
    // Never started: the engine's zero time ('0001-01-01…') must not leak out as a date.
    const created = await info(idle);
    expect(created).toMatchObject({ state: 'created', podUid: sandbox.podUid, image: busyboxImage });
    expect(created?.startedAt).toBeUndefined();
    expect(created?.imageId).toMatch(/^(sha256:)?[0-9a-f]{64}$/);
  });

  it('returns the tail of a log, and follows a log as it is written until aborted', async () => {
    const sandbox = await sandboxFor();
    const printed = await run(sandbox, {
      name: 'printed',
      command: ['sh', '-c', 'for i in 1 2 3 4 5; do echo $i; done'],
    });
    await exited(printed);
    expect(await collect(runtime.logs(printed, { tail: 2 }))).toBe('4\n5\n');

    const ticker = await run(sandbox, {
      name: 'ticker',
      command: [
        'sh',
        '-c',
        'i=0; while true; do i=$((i+1)); echo "tick $i"; echo "tock $i" >&2; sleep 0.2; done',
      ],
    });
    const abort = new AbortController();
    let received = '';
    for await (const chunk of runtime.logs(ticker, { follow: true, signal: abort.signal })) {
      received += chunk.toString();
      if (received.includes('tick 3')) abort.abort();
    }
    expect(received).toContain('tick 1\n');
    expect(received).toContain('tock 2\n');
    expect((await info(ticker))?.state).toBe('running');
  });

  it('execs a command and returns its output and exit code, or times out', async () => {
    const sandbox = await sandboxFor();
    const id = await run(sandbox, { command: ['sleep', '600'] });
    expect(await runtime.exec(id, ['sh', '-c', 'echo out; echo err >&2; exit 7'], 10_000)).toEqual({
      exitCode: 7,
      output: expect.stringMatching(/out\n[\s\S]*err\n|err\n[\s\S]*out\n/),
    });
    await expect(runtime.exec(id, ['sleep', '10'], 300)).rejects.toBeInstanceOf(ExecTimeoutError);
  });

  it('stops with SIGTERM, and with SIGKILL after the grace period; stop and remove are idempotent', async () => {
    const sandbox = await sandboxFor();
    const polite = await run(sandbox, {
      name: 'polite',
      command: ['sh', '-c', 'trap "exit 0" TERM; while true; do sleep 1; done'],
    });
    const stubborn = await run(sandbox, {
      name: 'stubborn',
      command: ['sh', '-c', 'trap "" TERM; while true; do sleep 1; done'],
    });
    await Promise.all([runtime.stopContainer(polite, 30), runtime.stopContainer(stubborn, 1)]);
    expect(await info(polite)).toMatchObject({ state: 'exited', exitCode: 0, reason: 'Completed' });
    expect(await info(stubborn)).toMatchObject({ state: 'exited', exitCode: 137, reason: 'Error' });

    await runtime.stopContainer(polite, 1);
    await runtime.removeContainer(polite);
    await runtime.removeContainer(polite);
    await runtime.stopContainer(polite, 1);
    expect(await info(polite)).toBeUndefined();
  });

  it('removes a sandbox with its containers, and again without complaint', async () => {
    const sandbox = await sandboxFor();
    const id = await run(sandbox, { command: ['sleep', '600'] });
    await runtime.removeSandbox(sandbox.id);
    await runtime.removeSandbox(sandbox.id);
    expect((await runtime.listSandboxes()).map((s) => s.id)).not.toContain(sandbox.id);
    expect(await info(id)).toBeUndefined();
  });

  it('lists only the containers and sandboxes of its own node', async () => {
    const mine = await sandboxFor(runtime);
    const theirs = await sandboxFor(other);
    const myContainer = await run(mine, { command: ['sleep', '600'] });
    const theirContainer = await run(theirs, { command: ['sleep', '600'] }, other);

    const ids = async (r: DockerRuntime) => [
      ...(await r.listSandboxes()).map((s) => s.id),
      ...(await r.listContainers()).map((c) => c.id),
    ];
    const [seenByMe, seenByOther] = await Promise.all([ids(runtime), ids(other)]);
    expect(seenByMe).toEqual(expect.arrayContaining([mine.id, myContainer]));
    expect(seenByMe).not.toEqual(expect.arrayContaining([theirs.id]));
    expect(seenByMe).not.toContain(theirContainer);
    expect(seenByOther).toEqual(expect.arrayContaining([theirs.id, theirContainer]));
    expect(seenByOther).not.toContain(mine.id);
    expect(seenByOther).not.toContain(myContainer);
  });

  it('makes images present by pull policy, or says why not', async () => {
    await runtime.ensureImage(busyboxImage, 'IfNotPresent');
    await runtime.ensureImage(busyboxImage, 'Never');
    const missing = `localhost/missing-${randomUUID().slice(0, 8)}:1`;
    const reasons = await Promise.all(
      [
        runtime.ensureImage(missing, 'Never'),
        runtime.ensureImage(missing, 'IfNotPresent'),
        // No registry is reachable: pulling fails even though the image is present.
        runtime.ensureImage(busyboxImage, 'Always'),
        runtime.ensureImage('Not An Image', 'IfNotPresent'),
      ].map((attempt) =>
        attempt.then(
          () => 'ok',
          (error: unknown) => (error instanceof ImageError ? error.reason : String(error)),
        ),
      ),
    );
    expect(reasons).toEqual(['ErrImageNeverPull', 'ErrImagePull', 'ErrImagePull', 'InvalidImageName']);
  });
});
