// Runs a fixture script once per content of the script: the output folder is kept in
// test/.cache/<name> and remade only when the script changes.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO } from './cli';

export function cachedFixtures(name: string, script: string, timeoutMs = 300_000): string {
  const scriptPath = join(REPO, script);
  const hash = createHash('sha256').update(readFileSync(scriptPath)).digest('hex').slice(0, 16);
  const dir = join(REPO, 'test', '.cache', name);
  const stamp = join(dir, '.stamp');
  if (existsSync(stamp) && readFileSync(stamp, 'utf8') === hash) return dir;
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  execFileSync('bash', [scriptPath, dir], { stdio: ['ignore', 'ignore', 'inherit'], timeout: timeoutMs });
  writeFileSync(stamp, hash);
  return dir;
}
