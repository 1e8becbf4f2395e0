// CRC-32C (Castagnoli), as VHDX checksums its headers, region tables and log entries.
const TABLE = (() => {
  const t = new Uint32Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
    t[i] = c >>> 0;
  }
  return t;
})();

/** CRC-32C of `b`, with the 4 bytes at `zeroAt` (the checksum field itself) read as zero. */
export function crc32c(b: Uint8Array, zeroAt = -1): number {
  let c = 0xffffffff;
  for (let i = 0; i < b.length; i++) {
    const byte = i >= zeroAt && i < zeroAt + 4 ? 0 : b[i];
    c = TABLE[(c ^ byte) & 0xff] ^ (c >>> 8);
  }
  return (c ^ 0xffffffff) >>> 0;
}
