// Runs SingleStepTests-format single-instruction tests (see /work/shared/cpu-tests/README.md)
// against our CPU: load the initial state, execute one instruction (plus the exception it may
// raise), execute the HLT that follows, and compare registers and memory exactly.
//
// Writes are tracked exactly: every RAM page is marked as a "code page", so each store takes the
// notifying slow path and lands in `written` — a stray write the reference did not make fails.

import { IoBus } from '../../bus/ioBus';
import { PhysicalMemory } from '../../memory/physicalMemory';
import { CS, DS, ES, SS } from '../constants';
import { Cpu } from '../cpu';

export interface SingleStepTest {
  idx: number;
  name: string;
  bytes: number[];
  initial: { regs: Record<string, number>; ram: [number, number][] };
  final: { regs: Record<string, number>; ram: [number, number][] };
  hash?: string;
}

const REG16 = ['ax', 'cx', 'dx', 'bx', 'sp', 'bp', 'si', 'di'] as const;
const SREGS: [string, number][] = [['es', ES], ['cs', CS], ['ss', SS], ['ds', DS]];
const MEM_SIZE = 16 << 20; // the 286's 24-bit address space

export class SingleStepRunner {
  readonly mem = new PhysicalMemory(MEM_SIZE);
  readonly cpu: Cpu;
  private readonly written = new Set<number>();
  private readonly touched: number[] = [];

  /** `translate`: run each test's instruction as a translated block (tests the block compiler). */
  constructor(opts: { translate?: boolean } = {}) {
    this.cpu = new Cpu({ memory: this.mem, io: new IoBus() });
    if (opts.translate) this.cpu.blocks.hotThreshold = 1;
    this.mem.setA20(true);
    for (let p = 0; p < MEM_SIZE >>> 12; p++) this.mem.codePages[p] = 1;
    this.mem.onCodeWrite((addr, len) => {
      for (let i = 0; i < len; i++) this.written.add(addr + i);
      this.mem.codePages[addr >>> 12] = 1; // keep tracking (no TLB flush needed: the page never lost its slow-write status)
    });
  }

  /** Run one test; returns null when it passes, else a description of the differences. */
  run(t: SingleStepTest): string | null {
    const d = this.compare(t);
    return d ? d.map(formatDiff).join(', ') : null;
  }

  /** Run one test; returns null when it passes, else every difference. */
  compare(t: SingleStepTest): Diff[] | null {
    const cpu = this.cpu;
    const mem = this.mem;
    cpu.reset();
    cpu.cr0 = 0x60000010;
    cpu.flushTlb(true);
    const ir = t.initial.regs;
    for (let i = 0; i < 8; i++) cpu.regs[i] = ir[REG16[i]] ?? 0;
    for (const [name, s] of SREGS) cpu.setSegReal(s, ir[name], s === CS ? 0x9b : 0x93);
    cpu.setSegReal(4, 0, 0x93);
    cpu.setSegReal(5, 0, 0x93);
    cpu.modeChanged();
    cpu.eip = ir.ip;
    cpu.flags = (ir.flags & 0x0fff) | 2;
    cpu.lazy = 0;
    for (const [a, v] of t.initial.ram) { mem.u8[a] = v; this.touched.push(a); }
    this.written.clear();
    cpu.exc = -1;

    cpu.run(1); // the instruction (and any exception it raises)
    // The reference then fetched and executed a HLT (unless the instruction was that HLT).
    if (!cpu.halted) cpu.eip = (cpu.eip + 1) & 0xffff;

    const diffs: Diff[] = [];
    const fr = t.final.regs;
    for (let i = 0; i < 8; i++) {
      const want = fr[REG16[i]] ?? ir[REG16[i]];
      const got = cpu.regs[i] & 0xffff;
      if (got !== want) diffs.push({ kind: 'reg', name: REG16[i], got, want });
    }
    for (const [name, s] of SREGS) {
      const want = fr[name] ?? ir[name];
      if (cpu.sreg[s] !== want) diffs.push({ kind: 'reg', name, got: cpu.sreg[s], want });
    }
    const wantIp = fr.ip ?? ir.ip;
    if (cpu.eip !== wantIp) diffs.push({ kind: 'reg', name: 'ip', got: cpu.eip, want: wantIp });
    const wantFlags = fr.flags ?? ir.flags;
    const gotFlags = cpu.getFlags() & 0xffff;
    if (gotFlags !== wantFlags) diffs.push({ kind: 'reg', name: 'flags', got: gotFlags, want: wantFlags });
    const finalRam = new Map<number, number>(t.final.ram);
    for (const [a, v] of t.final.ram) {
      if (mem.u8[a] !== v) diffs.push({ kind: 'mem', addr: a, got: mem.u8[a], want: v });
    }
    const initialRam = new Map<number, number>(t.initial.ram);
    for (const a of this.written) {
      if (finalRam.has(a)) continue;
      const before = initialRam.get(a) ?? 0;
      if (mem.u8[a] !== before) diffs.push({ kind: 'mem', addr: a, got: mem.u8[a], want: before, stray: true });
    }
    this.lastException = this.cpu.exc;
    // Clean up so the next test starts from zeroed memory.
    for (const a of this.touched) mem.u8[a] = 0;
    for (const a of this.written) mem.u8[a] = 0;
    this.touched.length = 0;
    return diffs.length ? diffs : null;
  }

  /** Vector of the last exception our CPU raised (valid after a failing compare). */
  lastException = -1;
}

export type Diff =
  | { kind: 'reg'; name: string; got: number; want: number }
  | { kind: 'mem'; addr: number; got: number; want: number; stray?: boolean };

export function formatDiff(d: Diff): string {
  if (d.kind === 'mem') return d.stray ? `stray write [${hex(d.addr)}]=${hex(d.got)}` : `[${hex(d.addr)}]=${hex(d.got)} want ${hex(d.want)}`;
  if (d.name === 'flags') return `flags=${hex(d.got)} want ${hex(d.want)} (xor ${hex(d.got ^ d.want)})`;
  return `${d.name}=${hex(d.got)} want ${hex(d.want)}`;
}

function hex(v: number): string { return v.toString(16); }
