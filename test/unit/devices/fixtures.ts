// Runs a fixture script from test/fixtures/devices into test/.cache/devices/<name>-<hash of
// the script>, once; later runs reuse the output. A missing tool fails the test loudly.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';

const ROOT = resolve(__dirname, '../../..');

export function fixture(script: string, args: string[] = []): string {
  const path = join(ROOT, 'test/fixtures/devices', script);
  const hash = createHash('sha256').update(readFileSync(path)).digest('hex').slice(0, 12);
  const dir = join(ROOT, 'test/.cache/devices', `${script.replace(/\.sh$/, '')}-${hash}`);
  if (existsSync(join(dir, '.done'))) return dir;
  const tmp = `${dir}.tmp`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  execFileSync('sh', [path, tmp, ...args], { stdio: ['ignore', 'ignore', 'inherit'], cwd: ROOT });
  execFileSync('touch', [join(tmp, '.done')]);
  rmSync(dir, { recursive: true, force: true });
  renameSync(tmp, dir);
  return dir;
}
