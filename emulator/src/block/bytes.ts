// Field readers for on-disk structures. Every format here stores 64-bit fields; JavaScript numbers
// are exact only below 2^53, so a larger value (never legitimate for offsets and sizes we can
// address) becomes an ImageError naming the structure and offset instead of silently rounding.
import { ImageError } from './blockDevice';

export const MAX_SAFE = Number.MAX_SAFE_INTEGER;

/** A view over one on-disk structure that knows where it came from, for positioned errors. */
export class Fields {
  private readonly view: DataView;

  constructor(readonly bytes: Uint8Array, readonly structure: string, readonly fileOffset: number, private readonly littleEndian: boolean) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  private check(at: number, width: number): void {
    if (at < 0 || at + width > this.bytes.length) throw new ImageError(`${this.structure} is truncated`, this.structure, this.fileOffset + at);
  }

  u8(at: number): number { this.check(at, 1); return this.bytes[at]; }
  u16(at: number): number { this.check(at, 2); return this.view.getUint16(at, this.littleEndian); }
  u32(at: number): number { this.check(at, 4); return this.view.getUint32(at, this.littleEndian); }
  /** A 64-bit field as a bigint (flags and masked entries). */
  u64n(at: number): bigint { this.check(at, 8); return this.view.getBigUint64(at, this.littleEndian); }
  /** A 64-bit field that must fit a JavaScript number (sizes, offsets, counts). */
  u64(at: number, what: string): number {
    const v = this.u64n(at);
    if (v > BigInt(MAX_SAFE)) throw new ImageError(`${what} ${v} is too large`, this.structure, this.fileOffset + at);
    return Number(v);
  }
  /** 64-bit value split into a safe number via hi/lo halves (fast path for table entries). */
  u64hi(at: number): number { return this.littleEndian ? this.u32(at + 4) : this.u32(at); }
  u64lo(at: number): number { return this.littleEndian ? this.u32(at) : this.u32(at + 4); }
  ascii(at: number, length: number): string { this.check(at, length); return latin1(this.bytes.subarray(at, at + length)); }
  slice(at: number, length: number): Uint8Array { this.check(at, length); return this.bytes.subarray(at, at + length); }
  /** An ImageError positioned at a field of this structure. */
  error(message: string, at = 0): ImageError { return new ImageError(message, this.structure, this.fileOffset + at); }
}

export function latin1(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('latin1');
}

export function utf8(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('utf8');
}

/** UTF-16 text without its terminating NUL(s). */
export function utf16(b: Uint8Array, littleEndian: boolean): string {
  const n = b.length & ~1;
  let copy = Buffer.from(b.subarray(0, n));
  if (!littleEndian) copy = copy.swap16();
  const s = copy.toString('utf16le');
  const nul = s.indexOf('\0');
  return nul < 0 ? s : s.slice(0, nul);
}

const ZERO_BLOCK = new Uint8Array(64 * 1024);

/** True if every byte is zero (compares against a zero block natively; fast on big buffers). */
export function isAllZero(b: Uint8Array): boolean {
  const buf = Buffer.from(b.buffer, b.byteOffset, b.byteLength);
  for (let at = 0; at < buf.length; at += ZERO_BLOCK.length) {
    const n = Math.min(ZERO_BLOCK.length, buf.length - at);
    if (buf.compare(ZERO_BLOCK, 0, n, at, at + n) !== 0) return false;
  }
  return true;
}

/** GUID in the mixed-endian on-disk form Microsoft formats use, as canonical lower-case text. */
export function guidString(b: Uint8Array): string {
  const h = (i: number) => b[i].toString(16).padStart(2, '0');
  return `${h(3)}${h(2)}${h(1)}${h(0)}-${h(5)}${h(4)}-${h(7)}${h(6)}-${h(8)}${h(9)}-${h(10)}${h(11)}${h(12)}${h(13)}${h(14)}${h(15)}`;
}

export function isPowerOfTwo(n: number): boolean {
  return Number.isSafeInteger(n) && n > 0 && 2 ** Math.round(Math.log2(n)) === n;
}
