import {
  lstat,
  mkdir,
  mkdtemp,
  readdir,
  readFile,
  readlink,
  rm,
  stat,
  symlink,
  writeFile,
} from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AuthenticationV1Api, KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KubeletContainer } from '../../agent/kubelet/container-spec.js';
import {
  ConfigError,
  type ConfigMap,
  resolveEnv,
  type Secret,
  withApiServerEnv,
} from '../../agent/kubelet/env.js';
import { ServiceAccountTokens } from '../../agent/kubelet/service-account-tokens.js';
import {
  containerMounts,
  materializeVolumes,
  removePodVolumes,
  type Volume,
} from '../../agent/kubelet/volumes.js';
import type { Node, Pod } from '../../shared/api/core.js';
import { resourceType } from '../../shared/api/resources.js';
import { startTestCluster, type TestCluster } from '../support/cluster.js';

const configMaps = resourceType('configmaps');
const secrets = resourceType('secrets');
const nodes = resourceType('nodes');

const b64 = (text: string | Buffer) => Buffer.from(text).toString('base64');

function pod(
  containers: KubeletContainer[],
  volumes: Volume[] = [],
  extra: Record<string, unknown> = {},
): Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: 'web-0',
      namespace: 'default',
      uid: 'pod-uid-1',
      labels: { app: 'web', tier: 'front' },
      annotations: { 'example.com/owner': 'team-a' },
    },
    spec: { nodeName: 'node-a', serviceAccountName: 'builder', containers, volumes, ...extra },
  } as Pod;
}

const mode = async (path: string) => (await stat(path)).mode & 0o777;

describe('agent env resolution and volumes against a real apiserver', () => {
  let cluster: TestCluster;
  let root: string;
  const resolve = (container: KubeletContainer, p = pod([container])) =>
    resolveEnv(cluster.client, p, container, '10.244.1.5', 'node-a', '192.168.0.7');
  const envOf = async (container: KubeletContainer) =>
    Object.fromEntries((await resolve(container)).map((e) => [e.name, e.value]));

  beforeAll(async () => {
    cluster = await startTestCluster({ controlPlane: false });
    root = await mkdtemp(join(tmpdir(), 'lambernetes-volumes-'));
    await cluster.client.create<ConfigMap>(configMaps, {
      metadata: { name: 'settings', namespace: 'default' },
      data: { LEVEL: 'debug', 'app.conf': 'port=80\n', 'bad name': 'x' },
      binaryData: { 'logo.bin': b64(Buffer.from([0, 1, 2, 255])) },
    });
    await cluster.client.create<Secret>(secrets, {
      metadata: { name: 'creds', namespace: 'default' },
      type: 'Opaque',
      data: { USER: b64('admin'), PASSWORD: b64('s3cr3t') },
    });
    // Status is dropped on create, as upstream: set the allocatable amounts through /status.
    const node = await cluster.client.create<Node>(nodes, { metadata: { name: 'node-a' } });
    await cluster.client.update(
      nodes,
      { ...node, status: { allocatable: { cpu: '4', memory: '8Gi' } } },
      'status',
    );
  });
  afterAll(async () => {
    await cluster?.stop();
    if (root) await rm(root, { recursive: true, force: true });
  });

  describe('resolveEnv', () => {
    it('puts envFrom first, with its prefix, and lets env win on a duplicate name', async () => {
      const env = await resolve({
        name: 'app',
        envFrom: [{ configMapRef: { name: 'settings' } }, { prefix: 'DB_', secretRef: { name: 'creds' } }],
        env: [
          { name: 'LEVEL', value: 'info' },
          { name: 'EXTRA', value: 'x' },
        ],
      });
      expect(env).toEqual([
        { name: 'LEVEL', value: 'info' },
        { name: 'app.conf', value: 'port=80\n' },
        { name: 'DB_USER', value: 'admin' },
        { name: 'DB_PASSWORD', value: 's3cr3t' },
        { name: 'EXTRA', value: 'x' },
      ]);
    });

    it('reads ConfigMap keys and base64-decoded Secret keys', async () => {
      expect(
        await envOf({
          name: 'app',
          env: [
            { name: 'LEVEL', valueFrom: { configMapKeyRef: { name: 'settings', key: 'LEVEL' } } },
            { name: 'PASS', valueFrom: { secretKeyRef: { name: 'creds', key: 'PASSWORD' } } },
          ],
        }),
      ).toEqual({ LEVEL: 'debug', PASS: 's3cr3t' });
    });

    it('expands $(VAR) against earlier entries only, and $$ escapes', async () => {
      expect(
        await envOf({
          name: 'app',
          envFrom: [{ configMapRef: { name: 'settings' } }],
          env: [
            { name: 'EARLY', value: '$(LATE)-$(LEVEL)' },
            { name: 'LATE', value: 'late' },
            { name: 'BOTH', value: '$(LATE)/$$(LATE)' },
          ],
        }),
      ).toMatchObject({ EARLY: '$(LATE)-debug', LATE: 'late', BOTH: 'late/$(LATE)' });
    });

    it('reads the pod fields of the downward API', async () => {
      const field = (name: string, fieldPath: string) => ({ name, valueFrom: { fieldRef: { fieldPath } } });
      expect(
        await envOf({
          name: 'app',
          env: [
            field('NAME', 'metadata.name'),
            field('NS', 'metadata.namespace'),
            field('UID', 'metadata.uid'),
            field('APP', "metadata.labels['app']"),
            field('OWNER', "metadata.annotations['example.com/owner']"),
            field('NONE', "metadata.labels['missing']"),
            field('NODE', 'spec.nodeName'),
            field('SA', 'spec.serviceAccountName'),
            field('POD_IP', 'status.podIP'),
            field('HOST_IP', 'status.hostIP'),
          ],
        }),
      ).toEqual({
        NAME: 'web-0',
        NS: 'default',
        UID: 'pod-uid-1',
        APP: 'web',
        OWNER: 'team-a',
        NONE: '',
        NODE: 'node-a',
        SA: 'builder',
        POD_IP: '10.244.1.5',
        HOST_IP: '192.168.0.7',
      });
    });

    it("reads the container's resources with divisors, an unset limit being the node's allocatable", async () => {
      const resource = (name: string, r: string, divisor?: string) => ({
        name,
        valueFrom: { resourceFieldRef: { resource: r, ...(divisor ? { divisor } : {}) } },
      });
      expect(
        await envOf({
          name: 'app',
          resources: { limits: { cpu: '500m' }, requests: { cpu: '250m', memory: '64Mi' } },
          env: [
            resource('CPU_LIMIT', 'limits.cpu'),
            resource('CPU_LIMIT_M', 'limits.cpu', '1m'),
            resource('CPU_REQ_M', 'requests.cpu', '1m'),
            resource('MEM_REQ', 'requests.memory'),
            resource('MEM_REQ_MI', 'requests.memory', '1Mi'),
            resource('MEM_LIMIT_GI', 'limits.memory', '1Gi'),
          ],
        }),
      ).toEqual({
        CPU_LIMIT: '1',
        CPU_LIMIT_M: '500',
        CPU_REQ_M: '250',
        MEM_REQ: String(64 * 1024 * 1024),
        MEM_REQ_MI: '64',
        MEM_LIMIT_GI: '8',
      });
    });

    it('fails with the upstream messages for missing objects and keys', async () => {
      const failure = (container: KubeletContainer) => resolve(container).catch((error: unknown) => error);
      const cases: [KubeletContainer, string][] = [
        [{ name: 'a', envFrom: [{ configMapRef: { name: 'nope' } }] }, 'configmap "nope" not found'],
        [{ name: 'a', envFrom: [{ secretRef: { name: 'hidden' } }] }, 'secret "hidden" not found'],
        [
          { name: 'a', env: [{ name: 'X', valueFrom: { configMapKeyRef: { name: 'settings', key: 'k' } } }] },
          "couldn't find key k in ConfigMap default/settings",
        ],
        [
          { name: 'a', env: [{ name: 'X', valueFrom: { secretKeyRef: { name: 'creds', key: 'TOKEN' } } }] },
          "couldn't find key TOKEN in Secret default/creds",
        ],
        [
          { name: 'a', env: [{ name: 'X', valueFrom: { secretKeyRef: { name: 'y', key: 'k' } } }] },
          'secret "y" not found',
        ],
        [
          { name: 'a', env: [{ name: 'X', valueFrom: { fieldRef: { fieldPath: 'spec.priority' } } }] },
          'unsupported fieldPath: spec.priority',
        ],
      ];
      for (const [container, message] of cases) {
        const error = await failure(container);
        expect(error).toBeInstanceOf(ConfigError);
        expect((error as ConfigError).message).toBe(message);
        expect((error as ConfigError).reason).toBe('CreateContainerConfigError');
      }
    });

    it('skips optional missing objects and keys', async () => {
      expect(
        await resolve({
          name: 'app',
          envFrom: [
            { configMapRef: { name: 'nope', optional: true } },
            { secretRef: { name: 'no', optional: true } },
          ],
          env: [
            { name: 'A', valueFrom: { configMapKeyRef: { name: 'settings', key: 'k', optional: true } } },
            { name: 'B', valueFrom: { secretKeyRef: { name: 'y', key: 'k', optional: true } } },
            { name: 'C', value: 'kept' },
          ],
        }),
      ).toEqual([{ name: 'C', value: 'kept' }]);
    });
  });

  describe('materializeVolumes', () => {
    const listing = async (dir: string) => (await readdir(dir)).filter((e) => !e.startsWith('..')).sort();

    it('writes every ConfigMap key, binary data included, with the default mode 0644', async () => {
      const podDir = join(root, 'cm-all');
      const paths = await materializeVolumes(
        cluster.client,
        pod([], [{ name: 'config', configMap: { name: 'settings' } }]),
        podDir,
      );
      const dir = paths.get('config') as string;
      expect(dir).toBe(join(podDir, 'volumes', 'config'));
      expect(await listing(dir)).toEqual(['LEVEL', 'app.conf', 'bad name', 'logo.bin']);
      expect(await readFile(join(dir, 'app.conf'), 'utf8')).toBe('port=80\n');
      expect([...(await readFile(join(dir, 'logo.bin')))]).toEqual([0, 1, 2, 255]);
      expect(await mode(join(dir, 'LEVEL'))).toBe(0o644);
      expect((await lstat(join(dir, 'LEVEL'))).isSymbolicLink()).toBe(true);
      expect(await readlink(join(dir, '..data'))).toMatch(/^\.\./);
    });

    it('writes only the items, at their paths and modes, with defaultMode for the rest', async () => {
      const paths = await materializeVolumes(
        cluster.client,
        pod(
          [],
          [
            {
              name: 'config',
              configMap: {
                name: 'settings',
                defaultMode: 0o600,
                items: [
                  { key: 'app.conf', path: 'etc/app/app.conf', mode: 0o400 },
                  { key: 'LEVEL', path: 'level' },
                ],
              },
            },
          ],
        ),
        join(root, 'cm-items'),
      );
      const dir = paths.get('config') as string;
      expect(await listing(dir)).toEqual(['etc', 'level']);
      expect(await readFile(join(dir, 'etc/app/app.conf'), 'utf8')).toBe('port=80\n');
      expect(await mode(join(dir, 'etc/app/app.conf'))).toBe(0o400);
      expect(await mode(join(dir, 'level'))).toBe(0o600);
    });

    it('decodes Secret data into files with mode 0644 by default', async () => {
      const paths = await materializeVolumes(
        cluster.client,
        pod([], [{ name: 'creds', secret: { secretName: 'creds' } }]),
        join(root, 'secret'),
      );
      const dir = paths.get('creds') as string;
      expect(await listing(dir)).toEqual(['PASSWORD', 'USER']);
      expect(await readFile(join(dir, 'PASSWORD'), 'utf8')).toBe('s3cr3t');
      expect(await mode(join(dir, 'USER'))).toBe(0o644);
    });

    it('fails for missing objects and item keys, and makes optional ones empty', async () => {
      const attempt = (volume: Volume) =>
        materializeVolumes(cluster.client, pod([], [volume]), join(root, 'missing')).catch((e: unknown) => e);
      const cases: [Volume, string][] = [
        [{ name: 'v', configMap: { name: 'nope' } }, 'configmap "nope" not found'],
        [{ name: 'v', secret: { secretName: 'nope' } }, 'secret "nope" not found'],
        [
          { name: 'v', configMap: { name: 'settings', items: [{ key: 'k', path: 'k' }] } },
          'configmap references non-existent config key: k',
        ],
        [
          { name: 'v', secret: { secretName: 'creds', items: [{ key: 'k', path: 'k' }] } },
          'references non-existent secret key: k',
        ],
        [
          { name: 'v', configMap: { name: 'settings', items: [{ key: 'LEVEL', path: '../x' }] } },
          'invalid path "../x" in volume',
        ],
        [
          { name: 'v', persistentVolumeClaim: { claimName: 'data' } },
          'volume v: unsupported volume type persistentVolumeClaim',
        ],
      ];
      for (const [volume, message] of cases) {
        const error = await attempt(volume);
        expect(error).toBeInstanceOf(ConfigError);
        expect((error as Error).message).toBe(message);
      }
      const paths = await materializeVolumes(
        cluster.client,
        pod(
          [],
          [
            { name: 'a', configMap: { name: 'nope', optional: true } },
            { name: 'b', secret: { secretName: 'creds', optional: true, items: [{ key: 'k', path: 'k' }] } },
          ],
        ),
        join(root, 'optional'),
      );
      expect(await listing(paths.get('a') as string)).toEqual([]);
      expect(await listing(paths.get('b') as string)).toEqual([]);
    });

    it('refreshes contents after an update, in place, and drops removed keys', async () => {
      await cluster.client.create<ConfigMap>(configMaps, {
        metadata: { name: 'live', namespace: 'default' },
        data: { a: '1', b: '2' },
      });
      const p = pod([], [{ name: 'live', configMap: { name: 'live' } }]);
      const podDir = join(root, 'refresh');
      const dir = (await materializeVolumes(cluster.client, p, podDir)).get('live') as string;
      const inode = (await stat(dir)).ino;
      const before = await readlink(join(dir, '..data'));
      // Unchanged contents: nothing is rewritten.
      await materializeVolumes(cluster.client, p, podDir);
      expect(await readlink(join(dir, '..data'))).toBe(before);

      const current = await cluster.client.get<ConfigMap>(configMaps, 'default', 'live');
      await cluster.client.update(configMaps, { ...current, data: { a: 'one', c: '3' } });
      await materializeVolumes(cluster.client, p, podDir);
      expect((await stat(dir)).ino).toBe(inode);
      expect(await listing(dir)).toEqual(['a', 'c']);
      expect(await readFile(join(dir, 'a'), 'utf8')).toBe('one');
      expect(await readlink(join(dir, '..data'))).not.toBe(before);
      // The old generation is gone: only the current one and ..data remain hidden.
      expect((await readdir(dir)).filter((e) => e.startsWith('..')).sort()).toEqual(
        ['..data', await readlink(join(dir, '..data'))].sort(),
      );
    });

    it('writes downward API files and projected sources together', async () => {
      const downward = [
        { path: 'name', fieldRef: { fieldPath: 'metadata.name' } },
        { path: 'labels', fieldRef: { fieldPath: 'metadata.labels' } },
        {
          path: 'cpu',
          resourceFieldRef: { containerName: 'app', resource: 'limits.cpu', divisor: '1m' },
          mode: 0o400,
        },
      ];
      const p = pod(
        [{ name: 'app', resources: { limits: { cpu: '250m' } } }],
        [
          { name: 'info', downwardAPI: { items: downward } },
          {
            name: 'all',
            projected: {
              defaultMode: 0o640,
              sources: [
                { configMap: { name: 'settings', items: [{ key: 'LEVEL', path: 'level' }] } },
                { secret: { name: 'creds', items: [{ key: 'USER', path: 'user' }] } },
                { downwardAPI: { items: [{ path: 'ns', fieldRef: { fieldPath: 'metadata.namespace' } }] } },
                { configMap: { name: 'nope', optional: true } },
              ],
            },
          },
        ],
      );
      const paths = await materializeVolumes(cluster.client, p, join(root, 'downward'));
      const info = paths.get('info') as string;
      expect(await readFile(join(info, 'name'), 'utf8')).toBe('web-0');
      expect(await readFile(join(info, 'labels'), 'utf8')).toBe('app="web"\ntier="front"');
      expect(await readFile(join(info, 'cpu'), 'utf8')).toBe('250');
      expect(await mode(join(info, 'cpu'))).toBe(0o400);
      const all = paths.get('all') as string;
      expect(await listing(all)).toEqual(['level', 'ns', 'user']);
      expect(await readFile(join(all, 'user'), 'utf8')).toBe('admin');
      expect(await mode(join(all, 'level'))).toBe(0o640);
    });

    it('makes emptyDirs that keep their contents across syncs', async () => {
      const p = pod(
        [],
        [
          { name: 'scratch', emptyDir: {} },
          { name: 'ram', emptyDir: { medium: 'Memory' } },
        ],
      );
      const podDir = join(root, 'empty');
      const paths = await materializeVolumes(cluster.client, p, podDir);
      const scratch = paths.get('scratch') as string;
      expect(await mode(scratch)).toBe(0o777);
      await writeFile(join(scratch, 'kept'), 'yes');
      await materializeVolumes(cluster.client, p, podDir);
      expect(await readFile(join(scratch, 'kept'), 'utf8')).toBe('yes');
      expect((await stat(paths.get('ram') as string)).isDirectory()).toBe(true);
    });

    it('answers hostPath volumes with the host path, creating or checking it by type', async () => {
      const host = join(root, 'host');
      await mkdir(host);
      await writeFile(join(host, 'file'), 'f');
      const volume = (name: string, path: string, type?: string) =>
        ({ name, hostPath: { path: join(host, path), ...(type ? { type } : {}) } }) as Volume;
      const paths = await materializeVolumes(
        cluster.client,
        pod(
          [],
          [
            volume('plain', 'anything'),
            volume('dir', 'made/deep', 'DirectoryOrCreate'),
            volume('file', 'new.sock', 'FileOrCreate'),
            volume('existing', 'file', 'File'),
          ],
        ),
        join(root, 'hostpath'),
      );
      expect(paths.get('plain')).toBe(join(host, 'anything'));
      expect((await stat(join(host, 'made/deep'))).isDirectory()).toBe(true);
      expect((await stat(join(host, 'new.sock'))).isFile()).toBe(true);
      expect(paths.get('existing')).toBe(join(host, 'file'));

      const failure = (v: Volume) =>
        materializeVolumes(cluster.client, pod([], [v]), join(root, 'hostpath')).catch((e: unknown) => e);
      const notDir = await failure(volume('d', 'file', 'Directory'));
      expect(notDir).toBeInstanceOf(ConfigError);
      expect((notDir as Error).message).toBe(
        `hostPath type check failed: ${join(host, 'file')} is not a directory`,
      );
      const notFile = await failure(volume('f', 'absent', 'File'));
      expect((notFile as Error).message).toBe(
        `hostPath type check failed: ${join(host, 'absent')} is not a file`,
      );
    });
  });

  describe('containerMounts and removal', () => {
    it('maps volume mounts with subPath and readOnly, API-data volumes always read-only', async () => {
      const container: KubeletContainer = {
        name: 'app',
        volumeMounts: [
          { name: 'config', mountPath: '/etc/config' },
          { name: 'config', mountPath: '/etc/app.conf', subPath: 'app.conf' },
          { name: 'scratch', mountPath: '/tmp/work', subPath: 'work/area' },
          { name: 'scratch', mountPath: '/data', readOnly: true },
          { name: 'scratch', mountPath: '/per-pod', subPathExpr: '$(POD)' },
        ],
      };
      const p = pod(
        [container],
        [
          { name: 'config', configMap: { name: 'settings' } },
          { name: 'scratch', emptyDir: {} },
        ],
      );
      const podDir = join(root, 'mounts');
      const volumes = await materializeVolumes(cluster.client, p, podDir);
      const config = join(podDir, 'volumes', 'config');
      const scratch = join(podDir, 'volumes', 'scratch');
      expect(containerMounts(container, volumes, { pod: p, env: [{ name: 'POD', value: 'web-0' }] })).toEqual(
        [
          { hostPath: config, containerPath: '/etc/config', readOnly: true },
          { hostPath: join(config, 'app.conf'), containerPath: '/etc/app.conf', readOnly: true },
          { hostPath: join(scratch, 'work/area'), containerPath: '/tmp/work', readOnly: false },
          { hostPath: scratch, containerPath: '/data', readOnly: true },
          { hostPath: join(scratch, 'web-0'), containerPath: '/per-pod', readOnly: false },
        ],
      );
      expect((await stat(join(scratch, 'work/area'))).isDirectory()).toBe(true);

      await removePodVolumes(podDir);
      await expect(stat(join(podDir, 'volumes'))).rejects.toThrow();
    });

    it('rejects a mount of an unknown volume and a sub-path leaving its volume', () => {
      const volumes = new Map([['scratch', join(root, 'x')]]);
      expect(() =>
        containerMounts({ name: 'app', volumeMounts: [{ name: 'nope', mountPath: '/x' }] }, volumes),
      ).toThrow(new ConfigError('cannot find volume "nope" to mount into container "app"'));
      expect(() =>
        containerMounts(
          { name: 'app', volumeMounts: [{ name: 'scratch', mountPath: '/x', subPath: '../up' }] },
          volumes,
        ),
      ).toThrow(ConfigError);
    });
  });

  describe('the API access volume', () => {
    it('projects a token bound to the pod, the CA and the namespace, which an in-cluster client uses', async () => {
      await cluster.client.create(resourceType('serviceaccounts'), {
        metadata: { name: 'default', namespace: 'default' },
      });
      await cluster.client.create<ConfigMap>(configMaps, {
        metadata: { name: 'kube-root-ca.crt', namespace: 'default' },
        data: { 'ca.crt': cluster.caCert },
      });
      // Admission adds the volume now that the service account exists.
      const stored = await cluster.client.create<Pod>(resourceType('pods'), {
        metadata: { name: 'in-cluster', namespace: 'default' },
        spec: { containers: [{ name: 'app', image: 'busybox' }] },
      } as Pod);
      const volume = (stored.spec.volumes as Volume[]).find((v) =>
        v.name.startsWith('kube-api-access-'),
      ) as Volume;
      let now = Date.now();
      const tokens = new ServiceAccountTokens(cluster.client, () => now);
      const podDir = join(root, 'in-cluster');
      const dir = (await materializeVolumes(cluster.client, stored, podDir, tokens)).get(
        volume.name,
      ) as string;
      expect((await readdir(dir)).filter((e) => !e.startsWith('..')).sort()).toEqual([
        'ca.crt',
        'namespace',
        'token',
      ]);
      expect(await readFile(join(dir, 'namespace'), 'utf8')).toBe('default');
      const token = await readFile(join(dir, 'token'), 'utf8');

      // @kubernetes/client-node's in-cluster configuration, from these files and the agent's variables.
      const prefix = join(root, 'in-cluster-root');
      await mkdir(join(prefix, 'var/run/secrets/kubernetes.io'), { recursive: true });
      await symlink(dir, join(prefix, 'var/run/secrets/kubernetes.io/serviceaccount'));
      const variables = withApiServerEnv([], cluster.url);
      const saved = variables.map((v) => [v.name, process.env[v.name]] as const);
      for (const v of variables) process.env[v.name] = v.value;
      try {
        const config = new KubeConfig();
        config.loadFromCluster(prefix);
        const review = await config.makeApiClient(AuthenticationV1Api).createSelfSubjectReview({
          body: { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' },
        });
        expect(review.status?.userInfo).toMatchObject({
          username: 'system:serviceaccount:default:default',
          extra: { 'authentication.kubernetes.io/pod-name': ['in-cluster'] },
        });
      } finally {
        for (const [name, value] of saved) {
          if (value === undefined) delete process.env[name];
          else process.env[name] = value;
        }
      }

      // The same token until 80% of its life has passed, then a new one.
      await materializeVolumes(cluster.client, stored, podDir, tokens);
      expect(await readFile(join(dir, 'token'), 'utf8')).toBe(token);
      now += 0.81 * 3607 * 1000;
      await materializeVolumes(cluster.client, stored, podDir, tokens);
      expect(await readFile(join(dir, 'token'), 'utf8')).not.toBe(token);
    });
  });
});
