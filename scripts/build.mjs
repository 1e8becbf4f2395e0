// Bundles every entry point with esbuild. `--watch` rebuilds on change, `--production` minifies.
import * as esbuild from 'esbuild';
import { chmodSync, copyFileSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const watch = process.argv.includes('--watch');
const production = process.argv.includes('--production');

/** One bundle per process the extension starts; `vscode` is only ever provided by the host. */
const entries = [
  { in: 'client/src/extension.ts', out: 'extension' },
  { in: 'server/src/server.ts', out: 'server' },
  { in: 'emulator/src/worker/main.ts', out: 'worker' },
  { in: 'client/src/debugAdapter/main.ts', out: 'debugAdapter' },
  { in: 'client/src/cli/main.ts', out: 'cli', banner: '#!/usr/bin/env node' },
];

const contexts = await Promise.all(entries.map((e) => esbuild.context({
  entryPoints: { [e.out]: e.in },
  outdir: 'dist',
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  external: ['vscode'],
  sourcemap: production ? false : 'linked',
  minify: production,
  keepNames: true,
  logLevel: 'warning',
  banner: e.banner ? { js: e.banner } : undefined,
})));

// iced-x86 loads its WebAssembly from next to its own script, which after bundling is dist/.
const require = createRequire(import.meta.url);
mkdirSync('dist', { recursive: true });
copyFileSync(join(dirname(require.resolve('iced-x86')), 'iced_x86_bg.wasm'), 'dist/iced_x86_bg.wasm');

if (watch) {
  await Promise.all(contexts.map((c) => c.watch()));
  console.log('watching for changes…');
} else {
  const results = await Promise.all(contexts.map((c) => c.rebuild()));
  await Promise.all(contexts.map((c) => c.dispose()));
  const errors = results.reduce((n, r) => n + r.errors.length, 0);
  if (errors) process.exit(1);
  chmodSync('dist/cli.js', 0o755);
  console.log(`built ${entries.length} bundles into dist/`);
}
