// `npm start`: the whole IDE in a browser with one command. Installs the VS Code host if needed
// (Node 24 + code-server, cached), makes the sample disk image and the example guests, builds and packages the .vsix,
// installs it into a local code-server and serves examples/ on http://127.0.0.1:PORT until Ctrl-C.
//
//   npm start [-- --port N] [-- --no-package]
//     --port N       listen on N (default: a free port; PORT in the environment works too)
//     --no-package   reuse the .vsix from the last run instead of building a new one
// State (settings, installed extension, logs) lives in .vscode-test/code-server/ in the repository.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureTools, toolEnv } from './vscode-tools.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const examples = join(root, 'examples');
const state = join(root, '.vscode-test', 'code-server');
const vsix = join(root, `${manifest.name}-${manifest.version}.vsix`);

function fail(message) {
  process.stderr.write(`start: ${message}\n`);
  process.exit(1);
}

function option(name) {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

function step(label, cmd, args, options = {}) {
  console.log(`start: ${label}`);
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit', ...options });
  if (r.error) fail(`${label}: cannot run ${cmd}: ${r.error.message}`);
  if (r.status !== 0) fail(`${label} failed (exit ${r.status ?? r.signal})`);
}

function freePort() {
  return new Promise((resolvePort, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolvePort(port));
    });
  });
}

const requested = option('--port') ?? process.env.PORT;
if (requested !== undefined && !/^\d+$/.test(requested)) fail(`--port needs a number, got "${requested}"`);

let tools;
try {
  tools = await ensureTools();
} catch (err) {
  fail(`cannot install code-server: ${err.message}`);
}

step('making the sample disk image', 'bash', [join(examples, 'make-sample-image.sh')]);
// The guests the example domains boot (F5 on bootsector.xml, linux.xml): into libvirt's image
// folder, where the examples' absolute paths point. Not fatal: the IDE is useful without them.
console.log('start: making the example guests (examples/make-guests.sh)');
const guests = spawnSync('sh', [join(examples, 'make-guests.sh')], { cwd: root, stdio: 'inherit' });
if (guests.status !== 0) console.log('start: warning: the example guests could not be made; F5 on bootsector.xml/linux.xml needs them (see the message above)');
if (process.argv.includes('--no-package') && existsSync(vsix)) {
  console.log(`start: reusing ${vsix}`);
} else {
  step('building and packaging the extension', 'node', ['scripts/package.mjs', '--out', vsix]);
}

const userDataDir = join(state, 'user-data');
const extensionsDir = join(state, 'extensions');
const xdg = join(state, 'xdg');
mkdirSync(join(userDataDir, 'User'), { recursive: true });
mkdirSync(extensionsDir, { recursive: true });
mkdirSync(xdg, { recursive: true });
const settings = join(userDataDir, 'User', 'settings.json');
if (!existsSync(settings)) {
  // First start only: later changes made in the IDE are kept.
  writeFileSync(settings, JSON.stringify({
    'telemetry.telemetryLevel': 'off',
    'chat.disableAIFeatures': true,
    'workbench.startupEditor': 'none',
    'extensions.autoCheckUpdates': false,
    'extensions.autoUpdate': false,
  }, null, 2));
}
// No extension gallery: the IDE makes no requests beyond this machine (install other extensions
// from .vsix files).
const env = { ...toolEnv(tools), XDG_DATA_HOME: xdg, XDG_CONFIG_HOME: xdg, EXTENSIONS_GALLERY: '{}' };
delete env.PORT;
const common = ['--user-data-dir', userDataDir, '--extensions-dir', extensionsDir];
step(`installing ${vsix} into code-server`, tools.nodeBin, [tools.codeServerEntry, ...common, '--install-extension', vsix, '--force'], { env });

const port = requested ? Number(requested) : await freePort();
const server = spawn(tools.nodeBin, [
  tools.codeServerEntry, ...common,
  '--auth', 'none',
  '--bind-addr', `127.0.0.1:${port}`,
  '--disable-telemetry',
  '--disable-update-check',
  '--disable-getting-started-override',
  '--ignore-last-opened',
  examples,
], { env, stdio: ['ignore', 'pipe', 'pipe'] });

let announced = false;
const onOutput = (chunk) => {
  const text = chunk.toString();
  for (const line of text.split('\n')) if (line.trim()) console.log(`  code-server | ${line}`);
  if (!announced && /HTTP server listening on/.test(text)) {
    announced = true;
    const base = `http://127.0.0.1:${port}`;
    const openDomain = encodeURIComponent(JSON.stringify([['openFile', `vscode-remote://127.0.0.1:${port}${join(examples, 'domain.xml')}`]]));
    console.log([
      '',
      '  ┌──────────────────────────────────────────────────────────────',
      `  │ Virt Studio is running:  ${base}/?folder=${examples}`,
      `  │ with domain.xml open:    ${base}/?folder=${examples}&payload=${openDomain}`,
      '  │ Press Ctrl-C to stop.',
      '  └──────────────────────────────────────────────────────────────',
      '',
    ].join('\n'));
  }
};
server.stdout.on('data', onOutput);
server.stderr.on('data', onOutput);

const stop = () => {
  if (server.exitCode === null && server.signalCode === null) server.kill('SIGTERM');
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
server.on('exit', (code, signal) => {
  if (!announced) fail(`code-server exited (${signal ?? `exit ${code}`}) before it served anything; is port ${port} in use?`);
  console.log('start: code-server stopped');
  process.exit(0);
});
