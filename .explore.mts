import { execFileSync, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { startFakeApiServer } from './test/openapi/fake-apiserver.ts';
const s = await startFakeApiServer();
const env = { ...process.env, HOME: s.home, KUBECONFIG: s.kubeconfig };
function run(args: string[], input?: string) {
  const r = spawnSync('/usr/bin/kubectl', ['--kubeconfig', s.kubeconfig, ...args], { env, input, encoding: 'utf8', timeout: 60000 });
  console.log('$ kubectl', args.join(' '), '->', r.status);
  console.log(r.stdout.slice(0, 1500)); console.log(r.stderr.split('\n').filter(l => !/round_trippers.go.*(Request Headers|    )|Response Body/.test(l)).join('\n').slice(0, 3000));
  console.log(JSON.stringify(s.requests.splice(0), null, 0));
}
run(['explain', 'deployment.spec.replicas', '-v=6']);
const typo = `apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  replicas: 1\n  selector:\n    matchLabels: {app: web}\n  template:\n    metadata:\n      labels: {app: web}\n    spec:\n      containers:\n      - name: web\n        image: nginx\n        imagePullPolic: Always\n`;
run(['create', '--dry-run=client', '--validate=strict', '-f', '-', '-o', 'yaml', '-v=6'], typo);
await s.close();
