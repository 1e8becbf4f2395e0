// Integration tests inside a real VS Code: code-server (VS Code's server and workbench) in
// headless Chromium, driven through @vscode/test-electron's runTests() with a shim executable.
// By default it tests the packaged extension: `npm run package`'s .vsix, installed into a fresh
// extensions folder with code-server --install-extension — what a user installs.
//
//   node scripts/vscode-test.mjs [--dev] [--grep TEXT] [--timeout SEC] [--verbose] [--keep]
//     --dev       load the working tree as a development extension instead of the .vsix
//     --grep      run only the tests whose full title contains TEXT
//     --timeout   limit for the test run in the browser (default 1500 s, which covers the Linux
//                 guest's boot; 300 s with VIRT_STUDIO_LINUX_BOOT=0); the whole script also
//                 stops after 40 min (a cold tools install takes ≈ 3 min)
//     --verbose   echo code-server's and the workbench's logs
//     --keep      keep the temporary state folder (logs, workspace) and print where it is
// Everything in the browser runs inside a loopback-only network namespace (unshare -n).
// The last line printed is "N passed, N failed".
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';
import { ensureTools, toolEnv } from './vscode-tools.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const extensionId = `${manifest.publisher}.${manifest.name}`;
const started = Date.now();

function option(name, fallback) {
  const i = process.argv.indexOf(name);
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1] : fallback;
}
const dev = process.argv.includes('--dev');
const verbose = process.argv.includes('--verbose');
const keep = process.argv.includes('--keep');
const grep = option('--grep', '');
// The default covers the Linux guest's boot to its shell (debug.test.ts), unless VIRT_STUDIO_LINUX_BOOT=0.
const runTimeoutSec = Number(option('--timeout', process.env.VIRT_STUDIO_LINUX_BOOT === '0' ? '300' : '1500'));
if (!(runTimeoutSec > 0)) finish(0, 1, '--timeout needs a number of seconds');

const say = (msg) => console.log(`vscode-test: ${msg}`);
const seconds = (since) => `${((Date.now() - since) / 1000).toFixed(1)} s`;

/** Ends the run: always with the closing line that scripts/test.mjs reads. */
function finish(passed, failed, why) {
  if (why) process.stderr.write(`vscode-test: ${why}\n`);
  console.log(`vscode-test: total ${seconds(started)}`);
  console.log(`${passed} passed, ${failed} failed`);
  process.exit(failed > 0 || passed === 0 ? 1 : 0);
}

const overall = setTimeout(() => finish(0, 1, 'gave up after 40 min'), 40 * 60_000);
overall.unref();

function step(label, cmd, args, options = {}) {
  const t = Date.now();
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'pipe', encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, ...options });
  const out = `${r.stdout ?? ''}${r.stderr ?? ''}`.trim();
  if (r.error || r.status !== 0) {
    finish(0, 1, `${label} failed (${r.error?.message ?? `exit ${r.status ?? r.signal}`})${out ? `:\n${out}` : ''}`);
  }
  if (verbose && out) console.log(out);
  say(`${label}: ${seconds(t)}`);
  return r.stdout ?? '';
}

// ---- tools: Node 24 + code-server (cached) -----------------------------------------------------
let tools;
try {
  const t = Date.now();
  tools = await ensureTools();
  say(`tools ready (code-server ${tools.codeServerVersion}, Node ${tools.nodeVersion}): ${seconds(t)}`);
} catch (err) {
  finish(0, 1, `cannot install the VS Code test host: ${err.message}`);
}
for (const [what, path] of [['Chromium (Debian package chromium)', '/usr/bin/chromium'], ['unshare (util-linux)', '/usr/bin/unshare']]) {
  if (!existsSync(path)) finish(0, 1, `${what} is missing: run npm run setup`);
}
if (spawnSync('ip', ['-V']).error) finish(0, 1, 'ip (Debian package iproute2) is missing: run npm run setup');

// ---- state folder: workspace, extensions, user data, results ----------------------------------
const state = mkdtempSync(join(tmpdir(), 'virt-studio-vscode-test-'));
const extensionsDir = join(state, 'extensions');
const userDataDir = join(state, 'user-data');
const workspace = join(state, 'workspace');
const resultsFile = join(state, 'results.json');
const logFile = join(state, 'tests.log');
mkdirSync(extensionsDir, { recursive: true });
mkdirSync(workspace, { recursive: true });
mkdirSync(join(state, 'tmp'));
for (const f of ['domain.xml', 'lvm.conf']) cpSync(join(root, 'examples', f), join(workspace, f));
cpSync(join(root, 'test', 'vscode', 'fixtures'), workspace, { recursive: true });
// The sample disk image (qcow2 → GPT → LVM → ext4) for the Disk Images view's test; made once
// in the test cache, copied into each run's workspace.
const sampleImage = join(root, 'test', '.cache', 'vscode', 'sample.qcow2');
mkdirSync(dirname(sampleImage), { recursive: true });
step('make the sample disk image', 'bash', [join(root, 'examples', 'make-sample-image.sh'), sampleImage]);
cpSync(sampleImage, join(workspace, 'sample.qcow2'));
// The Linux guest for debug.test.ts (Debian packages fetched with apt): made here, in the test
// cache, because the browser's namespace has no network.
if (process.env.VIRT_STUDIO_LINUX_BOOT !== '0') {
  step('make the Linux guest', process.execPath, ['--import', 'tsx', '-e',
    "import('./test/unit/machine/fixtures.ts').then((m) => (m.linuxGuest ?? m.default.linuxGuest)())"]);
}
writeFileSync(logFile, '');

// ---- the extension under test -----------------------------------------------------------------
let extensionDevelopmentPath;
if (dev) {
  step('build', 'node', ['scripts/build.mjs']);
  extensionDevelopmentPath = root;
} else {
  const vsix = join(state, `${manifest.name}-${manifest.version}.vsix`);
  step('package (npm run package)', 'node', ['scripts/package.mjs', '--out', vsix]);
  // Installing needs no network; an empty gallery makes sure nothing is looked up.
  const out = step('install the .vsix into code-server', tools.nodeBin, [tools.codeServerEntry,
    '--extensions-dir', extensionsDir, '--user-data-dir', userDataDir, '--install-extension', vsix],
  { env: { ...toolEnv(tools), EXTENSIONS_GALLERY: '{}', XDG_DATA_HOME: join(state, 'xdg'), XDG_CONFIG_HOME: join(state, 'xdg') } });
  if (!/successfully installed/i.test(out) || !readdirSync(extensionsDir).some((d) => d.startsWith(`${extensionId}-`))) {
    finish(0, 1, `code-server did not install ${vsix}:\n${out}`);
  }
  // runTests() needs a development extension: an empty one, so the extension under test is
  // the installed copy, not the working tree.
  extensionDevelopmentPath = join(state, 'test-host-extension');
  mkdirSync(extensionDevelopmentPath);
  writeFileSync(join(extensionDevelopmentPath, 'package.json'), JSON.stringify({
    name: 'virt-studio-test-host', publisher: manifest.publisher, version: '0.0.0',
    description: 'Carries the Virt Studio integration tests.', engines: { vscode: manifest.engines.vscode },
  }, null, 2));
}

// ---- the tests, bundled (the extension host cannot run TypeScript) ----------------------------
const testsOut = join(root, 'out', 'vscode-test');
{
  const t = Date.now();
  rmSync(testsOut, { recursive: true, force: true });
  const suites = readdirSync(join(root, 'test', 'vscode', 'suite')).filter((f) => f.endsWith('.test.ts'));
  await esbuild.build({
    entryPoints: [join(root, 'test', 'vscode', 'index.ts'), ...suites.map((f) => join(root, 'test', 'vscode', 'suite', f))],
    outdir: testsOut,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    external: ['vscode', 'mocha'],
    sourcemap: 'inline',
    logLevel: 'warning',
  }).catch((err) => finish(0, 1, `bundling the tests failed: ${err.message}`));
  say(`bundle ${suites.length} test files: ${seconds(t)}`);
}

// ---- run, inside a network namespace with only loopback ---------------------------------------
const runFile = join(state, 'run.json');
writeFileSync(runFile, JSON.stringify({
  extensionDevelopmentPath,
  extensionTestsPath: join(testsOut, 'index.js'),
  workspace,
  extensionsDir,
  userDataDir,
  env: {
    VIRT_STUDIO_TEST_RESULTS: resultsFile,
    VIRT_STUDIO_TEST_LOG: logFile,
    VIRT_STUDIO_TEST_MODE: dev ? 'development' : 'installed',
    VIRT_STUDIO_TEST_EXTENSION_ID: extensionId,
    VIRT_STUDIO_TEST_EXTENSION_VERSION: manifest.version,
    VIRT_STUDIO_TEST_EXTENSIONS_DIR: extensionsDir,
    VIRT_STUDIO_TEST_REPO: root,
    VIRT_STUDIO_TEST_GREP: grep,
    VIRT_STUDIO_SHIM_VERBOSE: verbose ? '1' : '0',
    VIRT_STUDIO_KEEP_STATE: keep ? '1' : '0',
  },
}, null, 2));

// A network namespace with only loopback, and a PID namespace so that everything started inside
// (code-server, its extension host, language server, Chromium) ends with the run, however it ends.
const netns = [...(process.getuid?.() === 0 ? [] : ['--map-root-user']), '--net', '--pid', '--fork', '--kill-child', '--mount-proc'];
const runStarted = Date.now();
say(`running the tests in code-server + Chromium (loopback-only network namespace, limit ${runTimeoutSec} s)`);
const child = spawn('unshare', [...netns, '--', 'sh', '-c', 'ip link set lo up && exec "$@"', 'sh',
  process.execPath, join(root, 'test', 'vscode', 'host', 'run-tests.mjs'), runFile], {
  cwd: root, stdio: ['ignore', 'inherit', 'inherit'], detached: true,
  // The shim's own temporary folders land in the state folder too, so they go with it.
  env: { ...process.env, TMPDIR: join(state, 'tmp') },
});
let timedOut = false;
const runTimer = setTimeout(() => {
  timedOut = true;
  process.stderr.write(`vscode-test: the test run exceeded ${runTimeoutSec} s; stopping it\n`);
  try { process.kill(-child.pid, 'SIGKILL'); } catch { /* already gone */ }
}, runTimeoutSec * 1000);
const stopChild = () => { try { process.kill(-child.pid, 'SIGKILL'); } catch { /* gone */ } process.exit(130); };
process.once('SIGINT', stopChild);
process.once('SIGTERM', stopChild);
const code = await new Promise((r) => child.on('close', (c, sig) => r(c ?? sig)));
clearTimeout(runTimer);
say(`test run: exit ${code} in ${seconds(runStarted)}`);

// ---- counts ------------------------------------------------------------------------------------
let results;
try {
  results = JSON.parse(readFileSync(resultsFile, 'utf8'));
} catch {
  results = undefined;
}
if (keep) say(`state kept in ${state}`);
else rmSync(state, { recursive: true, force: true });
if (!results) finish(0, 1, timedOut ? 'timed out before the tests reported' : 'the tests reported no results (see the output above)');
let failed = results.failed + (timedOut ? 1 : 0);
// A run that exits non-zero although every test passed failed somewhere else (e.g. the host).
if (code !== 0 && failed === 0) failed = 1;
finish(results.passed, failed, timedOut ? 'timed out' : undefined);
