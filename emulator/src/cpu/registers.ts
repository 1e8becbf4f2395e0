// Register access by name for debuggers (DAP variables, watch expressions, `info registers`).
// Names are lower-case: eax..edi, ax..di, al..bh, eip/ip, eflags/flags, cs..gs (selectors),
// cs.base/cs.limit/cs.attr (descriptor caches), cr0 cr2 cr3 cr4, dr0..dr7, gdtr.base/limit,
// idtr.base/limit, ldtr (+.base/.limit), tr (+.base/.limit), cpl, st0..st7 (as numbers),
// fcw fsw ftw ftop, tsc, instructions.

import { SEG_NAMES } from './constants';
import { CPU_FAULT, type Cpu } from './cpu';

const R32 = ['eax', 'ecx', 'edx', 'ebx', 'esp', 'ebp', 'esi', 'edi'];
const R16 = ['ax', 'cx', 'dx', 'bx', 'sp', 'bp', 'si', 'di'];
const R8 = ['al', 'cl', 'dl', 'bl', 'ah', 'ch', 'dh', 'bh'];

/** Every name readRegister() accepts, in display order. */
export const REGISTER_NAMES: readonly string[] = [
  ...R32, 'eip', 'eflags', ...SEG_NAMES,
  ...SEG_NAMES.flatMap((s) => [`${s}.base`, `${s}.limit`, `${s}.attr`]),
  'cr0', 'cr2', 'cr3', 'cr4', 'dr0', 'dr1', 'dr2', 'dr3', 'dr6', 'dr7',
  'gdtr.base', 'gdtr.limit', 'idtr.base', 'idtr.limit', 'ldtr', 'ldtr.base', 'ldtr.limit', 'tr', 'tr.base', 'tr.limit',
  'cpl', 'fcw', 'fsw', 'ftw', 'ftop', 'st0', 'st1', 'st2', 'st3', 'st4', 'st5', 'st6', 'st7',
  ...R16, ...R8, 'ip', 'flags', 'tsc', 'instructions',
];

/** Current value of register `name` (unsigned for integer registers), or undefined if unknown. */
export function readRegister(cpu: Cpu, name: string): number | undefined {
  const n = name.toLowerCase();
  let i = R32.indexOf(n);
  if (i >= 0) return cpu.regs[i] >>> 0;
  i = R16.indexOf(n);
  if (i >= 0) return cpu.regs[i] & 0xffff;
  i = R8.indexOf(n);
  if (i >= 0) return i < 4 ? cpu.regs[i] & 0xff : (cpu.regs[i - 4] >> 8) & 0xff;
  i = (SEG_NAMES as readonly string[]).indexOf(n);
  if (i >= 0) return cpu.sreg[i];
  const dot = n.indexOf('.');
  if (dot > 0) {
    const s = (SEG_NAMES as readonly string[]).indexOf(n.slice(0, dot));
    const field = n.slice(dot + 1);
    if (s >= 0) {
      if (field === 'base') return cpu.segBase[s] >>> 0;
      if (field === 'limit') return cpu.segLimit[s];
      if (field === 'attr') return cpu.segAttr[s];
    }
  }
  const m = /^(st|dr)([0-7])$/.exec(n);
  if (m) return m[1] === 'st' ? cpu.fpu.st(+m[2]) : cpu.dr[+m[2]] >>> 0;
  switch (n) {
    case 'eip': return cpu.eip >>> 0;
    case 'ip': return cpu.eip & 0xffff;
    case 'eflags': return cpu.getFlags() >>> 0;
    case 'flags': return cpu.getFlags() & 0xffff;
    case 'cr0': return cpu.cr0 >>> 0;
    case 'cr2': return cpu.cr2 >>> 0;
    case 'cr3': return cpu.cr3 >>> 0;
    case 'cr4': return cpu.cr4 >>> 0;
    case 'gdtr.base': return cpu.gdtBase >>> 0;
    case 'gdtr.limit': return cpu.gdtLimit;
    case 'idtr.base': return cpu.idtBase >>> 0;
    case 'idtr.limit': return cpu.idtLimit;
    case 'ldtr': return cpu.ldtSel;
    case 'ldtr.base': return cpu.ldtBase >>> 0;
    case 'ldtr.limit': return cpu.ldtLimit;
    case 'tr': return cpu.trSel;
    case 'tr.base': return cpu.trBase >>> 0;
    case 'tr.limit': return cpu.trLimit;
    case 'cpl': return cpu.cpl;
    case 'fcw': return cpu.fpu.control;
    case 'fsw': return cpu.fpu.statusWord;
    case 'ftw': return cpu.fpu.tagWord;
    case 'ftop': return cpu.fpu.top;
    case 'tsc': return cpu.tsc + cpu.instructions;
    case 'instructions': return cpu.instructions;
  }
  return undefined;
}

/**
 * Set register `name` as a debugger would (no architectural checks). Segment selectors reload
 * their descriptor cache: from sel<<4 in real/VM86 mode, from the GDT/LDT otherwise.
 * Returns false for unknown or read-only names.
 */
export function writeRegister(cpu: Cpu, name: string, value: number): boolean {
  try {
    return writeRegisterUnchecked(cpu, name, value);
  } catch (e) {
    if (e === CPU_FAULT) return false; // e.g. CR0.PG without PE, reserved CR4 bits, unreadable GDT
    throw e;
  }
}

function writeRegisterUnchecked(cpu: Cpu, name: string, value: number): boolean {
  const n = name.toLowerCase();
  let i = R32.indexOf(n);
  if (i >= 0) { cpu.regs[i] = value; return true; }
  i = R16.indexOf(n);
  if (i >= 0) { cpu.regs[i] = (cpu.regs[i] & ~0xffff) | (value & 0xffff); return true; }
  i = R8.indexOf(n);
  if (i >= 0) {
    if (i < 4) cpu.regs[i] = (cpu.regs[i] & ~0xff) | (value & 0xff);
    else cpu.regs[i - 4] = (cpu.regs[i - 4] & ~0xff00) | ((value & 0xff) << 8);
    return true;
  }
  i = (SEG_NAMES as readonly string[]).indexOf(n);
  if (i >= 0) {
    const sel = value & 0xffff;
    if (!cpu.protectedMode || cpu.vm86) cpu.setSegReal(i, sel);
    else if ((sel & ~3) === 0) cpu.setSegCache(i, sel, 0, 0, 0);
    else {
      const base = (sel & 4 ? cpu.ldtBase : cpu.gdtBase) + (sel & ~7);
      const lo = cpu.sysRd32(base | 0), hi = cpu.sysRd32((base + 4) | 0);
      cpu.setSegCache(i, sel, (lo >>> 16) | ((hi & 0xff) << 16) | (hi & 0xff000000), (hi & 0x800000) ? (((lo & 0xffff) | (hi & 0xf0000)) * 4096 + 0xfff) : ((lo & 0xffff) | (hi & 0xf0000)), (hi >>> 8) & 0xf0ff);
      if (i === 1) cpu.cpl = sel & 3;
    }
    cpu.modeChanged();
    return true;
  }
  const m = /^(st|dr)([0-7])$/.exec(n);
  if (m) { if (m[1] === 'st') cpu.fpu.setSt(+m[2], value); else cpu.dr[+m[2]] = value; return true; }
  switch (n) {
    case 'eip': cpu.eip = value >>> 0; cpu.modeChanged(); return true;
    case 'ip': cpu.eip = value & 0xffff; cpu.modeChanged(); return true;
    case 'eflags': cpu.setFlags(value, 0x3f7fd5); cpu.modeChanged(); return true;
    case 'flags': cpu.setFlags(value, 0xffd5); return true;
    case 'cr0': cpu.writeCr0(value); return true;
    case 'cr2': cpu.cr2 = value; return true;
    case 'cr3': cpu.writeCr3(value); return true;
    case 'cr4': cpu.writeCr4(value); return true;
    case 'fcw': cpu.fpu.control = value & 0x1f7f; return true;
  }
  return false;
}

/** Everything at once, for a registers view or a trace line. */
export function registerSnapshot(cpu: Cpu): Record<string, number> {
  const out: Record<string, number> = {};
  for (const n of REGISTER_NAMES) out[n] = readRegister(cpu, n)!;
  return out;
}
