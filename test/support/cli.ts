// Runs the built CLI (dist/cli.js) the way users and scripts do, capturing its output.
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';

export const REPO = resolve(__dirname, '..', '..');
export const CLI = resolve(REPO, 'dist', 'cli.js');

export interface CliResult { status: number | null; stdout: string; stderr: string }

export function runCli(args: string[], options: { input?: string; cwd?: string; timeoutMs?: number } = {}): CliResult {
  const r = spawnSync(process.execPath, [CLI, ...args], {
    cwd: options.cwd ?? REPO, input: options.input, encoding: 'utf8', timeout: options.timeoutMs ?? 60_000,
    maxBuffer: 256 * 1024 * 1024,
  });
  if (r.error) throw r.error;
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}
