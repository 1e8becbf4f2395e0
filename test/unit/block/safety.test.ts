// Refusals and safety: encrypted and external-data-file qcow2, backing-chain loops and depth,
// the backing-file policy of untrusted workspaces, positioned one-line errors for corrupt tables,
// conversion never touching its input, and detection by content rather than by file name.
import { strict as assert } from 'node:assert';
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ImageError } from '../../../emulator/src/block/blockDevice';
import { openImage } from '../../../emulator/src/block/open';
import { crc32c } from '../../../emulator/src/block/vhdx/crc32c';
import { CLI, runCli } from '../../support/cli';
import { blockFixtures, sourceContent } from '../../fixtures/block/images';

const qemuImg = (cwd: string, ...args: string[]) => execFileSync('qemu-img', args, { cwd, stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' });

describe('block: refusals, policies and errors', function () {
  this.timeout(60_000);
  let dir: string;
  before(() => {
    if (!existsSync(CLI)) throw new Error('dist/cli.js is missing: run `npm run build` first');
    dir = mkdtempSync(join(tmpdir(), 'vs-safety-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('refuses LUKS-encrypted qcow2 with a clear message', async () => {
    qemuImg(dir, 'create', '-f', 'qcow2', '--object', 'secret,id=s0,data=pw', '-o', 'encrypt.format=luks,encrypt.key-secret=s0,encrypt.iter-time=200', 'enc.qcow2', '1M');
    await assert.rejects(openImage(join(dir, 'enc.qcow2')), (e: Error) => e instanceof ImageError && /encrypted qcow2 images are not supported \(LUKS/.test(e.message));
  });

  it('refuses qcow2 with an external data file', async () => {
    qemuImg(dir, 'create', '-f', 'qcow2', '-o', 'data_file=ext-data.raw', 'ext.qcow2', '1M');
    await assert.rejects(openImage(join(dir, 'ext.qcow2')), (e: Error) => e instanceof ImageError && /external data file \(ext-data\.raw\)/.test(e.message));
  });

  it('refuses a VHDX whose log needs replaying, as qemu-img does read-only', () => {
    // A clean qemu-img VHDX made dirty the way a crash leaves it: a valid log entry under a log
    // GUID that both headers carry (checksums recomputed).
    const path = join(dir, 'dirty.vhdx');
    copyFileSync(join(blockFixtures().dir, 'x-dynamic.vhdx'), path);
    const img = readFileSync(path);
    const logLength = img.readUInt32LE(64 * 1024 + 68), logOffset = Number(img.readBigUInt64LE(64 * 1024 + 72));
    assert.ok(logLength >= 4096 && logOffset >= 1024 * 1024, `fixture has a log region (${logLength} at ${logOffset})`);
    const guid = Buffer.from('5f3c0a7e9b214d8e8c6a11d2e4f70b93', 'hex');
    const entry = Buffer.alloc(4096);
    entry.write('loge', 0, 'ascii');
    entry.writeUInt32LE(4096, 8); // entry length
    entry.writeBigUInt64LE(1n, 16); // sequence number
    guid.copy(entry, 32);
    entry.writeBigUInt64LE(BigInt(img.length), 48); // flushed file offset
    entry.writeBigUInt64LE(BigInt(img.length), 56); // last file offset
    entry.writeUInt32LE(crc32c(entry, 4), 4);
    entry.copy(img, logOffset);
    for (const at of [64 * 1024, 128 * 1024]) {
      const h = img.subarray(at, at + 4096);
      guid.copy(h, 48);
      h.writeUInt32LE(crc32c(h, 4), 4);
    }
    writeFileSync(path, img);
    // The anchor: qemu-img agrees this image has a log to replay (and will not read it read-only).
    const q = spawnSync('qemu-img', ['info', path], { encoding: 'utf8' });
    assert.notEqual(q.status, 0, 'qemu-img opened the dirty VHDX');
    assert.match(q.stderr, /contains a log that needs to be replayed/, q.stderr);
    const r = runCli(['image', 'info', path]);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /^virt-studio: VHDX log needs to be replayed .*qemu-img check -r all.*\(VHDX header offset \d+\)\n$/);
  });

  it('detects a backing-chain loop', async () => {
    qemuImg(dir, 'create', '-f', 'qcow2', 'loop-a.qcow2', '1M');
    qemuImg(dir, 'create', '-f', 'qcow2', '-b', 'loop-a.qcow2', '-F', 'qcow2', 'loop-b.qcow2');
    qemuImg(dir, 'rebase', '-u', '-b', 'loop-b.qcow2', '-F', 'qcow2', 'loop-a.qcow2');
    await assert.rejects(openImage(join(dir, 'loop-b.qcow2')), /backing chain loops back/);
    const r = runCli(['image', 'info', 'loop-b.qcow2'], { cwd: dir });
    assert.equal(r.status, 2);
    assert.equal(r.stderr.trim().split('\n').length, 1);
  });

  it('follows absolute backing names like qemu-img', () => {
    const { dir: fx } = blockFixtures();
    qemuImg(dir, 'create', '-f', 'qcow2', '-b', join(fx, 'q-c65536.qcow2'), '-F', 'qcow2', 'abs.qcow2');
    execFileSync('qemu-io', ['-f', 'qcow2', '-c', 'write -P 0x3d 96k 8k', 'abs.qcow2'], { cwd: dir, stdio: 'ignore' });
    qemuImg(dir, 'convert', '-O', 'raw', 'abs.qcow2', 'abs.qemu.raw');
    const r = runCli(['image', 'convert', 'abs.qcow2', 'abs.ours.raw'], { cwd: dir });
    assert.equal(r.status, 0, r.stderr);
    assert.ok(readFileSync(join(dir, 'abs.ours.raw')).equals(readFileSync(join(dir, 'abs.qemu.raw'))));
    const info = JSON.parse(runCli(['image', 'info', '--json', 'abs.qcow2'], { cwd: dir }).stdout);
    const theirs = JSON.parse(qemuImg(dir, 'info', '--output=json', 'abs.qcow2'));
    for (const k of ['backing-filename', 'full-backing-filename', 'backing-filename-format']) assert.equal(info[k], theirs[k], k);
  });

  it('bounds the backing-chain depth', async () => {
    qemuImg(dir, 'create', '-f', 'qcow2', 'd0.qcow2', '1M');
    for (let i = 1; i <= 4; i++) qemuImg(dir, 'create', '-f', 'qcow2', '-b', `d${i - 1}.qcow2`, '-F', 'qcow2', `d${i}.qcow2`);
    await assert.rejects(openImage(join(dir, 'd4.qcow2'), { maxChainDepth: 2 }), /deeper than 2/);
    const ok = await openImage(join(dir, 'd4.qcow2'), { maxChainDepth: 4 });
    await ok.close();
  });

  it('does not follow a backing file the policy refuses, and says so when its data is needed', async () => {
    writeFileSync(join(dir, 'outside.raw'), sourceContent(1 << 20, 9));
    qemuImg(dir, 'create', '-f', 'qcow2', '-b', 'outside.raw', '-F', 'raw', 'inside.qcow2');
    execFileSync('qemu-io', ['-f', 'qcow2', '-c', 'write -P 0x42 0 64k', 'inside.qcow2'], { cwd: dir, stdio: 'ignore' });
    const asked: string[] = [];
    const img = await openImage(join(dir, 'inside.qcow2'), { allowBacking: (p) => { asked.push(p); return false; } });
    try {
      assert.deepEqual(asked, [join(dir, 'outside.raw')]);
      assert.equal(img.backing, undefined);
      assert.match(img.backingRefused ?? '', /outside\.raw was not opened/);
      assert.ok(Buffer.from(await img.device.read(0, 65536)).equals(Buffer.alloc(65536, 0x42)), 'own clusters still read');
      await assert.rejects(img.device.read(65536, 512), (e: Error) => e instanceof ImageError && /outside\.raw was not opened/.test(e.message));
    } finally {
      await img.close();
    }
  });

  it('applies the same policy to VMDK extent files', async () => {
    const { dir: fx } = blockFixtures();
    await assert.rejects(openImage(join(fx, 'vm-monolithicFlat.vmdk'), { allowBacking: () => false }), /extent file .* outside the trusted area/);
  });

  it('reports a corrupt L2 pointer as one stderr line naming the structure and offset', () => {
    const { dir: fx } = blockFixtures();
    const img = join(dir, 'corrupt.qcow2');
    copyFileSync(join(fx, 'q-c4096.qcow2'), img);
    const b = readFileSync(img);
    const l1 = Number(b.readBigUInt64BE(40));
    b.writeBigUInt64BE(b.readBigUInt64BE(l1) | 0x200n, l1); // misalign the first L2 table pointer
    writeFileSync(img, b);
    const r = runCli(['image', 'convert', img, join(dir, 'corrupt.raw')]);
    assert.equal(r.status, 2);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.match(r.stderr, new RegExp(`^virt-studio: L1 table entry 0 points to an unaligned L2 table at \\d+ \\(L1 table offset ${l1}\\)`));
  });

  it('never writes to the image it converts', () => {
    const { dir: fx } = blockFixtures();
    const img = join(dir, 'self.qcow2');
    copyFileSync(join(fx, 'q-c65536.qcow2'), img);
    const before = readFileSync(img);
    const r = runCli(['image', 'convert', img, img]);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /refusing to overwrite .*self\.qcow2: it is one of the image's own files/);
    assert.ok(readFileSync(img).equals(before));
  });

  it('shows a progress line when asked (-p) and writes only OUT', () => {
    const { dir: fx } = blockFixtures();
    const out = join(dir, 'progress.raw');
    const r = runCli(['image', 'convert', '-p', join(fx, 'q-zlib.qcow2'), out]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /\r {4}\(100\.00\/100%\)\n$/);
    assert.equal(readFileSync(out).length, 4 * 1024 * 1024);
  });

  it('detects formats by content, whatever the file is called', () => {
    const { dir: fx } = blockFixtures();
    copyFileSync(join(fx, 'p-fixed.vhd'), join(dir, 'disk.img'));
    copyFileSync(join(fx, 'd-static.vdi'), join(dir, 'disk.qcow2'));
    const vpc = JSON.parse(runCli(['image', 'info', '--json', join(dir, 'disk.img')]).stdout);
    assert.equal(vpc.format, 'vpc');
    const vdi = JSON.parse(runCli(['image', 'info', '--json', join(dir, 'disk.qcow2')]).stdout);
    assert.equal(vdi.format, 'vdi');
  });

  it('prints human-readable info like qemu-img info', () => {
    const { dir: fx } = blockFixtures();
    for (const f of ['q-snap.qcow2', 'chain-top.qcow2', 'vm-streamOptimized.vmdk', 'd-dynamic.vdi']) {
      const theirs = qemuImg(fx, 'info', f);
      const r = runCli(['image', 'info', f], { cwd: fx });
      assert.equal(r.status, 0, r.stderr);
      assert.equal(r.stdout, theirs, f);
    }
  });

  it('describes a whole backing chain like qemu-img info --backing-chain', () => {
    const { dir: fx } = blockFixtures();
    const theirs = JSON.parse(qemuImg(fx, 'info', '--backing-chain', '--output=json', 'chain-top.qcow2')) as Record<string, unknown>[];
    const r = runCli(['image', 'info', '--backing-chain', '--json', 'chain-top.qcow2'], { cwd: fx });
    assert.equal(r.status, 0, r.stderr);
    const ours = JSON.parse(r.stdout) as Record<string, unknown>[];
    assert.equal(ours.length, theirs.length);
    theirs.forEach((layer, i) => { for (const k of Object.keys(layer)) assert.deepEqual(ours[i][k], layer[k], `layer ${i} field ${k}`); });
    assert.equal(runCli(['image', 'info', '--backing-chain', 'chain-top.qcow2'], { cwd: fx }).stdout, qemuImg(fx, 'info', '--backing-chain', 'chain-top.qcow2'));
  });

  it('reads random small ranges of compressed images exactly like qemu-img', async () => {
    const { dir: fx } = blockFixtures();
    for (const f of ['q-zstd.qcow2', 'q-zlib.qcow2', 'vm-streamOptimized.vmdk', 'chain-top.qcow2']) {
      const raw = join(dir, 'ref.raw');
      qemuImg(fx, 'convert', '-O', 'raw', f, raw);
      const ref = readFileSync(raw);
      const img = await openImage(join(fx, f));
      try {
        let x = 99;
        for (let i = 0; i < 200; i++) {
          x = (x * 1103515245 + 12345) >>> 0;
          const len = 1 + (x % 70_000);
          const at = (x >>> 3) % (ref.length - len);
          assert.ok(Buffer.from(await img.device.read(at, len)).equals(ref.subarray(at, at + len)), `${f} @${at}+${len}`);
        }
      } finally {
        await img.close();
      }
    }
  });
});
