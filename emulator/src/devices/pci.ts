// PCI configuration mechanism #1 (address at 0xCF8, data at 0xCFC-0xCFF) with the i440FX host
// bridge (00:00.0) and the PIIX3 ISA bridge (00:01.0) of QEMU's "pc" machine; the PIIX3 IDE
// function (00:01.1) lives in ide.ts and plugs in as a PciFunction. 0xCF9 byte accesses are
// the PIIX reset control register. The i440FX PAM registers (0x59-0x5F) decide whether
// 0xC0000-0xFFFFF reads/writes hit RAM or ROM; the machine remaps through onPamChange.
import type { IoBus } from '../bus/ioBus';
import type { Device } from './device';
import type { ResetRequest } from './signals';

export interface BarSpec { index: number; size: number; io: boolean }

/** One PCI function's 256-byte configuration space with per-byte write masks. */
export class PciFunction {
  readonly config = new Uint8Array(256);
  /** Bits the guest may change, per byte. */
  readonly writable = new Uint8Array(256);
  readonly bars: BarSpec[] = [];
  onBarChange: ((index: number, address: number) => void) | undefined;
  /** Called after any config write (register offset, width). */
  onConfigWrite: ((offset: number, size: number) => void) | undefined;

  constructor(readonly name: string, ids: { vendor: number; device: number; classCode: number; revision?: number; headerType?: number; subsystemVendor?: number; subsystem?: number }) {
    const c = this.config;
    this.set16(0x00, ids.vendor);
    this.set16(0x02, ids.device);
    c[0x08] = ids.revision ?? 0;
    c[0x09] = ids.classCode & 0xff;
    c[0x0a] = (ids.classCode >> 8) & 0xff;
    c[0x0b] = (ids.classCode >> 16) & 0xff;
    c[0x0e] = ids.headerType ?? 0;
    // QEMU gives every device its Red Hat/Qumranet subsystem id; guests see 1af4:1100 there.
    this.set16(0x2c, ids.subsystemVendor ?? 0x1af4);
    this.set16(0x2e, ids.subsystem ?? 0x1100);
    this.writable[0x04] = 0xff; this.writable[0x05] = 0x07; // command register
    this.writable[0x0c] = 0xff; this.writable[0x0d] = 0xff; // cache line size, latency timer
    this.writable[0x3c] = 0xff; // interrupt line
  }

  set16(off: number, v: number): void { this.config[off] = v & 0xff; this.config[off + 1] = (v >> 8) & 0xff; }
  get16(off: number): number { return this.config[off] | (this.config[off + 1] << 8); }
  get32(off: number): number { return (this.get16(off) | (this.get16(off + 2) << 16)) >>> 0; }

  /** Declares a base address register of power-of-two `size` bytes. */
  addBar(index: number, size: number, io: boolean): void {
    this.bars.push({ index, size, io });
    const off = 0x10 + index * 4;
    const mask = ~(size - 1) >>> 0;
    const low = io ? 0x01 : 0x00;
    this.config.set([low, 0, 0, 0], off);
    for (let i = 0; i < 4; i++) this.writable[off + i] = (mask >>> (i * 8)) & 0xff;
    this.writable[off] &= io ? 0xfc : 0xf0; // type bits are read-only
  }

  barAddress(index: number): number {
    const v = this.get32(0x10 + index * 4);
    const bar = this.bars.find((b) => b.index === index);
    return bar?.io ? v & 0xfffc : v & 0xfffffff0;
  }

  read(offset: number, size: number): number {
    let v = 0;
    for (let i = 0; i < size; i++) v |= this.config[(offset + i) & 0xff] << (8 * i);
    return v >>> 0;
  }

  write(offset: number, size: number, value: number): void {
    const barsBefore = this.bars.map((b) => this.barAddress(b.index));
    for (let i = 0; i < size; i++) {
      const off = (offset + i) & 0xff;
      const m = this.writable[off];
      const byte = (value >>> (8 * i)) & 0xff;
      if (off === 0x06 || off === 0x07) { this.config[off] &= ~byte; continue; } // status: write 1 to clear
      this.config[off] = (this.config[off] & ~m) | (byte & m);
    }
    this.bars.forEach((b, i) => {
      const now = this.barAddress(b.index);
      if (now !== barsBefore[i]) this.onBarChange?.(b.index, now);
    });
    this.onConfigWrite?.(offset, size);
  }
}

/** Attributes of one PAM-controlled segment: whether reads and writes go to RAM (else ROM/bus). */
export interface PamRegion { base: number; size: number; readRam: boolean; writeRam: boolean }

export function i440fxHostBridge(): PciFunction {
  const f = new PciFunction('i440fx', { vendor: 0x8086, device: 0x1237, classCode: 0x060000, revision: 0x02 });
  f.set16(0x06, 0x0000);
  for (let r = 0x59; r <= 0x5f; r++) f.writable[r] = 0x33; // PAM0-PAM6: RE/WE per half
  f.writable[0x72] = 0x78; // SMRAM control (D_OPEN, D_CLS, D_LCK, G_SMRAME) — stored only
  f.config[0x72] = 0x02;
  return f;
}

export function piix3IsaBridge(): PciFunction {
  const f = new PciFunction('piix3-isa', { vendor: 0x8086, device: 0x7000, classCode: 0x060100, headerType: 0x80 });
  f.set16(0x06, 0x0200); // DEVSEL medium; command register starts at 0 as on QEMU
  for (let r = 0x60; r <= 0x63; r++) { f.config[r] = 0x80; f.writable[r] = 0x8f; } // PIRQ routing, disabled
  f.config[0x4c] = 0x4d; f.writable[0x4c] = 0xff; // ISA recovery timer
  f.config[0x69] = 0x02; f.writable[0x69] = 0xfe; // top of memory
  f.config[0x70] = 0x80; f.writable[0x70] = 0xef; // motherboard IRQ routing
  f.config[0x76] = 0x0c; f.config[0x77] = 0x0c; f.writable[0x76] = 0x8f; f.writable[0x77] = 0x8f;
  f.config[0x78] = 0x02; // PCSC
  f.config[0xa0] = 0x08; f.writable[0xa0] = 0xff; // SMI control
  return f;
}

export interface PciHostState { address: number; rcr: number; functions: { slot: number; fn: number; config: number[] }[] }

export class PciHost implements Device {
  readonly name = 'pci';
  private address = 0;
  /** PIIX reset control register (0xCF9). */
  private rcr = 0;
  private readonly functions = new Map<number, PciFunction>(); // key: devfn
  readonly hostBridge = i440fxHostBridge();
  readonly isaBridge = piix3IsaBridge();
  /** Called with all 13 PAM segments whenever a PAM register changes. */
  onPamChange: ((regions: PamRegion[]) => void) | undefined;

  constructor(private readonly requestReset?: ResetRequest) {
    this.attach(0, 0, this.hostBridge);
    this.attach(1, 0, this.isaBridge);
    this.hostBridge.onConfigWrite = (off, size) => {
      if (off + size > 0x59 && off <= 0x5f) this.onPamChange?.(this.pamRegions());
    };
  }

  attach(slot: number, fn: number, f: PciFunction): void {
    const devfn = (slot << 3) | fn;
    if (this.functions.has(devfn)) throw new Error(`PCI 00:${slot.toString(16).padStart(2, '0')}.${fn} is already in use`);
    this.functions.set(devfn, f);
  }

  register(bus: IoBus): void {
    bus.register(0xcf8, 4, {
      read32: (p) => (p === 0xcf8 ? this.address : 0xffffffff),
      write32: (p, v) => { if (p === 0xcf8) this.address = v & 0x80fffffc; },
      read8: (p) => (p === 0xcf9 ? this.rcr : 0xff),
      write8: (p, v) => {
        if (p !== 0xcf9) return;
        // Bit 2 going high performs the reset selected by bit 1 (hard) / otherwise soft.
        if ((v & 0x04) && !(this.rcr & 0x04)) this.requestReset?.('cf9');
        this.rcr = v & 0x02;
      },
    });
    bus.register(0xcfc, 4, {
      read8: (p) => this.configRead(p - 0xcfc, 1),
      read16: (p) => this.configRead(p - 0xcfc, 2),
      read32: (p) => this.configRead(p - 0xcfc, 4),
      write8: (p, v) => this.configWrite(p - 0xcfc, 1, v),
      write16: (p, v) => this.configWrite(p - 0xcfc, 2, v),
      write32: (p, v) => this.configWrite(p - 0xcfc, 4, v),
    });
  }

  private target(): { f: PciFunction; reg: number } | undefined {
    if (!(this.address & 0x80000000)) return undefined;
    const busNo = (this.address >> 16) & 0xff;
    if (busNo !== 0) return undefined;
    const f = this.functions.get((this.address >> 8) & 0xff);
    return f ? { f, reg: this.address & 0xfc } : undefined;
  }

  private configRead(byteOffset: number, size: number): number {
    const t = this.target();
    if (!t) return size === 4 ? 0xffffffff : (1 << (8 * size)) - 1;
    return t.f.read(t.reg + byteOffset, size);
  }

  private configWrite(byteOffset: number, size: number, value: number): void {
    const t = this.target();
    if (t) t.f.write(t.reg + byteOffset, size, value);
  }

  /** Direct config access by bus address (tests, debugger). */
  readConfig(slot: number, fn: number, offset: number, size: 1 | 2 | 4): number {
    const f = this.functions.get((slot << 3) | fn);
    return f ? f.read(offset, size) : size === 4 ? 0xffffffff : (1 << (8 * size)) - 1;
  }

  /** The 13 PAM segments: 0xF0000 (64 KiB) then 0xC0000-0xEFFFF in 16 KiB pieces. */
  pamRegions(): PamRegion[] {
    const c = this.hostBridge.config;
    const attr = (reg: number, high: boolean) => {
      const nib = high ? c[reg] >> 4 : c[reg] & 0x0f;
      return { readRam: (nib & 1) !== 0, writeRam: (nib & 2) !== 0 };
    };
    const out: PamRegion[] = [{ base: 0xf0000, size: 0x10000, ...attr(0x59, true) }];
    for (let i = 0; i < 12; i++) out.push({ base: 0xc0000 + i * 0x4000, size: 0x4000, ...attr(0x5a + (i >> 1), (i & 1) === 1) });
    return out;
  }

  reset(): void {
    this.address = 0;
    this.rcr = 0;
  }

  saveState(): PciHostState {
    return {
      address: this.address, rcr: this.rcr,
      functions: [...this.functions].map(([devfn, f]) => ({ slot: devfn >> 3, fn: devfn & 7, config: Array.from(f.config) })),
    };
  }

  restoreState(state: unknown): void {
    const s = state as PciHostState;
    this.address = s.address;
    this.rcr = s.rcr;
    for (const e of s.functions) this.functions.get((e.slot << 3) | e.fn)?.config.set(e.config);
    this.onPamChange?.(this.pamRegions());
  }
}
