import assert from 'node:assert/strict';
import { COM1, COM2, Uart16550 } from '../../../emulator/src/devices/uart16550';
import { rig, roundTrip, runFor } from './rig';

function setup() {
  const r = rig();
  const com1 = new Uart16550(r.clock, r.irq, COM1.base, COM1.irq);
  const com2 = new Uart16550(r.clock, r.irq, COM2.base, COM2.irq);
  com1.register(r.bus); com2.register(r.bus);
  const out: number[] = [];
  com1.onTransmit = (b) => out.push(b);
  return { ...r, com1, com2, out };
}

const B = 0x3f8;

describe('devices: 16550A UART', () => {
  it('passes Linux 8250 autoconfig: scratch, FIFO id 0xC0 in IIR, loopback MSR 0x90', () => {
    const { bus } = setup();
    bus.write8(B + 7, 0xa5); assert.equal(bus.read8(B + 7), 0xa5);
    bus.write8(B + 2, 0x07); // enable + clear FIFOs
    assert.equal(bus.read8(B + 2) & 0xc0, 0xc0, '16550A: FIFOs enabled');
    bus.write8(B + 4, 0x10 | 0x0a); // loopback, RTS, OUT2
    assert.equal(bus.read8(B + 6) & 0xf0, 0x90);
    bus.write8(B + 4, 0);
    assert.equal(bus.read8(B + 6), 0xb0, 'CTS, DSR, DCD from the attached terminal');
  });

  it('divisor latch via DLAB; transmitted bytes reach the sink; loopback echoes into RBR', () => {
    const { bus, out } = setup();
    bus.write8(B + 3, 0x80); bus.write8(B, 0x01); bus.write8(B + 1, 0x00); bus.write8(B + 3, 0x03);
    bus.write8(B + 3, 0x83); assert.equal(bus.read8(B), 1); bus.write8(B + 3, 0x03);
    for (const c of 'hi') bus.write8(B, c.charCodeAt(0));
    assert.equal(String.fromCharCode(...out), 'hi');
    assert.equal(bus.read8(B + 5) & 0x60, 0x60, 'THRE and TEMT');
    bus.write8(B + 4, 0x10);
    bus.write8(B, 0x42);
    assert.equal(out.length, 2, 'loopback does not transmit');
    assert.equal(bus.read8(B + 5) & 1, 1);
    assert.equal(bus.read8(B), 0x42);
  });

  it('THRE interrupt on IRQ 4 (gated by OUT2), cleared by reading IIR', () => {
    const { bus, irq } = setup();
    bus.write8(B + 4, 0x08); // OUT2
    bus.write8(B + 1, 0x02); // ETBEI: THR already empty → interrupt
    assert.equal(irq.levels[4], true);
    assert.equal(bus.read8(B + 2) & 0x0f, 0x02);
    assert.equal(irq.levels[4], false);
    assert.equal(bus.read8(B + 2) & 0x01, 1, 'no interrupt pending');
    bus.write8(B, 0x41);
    assert.equal(irq.levels[4], true, 'raised again once the byte has gone');
    bus.write8(B + 4, 0x00);
    assert.equal(irq.levels[4], false, 'OUT2 low disconnects the IRQ line');
  });

  it('RX FIFO: trigger level interrupt, then character timeout for the remainder', () => {
    const { bus, irq, clock, com1 } = setup();
    bus.write8(B + 2, 0x81); // FIFO on, trigger 8
    bus.write8(B + 4, 0x08);
    bus.write8(B + 1, 0x01);
    com1.receive('abc');
    assert.equal(irq.levels[4], false, 'below trigger level');
    runFor(clock, 10_000_000); // > 4 character times at 9600 baud
    assert.equal(irq.levels[4], true);
    assert.equal(bus.read8(B + 2) & 0x0f, 0x0c, 'character timeout');
    const got = [bus.read8(B), bus.read8(B), bus.read8(B)];
    assert.equal(String.fromCharCode(...got), 'abc');
    assert.equal(irq.levels[4], false);
    com1.receive('0123456789abcdefXYZ');
    assert.equal(bus.read8(B + 2) & 0x0f, 0x04, 'received data available at trigger level');
    let s = '';
    while (bus.read8(B + 5) & 1) s += String.fromCharCode(bus.read8(B));
    assert.equal(s, '0123456789abcdefXYZ', 'queued input follows as the FIFO drains');
  });

  it('COM2 is independent at 0x2F8 on IRQ 3', () => {
    const { bus, irq } = setup();
    bus.write8(0x2f8 + 4, 0x08); bus.write8(0x2f8 + 1, 0x02);
    assert.equal(irq.levels[3], true);
    assert.equal(irq.levels[4], false);
  });

  it('save → restore → identical behaviour', () => {
    const a = setup();
    a.bus.write8(B + 2, 0xc1); a.bus.write8(B + 4, 0x08); a.bus.write8(B + 1, 0x01);
    a.com1.receive('hello world, this is more than sixteen');
    const b = setup();
    b.clock.restoreState(roundTrip(a.clock.saveState()));
    b.com1.restoreState(roundTrip(a.com1.saveState()));
    const trace = (s: typeof a) => { const t: number[] = []; for (let i = 0; i < 45; i++) t.push(s.bus.read8(B + 2), s.bus.read8(B + 5), s.bus.read8(B)); return t; };
    assert.deepEqual(trace(b), trace(a));
  });
});
