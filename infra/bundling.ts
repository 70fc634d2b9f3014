/**
 * How every bundle of the stack is built (the functions by NodejsFunction, the agent by `agentBundle`,
 * and bench:sizing's copies): one ESM file for Node.js 22, minified, with source maps, by the locally
 * installed esbuild.
 */
import type { BuildOptions } from 'esbuild';

/**
 * CommonJS dependencies bundled into ESM still call `require` for Node's built-ins and read
 * `__dirname`/`__filename` (ssh2, under dockerode), which ESM lacks: the banner defines them.
 */
export const esmBanner =
  "import { createRequire } from 'node:module'; import { fileURLToPath as __fileURLToPath } from 'node:url'; " +
  "import { dirname as __pathDirname } from 'node:path'; const require = createRequire(import.meta.url); " +
  'const __filename = __fileURLToPath(import.meta.url); const __dirname = __pathDirname(__filename);';

export const bundleTarget = 'node22';
/** Prefer packages' ESM builds. */
export const mainFields = ['module', 'main'];

/** The same, as esbuild's own options (NodejsFunction takes them under its own names). */
export const functionBundleOptions = {
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: bundleTarget,
  mainFields,
  banner: { js: esmBanner },
  minify: true,
  sourcemap: true,
  logLevel: 'error',
} satisfies BuildOptions;
