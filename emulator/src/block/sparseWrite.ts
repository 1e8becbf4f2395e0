// Which parts of a buffer a sparse writer must write: qemu-img's rule (zero detection at 4 KiB)
// with one difference, zero stretches shorter than 64 KiB are written with their neighbours so
// real data with scattered zero pages still goes out in few large writes.
//
// dataRanges is self-contained (no outer names) because the conversion workers run its source.

/** All-zero comparand; its length is the detection grain (4 KiB). */
export const ZERO_GRAIN_BUFFER = Buffer.alloc(4096);

/** [from, length, from, length, ...] of `buf[0..n)` to write; the rest reads as zeros. */
export function dataRanges(buf: Buffer, n: number, zeros: Buffer): number[] {
  const grain = zeros.length, minHole = 16 * grain;
  const out: number[] = [];
  let dataStart = -1, zeroStart = -1;
  for (let p = 0; p < n; p += grain) {
    const len = Math.min(grain, n - p);
    // Most data pages have a non-zero byte at one of these spots: no native call for them.
    const probe = buf[p] | buf[p + (len >> 2)] | buf[p + (len >> 1)] | buf[p + len - 1 - (len >> 2)] | buf[p + len - 1];
    if (probe === 0 && buf.compare(zeros, 0, len, p, p + len) === 0) {
      if (zeroStart < 0) zeroStart = p;
      if (dataStart >= 0 && p + len - zeroStart >= minHole) {
        out.push(dataStart, zeroStart - dataStart);
        dataStart = -1;
      }
    } else {
      zeroStart = -1;
      if (dataStart < 0) dataStart = p;
    }
  }
  if (dataStart >= 0) {
    const end = zeroStart >= dataStart ? zeroStart : n;
    out.push(dataStart, end - dataStart);
  }
  return out;
}
