// The CPU's state as the debugger protocol shows it (names as in worker/protocol.ts, values from
// the CPU's own register-by-name access), register and flag writes by name, and the flat
// protected-mode entry state of a direct kernel boot.
import { CS, IF, SEG_NAMES, SS, VM } from '../cpu/constants';
import { readRegister, writeRegister } from '../cpu/registers';
import type { Cpu } from '../cpu/cpu';
import type { CpuSnapshot, RegisterValue, SegmentValue } from '../worker/protocol';

const GENERAL = ['eax', 'ecx', 'edx', 'ebx', 'esp', 'ebp', 'esi', 'edi'] as const;
const SHOWN_MSRS: [number, string][] = [[0x174, 'sysenter_cs'], [0x175, 'sysenter_esp'], [0x176, 'sysenter_eip']];

export function cpuMode(cpu: Cpu): CpuSnapshot['mode'] {
  if (!(cpu.cr0 & 1)) return 'real';
  return cpu.flags & VM ? 'vm86' : 'protected';
}

export function snapshotCpu(cpu: Cpu): CpuSnapshot {
  const r = (name: string, bits = 32): RegisterValue => ({ name, value: readRegister(cpu, name)!, bits });
  const general = [...GENERAL, 'eip', 'eflags'].map((n) => r(n));
  const segments: SegmentValue[] = SEG_NAMES.map((name) => ({
    name, selector: readRegister(cpu, name)!, base: readRegister(cpu, `${name}.base`)!, limit: readRegister(cpu, `${name}.limit`)! >>> 0, attributes: readRegister(cpu, `${name}.attr`)!,
  }));
  segments.push(
    { name: 'ldtr', selector: cpu.ldtSel, base: cpu.ldtBase >>> 0, limit: cpu.ldtLimit >>> 0, attributes: cpu.ldtAttr },
    { name: 'tr', selector: cpu.trSel, base: cpu.trBase >>> 0, limit: cpu.trLimit >>> 0, attributes: cpu.trAttr },
  );
  const control = [
    r('cr0'), r('cr2'), r('cr3'), r('cr4'), r('gdtr.base'), r('gdtr.limit', 16), r('idtr.base'), r('idtr.limit', 16), r('cpl', 2),
    ...['dr0', 'dr1', 'dr2', 'dr3', 'dr6', 'dr7'].map((n) => r(n)),
    r('tsc', 64),
  ];
  for (const [idx, name] of SHOWN_MSRS) control.push({ name: `msr.${name}`, value: Number(cpu.msrs.get(idx) ?? 0n) >>> 0, bits: 32 });
  const fpu: RegisterValue[] = [];
  for (let i = 0; i < 8; i++) fpu.push({ name: `st${i}`, value: cpu.fpu.st(i), bits: 80 });
  fpu.push(r('fcw', 16), r('fsw', 16), r('ftw', 16), { name: 'fop', value: cpu.fpu.fop, bits: 11 });
  for (const f of fpu) f.name = SNAPSHOT_NAMES[f.name] ?? f.name;
  return { mode: cpuMode(cpu), general, segments, control, fpu, instructionCount: cpu.instructions };
}

/** Writes a register (or a flag: cf, zf, …) by name; returns the value as the CPU now holds it. */
export function setCpuRegister(cpu: Cpu, name: string, value: number): number {
  const n = name.toLowerCase();
  const flag = FLAG_BITS[n];
  if (flag !== undefined) {
    const flags = cpu.getFlags();
    setCpuRegister(cpu, 'eflags', value ? flags | flag : flags & ~flag);
    return (cpu.getFlags() & flag) ? 1 : 0;
  }
  const target = ALIASES[n] ?? n;
  if (READ_ONLY.has(target) || !writeRegister(cpu, target, value)) throw new Error(`unknown or read-only register '${name}'`);
  cpu.fStart = 1; cpu.fEnd = 0; // EIP or CS may have moved: refetch
  cpu.attention = true; // IF or TF may have changed
  return readRegister(cpu, target)!;
}

const FLAG_BITS: Record<string, number> = {
  cf: 0x1, pf: 0x4, af: 0x10, zf: 0x40, sf: 0x80, tf: 0x100, if: IF, df: 0x400, of: 0x800, nt: 0x4000, rf: 0x10000, ac: 0x40000, id: 0x200000,
};
/** Snapshot names (protocol.ts) that registers.ts spells differently. */
const ALIASES: Record<string, string> = { fctrl: 'fcw', fstat: 'fsw', ftag: 'ftw' };
const SNAPSHOT_NAMES: Record<string, string> = Object.fromEntries(Object.entries(ALIASES).map(([a, b]) => [b, a]));
const READ_ONLY = new Set(['cpl', 'tsc', 'instructions', 'fsw', 'ftw', 'ftop']);

/** Flat protected-mode entry (Linux boot protocol): loads the descriptor caches directly. */
export function enterFlatProtectedMode(cpu: Cpu, e: {
  eip: number; regs: Record<(typeof GENERAL)[number], number>; eflags: number; cr0: number;
  gdtr: { base: number; limit: number };
  code: { selector: number; base: number; limit: number; access: number; flags: number };
  data: { selector: number; base: number; limit: number; access: number; flags: number };
}): void {
  GENERAL.forEach((n, i) => { cpu.regs[i] = e.regs[n] | 0; });
  cpu.gdtBase = e.gdtr.base; cpu.gdtLimit = e.gdtr.limit;
  cpu.writeCr0(e.cr0);
  cpu.flags = e.eflags | 2; cpu.lazy = 0;
  const attr = (s: { access: number; flags: number }) => (s.access | 1) | (s.flags << 12);
  for (let seg = 0; seg < 6; seg++) {
    const d = seg === CS ? e.code : e.data;
    cpu.setSegCache(seg, d.selector, d.base | 0, d.limit >>> 0, attr(d));
  }
  cpu.cpl = 0;
  cpu.eip = e.eip >>> 0;
  cpu.modeChanged();
  cpu.updateSegCheck(SS);
  cpu.fStart = 1; cpu.fEnd = 0;
  cpu.attention = true;
}
