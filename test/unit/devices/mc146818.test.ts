import assert from 'node:assert/strict';
import { Mc146818 } from '../../../emulator/src/devices/mc146818';
import { rig, roundTrip, runFor } from './rig';

const START = Date.UTC(2026, 10, 25, 23, 59, 58); // 2026-11-25 23:59:58 UTC, a Wednesday

function setup(ramMiB = 128) {
  const r = rig();
  const rtc = new Mc146818(r.clock, r.irq, { startTimeMs: START, ramBelow4G: ramMiB * 1024 * 1024, cpus: 1, bootOrder: ['cdrom', 'hd'], hardDisks: [{ cylinders: 1024, heads: 16, sectors: 63 }] });
  rtc.register(r.bus);
  return { ...r, rtc };
}

function cmos(bus: ReturnType<typeof rig>['bus'], i: number): number {
  bus.write8(0x70, i);
  return bus.read8(0x71);
}

describe('devices: MC146818 CMOS/RTC', () => {
  it('reports the configured start time in BCD and advances with virtual time across midnight', () => {
    const { bus, clock } = setup();
    assert.deepEqual([9, 8, 7, 4, 2, 0, 6, 0x32].map((i) => cmos(bus, i)), [0x26, 0x11, 0x25, 0x23, 0x59, 0x58, 4, 0x20]);
    clock.advance(3e9);
    assert.deepEqual([7, 4, 2, 0, 6].map((i) => cmos(bus, i)), [0x26, 0x00, 0x00, 0x01, 5]);
  });

  it('sets UIP for the 244 µs before each update, as SeaBIOS and Linux poll it', () => {
    const { bus, clock } = setup();
    assert.equal(cmos(bus, 0x0a) & 0x80, 0);
    clock.advance(1e9 - 200_000);
    assert.equal(cmos(bus, 0x0a) & 0x80, 0x80);
    const before = cmos(bus, 0);
    clock.advance(200_000);
    assert.equal(cmos(bus, 0x0a) & 0x80, 0);
    assert.notEqual(cmos(bus, 0), before, 'the update happened when UIP dropped');
  });

  it('reports small memory sizes exactly', () => {
    const { bus } = setup(32);
    assert.equal(cmos(bus, 0x17) | (cmos(bus, 0x18) << 8), 31 * 1024);
    assert.equal(cmos(bus, 0x34) | (cmos(bus, 0x35) << 8), 16 * 16);
  });

  it('holds the NVRAM layout SeaBIOS reads (memory, boot order, drive types, checksum)', () => {
    const { bus } = setup(128);
    assert.equal(cmos(bus, 0x15) | (cmos(bus, 0x16) << 8), 640);
    assert.equal(cmos(bus, 0x17) | (cmos(bus, 0x18) << 8), 0xffff, 'KiB above 1 MiB, capped at 64 MiB - 1');
    assert.equal(cmos(bus, 0x30) | (cmos(bus, 0x31) << 8), 0xffff);
    assert.equal(cmos(bus, 0x34) | (cmos(bus, 0x35) << 8), (128 - 16) * 16, '64 KiB units above 16 MiB');
    assert.equal(cmos(bus, 0x5b) | cmos(bus, 0x5c) | cmos(bus, 0x5d), 0);
    assert.equal(cmos(bus, 0x3d), 0x23, 'first CD-ROM (3), then hard disk (2)');
    assert.equal(cmos(bus, 0x12), 0xf0);
    assert.equal(cmos(bus, 0x19), 47);
    assert.equal(cmos(bus, 0x1b) | (cmos(bus, 0x1c) << 8), 1024);
    let sum = 0;
    for (let i = 0x10; i <= 0x2d; i++) sum += cmos(bus, i);
    assert.equal((cmos(bus, 0x2e) << 8) | cmos(bus, 0x2f), sum);
    assert.equal(cmos(bus, 0x0d), 0x80, 'valid RAM and time');
  });

  it('periodic interrupt at 1024 Hz on IRQ 8, acknowledged by reading register C', () => {
    const { bus, clock, irq } = setup();
    bus.write8(0x70, 0x0b); bus.write8(0x71, cmos(bus, 0x0b) | 0x40);
    let count = 0;
    const end = clock.nowNs() + 100e6;
    while (clock.nowNs() < end) {
      runFor(clock, 100_000);
      if (irq.levels[8]) { count++; assert.equal(cmos(bus, 0x0c) & 0xc0, 0xc0); assert.equal(irq.levels[8], false); }
    }
    assert.ok(count >= 102 && count <= 103, `${count} interrupts in 100 ms`);
  });

  it('binary mode, 12-hour mode and guest-set time with SET', () => {
    const { bus, clock } = setup();
    bus.write8(0x70, 0x0b); bus.write8(0x71, 0x80 | 0x04); // SET, binary, 12-hour
    bus.write8(0x70, 4); bus.write8(0x71, 0x80 | 1); // 1 PM
    bus.write8(0x70, 2); bus.write8(0x71, 30);
    bus.write8(0x70, 0); bus.write8(0x71, 5);
    clock.advance(5e9); // frozen while SET
    assert.equal(cmos(bus, 0), 5);
    bus.write8(0x70, 0x0b); bus.write8(0x71, 0x06); // run, binary, 24-hour
    clock.advance(2e9);
    assert.deepEqual([4, 2, 0].map((i) => cmos(bus, i)), [13, 30, 7]);
  });

  it('alarm and update-ended interrupts once per second', () => {
    const { bus, clock, irq } = setup();
    bus.write8(0x70, 1); bus.write8(0x71, 0x59); // alarm at :59 (seconds), don't-care others
    bus.write8(0x70, 3); bus.write8(0x71, 0xc0);
    bus.write8(0x70, 5); bus.write8(0x71, 0xc0);
    bus.write8(0x70, 0x0b); bus.write8(0x71, 0x02 | 0x20); // AIE
    runFor(clock, 1.5e9);
    assert.equal(irq.levels[8], true);
    assert.equal(cmos(bus, 0x0c) & 0xa0, 0xa0);
  });

  it('save → restore → identical behaviour', () => {
    const a = setup();
    a.bus.write8(0x70, 0x0b); a.bus.write8(0x71, 0x42);
    runFor(a.clock, 12_345_678);
    const b = setup();
    b.clock.restoreState(roundTrip(a.clock.saveState()));
    b.rtc.restoreState(roundTrip(a.rtc.saveState()));
    const trace = (s: typeof a) => { runFor(s.clock, 50e6); return [s.irq.rises[8] > 0, cmos(s.bus, 0x0c), cmos(s.bus, 0), cmos(s.bus, 0x0a)]; };
    a.irq.rises[8] = 0;
    assert.deepEqual(trace(b), trace(a));
  });
});
