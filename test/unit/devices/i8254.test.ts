import assert from 'node:assert/strict';
import { Pit8254, PIT_HZ } from '../../../emulator/src/devices/i8254';
import { PcSpeakerPort } from '../../../emulator/src/devices/pcSpeaker';
import { rig, roundTrip, runFor } from './rig';

function setup() {
  const r = rig();
  const pit = new Pit8254(r.clock, r.irq);
  const spk = new PcSpeakerPort(r.clock, pit);
  pit.register(r.bus);
  spk.register(r.bus);
  return { ...r, pit, spk };
}

const tickNs = (n: number) => Math.ceil((n * 1e9) / PIT_HZ);

describe('devices: i8254 PIT', () => {
  it('mode 2 as Linux programs it (HZ=250) raises IRQ 0 250 times per virtual second', () => {
    const { bus, clock, irq, pit } = setup();
    const latch = Math.floor((PIT_HZ + 125) / 250);
    bus.write8(0x43, 0x34); bus.write8(0x40, latch & 0xff); bus.write8(0x40, latch >> 8);
    runFor(clock, 1e9);
    // One edge as OUT goes high at load, then one per period: 1193182 / 4773 = 249.98.
    assert.equal(irq.rises[0], 1 + 249);
    assert.equal(pit.channel0PeriodNs()!.toFixed(0), ((latch * 1e9) / PIT_HZ).toFixed(0));
  });

  it('mode 3 with count 0 (SeaBIOS) gives the 18.2 Hz tick', () => {
    const { bus, clock, irq } = setup();
    bus.write8(0x43, 0x36); bus.write8(0x40, 0); bus.write8(0x40, 0);
    runFor(clock, 1e9);
    // OUT goes high when the count is loaded (one edge), then rises every 65536 ticks: 18 more.
    assert.equal(irq.rises[0], 1 + 18);
  });

  it('counts down against the virtual clock; latch holds the value until read', () => {
    const { bus, clock } = setup();
    bus.write8(0x43, 0x34); bus.write8(0x40, 0x00); bus.write8(0x40, 0x10); // 4096
    clock.advance(tickNs(1000));
    bus.write8(0x43, 0x00); // latch channel 0
    clock.advance(tickNs(500));
    const lo = bus.read8(0x40), hi = bus.read8(0x40);
    assert.equal(lo | (hi << 8), 4096 - 1000);
    const lo2 = bus.read8(0x40), hi2 = bus.read8(0x40);
    assert.equal(lo2 | (hi2 << 8), 4096 - 1500, 'unlatched read follows the counter');
  });

  it('read-back returns status (output, mode, access) then the latched count', () => {
    const { bus, clock } = setup();
    bus.write8(0x43, 0xb0); // channel 2, word, mode 0
    bus.write8(0x42, 100); bus.write8(0x42, 0);
    clock.advance(tickNs(10));
    bus.write8(0x43, 0xc8); // read-back channel 2: count and status
    assert.equal(bus.read8(0x42), 0x30, 'OUT low, count loaded, word access, mode 0, binary');
    assert.equal(bus.read8(0x42) | (bus.read8(0x42) << 8), 90);
  });

  it('channel 2 mode 0 through port 0x61 (Linux TSC calibration) sets bit 5 at terminal count', () => {
    const { bus, clock } = setup();
    bus.write8(0x61, (bus.read8(0x61) & ~0x02) | 0x01); // gate on, speaker off
    bus.write8(0x43, 0xb0);
    const latch = Math.floor(PIT_HZ / 20); // 50 ms
    bus.write8(0x42, latch & 0xff); bus.write8(0x42, latch >> 8);
    let polls = 0;
    while ((bus.read8(0x61) & 0x20) === 0) { clock.advance(1000); polls++; }
    const elapsed = clock.nowNs();
    assert.ok(Math.abs(elapsed - 50e6) < 2000, `terminal count after ${elapsed} ns`);
    assert.ok(polls > 1000);
  });

  it('BCD counting: 0x1000 means 1000 ticks and reads back in BCD', () => {
    const { bus, clock } = setup();
    bus.write8(0x43, 0x31); // ch0, word, mode 0, BCD
    bus.write8(0x40, 0x00); bus.write8(0x40, 0x10);
    clock.advance(tickNs(1));
    bus.write8(0x43, 0x00);
    assert.equal(bus.read8(0x40) | (bus.read8(0x40) << 8), 0x0999);
  });

  it('mode 1 on channel 2 waits for a gate edge, then OUT goes low for the count', () => {
    const { bus, clock } = setup();
    bus.write8(0x43, 0xb2); // ch2, word, mode 1
    bus.write8(0x42, 100); bus.write8(0x42, 0);
    clock.advance(tickNs(500));
    assert.equal(bus.read8(0x61) & 0x20, 0x20, 'not triggered: OUT high');
    bus.write8(0x61, 0x01); // gate rising edge
    assert.equal(bus.read8(0x61) & 0x20, 0, 'triggered: OUT low');
    clock.advance(tickNs(100));
    assert.equal(bus.read8(0x61) & 0x20, 0x20, 'terminal count: OUT high again');
  });

  it('a degenerate count (mode 3, count 1) schedules no events instead of one per tick', () => {
    const { bus, clock } = setup();
    bus.write8(0x43, 0x36); bus.write8(0x40, 1); bus.write8(0x40, 0);
    assert.equal(clock.nextDeadline(), undefined);
    bus.write8(0x43, 0x36); bus.write8(0x40, 2); bus.write8(0x40, 0);
    assert.ok(clock.nextDeadline() !== undefined, 'count 2 toggles every tick, as the hardware does');
  });

  it('the refresh bit of port 0x61 toggles with virtual time', () => {
    const { bus, clock } = setup();
    const a = bus.read8(0x61) & 0x10;
    clock.advance(15_085);
    assert.notEqual(bus.read8(0x61) & 0x10, a);
  });

  it('save → restore → identical behaviour (counter phase and IRQ timer)', () => {
    const a = setup();
    a.bus.write8(0x43, 0x34); a.bus.write8(0x40, 0x9b); a.bus.write8(0x40, 0x2e);
    runFor(a.clock, 3_333_333);
    const b = setup();
    b.clock.restoreState(roundTrip(a.clock.saveState()));
    b.pit.restoreState(roundTrip(a.pit.saveState()));
    for (const s of [a, b]) { s.irq.rises[0] = 0; runFor(s.clock, 100e6); }
    assert.equal(b.irq.rises[0], a.irq.rises[0]);
    assert.equal(b.pit.count(0), a.pit.count(0));
  });
});
