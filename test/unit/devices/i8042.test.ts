import assert from 'node:assert/strict';
import { I8042 } from '../../../emulator/src/devices/i8042';
import { Port92 } from '../../../emulator/src/devices/port92';
import { A20Gate, type ResetSource } from '../../../emulator/src/devices/signals';
import { rig, roundTrip } from './rig';

function setup() {
  const r = rig();
  const a20 = new A20Gate();
  const resets: ResetSource[] = [];
  const kbc = new I8042(r.irq, a20, (s) => resets.push(s));
  const p92 = new Port92(a20, (s) => resets.push(s));
  kbc.register(r.bus); p92.register(r.bus);
  return { ...r, a20, resets, kbc, p92 };
}

function cmd(bus: ReturnType<typeof rig>['bus'], c: number, data?: number): void {
  bus.write8(0x64, c);
  if (data !== undefined) bus.write8(0x60, data);
}

describe('devices: i8042 + PS/2 keyboard, port 0x92', () => {
  it('self-test 0x55, interface tests, command byte read/write, SYS flag', () => {
    const { bus } = setup();
    cmd(bus, 0xaa);
    assert.equal(bus.read8(0x64) & 0x01, 1);
    assert.equal(bus.read8(0x60), 0x55);
    assert.equal(bus.read8(0x64) & 0x04, 0x04, 'system flag after self-test');
    cmd(bus, 0xab); assert.equal(bus.read8(0x60), 0x00);
    cmd(bus, 0x60, 0x65); // SeaBIOS: XLATE | SYS | KBD int, aux disabled
    cmd(bus, 0x20); assert.equal(bus.read8(0x60), 0x65);
  });

  it('keyboard reset and identify; set-2 scancodes translated to set 1 with IRQ 1', () => {
    const { bus, irq, kbc } = setup();
    cmd(bus, 0x60, 0x61); // XLATE + KBD int
    bus.write8(0x60, 0xff);
    assert.equal(bus.read8(0x60), 0xfa);
    assert.equal(bus.read8(0x60), 0xaa);
    bus.write8(0x60, 0xf2);
    assert.deepEqual([bus.read8(0x60), bus.read8(0x60), bus.read8(0x60)], [0xfa, 0xab, 0x41]);
    irq.rises[1] = 0;
    kbc.sendScancodes([0x1c, 0xf0, 0x1c, 0xe0, 0x75]); // A down, A up, cursor up
    const got: number[] = [];
    while (bus.read8(0x64) & 1) got.push(bus.read8(0x60));
    assert.deepEqual(got, [0x1e, 0x9e, 0xe0, 0x48]);
    assert.equal(irq.rises[1], 4, 'one interrupt per byte');
    cmd(bus, 0x60, 0x01); // translation off
    kbc.sendScancodes([0x1c, 0xf0, 0x1c]);
    assert.deepEqual([bus.read8(0x60), bus.read8(0x60), bus.read8(0x60)], [0x1c, 0xf0, 0x1c]);
  });

  it('set-1 input from the screen panel comes back unchanged through translation, as set 2 without it', () => {
    const { bus, kbc } = setup();
    cmd(bus, 0x60, 0x61);
    const keys = [0x1e, 0x9e, 0x1c, 0x9c, 0xe0, 0x48, 0xe0, 0xc8, 0x01, 0x81, 0x41, 0xc1];
    kbc.sendSet1Scancodes(keys);
    const got: number[] = [];
    while (bus.read8(0x64) & 1) got.push(bus.read8(0x60));
    assert.deepEqual(got, keys);
    cmd(bus, 0x60, 0x01);
    kbc.sendSet1Scancodes([0x1e, 0x9e]);
    assert.deepEqual([bus.read8(0x60), bus.read8(0x60), bus.read8(0x60)], [0x1c, 0xf0, 0x1c]);
  });

  it('A20 through the output port (0xD1, 0xDD/0xDF) and port 0x92; resets via 0xFE and 0x92 bit 0', () => {
    const { bus, a20, resets } = setup();
    assert.equal(a20.enabled, true, 'on at power-up (i8042 output port 0xCF)');
    assert.equal(bus.read8(0x92), 0x00, 'fast A20 latch off');
    cmd(bus, 0xd1, 0x01);
    assert.equal(a20.enabled, false);
    cmd(bus, 0xd0); assert.equal(bus.read8(0x60) & 0x03, 0x01);
    cmd(bus, 0xdf); assert.equal(a20.enabled, true);
    cmd(bus, 0xdd); assert.equal(a20.enabled, false);
    bus.write8(0x92, 0x02);
    assert.equal(a20.enabled, true, 'fast A20 alone enables the line');
    assert.equal(bus.read8(0x92), 0x02);
    cmd(bus, 0xdf); bus.write8(0x92, 0x00);
    assert.equal(a20.enabled, true, 'the i8042 input still holds it');
    assert.deepEqual(resets, []);
    cmd(bus, 0xfe);
    bus.write8(0x92, 0x03);
    assert.deepEqual(resets, ['i8042', 'port92']);
  });

  it('answers PS/2 mouse probes through 0xD4 on IRQ 12', () => {
    const { bus, irq } = setup();
    cmd(bus, 0xa8);
    cmd(bus, 0xd4, 0xf2);
    assert.equal(bus.read8(0x64) & 0x21, 0x21, 'aux data in the output buffer');
    assert.equal(irq.levels[12], true);
    assert.deepEqual([bus.read8(0x60), bus.read8(0x60)], [0xfa, 0x00]);
  });

  it('save → restore → identical behaviour', () => {
    const a = setup();
    cmd(a.bus, 0x60, 0x61);
    a.kbc.sendScancodes([0x1c, 0xf0, 0x1c, 0x32]);
    a.bus.read8(0x60);
    const b = setup();
    b.kbc.restoreState(roundTrip(a.kbc.saveState()));
    const trace = (s: typeof a) => [s.bus.read8(0x64), s.bus.read8(0x60), s.bus.read8(0x60), s.bus.read8(0x64)];
    assert.deepEqual(trace(b), trace(a));
  });
});
