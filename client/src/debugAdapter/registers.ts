// How registers look in the Variables view: hex values, and the flag registers decoded bit by bit.

export interface BitField { name: string; bit: number; width?: number; description: string }

export const EFLAGS_BITS: BitField[] = [
  { name: 'CF', bit: 0, description: 'carry' },
  { name: 'PF', bit: 2, description: 'parity' },
  { name: 'AF', bit: 4, description: 'auxiliary carry' },
  { name: 'ZF', bit: 6, description: 'zero' },
  { name: 'SF', bit: 7, description: 'sign' },
  { name: 'TF', bit: 8, description: 'trap (single step)' },
  { name: 'IF', bit: 9, description: 'interrupts enabled' },
  { name: 'DF', bit: 10, description: 'direction (string ops go down)' },
  { name: 'OF', bit: 11, description: 'overflow' },
  { name: 'IOPL', bit: 12, width: 2, description: 'I/O privilege level' },
  { name: 'NT', bit: 14, description: 'nested task' },
  { name: 'RF', bit: 16, description: 'resume' },
  { name: 'VM', bit: 17, description: 'virtual-8086 mode' },
  { name: 'AC', bit: 18, description: 'alignment check' },
  { name: 'VIF', bit: 19, description: 'virtual interrupt flag' },
  { name: 'VIP', bit: 20, description: 'virtual interrupt pending' },
  { name: 'ID', bit: 21, description: 'CPUID available' },
];

export const CR0_BITS: BitField[] = [
  { name: 'PE', bit: 0, description: 'protected mode' },
  { name: 'MP', bit: 1, description: 'monitor coprocessor' },
  { name: 'EM', bit: 2, description: 'x87 emulation' },
  { name: 'TS', bit: 3, description: 'task switched' },
  { name: 'ET', bit: 4, description: 'extension type' },
  { name: 'NE', bit: 5, description: 'native x87 errors' },
  { name: 'WP', bit: 16, description: 'write protect in ring 0' },
  { name: 'AM', bit: 18, description: 'alignment mask' },
  { name: 'NW', bit: 29, description: 'not write-through' },
  { name: 'CD', bit: 30, description: 'cache disable' },
  { name: 'PG', bit: 31, description: 'paging' },
];

export const CR4_BITS: BitField[] = [
  { name: 'VME', bit: 0, description: 'virtual-8086 extensions' },
  { name: 'PVI', bit: 1, description: 'protected-mode virtual interrupts' },
  { name: 'TSD', bit: 2, description: 'RDTSC only in ring 0' },
  { name: 'DE', bit: 3, description: 'debugging extensions' },
  { name: 'PSE', bit: 4, description: '4 MiB pages' },
  { name: 'PAE', bit: 5, description: 'physical address extension' },
  { name: 'MCE', bit: 6, description: 'machine check' },
  { name: 'PGE', bit: 7, description: 'global pages' },
  { name: 'PCE', bit: 8, description: 'RDPMC in any ring' },
  { name: 'OSFXSR', bit: 9, description: 'FXSAVE/FXRSTOR' },
];

export const BIT_FIELDS: Record<string, BitField[]> = { eflags: EFLAGS_BITS, cr0: CR0_BITS, cr4: CR4_BITS };

export function hex(value: number, bits = 32): string {
  return `0x${(value >>> 0).toString(16).padStart(Math.ceil(bits / 4), '0')}`;
}

export function fieldValue(value: number, f: BitField): number {
  return (value >>> f.bit) & ((1 << (f.width ?? 1)) - 1);
}

export function withField(value: number, f: BitField, field: number): number {
  const mask = ((1 << (f.width ?? 1)) - 1) << f.bit;
  return ((value & ~mask) | ((field << f.bit) & mask)) >>> 0;
}

/** "ZF IF" — the names of the set single-bit flags, plus multi-bit fields when non-zero. */
export function describeBits(value: number, fields: BitField[]): string {
  return fields.filter((f) => fieldValue(value, f) !== 0)
    .map((f) => (f.width ? `${f.name}=${fieldValue(value, f)}` : f.name)).join(' ');
}

/** Parses what a user types into the Variables view: 0x1f, 31, 0b101, -1. */
export function parseNumber(text: string): number | undefined {
  const t = text.trim().replace(/_/g, '');
  if (/^-?0x[0-9a-f]+$/i.test(t) || /^-?\d+$/.test(t)) return Number(t.startsWith('-') ? -Number(t.slice(1)) : Number(t)) >>> 0;
  if (/^0b[01]+$/i.test(t)) return parseInt(t.slice(2), 2) >>> 0;
  return undefined;
}
