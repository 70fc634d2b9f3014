/** A kubeconfig for kubectl: one cluster (trusted through its CA), one token user, one current context. */
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { stringify } from 'yaml';

export interface KubeconfigOptions {
  /** Names the cluster and the context. */
  clusterName: string;
  /** The apiserver's URL, e.g. `https://127.0.0.1:6443`. */
  server: string;
  /** PEM of the CA that signed the server's certificate; absent: the system's public roots (AWS). */
  caCert?: string;
  /** The user entry's name. */
  user: string;
  /** Sent as `Authorization: Bearer <token>`. */
  token: string;
  /** The context's default namespace. */
  namespace?: string;
}

/** The kubeconfig as YAML (apiVersion v1, kind Config), its CA (if any) inlined as `certificate-authority-data`. */
export function kubeconfigYaml(options: KubeconfigOptions): string {
  const { clusterName, server, caCert, user, token, namespace } = options;
  const config = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [
      {
        name: clusterName,
        cluster: {
          server,
          ...(caCert ? { 'certificate-authority-data': Buffer.from(caCert, 'utf8').toString('base64') } : {}),
        },
      },
    ],
    users: [{ name: user, user: { token } }],
    contexts: [
      {
        name: clusterName,
        context: { cluster: clusterName, user, ...(namespace ? { namespace } : {}) },
      },
    ],
    'current-context': clusterName,
    preferences: {},
  };
  // The base64 CA stays on one line, as kubectl itself writes it (folded scalars read the same).
  return stringify(config, { lineWidth: 0 });
}

/** Writes `kubeconfigYaml(options)` to `path` with mode 0600, creating its folder. */
export async function writeKubeconfig(path: string, options: KubeconfigOptions): Promise<void> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  // A fresh file (mode applies only on creation) renamed over the old one: the token is never readable
  // by others, not even briefly, and a reader never sees half a file.
  const temporary = `${path}.${process.pid}.${Date.now()}.tmp`;
  await writeFile(temporary, kubeconfigYaml(options), { mode: 0o600, flag: 'wx' });
  await rename(temporary, path);
}
