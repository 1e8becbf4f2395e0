// `virt-studio image volumes|ls|cat` end to end through dist/cli.js (run `node scripts/build.mjs` first).
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CLI, runCli } from '../../support/cli';
import { fixture, tool } from './fixtures';

function catBytes(args: string[]): { status: number | null; stdout: Buffer; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, 'image', 'cat', ...args], { maxBuffer: 256 * 1024 * 1024 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr.toString() };
}

describe('imgfs: virt-studio image volumes/ls/cat', function () {
  this.timeout(180_000);
  let ext: string, parts: string, lvm: string;
  before(() => {
    assert.ok(existsSync(CLI), `${CLI} is missing: run node scripts/build.mjs first`);
    ext = fixture('ext'); parts = fixture('parts'); lvm = fixture('lvm');
  });

  it('volumes --json has exactly the documented shape and blkid names', () => {
    const r = runCli(['image', 'volumes', '--json', join(parts, 'gpt.img')]);
    assert.equal(r.status, 0, r.stderr);
    const vols = JSON.parse(r.stdout) as Record<string, unknown>[];
    for (const v of vols) assert.deepEqual(Object.keys(v), ['name', 'kind', 'offset', 'size', 'fs']);
    assert.deepEqual(vols.map((v) => [v.name, v.kind, v.fs]), [
      ['disk', 'disk', null], ['p1', 'partition', 'ext4'], ['p2', 'partition', 'vfat'], ['p3', 'partition', 'btrfs'],
      ['p4', 'partition', 'xfs'], ['p5', 'partition', 'swap'], ['p6', 'partition', null]]);
    const text = runCli(['image', 'volumes', join(parts, 'gpt.img')]).stdout;
    assert.match(text, /^p4 +partition +\d+ +\d+ +xfs \(unsupported filesystem\)$/m);
  });

  it('volumes over two PVs lists the VG\'s LVs', () => {
    const r = runCli(['image', 'volumes', '--json', join(lvm, 'pv1.img'), join(lvm, 'pv2.img')]);
    assert.equal(r.status, 0, r.stderr);
    const names = (JSON.parse(r.stdout) as { name: string; kind: string; offset: number | null }[]).filter((v) => v.kind === 'lv');
    assert.deepEqual(names.map((v) => v.name).sort(), ['vgt/guest', 'vgt/lin', 'vgt/mir', 'vgt/r1', 'vgt/snap', 'vgt/str', 'vgt/thin']);
    assert.ok(names.every((v) => v.offset === null));
  });

  it('ls --json matches debugfs for a directory; -R walks the tree', () => {
    const r = runCli(['image', 'ls', '--json', join(ext, 'ext4.img'), 'disk:/sub/deep']);
    assert.equal(r.status, 0, r.stderr);
    const rows = JSON.parse(r.stdout) as Record<string, unknown>[];
    assert.deepEqual(rows.map((x) => Object.keys(x)), [['path', 'type', 'size', 'mode', 'mtime', 'target']]);
    assert.equal(rows[0].path, '/sub/deep/dir');
    assert.equal(rows[0].type, 'dir');
    const stat = tool('debugfs', ['-R', 'stat /sub/deep/dir', join(ext, 'ext4.img')]);
    assert.match(stat, new RegExp(`Size: ${rows[0].size}\\b`));
    const links = JSON.parse(runCli(['image', 'ls', '--json', join(ext, 'ext4.img'), 'disk:/fast']).stdout);
    assert.deepEqual(links.map((x: { path: string; type: string; target: string }) => [x.path, x.type, x.target]), [['/fast', 'symlink', 'small.txt']]);
    const all = runCli(['image', 'ls', '-R', join(ext, 'ext4.img'), 'disk:/']).stdout.split('\n').filter(Boolean);
    assert.ok(all.includes('/many/f2999') && all.includes('/sub/deep/dir/file.txt'));
    const long = runCli(['image', 'ls', '-l', join(ext, 'ext4.img'), 'disk:/']).stdout;
    assert.match(long, /^lrwxrwxrwx +1 +0 +0 +9 \d{4}-\d\d-\d\d \d\d:\d\d fast -> small\.txt$/m);
  });

  it('cat streams bytes identical to the source, through GPT partitions and LVs', () => {
    const big = catBytes([join(ext, 'ext4.img'), 'disk:/big.bin']);
    assert.equal(big.status, 0, big.stderr);
    assert.ok(big.stdout.equals(readFileSync(join(ext, 'src', 'big.bin'))));
    const viaLv = catBytes([join(lvm, 'pv1.img'), join(lvm, 'pv2.img'), 'vgt/str:/data.bin']);
    assert.ok(viaLv.stdout.equals(readFileSync(join(lvm, 'small', 'data.bin'))));
    const viaThin = catBytes([join(lvm, 'pv1.img'), join(lvm, 'pv2.img'), 'vgt/thin:/dir/hello.txt']);
    assert.equal(viaThin.stdout.toString(), 'on an LV\n');
    const fat = catBytes([join(parts, 'gpt.img'), 'p2:/data.bin']);
    assert.ok(fat.stdout.equals(readFileSync(join(parts, 'small', 'data.bin'))));
  });

  it('reads through qcow2 images (qemu-img convert) exactly as through raw ones', () => {
    const q = [1, 2].map((i) => {
      const out = join(lvm, `pv${i}.qcow2`);
      if (!existsSync(out)) tool('qemu-img', ['convert', '-O', 'qcow2', '-c', join(lvm, `pv${i}.img`), out]);
      return out;
    });
    const raw = JSON.parse(runCli(['image', 'volumes', '--json', join(lvm, 'pv1.img'), join(lvm, 'pv2.img')]).stdout);
    const viaQcow2 = runCli(['image', 'volumes', '--json', ...q]);
    assert.equal(viaQcow2.status, 0, viaQcow2.stderr);
    assert.deepEqual(JSON.parse(viaQcow2.stdout), raw);
    const data = catBytes([...q, 'vgt/thin:/data.bin']);
    assert.equal(data.status, 0, data.stderr);
    assert.ok(data.stdout.equals(readFileSync(join(lvm, 'small', 'data.bin'))));
  });

  it('fails with one clear line for bad volumes, paths and unsupported filesystems', () => {
    const cases: [string[], number, RegExp][] = [
      [['ls', join(parts, 'gpt.img'), 'p4:/'], 1, /^virt-studio: p4: unsupported filesystem \(xfs\)\n$/],
      [['ls', join(parts, 'gpt.img'), 'p9:/'], 1, /^virt-studio: no volume "p9" \(volumes: disk, p1, p2, p3, p4, p5, p6\)\n$/],
      [['cat', join(ext, 'ext4.img'), 'disk:/nope/x'], 1, /^virt-studio: \/nope: no such file or directory\n$/],
      [['cat', join(ext, 'ext4.img'), 'disk:/sub'], 1, /^virt-studio: \/sub: is a directory\n$/],
      [['ls', join(ext, 'ext4.img'), 'disk:/small.txt/x'], 1, /^virt-studio: \/small.txt: not a directory\n$/],
      [['ls', join(ext, 'ext4.img'), 'disk'], 2, /is not VOLUME:\/PATH/],
      [['ls', join(ext, 'missing.img'), 'disk:/'], 2, /cannot open .*missing\.img: no such file/],
      [['ls', join(lvm, 'pv1.img'), 'vgt/str:/'], 1, /^virt-studio: vgt\/str: LV vgt\/str needs PV [\w-]+, which is not in the given images\n$/],
    ];
    for (const [args, status, re] of cases) {
      const r = runCli(['image', ...args]);
      assert.equal(r.status, status, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, re, args.join(' '));
    }
  });
});
