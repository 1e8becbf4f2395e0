// Intel 8042 keyboard controller with a PS/2 keyboard (and a minimal PS/2 mouse so probes get
// answers) at ports 0x60 (data) and 0x64 (status/command). The keyboard speaks scancode set 2;
// with command-byte bit 6 the controller translates to set 1 as a PC/AT does. IRQ 1 and 12
// follow the output buffer. The output port drives A20 (bit 1) and the CPU reset line (bit 0):
// command 0xFE (pulse bit 0) asks the machine for a reset.
import type { IoBus } from '../bus/ioBus';
import type { Device } from './device';
import type { A20Gate, IrqSink, ResetRequest } from './signals';

const ST_OBF = 0x01, ST_SYS = 0x04, ST_CMD = 0x08, ST_UNLOCKED = 0x10, ST_AUX_OBF = 0x20;
const CCB_KBD_INT = 0x01, CCB_AUX_INT = 0x02, CCB_SYS = 0x04, CCB_KBD_OFF = 0x10, CCB_AUX_OFF = 0x20, CCB_XLATE = 0x40;
const QUEUE_LIMIT = 256;
/** In the controller queue: this byte goes out as AUX data (status bit 5, IRQ 12). */
const CTRL_AUX = 0x100;

/** Set 2 → set 1 translation of the 8042 (make codes; break codes are the result | 0x80). */
const XLATE = (() => {
  const t = new Uint8Array(256);
  const low = [
    0xff, 0x43, 0x41, 0x3f, 0x3d, 0x3b, 0x3c, 0x58, 0x64, 0x44, 0x42, 0x40, 0x3e, 0x0f, 0x29, 0x59,
    0x65, 0x38, 0x2a, 0x70, 0x1d, 0x10, 0x02, 0x5a, 0x66, 0x71, 0x2c, 0x1f, 0x1e, 0x11, 0x03, 0x5b,
    0x67, 0x2e, 0x2d, 0x20, 0x12, 0x05, 0x04, 0x5c, 0x68, 0x39, 0x2f, 0x21, 0x14, 0x13, 0x06, 0x5d,
    0x69, 0x31, 0x30, 0x23, 0x22, 0x15, 0x07, 0x5e, 0x6a, 0x72, 0x32, 0x24, 0x16, 0x08, 0x09, 0x5f,
    0x6b, 0x33, 0x25, 0x17, 0x18, 0x0b, 0x0a, 0x60, 0x6c, 0x34, 0x35, 0x26, 0x27, 0x19, 0x0c, 0x61,
    0x6d, 0x73, 0x28, 0x74, 0x1a, 0x0d, 0x62, 0x6e, 0x3a, 0x36, 0x1c, 0x1b, 0x75, 0x2b, 0x63, 0x76,
    0x55, 0x56, 0x77, 0x78, 0x79, 0x7a, 0x0e, 0x7b, 0x7c, 0x4f, 0x7d, 0x4b, 0x47, 0x7e, 0x7f, 0x6f,
    0x52, 0x53, 0x50, 0x4c, 0x4d, 0x48, 0x01, 0x45, 0x57, 0x4e, 0x51, 0x4a, 0x37, 0x49, 0x46, 0x54,
  ];
  for (let i = 0; i < 256; i++) t[i] = i < 128 ? low[i] : i;
  t[0x83] = 0x41; // F7 has the one set-2 make code above 0x7F
  t[0x84] = 0x54;
  return t;
})();

/** Set 1 make code → set 2 make code (the inverse of XLATE over make codes). */
const SET1_TO_SET2 = (() => {
  const t = new Int16Array(128).fill(-1);
  for (let c = 0x7f; c >= 1; c--) if (XLATE[c] < 0x80) t[XLATE[c]] = c;
  t[0x41] = 0x83; // F7
  return t;
})();

/** Converts set-1 bytes (what a PC keyboard delivers through translation) to set 2. */
export function set1ToSet2(bytes: number[]): number[] {
  const out: number[] = [];
  for (const b of bytes) {
    if (b === 0xe0 || b === 0xe1) { out.push(b); continue; }
    const code = SET1_TO_SET2[b & 0x7f];
    if (code < 0) continue; // no set-2 equivalent: drop
    if (b & 0x80) out.push(0xf0);
    out.push(code);
  }
  return out;
}

export interface I8042State {
  status: number; ccb: number; outputPort: number; pendingCommand: number; out: number; outIsAux: boolean;
  ctrlQueue: number[]; kbdQueue: number[]; auxQueue: number[]; kbdScanning: boolean; kbdPending: number; scancodeSet: number;
  breakPrefix: boolean; auxPending: number; auxStreaming: boolean; ram: number[]; irq1: boolean; irq12: boolean;
}

export class I8042 implements Device {
  readonly name = 'i8042';
  /** After reset the last write counts as a command (A2 set), as QEMU and real parts report. */
  private status = ST_UNLOCKED | ST_CMD;
  private ccb = CCB_KBD_INT | CCB_AUX_INT;
  /** Output port: bit 0 = reset line (1 = running), bit 1 = A20; QEMU's power-on value. */
  private outputPort = 0xcf;
  /** Controller command waiting for its data byte on port 0x60 (0 = none). */
  private pendingCommand = 0;
  private out = 0;
  private outIsAux = false;
  private ctrlQueue: number[] = [];
  private kbdQueue: number[] = [];
  private auxQueue: number[] = [];
  private kbdScanning = true;
  /** Keyboard command waiting for its parameter byte (0 = none). */
  private kbdPending = 0;
  private scancodeSet = 2;
  /** A set-2 0xF0 prefix waiting to be folded into the next translated byte. */
  private breakPrefix = false;
  private auxPending = 0;
  private auxStreaming = false;
  private readonly ram = new Uint8Array(32);
  private irq1 = false;
  private irq12 = false;

  constructor(private readonly irq: IrqSink, private readonly a20: A20Gate, private readonly requestReset: ResetRequest) {}

  register(bus: IoBus): void {
    bus.register(0x60, 1, { read8: () => this.readData(), write8: (_p, v) => this.writeData(v) });
    bus.register(0x64, 1, { read8: () => this.status, write8: (_p, v) => this.command(v) });
  }

  /**
   * Host key event as set-2 bytes (e.g. [0x1c] for A down, [0xf0, 0x1c] for A up,
   * [0xe0, 0x75] for cursor up). Dropped while the keyboard is disabled.
   */
  sendScancodes(bytes: number[]): void {
    if (!this.kbdScanning) return;
    for (const b of bytes) this.queueKbd(b);
  }

  /** Host key event as set-1 bytes (the debug views' screen panel sends these). */
  sendSet1Scancodes(bytes: number[]): void {
    this.sendScancodes(set1ToSet2(bytes));
  }

  private queueKbd(byte: number): void {
    if (this.kbdQueue.length < QUEUE_LIMIT) this.kbdQueue.push(byte);
    this.refill();
  }

  private queueAux(byte: number): void {
    if (this.auxQueue.length < QUEUE_LIMIT) this.auxQueue.push(byte);
    this.refill();
  }

  /** Puts the next byte in the output buffer if it is empty. */
  private refill(): void {
    if (this.status & ST_OBF) return;
    if (this.ctrlQueue.length > 0) {
      const entry = this.ctrlQueue.shift()!;
      this.setOutput(entry & 0xff, (entry & CTRL_AUX) !== 0);
    } else if (this.kbdQueue.length > 0 && !(this.ccb & CCB_KBD_OFF)) {
      let byte = this.kbdQueue.shift()!;
      if (this.ccb & CCB_XLATE) {
        if (byte === 0xf0) { // break prefix: fold into the next byte
          this.breakPrefix = true;
          this.refill();
          return;
        }
        byte = XLATE[byte] | (this.breakPrefix ? 0x80 : 0);
        this.breakPrefix = false;
      }
      this.setOutput(byte, false);
    } else if (this.auxQueue.length > 0 && !(this.ccb & CCB_AUX_OFF)) {
      this.setOutput(this.auxQueue.shift()!, true);
    }
  }

  private setOutput(byte: number, aux: boolean): void {
    this.out = byte;
    this.outIsAux = aux;
    this.status = (this.status | ST_OBF) & ~ST_AUX_OBF;
    if (aux) this.status |= ST_AUX_OBF;
    this.updateIrq();
  }

  /**
   * Controller-generated byte: ahead of device data, never translated, and delivered even while
   * the keyboard or AUX interface is disabled in the command byte (the disable bits only hold
   * the devices' clock lines). `aux` marks it as AUX data — the 0xD3 loopback, which Linux's
   * i8042 probe runs with both interfaces disabled and waits ~0.5 s for when it never arrives.
   */
  private reply(byte: number, aux = false): void {
    if (this.ctrlQueue.length < QUEUE_LIMIT) this.ctrlQueue.push(byte | (aux ? CTRL_AUX : 0));
    this.refill();
  }

  private updateIrq(): void {
    const full = (this.status & ST_OBF) !== 0;
    const i1 = full && !this.outIsAux && (this.ccb & CCB_KBD_INT) !== 0;
    const i12 = full && this.outIsAux && (this.ccb & CCB_AUX_INT) !== 0;
    // Edge-triggered PIC inputs: drop the line before raising it again for the next byte.
    if (i1 !== this.irq1) { this.irq1 = i1; this.irq.setIrq(1, i1); }
    if (i12 !== this.irq12) { this.irq12 = i12; this.irq.setIrq(12, i12); }
  }

  private readData(): number {
    const v = this.out;
    if (this.status & ST_OBF) {
      this.status &= ~(ST_OBF | ST_AUX_OBF);
      this.updateIrq();
      this.refill();
    }
    return v;
  }

  private command(cmd: number): void {
    this.status |= ST_CMD;
    if (cmd >= 0x20 && cmd <= 0x3f) { this.reply(cmd === 0x20 ? this.ccb : this.ram[cmd & 0x1f]); return; }
    if (cmd >= 0x60 && cmd <= 0x7f) { this.pendingCommand = cmd; return; }
    switch (cmd) {
      case 0xa7: this.ccb |= CCB_AUX_OFF; break;
      case 0xa8: this.ccb &= ~CCB_AUX_OFF; this.refill(); break;
      case 0xa9: this.reply(0x00); break; // aux interface test: OK
      case 0xaa: // controller self-test
        this.status |= ST_SYS;
        this.ccb |= CCB_SYS;
        this.reply(0x55);
        break;
      case 0xab: this.reply(0x00); break; // keyboard interface test: OK
      case 0xad: this.ccb |= CCB_KBD_OFF; break;
      case 0xae: this.ccb &= ~CCB_KBD_OFF; this.refill(); break;
      case 0xc0: this.reply(0x80); break; // input port: keyboard not inhibited
      case 0xd0: this.reply((this.outputPort & ~0x30) | ((this.status & ST_OBF) && !this.outIsAux ? 0x10 : 0) | ((this.status & ST_AUX_OBF) ? 0x20 : 0)); break;
      case 0xd1: case 0xd2: case 0xd3: case 0xd4: this.pendingCommand = cmd; break;
      case 0xdd: this.setOutputPort(this.outputPort & ~0x02); break;
      case 0xdf: this.setOutputPort(this.outputPort | 0x02); break;
      case 0xe0: this.reply(0x00); break; // test inputs
      default:
        if (cmd >= 0xf0) {
          // Pulse output-port lines whose bit is 0 in the low nibble; bit 0 is the reset line.
          if (!(cmd & 1)) this.requestReset('i8042');
        }
        break;
    }
  }

  private setOutputPort(value: number): void {
    this.outputPort = value | 0x01;
    this.a20.setInput('kbc', (value & 0x02) !== 0);
    if (!(value & 0x01)) this.requestReset('i8042');
  }

  private writeData(value: number): void {
    this.status &= ~ST_CMD;
    const cmd = this.pendingCommand;
    this.pendingCommand = 0;
    if (cmd >= 0x60 && cmd <= 0x7f) {
      if (cmd === 0x60) {
        this.ccb = value;
        this.status = (this.status & ~ST_SYS) | (value & CCB_SYS);
        this.updateIrq();
        this.refill();
      } else this.ram[cmd & 0x1f] = value;
      return;
    }
    switch (cmd) {
      case 0xd1: this.setOutputPort(value); return;
      case 0xd2: this.reply(value); return;
      case 0xd3: this.reply(value, true); return;
      case 0xd4: this.auxCommand(value); return;
    }
    // A byte for the keyboard clears the "disabled" bit as real controllers do.
    this.ccb &= ~CCB_KBD_OFF;
    this.keyboardCommand(value);
  }

  private keyboardCommand(value: number): void {
    const param = this.kbdPending;
    if (param) {
      this.kbdPending = 0;
      if (param === 0xf0) {
        if (value === 0) { this.queueKbd(0xfa); this.queueKbd(this.scancodeSet); return; }
        if (value >= 1 && value <= 3) this.scancodeSet = value;
      }
      this.queueKbd(0xfa); // LEDs, typematic rate, scancode set
      return;
    }
    switch (value) {
      case 0xed: case 0xf0: case 0xf3: this.kbdPending = value; this.queueKbd(0xfa); return;
      case 0xee: this.queueKbd(0xee); return; // echo
      case 0xf2: // identify: MF2 keyboard (0x41 as seen through translation)
        this.queueKbd(0xfa); this.queueKbd(0xab); this.queueKbd(0x83); // translation turns 0x83 into 0x41
        return;
      case 0xf4: this.kbdScanning = true; this.queueKbd(0xfa); return;
      case 0xf5: this.kbdScanning = false; this.kbdQueue = []; this.queueKbd(0xfa); return;
      case 0xf6: this.kbdScanning = true; this.scancodeSet = 2; this.queueKbd(0xfa); return;
      case 0xff: // reset: ACK then self-test passed
        this.kbdScanning = true; this.scancodeSet = 2; this.kbdQueue = [];
        this.queueKbd(0xfa); this.queueKbd(0xaa);
        return;
      default: this.queueKbd(0xfa); return;
    }
  }

  /** Minimal PS/2 mouse: acknowledges commands and answers identify/reset/status. */
  private auxCommand(value: number): void {
    if (this.auxPending) { this.auxPending = 0; this.queueAux(0xfa); return; }
    switch (value) {
      case 0xe8: case 0xf3: this.auxPending = value; this.queueAux(0xfa); return; // resolution, rate
      case 0xe9: this.queueAux(0xfa); this.queueAux(0x00); this.queueAux(0x02); this.queueAux(0x64); return;
      case 0xf2: this.queueAux(0xfa); this.queueAux(0x00); return;
      case 0xf4: this.auxStreaming = true; this.queueAux(0xfa); return;
      case 0xf5: this.auxStreaming = false; this.queueAux(0xfa); return;
      case 0xff: this.auxStreaming = false; this.queueAux(0xfa); this.queueAux(0xaa); this.queueAux(0x00); return;
      default: this.queueAux(0xfa); return;
    }
  }

  reset(): void {
    Object.assign(this, {
      status: ST_UNLOCKED | ST_CMD, ccb: CCB_KBD_INT | CCB_AUX_INT, outputPort: 0xcf, pendingCommand: 0, out: 0, outIsAux: false,
      ctrlQueue: [], kbdQueue: [], auxQueue: [], kbdScanning: true, kbdPending: 0, scancodeSet: 2, breakPrefix: false, auxPending: 0, auxStreaming: false,
    });
    this.ram.fill(0);
    this.updateIrq();
  }

  saveState(): I8042State {
    return {
      status: this.status, ccb: this.ccb, outputPort: this.outputPort, pendingCommand: this.pendingCommand, out: this.out,
      outIsAux: this.outIsAux, ctrlQueue: [...this.ctrlQueue], kbdQueue: [...this.kbdQueue], auxQueue: [...this.auxQueue], kbdScanning: this.kbdScanning,
      kbdPending: this.kbdPending, scancodeSet: this.scancodeSet, breakPrefix: this.breakPrefix, auxPending: this.auxPending,
      auxStreaming: this.auxStreaming, ram: Array.from(this.ram), irq1: this.irq1, irq12: this.irq12,
    };
  }

  restoreState(state: unknown): void {
    const s = state as I8042State;
    const { ram, ctrlQueue, kbdQueue, auxQueue, ...rest } = s;
    Object.assign(this, rest);
    this.ctrlQueue = [...ctrlQueue];
    this.kbdQueue = [...kbdQueue];
    this.auxQueue = [...auxQueue];
    this.ram.set(ram);
  }
}
