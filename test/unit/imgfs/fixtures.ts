// Builds the binary fixtures with real tools (scripts in test/fixtures/imgfs/) into
// test/.cache/imgfs/<name>-<hash of the script>/, so a changed script rebuilds and reruns are free.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { resolve } from 'node:path';
import { FileDevice } from '../../../emulator/src/block/fileDevice';
import { openFileSystem } from '../../../emulator/src/fs/openFileSystem';
import type { VolumeFileSystem } from '../../../emulator/src/fs/volumeFs';

export const REPO = resolve(__dirname, '..', '..', '..');
const SCRIPTS = resolve(REPO, 'test', 'fixtures', 'imgfs');
const CACHE = resolve(REPO, 'test', '.cache', 'imgfs');

export function fixture(name: string): string {
  const script = resolve(SCRIPTS, `${name}.sh`);
  const hash = createHash('sha256').update(readFileSync(script)).update(readFileSync(resolve(SCRIPTS, 'common.sh'))).digest('hex').slice(0, 12);
  const dir = resolve(CACHE, `${name}-${hash}`);
  if (existsSync(resolve(dir, '.done'))) return dir;
  const tmp = `${dir}.tmp${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  const r = spawnSync('bash', [script, tmp], { encoding: 'utf8', timeout: 300_000, env: { ...process.env, LC_ALL: 'C', TZ: 'UTC' } });
  detachLoops(tmp);
  if (r.status !== 0) {
    rmSync(tmp, { recursive: true, force: true });
    throw new Error(`fixture ${name} failed (exit ${r.status ?? r.signal}): ${(r.stderr || r.error?.message || '').slice(-2000)}`);
  }
  rmSync(dir, { recursive: true, force: true });
  renameSync(tmp, dir);
  // Older builds of the same fixture (other script hashes) are dead weight: drop them.
  for (const old of readdirSync(CACHE)) if (old.startsWith(`${name}-`) && resolve(CACHE, old) !== dir && !old.includes('.tmp')) rmSync(resolve(CACHE, old), { recursive: true, force: true });
  spawnSync('touch', [resolve(dir, '.done')]);
  return dir;
}

/**
 * The scripts detach their loop devices themselves (trap on EXIT); this catches the case where a
 * script was killed (timeout) before it could, so no loop device outlives a test run.
 */
function detachLoops(dir: string): void {
  for (const name of readdirSync(dir)) {
    if (!name.endsWith('.img')) continue;
    const r = spawnSync('losetup', ['-j', resolve(dir, name), '-O', 'NAME', '-n'], { encoding: 'utf8' });
    for (const dev of (r.stdout ?? '').split('\n').map((l) => l.trim()).filter(Boolean)) spawnSync('losetup', ['-d', dev]);
  }
}

/** Runs a tool and returns its stdout; a missing tool or a failure fails the test loudly. */
export function tool(cmd: string, args: string[], opts: { encoding?: 'buffer'; env?: NodeJS.ProcessEnv } = {}): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 512 * 1024 * 1024, env: { ...process.env, LC_ALL: 'C', TZ: 'UTC', ...opts.env } });
  if (r.error) throw new Error(`${cmd} could not run: ${r.error.message}`);
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status}): ${r.stderr.slice(-1000)}`);
  return r.stdout;
}

export function toolBytes(cmd: string, args: string[]): Buffer {
  const r = spawnSync(cmd, args, { maxBuffer: 512 * 1024 * 1024, env: { ...process.env, LC_ALL: 'C', TZ: 'UTC' } });
  if (r.error) throw new Error(`${cmd} could not run: ${r.error.message}`);
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status}): ${r.stderr.toString().slice(-1000)}`);
  return r.stdout;
}

export async function openImageFs(path: string): Promise<{ fs: VolumeFileSystem; close: () => Promise<void> }> {
  const dev = await FileDevice.open(path);
  try {
    return { fs: await openFileSystem(dev), close: () => dev.close() };
  } catch (err) {
    await dev.close();
    throw err;
  }
}

export async function readAll(fs: VolumeFileSystem, path: string): Promise<Buffer> {
  const parts: Uint8Array[] = [];
  for await (const c of fs.stream(path)) parts.push(c);
  return Buffer.concat(parts);
}
