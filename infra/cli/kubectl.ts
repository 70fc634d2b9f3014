import { execFile } from 'node:child_process';

/** The real kubectl, run with some arguments (and what it reads from stdin): its exit code and output. */
export type Kubectl = (
  args: string[],
  input?: string,
) => Promise<{ code: number; stdout: string; stderr: string }>;

/**
 * kubectl with a kubeconfig and a discovery cache of its own, or (without them) as the user's shell
 * would run it: `$KUBECONFIG` or `~/.kube/config`.
 */
export function kubectlWith(kubeconfig?: string, cacheDir?: string): Kubectl {
  const flags = [
    ...(kubeconfig ? ['--kubeconfig', kubeconfig] : []),
    ...(cacheDir ? ['--cache-dir', cacheDir] : []),
  ];
  return (args, input) =>
    new Promise((resolve) => {
      const child = execFile(
        'kubectl',
        [...flags, ...args],
        { timeout: 600_000, maxBuffer: 16 * 1024 * 1024 },
        (error, stdout, stderr) =>
          resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
      );
      child.stdin?.end(input);
    });
}
