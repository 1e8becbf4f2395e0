// Old-style (non-thin) LVM snapshots: a dm-snapshot persistent COW store. Chunk 0 is a header;
// then areas of one metadata chunk (exception table: old chunk → new chunk) followed by its data.
import { type BlockDevice, ImageError } from '../../block/blockDevice';
import { u64le, view } from '../binary';
import { MappedDevice, type Piece } from '../mappedDevice';

const SNAP_MAGIC = 0x70416e53;
/** Exception tables are loaded whole; bound them so a hostile COW cannot exhaust memory. */
const MAX_EXCEPTIONS = 16 * 1024 * 1024;

export class SnapshotDevice extends MappedDevice {
  private constructor(private readonly origin: BlockDevice, private readonly cow: BlockDevice, private readonly chunkBytes: number,
    private readonly exceptions: Map<number, number>, readonly size: number, protected readonly label: string) {
    super();
  }

  static async open(origin: BlockDevice, cow: BlockDevice, label: string): Promise<SnapshotDevice> {
    if (cow.size < 512) throw new ImageError(`${label}: COW store is empty`);
    const hdr = view(await cow.read(0, 16));
    if (hdr.getUint32(0, true) !== SNAP_MAGIC) throw new ImageError(`${label}: COW store has no snapshot header (never activated?)`, 'snapshot header', 0);
    if (hdr.getUint32(4, true) === 0) throw new ImageError(`${label}: snapshot is marked invalid (it overflowed)`, 'snapshot header', 4);
    if (hdr.getUint32(8, true) !== 1) throw new ImageError(`${label}: snapshot format version ${hdr.getUint32(8, true)} is not supported`, 'snapshot header', 8);
    const chunkSectors = hdr.getUint32(12, true);
    if (chunkSectors < 8 || chunkSectors > 1024 * 1024 || (chunkSectors & (chunkSectors - 1))) throw new ImageError(`${label}: invalid COW chunk size ${chunkSectors}`, 'snapshot header', 12);
    const chunkBytes = chunkSectors * 512;
    const perArea = chunkBytes / 16;
    const exceptions = new Map<number, number>();
    const totalChunks = Math.floor(cow.size / chunkBytes);
    for (let area = 0; ; area++) {
      const metaChunk = 1 + area * (perArea + 1);
      if (metaChunk >= totalChunks) break;
      const table = view(await cow.read(metaChunk * chunkBytes, chunkBytes));
      let full = true;
      for (let i = 0; i < perArea; i++) {
        const oldChunk = u64le(table, i * 16);
        const newChunk = u64le(table, i * 16 + 8);
        if (newChunk === 0) { full = false; break; } // end of the committed exceptions
        if (newChunk >= totalChunks) throw new ImageError(`${label}: exception maps to chunk ${newChunk}, past the COW store`, 'snapshot exception', metaChunk * chunkBytes + i * 16);
        exceptions.set(oldChunk, newChunk);
        if (exceptions.size > MAX_EXCEPTIONS) throw new ImageError(`${label}: more than ${MAX_EXCEPTIONS} exceptions`);
      }
      if (!full) break;
    }
    return new SnapshotDevice(origin, cow, chunkBytes, exceptions, origin.size, label);
  }

  get exceptionCount(): number { return this.exceptions.size; }

  protected async locate(offset: number, maxLength: number): Promise<Piece> {
    const chunk = Math.floor(offset / this.chunkBytes);
    const within = offset - chunk * this.chunkBytes;
    const length = Math.min(maxLength, this.chunkBytes - within);
    const moved = this.exceptions.get(chunk);
    if (moved === undefined) return { device: this.origin, offset, length };
    return { device: this.cow, offset: moved * this.chunkBytes + within, length };
  }
}
