// Runs a fixture script from test/fixtures/machine into test/.cache/machine/<name>-<hash of the
// script and its inputs>, once; later runs reuse the output. A missing tool fails loudly.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';

export const ROOT = resolve(__dirname, '../../..');
const FIXTURES = join(ROOT, 'test/fixtures/machine');

/** `inputs`: other files (relative to test/fixtures/machine) the script reads: part of the cache key. */
export function machineFixture(script: string, inputs: string[] = []): string {
  const hash = createHash('sha256');
  for (const f of [script, ...inputs]) hash.update(readFileSync(resolve(FIXTURES, f)));
  const dir = join(ROOT, 'test/.cache/machine', `${script.replace(/\.sh$/, '')}-${hash.digest('hex').slice(0, 12)}`);
  if (existsSync(join(dir, '.done'))) return dir;
  const tmp = `${dir}.tmp`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  execFileSync('sh', [join(FIXTURES, script), tmp], { stdio: ['ignore', 'ignore', 'inherit'], cwd: ROOT });
  execFileSync('touch', [join(tmp, '.done')]);
  rmSync(dir, { recursive: true, force: true });
  renameSync(tmp, dir);
  return dir;
}

export function bootSectorGuest(): { raw: string; qcow2: string; bin: string } {
  const dir = machineFixture('make-bootsector.sh', ['bootsector.asm']);
  return { raw: join(dir, 'bootsector.raw'), qcow2: join(dir, 'bootsector.qcow2'), bin: join(dir, 'bootsector.bin') };
}

/**
 * Debian's 686 kernel and a busybox initramfs (downloads two .debs on first use), with the
 * kernel's release (`uname -r`) and Debian package version as the package states them.
 */
export function linuxGuest(): { kernel: string; initrd: string; release: string; debianVersion: string } {
  const dir = machineFixture('make-linux.sh', ['../../../examples/make-guests.sh']);
  const [release, debianVersion] = readFileSync(join(dir, 'vmlinuz-686.release'), 'utf8').trim().split('\n');
  return { kernel: join(dir, 'vmlinuz-686'), initrd: join(dir, 'initramfs.cpio.gz'), release, debianVersion };
}
