// The shared read path of every image format. A format driver only answers "what is at this
// virtual offset?" with an Extent; this base turns extents into reads: it coalesces runs of
// host-contiguous data into one file read, fills zeros, decompresses, and defers unallocated
// ranges to the backing device (or zeros when there is none). The same extents drive the
// allocation map and sparse conversion.
import { type BlockDevice, ImageError } from './blockDevice';
import type { FileDevice } from './fileDevice';

export type Extent =
  /** Stored uncompressed at `offset` in `source`. */
  | { kind: 'data'; length: number; source: FileDevice; offset: number }
  /** Reads as zeros (a zero cluster/grain/block, or a hole in a sparse format). */
  | { kind: 'zero'; length: number }
  /** Not stored in this layer: comes from the backing file, or reads as zeros without one. */
  | { kind: 'unallocated'; length: number }
  /** Stored compressed; `load` gives the whole decompressed unit, of which we want `skip`.. */
  | { kind: 'compressed'; length: number; skip: number; load: () => Promise<Uint8Array>; batch?: unknown; stored?: StoredUnit };

/**
 * Where a compressed unit's bytes lie, for bulk converters that decompress off the main thread:
 * `length` stored bytes at `offset` in `source` inflate to exactly `unitSize` bytes.
 */
export interface StoredUnit { source: FileDevice; offset: number; length: number; codec: 'deflate-raw' | 'zstd'; unitSize: number }

export type ExtentKind = Extent['kind'];

/** Fewest compressed units in one read worth a bulk decompression. */
const BATCH_MIN = 8;

export abstract class ExtentDevice implements BlockDevice {
  abstract readonly size: number;
  /** The device unallocated ranges come from; set by openImage once the chain is resolved. */
  backing: BlockDevice | undefined;
  private closed = false;

  /**
   * The extent that starts at `offset` (< size), at most `maxLength` (> 0) long. Implementations
   * should return the longest run they can cheaply see (e.g. up to the end of an L2 table).
   */
  abstract mapExtent(offset: number, maxLength: number): Promise<Extent>;

  /**
   * Optional bulk decompression for reads covering many compressed units: gets the `batch`
   * handles of those extents, returns each unit (or undefined to fall back to its `load`).
   */
  protected loadBatch?(handles: unknown[]): Promise<(Uint8Array | undefined)[]>;

  /** Releases per-layer state; files (and the backing chain) are closed by openImage. */
  protected abstract closeLayer(): Promise<void>;

  async read(offset: number, length: number): Promise<Uint8Array> {
    const buf = new Uint8Array(length);
    await this.readInto(buf, 0, length, offset);
    return buf;
  }

  async readInto(target: Uint8Array, targetOffset: number, length: number, offset: number): Promise<void> {
    if (this.closed) throw new ImageError('read from a closed image');
    if (!(Number.isSafeInteger(offset) && Number.isSafeInteger(length) && offset >= 0 && length >= 0 && offset + length <= this.size)) {
      throw new ImageError(`read of ${length} bytes at ${offset} is outside the virtual disk (${this.size} bytes)`);
    }
    // One pending run of host-contiguous data, flushed as a single file read.
    let runSource: FileDevice | undefined;
    let runFile = 0, runAt = 0, runLen = 0;
    const reads: Promise<void>[] = [];
    // A read may fail while we are still mapping (awaiting tables): mark it handled at once so
    // it cannot surface as an unhandled rejection; Promise.all below still reports it.
    const track = (p: Promise<void>) => { p.catch(() => {}); reads.push(p); };
    const compressed: { ext: Extent & { kind: 'compressed' }; at: number; n: number }[] = [];
    const flush = () => {
      if (runSource && runLen > 0) track(runSource.readInto(target, runAt, runLen, runFile));
      runSource = undefined; runLen = 0;
    };
    try {
      let pos = 0;
      while (pos < length) {
        const ext = await this.mapExtent(offset + pos, length - pos);
        const n = Math.min(ext.length, length - pos);
        if (!(n > 0)) throw new ImageError(`image mapping made no progress at virtual offset ${offset + pos}`);
        const at = targetOffset + pos;
        switch (ext.kind) {
          case 'data':
            if (runSource === ext.source && runFile + runLen === ext.offset && runAt + runLen === at) {
              runLen += n;
            } else {
              flush();
              runSource = ext.source; runFile = ext.offset; runAt = at; runLen = n;
            }
            break;
          case 'zero':
            flush();
            target.fill(0, at, at + n);
            break;
          case 'unallocated':
            flush();
            track(this.readBacking(target, at, n, offset + pos));
            break;
          case 'compressed':
            flush();
            compressed.push({ ext, at, n });
            break;
        }
        pos += n;
      }
    } catch (err) {
      // Reads already started must settle before we report, or their failures go unhandled.
      await Promise.allSettled(reads);
      throw err;
    }
    flush();
    track(this.readCompressed(target, compressed));
    await Promise.all(reads);
  }

  private async readCompressed(target: Uint8Array, items: { ext: Extent & { kind: 'compressed' }; at: number; n: number }[]): Promise<void> {
    if (items.length === 0) return;
    const units: (Uint8Array | undefined)[] = this.loadBatch && items.length >= BATCH_MIN && items.every((i) => i.ext.batch !== undefined)
      ? await this.loadBatch(items.map((i) => i.ext.batch))
      : [];
    await Promise.all(items.map(async ({ ext, at, n }, k) => {
      const unit = units[k] ?? await ext.load();
      if (ext.skip + n > unit.length) throw new ImageError(`compressed unit is ${unit.length} bytes, need ${ext.skip + n}`);
      target.set(unit.subarray(ext.skip, ext.skip + n), at);
    }));
  }

  /** Unallocated bytes: the backing device's content where it has any, zeros past its end. */
  private async readBacking(target: Uint8Array, at: number, n: number, offset: number): Promise<void> {
    const b = this.backing;
    const fromBacking = b ? Math.max(0, Math.min(n, b.size - offset)) : 0;
    if (fromBacking > 0 && b) {
      if (b instanceof ExtentDevice) await b.readInto(target, at, fromBacking, offset);
      else target.set(await b.read(offset, fromBacking), at);
    }
    target.fill(0, at + fromBacking, at + n);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.closeLayer();
  }
}

/** A raw file as a device: one data extent. */
export class RawDevice extends ExtentDevice {
  readonly size: number;
  constructor(private readonly file: FileDevice) { super(); this.size = file.size; }
  async mapExtent(offset: number, maxLength: number): Promise<Extent> {
    return { kind: 'data', length: Math.min(maxLength, this.size - offset), source: this.file, offset };
  }
  protected async closeLayer(): Promise<void> { /* openImage closes the file */ }
}
