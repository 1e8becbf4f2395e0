// The qcow2 header (versions 2 and 3) and its extensions, validated the way QEMU validates them
// before any table is trusted. Field offsets follow the published qcow2 specification.
import { ImageError } from '../blockDevice';
import { Fields, isPowerOfTwo, utf8 } from '../bytes';
import type { FileDevice } from '../fileDevice';

export const QCOW2_MAGIC = 0x514649fb; // "QFI\xfb"

const INCOMPAT_DIRTY = 1, INCOMPAT_CORRUPT = 2, INCOMPAT_DATA_FILE = 4, INCOMPAT_COMPRESSION = 8, INCOMPAT_EXTL2 = 16;
const KNOWN_INCOMPAT = INCOMPAT_DIRTY | INCOMPAT_CORRUPT | INCOMPAT_DATA_FILE | INCOMPAT_COMPRESSION | INCOMPAT_EXTL2;
const COMPAT_LAZY_REFCOUNTS = 1;

const EXT_END = 0, EXT_BACKING_FORMAT = 0xe2792aca, EXT_FEATURE_TABLE = 0x6803f857, EXT_BITMAPS = 0x23852875;
const EXT_CRYPTO = 0x0537be77, EXT_DATA_FILE = 0x44415441;

/** QEMU's own limits: a bigger L1 or snapshot table is refused as corrupt. */
const MAX_L1_BYTES = 32 * 1024 * 1024;
const MAX_SNAPSHOTS = 65536;

export interface HeaderExtension { type: number; name: string; length: number; offset: number }

export interface Qcow2Header {
  version: 2 | 3;
  clusterBits: number;
  clusterSize: number;
  size: number;
  l1Size: number;
  l1Offset: number;
  refcountTableOffset: number;
  refcountOrder: number;
  nbSnapshots: number;
  snapshotsOffset: number;
  incompatible: number;
  compatible: number;
  autoclear: number;
  compressionType: 'zlib' | 'zstd';
  extendedL2: boolean;
  backingName?: string;
  backingFormat?: string;
  extensions: HeaderExtension[];
  /** Names for feature bits from the feature name table: "type:bit" → name. */
  featureNames: Map<string, string>;
  /** Persistent dirty bitmaps directory (only trusted while the autoclear bitmaps bit is set). */
  bitmaps?: { count: number; directorySize: number; directoryOffset: number };
}

const EXT_NAMES: Record<number, string> = {
  [EXT_BACKING_FORMAT]: 'backing format', [EXT_FEATURE_TABLE]: 'feature name table', [EXT_BITMAPS]: 'bitmaps',
  [EXT_CRYPTO]: 'full disk encryption', [EXT_DATA_FILE]: 'external data file',
};

export async function readQcow2Header(file: FileDevice): Promise<Qcow2Header> {
  if (file.size < 72) throw new ImageError('qcow2 header is truncated', 'qcow2 header', 0);
  const first = new Fields(await file.read(0, Math.min(file.size, 4096)), 'qcow2 header', 0, false);
  if (first.u32(0) !== QCOW2_MAGIC) throw first.error('not a qcow2 image (bad magic)');
  const version = first.u32(4);
  if (version !== 2 && version !== 3) throw first.error(`unsupported qcow2 version ${version}`, 4);
  const clusterBits = first.u32(20);
  if (clusterBits < 9 || clusterBits > 21) throw first.error(`cluster size 2^${clusterBits} is outside 512 B..2 MiB`, 20);
  const clusterSize = 2 ** clusterBits;
  const size = first.u64(24, 'virtual size');
  const cryptMethod = first.u32(32);
  if (cryptMethod !== 0) {
    throw first.error(`encrypted qcow2 images are not supported (${cryptMethod === 1 ? 'AES' : cryptMethod === 2 ? 'LUKS' : `method ${cryptMethod}`} encryption)`, 32);
  }
  const h: Qcow2Header = {
    version, clusterBits, clusterSize, size,
    l1Size: first.u32(36), l1Offset: first.u64(40, 'L1 table offset'),
    refcountTableOffset: first.u64(48, 'refcount table offset'),
    nbSnapshots: first.u32(60), snapshotsOffset: first.u64(64, 'snapshot table offset'),
    incompatible: 0, compatible: 0, autoclear: 0, refcountOrder: 4, compressionType: 'zlib', extendedL2: false,
    extensions: [], featureNames: new Map(),
  };
  let headerLength = 72;
  if (version === 3) {
    if (first.u64hi(72) !== 0) throw first.error(`unknown incompatible features 0x${first.u64n(72).toString(16)}`, 72);
    h.incompatible = first.u64lo(72);
    h.compatible = first.u64lo(80);
    h.autoclear = first.u64lo(88);
    h.refcountOrder = first.u32(96);
    headerLength = first.u32(100);
    if (headerLength < 104) throw first.error(`qcow2 v3 header length ${headerLength} is below 104`, 100);
    if (headerLength > clusterSize) throw first.error(`header length ${headerLength} exceeds the cluster size`, 100);
    if (h.refcountOrder > 6) throw first.error(`refcount order ${h.refcountOrder} is above 6`, 96);
    if (headerLength > 104) {
      const ct = first.u8(104);
      if (ct > 1) throw first.error(`unknown compression type ${ct}`, 104);
      h.compressionType = ct === 1 ? 'zstd' : 'zlib';
    }
    if ((h.incompatible & INCOMPAT_COMPRESSION) === 0 && h.compressionType !== 'zlib') {
      throw first.error('compression type is set but the compression-type feature bit is not', 72);
    }
    h.extendedL2 = (h.incompatible & INCOMPAT_EXTL2) !== 0;
    if (h.extendedL2 && clusterBits < 14) throw first.error('extended L2 entries need a cluster size of at least 16 KiB', 20);
  }

  // Header extensions live between the header and the end of the first cluster.
  const extEnd = Math.min(clusterSize, file.size);
  const cluster = extEnd <= first.bytes.length ? first : new Fields(await file.read(0, extEnd), 'qcow2 header', 0, false);
  let at = headerLength;
  const backingOffset = first.u64(8, 'backing file name offset');
  const backingSize = first.u32(16);
  while (at + 8 <= extEnd) {
    const type = cluster.u32(at), length = cluster.u32(at + 4);
    if (type === EXT_END) break;
    if (at + 8 + length > extEnd) throw cluster.error(`header extension 0x${type.toString(16)} runs past the first cluster`, at);
    const data = cluster.slice(at + 8, length);
    h.extensions.push({ type, name: EXT_NAMES[type] ?? `unknown (0x${type.toString(16)})`, length, offset: at });
    if (type === EXT_BACKING_FORMAT) h.backingFormat = utf8(data).replace(/\0.*$/s, '');
    else if (type === EXT_DATA_FILE) {
      throw cluster.error(`qcow2 images with an external data file (${utf8(data)}) are not supported`, at);
    } else if (type === EXT_CRYPTO) {
      throw cluster.error('encrypted qcow2 images are not supported (full disk encryption header)', at);
    } else if (type === EXT_BITMAPS && length >= 24) {
      const b = new Fields(data, 'bitmaps extension', at + 8, false);
      h.bitmaps = { count: b.u32(0), directorySize: b.u64(8, 'bitmap directory size'), directoryOffset: b.u64(16, 'bitmap directory offset') };
    } else if (type === EXT_FEATURE_TABLE) {
      for (let i = 0; i + 48 <= length; i += 48) {
        const kind = ['incompatible', 'compatible', 'autoclear'][data[i]] ?? `type${data[i]}`;
        h.featureNames.set(`${kind}:${data[i + 1]}`, utf8(data.subarray(i + 2, i + 48)).replace(/\0.*$/s, ''));
      }
    }
    at += 8 + Math.ceil(length / 8) * 8;
  }

  if (h.incompatible & INCOMPAT_DATA_FILE) throw first.error('qcow2 images with an external data file are not supported', 72);
  const unknown = h.incompatible & ~KNOWN_INCOMPAT;
  if (unknown) {
    const names = [];
    for (let bit = 0; bit < 32; bit++) if (unknown & (2 ** bit)) names.push(h.featureNames.get(`incompatible:${bit}`) ?? `bit ${bit}`);
    throw first.error(`unsupported qcow2 incompatible features: ${names.join(', ')}`, 72);
  }

  if (backingOffset !== 0) {
    if (backingOffset > clusterSize || backingSize > 1023 || backingSize === 0 || backingOffset + backingSize > file.size) {
      throw first.error(`invalid backing file name (offset ${backingOffset}, length ${backingSize})`, 8);
    }
    h.backingName = utf8(await file.read(backingOffset, backingSize));
  }

  // Tables must be cluster aligned and their size bounded before we read them.
  const l2Entries = clusterSize / (h.extendedL2 ? 16 : 8);
  const needL1 = Math.ceil(size / (clusterSize * l2Entries));
  if (h.l1Size * 8 > MAX_L1_BYTES) throw first.error(`L1 table of ${h.l1Size} entries is too large`, 36);
  if (h.l1Size < needL1) throw first.error(`L1 table of ${h.l1Size} entries is too small for ${size} bytes`, 36);
  if (h.l1Size > 0 && (h.l1Offset % clusterSize !== 0 || h.l1Offset + h.l1Size * 8 > file.size)) {
    throw first.error(`L1 table at ${h.l1Offset} is unaligned or outside the file`, 40);
  }
  if (h.nbSnapshots > MAX_SNAPSHOTS) throw first.error(`${h.nbSnapshots} snapshots is more than ${MAX_SNAPSHOTS}`, 60);
  if (h.nbSnapshots > 0 && (h.snapshotsOffset % clusterSize !== 0 || h.snapshotsOffset >= file.size)) {
    throw first.error(`snapshot table at ${h.snapshotsOffset} is unaligned or outside the file`, 64);
  }
  if (!isPowerOfTwo(clusterSize)) throw first.error('cluster size is not a power of two', 20);
  return h;
}

export const qcow2Bits = { INCOMPAT_DIRTY, INCOMPAT_CORRUPT, COMPAT_LAZY_REFCOUNTS, AUTOCLEAR_BITMAPS: 1 };

const MAX_BITMAPS = 65535, MAX_BITMAP_DIRECTORY = 64 * 1024 * 1024;

/** The persistent dirty bitmaps, as qemu-img info lists them (flags, name, granularity). */
export async function readBitmapDirectory(file: FileDevice, h: Qcow2Header): Promise<{ flags: string[]; name: string; granularity: number }[]> {
  const bm = h.bitmaps;
  if (!bm || !(h.autoclear & qcow2Bits.AUTOCLEAR_BITMAPS) || bm.count === 0) return [];
  if (bm.count > MAX_BITMAPS || bm.directorySize > MAX_BITMAP_DIRECTORY || bm.directoryOffset % h.clusterSize !== 0 || bm.directoryOffset + bm.directorySize > file.size) {
    throw new ImageError(`bitmap directory (${bm.count} bitmaps, ${bm.directorySize} bytes at ${bm.directoryOffset}) is invalid`, 'bitmaps extension', bm.directoryOffset);
  }
  const d = new Fields(await file.read(bm.directoryOffset, bm.directorySize), 'bitmap directory', bm.directoryOffset, false);
  const out = [];
  let at = 0;
  for (let i = 0; i < bm.count; i++) {
    const flags = d.u32(at + 12), granularityBits = d.u8(at + 17), nameSize = d.u16(at + 18), extra = d.u32(at + 20);
    if (granularityBits < 9 || granularityBits > 31) throw d.error(`bitmap ${i} has granularity 2^${granularityBits}`, at + 17);
    const name = utf8(d.slice(at + 24 + extra, nameSize));
    out.push({ flags: [...(flags & 1 ? ['in-use'] : []), ...(flags & 2 ? ['auto'] : [])], name, granularity: 2 ** granularityBits });
    at += Math.ceil((24 + extra + nameSize) / 8) * 8;
  }
  return out;
}
