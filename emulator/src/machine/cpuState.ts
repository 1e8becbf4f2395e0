// The CPU's architectural state as the outside sees it: the debugger's snapshot (names as in
// worker/protocol.ts), register writes by name, and a plain-data copy for save/restore.
import { CS, IF, SEG_NAMES, SS, VM } from '../cpu/constants';
import type { Cpu } from '../cpu/cpu';
import type { CpuSnapshot, RegisterValue, SegmentValue } from '../worker/protocol';

const GENERAL = ['eax', 'ecx', 'edx', 'ebx', 'esp', 'ebp', 'esi', 'edi'] as const;
const SHOWN_MSRS: [number, string][] = [[0x10, 'tsc'], [0x174, 'sysenter_cs'], [0x175, 'sysenter_esp'], [0x176, 'sysenter_eip']];

export function cpuMode(cpu: Cpu): CpuSnapshot['mode'] {
  if (!(cpu.cr0 & 1)) return 'real';
  return cpu.flags & VM ? 'vm86' : 'protected';
}

export function snapshotCpu(cpu: Cpu): CpuSnapshot {
  const r = (name: string, value: number, bits = 32): RegisterValue => ({ name, value: value >>> 0, bits });
  const general = GENERAL.map((n, i) => r(n, cpu.regs[i]));
  general.push(r('eip', cpu.eip), r('eflags', cpu.getFlags()));
  const segments: SegmentValue[] = SEG_NAMES.map((name, i) => ({
    name, selector: cpu.sreg[i], base: cpu.segBase[i] >>> 0, limit: cpu.segLimit[i] >>> 0, attributes: cpu.segAttr[i],
  }));
  segments.push(
    { name: 'ldtr', selector: cpu.ldtSel, base: cpu.ldtBase >>> 0, limit: cpu.ldtLimit >>> 0, attributes: cpu.ldtAttr },
    { name: 'tr', selector: cpu.trSel, base: cpu.trBase >>> 0, limit: cpu.trLimit >>> 0, attributes: cpu.trAttr },
  );
  const control = [
    r('cr0', cpu.cr0), r('cr2', cpu.cr2), r('cr3', cpu.cr3), r('cr4', cpu.cr4),
    r('gdtr.base', cpu.gdtBase), r('gdtr.limit', cpu.gdtLimit, 16), r('idtr.base', cpu.idtBase), r('idtr.limit', cpu.idtLimit, 16),
    r('cpl', cpu.cpl, 2),
  ];
  for (const [idx, name] of SHOWN_MSRS) {
    const v = idx === 0x10 ? cpu.tsc + cpu.instructions : Number(cpu.msrs.get(idx) ?? 0n);
    control.push({ name: `msr.${name}`, value: idx === 0x10 ? v : v >>> 0, bits: idx === 0x10 ? 64 : 32 });
  }
  const fpu: RegisterValue[] = [];
  for (let i = 0; i < 8; i++) fpu.push({ name: `st${i}`, value: cpu.fpu.st[i], bits: 80 });
  fpu.push(r('fctrl', cpu.fpu.control, 16), r('fstat', cpu.fpu.status, 16), r('ftag', cpu.fpu.tag, 16), r('fop', 0, 16));
  return { mode: cpuMode(cpu), general, segments, control, fpu, instructionCount: cpu.instructions };
}

/** Writes a register by its snapshot name; returns the value as stored (masked to its width). */
export function setCpuRegister(cpu: Cpu, name: string, value: number): number {
  const n = name.toLowerCase();
  const gi = (GENERAL as readonly string[]).indexOf(n);
  if (gi >= 0) { cpu.regs[gi] = value | 0; return cpu.regs[gi] >>> 0; }
  switch (n) {
    case 'eip':
      cpu.eip = value >>> 0;
      cpu.fStart = 1; cpu.fEnd = 0; // the prefetch window no longer matches
      return cpu.eip;
    case 'eflags':
      cpu.setFlags(value, 0x3f7fd5);
      cpu.flags |= 2;
      cpu.modeChanged();
      cpu.attention = true; // IF or TF may have changed
      return cpu.getFlags() >>> 0;
    case 'cr2': cpu.cr2 = value | 0; return cpu.cr2 >>> 0;
    case 'cr0': cpu.writeCr0(value); return cpu.cr0 >>> 0;
    case 'cr3': cpu.writeCr3(value); return cpu.cr3 >>> 0;
    case 'cr4': cpu.writeCr4(value); return cpu.cr4 >>> 0;
  }
  const si = (SEG_NAMES as readonly string[]).indexOf(n);
  if (si >= 0) {
    if (cpu.cr0 & 1 && !(cpu.flags & VM)) throw new Error(`${n}: segment registers can only be set in real or virtual-8086 mode (a protected-mode load reads descriptors)`);
    cpu.setSegReal(si, value & 0xffff);
    if (si === CS) cpu.fStart = 1, cpu.fEnd = 0;
    return cpu.sreg[si];
  }
  const flag = FLAG_BITS[n];
  if (flag !== undefined) {
    const flags = cpu.getFlags();
    setCpuRegister(cpu, 'eflags', value ? flags | flag : flags & ~flag);
    return (cpu.getFlags() & flag) ? 1 : 0;
  }
  throw new Error(`unknown or read-only register '${name}'`);
}

const FLAG_BITS: Record<string, number> = {
  cf: 0x1, pf: 0x4, af: 0x10, zf: 0x40, sf: 0x80, tf: 0x100, if: IF, df: 0x400, of: 0x800, nt: 0x4000, rf: 0x10000, ac: 0x40000, id: 0x200000,
};

export interface CpuState {
  regs: number[]; eip: number; flags: number;
  sreg: number[]; segBase: number[]; segLimit: number[]; segAttr: number[];
  cr0: number; cr2: number; cr3: number; cr4: number; dr: number[];
  gdt: [number, number]; idt: [number, number];
  ldt: [number, number, number, number]; tr: [number, number, number, number];
  cpl: number; tsc: number; instructions: number; msrs: [number, string][];
  fpu: { st: number[]; control: number; status: number; tag: number };
  halted: boolean; shutdown: boolean; shutdownReason: string; inhibitIrq: boolean; nmiPending: boolean;
}

export function saveCpu(cpu: Cpu): CpuState {
  return {
    regs: Array.from(cpu.regs), eip: cpu.eip, flags: cpu.getFlags(),
    sreg: Array.from(cpu.sreg), segBase: Array.from(cpu.segBase), segLimit: Array.from(cpu.segLimit), segAttr: Array.from(cpu.segAttr),
    cr0: cpu.cr0, cr2: cpu.cr2, cr3: cpu.cr3, cr4: cpu.cr4, dr: Array.from(cpu.dr),
    gdt: [cpu.gdtBase, cpu.gdtLimit], idt: [cpu.idtBase, cpu.idtLimit],
    ldt: [cpu.ldtSel, cpu.ldtBase, cpu.ldtLimit, cpu.ldtAttr], tr: [cpu.trSel, cpu.trBase, cpu.trLimit, cpu.trAttr],
    cpl: cpu.cpl, tsc: cpu.tsc, instructions: cpu.instructions,
    msrs: [...cpu.msrs].map(([k, v]) => [k, v.toString()]),
    fpu: { st: Array.from(cpu.fpu.st), control: cpu.fpu.control, status: cpu.fpu.status, tag: cpu.fpu.tag },
    halted: cpu.halted, shutdown: cpu.shutdown, shutdownReason: cpu.shutdownReason, inhibitIrq: cpu.inhibitIrq, nmiPending: cpu.nmiPending,
  };
}

export function restoreCpu(cpu: Cpu, s: CpuState): void {
  cpu.regs.set(s.regs);
  cpu.eip = s.eip;
  cpu.flags = s.flags; cpu.lazy = 0;
  cpu.sreg.set(s.sreg); cpu.segBase.set(s.segBase); cpu.segLimit.set(s.segLimit); cpu.segAttr.set(s.segAttr);
  cpu.cr0 = s.cr0; cpu.cr2 = s.cr2; cpu.cr3 = s.cr3; cpu.cr4 = s.cr4; cpu.dr.set(s.dr);
  [cpu.gdtBase, cpu.gdtLimit] = s.gdt; [cpu.idtBase, cpu.idtLimit] = s.idt;
  [cpu.ldtSel, cpu.ldtBase, cpu.ldtLimit, cpu.ldtAttr] = s.ldt;
  [cpu.trSel, cpu.trBase, cpu.trLimit, cpu.trAttr] = s.tr;
  cpu.tsc = s.tsc; cpu.instructions = s.instructions;
  cpu.msrs.clear();
  for (const [k, v] of s.msrs) cpu.msrs.set(k, BigInt(v));
  cpu.fpu.st.set(s.fpu.st); cpu.fpu.control = s.fpu.control; cpu.fpu.status = s.fpu.status; cpu.fpu.tag = s.fpu.tag;
  cpu.halted = s.halted; cpu.shutdown = s.shutdown; cpu.shutdownReason = s.shutdownReason;
  cpu.inhibitIrq = s.inhibitIrq; cpu.nmiPending = s.nmiPending;
  cpu.modeChanged();
  cpu.cpl = s.cpl; // modeChanged derives CPL only for real/VM86 mode
  cpu.modeChanged();
  for (let i = 0; i < 6; i++) cpu.updateSegCheck(i);
  cpu.flushTlb(true);
  cpu.attention = true;
}

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
