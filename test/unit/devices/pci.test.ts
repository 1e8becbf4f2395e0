import assert from 'node:assert/strict';
import { PendingIo } from '../../../emulator/src/devices/asyncIo';
import { IdeController } from '../../../emulator/src/devices/ide';
import { PciHost, type PamRegion } from '../../../emulator/src/devices/pci';
import { rig, roundTrip } from './rig';

function setup() {
  const r = rig();
  const resets: string[] = [];
  const pci = new PciHost((s) => resets.push(s));
  const ide = new IdeController({ drives: [] }, r.irq, new PendingIo());
  pci.attach(1, 1, ide.pci);
  pci.register(r.bus);
  let pam: PamRegion[] = [];
  pci.onPamChange = (p) => { pam = p; };
  return { ...r, pci, resets, pam: () => pam };
}

function cfg(bus: ReturnType<typeof rig>['bus'], dev: number, fn: number, reg: number): number {
  bus.write32(0xcf8, (0x80000000 | (dev << 11) | (fn << 8) | reg) >>> 0);
  return bus.read32(0xcfc);
}

describe('devices: PCI i440FX / PIIX3', () => {
  it('vendor/device/class as QEMU\'s pc machine (lspci ids 8086:1237, 8086:7000, 8086:7010)', () => {
    const { bus } = setup();
    assert.equal(cfg(bus, 0, 0, 0), 0x12378086);
    assert.equal(cfg(bus, 0, 0, 8) >>> 8, 0x060000);
    assert.equal(cfg(bus, 1, 0, 0), 0x70008086);
    assert.equal(cfg(bus, 1, 0, 8) >>> 8, 0x060100);
    assert.equal((cfg(bus, 1, 0, 0x0c) >>> 16) & 0xff, 0x80, 'multi-function header');
    assert.equal(cfg(bus, 1, 1, 0), 0x70108086);
    assert.equal(cfg(bus, 1, 1, 8) >>> 8, 0x010180);
    assert.equal(cfg(bus, 2, 0, 0), 0xffffffff, 'empty slot');
    bus.write32(0xcf8, 0x80000000 | 0x02);
    assert.equal(bus.read16(0xcfe), 0x1237, 'sub-dword data port access');
  });

  it('BAR sizing: writing all ones reads back the size mask', () => {
    const { bus } = setup();
    bus.write32(0xcf8, 0x80000000 | (1 << 11) | (1 << 8) | 0x20);
    bus.write32(0xcfc, 0xffffffff);
    assert.equal(bus.read32(0xcfc), 0xfffffff1, '16-byte I/O BAR');
    bus.write32(0xcfc, 0xc000);
    assert.equal(bus.read32(0xcfc), 0xc001);
  });

  it('PAM registers report RAM/ROM attributes of the shadow area', () => {
    const { bus, pam } = setup();
    bus.write32(0xcf8, 0x80000000 | 0x58);
    bus.write8(0xcfd, 0x30); // PAM0 (0x59) high nibble: F0000 read+write RAM
    const f = pam().find((r) => r.base === 0xf0000)!;
    assert.deepEqual(f, { base: 0xf0000, size: 0x10000, readRam: true, writeRam: true });
    bus.write8(0xcfe, 0x12); // 0x5A: C0000 write-only RAM (WE), C4000 read RAM
    const c0 = pam().find((r) => r.base === 0xc0000)!;
    const c4 = pam().find((r) => r.base === 0xc4000)!;
    assert.deepEqual([c0.readRam, c0.writeRam, c4.readRam, c4.writeRam], [false, true, true, false]);
  });

  it('0xCF9 reset control requests a reset', () => {
    const { bus, resets } = setup();
    bus.write8(0xcf9, 0x02); bus.write8(0xcf9, 0x06);
    assert.deepEqual(resets, ['cf9']);
  });

  it('save → restore → identical behaviour', () => {
    const a = setup();
    cfg(a.bus, 0, 0, 0);
    a.bus.write32(0xcf8, 0x80000000 | 0x58); a.bus.write8(0xcfd, 0x11);
    a.bus.write32(0xcf8, 0x80000000 | (1 << 11) | 0x60);
    const b = setup();
    b.pci.restoreState(roundTrip(a.pci.saveState()));
    assert.deepEqual(b.pam(), a.pci.pamRegions());
    assert.equal(b.bus.read32(0xcfc), a.bus.read32(0xcfc));
  });
});
