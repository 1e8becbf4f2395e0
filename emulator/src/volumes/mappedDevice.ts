// A BlockDevice assembled from pieces of other devices (LVM segments, thin mappings, snapshot
// exceptions). Subclasses say where one byte lives; reads are stitched piece by piece.
import { type BlockDevice, ImageError } from '../block/blockDevice';

/** Where the bytes at a virtual offset live: `length` bytes at `offset` of `device`, or zeros. */
export type Piece = { device: BlockDevice; offset: number; length: number } | { zero: true; length: number };

export abstract class MappedDevice implements BlockDevice {
  abstract readonly size: number;
  protected abstract readonly label: string;
  /** The piece holding byte `offset`, at most `maxLength` long (length ≥ 1). */
  protected abstract locate(offset: number, maxLength: number): Promise<Piece>;

  async read(offset: number, length: number): Promise<Uint8Array> {
    if (offset < 0 || length < 0 || offset + length > this.size) {
      throw new ImageError(`read of ${length} bytes at ${offset} is outside ${this.label} (${this.size} bytes)`);
    }
    const out = new Uint8Array(length);
    let done = 0;
    while (done < length) {
      const piece = await this.locate(offset + done, length - done);
      const n = Math.min(piece.length, length - done);
      if (!(n > 0)) throw new ImageError(`${this.label}: no mapping for offset ${offset + done}`, this.label, offset + done);
      if (!('zero' in piece)) out.set(await piece.device.read(piece.offset, n), done);
      done += n;
    }
    return out;
  }

  async close(): Promise<void> {}
}
