// Makes the installable extension: a clean production build, libvirt's RelaxNG schemas bundled (so
// validation works on machines without libvirt installed), then `vsce package` → virt-studio-VERSION.vsix.
//
//   node scripts/package.mjs [--out FILE.vsix]
// Prints the .vsix path as its last line.
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const SYSTEM_SCHEMAS = '/usr/share/libvirt/schemas';
const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));

function fail(message) {
  process.stderr.write(`package: ${message}\n`);
  process.exit(1);
}

function outPath() {
  const i = process.argv.indexOf('--out');
  if (i >= 0) {
    if (!process.argv[i + 1]) fail('--out needs a file name');
    return resolve(process.argv[i + 1]);
  }
  return join(root, `${manifest.name}-${manifest.version}.vsix`);
}

function run(cmd, args) {
  const r = spawnSync(cmd, args, { cwd: root, stdio: ['ignore', 'inherit', 'inherit'] });
  if (r.error) fail(`cannot run ${cmd}: ${r.error.message}`);
  if (r.status !== 0) fail(`\`${cmd} ${args.join(' ')}\` failed (exit ${r.status ?? r.signal})`);
}

/** schemas/libvirt/ ← the machine's libvirt schemas (Debian package libvirt0). */
function copySchemas() {
  if (!existsSync(join(SYSTEM_SCHEMAS, 'domain.rng'))) {
    fail(`${SYSTEM_SCHEMAS}/domain.rng not found: install the Debian package libvirt0 (npm run setup does)`);
  }
  const dest = join(root, 'schemas', 'libvirt');
  rmSync(dest, { recursive: true, force: true });
  mkdirSync(dest, { recursive: true });
  const files = readdirSync(SYSTEM_SCHEMAS).filter((f) => f.endsWith('.rng') && statSync(join(SYSTEM_SCHEMAS, f)).isFile());
  for (const f of files) copyFileSync(join(SYSTEM_SCHEMAS, f), join(dest, f));
  // The version the bundled copy belongs to, shown in the status bar when it is in use.
  const version = spawnSync('dpkg-query', ['-W', '-f=${Version}', 'libvirt0'], { encoding: 'utf8' });
  if (version.status === 0 && version.stdout.trim()) writeFileSync(join(dest, 'VERSION'), `${version.stdout.trim()}\n`);
  console.log(`package: bundled ${files.length} libvirt schemas from ${SYSTEM_SCHEMAS}`);
}

const started = Date.now();
const out = outPath();
copySchemas();
// A clean dist/: no source maps or stale bundles from development builds end up in the package.
rmSync(join(root, 'dist'), { recursive: true, force: true });
// vsce runs the manifest's vscode:prepublish (build.mjs --production) before packing; everything
// the extension needs is bundled into dist/, so no node_modules go in (--no-dependencies). There is
// no public repository yet, which vsce would otherwise ask about on a terminal.
run('npx', ['--no-install', 'vsce', 'package', '--no-dependencies', '--allow-missing-repository', '--out', out]);
const size = statSync(out).size;
console.log(`package: ${(size / 1024).toFixed(0)} KiB in ${((Date.now() - started) / 1000).toFixed(1)} s`);
console.log(out);
