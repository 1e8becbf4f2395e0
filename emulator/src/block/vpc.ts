// Microsoft VHD ("vpc" in QEMU): fixed (raw data + 512-byte footer) and dynamic (footer copy,
// dynamic header, block allocation table, blocks each preceded by a sector bitmap).
import { ImageError } from './blockDevice';
import { Fields, latin1 } from './bytes';
import { type Extent, ExtentDevice } from './extentDevice';
import type { FileDevice } from './fileDevice';
import type { ParsedImage } from './image';

const TYPE_FIXED = 2, TYPE_DYNAMIC = 3, TYPE_DIFFERENCING = 4;
const MAX_GEOMETRY = 65535 * 16 * 255;
const MAX_SECTORS = 0xff000000; // QEMU's VHD_MAX_SECTORS (2040 GiB)
const UNALLOCATED = 0xffffffff;
const MAX_TABLE_ENTRIES = 64 * 1024 * 1024;

class VpcDynamicDevice extends ExtentDevice {
  constructor(private readonly file: FileDevice, readonly size: number, private readonly blockSize: number,
    private readonly bitmapSize: number, private readonly bat: Uint32Array, private readonly batOffset: number) { super(); }

  async mapExtent(offset: number, maxLength: number): Promise<Extent> {
    const bs = this.blockSize;
    const block = Math.floor(offset / bs);
    const end = Math.min(offset + maxLength, this.size, (block + 1) * bs);
    const e = block < this.bat.length ? this.bat[block] : UNALLOCATED;
    if (e === UNALLOCATED) {
      // Merge runs of unallocated blocks so a sparse disk maps in few steps.
      let pos = end, b = block + 1;
      const limit = Math.min(offset + maxLength, this.size);
      while (pos < limit && (b >= this.bat.length || this.bat[b] === UNALLOCATED)) { pos = Math.min(limit, (b + 1) * bs); b++; }
      return { kind: 'zero', length: pos - offset };
    }
    const host = e * 512 + this.bitmapSize + (offset - block * bs);
    if (host + (end - offset) > this.file.size) {
      throw new ImageError(`block ${block} lies past the end of the file`, 'VHD block allocation table', this.batOffset + block * 4);
    }
    return { kind: 'data', length: end - offset, source: this.file, offset: host };
  }

  protected async closeLayer(): Promise<void> {}
}

class VpcFixedDevice extends ExtentDevice {
  constructor(private readonly file: FileDevice, readonly size: number, private readonly dataLength: number) { super(); }
  async mapExtent(offset: number, maxLength: number): Promise<Extent> {
    // A geometry-rounded size can exceed the data before the footer; that tail reads as zeros.
    if (offset >= this.dataLength) return { kind: 'zero', length: Math.min(maxLength, this.size - offset) };
    return { kind: 'data', length: Math.min(maxLength, this.size - offset, this.dataLength - offset), source: this.file, offset };
  }
  protected async closeLayer(): Promise<void> {}
}

function checksum(b: Uint8Array, skipAt: number): number {
  let sum = 0;
  for (let i = 0; i < b.length; i++) if (i < skipAt || i >= skipAt + 4) sum += b[i];
  return (~sum) >>> 0;
}

export async function openVpc(file: FileDevice): Promise<ParsedImage> {
  if (file.size < 512) throw new ImageError('VHD footer is truncated', 'VHD footer', 0);
  // Dynamic disks start with a copy of the footer; fixed disks only have it at the end.
  let footerAt = 0;
  let raw = await file.read(0, 512);
  if (latin1(raw.subarray(0, 8)) !== 'conectix') {
    footerAt = file.size - 512;
    raw = await file.read(footerAt, 512);
    if (latin1(raw.subarray(0, 8)) !== 'conectix') throw new ImageError('not a VHD image (no "conectix" footer)', 'VHD footer', footerAt);
  }
  const f = new Fields(raw, 'VHD footer', footerAt, false);
  if (f.u32(64) !== checksum(raw, 64)) throw f.error('VHD footer checksum mismatch', 64);
  const type = f.u32(60);
  const creator = f.ascii(28, 4);
  const cyls = f.u16(56), heads = f.u8(58), spt = f.u8(59);
  let sectors = cyls * heads * spt;
  // Virtual PC sizes disks by CHS geometry; Hyper-V, disk2vhd, XenServer and newer QEMU by the
  // footer's current size. Same rule as QEMU so both see the same disk.
  const useChs = !['win ', 'qem2', 'd2v ', 'CTXS', 'tap\0'].includes(creator);
  if (!useChs || sectors === MAX_GEOMETRY) sectors = Math.floor(f.u64(48, 'current size') / 512);
  if (sectors > MAX_SECTORS) throw f.error(`disk of ${sectors} sectors is larger than VHD allows`, 48);
  const size = sectors * 512;

  if (type === TYPE_FIXED) {
    return { format: 'vpc', device: new VpcFixedDevice(file, size, file.size - 512), virtualSize: size, snapshots: [], files: [file] };
  }
  if (type === TYPE_DIFFERENCING) throw f.error('differencing VHD images are not supported', 60);
  if (type !== TYPE_DYNAMIC) throw f.error(`unknown VHD disk type ${type}`, 60);

  const dynOffset = f.u64(16, 'dynamic header offset');
  if (dynOffset + 1024 > file.size) throw f.error(`dynamic header at ${dynOffset} is outside the file`, 16);
  const dh = new Fields(await file.read(dynOffset, 1024), 'VHD dynamic header', dynOffset, false);
  if (dh.ascii(0, 8) !== 'cxsparse') throw dh.error('bad dynamic header cookie');
  const batOffset = dh.u64(16, 'BAT offset');
  const entries = dh.u32(28), blockSize = dh.u32(32);
  if (blockSize < 512 || blockSize % 512 !== 0 || blockSize > 256 * 1024 * 1024 || (blockSize & (blockSize - 1)) !== 0) {
    throw dh.error(`invalid block size ${blockSize}`, 32);
  }
  if (entries > MAX_TABLE_ENTRIES) throw dh.error(`${entries} BAT entries is too many`, 28);
  if (entries * blockSize < size) throw dh.error(`BAT of ${entries} entries does not cover ${size} bytes`, 28);
  if (batOffset + entries * 4 > file.size) throw dh.error(`BAT at ${batOffset} is outside the file`, 16);
  const batRaw = await file.read(batOffset, entries * 4);
  const bv = new DataView(batRaw.buffer, batRaw.byteOffset, batRaw.byteLength);
  const bat = new Uint32Array(entries);
  for (let i = 0; i < entries; i++) bat[i] = bv.getUint32(i * 4);
  const bitmapSize = Math.ceil(blockSize / 512 / 8 / 512) * 512;
  return {
    format: 'vpc',
    device: new VpcDynamicDevice(file, size, blockSize, bitmapSize, bat, batOffset),
    virtualSize: size,
    clusterSize: blockSize,
    snapshots: [],
    files: [file],
  };
}
