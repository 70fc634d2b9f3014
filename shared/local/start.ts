/**
 * `npm start`: a Lambernetes cluster on this machine. Options: --in-memory (throwaway database),
 * --port N (default 6443), --data-dir DIR (default .lambernetes).
 */
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { startLocalCluster } from './cluster.js';

const { values } = parseArgs({
  options: {
    'in-memory': { type: 'boolean', default: false },
    port: { type: 'string', default: '6443' },
    'data-dir': { type: 'string', default: '.lambernetes' },
  },
});

const dataDir = resolve(values['data-dir']);
const cluster = await startLocalCluster({
  dataDir,
  inMemory: values['in-memory'],
  port: Number(values.port),
});
console.log(`Lambernetes is serving the Kubernetes API at ${cluster.url}${values['in-memory'] ? ' (in memory)' : ` (data in ${dataDir})`}.

Point kubectl at it:
  export KUBECONFIG=${cluster.kubeconfigPath}
  kubectl get --raw /readyz
  kubectl get namespaces

Press Ctrl-C to stop.`);

let stopping = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    console.log('\nStopping…');
    cluster.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        console.error(error);
        process.exit(1);
      },
    );
  });
}
