// Decodes GDT/LDT/IDT entries (8 bytes each) for the descriptor-table viewer.
import type { DescriptorEntry } from './customProtocol';

const SYSTEM_TYPES: Record<number, string> = {
  0x1: '16-bit TSS (available)', 0x2: 'LDT', 0x3: '16-bit TSS (busy)', 0x4: '16-bit call gate', 0x5: 'task gate',
  0x6: '16-bit interrupt gate', 0x7: '16-bit trap gate', 0x9: '32-bit TSS (available)', 0xb: '32-bit TSS (busy)',
  0xc: '32-bit call gate', 0xe: '32-bit interrupt gate', 0xf: '32-bit trap gate',
};

export function decodeDescriptor(index: number, b: Uint8Array): DescriptorEntry {
  const lo = (b[0] | (b[1] << 8) | (b[2] << 16) | (b[3] << 24)) >>> 0;
  const hi = (b[4] | (b[5] << 8) | (b[6] << 16) | (b[7] << 24)) >>> 0;
  const raw = `${hi.toString(16).padStart(8, '0')}${lo.toString(16).padStart(8, '0')}`;
  const access = (hi >>> 8) & 0xff;
  const present = (access & 0x80) !== 0;
  const dpl = (access >>> 5) & 3;
  const isCodeOrData = (access & 0x10) !== 0;
  const type = access & 0xf;
  if (lo === 0 && hi === 0) return { index, raw, kind: 'null', dpl: 0, present: false };
  if (!isCodeOrData && (type === 0x4 || type === 0x5 || type === 0x6 || type === 0x7 || type === 0xc || type === 0xe || type === 0xf)) {
    return {
      index, raw, kind: SYSTEM_TYPES[type], dpl, present,
      selector: lo >>> 16, offset: type === 0x5 ? undefined : ((hi & 0xffff0000) | (lo & 0xffff)) >>> 0,
    };
  }
  const base = ((lo >>> 16) | ((hi & 0xff) << 16) | (hi & 0xff000000)) >>> 0;
  let limit = (lo & 0xffff) | (hi & 0xf0000);
  const granular = (hi & 0x800000) !== 0;
  if (granular) limit = ((limit << 12) | 0xfff) >>> 0;
  let kind: string;
  if (isCodeOrData) {
    const code = (type & 0x8) !== 0;
    const big = (hi & 0x400000) !== 0 ? '32-bit' : '16-bit';
    kind = code
      ? `${big} code${type & 0x2 ? ' readable' : ''}${type & 0x4 ? ' conforming' : ''}`
      : `${big} data${type & 0x2 ? ' writable' : ' read-only'}${type & 0x4 ? ' expand-down' : ''}`;
  } else {
    kind = SYSTEM_TYPES[type] ?? `reserved system type ${type}`;
  }
  return { index, raw, kind, base, limit, dpl, present };
}

export function decodeTable(bytes: Uint8Array): DescriptorEntry[] {
  const out: DescriptorEntry[] = [];
  for (let i = 0; i + 8 <= bytes.length; i += 8) out.push(decodeDescriptor(i / 8, bytes.subarray(i, i + 8)));
  return out;
}
