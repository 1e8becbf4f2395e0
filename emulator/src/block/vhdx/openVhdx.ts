// VHDX (fixed, dynamic, differencing): dual checksummed headers, a region table locating the
// BAT and metadata, metadata items (block size, virtual size, sector size, parent locator), and
// a BAT interleaving payload block entries with sector-bitmap entries every `chunkRatio` blocks.
import { ImageError } from '../blockDevice';
import { Fields, guidString, isPowerOfTwo, utf16 } from '../bytes';
import { type Extent, ExtentDevice } from '../extentDevice';
import type { FileDevice } from '../fileDevice';
import type { BackingRef, ParsedImage } from '../image';
import { AsyncLru } from '../lruCache';
import { crc32c } from './crc32c';

const KiB = 1024, MiB = 1024 * 1024;
const GUID_BAT = '2dc27766-f623-4200-9d64-115e9bfd4a08';
const GUID_METADATA = '8b7ca206-4790-4b9a-b8fe-575f050f886e';
const META_FILE_PARAMETERS = 'caa16737-fa36-4d43-b3b6-33f0aa44e76b';
const META_VIRTUAL_DISK_SIZE = '2fa54224-cd1b-4876-b211-5dbed83bf4b8';
const META_PAGE83 = 'beca12ab-b2e6-4523-93ef-c309e000c746';
const META_LOGICAL_SECTOR = '8141bf1d-a96f-4709-ba47-f233a8faab5f';
const META_PHYSICAL_SECTOR = 'cda348c7-445d-4471-9cc9-e9885251c556';
const META_PARENT_LOCATOR = 'a8d35f2d-b30b-454d-abf7-d3d84834ab0c';
const PARENT_LOCATOR_VHDX = 'b04aefb7-d19e-4a81-b789-25b8e9445913';
const KNOWN_META = new Set([META_FILE_PARAMETERS, META_VIRTUAL_DISK_SIZE, META_PAGE83, META_LOGICAL_SECTOR, META_PHYSICAL_SECTOR, META_PARENT_LOCATOR]);

const PAYLOAD_NOT_PRESENT = 0, PAYLOAD_UNDEFINED = 1, PAYLOAD_ZERO = 2, PAYLOAD_UNMAPPED = 3, PAYLOAD_FULLY_PRESENT = 6, PAYLOAD_PARTIALLY_PRESENT = 7;
const SB_PRESENT = 6;
const MAX_VIRTUAL_SIZE = 64 * 1024 * 1024 * MiB; // 64 TiB
const MAX_BAT_BYTES = 256 * MiB;

class VhdxDevice extends ExtentDevice {
  private readonly bitmaps = new AsyncLru<number, Uint8Array>(4 * MiB);

  constructor(private readonly file: FileDevice, readonly size: number, private readonly blockSize: number,
    private readonly sectorSize: number, private readonly chunkRatio: number, private readonly bat: Float64Array,
    private readonly batOffset: number, private readonly hasParent: boolean) { super(); }

  private entry(i: number): { state: number; offset: number } {
    const v = i < this.bat.length / 2 ? this.bat[i * 2] : 0;
    return { state: this.bat[i * 2 + 1] ?? 0, offset: v };
  }

  async mapExtent(offset: number, maxLength: number): Promise<Extent> {
    const bs = this.blockSize;
    const block = Math.floor(offset / bs);
    const inBlock = offset - block * bs;
    const end = Math.min(offset + maxLength, this.size, (block + 1) * bs);
    const batIndex = block + Math.floor(block / this.chunkRatio);
    const { state, offset: host } = this.entry(batIndex);
    const where = this.batOffset + batIndex * 8;
    switch (state) {
      case PAYLOAD_FULLY_PRESENT:
        if (host === 0 || host + bs > this.file.size) throw new ImageError(`payload block ${block} at ${host} is outside the file`, 'VHDX BAT', where);
        return { kind: 'data', length: end - offset, source: this.file, offset: host + inBlock };
      case PAYLOAD_NOT_PRESENT:
      case PAYLOAD_UNDEFINED:
        return { kind: this.hasParent ? 'unallocated' : 'zero', length: end - offset };
      case PAYLOAD_ZERO:
      case PAYLOAD_UNMAPPED:
        return { kind: 'zero', length: end - offset };
      case PAYLOAD_PARTIALLY_PRESENT: {
        if (!this.hasParent) throw new ImageError(`payload block ${block} is partially present in an image without a parent`, 'VHDX BAT', where);
        if (host === 0 || host + bs > this.file.size) throw new ImageError(`payload block ${block} at ${host} is outside the file`, 'VHDX BAT', where);
        const chunk = Math.floor(block / this.chunkRatio);
        const sbIndex = chunk * (this.chunkRatio + 1) + this.chunkRatio;
        const sb = this.entry(sbIndex);
        if (sb.state !== SB_PRESENT || sb.offset === 0 || sb.offset + MiB > this.file.size) {
          throw new ImageError(`sector bitmap for payload block ${block} is missing`, 'VHDX BAT', this.batOffset + sbIndex * 8);
        }
        const bitmap = await this.bitmaps.get(sb.offset, () => this.file.read(sb.offset, MiB));
        const ss = this.sectorSize;
        const firstSector = (block % this.chunkRatio) * (bs / ss);
        const bit = (s: number) => (bitmap[s >> 3] >> (s & 7)) & 1;
        let sector = Math.floor(inBlock / ss);
        const present = bit(firstSector + sector);
        let pos = Math.min(end, (Math.floor(offset / ss) + 1) * ss);
        while (pos < end && bit(firstSector + (++sector)) === present) pos = Math.min(end, pos + ss);
        return present
          ? { kind: 'data', length: pos - offset, source: this.file, offset: host + inBlock }
          : { kind: 'unallocated', length: pos - offset };
      }
      default:
        throw new ImageError(`payload block ${block} has invalid state ${state}`, 'VHDX BAT', where);
    }
  }

  protected async closeLayer(): Promise<void> {}
}

/** The current header: the valid one of the two with the higher sequence number. */
async function readHeaders(file: FileDevice): Promise<Fields> {
  let best: Fields | undefined, bestSeq = -1n;
  for (const at of [64 * KiB, 128 * KiB]) {
    if (at + 4 * KiB > file.size) continue;
    const raw = await file.read(at, 4 * KiB);
    const h = new Fields(raw, 'VHDX header', at, true);
    if (h.ascii(0, 4) !== 'head' || h.u32(4) !== crc32c(raw, 4)) continue;
    const seq = h.u64n(8);
    if (seq > bestSeq) { best = h; bestSeq = seq; }
  }
  if (!best) throw new ImageError('neither VHDX header is valid (bad signature or checksum)', 'VHDX header', 64 * KiB);
  if (best.u16(66) !== 1) throw best.error(`unsupported VHDX version ${best.u16(66)}`, 66);
  return best;
}

async function readRegions(file: FileDevice): Promise<Map<string, { offset: number; length: number }>> {
  for (const at of [192 * KiB, 256 * KiB]) {
    if (at + 64 * KiB > file.size) continue;
    const raw = await file.read(at, 64 * KiB);
    const r = new Fields(raw, 'VHDX region table', at, true);
    if (r.ascii(0, 4) !== 'regi' || r.u32(4) !== crc32c(raw, 4)) continue;
    const count = r.u32(8);
    if (count > 2047) throw r.error(`${count} region entries is more than 2047`, 8);
    const out = new Map<string, { offset: number; length: number }>();
    for (let i = 0; i < count; i++) {
      const e = 16 + i * 32;
      const guid = guidString(r.slice(e, 16));
      const offset = r.u64(e + 16, 'region offset'), length = r.u32(e + 24), required = r.u32(e + 28) & 1;
      if (guid !== GUID_BAT && guid !== GUID_METADATA && required) throw r.error(`unknown required region ${guid}`, e);
      if (offset % MiB !== 0 || length % MiB !== 0 || offset < MiB || offset + length > file.size) {
        throw r.error(`region ${guid} (offset ${offset}, length ${length}) is misaligned or outside the file`, e + 16);
      }
      out.set(guid, { offset, length });
    }
    return out;
  }
  throw new ImageError('neither VHDX region table is valid (bad signature or checksum)', 'VHDX region table', 192 * KiB);
}

/** True if the log region holds an entry written under the header's log GUID. */
async function logHasEntries(file: FileDevice, h: Fields): Promise<boolean> {
  const logGuid = h.slice(48, 16);
  if (logGuid.every((b) => b === 0)) return false;
  // Header: ... log GUID @48, log version @64, version @66, log length @68, log offset @72.
  const logOffset = h.u64(72, 'log offset'), logLength = h.u32(68);
  if (logLength === 0) return false;
  if (logOffset % MiB !== 0 || logLength % MiB !== 0 || logOffset + logLength > file.size) {
    throw h.error(`log region (offset ${logOffset}, length ${logLength}) is misaligned or outside the file`, 68);
  }
  const log = await file.read(logOffset, logLength);
  for (let at = 0; at + 64 <= log.length; at += 4 * KiB) {
    const e = new Fields(log.subarray(at), 'VHDX log entry', logOffset + at, true);
    if (e.ascii(0, 4) !== 'loge') continue;
    const len = e.u32(8);
    if (len < 4 * KiB || len % (4 * KiB) !== 0 || at + len > log.length) continue;
    if (e.slice(32, 16).every((b, i) => b === logGuid[i]) && crc32c(log.subarray(at, at + len), 4) === e.u32(4)) return true;
  }
  return false;
}

export async function openVhdx(file: FileDevice): Promise<ParsedImage> {
  const ident = new Fields(await file.read(0, Math.min(file.size, 8)), 'VHDX file identifier', 0, true);
  if (ident.ascii(0, 8) !== 'vhdxfile') throw ident.error('not a VHDX image (bad file identifier)');
  const h = await readHeaders(file);
  if (await logHasEntries(file, h)) {
    // qemu-img refuses the same way when it opens such an image read-only: replaying means writing.
    throw h.error('VHDX log needs to be replayed (the image was not closed cleanly); we open images read-only: replay it with `qemu-img check -r all` or Hyper-V first', 48);
  }
  const regions = await readRegions(file);
  const batRegion = regions.get(GUID_BAT), metaRegion = regions.get(GUID_METADATA);
  if (!batRegion || !metaRegion) throw new ImageError('VHDX region table lacks the BAT or metadata region', 'VHDX region table', 192 * KiB);

  const metaRaw = await file.read(metaRegion.offset, Math.min(metaRegion.length, 64 * KiB));
  const mt = new Fields(metaRaw, 'VHDX metadata table', metaRegion.offset, true);
  if (mt.ascii(0, 8) !== 'metadata') throw mt.error('bad metadata table signature');
  const count = mt.u16(10);
  if (count > 2047) throw mt.error(`${count} metadata entries is more than 2047`, 10);
  const items = new Map<string, Fields>();
  for (let i = 0; i < count; i++) {
    const e = 32 + i * 32;
    const guid = guidString(mt.slice(e, 16));
    const off = mt.u32(e + 16), len = mt.u32(e + 20), flags = mt.u32(e + 24);
    if (!KNOWN_META.has(guid)) {
      if (flags & 4) throw mt.error(`unknown required metadata item ${guid}`, e);
      continue;
    }
    if (off < 64 * KiB || off + len > metaRegion.length || len > MiB) throw mt.error(`metadata item ${guid} lies outside the metadata region`, e + 16);
    items.set(guid, new Fields(await file.read(metaRegion.offset + off, len), `VHDX metadata item ${guid}`, metaRegion.offset + off, true));
  }
  const need = (g: string, name: string) => {
    const it = items.get(g);
    if (!it) throw mt.error(`required metadata item "${name}" is missing`);
    return it;
  };
  const fp = need(META_FILE_PARAMETERS, 'file parameters');
  const blockSize = fp.u32(0), fpFlags = fp.u32(4);
  const hasParent = (fpFlags & 2) !== 0;
  const size = need(META_VIRTUAL_DISK_SIZE, 'virtual disk size').u64(0, 'virtual disk size');
  const sectorSize = need(META_LOGICAL_SECTOR, 'logical sector size').u32(0);
  need(META_PHYSICAL_SECTOR, 'physical sector size');
  if (blockSize < MiB || blockSize > 256 * MiB || !isPowerOfTwo(blockSize)) throw fp.error(`invalid block size ${blockSize}`, 0);
  if (sectorSize !== 512 && sectorSize !== 4096) throw mt.error(`invalid logical sector size ${sectorSize}`);
  if (size > MAX_VIRTUAL_SIZE || size % sectorSize !== 0) throw mt.error(`invalid virtual disk size ${size}`);

  const chunkRatio = (2 ** 23 * sectorSize) / blockSize;
  const dataBlocks = Math.ceil(size / blockSize);
  const bitmapBlocks = Math.ceil(dataBlocks / chunkRatio);
  const batEntries = hasParent ? bitmapBlocks * (chunkRatio + 1) : dataBlocks + Math.floor(Math.max(0, dataBlocks - 1) / chunkRatio);
  if (batEntries * 8 > batRegion.length || batEntries * 8 > MAX_BAT_BYTES) {
    throw new ImageError(`BAT region of ${batRegion.length} bytes cannot hold ${batEntries} entries`, 'VHDX BAT', batRegion.offset);
  }
  const batRaw = await file.read(batRegion.offset, batEntries * 8);
  const dv = new DataView(batRaw.buffer, batRaw.byteOffset, batRaw.byteLength);
  // Pairs of (file offset, state) per entry.
  const bat = new Float64Array(batEntries * 2);
  for (let i = 0; i < batEntries; i++) {
    const lo = dv.getUint32(i * 8, true), hi = dv.getUint32(i * 8 + 4, true);
    bat[i * 2] = (hi * 4096 + (lo >>> 20)) * MiB;
    bat[i * 2 + 1] = lo & 7;
  }

  let backing: BackingRef | undefined;
  if (hasParent) backing = parentLocator(items.get(META_PARENT_LOCATOR), mt);
  return {
    format: 'vhdx',
    device: new VhdxDevice(file, size, blockSize, sectorSize, chunkRatio, bat, batRegion.offset, hasParent),
    virtualSize: size,
    clusterSize: blockSize,
    backing,
    snapshots: [],
    files: [file],
  };
}

/** The parent's path from the parent locator's key/value pairs (UTF-16LE). */
function parentLocator(pl: Fields | undefined, mt: Fields): BackingRef {
  if (!pl) throw mt.error('differencing VHDX has no parent locator');
  if (guidString(pl.slice(0, 16)) !== PARENT_LOCATOR_VHDX) throw pl.error('unknown parent locator type');
  const n = pl.u16(18);
  const kv = new Map<string, string>();
  for (let i = 0; i < n; i++) {
    const e = 20 + i * 12;
    const ko = pl.u32(e), vo = pl.u32(e + 4), kl = pl.u16(e + 8), vl = pl.u16(e + 10);
    kv.set(utf16(pl.slice(ko, kl), true), utf16(pl.slice(vo, vl), true));
  }
  const names = ['relative_path', 'absolute_win32_path', 'volume_path'].map((k) => kv.get(k)).filter((v): v is string => !!v)
    .map((p) => p.replace(/\\/g, '/'));
  if (names.length === 0) throw pl.error('parent locator names no parent path');
  return { name: names[0], format: 'vhdx', alternatives: names.slice(1) };
}

export const vhdxStates = { PAYLOAD_NOT_PRESENT, PAYLOAD_UNDEFINED, PAYLOAD_ZERO, PAYLOAD_UNMAPPED, PAYLOAD_FULLY_PRESENT, PAYLOAD_PARTIALLY_PRESENT };
