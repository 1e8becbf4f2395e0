// ATAPI (SCSI MMC over ATA PACKET) command interpretation for a read-only CD/DVD-ROM drive:
// the controller in ide.ts moves packets and data; this file decides what a 12-byte packet
// means. Enough of MMC for SeaBIOS's El Torito boot and Linux's sr driver.
import type { CowDisk } from './cowDisk';

export const CD_SECTOR = 2048;

export interface Sense { key: number; asc: number; ascq: number }

export const SENSE_NONE: Sense = { key: 0, asc: 0, ascq: 0 };
const NOT_READY_NO_MEDIUM: Sense = { key: 0x02, asc: 0x3a, ascq: 0x00 };
const ILLEGAL_OPCODE: Sense = { key: 0x05, asc: 0x20, ascq: 0x00 };
const ILLEGAL_LBA: Sense = { key: 0x05, asc: 0x21, ascq: 0x00 };
const INVALID_FIELD: Sense = { key: 0x05, asc: 0x24, ascq: 0x00 };
const WRITE_PROTECTED: Sense = { key: 0x07, asc: 0x27, ascq: 0x00 };

/** What a packet asks the controller to do. */
export type PacketResult =
  | { kind: 'done' }
  | { kind: 'error'; sense: Sense }
  | { kind: 'data'; data: Uint8Array }
  | { kind: 'read'; lba: number; sectors: number };

export interface AtapiIdentity { vendor: string; product: string; revision: string }

function be16(b: Uint8Array, o: number): number { return (b[o] << 8) | b[o + 1]; }
function be32(b: Uint8Array, o: number): number { return ((b[o] << 24) | (b[o + 1] << 16) | (b[o + 2] << 8) | b[o + 3]) >>> 0; }
function put16(b: Uint8Array, o: number, v: number): void { b[o] = (v >> 8) & 0xff; b[o + 1] = v & 0xff; }
function put32(b: Uint8Array, o: number, v: number): void { put16(b, o, v >>> 16); put16(b, o + 2, v & 0xffff); }
function ascii(b: Uint8Array, o: number, len: number, s: string): void {
  for (let i = 0; i < len; i++) b[o + i] = i < s.length ? s.charCodeAt(i) : 0x20;
}
function limit(data: Uint8Array, alloc: number): Uint8Array { return data.subarray(0, Math.min(data.length, alloc)); }

/** LBA → MSF for TOC entries (150 frames of lead-in). */
function msf(lba: number): [number, number, number] {
  const f = lba + 150;
  return [Math.floor(f / (75 * 60)), Math.floor(f / 75) % 60, f % 75];
}

export function executePacket(p: Uint8Array, media: CowDisk | undefined, id: AtapiIdentity, sense: Sense): PacketResult {
  const op = p[0];
  const needMedia = (): PacketResult | undefined => (media ? undefined : { kind: 'error', sense: NOT_READY_NO_MEDIUM });
  switch (op) {
    case 0x00: return needMedia() ?? { kind: 'done' }; // TEST UNIT READY
    case 0x03: { // REQUEST SENSE (fixed format)
      const d = new Uint8Array(18);
      d[0] = 0x70; d[2] = sense.key; d[7] = 10; d[12] = sense.asc; d[13] = sense.ascq;
      return { kind: 'data', data: limit(d, p[4]) };
    }
    case 0x12: { // INQUIRY
      if (p[1] & 1) return { kind: 'error', sense: INVALID_FIELD }; // no VPD pages
      const d = new Uint8Array(36);
      d[0] = 0x05; // CD/DVD device
      d[1] = 0x80; // removable
      d[2] = 0x00; d[3] = 0x21; // ATAPI, response format 1
      d[4] = 31;
      ascii(d, 8, 8, id.vendor); ascii(d, 16, 16, id.product); ascii(d, 32, 4, id.revision);
      return { kind: 'data', data: limit(d, (p[3] << 8) | p[4]) };
    }
    case 0x1b: case 0x1e: return { kind: 'done' }; // START STOP UNIT, PREVENT ALLOW MEDIUM REMOVAL
    case 0x25: { // READ CAPACITY
      const m = needMedia(); if (m) return m;
      const d = new Uint8Array(8);
      put32(d, 0, media!.sectors - 1); put32(d, 4, CD_SECTOR);
      return { kind: 'data', data: d };
    }
    case 0x28: case 0xa8: { // READ(10), READ(12)
      const m = needMedia(); if (m) return m;
      const lba = be32(p, 2);
      const count = op === 0x28 ? be16(p, 7) : be32(p, 6);
      if (lba + count > media!.sectors) return { kind: 'error', sense: ILLEGAL_LBA };
      return count === 0 ? { kind: 'done' } : { kind: 'read', lba, sectors: count };
    }
    case 0x2a: case 0xaa: return { kind: 'error', sense: WRITE_PROTECTED };
    case 0x43: { // READ TOC/PMA/ATIP, format 0 (and 1: first session)
      const m = needMedia(); if (m) return m;
      const useMsf = (p[1] & 2) !== 0;
      const format = p[9] >> 6 || (p[2] & 0x0f);
      const addr = (b: Uint8Array, o: number, lba: number) => {
        if (useMsf) { const [mm, ss, ff] = msf(lba); b[o + 1] = mm; b[o + 2] = ss; b[o + 3] = ff; } else put32(b, o, lba);
      };
      if (format === 1) {
        const d = new Uint8Array(12);
        put16(d, 0, 10); d[2] = 1; d[3] = 1; d[5] = 0x14; d[6] = 1; addr(d, 8, 0);
        return { kind: 'data', data: limit(d, be16(p, 7)) };
      }
      if (format !== 0) return { kind: 'error', sense: INVALID_FIELD };
      const d = new Uint8Array(20);
      put16(d, 0, 18); d[2] = 1; d[3] = 1;
      d[5] = 0x14; d[6] = 1; addr(d, 8, 0); // track 1: data track
      d[13] = 0x14; d[14] = 0xaa; addr(d, 16, media!.sectors); // lead-out
      return { kind: 'data', data: limit(d, be16(p, 7)) };
    }
    case 0x46: { // GET CONFIGURATION: header with the current profile only
      const d = new Uint8Array(8);
      put32(d, 0, 4);
      put16(d, 6, media ? (media.sectors > 0x5a000 ? 0x0010 : 0x0008) : 0);
      return { kind: 'data', data: limit(d, be16(p, 7)) };
    }
    case 0x4a: { // GET EVENT STATUS NOTIFICATION (polled): no event
      if (!(p[1] & 1)) return { kind: 'error', sense: INVALID_FIELD };
      const d = new Uint8Array(4);
      put16(d, 0, 2); d[2] = 0x80; d[3] = 0x10; // NEA, media class supported
      return { kind: 'data', data: limit(d, be16(p, 7)) };
    }
    case 0x5a: { // MODE SENSE(10): CD capabilities page or an empty header
      const page = p[2] & 0x3f;
      const d = new Uint8Array(page === 0x2a || page === 0x3f ? 8 + 20 : 8);
      put16(d, 0, d.length - 2);
      d[2] = media ? 0x01 : 0x70; // medium type: 120 mm data disc / no disc
      if (d.length > 8) {
        d[8] = 0x2a; d[9] = 18;
        d[10] = 0x03; // reads CD-R/RW
        d[12] = 0x71; d[14] = 0x29; // audio play, mode 2 forms; tray loader, eject, lock
        put16(d, 16, 706); // max speed KB/s (4x)
        put16(d, 20, 512); // buffer KiB
        put16(d, 22, 706);
      }
      return { kind: 'data', data: limit(d, be16(p, 7)) };
    }
    case 0xbd: { // MECHANISM STATUS
      const d = new Uint8Array(8);
      return { kind: 'data', data: limit(d, be16(p, 8)) };
    }
    default:
      return { kind: 'error', sense: ILLEGAL_OPCODE };
  }
}
