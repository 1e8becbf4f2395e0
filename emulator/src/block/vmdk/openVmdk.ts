// VMDK driver: a monolithic sparse file (KDMV header with an embedded descriptor) or a text
// descriptor naming extents (FLAT/VMFS data files, SPARSE extent files, ZERO ranges). Extents are
// laid end to end on the virtual disk; a parentFileNameHint makes the disk a delta over a parent.
import { realpath } from 'node:fs/promises';
import { resolve } from 'node:path';
import { ImageError } from '../blockDevice';
import { latin1 } from '../bytes';
import { type Extent, ExtentDevice } from '../extentDevice';
import { FileDevice } from '../fileDevice';
import type { OpenOptions, ParsedImage } from '../image';
import { combinePath } from '../paths';
import { parseDescriptor, type VmdkDescriptor } from './descriptor';
import { readSparseHeader, SparseExtent, VMDK4_MAGIC } from './sparseExtent';

type Layer =
  | { type: 'sparse'; start: number; length: number; sparse: SparseExtent; name: string; info: Record<string, unknown> }
  | { type: 'flat'; start: number; length: number; file: FileDevice; fileOffset: number; name: string; info: Record<string, unknown> }
  | { type: 'zero'; start: number; length: number; name: string; info: Record<string, unknown> };

class VmdkDevice extends ExtentDevice {
  constructor(private readonly layers: Layer[], readonly size: number) { super(); }

  async mapExtent(offset: number, maxLength: number): Promise<Extent> {
    // Binary search the extent holding `offset`.
    let lo = 0, hi = this.layers.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.layers[mid].start <= offset) lo = mid; else hi = mid - 1;
    }
    const l = this.layers[lo];
    const rel = offset - l.start;
    const max = Math.min(maxLength, l.length - rel);
    switch (l.type) {
      case 'zero': return { kind: 'zero', length: max };
      case 'flat': {
        // Flat data past the end of its file reads as zeros (QEMU pads short reads the same way).
        const avail = l.file.size - (l.fileOffset + rel);
        if (avail <= 0) return { kind: 'zero', length: max };
        return { kind: 'data', length: Math.min(max, avail), source: l.file, offset: l.fileOffset + rel };
      }
      case 'sparse': return l.sparse.map(rel, max, l.length);
    }
  }

  protected async closeLayer(): Promise<void> {}
}

const HEX32 = /^[0-9a-fA-F]{1,8}$/;

export async function openVmdk(file: FileDevice, path: string, options: OpenOptions = {}): Promise<ParsedImage> {
  const magic = file.size >= 4 ? new DataView((await file.read(0, 4)).buffer).getUint32(0, true) : 0;
  const files: FileDevice[] = [file];
  const layers: Layer[] = [];
  let desc: VmdkDescriptor | undefined;
  let clusterSize: number | undefined;
  try {
    if (magic === VMDK4_MAGIC) {
      const header = await readSparseHeader(file);
      if (header.descriptorOffset > 0 && header.descriptorSize > 0) {
        const at = header.descriptorOffset * 512, len = Math.min(header.descriptorSize * 512, 1024 * 1024);
        if (at + len > file.size) throw new ImageError('embedded descriptor is outside the file', 'VMDK header', 28);
        desc = parseDescriptor(latin1(await file.read(at, len)), 'VMDK embedded descriptor');
      }
      const sparse = await SparseExtent.open(file, header);
      clusterSize = sparse.grainBytes;
      layers.push({
        type: 'sparse', start: 0, length: header.capacity * 512, sparse, name: path,
        // QEMU reports no extent type for the file's own sparse extent.
        info: sparseInfo(path, header.capacity * 512, sparse, ''),
      });
    } else {
      if (file.size > 1024 * 1024) throw new ImageError('not a VMDK image (no sparse header, and too large for a descriptor)', 'VMDK descriptor', 0);
      desc = parseDescriptor(latin1(await file.read(0, file.size)), 'VMDK descriptor');
      if (desc.extents.length === 0) throw new ImageError('VMDK descriptor lists no extents', 'VMDK descriptor', 0);
      let start = 0;
      for (const e of desc.extents) {
        const length = e.sectors * 512;
        const where = `VMDK descriptor line ${e.line}`;
        if (e.type === 'ZERO') {
          layers.push({ type: 'zero', start, length, name: '', info: { 'virtual-size': length, filename: '', format: 'ZERO' } });
        } else {
          if (!e.file) throw new ImageError(`${where}: extent has no file name`, 'VMDK descriptor', 0);
          const extPath = combinePath(e.file, path);
          if (resolve(extPath) === resolve(path)) throw new ImageError(`${where}: extent refers to the descriptor itself`, 'VMDK descriptor', 0);
          // Extent files are as untrusted as backing files: the same policy decides.
          const real = await realpath(extPath).catch(() => extPath);
          if (options.allowBacking && !options.allowBacking(real, path)) {
            throw new ImageError(`${where}: extent file ${real} is outside the trusted area and was not opened`);
          }
          let ef: FileDevice;
          try { ef = await FileDevice.open(extPath); } catch (err) {
            throw new ImageError(`${where}: cannot open extent ${extPath}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
          }
          files.push(ef);
          if (e.type === 'FLAT' || e.type === 'VMFS') {
            layers.push({ type: 'flat', start, length, file: ef, fileOffset: e.offset * 512, name: extPath, info: { 'virtual-size': length, filename: extPath, format: e.type === 'VMFS' ? 'VMFS' : 'FLAT' } });
          } else if (e.type === 'SPARSE') {
            const header = await readSparseHeader(ef);
            const sparse = await SparseExtent.open(ef, header);
            clusterSize ??= sparse.grainBytes;
            layers.push({ type: 'sparse', start, length, sparse, name: extPath, info: sparseInfo(extPath, length, sparse, 'SPARSE') });
          } else {
            throw new ImageError(`${where}: ${e.type} extents are not supported`, 'VMDK descriptor', 0);
          }
        }
        start += length;
      }
    }
  } catch (err) {
    for (const f of files.slice(1)) await f.close().catch(() => {});
    throw err;
  }
  const size = layers.reduce((n, l) => Math.max(n, l.start + l.length), 0);
  const fields = desc?.fields ?? new Map<string, string>();
  const cid = fields.get('CID'), parentCid = fields.get('parentCID');
  const parentHint = fields.get('parentFileNameHint');
  const data: Record<string, unknown> = {
    cid: cid && HEX32.test(cid) ? parseInt(cid, 16) : 0,
    'parent-cid': parentCid && HEX32.test(parentCid) ? parseInt(parentCid, 16) : 0xffffffff,
    'create-type': fields.get('createType') ?? 'monolithicSparse',
    extents: layers.map((l) => l.info),
  };
  return {
    format: 'vmdk',
    device: new VmdkDevice(layers, size),
    virtualSize: size,
    clusterSize,
    // QEMU opens (and reports) a VMDK parent as vmdk.
    backing: parentHint && parentCid?.toLowerCase() !== 'ffffffff' ? { name: parentHint, format: 'vmdk' } : undefined,
    snapshots: [],
    formatSpecific: { type: 'vmdk', data },
    files,
  };
}

function sparseInfo(filename: string, length: number, sparse: SparseExtent, format: string): Record<string, unknown> {
  // Key order as qemu-img prints it (the human output lists them in this order).
  return {
    ...(sparse.header.compressed ? { compressed: true } : {}),
    'virtual-size': length, filename, 'cluster-size': sparse.grainBytes, format,
  };
}
