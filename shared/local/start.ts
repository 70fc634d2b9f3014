/**
 * `npm start`: a Lambernetes cluster on this machine. Options: --in-memory (throwaway database),
 * --port N (default 6443), --data-dir DIR (default .lambernetes), --nodes N (worker nodes running
 * containers through Podman, default 2; 0 for the control plane alone).
 */
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { startLocalCluster } from './cluster.js';
import { busyboxImage } from './podman.js';

const { values } = parseArgs({
  options: {
    'in-memory': { type: 'boolean', default: false },
    port: { type: 'string', default: '6443' },
    'data-dir': { type: 'string', default: '.lambernetes' },
    nodes: { type: 'string', default: '2' },
  },
});

const dataDir = resolve(values['data-dir']);
const cluster = await startLocalCluster({
  dataDir,
  inMemory: values['in-memory'],
  port: Number(values.port),
  agents: Number(values.nodes),
});
const workers =
  cluster.nodes.length > 0
    ? `Worker nodes ${cluster.nodes.join(', ')} run pods as Podman containers (image ${busyboxImage} is there, no registry needed):
  kubectl get nodes
  kubectl run web --image=${busyboxImage} -- httpd -f -p 8080 -h /www
  kubectl get pod web -o wide      # then: curl http://<pod IP>:8080/`
    : cluster.agentsUnavailable
      ? `No worker nodes: ${cluster.agentsUnavailable}. The control plane runs; pods wait unscheduled.`
      : 'No worker nodes (--nodes 0): pods wait unscheduled.';
console.log(`Lambernetes is serving the Kubernetes API at ${cluster.url}${values['in-memory'] ? ' (in memory)' : ` (data in ${dataDir})`}.

Point kubectl at it:
  export KUBECONFIG=${cluster.kubeconfigPath}
  kubectl get --raw /readyz
  kubectl get namespaces

${workers}

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
