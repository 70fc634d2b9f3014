import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { kubeconfigYaml, writeKubeconfig } from '../../shared/local/kubeconfig.js';

const caCert = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';
const options = {
  clusterName: 'lambernetes',
  server: 'https://127.0.0.1:6443',
  caCert,
  user: 'admin',
  token: 'secret-token',
};

const folders: string[] = [];
afterEach(async () => {
  await Promise.all(folders.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

describe('kubeconfig', () => {
  it('names one cluster trusted through its inlined CA, one token user and the current context', () => {
    const config = parse(kubeconfigYaml({ ...options, namespace: 'team-a' }));
    expect(config).toEqual({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [
        {
          name: 'lambernetes',
          cluster: {
            server: 'https://127.0.0.1:6443',
            'certificate-authority-data': Buffer.from(caCert).toString('base64'),
          },
        },
      ],
      users: [{ name: 'admin', user: { token: 'secret-token' } }],
      contexts: [
        { name: 'lambernetes', context: { cluster: 'lambernetes', user: 'admin', namespace: 'team-a' } },
      ],
      'current-context': 'lambernetes',
      preferences: {},
    });
  });

  it('leaves the namespace out when none is given', () => {
    const config = parse(kubeconfigYaml(options));
    expect(config.contexts[0].context).toEqual({ cluster: 'lambernetes', user: 'admin' });
  });

  it('writes the file readable by its owner only, creating the folder and replacing an open file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'lambernetes-kubeconfig-'));
    folders.push(dir);
    const path = join(dir, 'nested', '.kube', 'config');
    await writeKubeconfig(path, options);
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    expect(parse(await readFile(path, 'utf8')).users[0].user.token).toBe('secret-token');

    const open = join(dir, 'open-config');
    await writeFile(open, 'old', { mode: 0o644 });
    await writeKubeconfig(open, { ...options, token: 'next' });
    expect((await stat(open)).mode & 0o777).toBe(0o600);
    expect(parse(await readFile(open, 'utf8')).users[0].user.token).toBe('next');
  });
});
