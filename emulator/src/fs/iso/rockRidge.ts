// SUSP / Rock Ridge system-use entries: PX (mode, links, owner), NM (name), SL (symlink),
// TF (times), CL/RE (deep-directory relocation), CE (continuation areas).
import { ImageError } from '../../block/blockDevice';
import { view } from '../../volumes/binary';

export interface RockRidge {
  name?: string;
  mode?: number;
  nlink?: number;
  uid?: number;
  gid?: number;
  mtime?: number;
  symlink?: string;
  childLink?: number;
  relocated?: boolean;
}

const MAX_CONTINUATIONS = 32;

export async function parseSystemUse(area: Uint8Array, at: number,
  readCe: (lba: number, offset: number, length: number) => Promise<Uint8Array>): Promise<RockRidge | undefined> {
  const rr: RockRidge = {};
  let seen = false;
  let name = '';
  let nameDone = false;
  let link: string[] = [];
  let linkPart = '';
  let continuations = 0;
  let queue: { buf: Uint8Array; at: number } | undefined = { buf: area, at };
  while (queue) {
    const { buf, at: base } = queue;
    queue = undefined;
    let p = 0;
    while (p + 4 <= buf.length) {
      const sig = String.fromCharCode(buf[p], buf[p + 1]);
      const len = buf[p + 2];
      if (len < 4 || p + len > buf.length) break; // padding or a truncated tail
      const e = buf.subarray(p, p + len);
      const ev = view(e);
      switch (sig) {
        case 'PX':
          if (len >= 36) { seen = true; rr.mode = ev.getUint32(4, true); rr.nlink = ev.getUint32(12, true); rr.uid = ev.getUint32(20, true); rr.gid = ev.getUint32(28, true); }
          break;
        case 'NM':
          seen = true;
          if (!nameDone) {
            const flags = e[4];
            if (flags & 2) name += '.'; else if (flags & 4) name += '..';
            else name += new TextDecoder('utf-8').decode(e.subarray(5));
            if (!(flags & 1)) nameDone = true;
          }
          break;
        case 'SL': {
          seen = true;
          let q = 5;
          while (q + 2 <= len) {
            const cf = e[q];
            const cl = e[q + 1];
            if (q + 2 + cl > len) throw new ImageError('Rock Ridge SL component runs past its entry', 'RRIP SL', base + p + q);
            if (cf & 2) linkPart += '.';
            else if (cf & 4) linkPart += '..';
            else if (cf & 8) { link = []; linkPart = ''; link.push(''); }
            else linkPart += new TextDecoder('utf-8').decode(e.subarray(q + 2, q + 2 + cl));
            if (!(cf & 1) && !(cf & 8)) { link.push(linkPart); linkPart = ''; }
            q += 2 + cl;
          }
          break;
        }
        case 'TF': {
          seen = true;
          const flags = e[4];
          const size = flags & 0x80 ? 17 : 7;
          let q = 5;
          for (let bit = 0; bit < 7; bit++) {
            if (!(flags & (1 << bit))) continue;
            if (q + size > len) break;
            if (bit === 1) rr.mtime = size === 7 ? recordingTime(e.subarray(q, q + 7)) : longTime(e.subarray(q, q + 17));
            q += size;
          }
          break;
        }
        case 'CL': seen = true; rr.childLink = ev.getUint32(4, true); break;
        case 'RE': seen = true; rr.relocated = true; break;
        case 'CE':
          if (++continuations > MAX_CONTINUATIONS) throw new ImageError('too many SUSP continuation areas', 'SUSP CE', base + p);
          if (len >= 28) {
            const lba = ev.getUint32(4, true), off = ev.getUint32(12, true), clen = ev.getUint32(20, true);
            queue = { buf: await readCe(lba, off, clen), at: lba * 2048 + off };
          }
          break;
        case 'ST': p = buf.length; continue;
        default: break;
      }
      p += len;
    }
  }
  if (!seen) return undefined;
  if (name) rr.name = name;
  if (link.length || linkPart) {
    if (linkPart) link.push(linkPart);
    rr.symlink = link.length === 1 && link[0] === '' ? '/' : link.join('/');
  }
  return rr;
}

/** The 17-byte ISO 9660 volume-descriptor time ("YYYYMMDDHHMMSScc" + GMT offset). */
function longTime(t: Uint8Array): number {
  const s = String.fromCharCode(...t.subarray(0, 16));
  if (!/^\d{16}$/.test(s) || s.startsWith('0000')) return 0;
  const offset = (t[16] << 24 >> 24) * 15 * 60;
  return Date.UTC(+s.slice(0, 4), +s.slice(4, 6) - 1, +s.slice(6, 8), +s.slice(8, 10), +s.slice(10, 12), +s.slice(12, 14)) / 1000 - offset;
}

/** The 7-byte directory-record time: years since 1900, month, day, h, m, s, GMT offset in 15 min. */
export function recordingTime(t: Uint8Array): number {
  if (t[1] === 0) return 0;
  const offset = (t[6] << 24 >> 24) * 15 * 60;
  return Date.UTC(1900 + t[0], t[1] - 1, t[2], t[3], t[4], t[5]) / 1000 - offset;
}
