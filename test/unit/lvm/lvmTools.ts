// Runs the real lvm2 tools for the tests, always against an isolated LVM_SYSTEM_DIR so the host's
// /etc/lvm is neither read nor written. Never uses `lvmconfig --file` (it writes).
import { execFile } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export type LvmVerdict = 'valid' | 'invalid' | 'syntax' | 'crash';

export interface ToolResult {
  rc: number;
  signal?: string;
  stdout: string;
  stderr: string;
}

export function runTool(cmd: string, args: string[], env: Record<string, string> = {}, timeoutMs = 30_000): Promise<ToolResult> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, {
      env: { ...process.env, LVM_SUPPRESS_FD_WARNINGS: '1', LC_ALL: 'C', ...env }, timeout: timeoutMs, maxBuffer: 16 << 20,
    }, (err, stdout, stderr) => {
      if (err && (err as NodeJS.ErrnoException).code === 'ENOENT') {
        reject(new Error(`${cmd} is not installed (apt-get install lvm2)`));
        return;
      }
      const e = err as (Error & { code?: number; signal?: string }) | null;
      resolve({ rc: e ? (typeof e.code === 'number' ? e.code : -1) : 0, signal: e?.signal ?? undefined, stdout, stderr });
    });
  });
}

export type ConfKind = 'conf' | 'command-profile' | 'metadata-profile';

/**
 * lvmconfig's verdict on a file: `lvmconfig --validate` with the file as the lvm.conf of an
 * isolated LVM_SYSTEM_DIR (or as a profile found through config/profile_dir).
 */
export async function lvmconfigVerdict(text: string, kind: ConfKind, dir: string): Promise<{ verdict: LvmVerdict; result: ToolResult }> {
  mkdirSync(join(dir, 'profile'), { recursive: true });
  const args = ['--validate'];
  if (kind === 'conf') {
    writeFileSync(join(dir, 'lvm.conf'), text);
  } else {
    writeFileSync(join(dir, 'lvm.conf'), `config { profile_dir = "${join(dir, 'profile')}" }\n`);
    writeFileSync(join(dir, 'profile', 'corpus.profile'), text);
    args.unshift(kind === 'command-profile' ? '--commandprofile' : '--metadataprofile', 'corpus');
  }
  const result = await runTool('lvmconfig', args, { LVM_SYSTEM_DIR: dir });
  let verdict: LvmVerdict;
  if (result.signal || result.rc >= 128 || result.rc < 0) verdict = 'crash';
  else if (result.rc === 0 && /LVM configuration valid/.test(result.stdout + result.stderr)) verdict = 'valid';
  else if (/Failed to load config file/.test(result.stderr)) verdict = 'syntax';
  else verdict = 'invalid';
  return { verdict, result };
}

/** Runs fn over items with at most `limit` in flight. */
export async function mapLimit<T, R>(items: T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i], i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}
