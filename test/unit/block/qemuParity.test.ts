// Every image variant the fixture recipe builds with qemu-img/qemu-io must convert to exactly the
// bytes `qemu-img convert -O raw` produces, and `image info --json` must agree with
// `qemu-img info --output=json` on every field qemu-img reports.
import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLI, runCli } from '../../support/cli';
import { blockFixtures, type Variant } from '../../fixtures/block/images';

const sha256 = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');

function qemuRaw(dir: string, v: Variant, out: string): void {
  const args = ['convert', ...(v.qemuFormat ? ['-f', v.qemuFormat] : []), ...(v.snapshot ? ['-l', `snapshot.name=${v.snapshot}`] : []), '-O', 'raw', v.file, out];
  execFileSync('qemu-img', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
}

describe('block: byte-identical conversion and info against qemu-img', function () {
  this.timeout(120_000);
  const { dir, variants } = blockFixtures();
  let work: string;
  before(() => {
    if (!existsSync(CLI)) throw new Error('dist/cli.js is missing: run `npm run build` first');
    work = mkdtempSync(join(tmpdir(), 'vs-block-'));
  });
  after(() => rmSync(work, { recursive: true, force: true }));

  for (const v of variants) {
    it(`convert: ${v.name}`, () => {
      const ours = join(work, 'ours.raw');
      let theirs = join(work, 'qemu.raw');
      if (v.expected) theirs = join(dir, v.expected); else qemuRaw(dir, v, theirs);
      const r = runCli(['image', 'convert', ...(v.snapshot ? ['-l', v.snapshot] : []), v.file, ours], { cwd: dir });
      assert.equal(r.status, 0, r.stderr);
      assert.equal(statSync(ours).size, statSync(theirs).size, 'virtual size');
      assert.equal(sha256(ours), sha256(theirs));
    });
  }

  for (const v of variants.filter((x) => !x.snapshot && !x.expected)) {
    it(`info: ${v.name}`, () => {
      const theirs = JSON.parse(execFileSync('qemu-img', ['info', ...(v.qemuFormat ? ['-f', v.qemuFormat] : []), '--output=json', v.file], { cwd: dir, encoding: 'utf8' }));
      const r = runCli(['image', 'info', '--json', v.file], { cwd: dir });
      assert.equal(r.status, 0, r.stderr);
      const ours = JSON.parse(r.stdout);
      for (const key of Object.keys(theirs)) assert.deepEqual(ours[key], theirs[key], `field "${key}"`);
    });
  }
});
