// Decompressors for compressed clusters/grains. Output is always bounded by the unit size the
// format promises, so a hostile stream cannot balloon memory; async zlib runs on the libuv pool
// so several clusters decompress in parallel during a conversion. zstd uses our own decoder
// (zstdDecoder.ts), which bounds output by the cluster and outruns fzstd on this path.
import { constants, inflate, inflateRaw, type InputType, type ZlibOptions } from 'node:zlib';
import { ImageError } from './blockDevice';
import { decodeZstdFrame, ZstdError } from './zstdDecoder';

type Inflater = (buf: InputType, options: ZlibOptions, callback: (error: Error | null, result: Buffer) => void) => void;

function inflateBounded(fn: Inflater, data: Uint8Array, unitSize: number, what: string, offset: number): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    // Z_SYNC_FLUSH lets a stream end early (trailing sector padding is ignored), and
    // maxOutputLength makes an over-long stream an error instead of an allocation.
    fn(data, { finishFlush: constants.Z_SYNC_FLUSH, maxOutputLength: unitSize, chunkSize: Math.max(64, unitSize) }, (err, out) => {
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

/**
 * zstd (qcow2 compression_type=zstd): frames that fill exactly `unitSize` bytes (QEMU writes one),
 * followed by sector padding, decoded into a unit-sized buffer so output is bounded.
 */
export function zstdUnit(data: Uint8Array, unitSize: number, what: string, offset: number): Uint8Array {
  const out = new Uint8Array(unitSize);
  let inPos = 0, outPos = 0;
  try {
    while (outPos < unitSize) {
      const [written, consumed] = decodeZstdFrame(data.subarray(inPos), out.subarray(outPos));
      if (written === 0 && consumed === 0) break;
      outPos += written;
      inPos += consumed;
      if (inPos >= data.length) break;
    }
  } catch (err) {
    if (!(err instanceof ZstdError)) throw err;
    throw new ImageError(`${what} does not decompress (zstd: ${err.message})`, what, offset + inPos);
  }
  if (outPos !== unitSize) throw new ImageError(`${what} decompresses to ${outPos} bytes, expected ${unitSize}`, what, offset);
  return out;
}
