// VirtualBox VDI (dynamic and static): a header, a block map of 32-bit block indices, and
// fixed-size data blocks. Unallocated and discarded blocks read as zeros.
import { ImageError } from './blockDevice';
import { Fields } from './bytes';
import { type Extent, ExtentDevice } from './extentDevice';
import type { FileDevice } from './fileDevice';
import type { ParsedImage } from './image';

const VDI_SIGNATURE = 0xbeda107f;
const UNALLOCATED = 0xffffffff, DISCARDED = 0xfffffffe;
const MAX_BLOCKS = 64 * 1024 * 1024; // block map ≤ 256 MiB even for hostile headers (QEMU: VDI_BLOCKS_IN_IMAGE_MAX)

class VdiDevice extends ExtentDevice {
  constructor(private readonly file: FileDevice, readonly size: number, private readonly blockSize: number,
    private readonly dataOffset: number, private readonly bmap: Uint32Array, private readonly bmapOffset: number) { super(); }

  async mapExtent(offset: number, maxLength: number): Promise<Extent> {
    const bs = this.blockSize;
    let block = Math.floor(offset / bs);
    const end = Math.min(offset + maxLength, this.size);
    const classify = (b: number) => {
      const e = b < this.bmap.length ? this.bmap[b] : UNALLOCATED;
      return e === UNALLOCATED || e === DISCARDED ? -1 : e;
    };
    const first = classify(block);
    let pos = Math.min(end, (block + 1) * bs);
    while (pos < end) {
      block++;
      const e = classify(block);
      if (first < 0 ? e >= 0 : e !== first + (block - Math.floor(offset / bs))) break;
      pos = Math.min(end, (block + 1) * bs);
    }
    if (first < 0) return { kind: 'zero', length: pos - offset };
    const host = this.dataOffset + first * bs + (offset % bs);
    if (host + (pos - offset) > this.file.size) {
      const b = Math.floor(offset / bs);
      throw new ImageError(`block ${b} lies past the end of the file`, 'VDI block map', this.bmapOffset + b * 4);
    }
    return { kind: 'data', length: pos - offset, source: this.file, offset: host };
  }

  protected async closeLayer(): Promise<void> {}
}

export async function openVdi(file: FileDevice): Promise<ParsedImage> {
  const h = new Fields(await file.read(0, Math.min(file.size, 512)), 'VDI header', 0, true);
  if (h.u32(64) !== VDI_SIGNATURE) throw h.error('not a VDI image (bad signature)', 64);
  const version = h.u32(68);
  if (version >>> 16 !== 1) throw h.error(`unsupported VDI version ${version >>> 16}.${version & 0xffff}`, 68);
  const type = h.u32(76);
  if (type !== 1 && type !== 2) throw h.error(`unsupported VDI image type ${type}`, 76);
  const bmapOffset = h.u32(340), dataOffset = h.u32(344);
  const sectorSize = h.u32(360);
  const diskSize = h.u64(368, 'disk size');
  const blockSize = h.u32(376), blockExtra = h.u32(380), blocks = h.u32(384);
  if (sectorSize !== 512) throw h.error(`unsupported VDI sector size ${sectorSize}`, 360);
  if (blockSize === 0 || blockSize % 512 !== 0 || blockSize > 256 * 1024 * 1024) throw h.error(`invalid VDI block size ${blockSize}`, 376);
  if (blockExtra !== 0) throw h.error(`unsupported VDI block extra data (${blockExtra} bytes)`, 380);
  if (blocks > MAX_BLOCKS) throw h.error(`${blocks} blocks is too many`, 384);
  if (blocks * blockSize < diskSize) throw h.error(`disk size ${diskSize} needs more than ${blocks} blocks`, 368);
  if (bmapOffset % 512 !== 0 || bmapOffset + blocks * 4 > file.size) throw h.error(`block map at ${bmapOffset} is unaligned or outside the file`, 340);
  if (dataOffset % 512 !== 0) throw h.error(`data offset ${dataOffset} is not sector aligned`, 344);
  const raw = await file.read(bmapOffset, blocks * 4);
  const bmap = new Uint32Array(blocks);
  const dv = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  for (let i = 0; i < blocks; i++) {
    const e = dv.getUint32(i * 4, true);
    if (e !== UNALLOCATED && e !== DISCARDED && e >= blocks) throw h.error(`block map entry ${i} (${e}) is out of range`, bmapOffset + i * 4);
    bmap[i] = e;
  }
  return {
    format: 'vdi',
    device: new VdiDevice(file, diskSize, blockSize, dataOffset, bmap, bmapOffset),
    virtualSize: diskSize,
    clusterSize: blockSize,
    snapshots: [],
    files: [file],
  };
}
