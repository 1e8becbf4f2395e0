import assert from 'node:assert/strict';
import { DebugConsole, IsaDebugExit } from '../../../emulator/src/devices/debugPorts';
import { Vga } from '../../../emulator/src/devices/vga';
import { rig, roundTrip } from './rig';

function setup() {
  const r = rig();
  const vga = new Vga();
  vga.register(r.bus);
  return { ...r, vga };
}

function put(vga: Vga, row: number, col: number, text: string, attr = 0x07): void {
  for (let i = 0; i < text.length; i++) {
    const a = 0xb8000 + (row * 80 + col + i) * 2;
    vga.writeMem(a, text.charCodeAt(i));
    vga.writeMem(a + 1, attr);
  }
}

describe('devices: VGA text mode and debug ports', () => {
  it('80x25 text at 0xB8000 with the CRTC cursor', () => {
    const { bus, vga } = setup();
    put(vga, 0, 0, 'SeaBIOS (version 1.16.2)');
    put(vga, 24, 75, 'end', 0x1f);
    bus.write8(0x3d4, 0x0e); bus.write8(0x3d5, 0x00);
    bus.write8(0x3d4, 0x0f); bus.write8(0x3d5, 81);
    const s = vga.textScreen();
    assert.equal(s.mode, 'text');
    assert.deepEqual([s.cols, s.rows], [80, 25]);
    assert.equal(s.lines[0], 'SeaBIOS (version 1.16.2)');
    assert.equal(s.lines[24], ' '.repeat(75) + 'end');
    assert.equal(s.attrs[24 * 80 + 76], 0x1f);
    assert.deepEqual(s.cursor, { row: 1, col: 1, visible: true });
    bus.write8(0x3d4, 0x0a); bus.write8(0x3d5, 0x20);
    assert.equal(vga.textScreen().cursor.visible, false);
  });

  it('start address scrolls the view; attribute flip-flop resets on 0x3DA reads; mono mode hides 0x3Dx', () => {
    const { bus, vga } = setup();
    put(vga, 1, 0, 'second line');
    bus.write8(0x3d4, 0x0c); bus.write8(0x3d5, 0x00);
    bus.write8(0x3d4, 0x0d); bus.write8(0x3d5, 80);
    assert.equal(vga.textScreen().lines[0], 'second line');
    bus.read8(0x3da);
    bus.write8(0x3c0, 0x10); bus.write8(0x3c0, 0x01); // attribute mode control: graphics
    assert.equal(vga.textScreen().mode, 'graphics');
    const a = bus.read8(0x3da), b = bus.read8(0x3da);
    assert.equal(a ^ b, 0x09, 'retrace and display-enable toggle');
    bus.write8(0x3c2, 0x66); // mono I/O addresses
    assert.equal(bus.read8(0x3d5), 0xff);
    bus.write8(0x3b4, 0x0f); assert.equal(bus.read8(0x3b4), 0x0f);
  });

  it('DAC palette writes auto-increment and read back', () => {
    const { bus } = setup();
    bus.write8(0x3c8, 5);
    for (const v of [1, 2, 3, 4, 5, 6]) bus.write8(0x3c9, v);
    bus.write8(0x3c7, 5);
    assert.deepEqual(Array.from({ length: 6 }, () => bus.read8(0x3c9)), [1, 2, 3, 4, 5, 6]);
  });

  it('debug console (0x402 reads 0xE9) and isa-debug-exit (0x501: code (v<<1)|1)', () => {
    const { bus } = rig();
    const con = new DebugConsole(); const exit = new IsaDebugExit();
    con.register(bus); exit.register(bus);
    const out: number[] = []; const codes: number[] = [];
    con.onOutput = (b) => out.push(b); exit.onExit = (c) => codes.push(c);
    assert.equal(bus.read8(0x402), 0xe9);
    for (const c of 'ok\n') bus.write8(0x402, c.charCodeAt(0));
    bus.write8(0x501, 0x10);
    assert.equal(String.fromCharCode(...out), 'ok\n');
    assert.deepEqual(codes, [0x21]);
  });

  it('save → restore → identical behaviour', () => {
    const a = setup();
    put(a.vga, 3, 4, 'hello');
    a.bus.write8(0x3d4, 0x0f); a.bus.write8(0x3d5, 7);
    a.bus.read8(0x3da); a.bus.write8(0x3c0, 0x11);
    const b = setup();
    b.vga.restoreState(roundTrip(a.vga.saveState()));
    for (const s of [a, b]) { s.bus.write8(0x3c0, 0x3f); s.bus.read8(0x3da); }
    assert.deepEqual(b.vga.textScreen(), a.vga.textScreen());
    assert.equal(b.bus.read8(0x3c1), a.bus.read8(0x3c1));
  });
});
