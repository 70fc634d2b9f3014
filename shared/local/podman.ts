/**
 * Local Podman for `npm start` and the agent's tests: its Docker-compatible API service on a unix
 * socket, an offline busybox image, and one bridge network per local node. Every podman command
 * runs with the same CONTAINERS_CONF (runc, cgroupfs: what works on these machines, see
 * environment.md).
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { constants, openSync } from 'node:fs';
import { access, chmod, copyFile, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { run } from './command.js';

/** The image `ensureBusyboxImage` makes: busybox-static with its applets, `/www/index.html`, CMD /bin/sh. */
export const busyboxImage = 'localhost/busybox:local';

const containersConf = `[containers]
default_ulimits = ["nofile=20000:20000", "nproc=4096:4096"]
[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
`;

export interface LocalPodman {
  socketPath: string;
  /** The environment every podman command must run with (CONTAINERS_CONF). */
  env: NodeJS.ProcessEnv;
  stop(): Promise<void>;
}

async function onPath(command: string): Promise<boolean> {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    try {
      await access(join(dir, command), constants.X_OK);
      return true;
    } catch {}
  }
  return false;
}

/** `undefined` when Podman can run containers here; otherwise what is missing. */
export async function podmanAvailable(): Promise<string | undefined> {
  const missing: string[] = [];
  for (const command of ['podman', 'runc']) if (!(await onPath(command))) missing.push(command);
  if (missing.length === 0) return undefined;
  return `${missing.join(' and ')} not on PATH (apt-get install -y podman runc busybox-static uidmap)`;
}

/** Whether a podman command succeeds (for `exists` queries, which answer with their exit code). */
function succeeds(args: string[], env: NodeJS.ProcessEnv): Promise<boolean> {
  return new Promise((resolve) => execFile('podman', args, { env }, (error) => resolve(!error)));
}

function versionAnswers(socketPath: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request({ socketPath, path: '/v1.41/version', timeout: 2_000 }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('error', () => resolve(false));
    req.on('timeout', () => req.destroy());
    req.end();
  });
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

/**
 * Starts `podman system service` on `<dataDir>/podman.sock` (its output in `<dataDir>/podman.log`)
 * and waits until it answers the Docker Engine API.
 */
export async function startPodman(options: { dataDir: string }): Promise<LocalPodman> {
  const { dataDir } = options;
  await mkdir(dataDir, { recursive: true });
  const confPath = join(dataDir, 'containers.conf');
  await writeFile(confPath, containersConf);
  const socketPath = join(dataDir, 'podman.sock');
  await rm(socketPath, { force: true });
  const env: NodeJS.ProcessEnv = { ...process.env, CONTAINERS_CONF: confPath };
  const log = openSync(join(dataDir, 'podman.log'), 'a');
  const child = spawn('podman', ['system', 'service', '--time=0', `unix://${socketPath}`], {
    env,
    stdio: ['ignore', log, log],
  });
  const spawnError = new Promise<Error>((resolve) => child.once('error', resolve));

  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited(child);
  };
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (await versionAnswers(socketPath)) return { socketPath, env, stop };
    const failure = await Promise.race([spawnError, delay(100, undefined)]);
    if (failure) throw new Error(`could not start podman: ${failure.message}`);
    if (child.exitCode !== null)
      throw new Error(`podman system service exited with code ${child.exitCode}; see ${dataDir}/podman.log`);
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`podman system service did not answer within 30 s; see ${dataDir}/podman.log`);
    }
  }
}

const passwd = `root:x:0:0:root:/root:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
`;
const group = `root:x:0:
nobody:x:65534:
`;

/**
 * Makes `localhost/busybox:local` unless it exists: a rootfs of Debian's busybox-static with a
 * symlink per applet, `/www/index.html`, `/etc/passwd` and `/etc/group` (root, nobody) and `/tmp`,
 * imported with CMD /bin/sh. Safe to race: a second import of the same tag just retags.
 */
export async function ensureBusyboxImage(env: NodeJS.ProcessEnv): Promise<void> {
  if (await succeeds(['image', 'exists', busyboxImage], env)) return;
  const busybox = await run('which', ['busybox']).then(
    (r) => r.stdout.trim(),
    () => '',
  );
  if (!busybox)
    throw new Error('busybox not on PATH: install Debian busybox-static (apt-get install -y busybox-static)');

  const work = await mkdtemp(join(tmpdir(), 'lambernetes-busybox-'));
  try {
    const rootfs = join(work, 'rootfs');
    for (const dir of ['bin', 'etc', 'www', 'tmp', 'root'])
      await mkdir(join(rootfs, dir), { recursive: true });
    await chmod(join(rootfs, 'tmp'), 0o1777);
    await copyFile(busybox, join(rootfs, 'bin', 'busybox'));
    await chmod(join(rootfs, 'bin', 'busybox'), 0o755);
    const applets = (await run(busybox, ['--list'])).stdout.split('\n').filter((a) => a && a !== 'busybox');
    for (const applet of applets) await symlink('busybox', join(rootfs, 'bin', applet));
    await writeFile(join(rootfs, 'www', 'index.html'), '<h1>Hello from Lambernetes</h1>\n');
    await writeFile(join(rootfs, 'etc', 'passwd'), passwd);
    await writeFile(join(rootfs, 'etc', 'group'), group);
    const tarball = join(work, 'rootfs.tar');
    await run('tar', ['-C', rootfs, '-cf', tarball, '.']);
    await run('podman', ['import', '--change', 'CMD ["/bin/sh"]', tarball, busyboxImage], env);
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

/** Creates bridge network `name` with `subnet` (a node's pod CIDR) unless it exists. */
export async function ensureNetwork(env: NodeJS.ProcessEnv, name: string, subnet: string): Promise<void> {
  if (await succeeds(['network', 'exists', name], env)) return;
  try {
    await run('podman', ['network', 'create', '--subnet', subnet, name], env);
  } catch (error) {
    // Another process may have created it meanwhile (podman 4.3 has no `network create --ignore`).
    if (!(await succeeds(['network', 'exists', name], env))) throw error;
  }
}

/** Removes network `name`; nothing if it is gone. */
export async function removeNetwork(env: NodeJS.ProcessEnv, name: string): Promise<void> {
  if (await succeeds(['network', 'exists', name], env))
    await run('podman', ['network', 'rm', '-f', name], env);
}
