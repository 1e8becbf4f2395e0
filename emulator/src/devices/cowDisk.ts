// A guest-visible disk over a read-only BlockDevice: reads come from the image, guest writes
// land in an in-memory copy-on-write overlay of whole sectors, so the user's image is never
// modified. The overlay is part of the disk controller's saved state.
import type { BlockDevice } from '../block/blockDevice';

export class CowDisk {
  private readonly overlay = new Map<number, Uint8Array>();

  constructor(readonly base: BlockDevice, readonly sectorSize: number) {}

  /** Whole sectors the guest can address (a partial trailing sector is not exposed). */
  get sectors(): number {
    return Math.floor(this.base.size / this.sectorSize);
  }

  /** Sectors changed by the guest so far. */
  get dirtySectors(): number {
    return this.overlay.size;
  }

  async read(sector: number, count: number): Promise<Uint8Array> {
    this.check(sector, count);
    const ss = this.sectorSize;
    const out = await this.base.read(sector * ss, count * ss);
    if (this.overlay.size > 0) {
      for (let i = 0; i < count; i++) {
        const s = this.overlay.get(sector + i);
        if (s) out.set(s, i * ss);
      }
    }
    return out;
  }

  /** Synchronous: the overlay is memory. `data` must be whole sectors. */
  write(sector: number, data: Uint8Array): void {
    const ss = this.sectorSize;
    const count = data.length / ss;
    if (!Number.isInteger(count)) throw new RangeError(`write of ${data.length} bytes is not whole ${ss}-byte sectors`);
    this.check(sector, count);
    for (let i = 0; i < count; i++) this.overlay.set(sector + i, data.slice(i * ss, (i + 1) * ss));
  }

  private check(sector: number, count: number): void {
    if (sector < 0 || count < 0 || sector + count > this.sectors) {
      throw new RangeError(`sectors ${sector}+${count} are outside the disk (${this.sectors} sectors)`);
    }
  }

  saveOverlay(): [number, number[]][] {
    return [...this.overlay].map(([k, v]) => [k, Array.from(v)]);
  }

  restoreOverlay(entries: [number, number[]][]): void {
    this.overlay.clear();
    for (const [k, v] of entries) this.overlay.set(k, Uint8Array.from(v));
  }
}
