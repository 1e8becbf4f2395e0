// A P6-class (Pentium II without APIC/PAE/SSE) 32-bit x86 CPU: architectural state, lazy flags,
// the software TLB and paging, segmentation, exceptions and interrupt delivery, and the run loop.
// Instruction semantics live in execute.ts (integer ISA) and fpu.ts (x87). Hot code runs as
// translated blocks (blockCompiler.ts, cached by physical address in blockCache.ts) that keep the
// interpreter's contracts: precise faults, exact instruction counts, interrupts and debugger
// stops at instruction boundaries.
//
// Conventions used throughout:
// - General registers live in `regs` (Int32Array, EAX..EDI); EIP is an unsigned number.
// - Linear addresses are int32 values (`| 0`); the TLB is indexed by `lin >>> 12`.
// - A fault is raised by `raise()`, which records vector/error code and throws the shared
//   CPU_FAULT sentinel (no allocation). The run loop catches it, rewinds EIP to the faulting
//   instruction (instructions commit state only after their last possible fault) and delivers it.

import type { IoBus } from '../bus/ioBus';
import { PageKind, type PhysicalMemory } from '../memory/physicalMemory';
import * as K from './constants';

// Local copies: module-level constants read once (tsx/CJS would otherwise go through getters).
const {
  AC, AF, ARITH, ATTR_CODE, ATTR_DB, ATTR_DC, ATTR_G, ATTR_P, ATTR_RW, ATTR_S, CF, CR0_PE, CR0_PG, CR0_WP, CR4_PGE, CR4_PSE, CS, DF, DS, ES, ESP, EX_DB, EX_DF, EX_GP, EX_NP, EX_PF, EX_SS, EX_TS, FS, GS, ID, IF, IOPL, NT, OF, PARITY, PF, RF, SF, SS, TF, VM, ZF,
} = K;
import { BlockCache, type Block } from './blockCache';
import { executeOne as executeOneImport } from './execute';
import { Fpu } from './fpu';

/** What the interrupt controller offers the CPU (INTR line + acknowledge cycle). */
export interface InterruptSource {
  /** True while an unmasked interrupt request is pending. */
  hasInterrupt(): boolean;
  /** The INTA cycle: returns the vector (0-255) and marks the request in service. */
  acknowledge(): number;
}

export type StopReason =
  | 'budget' // maxInstructions executed
  | 'halted' // HLT with no deliverable interrupt
  | 'breakpoint' // next instruction's linear address is in `breakpoints`
  | 'watchpoint' // a watched range was accessed by the last instruction (see `lastWatchHit`)
  | 'step' // single-step requested via `singleStep`
  | 'triple-fault' // shutdown: the machine should reset (see `shutdownReason`)
  | 'stopped'; // requestStop() was called (from a device or hook)

export interface Watchpoint {
  space: 'linear' | 'physical';
  start: number;
  length: number;
  access: 'r' | 'w' | 'rw';
}

export interface WatchHit { watch: Watchpoint; address: number; size: number; write: boolean; eip: number }

/** Thrown (the same object every time) to unwind an instruction that faulted. */
export const CPU_FAULT = Object.freeze({ cpuFault: true });

// Lazy flag operation kinds.
export const LZ_ADD = 1, LZ_SUB = 2, LZ_LOGIC = 3;

// TLB entry bits (low 12 bits of an entry; the high 20 are the physical page number).
export const T_USER_R = 0x002, T_SUP_W = 0x004, T_USER_W = 0x008;
/** Reads may go straight to RAM. */
export const T_RAM = 0x010;
/** Writes may go straight to RAM (plain RAM, not a code page, not watched). */
export const T_RAMW = 0x020;
export const T_GLOBAL = 0x040;
export const T_VALID = 0x080;

/** The interpreter entry, bound once (a plain local call instead of a module live binding). */
let executeOne: (c: Cpu) => void;

const EXC_BENIGN = 0, EXC_CONTRIB = 1, EXC_PF = 2;
function excClass(v: number): number {
  if (v === 0 || (v >= 10 && v <= 13)) return EXC_CONTRIB;
  return v === EX_PF ? EXC_PF : EXC_BENIGN;
}
/** Vectors that push an error code when raised as exceptions. */
const HAS_ERROR = new Set([8, 10, 11, 12, 13, 14, 17]);

/** Snapshot produced by Cpu.saveState(). */
export interface CpuState {
  version: 1;
  regs: Int32Array; eip: number; eflags: number;
  sreg: Uint16Array; segBase: Int32Array; segLimit: Float64Array; segAttr: Uint16Array;
  cr: [number, number, number, number]; dr: Int32Array;
  gdt: [number, number]; idt: [number, number];
  ldt: [number, number, number, number]; tr: [number, number, number, number];
  cpl: number; tsc: number; instructions: number;
  msrs: [number, string][];
  fpu: { regs: Float64Array; tags: Uint8Array; control: number; status: number; top: number; ptrs: [number, number, number, number, number] };
  halted: boolean; shutdown: boolean; shutdownReason: string;
  inhibitIrq: boolean; nmiPending: boolean; nmiBlocked: boolean;
}

export interface CpuOptions {
  memory: PhysicalMemory;
  io: IoBus;
  interrupts?: InterruptSource;
}

export class Cpu {
  readonly mem: PhysicalMemory;
  readonly io: IoBus;
  intr: InterruptSource | undefined;
  ram: Uint8Array;
  ram16: Uint16Array;
  ram32: Int32Array;

  // ---- architectural registers ----
  readonly regs = new Int32Array(8);
  eip = 0;
  /** EFLAGS with the lazily computed status bits possibly stale (see `lazy`). */
  flags = 2;
  readonly sreg = new Uint16Array(6);
  readonly segBase = new Int32Array(6);
  readonly segLimit = new Float64Array(6);
  readonly segAttr = new Uint16Array(6);
  /** Per segment: bit0 = reads need a limit/type check, bit1 = writes do. 0 for flat segments. */
  readonly segCheck = new Uint8Array(6);
  cr0 = 0x60000010;
  cr2 = 0;
  cr3 = 0;
  cr4 = 0;
  readonly dr = new Int32Array(8);
  gdtBase = 0; gdtLimit = 0xffff;
  idtBase = 0; idtLimit = 0x3ff;
  ldtSel = 0; ldtBase = 0; ldtLimit = 0xffff; ldtAttr = 0x82;
  trSel = 0; trBase = 0; trLimit = 0xffff; trAttr = 0x8b;
  cpl = 0;
  tsc = 0;
  /** RDTSC within one run() slice: see readTsc() in execute.ts. */
  tscSeenAt = -1;
  tscBump = 0;
  readonly msrs = new Map<number, bigint>();
  readonly fpu = new Fpu();

  // ---- lazy flags ----
  lazy = 0;
  lzOp = 0;
  lzA = 0;
  lzB = 0;
  lzR = 0;
  lzM = 0;
  /** Carry-in of a lazy ADC/SBB (32-bit form needs it to recover CF). */
  lzC = 0;

  // ---- per-instruction decode state ----
  instrStart = 0;
  o32 = false;
  a32 = false;
  segOvr = -1;
  rep = 0;
  /** o32/a32/segOvr/rep must be reset before the next instruction (prefixes used or mode changed). */
  prefixDirty = true;
  modrm = 0;
  eaOff = 0;
  eaSeg = DS;
  /** Default operand/address size of the code segment (CS.D). */
  code32 = false;
  /** Stack size (SS.B). */
  ss32 = false;
  protectedMode = false;
  pagingOn = false;

  // ---- TLB ----
  readonly tlb = new Int32Array(1 << 20);
  private readonly tlbUsed = new Int32Array(1 << 20);
  private readonly tlbInList = new Uint8Array(1 << 20);
  private tlbUsedCount = 0;
  /** TLB bits an entry needs for a fast read / write at the current privilege level. */
  rMask = T_RAM;
  wMask = T_RAMW | T_SUP_W;

  // ---- instruction fetch window: EIPs in [fStart, fEnd] are read from fMem[fDelta + eip] ----
  fStart = 1;
  fEnd = 0;
  fDelta = 0;

  // ---- run state ----
  halted = false;
  shutdown = false;
  shutdownReason = '';
  /** Something must be looked at before the next instruction (IRQ, TF, hooks, interrupt shadow). */
  attention = true;
  /** Interrupts are blocked for one instruction (after MOV SS/POP SS/STI). */
  inhibitIrq = false;
  nmiPending = false;
  nmiBlocked = false;
  instructions = 0;
  exc = 0;
  excErr = -1;
  private stopRequest: StopReason | null = null;

  // ---- translated blocks (see blockCache.ts / blockCompiler.ts) ----
  readonly blocks: BlockCache;
  /** The block running now (null in the interpreter): a fault inside it is accounted from its `eips`. */
  private curBlock: Block | null = null;
  /** Instructions retired by earlier passes of the running (looping) block. */
  blockDone = 0;
  /** Instructions retired by the last runBlock(). */
  private blockRan = 0;
  /** Instructions retired by the blocks chained before the running one in this runBlock(). */
  private chainRan = 0;

  // ---- debugger hooks (cost nothing unless `hooked`) ----
  readonly breakpoints = new Set<number>();
  readonly watchpoints: Watchpoint[] = [];
  lastWatchHit: WatchHit | null = null;
  private watchTriggered = false;
  /** Instruction breakpoints are set: run() uses the loop that checks them. */
  private hooked = false;
  /** Watchpoints are set: their pages leave the TLB's RAM fast path and accesses are checked. */
  private watching = false;
  /** Linear page numbers holding a breakpoint, and whether the current fetch window's page does. */
  private breakpointPages = new Set<number>();
  private fetchPageHasBreakpoint = false;

  constructor(opts: CpuOptions) {
    this.mem = opts.memory;
    this.io = opts.io;
    this.intr = opts.interrupts;
    this.ram = this.mem.u8;
    this.ram16 = this.mem.u16;
    this.ram32 = this.mem.u32;
    this.blocks = new BlockCache(this.mem, () => { this.attention = true; });
    this.mem.onMapChange(() => { this.flushTlb(true); this.blocks.flush(); });
    this.mem.onCodePageMarked((page) => this.dropFastWrites(page));
    executeOne ??= executeOneImport;
    this.reset();
  }

  /** Power-on / RESET state (SDM vol. 3 §9.1.1): real mode at F000:FFF0 with CS base FFFF0000. */
  reset(): void {
    this.regs.fill(0);
    this.regs[2] = 0x0633; // EDX: family 6, model 3, stepping 3
    this.eip = 0xfff0;
    this.flags = 2;
    this.lazy = 0;
    this.cr0 = 0x60000010; this.cr2 = 0; this.cr3 = 0; this.cr4 = 0;
    this.dr.fill(0); this.dr[6] = 0xffff0ff0 | 0; this.dr[7] = 0x400;
    for (let s = 0; s < 6; s++) this.setSegReal(s, 0, 0x93);
    this.sreg[CS] = 0xf000; this.segBase[CS] = 0xffff0000 | 0; this.segAttr[CS] = 0x9b;
    this.updateSegCheck(CS);
    this.gdtBase = 0; this.gdtLimit = 0xffff; this.idtBase = 0; this.idtLimit = 0x3ff;
    this.ldtSel = 0; this.ldtBase = 0; this.ldtLimit = 0xffff; this.ldtAttr = 0x82;
    this.trSel = 0; this.trBase = 0; this.trLimit = 0xffff; this.trAttr = 0x8b;
    this.cpl = 0;
    this.tsc = 0;
    this.msrs.clear();
    this.fpu.reset();
    this.halted = false; this.shutdown = false; this.shutdownReason = '';
    this.inhibitIrq = false; this.nmiPending = false; this.nmiBlocked = false;
    this.blocks.flush();
    this.modeChanged();
  }

  // =====================================================================================
  // Flags
  // =====================================================================================

  getFlags(): number {
    const lz = this.lazy;
    if (lz === 0) return this.flags;
    return (this.flags & ~lz) | (this.computeArith() & lz);
  }

  /** Replace EFLAGS bits in `mask` by `value` (status bits become non-lazy). */
  setFlags(value: number, mask: number): void {
    const f = this.getFlags();
    this.lazy = 0;
    this.flags = ((f & ~mask) | (value & mask) | 2) & 0x3f7fd7;
    if (mask & (IF | TF)) this.attention = true;
  }

  /**
   * All six status flags from the lazy state. 8/16-bit ops keep exact (unmasked) results; 32-bit
   * ops (lzM === -1) keep int32 operands and result plus the carry-in, so no field ever holds a
   * non-int32 number (no heap numbers on the hot path).
   */
  computeArith(): number {
    const r = this.lzR, a = this.lzA, b = this.lzB, m = this.lzM;
    let f = PARITY[r & 0xff];
    if ((r & m) === 0) f |= ZF;
    if (m === -1) {
      if (r < 0) f |= SF;
      switch (this.lzOp) {
        case LZ_ADD:
          if (this.lzC ? (r >>> 0) <= (a >>> 0) : (r >>> 0) < (a >>> 0)) f |= CF;
          if (((a ^ r) & (b ^ r)) < 0) f |= OF;
          f |= (a ^ b ^ r) & AF;
          break;
        case LZ_SUB:
          if (this.lzC ? (a >>> 0) <= (b >>> 0) : (a >>> 0) < (b >>> 0)) f |= CF;
          if (((a ^ b) & (a ^ r)) < 0) f |= OF;
          f |= (a ^ b ^ r) & AF;
          break;
      }
      return f;
    }
    const s = (m + 1) >> 1;
    if (r & s) f |= SF;
    switch (this.lzOp) {
      case LZ_ADD:
        if (r > m) f |= CF;
        if ((a ^ r) & (b ^ r) & s) f |= OF;
        f |= (a ^ b ^ r) & AF;
        break;
      case LZ_SUB:
        if (r < 0) f |= CF;
        if ((a ^ b) & (a ^ r) & s) f |= OF;
        f |= (a ^ b ^ r) & AF;
        break;
    }
    return f;
  }

  computeParity(v: number): number { return PARITY[v & 0xff]; }

  getCF(): number {
    if (this.lazy & CF) {
      const op = this.lzOp;
      if (this.lzM === -1) {
        if (op === LZ_ADD) return (this.lzC ? (this.lzR >>> 0) <= (this.lzA >>> 0) : (this.lzR >>> 0) < (this.lzA >>> 0)) ? 1 : 0;
        if (op === LZ_SUB) return (this.lzC ? (this.lzA >>> 0) <= (this.lzB >>> 0) : (this.lzA >>> 0) < (this.lzB >>> 0)) ? 1 : 0;
        return 0;
      }
      if (op === LZ_ADD) return this.lzR > this.lzM ? 1 : 0;
      if (op === LZ_SUB) return this.lzR < 0 ? 1 : 0;
      return 0;
    }
    return this.flags & CF;
  }

  getZF(): boolean {
    if (this.lazy & ZF) return (this.lzR & this.lzM) === 0;
    return (this.flags & ZF) !== 0;
  }

  getSF(): boolean {
    if (this.lazy & SF) return this.lzM === -1 ? this.lzR < 0 : (this.lzR & ((this.lzM + 1) >> 1)) !== 0;
    return (this.flags & SF) !== 0;
  }

  getOF(): boolean {
    if (this.lazy & OF) return (this.computeArith() & OF) !== 0;
    return (this.flags & OF) !== 0;
  }

  getPF(): boolean {
    if (this.lazy & PF) return PARITY[this.lzR & 0xff] !== 0;
    return (this.flags & PF) !== 0;
  }

  /** Evaluate condition code `cc` (the low nibble of Jcc/SETcc/CMOVcc). */
  cond(cc: number): boolean {
    let r: boolean;
    switch (cc >> 1) {
      case 0: r = this.getOF(); break;
      case 1: r = this.getCF() !== 0; break;
      case 2: r = this.getZF(); break;
      case 3: r = this.getCF() !== 0 || this.getZF(); break;
      case 4: r = this.getSF(); break;
      case 5: r = this.getPF(); break;
      case 6: r = this.getSF() !== this.getOF(); break;
      default: r = this.getZF() || this.getSF() !== this.getOF(); break;
    }
    return (cc & 1) ? !r : r;
  }

  /** Make CF concrete in `flags` (before an op that preserves CF but makes the others lazy). */
  materializeCF(): void {
    if (this.lazy & CF) {
      this.flags = (this.flags & ~CF) | this.getCF();
      this.lazy &= ~CF;
    }
  }

  setLazy(op: number, a: number, b: number, r: number, m: number, cin: number): void {
    this.lzOp = op; this.lzA = a; this.lzB = b; this.lzR = r; this.lzM = m; this.lzC = cin;
    this.lazy = ARITH;
  }

  /** ZF/SF/PF from `r`, AF cleared, CF and OF set explicitly (shifts, multiplies, logic). */
  setResultFlags(r: number, m: number, cf: number, of: boolean): void {
    m |= 0;
    this.lzOp = LZ_LOGIC; this.lzR = m === -1 ? r | 0 : r; this.lzM = m;
    this.lazy = PF | ZF | SF | AF;
    this.flags = (this.flags & ~(CF | OF)) | (cf & 1) | (of ? OF : 0);
  }

  /** Set CF and OF concretely; the other status flags keep their (possibly lazy) values. */
  setCFOF(cf: number, of: boolean): void {
    this.lazy &= ~(CF | OF);
    this.flags = (this.flags & ~(CF | OF)) | cf | (of ? OF : 0);
  }

  /** Make AF concrete with value `on` (other lazy flags stay lazy). */
  setAF(on: boolean): void {
    this.lazy &= ~AF;
    this.flags = on ? this.flags | AF : this.flags & ~AF;
  }

  // =====================================================================================
  // Arithmetic helpers used by the interpreter
  // =====================================================================================

  /** The eight classic ALU ops (ADD OR ADC SBB AND SUB XOR CMP) on values masked by m (0xff, 0xffff, or -1/0xffffffff for 32 bits). */
  alu(op: number, a: number, b: number, m: number): number {
    m |= 0;
    if (m === -1) {
      a |= 0; b |= 0;
      let r: number;
      switch (op) {
        case 0: r = (a + b) | 0; this.setLazy(LZ_ADD, a, b, r, -1, 0); return r;
        case 1: r = a | b; break;
        case 2: { const c = this.getCF(); r = (a + b + c) | 0; this.setLazy(LZ_ADD, a, b, r, -1, c); return r; }
        case 3: { const c = this.getCF(); r = (a - b - c) | 0; this.setLazy(LZ_SUB, a, b, r, -1, c); return r; }
        case 4: r = a & b; break;
        case 5: case 7: r = (a - b) | 0; this.setLazy(LZ_SUB, a, b, r, -1, 0); return r;
        default: r = a ^ b; break;
      }
      this.lzOp = LZ_LOGIC; this.lzR = r; this.lzM = -1; this.lazy = ARITH;
      return r;
    }
    let r: number;
    switch (op) {
      case 0: r = a + b; this.setLazy(LZ_ADD, a, b, r, m, 0); return r & m;
      case 1: r = (a | b) & m; break;
      case 2: { const c = this.getCF(); r = a + b + c; this.setLazy(LZ_ADD, a, b, r, m, c); return r & m; }
      case 3: { const c = this.getCF(); r = a - b - c; this.setLazy(LZ_SUB, a, b, r, m, c); return r & m; }
      case 4: r = a & b & m; break;
      case 5: case 7: r = a - b; this.setLazy(LZ_SUB, a, b, r, m, 0); return r & m;
      default: r = (a ^ b) & m; break;
    }
    this.lzOp = LZ_LOGIC; this.lzR = r; this.lzM = m; this.lazy = ARITH;
    return r;
  }

  inc(a: number, m: number): number {
    this.materializeCF();
    m |= 0;
    const r = m === -1 ? ((a | 0) + 1) | 0 : a + 1;
    this.lzOp = LZ_ADD; this.lzA = m === -1 ? a | 0 : a; this.lzB = 1; this.lzR = r; this.lzM = m; this.lzC = 0;
    this.lazy = ARITH & ~CF;
    return r & m;
  }

  dec(a: number, m: number): number {
    this.materializeCF();
    m |= 0;
    const r = m === -1 ? ((a | 0) - 1) | 0 : a - 1;
    this.lzOp = LZ_SUB; this.lzA = m === -1 ? a | 0 : a; this.lzB = 1; this.lzR = r; this.lzM = m; this.lzC = 0;
    this.lazy = ARITH & ~CF;
    return r & m;
  }

  // =====================================================================================
  // Modes and privilege
  // =====================================================================================

  /** Recompute derived mode state after CR0/CR4/CS/SS/CPL changes. */
  modeChanged(): void {
    this.protectedMode = (this.cr0 & CR0_PE) !== 0;
    const pg = this.protectedMode && (this.cr0 & CR0_PG) !== 0;
    if (pg !== this.pagingOn) { this.pagingOn = pg; this.flushTlb(true); }
    this.code32 = (this.segAttr[CS] & ATTR_DB) !== 0;
    this.ss32 = (this.segAttr[SS] & ATTR_DB) !== 0;
    this.prefixDirty = true;
    if (!this.protectedMode) this.cpl = 0;
    else if (this.flags & VM) this.cpl = 3;
    const user = this.cpl === 3;
    this.rMask = user ? T_RAM | T_USER_R : T_RAM;
    this.wMask = user ? T_RAMW | T_USER_W : T_RAMW | T_SUP_W;
    this.fStart = 1; this.fEnd = 0;
  }

  get vm86(): boolean { return (this.flags & VM) !== 0; }

  /** Real-mode (or VM86) segment load: selector and base only; limit/attributes keep their cache... */
  setSegReal(seg: number, sel: number, attr?: number): void {
    this.sreg[seg] = sel;
    this.segBase[seg] = sel << 4;
    if (attr !== undefined) { this.segAttr[seg] = attr; this.segLimit[seg] = 0xffff; }
    this.updateSegCheck(seg);
  }

  updateSegCheck(seg: number): void {
    const attr = this.segAttr[seg];
    const lim = this.segLimit[seg];
    let chk = 0;
    if (lim !== 0xffffffff || (attr & (ATTR_CODE | ATTR_DC)) === ATTR_DC || !(attr & ATTR_P)) chk = 3;
    if (attr & ATTR_CODE) { chk |= 2; if (!(attr & ATTR_RW)) chk |= 1; }
    else if (!(attr & ATTR_RW)) chk |= 2;
    if (!this.protectedMode || (this.flags & VM)) chk = lim === 0xffffffff ? 0 : 3; // real mode: only limits
    this.segCheck[seg] = chk;
    if (seg === CS || seg === SS) { this.code32 = (this.segAttr[CS] & ATTR_DB) !== 0; this.ss32 = (this.segAttr[SS] & ATTR_DB) !== 0; this.prefixDirty = true; }
  }

  /** Slow segment check for an access of `size` bytes at offset `off`. */
  checkSeg(seg: number, off: number, size: number, write: boolean): void {
    off >>>= 0;
    const attr = this.segAttr[seg];
    const pmode = this.protectedMode && !(this.flags & VM);
    if (pmode) {
      if (!(attr & ATTR_P)) this.raise(seg === SS ? EX_SS : EX_GP, 0);
      if (write ? (attr & ATTR_CODE) || !(attr & ATTR_RW) : (attr & (ATTR_CODE | ATTR_RW)) === ATTR_CODE) {
        this.raise(seg === SS ? EX_SS : EX_GP, 0);
      }
    }
    const end = off + size - 1;
    const lim = this.segLimit[seg];
    if (pmode && (attr & (ATTR_CODE | ATTR_DC)) === ATTR_DC) {
      const upper = attr & ATTR_DB ? 0xffffffff : 0xffff;
      if (off <= lim || end > upper) this.raise(seg === SS ? EX_SS : EX_GP, 0);
    } else if (end > lim) {
      this.raise(seg === SS ? EX_SS : EX_GP, 0);
    }
  }

  /** Linear address of a data read at seg:off. */
  linR(seg: number, off: number, size: number): number {
    if (this.segCheck[seg] & 1) this.checkSeg(seg, off, size, false);
    return (this.segBase[seg] + off) | 0;
  }

  /** Linear address of a data write at seg:off. */
  linW(seg: number, off: number, size: number): number {
    if (this.segCheck[seg] & 2) this.checkSeg(seg, off, size, true);
    return (this.segBase[seg] + off) | 0;
  }

  // =====================================================================================
  // Exceptions
  // =====================================================================================

  /** Raise exception `vector` with `error` (-1: none). Never returns. */
  raise(vector: number, error = -1): never {
    this.exc = vector;
    this.excErr = error;
    throw CPU_FAULT;
  }

  raiseGP(sel = 0): never { this.raise(EX_GP, sel & 0xfffc); }

  // =====================================================================================
  // Memory: TLB, paging, linear accessors
  // =====================================================================================

  flushTlb(includeGlobal: boolean): void {
    const tlb = this.tlb, used = this.tlbUsed, inList = this.tlbInList;
    let k = 0;
    for (let i = 0; i < this.tlbUsedCount; i++) {
      const p = used[i];
      if (!includeGlobal && (tlb[p] & T_GLOBAL)) { used[k++] = p; continue; }
      tlb[p] = 0;
      inList[p] = 0;
    }
    this.tlbUsedCount = k;
    this.fStart = 1; this.fEnd = 0;
  }

  /** Physical page `page` now holds translated code: its stores must take the notifying slow path. */
  private dropFastWrites(page: number): void {
    const tlb = this.tlb, used = this.tlbUsed;
    for (let i = 0; i < this.tlbUsedCount; i++) {
      const p = used[i];
      const e = tlb[p];
      if ((e >>> 12) === page) tlb[p] = e & ~T_RAMW;
    }
  }

  invlpg(lin: number): void {
    this.tlb[lin >>> 12] = 0;
    this.fStart = 1; this.fEnd = 0;
  }

  /**
   * Translate a linear address, checking access rights; fills the TLB. Returns the physical
   * address (A20 applied). Raises #PF on failure with CR2 set.
   */
  translate(lin: number, write: boolean, user: boolean): number {
    const page = lin >>> 12;
    let physPage: number;
    let perm: number;
    if (!this.pagingOn) {
      physPage = page;
      perm = T_USER_R | T_SUP_W | T_USER_W;
    } else {
      const mem = this.mem;
      const pdeAddr = ((this.cr3 & ~0xfff) + ((lin >>> 22) << 2)) >>> 0;
      let pde = mem.read32(pdeAddr);
      const errBase = (write ? 2 : 0) | (user ? 4 : 0);
      if (!(pde & 1)) this.pageFault(lin, errBase);
      const wp = (this.cr0 & CR0_WP) !== 0;
      let isUser: boolean, isRw: boolean, dirty: boolean, global: boolean;
      if ((pde & 0x80) && (this.cr4 & CR4_PSE)) {
        isUser = (pde & 4) !== 0; isRw = (pde & 2) !== 0;
        if (user ? !isUser || (write && !isRw) : write && wp && !isRw) this.pageFault(lin, errBase | 1);
        const want = pde | 0x20 | (write ? 0x40 : 0);
        if (want !== pde) { mem.write32(pdeAddr, want); pde = want; }
        dirty = (pde & 0x40) !== 0;
        global = (pde & 0x100) !== 0;
        physPage = ((pde >>> 12) & 0xffc00) | (page & 0x3ff);
      } else {
        const pteAddr = ((pde & ~0xfff) + ((page & 0x3ff) << 2)) >>> 0;
        let pte = mem.read32(pteAddr);
        if (!(pte & 1)) this.pageFault(lin, errBase);
        isUser = (pde & pte & 4) !== 0; isRw = (pde & pte & 2) !== 0;
        if (user ? !isUser || (write && !isRw) : write && wp && !isRw) this.pageFault(lin, errBase | 1);
        if (!(pde & 0x20)) mem.write32(pdeAddr, pde | 0x20);
        const want = pte | 0x20 | (write ? 0x40 : 0);
        if (want !== pte) { mem.write32(pteAddr, want); pte = want; }
        dirty = (pte & 0x40) !== 0;
        global = (pte & 0x100) !== 0;
        physPage = pte >>> 12;
      }
      perm = (isUser ? T_USER_R : 0);
      if (dirty) {
        if (isRw || !wp) perm |= T_SUP_W;
        if (isUser && isRw) perm |= T_USER_W;
      }
      if (global && (this.cr4 & CR4_PGE)) perm |= T_GLOBAL;
    }
    physPage = ((physPage << 12) & this.mem.a20Mask) >>> 12;
    const kind = this.mem.pageKind[physPage];
    if (kind === PageKind.Ram) {
      perm |= T_RAM;
      if (!this.mem.codePages[physPage]) perm |= T_RAMW;
    } else if (kind === PageKind.RomInRam) {
      perm |= T_RAM;
    }
    if (this.watching) perm = this.watchFilter(page, physPage, perm);
    this.tlb[page] = (physPage << 12) | perm | T_VALID;
    if (!this.tlbInList[page]) { this.tlbInList[page] = 1; this.tlbUsed[this.tlbUsedCount++] = page; }
    return ((physPage << 12) | (lin & 0xfff)) >>> 0;
  }

  private pageFault(lin: number, err: number): never {
    this.cr2 = lin | 0;
    this.raise(EX_PF, err);
  }

  /** Physical address for a data access of the current privilege (slow path). */
  physFor(lin: number, write: boolean): number {
    const e = this.tlb[lin >>> 12];
    const user = this.cpl === 3;
    if (e & T_VALID) {
      const need = write ? (user ? T_USER_W : T_SUP_W) : (user ? T_USER_R : 0);
      if ((e & need) === need) return (((e >>> 12) << 12) | (lin & 0xfff)) >>> 0;
    }
    return this.translate(lin, write, user);
  }

  /**
   * Make sure a read-modify-write of `size` bytes at `lin` can read and then write before the
   * instruction changes anything. The read is checked first (a not-present page faults as a
   * read, as under QEMU), then the write (a read-only page faults as a write) — either way
   * before the flags are touched, so the restarted instruction sees the state it started with
   * (ADC/SBB/RCL/RCR read CF; a copy-on-write fault must not lose it).
   */
  probeRmw(lin: number, size: number): void {
    const e = this.tlb[lin >>> 12];
    if ((e & this.wMask) === this.wMask && (lin & 0xfff) <= 0x1000 - size) return;
    const last = (lin + size - 1) | 0;
    const crosses = ((last ^ lin) >>> 12) !== 0;
    this.physFor(lin, false);
    if (crosses) this.physFor(last, false);
    this.physFor(lin, true);
    if (crosses) this.physFor(last, true);
  }

  rd8(lin: number): number {
    const e = this.tlb[lin >>> 12];
    if ((e & this.rMask) === this.rMask) return this.ram[(e & ~0xfff) | (lin & 0xfff)];
    return this.rdSlow(lin, 1);
  }

  rd16(lin: number): number {
    const e = this.tlb[lin >>> 12];
    if ((e & this.rMask) === this.rMask && (lin & 0xfff) !== 0xfff) {
      const p = (e & ~0xfff) | (lin & 0xfff);
      return (p & 1) ? this.ram[p] | (this.ram[p + 1] << 8) : this.ram16[p >> 1];
    }
    return this.rdSlow(lin, 2);
  }

  rd32(lin: number): number {
    const e = this.tlb[lin >>> 12];
    if ((e & this.rMask) === this.rMask && (lin & 0xfff) <= 0xffc) {
      const p = (e & ~0xfff) | (lin & 0xfff);
      if ((p & 3) === 0) return this.ram32[p >> 2];
      const r = this.ram;
      return r[p] | (r[p + 1] << 8) | (r[p + 2] << 16) | (r[p + 3] << 24);
    }
    return this.rdSlow(lin, 4);
  }

  wr8(lin: number, v: number): void {
    const e = this.tlb[lin >>> 12];
    if ((e & this.wMask) === this.wMask) { this.ram[(e & ~0xfff) | (lin & 0xfff)] = v; return; }
    this.wrSlow(lin, 1, v);
  }

  wr16(lin: number, v: number): void {
    const e = this.tlb[lin >>> 12];
    if ((e & this.wMask) === this.wMask && (lin & 0xfff) !== 0xfff) {
      const p = (e & ~0xfff) | (lin & 0xfff);
      if (p & 1) { this.ram[p] = v; this.ram[p + 1] = v >> 8; } else this.ram16[p >> 1] = v;
      return;
    }
    this.wrSlow(lin, 2, v);
  }

  wr32(lin: number, v: number): void {
    const e = this.tlb[lin >>> 12];
    if ((e & this.wMask) === this.wMask && (lin & 0xfff) <= 0xffc) {
      const p = (e & ~0xfff) | (lin & 0xfff);
      if ((p & 3) === 0) { this.ram32[p >> 2] = v; return; }
      const r = this.ram;
      r[p] = v; r[p + 1] = v >> 8; r[p + 2] = v >> 16; r[p + 3] = v >> 24;
      return;
    }
    this.wrSlow(lin, 4, v);
  }

  private rdSlow(lin: number, size: number): number {
    if (((lin & 0xfff) + size) > 0x1000) {
      // Page-crossing: translate both pages first so a fault leaves nothing half-done.
      const p0 = this.physFor(lin, false);
      const p1 = this.physFor((lin + size - 1) & ~0xfff, false);
      let v = 0;
      for (let i = 0; i < size; i++) {
        const a = ((lin + i) & 0xfff) < (lin & 0xfff) ? p1 + ((lin + i) & 0xfff) : p0 + i;
        v |= this.mem.read8(a) << (8 * i);
      }
      if (this.watching) this.checkWatch(lin, size, false, p0);
      return v;
    }
    const phys = this.physFor(lin, false);
    if (this.watching) this.checkWatch(lin, size, false, phys);
    return size === 1 ? this.mem.read8(phys) : size === 2 ? this.mem.read16(phys) : this.mem.read32(phys);
  }

  private wrSlow(lin: number, size: number, v: number): void {
    if (((lin & 0xfff) + size) > 0x1000) {
      const p0 = this.physFor(lin, true);
      const p1 = this.physFor((lin + size - 1) & ~0xfff, true);
      if (this.watching) this.checkWatch(lin, size, true, p0);
      for (let i = 0; i < size; i++) {
        const a = ((lin + i) & 0xfff) < (lin & 0xfff) ? p1 + ((lin + i) & 0xfff) : p0 + i;
        this.mem.write8(a, v >>> (8 * i));
      }
      return;
    }
    const phys = this.physFor(lin, true);
    if (this.watching) this.checkWatch(lin, size, true, phys);
    if (size === 1) this.mem.write8(phys, v); else if (size === 2) this.mem.write16(phys, v); else this.mem.write32(phys, v);
  }

  /** Supervisor-privilege reads/writes (descriptor tables, TSS, IDT): never user-checked. */
  sysRd8(lin: number): number {
    const e = this.tlb[lin >>> 12];
    const phys = (e & T_VALID) ? ((((e >>> 12) << 12) | (lin & 0xfff)) >>> 0) : this.translate(lin, false, false);
    return this.mem.read8(phys);
  }
  sysRd16(lin: number): number { return this.sysRd8(lin) | (this.sysRd8(lin + 1) << 8); }
  sysRd32(lin: number): number { return this.sysRd16(lin) | (this.sysRd16(lin + 2) << 16); }
  sysWr8(lin: number, v: number): void {
    const e = this.tlb[lin >>> 12];
    const phys = (e & T_VALID) && (e & T_SUP_W) ? ((((e >>> 12) << 12) | (lin & 0xfff)) >>> 0) : this.translate(lin, true, false);
    this.mem.write8(phys, v);
  }
  sysWr16(lin: number, v: number): void { this.sysWr8(lin, v); this.sysWr8(lin + 1, v >> 8); }
  sysWr32(lin: number, v: number): void { this.sysWr16(lin, v); this.sysWr16(lin + 2, v >>> 16); }

  // ---- instruction fetch ----

  fetch8(): number {
    const eip = this.eip;
    if (eip >= this.fStart && eip <= this.fEnd) { this.eip = eip + 1; return this.ram[this.fDelta + eip]; }
    return this.fetchSlow();
  }

  fetch16(): number {
    const eip = this.eip;
    if (eip >= this.fStart && eip + 1 <= this.fEnd) {
      this.eip = eip + 2;
      const p = this.fDelta + eip;
      return this.ram[p] | (this.ram[p + 1] << 8);
    }
    const lo = this.fetchSlow();
    return lo | (this.fetchSlow() << 8);
  }

  fetch32(): number {
    const eip = this.eip;
    if (eip >= this.fStart && eip + 3 <= this.fEnd) {
      this.eip = eip + 4;
      const p = this.fDelta + eip;
      const r = this.ram;
      return r[p] | (r[p + 1] << 8) | (r[p + 2] << 16) | (r[p + 3] << 24);
    }
    const a = this.fetch16();
    return a | (this.fetch16() << 16);
  }

  private fetchSlow(): number {
    let eip = this.eip;
    if (!this.code32) eip &= 0xffff;
    if (eip > this.segLimit[CS]) this.raise(EX_GP, 0);
    const lin = (this.segBase[CS] + eip) | 0;
    const phys = this.translate(lin, false, this.cpl === 3);
    this.eip = eip + 1;
    if (this.setFetchWindow(eip, lin, phys)) return this.ram[phys];
    return this.mem.read8(phys);
  }

  /** Open the fetch window on the page of `eip` (linear `lin`, physical `phys`) if it is RAM. */
  private setFetchWindow(eip: number, lin: number, phys: number): boolean {
    const kind = this.mem.pageKind[phys >>> 12];
    if (kind !== PageKind.Ram && kind !== PageKind.RomInRam) return false;
    const pageStart = eip - (lin & 0xfff);
    this.fStart = Math.max(pageStart, 0);
    this.fEnd = Math.min(pageStart + 0xfff, this.segLimit[CS], this.code32 ? 0xffffffff : 0xffff);
    this.fDelta = (phys & ~0xfff) - pageStart;
    if (this.fStart > eip || this.fEnd < eip) { this.fStart = 1; this.fEnd = 0; }
    this.fetchPageHasBreakpoint = this.breakpointPages.has(lin >>> 12);
    return true;
  }

  /**
   * Open the fetch window at EIP before the next instruction without fetching (the run loop
   * needs it to find translated code). Faults exactly as fetching the first byte would; leaves
   * the cases the interpreter handles specially (CS limit, 16-bit wrap) to the interpreter.
   */
  private mapFetchWindow(): void {
    const eip = this.eip;
    if (eip > this.segLimit[CS] || (!this.code32 && eip > 0xffff)) return;
    const lin = (this.segBase[CS] + eip) | 0;
    this.setFetchWindow(eip, lin, this.translate(lin, false, this.cpl === 3));
  }

  // =====================================================================================
  // Stack
  // =====================================================================================

  push16(v: number): void {
    const esp = this.regs[ESP];
    if (this.ss32) {
      const sp = (esp - 2) >>> 0;
      this.wr16(this.linW(SS, sp, 2), v);
      this.regs[ESP] = sp;
    } else {
      const sp = (esp - 2) & 0xffff;
      this.wr16(this.linW(SS, sp, 2), v);
      this.regs[ESP] = (esp & ~0xffff) | sp;
    }
  }

  push32(v: number): void {
    const esp = this.regs[ESP];
    if (this.ss32) {
      const sp = (esp - 4) >>> 0;
      this.wr32(this.linW(SS, sp, 4), v);
      this.regs[ESP] = sp;
    } else {
      const sp = (esp - 4) & 0xffff;
      this.wr32(this.linW(SS, sp, 4), v);
      this.regs[ESP] = (esp & ~0xffff) | sp;
    }
  }

  pushV(v: number): void { if (this.o32) this.push32(v); else this.push16(v); }

  /** Read the stack top (offset `delta` bytes above SP) without popping. */
  peek16(delta: number): number {
    const sp = this.ss32 ? (this.regs[ESP] + delta) >>> 0 : (this.regs[ESP] + delta) & 0xffff;
    return this.rd16(this.linR(SS, sp, 2));
  }

  peek32(delta: number): number {
    const sp = this.ss32 ? (this.regs[ESP] + delta) >>> 0 : (this.regs[ESP] + delta) & 0xffff;
    return this.rd32(this.linR(SS, sp, 4));
  }

  /** Add `n` to (E)SP respecting the stack size. */
  adjustSp(n: number): void {
    const esp = this.regs[ESP];
    this.regs[ESP] = this.ss32 ? esp + n : (esp & ~0xffff) | ((esp + n) & 0xffff);
  }

  pop16(): number { const v = this.peek16(0); this.adjustSp(2); return v; }
  pop32(): number { const v = this.peek32(0); this.adjustSp(4); return v; }
  popV(): number { return this.o32 ? this.pop32() : this.pop16(); }

  // =====================================================================================
  // Descriptors and segment loads (protected mode)
  // =====================================================================================

  /** Read the 8-byte descriptor for `sel` as [lo, hi]; #GP(sel) (or `exc`) if outside its table. */
  readDescriptor(sel: number, exc = EX_GP): [number, number] | null {
    const idx = sel & ~7;
    let base: number, limit: number;
    if (sel & 4) {
      if (!(this.ldtAttr & ATTR_P) || (this.ldtSel & ~3) === 0) this.raise(exc, sel & 0xfffc);
      base = this.ldtBase; limit = this.ldtLimit;
    } else { base = this.gdtBase; limit = this.gdtLimit; }
    if (idx + 7 > limit) this.raise(exc, sel & 0xfffc);
    const lin = (base + idx) | 0;
    return [this.sysRd32(lin), this.sysRd32(lin + 4)];
  }

  descAddr(sel: number): number {
    return ((sel & 4 ? this.ldtBase : this.gdtBase) + (sel & ~7)) | 0;
  }

  static descBase(lo: number, hi: number): number { return ((lo >>> 16) | ((hi & 0xff) << 16) | (hi & 0xff000000)) | 0; }
  static descLimit(lo: number, hi: number): number {
    const l = (lo & 0xffff) | (hi & 0xf0000);
    return hi & 0x800000 ? ((l * 4096) + 0xfff) : l;
  }
  static descAttr(hi: number): number { return (hi >>> 8) & 0xf0ff; }

  /** Set the accessed bit of a code/data descriptor in memory. */
  markAccessed(sel: number, hi: number): void {
    if (!(hi & 0x100)) this.sysWr8(this.descAddr(sel) + 5, (hi >>> 8) | 1);
  }

  setSegCache(seg: number, sel: number, base: number, limit: number, attr: number): void {
    this.sreg[seg] = sel;
    this.segBase[seg] = base;
    this.segLimit[seg] = limit;
    this.segAttr[seg] = attr;
    this.updateSegCheck(seg);
  }

  /** MOV/POP/LxS to a segment register (not CS). */
  loadSeg(seg: number, sel: number): void {
    sel &= 0xffff;
    if (!this.protectedMode || (this.flags & VM)) {
      this.sreg[seg] = sel;
      this.segBase[seg] = sel << 4;
      if (this.flags & VM) { this.segLimit[seg] = 0xffff; this.segAttr[seg] = seg === CS ? 0xfb : 0xf3; }
      this.updateSegCheck(seg);
      if (seg === SS) this.inhibitIrq = true;
      return;
    }
    if (seg === SS) {
      if ((sel & ~3) === 0) this.raiseGP(0);
      const [lo, hi] = this.readDescriptor(sel)!;
      const attr = Cpu.descAttr(hi);
      const dpl = (attr >> 5) & 3;
      if ((sel & 3) !== this.cpl || dpl !== this.cpl || (attr & (ATTR_S | ATTR_CODE | ATTR_RW)) !== (ATTR_S | ATTR_RW)) this.raiseGP(sel);
      if (!(attr & ATTR_P)) this.raise(EX_SS, sel & 0xfffc);
      this.markAccessed(sel, hi);
      this.setSegCache(SS, sel, Cpu.descBase(lo, hi), Cpu.descLimit(lo, hi), attr | 1);
      this.inhibitIrq = true;
      this.attention = true;
      return;
    }
    if ((sel & ~3) === 0) { // null selector: loads fine, faults on use
      this.setSegCache(seg, sel, 0, 0, 0);
      return;
    }
    const [lo, hi] = this.readDescriptor(sel)!;
    const attr = Cpu.descAttr(hi);
    const dpl = (attr >> 5) & 3;
    if (!(attr & ATTR_S) || (attr & (ATTR_CODE | ATTR_RW)) === ATTR_CODE) this.raiseGP(sel);
    const conformingCode = (attr & (ATTR_CODE | ATTR_DC)) === (ATTR_CODE | ATTR_DC);
    if (!conformingCode && (dpl < this.cpl || dpl < (sel & 3))) this.raiseGP(sel);
    if (!(attr & ATTR_P)) this.raise(EX_NP, sel & 0xfffc);
    this.markAccessed(sel, hi);
    this.setSegCache(seg, sel, Cpu.descBase(lo, hi), Cpu.descLimit(lo, hi), attr | 1);
  }

  /** After a privilege drop, data segments the new CPL may not use become null. */
  private nullifyInaccessibleSegs(): void {
    for (const s of [ES, DS, FS, GS]) {
      const attr = this.segAttr[s];
      const dpl = (attr >> 5) & 3;
      const conformingCode = (attr & (ATTR_CODE | ATTR_DC)) === (ATTR_CODE | ATTR_DC);
      if ((this.sreg[s] & ~3) !== 0 && !conformingCode && dpl < this.cpl) this.setSegCache(s, 0, 0, 0, 0);
      else if ((this.sreg[s] & ~3) === 0 && attr !== 0) this.setSegCache(s, this.sreg[s], 0, 0, 0);
    }
  }

  /** Load CS for a far transfer to a code segment at privilege `newCpl` (checks done by callers). */
  private loadCs(sel: number, lo: number, hi: number, newCpl: number): void {
    this.markAccessed(sel, hi);
    this.setSegCache(CS, (sel & ~3) | newCpl, Cpu.descBase(lo, hi), Cpu.descLimit(lo, hi), Cpu.descAttr(hi) | 1);
    this.cpl = newCpl;
    this.modeChanged();
  }

  /** Checks for a code segment target of JMP/CALL/RET; returns [lo, hi]. */
  private checkCodeTarget(sel: number): [number, number] {
    if ((sel & ~3) === 0) this.raiseGP(0);
    const d = this.readDescriptor(sel)!;
    const attr = Cpu.descAttr(d[1]);
    if (!(attr & ATTR_S) || !(attr & ATTR_CODE)) this.raiseGP(sel);
    return d;
  }

  /** JMP/CALL straight to a code segment: privilege, presence and limit checks. */
  private checkDirectCode(sel: number, lo: number, hi: number, off: number): void {
    const attr = Cpu.descAttr(hi);
    const dpl = (attr >> 5) & 3;
    if (!(attr & ATTR_CODE)) this.raiseGP(sel);
    if ((attr & ATTR_DC) ? dpl > this.cpl : (sel & 3) > this.cpl || dpl !== this.cpl) this.raiseGP(sel);
    if (!(attr & ATTR_P)) this.raise(EX_NP, sel & 0xfffc);
    if (off > Cpu.descLimit(lo, hi)) this.raiseGP(0);
  }

  /** Target selector and offset of a call gate (286 or 386 format). */
  private static gateTarget(lo: number, hi: number, type: number): [number, number] {
    return [lo >>> 16, type === 0x0c ? ((lo & 0xffff) | (hi & 0xffff0000)) >>> 0 : lo & 0xffff];
  }

  /** Push the caller's CS and return offset, all or nothing (ESP restored if a push faults). */
  private pushReturn(wide: boolean, retEip: number): void {
    const esp = this.regs[ESP];
    try {
      if (wide) { this.push32(this.sreg[CS]); this.push32(retEip); } else { this.push16(this.sreg[CS]); this.push16(retEip); }
    } catch (e) { this.regs[ESP] = esp; throw e; }
  }

  /** Gate or TSS checks shared by JMP and CALL: DPL against CPL and RPL, then presence. */
  private checkGateAccess(sel: number, attr: number): void {
    const dpl = (attr >> 5) & 3;
    if (dpl < this.cpl || dpl < (sel & 3)) this.raiseGP(sel);
    if (!(attr & ATTR_P)) this.raise(EX_NP, sel & 0xfffc);
  }

  /** Far JMP (EA, FF /5). */
  jmpFar(sel: number, off: number): void {
    if (!this.protectedMode || (this.flags & VM)) {
      this.setSegReal(CS, sel);
      this.eip = off;
      this.modeChanged();
      return;
    }
    if ((sel & ~3) === 0) this.raiseGP(0);
    const [lo, hi] = this.readDescriptor(sel)!;
    const attr = Cpu.descAttr(hi);
    if (attr & ATTR_S) {
      this.checkDirectCode(sel, lo, hi, off);
      this.loadCs(sel, lo, hi, this.cpl);
      this.eip = off;
      return;
    }
    const type = attr & 0x1f;
    if (type === 0x0c || type === 0x04) { // call gate: same privilege only for JMP
      this.checkGateAccess(sel, attr);
      const [tsel, toff] = Cpu.gateTarget(lo, hi, type);
      const [clo, chi] = this.checkCodeTarget(tsel);
      const cattr = Cpu.descAttr(chi);
      const cdpl = (cattr >> 5) & 3;
      if ((cattr & ATTR_DC) ? cdpl > this.cpl : cdpl !== this.cpl) this.raiseGP(tsel);
      if (!(cattr & ATTR_P)) this.raise(EX_NP, tsel & 0xfffc);
      if (toff > Cpu.descLimit(clo, chi)) this.raiseGP(0);
      this.loadCs(tsel, clo, chi, this.cpl);
      this.eip = toff;
      return;
    }
    if (type === 0x09 || type === 0x01 || type === 0x05) {
      this.checkGateAccess(sel, attr);
      this.taskSwitch(type === 0x05 ? lo >>> 16 : sel, 'jmp', this.eip);
      return;
    }
    this.raiseGP(sel);
  }

  /** Far CALL (9A, FF /3). `retEip` is the return offset. */
  callFar(sel: number, off: number, retEip: number): void {
    const o32 = this.o32;
    if (!this.protectedMode || (this.flags & VM)) {
      this.pushReturn(o32, retEip); // first, so a stack fault leaves CS:IP untouched
      this.setSegReal(CS, sel);
      this.eip = off;
      this.modeChanged();
      return;
    }
    if ((sel & ~3) === 0) this.raiseGP(0);
    const [lo, hi] = this.readDescriptor(sel)!;
    const attr = Cpu.descAttr(hi);
    if (attr & ATTR_S) {
      this.checkDirectCode(sel, lo, hi, off);
      this.pushReturn(o32, retEip);
      this.loadCs(sel, lo, hi, this.cpl);
      this.eip = off;
      return;
    }
    const type = attr & 0x1f;
    if (type === 0x0c || type === 0x04) {
      this.checkGateAccess(sel, attr);
      const gate32 = type === 0x0c;
      const [tsel, toff] = Cpu.gateTarget(lo, hi, type);
      const paramCount = hi & 0x1f;
      const [clo, chi] = this.checkCodeTarget(tsel);
      const cattr = Cpu.descAttr(chi);
      const cdpl = (cattr >> 5) & 3;
      if (cdpl > this.cpl) this.raiseGP(tsel);
      if (!(cattr & ATTR_P)) this.raise(EX_NP, tsel & 0xfffc);
      if (!(cattr & ATTR_DC) && cdpl < this.cpl) {
        // Inner privilege: switch to the TSS stack for cdpl and copy parameters.
        const [nss, nesp] = this.tssStack(cdpl);
        const [slo, shi] = this.checkNewSs(nss, cdpl);
        const sBase = Cpu.descBase(slo, shi);
        const sAttr = Cpu.descAttr(shi);
        const s32 = (sAttr & ATTR_DB) !== 0;
        const w = gate32 ? 4 : 2;
        const oldSs = this.sreg[SS], oldEsp = this.regs[ESP];
        const params: number[] = [];
        for (let i = paramCount - 1; i >= 0; i--) params.push(gate32 ? this.peek32(i * 4) : this.peek16(i * 2));
        let sp = nesp;
        const put = (v: number): void => {
          sp = s32 ? (sp - w) >>> 0 : (sp - w) & 0xffff;
          const lin = (sBase + sp) | 0;
          if (w === 4) this.sysWr32(lin, v); else this.sysWr16(lin, v);
        };
        put(oldSs); put(oldEsp);
        for (const p of params) put(p);
        put(this.sreg[CS]); put(retEip);
        this.markAccessed(nss, shi);
        this.setSegCache(SS, (nss & ~3) | cdpl, sBase, Cpu.descLimit(slo, shi), sAttr | 1);
        this.regs[ESP] = s32 ? sp : (this.regs[ESP] & ~0xffff) | sp;
        this.loadCs(tsel, clo, chi, cdpl);
        this.eip = toff;
        return;
      }
      this.pushReturn(gate32, retEip);
      this.loadCs(tsel, clo, chi, this.cpl);
      this.eip = toff;
      return;
    }
    if (type === 0x09 || type === 0x01 || type === 0x05) {
      this.checkGateAccess(sel, attr);
      this.taskSwitch(type === 0x05 ? lo >>> 16 : sel, 'call', retEip);
      return;
    }
    this.raiseGP(sel);
  }

  /** SS:ESP for privilege level `dpl` from the current TSS. */
  private tssStack(dpl: number): [number, number] {
    const is32 = (this.trAttr & 0x8) !== 0;
    if (is32) {
      const off = 4 + dpl * 8;
      if (off + 5 > this.trLimit) this.raise(EX_TS, this.trSel & 0xfffc);
      return [this.sysRd16(this.trBase + off + 4), this.sysRd32(this.trBase + off) >>> 0];
    }
    const off = 2 + dpl * 4;
    if (off + 3 > this.trLimit) this.raise(EX_TS, this.trSel & 0xfffc);
    return [this.sysRd16(this.trBase + off + 2), this.sysRd16(this.trBase + off)];
  }

  /** Validate a stack segment loaded by a privilege change (raises #TS/#SS). */
  private checkNewSs(sel: number, dpl: number): [number, number] {
    if ((sel & ~3) === 0) this.raise(EX_TS, sel & 0xfffc);
    const d = this.readDescriptor(sel, EX_TS)!;
    const attr = Cpu.descAttr(d[1]);
    if ((sel & 3) !== dpl || ((attr >> 5) & 3) !== dpl || (attr & (ATTR_S | ATTR_CODE | ATTR_RW)) !== (ATTR_S | ATTR_RW)) {
      this.raise(EX_TS, sel & 0xfffc);
    }
    if (!(attr & ATTR_P)) this.raise(EX_SS, sel & 0xfffc);
    return d;
  }

  /** RETF [imm] (CA/CB). */
  retFar(imm: number): void {
    const o32 = this.o32;
    const w = o32 ? 4 : 2;
    if (!this.protectedMode || (this.flags & VM)) {
      const ip = o32 ? this.peek32(0) >>> 0 : this.peek16(0);
      const cs = o32 ? this.peek32(4) & 0xffff : this.peek16(2);
      this.adjustSp(2 * w + imm);
      this.setSegReal(CS, cs);
      this.eip = ip;
      this.modeChanged();
      return;
    }
    const off = o32 ? this.peek32(0) >>> 0 : this.peek16(0);
    const sel = o32 ? this.peek32(4) & 0xffff : this.peek16(2);
    const rpl = sel & 3;
    if (rpl < this.cpl) this.raiseGP(sel);
    const [lo, hi] = this.checkCodeTarget(sel);
    const attr = Cpu.descAttr(hi);
    const dpl = (attr >> 5) & 3;
    if ((attr & ATTR_DC) ? dpl > rpl : dpl !== rpl) this.raiseGP(sel);
    if (!(attr & ATTR_P)) this.raise(EX_NP, sel & 0xfffc);
    if (rpl === this.cpl) {
      if (off > Cpu.descLimit(lo, hi)) this.raiseGP(0);
      this.adjustSp(2 * w + imm);
      this.loadCs(sel, lo, hi, rpl);
      this.eip = off;
      return;
    }
    // Return to an outer level: pop SS:ESP too.
    const nesp = o32 ? this.peek32(2 * w + imm) >>> 0 : this.peek16(2 * w + imm);
    const nss = o32 ? this.peek32(3 * w + imm) & 0xffff : this.peek16(3 * w + imm);
    const [slo, shi] = this.checkOuterSs(nss, rpl);
    if (off > Cpu.descLimit(lo, hi)) this.raiseGP(0);
    this.loadCs(sel, lo, hi, rpl);
    this.markAccessed(nss, shi);
    this.setSegCache(SS, nss, Cpu.descBase(slo, shi), Cpu.descLimit(slo, shi), Cpu.descAttr(shi) | 1);
    this.regs[ESP] = this.ss32 ? nesp + imm : (this.regs[ESP] & ~0xffff) | ((nesp + imm) & 0xffff);
    this.eip = off;
    this.nullifyInaccessibleSegs();
    this.modeChanged();
  }

  private checkOuterSs(sel: number, rpl: number): [number, number] {
    if ((sel & ~3) === 0) this.raiseGP(0);
    const d = this.readDescriptor(sel)!;
    const attr = Cpu.descAttr(d[1]);
    if ((sel & 3) !== rpl || ((attr >> 5) & 3) !== rpl || (attr & (ATTR_S | ATTR_CODE | ATTR_RW)) !== (ATTR_S | ATTR_RW)) this.raiseGP(sel);
    if (!(attr & ATTR_P)) this.raise(EX_SS, sel & 0xfffc);
    return d;
  }

  /** IRET / IRETD. */
  iret(): void {
    const o32 = this.o32;
    const w = o32 ? 4 : 2;
    if (!this.protectedMode) {
      const ip = o32 ? this.peek32(0) >>> 0 : this.peek16(0);
      const cs = o32 ? this.peek32(4) & 0xffff : this.peek16(2);
      const fl = o32 ? this.peek32(8) : this.peek16(4);
      this.adjustSp(3 * w);
      this.setSegReal(CS, cs);
      this.eip = ip;
      this.setFlags(fl, o32 ? 0x257fd5 : 0x7fd5);
      this.modeChanged();
      this.unblockNmi();
      return;
    }
    if (this.flags & VM) {
      if (((this.flags & IOPL) >> 12) < 3) this.raiseGP(0);
      const ip = o32 ? this.peek32(0) >>> 0 : this.peek16(0);
      const cs = o32 ? this.peek32(4) & 0xffff : this.peek16(2);
      const fl = o32 ? this.peek32(8) : this.peek16(4);
      this.adjustSp(3 * w);
      this.loadSeg(CS, cs);
      this.eip = ip;
      this.setFlags(fl, o32 ? 0x254dd5 | TF : 0x4dd5 | TF); // IOPL and VM unchanged
      this.modeChanged();
      this.unblockNmi();
      return;
    }
    if (this.flags & NT) {
      const back = this.sysRd16(this.trBase);
      this.taskSwitch(back, 'iret', this.eip);
      this.unblockNmi();
      return;
    }
    const off = o32 ? this.peek32(0) >>> 0 : this.peek16(0);
    const sel = o32 ? this.peek32(4) & 0xffff : this.peek16(2);
    const fl = o32 ? this.peek32(8) : this.peek16(4);
    if (o32 && (fl & VM) && this.cpl === 0) { this.iretToV86(off, sel, fl); this.unblockNmi(); return; }
    const rpl = sel & 3;
    if (rpl < this.cpl) this.raiseGP(sel);
    const [lo, hi] = this.checkCodeTarget(sel);
    const attr = Cpu.descAttr(hi);
    const dpl = (attr >> 5) & 3;
    if ((attr & ATTR_DC) ? dpl > rpl : dpl !== rpl) this.raiseGP(sel);
    if (!(attr & ATTR_P)) this.raise(EX_NP, sel & 0xfffc);
    const oldCpl = this.cpl;
    const iopl = (this.flags & IOPL) >> 12;
    // Flags a given privilege may change: IOPL only at CPL 0, IF only at CPL <= IOPL.
    let mask = o32 ? 0x254dd5 | TF | NT | AC | ID : 0x4dd5 | TF | NT;
    mask |= TF | NT | DF | OF;
    if (oldCpl === 0) mask |= IOPL;
    if (oldCpl <= iopl) mask |= IF;
    if (o32) mask |= RF;
    if (rpl === oldCpl) {
      if (off > Cpu.descLimit(lo, hi)) this.raiseGP(0);
      this.adjustSp(3 * w);
      this.loadCs(sel, lo, hi, rpl);
      this.eip = off;
      this.setFlags(fl, mask & ~VM);
      this.modeChanged();
      this.unblockNmi();
      return;
    }
    const nesp = o32 ? this.peek32(12) >>> 0 : this.peek16(6);
    const nss = o32 ? this.peek32(16) & 0xffff : this.peek16(8);
    const [slo, shi] = this.checkOuterSs(nss, rpl);
    if (off > Cpu.descLimit(lo, hi)) this.raiseGP(0);
    this.loadCs(sel, lo, hi, rpl);
    this.markAccessed(nss, shi);
    this.setSegCache(SS, nss, Cpu.descBase(slo, shi), Cpu.descLimit(slo, shi), Cpu.descAttr(shi) | 1);
    this.regs[ESP] = this.ss32 ? nesp : (this.regs[ESP] & ~0xffff) | nesp;
    this.eip = off;
    this.setFlags(fl, mask & ~VM);
    this.nullifyInaccessibleSegs();
    this.modeChanged();
    this.unblockNmi();
  }

  private iretToV86(off: number, sel: number, fl: number): void {
    const esp = this.peek32(12) >>> 0, ss = this.peek32(16) & 0xffff;
    const es = this.peek32(20) & 0xffff, ds = this.peek32(24) & 0xffff, fs = this.peek32(28) & 0xffff, gs = this.peek32(32) & 0xffff;
    this.setFlags(fl, 0x3f7fd5 & ~(0x100000 | 0x80000));
    this.cpl = 3;
    for (const [s, v] of [[CS, sel], [SS, ss], [ES, es], [DS, ds], [FS, fs], [GS, gs]] as const) {
      this.setSegCache(s, v, v << 4, 0xffff, s === CS ? 0xfb : 0xf3);
    }
    this.regs[ESP] = esp;
    this.eip = off & 0xffff;
    this.modeChanged();
  }

  private unblockNmi(): void { if (this.nmiBlocked) { this.nmiBlocked = false; this.attention = true; } }

  /**
   * Hardware task switch (JMP/CALL/INT through a TSS or task gate, IRET with NT). 32-bit and
   * 16-bit TSS formats; the outgoing state is saved, the incoming one loaded with its checks.
   */
  taskSwitch(sel: number, how: 'jmp' | 'call' | 'iret' | 'int', retEip: number, errorCode = -1): void {
    if (sel & 4) this.raise(EX_TS, sel & 0xfffc);
    const [lo, hi] = this.readDescriptor(sel, EX_TS)!;
    const attr = Cpu.descAttr(hi);
    const type = attr & 0x1f;
    const busy = (type & 2) !== 0;
    if ((type !== 0x09 && type !== 0x0b && type !== 0x01 && type !== 0x03)) this.raise(EX_TS, sel & 0xfffc);
    if (how === 'iret' ? !busy : busy) this.raise(how === 'iret' ? EX_TS : EX_GP, sel & 0xfffc);
    if (!(attr & ATTR_P)) this.raise(EX_NP, sel & 0xfffc);
    const nBase = Cpu.descBase(lo, hi), nLimit = Cpu.descLimit(lo, hi);
    const n32 = (type & 8) !== 0;
    if (nLimit < (n32 ? 0x67 : 0x2b)) this.raise(EX_TS, sel & 0xfffc);
    // Save the outgoing task.
    const oBase = this.trBase;
    const o32tss = (this.trAttr & 8) !== 0;
    let flags = this.getFlags();
    if (how === 'iret') flags &= ~NT;
    const r = this.regs;
    if (o32tss) {
      this.sysWr32(oBase + 0x20, retEip);
      this.sysWr32(oBase + 0x24, flags);
      for (let i = 0; i < 8; i++) this.sysWr32(oBase + 0x28 + i * 4, r[i]);
      for (let s = 0; s < 6; s++) this.sysWr16(oBase + 0x48 + s * 4, this.sreg[s]);
    } else {
      this.sysWr16(oBase + 0x0e, retEip);
      this.sysWr16(oBase + 0x10, flags);
      for (let i = 0; i < 8; i++) this.sysWr16(oBase + 0x12 + i * 2, r[i]);
      for (let s = 0; s < 4; s++) this.sysWr16(oBase + 0x22 + s * 2, this.sreg[s]);
    }
    // Busy bits.
    if (how === 'jmp' || how === 'iret') {
      const oa = this.descAddr(this.trSel) + 5;
      this.sysWr8(oa, this.sysRd8(oa) & ~2);
    }
    if (how !== 'iret') {
      const na = this.descAddr(sel) + 5;
      this.sysWr8(na, this.sysRd8(na) | 2);
    }
    // Load the incoming task.
    let nEip: number, nFlags: number, ldt: number, cr3 = this.cr3;
    const nr = new Int32Array(8), ns = new Uint16Array(6);
    if (n32) {
      cr3 = this.sysRd32(nBase + 0x1c);
      nEip = this.sysRd32(nBase + 0x20) >>> 0;
      nFlags = this.sysRd32(nBase + 0x24);
      for (let i = 0; i < 8; i++) nr[i] = this.sysRd32(nBase + 0x28 + i * 4);
      for (let s = 0; s < 6; s++) ns[s] = this.sysRd16(nBase + 0x48 + s * 4);
      ldt = this.sysRd16(nBase + 0x60);
    } else {
      nEip = this.sysRd16(nBase + 0x0e);
      nFlags = this.sysRd16(nBase + 0x10);
      for (let i = 0; i < 8; i++) nr[i] = this.sysRd16(nBase + 0x12 + i * 2) | 0xffff0000;
      for (let s = 0; s < 4; s++) ns[s] = this.sysRd16(nBase + 0x22 + s * 2);
      ldt = this.sysRd16(nBase + 0x2a);
    }
    if (how === 'call' || how === 'int') {
      this.sysWr16(nBase, this.trSel);
      nFlags |= NT;
    }
    this.trSel = sel; this.trBase = nBase; this.trLimit = nLimit; this.trAttr = (attr | 2);
    this.cr0 |= 8; // CR0.TS
    if (n32 && this.pagingOn && cr3 !== this.cr3) { this.cr3 = cr3; this.flushTlb(false); }
    this.regs.set(nr);
    this.flags = (nFlags | 2) & 0x3f7fd7; this.lazy = 0;
    this.eip = nEip;
    // LDT, then segments: selectors are loaded first, descriptors checked after (faults in the new task).
    this.ldtSel = ldt; this.ldtAttr = 0; this.ldtBase = 0; this.ldtLimit = 0;
    for (let s = 0; s < 6; s++) this.sreg[s] = ns[s];
    if (ldt & ~3) {
      if (ldt & 4) this.raise(EX_TS, ldt & 0xfffc);
      const [llo, lhi] = this.readDescriptor(ldt, EX_TS)!;
      if ((Cpu.descAttr(lhi) & 0x1f) !== 0x02) this.raise(EX_TS, ldt & 0xfffc);
      this.ldtBase = Cpu.descBase(llo, lhi); this.ldtLimit = Cpu.descLimit(llo, lhi); this.ldtAttr = Cpu.descAttr(lhi);
    }
    if (nFlags & VM) {
      this.cpl = 3;
      for (let s = 0; s < 6; s++) this.setSegCache(s, ns[s], ns[s] << 4, 0xffff, s === CS ? 0xfb : 0xf3);
    } else {
      const [clo, chi] = this.checkCodeTarget(ns[CS]);
      this.cpl = ns[CS] & 3;
      this.setSegCache(CS, ns[CS], Cpu.descBase(clo, chi), Cpu.descLimit(clo, chi), Cpu.descAttr(chi) | 1);
      this.modeChanged();
      const [slo, shi] = this.checkNewSs(ns[SS], this.cpl);
      this.setSegCache(SS, ns[SS], Cpu.descBase(slo, shi), Cpu.descLimit(slo, shi), Cpu.descAttr(shi) | 1);
      for (const s of [ES, DS, FS, GS]) this.loadSeg(s, ns[s]);
    }
    this.modeChanged();
    if (errorCode >= 0) { if (n32) this.push32(errorCode); else this.push16(errorCode); }
    if (this.eip > this.segLimit[CS]) this.raiseGP(0);
    this.attention = true;
  }

  // =====================================================================================
  // Interrupt and exception delivery
  // =====================================================================================

  /**
   * Deliver interrupt `vector`. `soft`: INT n/INT3/INTO (gate DPL checked, EIP already after the
   * instruction). `error` >= 0 is pushed. EIP must already hold the return address.
   */
  interrupt(vector: number, soft: boolean, error: number): void {
    if (!this.protectedMode) {
      if (vector * 4 + 3 > this.idtLimit) this.raise(EX_GP, vector * 8 + 2);
      const ip = this.rd16((this.idtBase + vector * 4) | 0);
      const cs = this.rd16((this.idtBase + vector * 4 + 2) | 0);
      const flags = this.getFlags();
      const esp = this.regs[ESP];
      try {
        this.push16(flags); this.push16(this.sreg[CS]); this.push16(this.eip);
      } catch (e) { this.regs[ESP] = esp; throw e; }
      this.flags = flags & ~(IF | TF | AC | RF); this.lazy = 0;
      this.setSegReal(CS, cs);
      this.eip = ip;
      this.modeChanged();
      return;
    }
    const ext = soft ? 0 : 1;
    if (vector * 8 + 7 > this.idtLimit) this.raise(EX_GP, vector * 8 + 2 + ext);
    const glin = (this.idtBase + vector * 8) | 0;
    const lo = this.sysRd32(glin), hi = this.sysRd32(glin + 4);
    const gattr = Cpu.descAttr(hi);
    const gtype = gattr & 0x1f;
    const gdpl = (gattr >> 5) & 3;
    if (gtype !== 0x05 && gtype !== 0x06 && gtype !== 0x07 && gtype !== 0x0e && gtype !== 0x0f) this.raise(EX_GP, vector * 8 + 2 + ext);
    if (soft && gdpl < this.cpl) this.raise(EX_GP, vector * 8 + 2);
    if (!(gattr & ATTR_P)) this.raise(EX_NP, vector * 8 + 2 + ext);
    if (gtype === 0x05) { this.taskSwitch(lo >>> 16, 'int', this.eip, error); return; }
    const gate32 = (gtype & 8) !== 0;
    const trapGate = (gtype & 1) !== 0;
    const sel = lo >>> 16;
    const off = gate32 ? ((lo & 0xffff) | (hi & 0xffff0000)) >>> 0 : lo & 0xffff;
    if ((sel & ~3) === 0) this.raise(EX_GP, ext);
    const [clo, chi] = this.readDescriptor(sel)!;
    const cattr = Cpu.descAttr(chi);
    const cdpl = (cattr >> 5) & 3;
    if (!(cattr & ATTR_S) || !(cattr & ATTR_CODE) || cdpl > this.cpl) this.raise(EX_GP, (sel & 0xfffc) + ext);
    if (!(cattr & ATTR_P)) this.raise(EX_NP, (sel & 0xfffc) + ext);
    const flags = this.getFlags();
    const fromVm = (flags & VM) !== 0;
    const w = gate32 ? 4 : 2;
    const wr = (lin: number, v: number): void => { if (w === 4) this.sysWr32(lin, v); else this.sysWr16(lin, v); };
    if (!(cattr & ATTR_DC) && cdpl < this.cpl) {
      if (fromVm && cdpl !== 0) this.raise(EX_GP, (sel & 0xfffc) + ext);
      const [nss, nesp] = this.tssStack(cdpl);
      const [slo, shi] = this.checkNewSs(nss, cdpl);
      const sBase = Cpu.descBase(slo, shi);
      const sAttr = Cpu.descAttr(shi);
      const s32 = (sAttr & ATTR_DB) !== 0;
      let sp = nesp;
      const put = (v: number): void => { sp = s32 ? (sp - w) >>> 0 : (sp - w) & 0xffff; wr((sBase + sp) | 0, v); };
      if (fromVm) { put(this.sreg[GS]); put(this.sreg[FS]); put(this.sreg[DS]); put(this.sreg[ES]); }
      put(this.sreg[SS]); put(this.regs[ESP]); put(flags); put(this.sreg[CS]); put(this.eip);
      if (error >= 0) put(error);
      this.markAccessed(nss, shi);
      this.setSegCache(SS, (nss & ~3) | cdpl, sBase, Cpu.descLimit(slo, shi), sAttr | 1);
      this.regs[ESP] = s32 ? sp : (this.regs[ESP] & ~0xffff) | sp;
      if (fromVm) {
        for (const s of [ES, DS, FS, GS]) this.setSegCache(s, 0, 0, 0, 0);
        this.flags &= ~VM; // before loadCs: modeChanged() would otherwise keep CPL 3 for VM86
      }
      this.loadCs(sel, clo, chi, cdpl);
    } else {
      if (fromVm) this.raise(EX_GP, (sel & 0xfffc) + ext);
      if (!(cattr & ATTR_DC) && cdpl !== this.cpl) this.raise(EX_GP, (sel & 0xfffc) + ext);
      let sp = this.regs[ESP];
      const s32 = this.ss32;
      const sBase = this.segBase[SS];
      const put = (v: number): void => {
        sp = s32 ? (sp - w) >>> 0 : (sp - w) & 0xffff;
        if (this.segCheck[SS]) this.checkSeg(SS, sp, w, true);
        wr((sBase + sp) | 0, v);
      };
      put(flags); put(this.sreg[CS]); put(this.eip);
      if (error >= 0) put(error);
      this.regs[ESP] = s32 ? sp : (this.regs[ESP] & ~0xffff) | (sp & 0xffff);
      this.loadCs(sel, clo, chi, this.cpl);
    }
    if (off > this.segLimit[CS]) this.raiseGP(0);
    this.eip = off;
    this.flags = flags & ~(TF | NT | RF | VM | (trapGate ? 0 : IF)); this.lazy = 0;
    this.modeChanged();
  }

  /** Deliver the pending exception (this.exc/excErr) with double/triple-fault escalation. */
  deliverException(): void {
    let vec = this.exc;
    let err = HAS_ERROR.has(vec) ? (this.excErr < 0 ? 0 : this.excErr) : -1;
    this.halted = false;
    if (vec === EX_DB) this.attention = true;
    for (;;) {
      try {
        this.interrupt(vec, false, err);
        if (vec === 2) this.nmiBlocked = true;
        return;
      } catch (e) {
        if (e !== CPU_FAULT) throw e;
        const next = this.exc;
        if (vec === EX_DF) { this.enterShutdown(`triple fault: exception ${next} while delivering a double fault`); return; }
        const c1 = excClass(vec), c2 = excClass(next);
        if ((c1 === EXC_CONTRIB && c2 === EXC_CONTRIB) || (c1 === EXC_PF && c2 !== EXC_BENIGN)) {
          vec = EX_DF; err = 0;
        } else {
          vec = next;
          err = HAS_ERROR.has(vec) ? (this.excErr < 0 ? 0 : this.excErr) : -1;
        }
      }
    }
  }

  private enterShutdown(reason: string): void {
    this.shutdown = true;
    this.shutdownReason = reason;
    this.halted = true;
  }

  /** The machine raises NMI (edge). */
  raiseNmi(): void { this.nmiPending = true; this.attention = true; }

  /** A device changed the INTR line: re-check before the next instruction. */
  notifyInterrupt(): void { this.attention = true; }

  /** Ask run() to return 'stopped' after the current instruction. */
  requestStop(reason: StopReason = 'stopped'): void { this.stopRequest = reason; this.attention = true; }

  // =====================================================================================
  // Debugger hooks
  // =====================================================================================

  /** Call after changing `breakpoints` or `watchpoints`. */
  hooksChanged(): void {
    this.hooked = this.breakpoints.size > 0;
    this.watching = this.watchpoints.length > 0;
    this.breakpointPages = new Set([...this.breakpoints].map((a) => a >>> 12));
    this.attention = true; // a running fast loop switches to the hooked loop
    this.flushTlb(true);
  }

  private watchFilter(linPage: number, physPage: number, perm: number): number {
    for (const w of this.watchpoints) {
      const first = w.start >>> 12, last = (w.start + Math.max(w.length, 1) - 1) >>> 12;
      const page = w.space === 'linear' ? linPage : physPage;
      if (page >= first && page <= last) return perm & ~(T_RAM | T_RAMW);
    }
    return perm;
  }

  private checkWatch(lin: number, size: number, write: boolean, phys: number): void {
    for (const w of this.watchpoints) {
      if (write ? w.access === 'r' : w.access === 'w') continue;
      const a = w.space === 'linear' ? lin >>> 0 : phys;
      if (a + size > w.start && a < w.start + w.length) {
        this.lastWatchHit = { watch: w, address: a, size, write, eip: this.instrStart };
        // Reported once the instruction completes, through `attention`: the run loops pay
        // nothing per instruction for watchpoints.
        this.watchTriggered = true;
        this.attention = true;
        return;
      }
    }
  }

  /** Linear address of the next instruction (CS.base + EIP). */
  get pcLinear(): number { return (this.segBase[CS] + this.eip) >>> 0; }

  // =====================================================================================
  // Run loop
  // =====================================================================================

  /** Execute one instruction (or deliver one interrupt); same stop reasons as run(). */
  step(): StopReason {
    return this.run(1);
  }

  /**
   * Execute up to `maxInstructions` instructions. Returns why it stopped. Breakpoints are checked
   * before each instruction except the first one of the call (so a resume steps off a breakpoint).
   */
  run(maxInstructions: number): StopReason {
    if (this.shutdown) return 'triple-fault';
    this.attention = true;
    return this.hooked ? this.runHooked(maxInstructions) : this.runFast(maxInstructions);
  }

  /** The hot loop: no debugger hooks to check. Runs translated blocks where it can. */
  private runFast(maxInstructions: number): StopReason {
    let n = 0;
    for (;;) {
      try {
        while (n < maxInstructions) {
          if (this.attention) {
            const stop = this.service();
            if (stop !== null) { this.instructions += n; return stop; }
            if (this.halted) { this.instructions += n; return 'halted'; }
            if (this.hooked) { this.instructions += n; return this.runHooked(maxInstructions - n); }
          }
          const eip = this.eip;
          if (eip < this.fStart || eip > this.fEnd) { this.instrStart = eip; this.mapFetchWindow(); }
          // Blocks only while nothing is due: after STI/MOV SS (attention still up) exactly one
          // instruction must run before interrupts are looked at again.
          if (!this.attention && eip >= this.fStart && eip <= this.fEnd && this.runBlock(maxInstructions - n)) {
            n += this.blockRan;
            continue;
          }
          this.instrStart = eip;
          executeOne(this);
          n++;
        }
        this.instructions += n;
        return this.takeWatchHit() ?? 'budget';
      } catch (e) {
        if (e !== CPU_FAULT) throw e;
        n += this.blockFaulted();
        this.eip = this.instrStart;
        this.prefixDirty = true;
        this.deliverException();
        n++;
        if (this.shutdown) { this.instructions += n; return 'triple-fault'; }
      }
    }
  }

  /**
   * Run the translated block at EIP (inside the fetch window) if there is one and it fits in
   * `budget` instructions; `blockRan` then holds the instructions it retired. False: interpret.
   */
  private runBlock(budget: number): boolean {
    const eip = this.eip;
    const delta = this.fDelta;
    const limit = delta + this.fEnd + 1;
    const mode = this.code32 ? 1 : 0;
    const blocks = this.blocks;
    let b = blocks.lookup(delta + eip, eip, mode) ?? blocks.miss(delta + eip, eip, mode, limit);
    if (b === undefined || b.count === 0 || b.count > budget || b.end > limit) return false;
    // Chain: while nothing needs attention, run the translated successor inside the same fetch
    // window directly (a miss or an untranslatable start goes back to the run loop).
    let ran = 0;
    for (;;) {
      this.curBlock = b;
      this.blockDone = 0;
      this.chainRan = ran;
      const k = b.fn(this, budget - ran);
      ran += k;
      if (this.attention) break;
      const next = this.eip;
      if (next < this.fStart || next > this.fEnd) break;
      const s = blocks.lookup(delta + next, next, mode);
      if (s === undefined || s.count === 0 || s.count > budget - ran || s.end > limit) break;
      b = s;
    }
    this.curBlock = null;
    this.blockRan = ran;
    return true;
  }

  /** After a fault: the instructions running blocks retired before the faulting one (0 outside blocks). */
  private blockFaulted(): number {
    const b = this.curBlock;
    if (b === null) return 0;
    this.curBlock = null;
    return this.chainRan + this.blockDone + b.eips.indexOf(this.instrStart);
  }

  private takeWatchHit(): 'watchpoint' | null {
    if (!this.watchTriggered) return null;
    this.watchTriggered = false;
    return 'watchpoint';
  }

  /** The same loop with instruction breakpoint checks (watchpoints stop through `attention`). */
  private runHooked(maxInstructions: number): StopReason {
    let n = 0;
    let first = true;
    for (;;) {
      try {
        while (n < maxInstructions) {
          if (this.attention) {
            const stop = this.service();
            if (stop !== null) { this.instructions += n; return stop; }
            if (this.halted) { this.instructions += n; return 'halted'; }
          }
          // The Set lookup only runs where a breakpoint may be: inside the fetch window (one code
          // page) the page's flag answers, so breakpoints elsewhere cost a few compares.
          const eip = this.eip;
          if (!first && (this.fetchPageHasBreakpoint || eip < this.fStart || eip > this.fEnd) && this.breakpoints.has(this.pcLinear)) {
            this.instructions += n;
            return 'breakpoint';
          }
          first = false;
          // No breakpoint on this code page: a translated block (which stays inside the page) may run.
          if (!this.attention && !this.fetchPageHasBreakpoint && eip >= this.fStart && eip <= this.fEnd && this.runBlock(maxInstructions - n)) {
            n += this.blockRan;
            continue;
          }
          this.instrStart = this.eip;
          executeOne(this);
          n++;
        }
        this.instructions += n;
        return this.takeWatchHit() ?? 'budget';
      } catch (e) {
        if (e !== CPU_FAULT) throw e;
        n += this.blockFaulted();
        this.eip = this.instrStart;
        this.prefixDirty = true;
        this.deliverException();
        n++;
        if (this.shutdown) { this.instructions += n; return 'triple-fault'; }
      }
    }
  }

  /** Handle everything that `attention` flags; returns a stop reason or null to continue. */
  private service(): StopReason | null {
    this.attention = false;
    if (this.watchTriggered) { this.watchTriggered = false; return 'watchpoint'; }
    if (this.stopRequest) { const r = this.stopRequest; this.stopRequest = null; return r; }
    if (this.shutdown) return 'triple-fault';
    if (this.inhibitIrq) { this.inhibitIrq = false; this.attention = true; return null; }
    if (this.nmiPending && !this.nmiBlocked) {
      this.nmiPending = false;
      this.halted = false;
      this.exc = 2; this.excErr = -1;
      this.deliverInterruptSafely(2);
      this.nmiBlocked = true;
      return this.shutdown ? 'triple-fault' : null;
    }
    if ((this.flags & IF) && this.intr && this.intr.hasInterrupt()) {
      this.halted = false;
      const v = this.intr.acknowledge() & 0xff;
      this.deliverInterruptSafely(v);
      return this.shutdown ? 'triple-fault' : null;
    }
    if (this.flags & TF) this.attention = true; // single-step trap handled by traceStep
    if ((this.flags & TF) && !this.halted) return this.traceStep();
    return null;
  }

  /** External interrupt delivery with fault escalation. */
  private deliverInterruptSafely(vector: number): void {
    try {
      this.interrupt(vector, false, -1);
    } catch (e) {
      if (e !== CPU_FAULT) throw e;
      this.deliverException();
    }
  }

  /** TF set: run exactly one instruction, then take the #DB trap. */
  private traceStep(): StopReason | null {
    this.instrStart = this.eip;
    try {
      executeOne(this);
      this.instructions++;
    } catch (e) {
      if (e !== CPU_FAULT) throw e;
      this.eip = this.instrStart;
      this.prefixDirty = true;
      this.deliverException();
      return this.shutdown ? 'triple-fault' : null;
    }
    this.dr[6] |= 0x4000;
    this.exc = EX_DB; this.excErr = -1;
    this.deliverException();
    this.attention = true;
    return this.shutdown ? 'triple-fault' : null;
  }

  // =====================================================================================
  // Snapshots
  // =====================================================================================

  /** The whole architectural state (plus run state) as plain JSON-able data with typed arrays. */
  saveState(): CpuState {
    const f = this.fpu;
    return {
      version: 1,
      regs: this.regs.slice(), eip: this.eip, eflags: this.getFlags(),
      sreg: this.sreg.slice(), segBase: this.segBase.slice(), segLimit: this.segLimit.slice(), segAttr: this.segAttr.slice(),
      cr: [this.cr0, this.cr2, this.cr3, this.cr4], dr: this.dr.slice(),
      gdt: [this.gdtBase, this.gdtLimit], idt: [this.idtBase, this.idtLimit],
      ldt: [this.ldtSel, this.ldtBase, this.ldtLimit, this.ldtAttr], tr: [this.trSel, this.trBase, this.trLimit, this.trAttr],
      cpl: this.cpl, tsc: this.tsc, instructions: this.instructions,
      msrs: [...this.msrs].map(([k, v]) => [k, v.toString()] as [number, string]),
      fpu: {
        regs: f.regs.slice(), tags: f.tags.slice(), control: f.control, status: f.status, top: f.top,
        ptrs: [f.fip, f.fcs, f.fop, f.fdp, f.fds],
      },
      halted: this.halted, shutdown: this.shutdown, shutdownReason: this.shutdownReason,
      inhibitIrq: this.inhibitIrq, nmiPending: this.nmiPending, nmiBlocked: this.nmiBlocked,
    };
  }

  restoreState(s: CpuState): void {
    if (!s || s.version !== 1) throw new Error('unsupported CPU snapshot version');
    this.regs.set(s.regs); this.eip = s.eip >>> 0;
    this.lazy = 0; this.flags = (s.eflags | 2) & 0x3f7fd7;
    this.sreg.set(s.sreg); this.segBase.set(s.segBase); this.segLimit.set(s.segLimit); this.segAttr.set(s.segAttr);
    [this.cr0, this.cr2, this.cr3, this.cr4] = s.cr;
    this.dr.set(s.dr);
    [this.gdtBase, this.gdtLimit] = s.gdt; [this.idtBase, this.idtLimit] = s.idt;
    [this.ldtSel, this.ldtBase, this.ldtLimit, this.ldtAttr] = s.ldt;
    [this.trSel, this.trBase, this.trLimit, this.trAttr] = s.tr;
    this.cpl = s.cpl; this.tsc = s.tsc; this.instructions = s.instructions;
    this.msrs.clear();
    for (const [k, v] of s.msrs) this.msrs.set(k, BigInt(v));
    const f = this.fpu;
    f.regs.set(s.fpu.regs); f.tags.set(s.fpu.tags); f.control = s.fpu.control; f.status = s.fpu.status; f.top = s.fpu.top;
    [f.fip, f.fcs, f.fop, f.fdp, f.fds] = s.fpu.ptrs;
    this.halted = s.halted; this.shutdown = s.shutdown; this.shutdownReason = s.shutdownReason;
    this.inhibitIrq = s.inhibitIrq; this.nmiPending = s.nmiPending; this.nmiBlocked = s.nmiBlocked;
    this.blocks.flush(); // derived state
    this.pagingOn = !this.pagingOn; // force modeChanged() to see a change and flush the TLB
    this.modeChanged();
    this.flushTlb(true);
    for (let i = 0; i < 6; i++) this.updateSegCheck(i);
    this.attention = true;
  }

  // =====================================================================================
  // Control registers
  // =====================================================================================

  writeCr0(v: number): void {
    v |= 0x10; // ET is hardwired on the P6
    if ((v & CR0_PG) && !(v & CR0_PE)) this.raiseGP(0);
    const changed = this.cr0 ^ v;
    this.cr0 = v | 0;
    if (changed & (CR0_PG | CR0_WP | CR0_PE)) this.flushTlb(true);
    this.modeChanged();
    for (let s = 0; s < 6; s++) this.updateSegCheck(s);
  }

  writeCr3(v: number): void {
    this.cr3 = v | 0;
    this.flushTlb(false);
  }

  writeCr4(v: number): void {
    if (v & ~0x1ff & ~0x600) this.raiseGP(0);
    if (v & 0x20) this.raiseGP(0); // PAE is not offered
    const changed = this.cr4 ^ v;
    this.cr4 = v;
    if (changed & (CR4_PSE | CR4_PGE | 0x20)) this.flushTlb(true);
  }

  /** Current IOPL check for IN/OUT/INS/OUTS: consult the TSS I/O bitmap when CPL > IOPL or VM86. */
  checkIo(port: number, size: number): void {
    if (!this.protectedMode) return;
    const iopl = (this.flags & IOPL) >> 12;
    if (!(this.flags & VM) && this.cpl <= iopl) return;
    if ((this.trAttr & 0xf) !== 0x09 && (this.trAttr & 0xf) !== 0x0b) this.raiseGP(0);
    if (this.trLimit < 0x67) this.raiseGP(0);
    const mapBase = this.sysRd16(this.trBase + 0x66);
    const byte = mapBase + (port >> 3);
    if (byte + 1 > this.trLimit) this.raiseGP(0);
    const bits = this.sysRd16(this.trBase + byte);
    const mask = ((1 << size) - 1) << (port & 7);
    if (bits & mask) this.raiseGP(0);
  }
}
