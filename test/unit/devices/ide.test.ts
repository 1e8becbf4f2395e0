import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { FileDevice } from '../../../emulator/src/block/fileDevice';
import { PendingIo } from '../../../emulator/src/devices/asyncIo';
import { CowDisk } from '../../../emulator/src/devices/cowDisk';
import { IdeController } from '../../../emulator/src/devices/ide';
import { fixture } from './fixtures';
import { rig, roundTrip } from './rig';

const P = 0x1f0, S = 0x170;

describe('devices: IDE/ATA + ATAPI', function () {
  let dir: string;
  const open: FileDevice[] = [];
  before(() => { dir = fixture('make-disks.sh'); });
  after(async () => { for (const f of open) await f.close(); });

  async function setup() {
    const r = rig();
    const io = new PendingIo();
    const disk = await FileDevice.open(join(dir, 'disk.raw'));
    const iso = await FileDevice.open(join(dir, 'cd.iso'));
    open.push(disk, iso);
    const ide = new IdeController({ drives: [{ kind: 'disk', media: new CowDisk(disk, 512) }, undefined, { kind: 'cdrom', media: new CowDisk(iso, 2048) }] }, r.irq, io);
    ide.register(r.bus);
    return { ...r, io, ide, disk, iso };
  }

  function words(bus: ReturnType<typeof rig>['bus'], port: number, n: number): Uint8Array {
    const out = new Uint8Array(n * 2);
    for (let i = 0; i < n; i++) { const w = bus.read16(port); out[i * 2] = w & 0xff; out[i * 2 + 1] = w >> 8; }
    return out;
  }

  it('signatures: ATA on the primary master, ATAPI 0x14/0xEB on the secondary master, nothing on the slave', async () => {
    const { bus } = await setup();
    assert.deepEqual([bus.read8(P + 2), bus.read8(P + 3), bus.read8(P + 4), bus.read8(P + 5)], [1, 1, 0, 0]);
    assert.equal(bus.read8(P + 7), 0x50);
    assert.deepEqual([bus.read8(S + 4), bus.read8(S + 5)], [0x14, 0xeb]);
    bus.write8(P + 6, 0xb0);
    assert.equal(bus.read8(P + 7), 0, 'absent slave');
  });

  it('IDENTIFY DEVICE reports the qemu-img size in LBA28 and LBA48 words, model string byte-swapped', async () => {
    const { bus, irq } = await setup();
    bus.write8(P + 6, 0xa0);
    bus.write8(P + 7, 0xec);
    assert.equal(irq.levels[14], true);
    assert.equal(bus.read8(P + 7) & 0x08, 0x08);
    const id = words(bus, P, 256);
    const w = (i: number) => id[i * 2] | (id[i * 2 + 1] << 8);
    const sectors = statSync(join(dir, 'disk.raw')).size / 512;
    assert.equal(sectors, 16384);
    assert.equal(w(60) | (w(61) << 16), sectors);
    assert.equal(w(100) | (w(101) << 16), sectors);
    assert.equal(w(83) & (1 << 10), 1 << 10, 'LBA48 supported');
    let model = '';
    for (let i = 27; i < 47; i++) model += String.fromCharCode(w(i) >> 8, w(i) & 0xff);
    assert.equal(model.trim(), 'Virt Studio HARDDISK');
    assert.equal(bus.read8(P + 7) & 0x08, 0, 'DRQ off after 256 words');
  });

  it('READ SECTORS (LBA28) returns what qemu-io wrote; BSY until the read settles', async () => {
    const { bus, io } = await setup();
    bus.write8(P + 2, 1); bus.write8(P + 3, 1); bus.write8(P + 4, 0); bus.write8(P + 5, 0); bus.write8(P + 6, 0xe0);
    bus.write8(P + 7, 0x20);
    assert.equal(bus.read8(P + 7) & 0x80, 0x80, 'BSY while the file is read');
    assert.equal(io.busy, true);
    await io.settle();
    assert.equal(bus.read8(P + 7) & 0x58, 0x58);
    const data = words(bus, P, 256);
    assert.ok(data.every((b) => b === 0xa5));
    assert.equal(bus.read8(P + 7), 0x50);
  });

  it('READ SECTORS EXT (LBA48) and READ MULTIPLE across the last sectors', async () => {
    const { bus, io, irq } = await setup();
    const lba = 16383;
    const ext = (hob: number, low: number) => { bus.write8(P + 2, hob); bus.write8(P + 2, low); };
    ext(0, 1);
    bus.write8(P + 3, 0); bus.write8(P + 3, lba & 0xff);
    bus.write8(P + 4, 0); bus.write8(P + 4, lba >> 8);
    bus.write8(P + 5, 0); bus.write8(P + 5, 0);
    bus.write8(P + 6, 0x40);
    bus.write8(P + 7, 0x24);
    await io.settle();
    assert.ok(words(bus, P, 256).every((b) => b === 0x3c));
    // SET MULTIPLE 4, then READ MULTIPLE 8 sectors from 16376: two DRQ blocks, two interrupts.
    bus.write8(P + 2, 4); bus.write8(P + 7, 0xc6);
    assert.equal(bus.read8(P + 7) & 0x01, 0);
    bus.write8(P + 2, 8); bus.write8(P + 3, 16376 & 0xff); bus.write8(P + 4, 16376 >> 8); bus.write8(P + 5, 0); bus.write8(P + 6, 0xe0);
    irq.rises[14] = 0;
    bus.write8(P + 7, 0xc4);
    await io.settle();
    assert.equal(irq.rises[14], 1);
    bus.read8(P + 7); // the interrupt handler reads status, acknowledging INTRQ
    const first = words(bus, P, 1024);
    bus.read8(P + 7);
    const second = words(bus, P, 1024);
    assert.equal(irq.rises[14], 2);
    assert.ok(first.every((b) => b === 0));
    assert.ok(second.subarray(1536).every((b) => b === 0x3c));
  });

  it('out-of-range LBA aborts with IDNF; WRITE SECTORS goes to the overlay, never the image', async () => {
    const { bus, io, disk } = await setup();
    bus.write8(P + 2, 1); bus.write8(P + 3, 0); bus.write8(P + 4, 0x40); bus.write8(P + 5, 0); bus.write8(P + 6, 0xe0);
    bus.write8(P + 7, 0x20);
    assert.equal(bus.read8(P + 7) & 0x01, 1);
    assert.equal(bus.read8(P + 1), 0x10);
    bus.write8(P + 2, 1); bus.write8(P + 3, 1); bus.write8(P + 4, 0);
    bus.write8(P + 7, 0x30);
    for (let i = 0; i < 256; i++) bus.write16(P, 0x7777);
    assert.equal(bus.read8(P + 7), 0x50);
    bus.write8(P + 7, 0x20);
    await io.settle();
    assert.ok(words(bus, P, 256).every((b) => b === 0x77));
    const onDisk = await disk.read(512, 512);
    assert.ok(onDisk.every((b) => b === 0xa5), 'the image file is unchanged');
  });

  it('ATAPI: IDENTIFY PACKET, INQUIRY, READ CAPACITY and READ(10) of the xorriso ISO', async () => {
    const { bus, io } = await setup();
    const packet = async (cdb: number[], limit = 0xfffe): Promise<Buffer> => {
      bus.write8(S + 1, 0); bus.write8(S + 4, limit & 0xff); bus.write8(S + 5, limit >> 8);
      bus.write8(S + 7, 0xa0);
      assert.equal(bus.read8(S + 2), 1, 'CoD: waiting for the packet');
      const p = [...cdb, ...new Array(12 - cdb.length).fill(0)];
      for (let i = 0; i < 12; i += 2) bus.write16(S, p[i] | (p[i + 1] << 8));
      await io.settle();
      const chunks: Uint8Array[] = [];
      while (bus.read8(S + 7) & 0x08) {
        const n = bus.read8(S + 4) | (bus.read8(S + 5) << 8);
        chunks.push(words(bus, S, n / 2));
        await io.settle();
      }
      assert.equal(bus.read8(S + 2), 3, 'IO|CoD: command complete');
      return Buffer.concat(chunks);
    };
    bus.write8(S + 7, 0xa1);
    const id = words(bus, S, 256);
    assert.equal(id[0] | (id[1] << 8), 0x85c0);
    const inq = await packet([0x12, 0, 0, 0, 36]);
    assert.equal(inq[0], 0x05);
    const cap = await packet([0x25]);
    const last = cap.readUInt32BE(0);
    assert.equal(last + 1, statSync(join(dir, 'cd.iso')).size / 2048);
    assert.equal(cap.readUInt32BE(4), 2048);
    const pvd = await packet([0x28, 0, 0, 0, 0, 16, 0, 0, 2], 1536); // sectors 16-17 in 1.5 KiB DRQ chunks
    assert.equal(pvd.length, 4096);
    assert.equal(pvd.toString('latin1', 1, 6), 'CD001');
    assert.equal(pvd.toString('latin1', 40, 46), 'VSTEST');
    assert.equal(pvd[2048], 0xff, 'sector 17: volume descriptor set terminator');
    assert.equal((await packet([0x00])).length, 0, 'TEST UNIT READY');
    // READ(10) past the end → CHECK CONDITION, REQUEST SENSE says ILLEGAL REQUEST / LBA out of range.
    bus.write8(S + 7, 0xa0);
    const bad = [0x28, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0];
    for (let i = 0; i < 12; i += 2) bus.write16(S, bad[i] | (bad[i + 1] << 8));
    assert.equal(bus.read8(S + 7) & 0x01, 1);
    assert.equal(bus.read8(S + 1) >> 4, 0x05);
    const sense = await packet([0x03, 0, 0, 0, 18]);
    assert.deepEqual([sense[2], sense[12]], [0x05, 0x21]);
  });

  it('save → restore → identical behaviour mid-transfer, overlay included', async () => {
    const a = await setup();
    a.bus.write8(P + 2, 2); a.bus.write8(P + 3, 0); a.bus.write8(P + 4, 0); a.bus.write8(P + 5, 0); a.bus.write8(P + 6, 0xe0);
    a.bus.write8(P + 7, 0x30);
    for (let i = 0; i < 512; i++) a.bus.write16(P, i);
    a.bus.write8(P + 2, 2); a.bus.write8(P + 3, 0);
    a.bus.write8(P + 7, 0x20);
    await a.io.settle();
    words(a.bus, P, 100);
    const b = await setup();
    b.ide.restoreState(roundTrip(a.ide.saveState()));
    const trace = async (s: typeof a) => { const x = words(s.bus, P, 156); const st = s.bus.read8(P + 7); await s.io.settle(); return [Array.from(x), st, Array.from(words(s.bus, P, 256)), s.bus.read8(P + 7)]; };
    assert.deepEqual(await trace(b), await trace(a));
  });
});
