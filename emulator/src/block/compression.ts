// Decompressors for compressed clusters/grains. Output is always bounded by the unit size the
// format promises, so a hostile stream cannot balloon memory; async zlib runs on the libuv pool
// so several clusters decompress in parallel during a conversion.
import { constants, inflate, inflateRaw, type InputType, type ZlibOptions } from 'node:zlib';
import { decompress as zstdDecompress } from 'fzstd';
import { ImageError } from './blockDevice';

type Inflater = (buf: InputType, options: ZlibOptions, callback: (error: Error | null, result: Buffer) => void) => void;

function inflateBounded(fn: Inflater, data: Uint8Array, unitSize: number, what: string, offset: number): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    // Z_SYNC_FLUSH lets a stream end early (trailing sector padding is ignored), and
    // maxOutputLength makes an over-long stream an error instead of an allocation.
    fn(data, { finishFlush: constants.Z_SYNC_FLUSH, maxOutputLength: unitSize }, (err, out) => {
      if (err) reject(new ImageError(`${what} does not decompress (${err.message})`, what, offset));
      else resolve(out);
    });
  });
}

/** Raw deflate (qcow2 zlib clusters). Returns exactly `unitSize` bytes or throws. */
export async function inflateRawUnit(data: Uint8Array, unitSize: number, what: string, offset: number): Promise<Uint8Array> {
  const out = await inflateBounded(inflateRaw as Inflater, data, unitSize, what, offset);
  if (out.length !== unitSize) throw new ImageError(`${what} decompresses to ${out.length} bytes, expected ${unitSize}`, what, offset);
  return out;
}

/** zlib-wrapped deflate (VMDK grains). The result may be shorter than `maxSize`. */
export function inflateZlib(data: Uint8Array, maxSize: number, what: string, offset: number): Promise<Uint8Array> {
  return inflateBounded(inflate as Inflater, data, maxSize, what, offset);
}

const ZSTD_MAGIC = 0xfd2fb528;

/**
 * zstd (qcow2 compression_type=zstd): one frame that fills `unitSize` bytes, followed by sector
 * padding. fzstd wants the exact frame, so we walk the block headers to find where it ends; it
 * decompresses into our unit-sized buffer, so a hostile window size never allocates.
 */
export function zstdUnit(data: Uint8Array, unitSize: number, what: string, offset: number): Uint8Array {
  const out = new Uint8Array(unitSize);
  const end = zstdFrameLength(data, what, offset);
  try {
    zstdDecompress(data.subarray(0, end), out);
  } catch (err) {
    throw new ImageError(`${what} does not decompress (zstd: ${(err as Error).message || 'invalid data'})`, what, offset);
  }
  return out;
}

/** Bytes taken by the zstd frame at the start of `d` (header, blocks, optional checksum). */
function zstdFrameLength(d: Uint8Array, what: string, offset: number): number {
  const need = (n: number) => { if (n > d.length) throw new ImageError(`${what} has a truncated zstd frame`, what, offset); };
  need(6);
  const magic = (d[0] | (d[1] << 8) | (d[2] << 16) | (d[3] << 24)) >>> 0;
  if (magic !== ZSTD_MAGIC) throw new ImageError(`${what} is not a zstd frame`, what, offset);
  const fhd = d[4];
  const singleSegment = (fhd >> 5) & 1, checksum = (fhd >> 2) & 1, dictId = fhd & 3, fcsFlag = fhd >> 6;
  let pos = 5 + (singleSegment ? 0 : 1) + [0, 1, 2, 4][dictId] + [singleSegment ? 1 : 0, 2, 4, 8][fcsFlag];
  for (;;) {
    need(pos + 3);
    const bh = d[pos] | (d[pos + 1] << 8) | (d[pos + 2] << 16);
    const last = bh & 1, type = (bh >> 1) & 3, size = bh >>> 3;
    if (type === 3) throw new ImageError(`${what} has a reserved zstd block type`, what, offset + pos);
    pos += 3 + (type === 1 ? 1 : size);
    need(pos);
    if (last) break;
  }
  pos += checksum ? 4 : 0;
  need(pos);
  return pos;
}
