// VGA, text modes: the register files (misc output, sequencer, graphics controller, attribute
// controller, DAC, CRTC at 0x3D4/0x3D5 or 0x3B4/0x3B5, input status with its retrace toggle)
// that SeaBIOS's vgabios programs, and the 128 KiB memory window at 0xA0000-0xBFFFF. The window
// is kept linear (no plane interleaving): text modes live at 0xB8000 as character/attribute
// pairs, which is all text mode needs; planar graphics modes are a later addition.
// textScreen() gives the visible 80×25 (or as programmed) screen and the cursor.
import type { IoBus } from '../bus/ioBus';
import type { Device } from './device';

export const VGA_WINDOW_BASE = 0xa0000;
export const VGA_WINDOW_SIZE = 0x20000;

export interface TextScreen {
  /** 'text' unless the attribute controller is in graphics mode. */
  mode: 'text' | 'graphics';
  cols: number;
  rows: number;
  /** Code page 437 character codes, row-major. */
  chars: Uint8Array;
  /** Attribute bytes (low nibble foreground, high nibble background/blink). */
  attrs: Uint8Array;
  cursor: { row: number; col: number; visible: boolean };
  /** The characters as lines of text (CP437 mapped to Unicode, trailing spaces trimmed). */
  lines: string[];
}

export interface VgaState {
  misc: number; seqIndex: number; seq: number[]; gcIndex: number; gc: number[]; attrIndex: number; attr: number[];
  attrFlip: boolean; crtcIndex: number; crtc: number[]; dacMask: number; dacReadIndex: number; dacWriteIndex: number;
  dacComponent: number; dac: number[]; st01: number; featureControl: number; vram: Uint8Array;
}

/** CP437 → Unicode for 0x80-0xFF and the graphic glyphs of control codes (for `lines`). */
const CP437_HIGH = 'ÇüéâäàåçêëèïîìÄÅÉæÆôöòûùÿÖÜ¢£¥₧ƒáíóúñÑªº¿⌐¬½¼¡«»░▒▓│┤╡╢╖╕╣║╗╝╜╛┐└┴┬├─┼╞╟╚╔╩╦╠═╬╧╨╤╥╙╘╒╓╫╪┘┌█▄▌▐▀αßΓπΣσµτΦΘΩδ∞φε∩≡±≥≤⌠⌡÷≈°∙·√ⁿ²■\u00a0';
const CP437_LOW = '\u0000☺☻♥♦♣♠•◘○◙♂♀♪♫☼►◄↕‼¶§▬↨↑↓→←∟↔▲▼';

export function cp437(code: number): string {
  if (code < 0x20) return code === 0 ? ' ' : CP437_LOW[code];
  if (code < 0x7f) return String.fromCharCode(code);
  if (code === 0x7f) return '⌂';
  return CP437_HIGH[code - 0x80];
}

export class Vga implements Device {
  readonly name = 'vga';
  /** The 0xA0000-0xBFFFF window. The machine maps it (or hands it to the CPU's memory map). */
  readonly vram: Uint8Array;
  private misc = 0x67; // colour, RAM enabled, 28 MHz clock (mode 3)
  private seqIndex = 0;
  private seq = new Uint8Array(8);
  private gcIndex = 0;
  private gc = new Uint8Array(16);
  private attrIndex = 0;
  private attr = new Uint8Array(32);
  /** Attribute controller flip-flop: false = next write to 0x3C0 is an index. */
  private attrFlip = false;
  private crtcIndex = 0;
  private crtc = new Uint8Array(32);
  private dacMask = 0xff;
  private dacReadIndex = 0;
  private dacWriteIndex = 0;
  private dacComponent = 0;
  private dac = new Uint8Array(768);
  private st01 = 0;
  private featureControl = 0;
  /** Bumped on every VRAM or register write, so the host can skip unchanged screen updates. */
  version = 0;

  constructor(vram?: Uint8Array) {
    if (vram && vram.length < VGA_WINDOW_SIZE) throw new RangeError('VGA window must be 128 KiB');
    this.vram = vram ?? new Uint8Array(VGA_WINDOW_SIZE);
    this.setMode3Defaults();
  }

  /** Register values of BIOS mode 3 (80×25 colour text), so a firmware-less boot has a screen. */
  private setMode3Defaults(): void {
    this.seq.set([0x03, 0x00, 0x03, 0x00, 0x02]);
    this.gc.set([0x00, 0x00, 0x00, 0x00, 0x00, 0x10, 0x0e, 0x00, 0xff]);
    this.crtc.set([0x5f, 0x4f, 0x50, 0x82, 0x55, 0x81, 0xbf, 0x1f, 0x00, 0x4f, 0x0d, 0x0e, 0x00, 0x00, 0x00, 0x00,
      0x9c, 0x8e, 0x8f, 0x28, 0x1f, 0x96, 0xb9, 0xa3, 0xff]);
    this.attr.set([0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x14, 0x07, 0x38, 0x39, 0x3a, 0x3b, 0x3c, 0x3d, 0x3e, 0x3f,
      0x0c, 0x00, 0x0f, 0x08, 0x00]);
    this.attrIndex = 0x20; // palette address source: display enabled
  }

  register(bus: IoBus): void {
    bus.register(0x3c0, 16, { read8: (p) => this.readPort(p), write8: (p, v) => this.writePort(p, v) });
    bus.register(0x3b4, 2, { read8: (p) => this.readPort(p), write8: (p, v) => this.writePort(p, v) });
    bus.register(0x3ba, 1, { read8: (p) => this.readPort(p), write8: (p, v) => this.writePort(p, v) });
    bus.register(0x3d4, 2, { read8: (p) => this.readPort(p), write8: (p, v) => this.writePort(p, v) });
    bus.register(0x3da, 1, { read8: (p) => this.readPort(p), write8: (p, v) => this.writePort(p, v) });
  }

  /** CPU access to the 0xA0000-0xBFFFF window (physical address). */
  readMem(address: number): number {
    return this.vram[(address - VGA_WINDOW_BASE) & (VGA_WINDOW_SIZE - 1)];
  }

  writeMem(address: number, value: number): void {
    this.vram[(address - VGA_WINDOW_BASE) & (VGA_WINDOW_SIZE - 1)] = value;
    this.version++;
  }

  private get colorIo(): boolean { return (this.misc & 1) !== 0; }

  private readPort(port: number): number {
    // The CRTC and input status live at 0x3Dx in colour mode and 0x3Bx in mono mode.
    if ((port >= 0x3b0 && port <= 0x3bf && this.colorIo) || (port >= 0x3d0 && port <= 0x3df && !this.colorIo)) return 0xff;
    switch (port) {
      case 0x3c0: return this.attrIndex;
      case 0x3c1: return this.attr[this.attrIndex & 0x1f];
      case 0x3c2: return 0x10; // input status 0: switch sense
      case 0x3c3: return 1; // video subsystem enabled
      case 0x3c4: return this.seqIndex;
      case 0x3c5: return this.seq[this.seqIndex & 7];
      case 0x3c6: return this.dacMask;
      case 0x3c7: return 0x03; // DAC state: read mode
      case 0x3c8: return this.dacWriteIndex;
      case 0x3c9: {
        const v = this.dac[this.dacReadIndex * 3 + this.dacComponent];
        if (++this.dacComponent === 3) { this.dacComponent = 0; this.dacReadIndex = (this.dacReadIndex + 1) & 0xff; }
        return v;
      }
      case 0x3ca: return this.featureControl;
      case 0x3cc: return this.misc;
      case 0x3ce: return this.gcIndex;
      case 0x3cf: return this.gc[this.gcIndex & 15];
      case 0x3b4: case 0x3d4: return this.crtcIndex;
      case 0x3b5: case 0x3d5: return this.crtc[this.crtcIndex & 0x1f];
      case 0x3ba: case 0x3da:
        // Toggle display-enable and vertical retrace on every read, so polling loops finish
        // deterministically; reading also resets the attribute flip-flop.
        this.attrFlip = false;
        this.st01 ^= 0x09;
        return this.st01;
      default: return 0xff;
    }
  }

  private writePort(port: number, value: number): void {
    if ((port >= 0x3b0 && port <= 0x3bf && this.colorIo) || (port >= 0x3d0 && port <= 0x3df && !this.colorIo)) return;
    this.version++;
    switch (port) {
      case 0x3c0:
        if (!this.attrFlip) this.attrIndex = value & 0x3f;
        else if ((this.attrIndex & 0x1f) < 0x15) this.attr[this.attrIndex & 0x1f] = value;
        this.attrFlip = !this.attrFlip;
        return;
      case 0x3c2: this.misc = value; return;
      case 0x3c4: this.seqIndex = value & 7; return;
      case 0x3c5: this.seq[this.seqIndex & 7] = value; return;
      case 0x3c6: this.dacMask = value; return;
      case 0x3c7: this.dacReadIndex = value; this.dacComponent = 0; return;
      case 0x3c8: this.dacWriteIndex = value; this.dacComponent = 0; return;
      case 0x3c9:
        this.dac[this.dacWriteIndex * 3 + this.dacComponent] = value & 0x3f;
        if (++this.dacComponent === 3) { this.dacComponent = 0; this.dacWriteIndex = (this.dacWriteIndex + 1) & 0xff; }
        return;
      case 0x3ba: case 0x3da: this.featureControl = value; return;
      case 0x3ce: this.gcIndex = value & 15; return;
      case 0x3cf: this.gc[this.gcIndex & 15] = value; return;
      case 0x3b4: case 0x3d4: this.crtcIndex = value & 0x1f; return;
      case 0x3b5: case 0x3d5: {
        const i = this.crtcIndex & 0x1f;
        // CRTC registers 0-7 are write-protected when bit 7 of register 0x11 is set (except 7's line-compare bit).
        if (i <= 7 && (this.crtc[0x11] & 0x80)) { if (i === 7) this.crtc[7] = (this.crtc[7] & ~0x10) | (value & 0x10); return; }
        if (i < 0x19) this.crtc[i] = value;
        return;
      }
      default: return;
    }
  }

  /** The visible text screen as the registers describe it. */
  textScreen(): TextScreen {
    const graphics = (this.attr[0x10] & 1) !== 0;
    const cols = this.crtc[1] + 1;
    const vde = this.crtc[0x12] | ((this.crtc[7] & 0x02) << 7) | ((this.crtc[7] & 0x40) << 3);
    const cellHeight = (this.crtc[9] & 0x1f) + 1;
    const rows = Math.max(1, Math.min(100, Math.floor((vde + 1) / cellHeight)));
    // Memory map select (GC 6 bits 2-3): where the window starts inside 0xA0000-0xBFFFF.
    const map = (this.gc[6] >> 2) & 3;
    const windowOffset = map === 2 ? 0x10000 : map === 3 ? 0x18000 : 0;
    const start = ((this.crtc[0x0c] << 8) | this.crtc[0x0d]) * 2;
    const chars = new Uint8Array(cols * rows);
    const attrs = new Uint8Array(cols * rows);
    for (let i = 0; i < cols * rows; i++) {
      const at = windowOffset + ((start + i * 2) & 0x7fff);
      chars[i] = this.vram[at];
      attrs[i] = this.vram[at + 1];
    }
    const cursorAddr = ((this.crtc[0x0e] << 8) | this.crtc[0x0f]) - (start >> 1);
    const visible = (this.crtc[0x0a] & 0x20) === 0 && cursorAddr >= 0 && cursorAddr < cols * rows;
    const lines: string[] = [];
    for (let r = 0; r < rows; r++) {
      let s = '';
      for (let c = 0; c < cols; c++) s += cp437(chars[r * cols + c]);
      lines.push(s.replace(/\s+$/u, ''));
    }
    return {
      mode: graphics ? 'graphics' : 'text', cols, rows, chars, attrs, lines,
      cursor: { row: Math.floor(Math.max(0, cursorAddr) / cols), col: Math.max(0, cursorAddr) % cols, visible },
    };
  }

  reset(): void {
    this.misc = 0x67; this.seq.fill(0); this.gc.fill(0); this.attr.fill(0); this.crtc.fill(0);
    this.setMode3Defaults();
    this.attrFlip = false; this.dacMask = 0xff; this.st01 = 0;
  }

  saveState(): VgaState {
    return {
      misc: this.misc, seqIndex: this.seqIndex, seq: Array.from(this.seq), gcIndex: this.gcIndex, gc: Array.from(this.gc),
      attrIndex: this.attrIndex, attr: Array.from(this.attr), attrFlip: this.attrFlip, crtcIndex: this.crtcIndex,
      crtc: Array.from(this.crtc), dacMask: this.dacMask, dacReadIndex: this.dacReadIndex, dacWriteIndex: this.dacWriteIndex,
      dacComponent: this.dacComponent, dac: Array.from(this.dac), st01: this.st01, featureControl: this.featureControl,
      vram: this.vram.slice(),
    };
  }

  restoreState(state: unknown): void {
    const s = state as VgaState;
    Object.assign(this, {
      misc: s.misc, seqIndex: s.seqIndex, gcIndex: s.gcIndex, attrIndex: s.attrIndex, attrFlip: s.attrFlip, crtcIndex: s.crtcIndex,
      dacMask: s.dacMask, dacReadIndex: s.dacReadIndex, dacWriteIndex: s.dacWriteIndex, dacComponent: s.dacComponent,
      st01: s.st01, featureControl: s.featureControl,
    });
    this.seq.set(s.seq); this.gc.set(s.gc); this.attr.set(s.attr); this.crtc.set(s.crtc); this.dac.set(s.dac); this.vram.set(s.vram);
    this.version++;
  }
}
