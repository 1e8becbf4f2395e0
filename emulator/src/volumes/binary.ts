// Little helpers for decoding on-disk structures from untrusted bytes. Every accessor is bounds
// checked by DataView itself; callers turn RangeErrors into positioned ImageErrors where it matters.
import { crc32 } from 'node:zlib';

export function view(buf: Uint8Array): DataView {
  return new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
}

/** Reads a little-endian u64 as a JS number; values above 2^53 are refused (no image is that big). */
export function u64le(dv: DataView, off: number): number {
  const lo = dv.getUint32(off, true);
  const hi = dv.getUint32(off + 4, true);
  if (hi >= 0x200000) return Number.POSITIVE_INFINITY;
  return hi * 0x100000000 + lo;
}

export function ascii(buf: Uint8Array, start: number, end: number): string {
  let s = '';
  for (let i = start; i < end && i < buf.length; i++) s += String.fromCharCode(buf[i]);
  return s;
}

/** ASCII up to the first NUL (or the end). */
export function cString(buf: Uint8Array, start: number, end: number): string {
  let e = start;
  while (e < end && e < buf.length && buf[e] !== 0) e++;
  return ascii(buf, start, e);
}

/** Standard CRC-32 (GPT, ISO/IEC 3309). */
export function crc32Std(data: Uint8Array): number {
  return crc32(data) >>> 0;
}

/** LVM2's CRC: the same polynomial, seeded with 0xf597a6cf and without the final inversion. */
export function crc32Lvm(data: Uint8Array): number {
  return ~crc32(data, ~0xf597a6cf >>> 0) >>> 0;
}

export function isZero(buf: Uint8Array): boolean {
  for (let i = 0; i < buf.length; i++) if (buf[i] !== 0) return false;
  return true;
}

/** Formats a 16-byte GUID stored in the mixed-endian layout GPT uses. */
export function guid(buf: Uint8Array, off: number): string {
  const hex = (i: number) => buf[off + i].toString(16).padStart(2, '0');
  const le = (idx: number[]) => idx.map(hex).join('');
  return `${le([3, 2, 1, 0])}-${le([5, 4])}-${le([7, 6])}-${le([8, 9])}-${le([10, 11, 12, 13, 14, 15])}`.toUpperCase();
}
