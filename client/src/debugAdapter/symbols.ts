// Names for guest addresses, from a System.map (`c1000000 T _text`) or the symbol table of an
// ELF file (vmlinux, a bare-metal test program). Lookup both ways: name → address for
// breakpoints and expressions, address → nearest preceding symbol + offset for stack frames.
import { readFile } from 'node:fs/promises';

export interface SymbolEntry { name: string; address: number; size: number }

export class SymbolTable {
  private readonly byName = new Map<string, SymbolEntry>();
  private sorted: SymbolEntry[] = [];

  add(entries: Iterable<SymbolEntry>): void {
    for (const e of entries) if (!this.byName.has(e.name)) this.byName.set(e.name, e);
    this.sorted = [...this.byName.values()].sort((a, b) => a.address - b.address);
  }

  get size(): number { return this.byName.size; }

  lookup(name: string): number | undefined {
    return this.byName.get(name)?.address;
  }

  /** The symbol containing `address` (or the nearest one before it within 64 KiB). */
  nameFor(address: number): { name: string; offset: number } | undefined {
    const s = this.sorted;
    let lo = 0, hi = s.length - 1, best = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (s[mid].address <= address) { best = mid; lo = mid + 1; } else hi = mid - 1;
    }
    if (best < 0) return undefined;
    const e = s[best];
    const offset = address - e.address;
    if (e.size ? offset >= e.size : offset >= 0x10000) return undefined;
    return { name: e.name, offset };
  }
}

export function parseSystemMap(text: string): SymbolEntry[] {
  const out: SymbolEntry[] = [];
  for (const line of text.split('\n')) {
    const m = /^([0-9a-fA-F]+)\s+([A-Za-z])\s+(\S+)/.exec(line);
    if (m && /[tTdDbBrRwW]/.test(m[2])) out.push({ name: m[3], address: parseInt(m[1], 16) >>> 0, size: 0 });
  }
  return out;
}

/** Symbols of an ELF32/ELF64 little-endian file's SHT_SYMTAB (functions and objects). */
export function parseElfSymbols(bytes: Uint8Array): SymbolEntry[] {
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.length < 52 || v.getUint32(0) !== 0x7f454c46) throw new Error('not an ELF file');
  const is64 = bytes[4] === 2;
  if (bytes[5] !== 1) throw new Error('big-endian ELF files are not supported');
  const num = (off: number, wide: boolean) => (wide ? Number(v.getBigUint64(off, true)) : v.getUint32(off, true));
  const shoff = num(is64 ? 0x28 : 0x20, is64);
  const shentsize = v.getUint16(is64 ? 0x3a : 0x2e, true);
  const shnum = v.getUint16(is64 ? 0x3c : 0x30, true);
  if (shoff + shnum * shentsize > bytes.length) throw new Error('ELF section table is truncated');
  const section = (i: number) => {
    const b = shoff + i * shentsize;
    return {
      type: v.getUint32(b + 4, true),
      offset: num(b + (is64 ? 0x18 : 0x10), is64),
      size: num(b + (is64 ? 0x20 : 0x14), is64),
      link: v.getUint32(b + (is64 ? 0x28 : 0x18), true),
      entsize: num(b + (is64 ? 0x38 : 0x24), is64),
    };
  };
  const out: SymbolEntry[] = [];
  for (let i = 0; i < shnum; i++) {
    const sh = section(i);
    if (sh.type !== 2 /* SHT_SYMTAB */ || sh.entsize === 0) continue;
    const strtab = section(sh.link);
    if (sh.offset + sh.size > bytes.length || strtab.offset + strtab.size > bytes.length) throw new Error('ELF symbol table is truncated');
    for (let off = sh.offset; off + sh.entsize <= sh.offset + sh.size; off += sh.entsize) {
      const nameOff = v.getUint32(off, true);
      const info = bytes[off + (is64 ? 4 : 12)];
      const type = info & 0xf;
      if (type !== 1 && type !== 2 && type !== 0) continue; // OBJECT, FUNC, NOTYPE (labels in asm)
      const value = is64 ? Number(v.getBigUint64(off + 8, true)) : v.getUint32(off + 4, true);
      const size = is64 ? Number(v.getBigUint64(off + 16, true)) : v.getUint32(off + 8, true);
      const shndx = v.getUint16(off + (is64 ? 6 : 14), true);
      if (shndx === 0 || nameOff === 0) continue; // undefined symbols, unnamed entries
      let end = strtab.offset + nameOff;
      while (end < strtab.offset + strtab.size && bytes[end] !== 0) end++;
      const name = Buffer.from(bytes.subarray(strtab.offset + nameOff, end)).toString('utf8');
      if (name) out.push({ name, address: value >>> 0, size });
    }
  }
  return out;
}

export async function loadSymbols(paths: string[]): Promise<SymbolTable> {
  const table = new SymbolTable();
  for (const path of paths) {
    const bytes = await readFile(path);
    table.add(bytes.subarray(0, 4).toString('latin1') === '\x7fELF' ? parseElfSymbols(bytes) : parseSystemMap(bytes.toString('utf8')));
  }
  return table;
}
