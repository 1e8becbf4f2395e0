import assert from 'node:assert/strict';
import { PicPair } from '../../../emulator/src/devices/i8259';
import { rig, roundTrip } from './rig';

/** Linux's init_8259A sequence: ICW1 0x11, ICW2 vector base, ICW3 cascade, ICW4 8086 mode. */
function linuxInit(bus: ReturnType<typeof rig>['bus'], autoEoi = false): void {
  bus.write8(0x21, 0xff); bus.write8(0xa1, 0xff);
  bus.write8(0x20, 0x11); bus.write8(0x21, 0x30); bus.write8(0x21, 0x04); bus.write8(0x21, autoEoi ? 0x03 : 0x01);
  bus.write8(0xa0, 0x11); bus.write8(0xa1, 0x38); bus.write8(0xa1, 0x02); bus.write8(0xa1, 0x01);
  bus.write8(0x21, 0x00); bus.write8(0xa1, 0x00);
}

function setup(autoEoi = false) {
  const r = rig();
  const pic = new PicPair();
  pic.register(r.bus);
  linuxInit(r.bus, autoEoi);
  return { ...r, pic };
}

describe('devices: i8259 PIC pair', () => {
  it('delivers an edge IRQ with the programmed vector and holds lower priorities until EOI', () => {
    const { bus, pic } = setup();
    assert.equal(pic.hasInterrupt(), false);
    pic.setIrq(3, true);
    pic.setIrq(1, true);
    assert.equal(pic.hasInterrupt(), true);
    assert.equal(pic.acknowledge(), 0x31, 'IRQ 1 outranks IRQ 3');
    assert.equal(pic.hasInterrupt(), false, 'IRQ 3 waits while IRQ 1 is in service');
    bus.write8(0x20, 0x0b); // OCW3: read ISR
    assert.equal(bus.read8(0x20), 0x02);
    bus.write8(0x20, 0x20); // non-specific EOI
    assert.equal(pic.hasInterrupt(), true);
    assert.equal(pic.acknowledge(), 0x33);
    bus.write8(0x20, 0x63); // specific EOI for 3
    bus.write8(0x20, 0x0a); // OCW3: read IRR
    assert.equal(bus.read8(0x20), 0x00);
  });

  it('cascades the slave through IRQ 2 and masks through the IMR', () => {
    const { bus, pic } = setup();
    bus.write8(0xa1, 0x01); // mask IRQ 8
    pic.setIrq(8, true);
    assert.equal(pic.hasInterrupt(), false);
    assert.equal(bus.read8(0xa1), 0x01);
    bus.write8(0xa1, 0x00);
    assert.equal(pic.hasInterrupt(), true);
    assert.equal(pic.acknowledge(), 0x38);
    bus.write8(0xa0, 0x20); bus.write8(0x20, 0x20);
    pic.setIrq(14, true);
    assert.equal(pic.acknowledge(), 0x3e);
  });

  it('edge inputs need a new rising edge; level inputs (ELCR) stay pending while high', () => {
    const { bus, pic } = setup(true);
    pic.setIrq(4, true);
    assert.equal(pic.acknowledge(), 0x34);
    assert.equal(pic.hasInterrupt(), false, 'auto-EOI: nothing in service, edge consumed');
    pic.setIrq(4, true);
    assert.equal(pic.hasInterrupt(), false, 'no new edge');
    bus.write8(0x4d1, 0x08); // IRQ 11 level-triggered
    assert.equal(bus.read8(0x4d1), 0x08);
    pic.setIrq(11, true);
    assert.equal(pic.acknowledge(), 0x3b);
    assert.equal(pic.hasInterrupt(), false, 'in service on the slave (no auto-EOI there)');
    bus.write8(0xa0, 0x20);
    assert.equal(pic.hasInterrupt(), true, 'level still high: requested again after EOI');
    pic.setIrq(11, false);
    // The cascade input latched the edge; with the slave request gone the INTA finds nothing:
    // a spurious IRQ 15, as on the real part.
    assert.equal(pic.acknowledge(), 0x3f);
    assert.equal(pic.hasInterrupt(), false);
  });

  it('poll mode returns 0x80|irq and acknowledges; spurious IRQ 7 when nothing is pending', () => {
    const { bus, pic } = setup();
    pic.setIrq(5, true);
    bus.write8(0x20, 0x0c); // OCW3 poll
    assert.equal(bus.read8(0x20), 0x85);
    bus.write8(0x20, 0x0b);
    assert.equal(bus.read8(0x20), 0x20, 'IRQ 5 in service after poll');
    bus.write8(0x20, 0x20);
    assert.equal(pic.acknowledge(), 0x37);
  });

  it('special mask mode lets a lower priority through while a higher one is in service', () => {
    const { bus, pic } = setup();
    pic.setIrq(1, true);
    assert.equal(pic.acknowledge(), 0x31);
    bus.write8(0x21, 0x02); // mask IRQ 1 (in service)
    bus.write8(0x20, 0x68); // OCW3: set special mask
    pic.setIrq(6, true);
    assert.equal(pic.hasInterrupt(), true);
    assert.equal(pic.acknowledge(), 0x36);
  });

  it('save → restore → identical behaviour', () => {
    const a = setup();
    a.pic.setIrq(3, true); a.pic.setIrq(9, true);
    a.pic.acknowledge();
    const b = setup();
    b.pic.restoreState(roundTrip(a.pic.saveState()));
    for (const s of [a, b]) { s.bus.write8(0x20, 0x20); s.pic.setIrq(5, true); }
    const trace = (s: typeof a) => [s.pic.acknowledge(), s.pic.acknowledge(), s.pic.hasInterrupt(), s.bus.read8(0x21)];
    assert.deepEqual(trace(b), trace(a));
  });
});
