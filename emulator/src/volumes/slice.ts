// A window [start, start+size) of another BlockDevice: how partitions are exposed.
import { type BlockDevice, ImageError } from '../block/blockDevice';

export class SliceDevice implements BlockDevice {
  constructor(private readonly base: BlockDevice, readonly start: number, readonly size: number, private readonly label: string) {
    if (start < 0 || size < 0 || start + size > base.size) {
      throw new ImageError(`${label} (${size} bytes at ${start}) lies outside its ${base.size}-byte device`, label, start);
    }
  }

  read(offset: number, length: number): Promise<Uint8Array> {
    if (offset < 0 || length < 0 || offset + length > this.size) {
      return Promise.reject(new ImageError(`read of ${length} bytes at ${offset} is outside ${this.label} (${this.size} bytes)`));
    }
    return this.base.read(this.start + offset, length);
  }

  /** The slice does not own its base device; closing the base is the opener's job. */
  async close(): Promise<void> {}
}
