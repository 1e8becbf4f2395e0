import assert from 'node:assert/strict';
import { join, resolve } from 'node:path';
import { FW_CFG } from '../../../emulator/src/devices/fwCfg';
import { ArrayMemory } from '../../../emulator/src/devices/signals';
import { parseDomainXml } from '../../../emulator/src/machine/domainConfig';
import { createPcPlatform, ideBootPath, type PcPlatform } from '../../../emulator/src/machine/pcPlatform';
import { LINUX_LAYOUT } from '../../../emulator/src/machine/linuxBoot';
import { fixture } from './fixtures';
import { roundTrip, runFor } from './rig';

const ROOT = resolve(__dirname, '../../..');
const START = Date.UTC(2026, 0, 2, 3, 4, 5);

function xml(disks: string, os = "<type>hvm</type><boot dev='cdrom'/><boot dev='hd'/>"): string {
  return `<domain type='qemu'><name>p</name><memory unit='MiB'>32</memory><os>${os}</os><devices>${disks}<serial type='pty'/><video><model type='vga'/></video></devices></domain>`;
}

describe('machine: PC platform assembly (devices wired from a domain XML, no CPU)', () => {
  let dir: string;
  before(() => { dir = fixture('make-disks.sh'); });

  async function firmwarePlatform(): Promise<PcPlatform> {
    const r = parseDomainXml(xml(`<disk type='file' device='disk'><driver name='qemu' type='qcow2'/><source file='${join(dir, 'disk.qcow2')}'/><target dev='hda' bus='ide'/></disk>
      <disk type='file' device='cdrom'><driver name='qemu' type='raw'/><source file='${join(dir, 'cd.iso')}'/><target dev='hdc' bus='ide'/></disk>`));
    assert.deepEqual(r.errors, []);
    return createPcPlatform({ config: r.config!, memory: new ArrayMemory(r.config!.memoryBytes), startTimeMs: START });
  }

  it('SeaBIOS view: fw_cfg, CMOS boot order and memory, PCI IDE, and a sector of the qcow2 disk over ATA', async () => {
    const p = await firmwarePlatform();
    try {
      const { bus } = p;
      bus.write16(0x510, FW_CFG.SIGNATURE);
      assert.equal(String.fromCharCode(bus.read8(0x511), bus.read8(0x511), bus.read8(0x511), bus.read8(0x511)), 'QEMU');
      bus.write8(0x70, 0x3d); assert.equal(bus.read8(0x71), 0x23, 'cdrom, then hd');
      const cmos = (i: number) => { bus.write8(0x70, i); return bus.read8(0x71); };
      assert.equal(cmos(0x34) | (cmos(0x35) << 8), (32 - 16) * 16, '64 KiB units above 16 MiB');
      bus.write32(0xcf8, 0x80000000 | (1 << 11) | (1 << 8));
      assert.equal(bus.read32(0xcfc), 0x70108086);
      assert.equal(p.firmware!.length, 128 * 1024, 'Debian SeaBIOS bios.bin');
      const vgaRom = p.fwCfg.file('vgaroms/vgabios-isavga.bin')!;
      assert.deepEqual([vgaRom[0], vgaRom[1]], [0x55, 0xaa], 'the VGA option ROM SeaBIOS will run');
      // ATA READ SECTORS, LBA 1, through the qcow2 driver and the overlay.
      bus.write8(0x1f2, 1); bus.write8(0x1f3, 1); bus.write8(0x1f4, 0); bus.write8(0x1f5, 0); bus.write8(0x1f6, 0xe0);
      bus.write8(0x1f7, 0x20);
      await p.pendingIo.settle();
      assert.equal(bus.read8(0x1f7) & 0x08, 0x08);
      for (let i = 0; i < 256; i++) assert.equal(bus.read16(0x1f0), 0xa5a5);
      assert.deepEqual([bus.read8(0x174), bus.read8(0x175)], [0x14, 0xeb], 'ATAPI CD-ROM on the secondary master');
      assert.equal(ideBootPath(2), '/pci@i0cf8/ide@1,1/drive@1/disk@0');
    } finally {
      await p.close();
    }
  });

  it('direct kernel boot loads memtest86+ and leaves the 32-bit entry state for the CPU', async () => {
    const r = parseDomainXml(xml('', "<type>hvm</type><kernel>/boot/memtest86+ia32.bin</kernel><cmdline>console=ttyS0</cmdline>"));
    const memory = new ArrayMemory(r.config!.memoryBytes);
    const p = await createPcPlatform({ config: r.config!, memory, startTimeMs: START });
    assert.equal(p.linux!.entry.eip, 0x100000);
    assert.equal(p.linux!.entry.esi, LINUX_LAYOUT.bootParams);
    assert.equal(memory.bytes[LINUX_LAYOUT.bootParams + 0x0f], 1, 'VGA text console announced (domain has <video>)');
    assert.equal(p.firmware, undefined);
    await p.close();
  });

  it('serial output, a reset request and a full-platform save → restore → identical behaviour', async () => {
    const a = await firmwarePlatform();
    const b = await firmwarePlatform();
    try {
      const out: number[] = [];
      a.serial[0].onTransmit = (x) => out.push(x);
      a.bus.write8(0x3f8, 0x41);
      assert.deepEqual(out, [0x41]);
      const resets: string[] = [];
      a.onReset = (s) => resets.push(s);
      a.bus.write8(0x64, 0xfe);
      assert.deepEqual(resets, ['i8042']);
      // Program the PIC and PIT like a BIOS, let time pass, snapshot, and compare the futures.
      for (const [port, v] of [[0x20, 0x11], [0x21, 0x08], [0x21, 0x04], [0x21, 0x01], [0x21, 0xfe], [0x43, 0x34], [0x40, 0x00], [0x40, 0x00]]) a.bus.write8(port, v);
      runFor(a.clock, 7_654_321);
      b.restoreState(roundTrip(a.saveState()));
      const trace = (p: PcPlatform) => {
        const t: number[] = [];
        for (let i = 0; i < 5; i++) {
          runFor(p.clock, 20_000_000);
          t.push(p.pic.hasInterrupt() ? p.pic.acknowledge() : -1);
          p.bus.write8(0x20, 0x20);
          p.bus.write8(0x70, 0x00); t.push(p.bus.read8(0x71));
        }
        return t;
      };
      assert.deepEqual(trace(b), trace(a));
      assert.equal(b.vga!.textScreen().cols, 80);
    } finally {
      await a.close(); await b.close();
    }
  });

  it('a missing image fails cleanly before anything runs', async () => {
    const r = parseDomainXml(xml(`<disk type='file' device='disk'><source file='${join(ROOT, 'nope.raw')}'/><target dev='hda' bus='ide'/></disk>`), { fileExists: () => true });
    await assert.rejects(createPcPlatform({ config: r.config!, memory: new ArrayMemory(32 << 20), startTimeMs: START }), /nope\.raw/);
  });
});
