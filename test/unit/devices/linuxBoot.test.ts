import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { ArrayMemory } from '../../../emulator/src/devices/signals';
import { LINUX_LAYOUT, LinuxBootError, loadLinux, parseSetupHeader } from '../../../emulator/src/machine/linuxBoot';

const ROOT = resolve(__dirname, '../../..');
const MEMTEST = '/boot/memtest86+ia32.bin';

/** Debian's linux-image-686 kernel, fetched once with apt-get download + dpkg -x. */
function debianKernel(): string {
  return execFileSync('sh', [resolve(ROOT, 'test/fixtures/devices/fetch-kernel.sh'), resolve(ROOT, 'test/.cache/devices/kernel')], { encoding: 'utf8', cwd: ROOT }).trim();
}

/** What `file` says about an image: "... bzImage, version X, ..." */
function fileVersion(path: string): string {
  const out = execFileSync('file', ['-b', path], { encoding: 'utf8' });
  const m = /bzImage, version (.*?), (RO|RW)-rootFS/.exec(out);
  assert.ok(m, `file(1) does not see a bzImage: ${out}`);
  return m![1];
}

describe('machine: Linux x86 boot protocol loader', () => {
  it('parses the Debian 686 kernel header as file(1) does', function () {
    this.timeout(120_000); // first run downloads the package
    const path = debianKernel();
    const img = new Uint8Array(readFileSync(path));
    const h = parseSetupHeader(img);
    assert.equal(h.kernelVersion, fileVersion(path));
    assert.ok(h.version >= 0x020f, `protocol ${h.version.toString(16)}`);
    assert.equal(h.code32Start, 0x100000);
    assert.equal(h.kernelOffset, (img[0x1f1] + 1) * 512);
    assert.equal(h.relocatable, true);
    assert.ok(h.initSize > 0 && h.cmdlineSize >= 255);
  });

  it('loads the Debian kernel + an initrd: boot_params, e820, command line and the 32-bit entry state', function () {
    const img = new Uint8Array(readFileSync(debianKernel()));
    const mem = new ArrayMemory(128 << 20);
    const initrd = new Uint8Array(3 << 20).fill(0x5a);
    const r = loadLinux(mem, img, { cmdline: 'console=ttyS0 quiet', initrd, memoryBytes: 128 << 20 });
    const bp = new DataView(mem.bytes.buffer, LINUX_LAYOUT.bootParams, 4096);
    assert.equal(bp.getUint32(0x202, true), 0x53726448, 'header copied');
    assert.equal(bp.getUint32(0x228, true), LINUX_LAYOUT.cmdline);
    assert.equal(new TextDecoder().decode(mem.bytes.subarray(LINUX_LAYOUT.cmdline, LINUX_LAYOUT.cmdline + 19)), 'console=ttyS0 quiet');
    assert.equal(mem.bytes[LINUX_LAYOUT.cmdline + 19], 0);
    assert.equal(bp.getUint32(0x218, true), r.initrdLoad!.address);
    assert.equal(bp.getUint32(0x21c, true), 3 << 20);
    assert.equal(r.initrdLoad!.address % 4096, 0);
    assert.ok(r.initrdLoad!.address + initrd.length <= 128 << 20);
    assert.equal(mem.bytes[r.initrdLoad!.address], 0x5a);
    assert.equal(bp.getUint8(0x210), 0xff, 'type_of_loader');
    assert.equal(bp.getUint8(0x211) & 0x81, 0x81, 'LOADED_HIGH | CAN_USE_HEAP');
    assert.equal(bp.getUint8(0x1e8), 4);
    assert.equal(Number(bp.getBigUint64(0x2d0 + 3 * 20, true)), 0x100000);
    assert.equal(Number(bp.getBigUint64(0x2d0 + 3 * 20 + 8, true)), (128 << 20) - 0x100000);
    assert.equal(bp.getUint8(0x0f), 0, 'no VGA console: serial only');
    assert.deepEqual(mem.bytes.subarray(0x100000, 0x100010), img.subarray(r.header.kernelOffset, r.header.kernelOffset + 16));
    const e = r.entry;
    assert.deepEqual([e.eip, e.esi, e.cs, e.ds, e.ss, e.ebp, e.edi, e.ebx, e.eflags & 0x200], [0x100000, LINUX_LAYOUT.bootParams, 0x10, 0x18, 0x18, 0, 0, 0, 0]);
    const gdt = new DataView(mem.bytes.buffer, e.gdtr.base, 32);
    assert.equal(gdt.getBigUint64(0x10, true), 0x00cf9a000000ffffn);
    assert.equal(gdt.getBigUint64(0x18, true), 0x00cf92000000ffffn);
  });

  it('parses and loads memtest86+ (ia32) as a kernel', () => {
    const img = new Uint8Array(readFileSync(MEMTEST));
    const h = parseSetupHeader(img);
    assert.equal(h.kernelVersion, fileVersion(MEMTEST));
    const mem = new ArrayMemory(64 << 20);
    const r = loadLinux(mem, img, { cmdline: 'console=ttyS0,115200', memoryBytes: 64 << 20 });
    assert.equal(r.entry.eip, h.code32Start);
    assert.equal(r.initrdLoad, undefined);
  });

  it('rejects non-kernels, truncated images, too little memory and over-long command lines clearly', () => {
    assert.throws(() => parseSetupHeader(new Uint8Array(100)), /too small/);
    const junk = new Uint8Array(4096);
    assert.throws(() => parseSetupHeader(junk), (e: unknown) => e instanceof LinuxBootError && /0xAA55.*offset 0x1fe/.test(e.message));
    const img = new Uint8Array(readFileSync(MEMTEST));
    const bad = img.slice(0, 0x400);
    bad[0x1f1] = 200;
    assert.throws(() => parseSetupHeader(bad), /past the end/);
    assert.throws(() => loadLinux(new ArrayMemory(1 << 20), img, { cmdline: '', memoryBytes: 1 << 20 }), /needs memory up to/);
    assert.throws(() => loadLinux(new ArrayMemory(64 << 20), img, { cmdline: 'x'.repeat(300), memoryBytes: 64 << 20 }), /at most 255/);
  });
});
