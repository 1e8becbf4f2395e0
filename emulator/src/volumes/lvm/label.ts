// LVM2 physical-volume on-disk format: the label (one of sectors 0–3), the pv_header with its
// data- and metadata-area lists, and the metadata area whose ring buffer holds the VG text.
import { type BlockDevice, ImageError } from '../../block/blockDevice';
import { ascii, crc32Lvm, u64le, view } from '../binary';

const LABEL_SCAN_SECTORS = 4;
const MDA_HEADER_SIZE = 512;
const MDA_MAGIC = ' LVM2 x[5A%r0N*>';
/** Text metadata is a few KiB to a few MiB; refuse anything bigger than this. */
const MAX_METADATA_TEXT = 64 * 1024 * 1024;
const MAX_AREAS = 16;

export interface DiskArea { offset: number; size: number }

export interface PvLabel {
  /** Byte offset of the label sector. */
  labelOffset: number;
  /** 32-character UUID as stored (no dashes). */
  uuid: string;
  deviceSize: number;
  dataAreas: DiskArea[];
  metadataAreas: DiskArea[];
}

export interface MetadataText {
  text: string;
  /** Byte offset on the PV where the text starts (the first piece, before any wrap). */
  offset: number;
  mdaStart: number;
}

/** Formats a stored 32-char UUID the way LVM prints it (6-4-4-4-4-4-6). */
export function formatUuid(raw: string): string {
  const cuts = [6, 4, 4, 4, 4, 4, 6];
  const parts: string[] = [];
  let i = 0;
  for (const n of cuts) { parts.push(raw.slice(i, i + n)); i += n; }
  return parts.join('-');
}

export async function readPvLabel(dev: BlockDevice): Promise<PvLabel | undefined> {
  for (let s = 0; s < LABEL_SCAN_SECTORS; s++) {
    const at = s * 512;
    if (at + 512 > dev.size) break;
    const sec = await dev.read(at, 512);
    if (ascii(sec, 0, 8) !== 'LABELONE') continue;
    const dv = view(sec);
    if (u64le(dv, 8) !== s) continue; // the label names its own sector
    if (crc32Lvm(sec.subarray(20)) !== dv.getUint32(16, true)) throw new ImageError('LVM label CRC mismatch', 'LVM label', at + 16);
    if (ascii(sec, 24, 32) !== 'LVM2 001') throw new ImageError(`unknown LVM label type "${ascii(sec, 24, 32)}"`, 'LVM label', at + 24);
    const hdr = dv.getUint32(20, true);
    if (hdr < 32 || hdr + 40 > 512) throw new ImageError(`pv_header offset ${hdr} is outside the label sector`, 'LVM label', at + 20);
    const uuid = ascii(sec, hdr, hdr + 32);
    if (!/^[A-Za-z0-9!#]{32}$/.test(uuid)) throw new ImageError('pv_header UUID is not printable', 'pv_header', at + hdr);
    const deviceSize = u64le(dv, hdr + 32);
    let p = hdr + 40;
    const lists: DiskArea[][] = [[], []];
    for (const list of lists) {
      for (;;) {
        if (p + 16 > 512) throw new ImageError('pv_header area list runs off the label sector', 'pv_header', at + p);
        const offset = u64le(dv, p);
        const size = u64le(dv, p + 8);
        p += 16;
        if (offset === 0) break;
        if (list.length >= MAX_AREAS) throw new ImageError('pv_header lists too many areas', 'pv_header', at + p);
        list.push({ offset, size });
      }
    }
    return { labelOffset: at, uuid, deviceSize, dataAreas: lists[0], metadataAreas: lists[1] };
  }
  return undefined;
}

/**
 * Reads the committed VG text from one metadata area: checks the mda_header CRC and magic, then
 * follows raw_locn[0] into the ring buffer (the text may wrap back to just after the header).
 */
export async function readMetadataArea(dev: BlockDevice, mda: DiskArea): Promise<MetadataText | undefined> {
  if (mda.offset + MDA_HEADER_SIZE > dev.size || mda.size < MDA_HEADER_SIZE * 2) {
    throw new ImageError('metadata area lies outside the device', 'mda_header', mda.offset);
  }
  const hdr = await dev.read(mda.offset, MDA_HEADER_SIZE);
  const dv = view(hdr);
  if (ascii(hdr, 4, 20) !== MDA_MAGIC) throw new ImageError('metadata area header has a bad magic', 'mda_header', mda.offset + 4);
  if (crc32Lvm(hdr.subarray(4)) !== dv.getUint32(0, true)) throw new ImageError('metadata area header CRC mismatch', 'mda_header', mda.offset);
  const version = dv.getUint32(20, true);
  if (version !== 1) throw new ImageError(`metadata area version ${version} is not supported`, 'mda_header', mda.offset + 20);
  const start = u64le(dv, 24);
  const size = u64le(dv, 32);
  if (start !== mda.offset) throw new ImageError(`mda_header says it starts at ${start}, not ${mda.offset}`, 'mda_header', mda.offset + 24);
  if (size > mda.size || mda.offset + size > dev.size) throw new ImageError('metadata area size exceeds the device', 'mda_header', mda.offset + 32);
  const textOff = u64le(dv, 40);
  const textLen = u64le(dv, 48);
  const checksum = dv.getUint32(56, true);
  if (textOff === 0 && textLen === 0) return undefined; // a PV not in any VG yet
  if (textLen > MAX_METADATA_TEXT || textLen > size - MDA_HEADER_SIZE || textOff < MDA_HEADER_SIZE || textOff >= size) {
    throw new ImageError(`metadata text location (${textLen} bytes at ${textOff}) is invalid`, 'raw_locn', mda.offset + 40);
  }
  const first = Math.min(textLen, size - textOff);
  const parts = [await dev.read(mda.offset + textOff, first)];
  if (first < textLen) parts.push(await dev.read(mda.offset + MDA_HEADER_SIZE, textLen - first));
  const bytes = new Uint8Array(textLen);
  bytes.set(parts[0], 0);
  if (parts[1]) bytes.set(parts[1], first);
  if (crc32Lvm(bytes) !== checksum) throw new ImageError('metadata text CRC mismatch', 'raw_locn', mda.offset + 56);
  let end = bytes.indexOf(0);
  if (end < 0) end = bytes.length;
  return { text: new TextDecoder('utf-8').decode(bytes.subarray(0, end)), offset: mda.offset + textOff, mdaStart: mda.offset };
}
