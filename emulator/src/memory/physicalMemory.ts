// Guest physical address space: one RAM ArrayBuffer (with 8/16/32-bit views for the CPU's fast
// paths), ROM regions (reads only; writes are dropped as on a real board), MMIO ranges claimed by
// devices, the A20 gate, and a write-notification path for pages that hold translated code.
//
// The CPU reads and writes RAM directly through `u8/u16/u32` when its TLB says a page is plain RAM
// (see pageKind); everything else goes through read8/16/32 and write8/16/32 here.

export interface MmioHandler {
  read8(addr: number): number;
  write8(addr: number, value: number): void;
  /** Optional wide accessors; when absent, wide accesses are split into bytes (little-endian). */
  read16?(addr: number): number;
  write16?(addr: number, value: number): void;
  read32?(addr: number): number;
  write32?(addr: number, value: number): void;
}

/** What backs one 4 KiB physical page. */
export const enum PageKind {
  Ram = 0,
  /** ROM whose bytes are also mirrored in the RAM buffer (below `ramSize`): fast reads, writes dropped. */
  RomInRam = 1,
  /** ROM above RAM (e.g. the 4 GiB BIOS alias): slow reads from its own buffer. */
  Rom = 2,
  Mmio = 3,
  /** Nothing decodes it: reads return all ones, writes are dropped. */
  Unmapped = 4,
}

interface RomRegion { base: number; data: Uint8Array }
interface MmioRegion { base: number; length: number; handler: MmioHandler }

const PAGE_SHIFT = 12;
const PAGE_COUNT = 1 << 20; // 4 GiB / 4 KiB

export class PhysicalMemory {
  readonly ramSize: number;
  readonly buffer: ArrayBuffer;
  readonly u8: Uint8Array;
  readonly u16: Uint16Array;
  readonly u32: Int32Array;
  /** PageKind per physical page number. */
  readonly pageKind = new Uint8Array(PAGE_COUNT);
  /** AND-mask applied to every physical address: bit 20 cleared while the A20 gate is closed. */
  a20Mask = 0xffffffff | 0;

  private readonly roms: RomRegion[] = [];
  private readonly romByPage = new Map<number, RomRegion>();
  private readonly mmioByPage = new Map<number, MmioRegion>();
  /** Non-zero for pages that hold code the CPU has cached; writes to them are reported. */
  readonly codePages = new Uint8Array(PAGE_COUNT);
  private readonly codeWriteListeners: ((physAddr: number, length: number) => void)[] = [];
  private readonly codeMarkListeners: ((page: number) => void)[] = [];
  /** Called when the page map changes (ROM/MMIO registered, A20 toggled): TLBs must be flushed. */
  private readonly mapListeners: (() => void)[] = [];

  constructor(ramSize: number) {
    if (ramSize <= 0 || ramSize % 4096 !== 0 || ramSize > 0x7ffff000) {
      throw new RangeError(`RAM size must be a positive multiple of 4 KiB below 2 GiB, got ${ramSize}`);
    }
    this.ramSize = ramSize;
    this.buffer = new ArrayBuffer(ramSize);
    this.u8 = new Uint8Array(this.buffer);
    this.u16 = new Uint16Array(this.buffer);
    this.u32 = new Int32Array(this.buffer);
    this.pageKind.fill(PageKind.Unmapped);
    this.pageKind.fill(PageKind.Ram, 0, ramSize >>> PAGE_SHIFT);
  }

  // ---- configuration (devices and the machine) ----

  /** Map `data` read-only at `base` (page aligned; length a multiple of 4 KiB). */
  addRom(base: number, data: Uint8Array): void {
    base >>>= 0;
    if (base % 4096 !== 0 || data.length % 4096 !== 0) throw new RangeError('ROM regions must be page aligned');
    const region: RomRegion = { base, data: data.slice() };
    this.roms.push(region);
    for (let off = 0; off < data.length; off += 4096) {
      const page = (base + off) >>> PAGE_SHIFT;
      this.romByPage.set(page, region);
      this.mmioByPage.delete(page);
      if (base + off + 4096 <= this.ramSize) {
        this.u8.set(data.subarray(off, off + 4096), base + off);
        this.pageKind[page] = PageKind.RomInRam;
      } else {
        this.pageKind[page] = PageKind.Rom;
      }
    }
    this.mapChanged();
  }

  /** Claim [base, base+length) for a device. Both must be page aligned. Overrides RAM there. */
  addMmio(base: number, length: number, handler: MmioHandler): void {
    base >>>= 0;
    if (base % 4096 !== 0 || length % 4096 !== 0 || length <= 0) throw new RangeError('MMIO ranges must be page aligned');
    const region: MmioRegion = { base, length, handler };
    for (let off = 0; off < length; off += 4096) {
      const page = (base + off) >>> PAGE_SHIFT;
      if (this.mmioByPage.has(page)) throw new Error(`MMIO page 0x${(page << 12 >>> 0).toString(16)} is already claimed`);
      this.mmioByPage.set(page, region);
      this.pageKind[page] = PageKind.Mmio;
    }
    this.mapChanged();
  }

  /** Give a page back to RAM (or unmapped above RAM), e.g. when a device unmaps its window. */
  removeMmio(base: number, length: number): void {
    for (let off = 0; off < length; off += 4096) {
      const page = ((base >>> 0) + off) >>> PAGE_SHIFT;
      this.mmioByPage.delete(page);
      this.pageKind[page] = page < this.ramSize >>> PAGE_SHIFT ? PageKind.Ram : PageKind.Unmapped;
    }
    this.mapChanged();
  }

  get a20Enabled(): boolean { return this.a20Mask === -1; }

  setA20(enabled: boolean): void {
    const mask = enabled ? -1 : ~(1 << 20);
    if (mask === this.a20Mask) return;
    this.a20Mask = mask;
    this.mapChanged();
  }

  onMapChange(fn: () => void): void { this.mapListeners.push(fn); }

  private mapChanged(): void { for (const fn of this.mapListeners) fn(); }

  // ---- code-page tracking for decoded-code caches ----

  /** Ask to be told about writes to physical page `page` (number, not address). */
  markCodePage(page: number): void {
    if (this.codePages[page]) return;
    this.codePages[page] = 1;
    // Fast write paths into this page (CPU TLB entries) must now take the slow, notifying path.
    for (const fn of this.codeMarkListeners) fn(page);
  }

  /** `fn(page)` runs when a page becomes a code page: drop any direct-write permission for it. */
  onCodePageMarked(fn: (page: number) => void): void { this.codeMarkListeners.push(fn); }

  onCodeWrite(fn: (physAddr: number, length: number) => void): void { this.codeWriteListeners.push(fn); }

  /** A write landed on a code page: clear the mark and notify (listeners re-mark when they re-translate). */
  notifyCodeWrite(addr: number, length: number): void {
    const page = addr >>> PAGE_SHIFT;
    if (!this.codePages[page]) return;
    this.codePages[page] = 0;
    for (const fn of this.codeWriteListeners) fn(addr, length);
  }

  // ---- slow-path accessors (any kind of page); `addr` is already A20-masked by the caller or not ----

  read8(addr: number): number {
    addr = (addr & this.a20Mask) >>> 0;
    const page = addr >>> PAGE_SHIFT;
    switch (this.pageKind[page]) {
      case PageKind.Ram:
      case PageKind.RomInRam:
        return this.u8[addr];
      case PageKind.Rom: {
        const r = this.romByPage.get(page)!;
        return r.data[addr - r.base];
      }
      case PageKind.Mmio:
        return this.mmioByPage.get(page)!.handler.read8(addr) & 0xff;
      default:
        return 0xff;
    }
  }

  read16(addr: number): number {
    addr = (addr & this.a20Mask) >>> 0;
    const page = addr >>> PAGE_SHIFT;
    if ((addr & 0xfff) !== 0xfff) {
      const kind = this.pageKind[page];
      if (kind === PageKind.Ram || kind === PageKind.RomInRam) return this.u8[addr] | (this.u8[addr + 1] << 8);
      if (kind === PageKind.Mmio) {
        const h = this.mmioByPage.get(page)!.handler;
        if (h.read16) return h.read16(addr) & 0xffff;
      }
    }
    return this.read8(addr) | (this.read8(addr + 1) << 8);
  }

  read32(addr: number): number {
    addr = (addr & this.a20Mask) >>> 0;
    const page = addr >>> PAGE_SHIFT;
    if ((addr & 0xfff) <= 0xffc) {
      const kind = this.pageKind[page];
      if (kind === PageKind.Ram || kind === PageKind.RomInRam) {
        const u8 = this.u8;
        return u8[addr] | (u8[addr + 1] << 8) | (u8[addr + 2] << 16) | (u8[addr + 3] << 24);
      }
      if (kind === PageKind.Mmio) {
        const h = this.mmioByPage.get(page)!.handler;
        if (h.read32) return h.read32(addr) | 0;
      }
    }
    return this.read16(addr) | (this.read16(addr + 2) << 16);
  }

  write8(addr: number, value: number): void {
    addr = (addr & this.a20Mask) >>> 0;
    const page = addr >>> PAGE_SHIFT;
    switch (this.pageKind[page]) {
      case PageKind.Ram:
        this.u8[addr] = value;
        if (this.codePages[page]) this.notifyCodeWrite(addr, 1);
        return;
      case PageKind.Mmio:
        this.mmioByPage.get(page)!.handler.write8(addr, value & 0xff);
        return;
      default:
        return; // ROM and unmapped: dropped
    }
  }

  write16(addr: number, value: number): void {
    addr = (addr & this.a20Mask) >>> 0;
    const page = addr >>> PAGE_SHIFT;
    if ((addr & 0xfff) !== 0xfff) {
      const kind = this.pageKind[page];
      if (kind === PageKind.Ram) {
        this.u8[addr] = value;
        this.u8[addr + 1] = value >> 8;
        if (this.codePages[page]) this.notifyCodeWrite(addr, 2);
        return;
      }
      if (kind === PageKind.Mmio) {
        const h = this.mmioByPage.get(page)!.handler;
        if (h.write16) { h.write16(addr, value & 0xffff); return; }
      }
    }
    this.write8(addr, value);
    this.write8(addr + 1, value >> 8);
  }

  write32(addr: number, value: number): void {
    addr = (addr & this.a20Mask) >>> 0;
    const page = addr >>> PAGE_SHIFT;
    if ((addr & 0xfff) <= 0xffc) {
      const kind = this.pageKind[page];
      if (kind === PageKind.Ram) {
        const u8 = this.u8;
        u8[addr] = value; u8[addr + 1] = value >> 8; u8[addr + 2] = value >> 16; u8[addr + 3] = value >> 24;
        if (this.codePages[page]) this.notifyCodeWrite(addr, 4);
        return;
      }
      if (kind === PageKind.Mmio) {
        const h = this.mmioByPage.get(page)!.handler;
        if (h.write32) { h.write32(addr, value | 0); return; }
      }
    }
    this.write16(addr, value);
    this.write16(addr + 2, value >>> 16);
  }

  /** Copy bytes out for a debugger or loader (ROM/MMIO-safe: MMIO reads are NOT side-effect free, so they read as 0xff). */
  peek(addr: number, length: number): Uint8Array {
    const out = new Uint8Array(length);
    for (let i = 0; i < length; i++) {
      const a = (addr + i) >>> 0;
      out[i] = this.pageKind[a >>> PAGE_SHIFT] === PageKind.Mmio ? 0xff : this.read8(a);
    }
    return out;
  }

  /** Load bytes into RAM (loaders); bytes beyond RAM are refused. */
  load(addr: number, data: Uint8Array): void {
    if (addr < 0 || addr + data.length > this.ramSize) throw new RangeError(`load of ${data.length} bytes at 0x${addr.toString(16)} is outside RAM`);
    this.u8.set(data, addr);
    for (let p = addr >>> PAGE_SHIFT; p <= (addr + data.length - 1) >>> PAGE_SHIFT; p++) {
      if (this.codePages[p]) this.notifyCodeWrite(p << PAGE_SHIFT, 4096);
    }
  }

  saveState(): { ram: Uint8Array; a20: boolean } {
    return { ram: this.u8.slice(), a20: this.a20Enabled };
  }

  restoreState(s: { ram: Uint8Array; a20: boolean }): void {
    if (s.ram.length !== this.ramSize) throw new Error(`snapshot RAM is ${s.ram.length} bytes, this machine has ${this.ramSize}`);
    this.u8.set(s.ram);
    this.setA20(s.a20);
    this.codePages.fill(0);
    this.mapChanged();
  }
}
