#!/usr/bin/env node
// A stand-in for the `code` executable that @vscode/test-electron's runTests() starts: it takes
// the same command line (--extensionDevelopmentPath=, --extensionTestsPath=, --extensions-dir=,
// --user-data-dir=, a folder to open) and runs the extension tests in a real VS Code workbench —
// code-server in headless Chromium — instead of Electron, which cannot be downloaded here.
// Its exit code is the tests' exit code, as with the real executable.
//
// It uses the mechanism VS Code's own browser integration tests use: a workbench URL whose
// payload names the development extension and the tests module, a server started with
// --enable-smoke-test-driver (otherwise a built product ignores that payload), and
// window.codeAutomationExit(code), which the workbench calls when the tests' run() settles.
//
// Run it inside a loopback-only network namespace (scripts/vscode-test.mjs does); in addition,
// every request the browser makes to a host other than loopback is aborted here.
//
// The extension host cannot see the workbench's DOM, and code-server has no command that exposes
// the editor's tokens. So the shim serves a loopback-only "workbench probe" that the tests reach
// through VIRT_STUDIO_WORKBENCH_PROBE (see workbenchProbe.mjs): it reads what the browser actually
// rendered for an open editor — each line's token spans with their computed colours.
//
// Environment: VIRT_STUDIO_TEST_LOG (a file the tests append progress to: echoed here as it
// grows), VIRT_STUDIO_SHIM_VERBOSE=1 (echo the workbench's and code-server's own logs).
import { spawn } from 'node:child_process';
import { closeSync, mkdirSync, mkdtempSync, openSync, readSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium } from 'playwright-core';
import { toolEnv, toolPaths } from '../../../scripts/vscode-tools.mjs';
import { startWorkbenchProbe } from './workbenchProbe.mjs';

const CHROMIUM = '/usr/bin/chromium';
const verbose = process.env.VIRT_STUDIO_SHIM_VERBOSE === '1';
const say = (msg) => process.stdout.write(`[code-server-shim] ${msg}\n`);

// ---- the `code` command line ------------------------------------------------------------------
const devPaths = [];
let testsPath;
let extensionsDir;
let userDataDir;
let folder;
for (const arg of process.argv.slice(2)) {
  const m = /^--([^=]+)=(.*)$/s.exec(arg);
  if (m) {
    if (m[1] === 'extensionDevelopmentPath') devPaths.push(resolve(m[2]));
    else if (m[1] === 'extensionTestsPath') testsPath = resolve(m[2]);
    else if (m[1] === 'extensions-dir') extensionsDir = resolve(m[2]);
    else if (m[1] === 'user-data-dir') userDataDir = resolve(m[2]);
    // Electron-only switches (--no-sandbox, --disable-gpu-sandbox, ...) mean nothing here.
  } else if (!arg.startsWith('-')) {
    folder = resolve(arg);
  }
  // --disable-workspace-trust, --skip-welcome, --disable-updates: applied below in any case.
}
if (!testsPath || devPaths.length === 0) {
  process.stderr.write('code-server-shim: needs --extensionTestsPath= and --extensionDevelopmentPath=\n');
  process.exit(2);
}

// ---- isolated state ---------------------------------------------------------------------------
const state = mkdtempSync(join(tmpdir(), 'virt-studio-code-server-'));
userDataDir ??= join(state, 'user-data');
extensionsDir ??= join(state, 'extensions');
for (const d of ['xdg-data', 'xdg-config', 'xdg-cache', 'runtime', 'tmp', 'chromium']) mkdirSync(join(state, d), { recursive: true });
mkdirSync(join(userDataDir, 'User'), { recursive: true });
mkdirSync(extensionsDir, { recursive: true });
writeFileSync(join(state, 'config.yaml'), 'auth: none\ncert: false\n');
writeFileSync(join(userDataDir, 'User', 'settings.json'), JSON.stringify({
  'telemetry.telemetryLevel': 'off',
  'chat.disableAIFeatures': true,
  'chat.commandCenter.enabled': false,
  'workbench.enableExperiments': false,
  'workbench.startupEditor': 'none',
  'workbench.tips.enabled': false,
  'extensions.autoCheckUpdates': false,
  'extensions.autoUpdate': false,
  'update.mode': 'none',
  'security.workspace.trust.enabled': false,
  'git.enabled': false,
  'git.openRepositoryInParentFolders': 'never',
}, null, 2));

// The page is set once the workbench is open; the probe answers 503 until then.
let page;
const probe = await startWorkbenchProbe(() => page);

const tools = toolPaths();
const env = {
  ...toolEnv(tools),
  XDG_DATA_HOME: join(state, 'xdg-data'),
  XDG_CONFIG_HOME: join(state, 'xdg-config'),
  XDG_CACHE_HOME: join(state, 'xdg-cache'),
  XDG_RUNTIME_DIR: join(state, 'runtime'),
  TMPDIR: join(state, 'tmp'),
  EXTENSIONS_GALLERY: '{}',
  // Inherited by the extension host, where the tests run.
  VIRT_STUDIO_WORKBENCH_PROBE: probe.url,
};
delete env.PORT; // code-server would take it over --bind-addr

// ---- code-server ------------------------------------------------------------------------------
const server = spawn(tools.nodeBin, [
  tools.codeServerEntry,
  '--config', join(state, 'config.yaml'),
  '--auth', 'none',
  '--bind-addr', '127.0.0.1:0',
  '--user-data-dir', userDataDir,
  '--extensions-dir', extensionsDir,
  '--disable-telemetry',
  '--disable-update-check',
  '--disable-workspace-trust',
  '--disable-getting-started-override',
  '--ignore-last-opened',
  '--vscode-option', 'enable-smoke-test-driver',
], { env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });

let serverLog = '';
const serverUrl = new Promise((resolveUrl, reject) => {
  const onData = (chunk) => {
    const text = chunk.toString();
    serverLog = (serverLog + text).slice(-20000);
    if (verbose) process.stdout.write(text.replace(/^/gm, '[code-server] '));
    const m = /HTTP server listening on (http:\/\/127\.0\.0\.1:\d+)\/?/.exec(serverLog);
    if (m) resolveUrl(m[1]);
  };
  server.stdout.on('data', onData);
  server.stderr.on('data', onData);
  server.on('exit', (code, signal) => reject(new Error(`code-server exited (${signal ?? code}) before listening:\n${serverLog.trim()}`)));
});

let exitCode = 1;
let browser;
let stopTail = () => {};
try {
  const base = await withTimeout(serverUrl, 60_000, 'code-server did not start listening');
  const authority = new URL(base).host;
  say(`code-server ${tools.codeServerVersion} on ${base} (state in ${state})`);

  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--disable-default-apps', '--disable-dev-shm-usage'],
    env: { ...process.env, HOME: join(state, 'chromium'), XDG_CONFIG_HOME: join(state, 'chromium'), XDG_CACHE_HOME: join(state, 'chromium') },
  });
  const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
  await context.route('**/*', (route) => {
    const { protocol, hostname } = new URL(route.request().url());
    const loopback = hostname === '127.0.0.1' || hostname === 'localhost' || hostname === '[::1]';
    if (loopback || protocol === 'data:' || protocol === 'blob:') return route.continue();
    if (verbose) say(`blocked ${route.request().url()}`);
    return route.abort('blockedbyclient');
  });
  page = await context.newPage();
  if (verbose) {
    page.on('console', (m) => say(`console.${m.type()}: ${m.text()}`));
    page.on('pageerror', (e) => say(`page error: ${e.message}`));
  }
  let onExit = () => {};
  const exited = new Promise((resolveExit) => { onExit = resolveExit; });
  await page.exposeFunction('codeAutomationExit', (code) => { onExit(code); });
  await page.exposeFunction('codeAutomationLog', (type, args) => {
    if (verbose || type === 'error') say(`workbench ${type}: ${Array.isArray(args) ? args.join(' ') : String(args)}`);
  });

  stopTail = tail(process.env.VIRT_STUDIO_TEST_LOG);
  const remote = (p) => `vscode-remote://${authority}${p}`;
  const payload = [
    ...devPaths.map((p) => ['extensionDevelopmentPath', remote(p)]),
    ['extensionTestsPath', remote(testsPath.replace(/\.js$/, ''))],
    ['skipWelcome', 'true'],
  ];
  const url = `${base}/?${folder ? `folder=${encodeURIComponent(folder)}&` : ''}payload=${encodeURIComponent(JSON.stringify(payload))}`;
  const started = Date.now();
  await page.goto(url, { waitUntil: 'domcontentloaded', timeout: 60_000 });
  await page.locator('.monaco-workbench').waitFor({ timeout: 60_000 });
  say(`workbench loaded in ${((Date.now() - started) / 1000).toFixed(1)} s; running ${testsPath}`);
  exitCode = await exited;
  say(`tests finished with exit code ${exitCode} after ${((Date.now() - started) / 1000).toFixed(1)} s`);
} catch (err) {
  process.stderr.write(`code-server-shim: ${err.message}\n`);
  if (!verbose && serverLog) process.stderr.write(`code-server-shim: code-server's last output:\n${serverLog.trim().split('\n').slice(-15).join('\n')}\n`);
  exitCode = 1;
} finally {
  stopTail();
  await browser?.close().catch(() => {});
  await stopServer();
  probe.close();
  if (process.env.VIRT_STUDIO_KEEP_STATE !== '1') rmSync(state, { recursive: true, force: true });
}
process.exit(typeof exitCode === 'number' ? exitCode : 1);

// ---- helpers -----------------------------------------------------------------------------------
function withTimeout(promise, ms, what) {
  let timer;
  return Promise.race([
    promise,
    new Promise((_, reject) => { timer = setTimeout(() => reject(new Error(`${what} within ${ms / 1000} s`)), ms); }),
  ]).finally(() => clearTimeout(timer));
}

/** Ends code-server and its children (extension host, language server, debug adapters). */
async function stopServer() {
  if (server.exitCode !== null || server.signalCode !== null) return;
  const gone = new Promise((r) => server.once('exit', r));
  try { process.kill(-server.pid, 'SIGTERM'); } catch { return; }
  const timer = setTimeout(() => { try { process.kill(-server.pid, 'SIGKILL'); } catch { /* gone */ } }, 5000);
  await gone;
  clearTimeout(timer);
}

/** Echoes what is appended to FILE while the tests run; returns a function that flushes and stops. */
function tail(file) {
  if (!file) return () => {};
  let offset = 0;
  const pump = () => {
    let size;
    try { size = statSync(file).size; } catch { return; }
    if (size <= offset) return;
    const fd = openSync(file, 'r');
    try {
      const buf = Buffer.alloc(size - offset);
      readSync(fd, buf, 0, buf.length, offset);
      offset = size;
      process.stdout.write(buf);
    } finally {
      closeSync(fd);
    }
  };
  const timer = setInterval(pump, 200);
  return () => { clearInterval(timer); pump(); };
}
