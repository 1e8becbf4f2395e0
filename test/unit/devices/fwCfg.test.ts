import assert from 'node:assert/strict';
import { FW_CFG, FwCfg } from '../../../emulator/src/devices/fwCfg';
import { ArrayMemory } from '../../../emulator/src/devices/signals';
import { rig, roundTrip } from './rig';

function setup() {
  const r = rig();
  const mem = new ArrayMemory(1 << 20);
  const fw = new FwCfg(mem);
  fw.register(r.bus);
  fw.configure({
    ramSize: 128 << 20, cpus: 1,
    e820: [{ address: 0, length: 0x9fc00, type: 1 }, { address: 0x100000, length: (128 << 20) - 0x100000, type: 1 }],
    bootOrder: ['/pci@i0cf8/ide@1,1/drive@1/disk@0'],
  });
  return { ...r, mem, fw };
}

function readItem(bus: ReturnType<typeof rig>['bus'], key: number, len: number): number[] {
  bus.write16(0x510, key);
  return Array.from({ length: len }, () => bus.read8(0x511));
}

/** Walks the file directory exactly as SeaBIOS's qemu_romfile_init does. */
function directory(bus: ReturnType<typeof rig>['bus']): Map<string, { size: number; select: number }> {
  bus.write16(0x510, FW_CFG.FILE_DIR);
  const be = (n: number) => { let v = 0; for (let i = 0; i < n; i++) v = v * 256 + bus.read8(0x511); return v; };
  const count = be(4);
  const out = new Map<string, { size: number; select: number }>();
  for (let i = 0; i < count; i++) {
    const size = be(4), select = be(2);
    be(2);
    const name = String.fromCharCode(...Array.from({ length: 56 }, () => bus.read8(0x511))).replace(/\0.*$/s, '');
    out.set(name, { size, select });
  }
  return out;
}

describe('devices: QEMU fw_cfg', () => {
  it('signature "QEMU", ID with DMA, RAM size and CPU count', () => {
    const { bus } = setup();
    assert.equal(String.fromCharCode(...readItem(bus, FW_CFG.SIGNATURE, 4)), 'QEMU');
    assert.deepEqual(readItem(bus, FW_CFG.ID, 4), [3, 0, 0, 0]);
    assert.deepEqual(readItem(bus, FW_CFG.RAM_SIZE, 8), [0, 0, 0, 8, 0, 0, 0, 0]);
    assert.deepEqual(readItem(bus, FW_CFG.NB_CPUS, 2), [1, 0]);
    assert.equal(bus.read32(0x514), 0x554d4551, 'DMA port signature "QEMU CFG" in address order');
  });

  it('file directory lists bootorder, etc/e820 and etc/boot-fail-wait with their sizes', () => {
    const { bus } = setup();
    const dir = directory(bus);
    assert.deepEqual([...dir.keys()].sort(), ['bootorder', 'etc/boot-fail-wait', 'etc/e820']);
    assert.equal(dir.get('etc/e820')!.size, 40);
    const bo = dir.get('bootorder')!;
    assert.equal(String.fromCharCode(...readItem(bus, bo.select, bo.size)), '/pci@i0cf8/ide@1,1/drive@1/disk@0\n');
    const e820 = readItem(bus, dir.get('etc/e820')!.select, 40);
    const dv = new DataView(Uint8Array.from(e820).buffer);
    assert.equal(dv.getBigUint64(20, true), 0x100000n);
    assert.equal(dv.getUint32(36, true), 1);
  });

  it('DMA: select + read into guest memory, control word cleared on completion', () => {
    const { bus, mem } = setup();
    const desc = 0x1000, target = 0x2000;
    const dv = new DataView(mem.bytes.buffer);
    dv.setUint32(desc, (FW_CFG.SIGNATURE << 16) | 0x08 | 0x02, false); // select + read
    dv.setUint32(desc + 4, 6, false);
    dv.setUint32(desc + 8, 0, false); dv.setUint32(desc + 12, target, false);
    const swap = (v: number) => ((v & 0xff) << 24 | (v & 0xff00) << 8 | (v >>> 8) & 0xff00 | v >>> 24) >>> 0;
    bus.write32(0x514, swap(0));
    bus.write32(0x518, swap(desc));
    assert.equal(dv.getUint32(desc, false), 0);
    assert.deepEqual(Array.from(mem.bytes.subarray(target, target + 6)), [0x51, 0x45, 0x4d, 0x55, 0, 0]);
  });

  it('DMA past the item end zero-fills; a target outside RAM sets the error bit; linuxboot items', () => {
    const { bus, mem, fw } = setup();
    const dv = new DataView(mem.bytes.buffer);
    const swap = (v: number) => ((v & 0xff) << 24 | (v & 0xff00) << 8 | (v >>> 8) & 0xff00 | v >>> 24) >>> 0;
    const dma = (control: number, length: number, target: number) => {
      dv.setUint32(0x1000, control, false); dv.setUint32(0x1004, length, false);
      dv.setUint32(0x1008, 0, false); dv.setUint32(0x100c, target, false);
      bus.write32(0x514, 0); bus.write32(0x518, swap(0x1000));
      return dv.getUint32(0x1000, false);
    };
    mem.bytes.fill(0x77, 0x3000, 0x3000 + 200000);
    assert.equal(dma((FW_CFG.SIGNATURE << 16) | 0x0a, 200000, 0x3000), 0);
    assert.deepEqual(Array.from(mem.bytes.subarray(0x3000, 0x3006)), [0x51, 0x45, 0x4d, 0x55, 0, 0]);
    assert.ok(mem.bytes.subarray(0x3004, 0x3000 + 200000).every((b) => b === 0));
    assert.equal(dma((FW_CFG.SIGNATURE << 16) | 0x0a, 0x7fffffff, 0x3000) & 1, 1, 'error, and no 2 GiB allocation');
    fw.setLinuxBoot({ setup: new Uint8Array(1024).fill(1), kernel: new Uint8Array(4096).fill(2), cmdline: 'console=ttyS0', setupAddr: 0x90000, kernelAddr: 0x100000, cmdlineAddr: 0x20000 });
    assert.deepEqual(readItem(bus, FW_CFG.KERNEL_SIZE, 4), [0, 0x10, 0, 0]);
    assert.equal(String.fromCharCode(...readItem(bus, FW_CFG.CMDLINE_DATA, 14)), 'console=ttyS0\0');
    assert.deepEqual(readItem(bus, FW_CFG.SETUP_ADDR, 4), [0, 0, 9, 0]);
  });

  it('save → restore → identical behaviour (read cursor)', () => {
    const a = setup();
    a.bus.write16(0x510, FW_CFG.FILE_DIR);
    for (let i = 0; i < 9; i++) a.bus.read8(0x511);
    const b = setup();
    b.fw.restoreState(roundTrip(a.fw.saveState()));
    const t = (s: typeof a) => Array.from({ length: 80 }, () => s.bus.read8(0x511));
    assert.deepEqual(t(b), t(a));
  });
});
