// The BIOS area 0xC0000-0xFFFFF as the i440FX decodes it. Each PAM region (16 KiB, 64 KiB for
// the F segment) either reads the firmware ROM (and, for 0xC0000-0xDFFFF, nothing: all ones) or
// the shadow RAM underneath it, and writes either reach that RAM or are dropped. SeaBIOS turns
// on read+write RAM, copies itself down from the 4 GiB alias, then makes it read-only.
//
// The RAM buffer below 1 MiB always holds what the CPU reads, so BIOS code runs from the fast
// RAM path: switching a region between ROM and RAM swaps the bytes between the buffer and a
// saved copy of the hidden side. The rare "read ROM, write RAM" setting goes through MMIO.
import type { PamRegion } from '../devices/pci';
import { PageKind, type MmioHandler, type PhysicalMemory } from '../memory/physicalMemory';

const AREA_BASE = 0xc0000;
const AREA_SIZE = 0x40000;

interface Decode { readRam: boolean; writeRam: boolean }

export interface BiosShadowState { shadow: Uint8Array; decode: Decode[] }

export class BiosShadow {
  /** What the ROM side shows in 0xC0000-0xFFFFF (firmware at the top, all ones below it). */
  private readonly rom = new Uint8Array(AREA_SIZE).fill(0xff);
  /** The RAM side's bytes for regions currently reading ROM (stale for regions reading RAM). */
  private shadow = new Uint8Array(AREA_SIZE);
  private decode: Decode[] = [];
  private regions: PamRegion[] = [];
  private readonly mmioMapped = new Set<number>();

  constructor(private readonly memory: PhysicalMemory, firmware: Uint8Array, private readonly flush: () => void) {
    if (memory.ramSize < 0x100000) throw new RangeError('the PC needs at least 1 MiB of RAM');
    // The last 128 KiB of the image (or all of a smaller one) appear below 1 MiB.
    const low = firmware.subarray(Math.max(0, firmware.length - 0x20000));
    this.rom.set(low, AREA_SIZE - low.length);
  }

  /** Power-on: every region reads ROM and writes nothing (PAM registers all zero). */
  reset(regions: PamRegion[]): void {
    this.shadow.fill(0);
    this.regions = regions;
    this.decode = regions.map(() => ({ readRam: false, writeRam: false }));
    for (let i = 0; i < regions.length; i++) this.applyRegion(i, true);
    this.flush();
  }

  /** The PAM registers changed. */
  update(regions: PamRegion[]): void {
    let changed = false;
    for (let i = 0; i < regions.length; i++) {
      const old = this.decode[i];
      const next = regions[i];
      if (old.readRam === next.readRam && old.writeRam === next.writeRam) continue;
      // Save the side that is leaving the buffer.
      const { base, size } = next;
      const off = base - AREA_BASE;
      if (old.readRam && !next.readRam) this.shadow.set(this.memory.u8.subarray(base, base + size), off);
      if (!old.readRam && next.readRam) this.memory.u8.set(this.shadow.subarray(off, off + size), base);
      if (!old.readRam && !next.readRam) { /* ROM stays in the buffer */ }
      this.decode[i] = { readRam: next.readRam, writeRam: next.writeRam };
      this.applyRegion(i, false);
      changed = true;
    }
    this.regions = regions;
    if (changed) this.flush();
  }

  private applyRegion(i: number, initial: boolean): void {
    const { base, size } = this.regions[i];
    const d = this.decode[i];
    const off = base - AREA_BASE;
    if (this.mmioMapped.has(base)) { this.memory.removeMmio(base, size); this.mmioMapped.delete(base); }
    if (initial || !d.readRam) this.memory.u8.set(this.rom.subarray(off, off + size), base);
    if (!d.readRam && d.writeRam) {
      this.memory.addMmio(base, size, this.romReadRamWrite());
      this.mmioMapped.add(base);
      return;
    }
    const kind = d.readRam && d.writeRam ? PageKind.Ram : PageKind.RomInRam;
    this.memory.pageKind.fill(kind, base >>> 12, (base + size) >>> 12);
    for (let p = base >>> 12; p < (base + size) >>> 12; p++) {
      if (this.memory.codePages[p]) this.memory.notifyCodeWrite(p << 12, 4096);
    }
  }

  private romReadRamWrite(): MmioHandler {
    return {
      read8: (addr) => this.rom[addr - AREA_BASE],
      write8: (addr, value) => { this.shadow[addr - AREA_BASE] = value; },
    };
  }

  saveState(): BiosShadowState {
    // Bring the shadow copy up to date for regions whose RAM is in the buffer.
    const shadow = this.shadow.slice();
    this.regions.forEach((r, i) => {
      if (this.decode[i].readRam) shadow.set(this.memory.u8.subarray(r.base, r.base + r.size), r.base - AREA_BASE);
    });
    return { shadow, decode: this.decode.map((d) => ({ ...d })) };
  }

  /** Call after the RAM buffer was restored. */
  restoreState(state: BiosShadowState, regions: PamRegion[]): void {
    this.regions = regions;
    this.shadow = Uint8Array.from(state.shadow);
    this.decode = state.decode.map((d) => ({ ...d }));
    for (let i = 0; i < regions.length; i++) {
      const { base, size } = regions[i];
      if (this.decode[i].readRam) this.memory.u8.set(this.shadow.subarray(base - AREA_BASE, base - AREA_BASE + size), base);
      this.applyRegion(i, false);
    }
    this.flush();
  }
}
