// Translates a run of guest instructions (one basic block, within one 4 KiB physical page) into a
// JavaScript function, so hot code skips fetch, decode and dispatch. Only common integer forms
// are translated; the block ends before the first instruction that is not (the interpreter runs
// it), and after the first control transfer.
//
// The generated code keeps the interpreter's contracts, which is what makes it safe to mix:
// - Each instruction computes everything that can fault before it writes architectural state,
//   through the same Cpu helpers the interpreter uses (linR/linW, rd/wr, push/pop, alu, shiftOp),
//   so a fault leaves the state of an instruction boundary.
// - `c.instrStart` is set to the EIP of each instruction that can fault before it runs: the run
//   loop rewinds EIP to it on a fault and counts the instructions retired before it (see
//   `CompiledBlock.eips`).
// - After any memory access the block returns if `c.attention` went up (an MMIO write raised an
//   interrupt, a store hit a translated code page, a stop was requested), so interrupts and stops
//   still happen at the same instruction boundary as in the interpreter.
// - A block that jumps back to its own start loops inside the function while the instruction
//   budget (`budget`) allows: the instruction count stays exact.

import { AF, ARITH, CF, CS, OF, PF, SF, ZF } from './constants';
import type { Cpu } from './cpu';
import { imul32, mulAcc32, readTsc, shiftOp } from './execute';

/** Runs the block; returns the number of instructions retired (exits with `c.eip` set). */
export type BlockFn = (c: Cpu, budget: number) => number;

export interface CompiledBlock {
  fn: BlockFn;
  /** EIP of each instruction, in order (index = instructions retired before it in one pass). */
  eips: number[];
  /** Instructions in one pass through the block. */
  count: number;
  /** Physical bytes covered: [phys, end). */
  end: number;
  /** The block branches back to its start and may run several passes per call. */
  loops: boolean;
}

/** Longest block, in instructions. */
const MAX_INSTRUCTIONS = 48;

/** Thrown inside the decoder: this instruction is not translated (or its bytes are not all available). */
const UNSUPPORTED = Object.freeze({ unsupported: true });

const LZ_ADD = 1, LZ_SUB = 2, LZ_LOGIC = 3;

// What the previous instruction of the block left in the lazy flags, when the code generator knows
// it exactly: conditions after it read the operands directly instead of going through getCF() etc.
const FK_UNKNOWN = 0, FK_SUB32 = 1, FK_LOGIC32 = 2, FK_ADD32 = 3, FK_INCDEC32 = 4;
/** Set by aluCode/incDec32 for the instruction being generated. */
let flagKind = FK_UNKNOWN;

/** Condition `cc` straight from the lazy operands, for the flag kinds where that is exact; else null. */
function knownCond(cc: number, kind: number): string | null {
  const cf = kind === FK_SUB32 ? '((c.lzA >>> 0) < (c.lzB >>> 0))' : kind === FK_ADD32 ? '((c.lzR >>> 0) < (c.lzA >>> 0))'
    : kind === FK_LOGIC32 ? 'false' : kind === FK_INCDEC32 ? '((c.flags & 1) !== 0)' : null;
  if (cf === null) return null;
  let e: string | null;
  switch (cc >> 1) {
    case 1: e = cf; break;
    case 2: e = '(c.lzR === 0)'; break;
    case 3: e = kind === FK_SUB32 ? '((c.lzA >>> 0) <= (c.lzB >>> 0))' : kind === FK_LOGIC32 ? '(c.lzR === 0)' : `(${cf} || c.lzR === 0)`; break;
    case 4: e = '(c.lzR < 0)'; break;
    case 6: e = kind === FK_SUB32 ? '(c.lzA < c.lzB)' : kind === FK_LOGIC32 ? '(c.lzR < 0)' : null; break;
    case 7: e = kind === FK_SUB32 ? '(c.lzA <= c.lzB)' : kind === FK_LOGIC32 ? '(c.lzR <= 0)' : null; break;
    default: e = null; // OF, PF: through the getters
  }
  if (e === null) return null;
  return cc & 1 ? `!${e}` : e;
}

/** Condition code `cc` (low nibble of Jcc/SETcc/CMOVcc) as a JS boolean expression. */
function condExpr(cc: number, kind = FK_UNKNOWN): string {
  const known = knownCond(cc, kind);
  if (known !== null) return known;
  let e: string;
  switch (cc >> 1) {
    case 0: e = 'c.getOF()'; break;
    case 1: e = '(c.getCF() !== 0)'; break;
    case 2: e = 'c.getZF()'; break;
    case 3: e = '(c.getCF() !== 0 || c.getZF())'; break;
    case 4: e = 'c.getSF()'; break;
    case 5: e = 'c.getPF()'; break;
    case 6: e = '(c.getSF() !== c.getOF())'; break;
    default: e = '(c.getZF() || c.getSF() !== c.getOF())'; break;
  }
  return cc & 1 ? `!${e}` : e;
}

function regGet(size: number, n: number): string {
  if (size === 4) return `r[${n}]`;
  if (size === 2) return `(r[${n}] & 0xffff)`;
  return n < 4 ? `(r[${n}] & 0xff)` : `((r[${n - 4}] >> 8) & 0xff)`;
}

function regSet(size: number, n: number, v: string): string {
  if (size === 4) return `r[${n}] = ${v};`;
  if (size === 2) return `r[${n}] = (r[${n}] & -65536) | ((${v}) & 0xffff);`;
  return n < 4 ? `r[${n}] = (r[${n}] & -256) | ((${v}) & 0xff);` : `r[${n - 4}] = (r[${n - 4}] & -65281) | (((${v}) & 0xff) << 8);`;
}

const MASK = ['', '0xff', '0xffff', '', '-1'];

/**
 * The eight classic ALU ops on `a` and `b` (already masked to `size`), leaving the result in `x`
 * and the lazy flags exactly as Cpu.alu leaves them.
 */
function aluCode(op: number, size: number, a: string, b: string): string {
  if (size !== 4) {
    // 8/16-bit: the same lazy state as Cpu.alu with mask m (unmasked sum/difference in lzR).
    const m = MASK[size];
    const lzm = (kind: number, cin: string): string =>
      `c.lzOp = ${kind}; c.lzA = a; c.lzB = b; c.lzR = r0; c.lzM = ${m}; c.lzC = ${cin}; c.lazy = ${ARITH}; const x = r0 & ${m};`;
    const pre8 = `const a = ${a}, b = ${b};`;
    switch (op) {
      case 0: return `${pre8} const r0 = a + b; ${lzm(LZ_ADD, '0')}`;
      case 2: return `${pre8} const cin = c.getCF(); const r0 = a + b + cin; ${lzm(LZ_ADD, 'cin')}`;
      case 3: return `${pre8} const cin = c.getCF(); const r0 = a - b - cin; ${lzm(LZ_SUB, 'cin')}`;
      case 5: case 7: return `${pre8} const r0 = a - b; ${lzm(LZ_SUB, '0')}`;
      default: {
        const sym = op === 1 ? '|' : op === 4 ? '&' : '^';
        return `${pre8} const x = (a ${sym} b) & ${m}; c.lzOp = ${LZ_LOGIC}; c.lzR = x; c.lzM = ${m}; c.lazy = ${ARITH};`;
      }
    }
  }
  flagKind = op === 0 ? FK_ADD32 : op === 5 || op === 7 ? FK_SUB32 : op === 1 || op === 4 || op === 6 ? FK_LOGIC32 : FK_UNKNOWN;
  const pre = `const a = ${a} | 0, b = ${b} | 0;`;
  const lz = (kind: number, x: string, cin: string): string =>
    `c.lzOp = ${kind}; c.lzA = a; c.lzB = b; c.lzR = ${x}; c.lzM = -1; c.lzC = ${cin}; c.lazy = ${ARITH};`;
  switch (op) {
    case 0: return `${pre} const x = (a + b) | 0; ${lz(LZ_ADD, 'x', '0')}`;
    case 2: return `${pre} const cin = c.getCF(); const x = (a + b + cin) | 0; ${lz(LZ_ADD, 'x', 'cin')}`;
    case 3: return `${pre} const cin = c.getCF(); const x = (a - b - cin) | 0; ${lz(LZ_SUB, 'x', 'cin')}`;
    case 5: case 7: return `${pre} const x = (a - b) | 0; ${lz(LZ_SUB, 'x', '0')}`;
    default: {
      const sym = op === 1 ? '|' : op === 4 ? '&' : '^';
      return `${pre} const x = a ${sym} b; c.lzOp = ${LZ_LOGIC}; c.lzR = x; c.lzM = -1; c.lazy = ${ARITH};`;
    }
  }
}

/** 32-bit INC/DEC of register n, as Cpu.inc/dec (CF made concrete, the rest lazy). */
function incDec32(inc: boolean, n: number): string {
  flagKind = FK_INCDEC32;
  return `{ if (c.lazy & ${CF}) c.materializeCF(); const a = r[${n}]; const x = (a ${inc ? '+' : '-'} 1) | 0; ` +
    `c.lzOp = ${inc ? LZ_ADD : LZ_SUB}; c.lzA = a; c.lzB = 1; c.lzR = x; c.lzM = -1; c.lzC = 0; c.lazy = ${ARITH & ~CF}; r[${n}] = x; }`;
}

/**
 * 32-bit shift/rotate by a constant count as shiftOp computes it (result in x), or null where
 * shiftOp is called (RCL/RCR, count 0). The flag updates are those of setResultFlags + setAF
 * (shifts) and setCFOF (rotates).
 */
function shift32(op: number, n: number): ((v: string) => string) | null {
  if (n === 0 || op === 2 || op === 3) return null;
  const shiftFlags = (cf: string, of: string, af: string): string =>
    `c.lzOp = ${LZ_LOGIC}; c.lzR = x; c.lzM = -1; c.lazy = ${PF | ZF | SF}; c.flags = (c.flags & ${~(CF | OF | AF)}) | ${cf} | (${of} ? ${OF} : 0) | ${af};`;
  const rotFlags = (cf: string, of: string): string =>
    `c.lazy &= ${~(CF | OF)}; c.flags = (c.flags & ${~(CF | OF)}) | ${cf} | (${of} ? ${OF} : 0);`;
  switch (op) {
    case 0: return (v) => `const s = ${v}; const x = (s << ${n}) | (s >>> ${32 - n}); const cf = x & 1; ${rotFlags('cf', '((x < 0) !== (cf !== 0))')}`;
    case 1: return (v) => `const s = ${v}; const x = (s >>> ${n}) | (s << ${32 - n}); ${rotFlags('(x >>> 31)', '((x < 0) !== ((x & 0x40000000) !== 0))')}`;
    case 5: return (v) => `const s = ${v}; const x = (s >>> ${n}) | 0; const cf = (s >>> ${n - 1}) & 1; ${shiftFlags('cf', n === 1 ? '(s < 0)' : 'false', String(AF))}`;
    case 7: return (v) => `const s = ${v} | 0; const x = s >> ${n}; const cf = (s >> ${n - 1}) & 1; ${shiftFlags('cf', 'false', String(AF))}`;
    default: return (v) => `const s = ${v}; const x = s << ${n}; const cf = (s >>> ${32 - n}) & 1; ${shiftFlags('cf', '((x < 0) !== (cf !== 0))', '(x & 0x10)')}`;
  }
}

interface Operand { reg: number; mod: number; rm: number; seg: number; off: string }

// Inlined RAM accesses (the TLB fast path of Cpu.rd*/wr*, aligned accesses only; the rest call them).
const RAM = ['', 'm8', 'm16', '', 'm32'];
const SHIFT = [0, 0, 1, 0, 2];
const ALIGNED = ['', '', ' && (l & 1) === 0', '', ' && (l & 3) === 0'];

/**
 * PUSH of `v` (an expression evaluated first): with a 32-bit stack the fast RAM path inline,
 * otherwise (and for a 16-bit stack) Cpu.push16/32, exactly as the interpreter does it.
 */
function pushCode(size: number, v: string): string {
  const stack: Operand = { reg: 0, mod: 0, rm: 0, seg: 2, off: 'sp' };
  return `{ const v = ${v}; if (c.ss32) { const sp = (r[4] - ${size}) | 0; const l = ${lin(stack, size, true)}; const e = tlb[l >>> 12]; ` +
    `if ((e & c.wMask) === c.wMask${ALIGNED[size]}) ${RAM[size]}[((e & -4096) | (l & 0xfff)) >> ${SHIFT[size]}] = v; else c.wr${size * 8}(l, v); r[4] = sp; } ` +
    `else c.push${size * 8}(v); }`;
}

/** POP into the new variable `v` (statements; ESP is updated before `v` is stored anywhere). */
function popCode(size: number): string {
  const stack: Operand = { reg: 0, mod: 0, rm: 0, seg: 2, off: 'sp' };
  return `let v; if (c.ss32) { const sp = r[4]; const l = ${lin(stack, size, false)}; const e = tlb[l >>> 12]; ` +
    `if ((e & c.rMask) === c.rMask${ALIGNED[size]}) v = ${RAM[size]}[((e & -4096) | (l & 0xfff)) >> ${SHIFT[size]}]; else v = c.rd${size * 8}(l); r[4] = sp + ${size}; } ` +
    `else v = c.pop${size * 8}();`;
}

/** Linear address of memory operand `o` (what Cpu.linR/linW compute, with their checks when the segment needs them). */
function lin(o: Operand, size: number, write: boolean): string {
  return `((c.segCheck[${o.seg}] & ${write ? 2 : 1}) ? c.lin${write ? 'W' : 'R'}(${o.seg}, ${o.off}, ${size}) : (c.segBase[${o.seg}] + ${o.off}) | 0)`;
}

/**
 * Translate the block starting at physical address `phys` (RAM index), guest EIP `eip`. Bytes
 * are available up to physical address `limit` (exclusive: the page end or the CS limit).
 * Returns null when not even the first instruction can be translated.
 */
export function compileBlock(ram: Uint8Array, phys: number, eip: number, limit: number, code32: boolean): CompiledBlock | null {
  let q = phys; // decode cursor (physical)
  const u8 = (): number => { if (q >= limit) throw UNSUPPORTED; return ram[q++]; };
  const s8 = (): number => (u8() << 24) >> 24;
  const u16 = (): number => u8() | (u8() << 8);
  const s32 = (): number => u8() | (u8() << 8) | (u8() << 16) | (u8() << 24);

  const body: string[] = [];
  const eips: number[] = [];
  let cur = eip;
  let loops = false;
  let ended = false;

  let prevKind = FK_UNKNOWN;
  for (let i = 0; i < MAX_INSTRUCTIONS && !ended; i++) {
    const start = q;
    flagKind = FK_UNKNOWN;
    // Per instruction decode state.
    let o32 = code32, a32 = code32, segOvr = -1;
    const modrm = (): Operand => {
      const m = u8();
      const mod = m >> 6, rm = m & 7, reg = (m >> 3) & 7;
      if (mod === 3) return { reg, mod, rm, seg: -1, off: '' };
      let seg = 3; // DS
      let off: string;
      if (!a32) {
        let base: string;
        switch (rm) {
          case 0: base = 'r[3] + r[6]'; break;
          case 1: base = 'r[3] + r[7]'; break;
          case 2: base = 'r[5] + r[6]'; seg = 2; break;
          case 3: base = 'r[5] + r[7]'; seg = 2; break;
          case 4: base = 'r[6]'; break;
          case 5: base = 'r[7]'; break;
          case 6: if (mod === 0) base = String(u16()); else { base = 'r[5]'; seg = 2; } break;
          default: base = 'r[3]'; break;
        }
        const disp = mod === 1 ? s8() : mod === 2 ? u16() : 0;
        off = `((${base} + ${disp}) & 0xffff)`;
      } else {
        const parts: string[] = [];
        if (rm === 4) {
          const sib = u8();
          const base = sib & 7, idx = (sib >> 3) & 7, scale = sib >> 6;
          if (idx !== 4) parts.push(scale ? `(r[${idx}] << ${scale})` : `r[${idx}]`);
          if (base === 5 && mod === 0) parts.push(String(s32()));
          else { parts.push(`r[${base}]`); if (base === 4 || base === 5) seg = 2; }
        } else if (rm === 5 && mod === 0) {
          parts.push(String(s32()));
        } else {
          parts.push(`r[${rm}]`);
          if (rm === 5) seg = 2;
        }
        if (mod === 1) parts.push(String(s8())); else if (mod === 2) parts.push(String(s32()));
        off = `((${parts.join(' + ')}) | 0)`;
      }
      return { reg, mod, rm, seg: segOvr >= 0 ? segOvr : seg, off };
    };

    let code: string;
    let pre = ''; // statements that run before `code` (memory reads)
    let temps = 0;
    let memory = false; // touches memory: check attention afterwards
    let branch = false; // writes c.eip itself and ends the block
    try {
      let op = u8();
      for (let n = 0; ; n++) {
        if (n >= 14) throw UNSUPPORTED; // the interpreter raises #GP for 15+ bytes of prefixes
        if (op === 0x26 || op === 0x2e || op === 0x36 || op === 0x3e) segOvr = (op >> 3) & 3;
        else if (op === 0x64 || op === 0x65) segOvr = op - 0x60;
        else if (op === 0x66) o32 = !code32;
        else if (op === 0x67) a32 = !code32;
        else if (op === 0xf0) throw UNSUPPORTED; // LOCK: #UD checks are the interpreter's
        else if (op === 0xf3 && ram[q] === 0x90 && q < limit) { /* PAUSE (REP NOP) */ } else break;
        op = u8();
      }
      const osz = o32 ? 4 : 2;
      const next = (): number => cur + (q - start);
      /** Memory operand read: statements in `pre` (they run first) leave the value in a temporary. */
      const readE = (size: number, o: Operand): string => {
        if (o.mod === 3) return regGet(size, o.rm);
        memory = true;
        const v = `m${temps++}`;
        pre += `let ${v}; { const l = ${lin(o, size, false)}; const e = tlb[l >>> 12]; ` +
          `if ((e & c.rMask) === c.rMask${ALIGNED[size]}) ${v} = ${RAM[size]}[((e & -4096) | (l & 0xfff)) >> ${SHIFT[size]}]; else ${v} = c.rd${size * 8}(l); } `;
        return v;
      };
      const writeE = (size: number, o: Operand, v: string): string => {
        if (o.mod === 3) return regSet(size, o.rm, v);
        memory = true;
        return `{ const l = ${lin(o, size, true)}; const e = tlb[l >>> 12]; const v = ${v}; ` +
          `if ((e & c.wMask) === c.wMask${ALIGNED[size]}) ${RAM[size]}[((e & -4096) | (l & 0xfff)) >> ${SHIFT[size]}] = v; else c.wr${size * 8}(l, v); }`;
      };
      /**
       * Read-modify-write of operand `o` through `f(value)` (code that leaves the result in x).
       * Write rights imply read rights in the TLB, so one check covers both fast accesses.
       */
      const rmw = (size: number, o: Operand, f: (v: string) => string): string => {
        if (o.mod === 3) return `{ ${f(regGet(size, o.rm))} ${regSet(size, o.rm, 'x')} }`;
        memory = true;
        return `{ const l = ${lin(o, size, true)}; const e = tlb[l >>> 12]; const fast = (e & c.wMask) === c.wMask${ALIGNED[size]}; if (!fast) c.probeRmw(l, ${size}); ` +
          `const p = ((e & -4096) | (l & 0xfff)) >> ${SHIFT[size]}; ${f(`(fast ? ${RAM[size]}[p] : c.rd${size * 8}(l))`)} ` +
          `if (fast) ${RAM[size]}[p] = x; else c.wr${size * 8}(l, x); }`;
      };
      const jump = (target: number, size: number): string => {
        const t = size === 4 ? target >>> 0 : target & 0xffff;
        return `if (${t} > c.segLimit[${CS}]) c.raiseGP(0); c.eip = ${t};`;
      };
      const imm = (size: number): number => size === 1 ? u8() : size === 2 ? u16() : s32();

      if (op < 0x40 && (op & 7) < 6) { // ALU: Eb,Gb / Ev,Gv / Gb,Eb / Gv,Ev / AL,Ib / eAX,Iv
        const aop = op >> 3;
        const size = op & 1 ? osz : 1;
        switch (op & 7) {
          case 0: case 1: {
            const o = modrm();
            const src = regGet(size, o.reg);
            if (aop === 7) code = `{ ${aluCode(7, size, readE(size, o), src)} }`;
            else code = rmw(size, o, (v) => aluCode(aop, size, v, src));
            break;
          }
          case 2: case 3: {
            const o = modrm();
            const e = readE(size, o);
            code = `{ ${aluCode(aop, size, regGet(size, o.reg), e)} ${aop !== 7 ? regSet(size, o.reg, 'x') : ''} }`;
            break;
          }
          default: {
            const v = imm(size);
            code = `{ ${aluCode(aop, size, regGet(size, 0), String(v))} ${aop !== 7 ? regSet(size, 0, 'x') : ''} }`;
          }
        }
      } else if (op >= 0x40 && op <= 0x4f) { // INC/DEC r
        const n = op & 7, fn = op < 0x48 ? 'inc' : 'dec';
        code = osz === 4 ? incDec32(op < 0x48, n) : regSet(osz, n, `c.${fn}(${regGet(osz, n)}, ${MASK[osz]})`);
      } else if (op >= 0x50 && op <= 0x57) {
        memory = true;
        code = pushCode(osz, `r[${op & 7}]`);
      } else if (op >= 0x58 && op <= 0x5f) {
        memory = true;
        code = `{ ${popCode(osz)} ${regSet(osz, op & 7, 'v')} }`;
      } else if (op === 0x68 || op === 0x6a) {
        memory = true;
        const v = op === 0x6a ? s8() : imm(osz);
        code = pushCode(osz, String(osz === 4 ? v | 0 : v & 0xffff));
      } else if (op >= 0x70 && op <= 0x7f) {
        const d = s8();
        const target = next() + d;
        code = `if (${condExpr(op & 0xf, prevKind)}) { ${jump(target, osz)} } else c.eip = ${next()};`;
        branch = true;
        if ((o32 ? target >>> 0 : target & 0xffff) === eip) loops = true;
      } else if (op >= 0x80 && op <= 0x83 && op !== 0x82) { // group 1
        const size = op === 0x80 ? 1 : osz;
        const o = modrm();
        const aop = o.reg;
        const v = op === 0x81 ? imm(osz) : op === 0x83 ? s8() & (osz === 4 ? -1 : 0xffff) : u8();
        if (aop === 7) code = `{ ${aluCode(7, size, readE(size, o), String(v))} }`;
        else code = rmw(size, o, (x) => aluCode(aop, size, x, String(v)));
      } else if (op === 0x84 || op === 0x85) {
        const size = op === 0x84 ? 1 : osz;
        const o = modrm();
        code = `{ ${aluCode(4, size, readE(size, o), regGet(size, o.reg))} }`;
      } else if (op === 0xa8 || op === 0xa9) {
        const size = op === 0xa8 ? 1 : osz;
        code = `{ ${aluCode(4, size, regGet(size, 0), String(imm(size)))} }`;
      } else if (op >= 0x88 && op <= 0x8b) { // MOV
        const size = op & 1 ? osz : 1;
        const o = modrm();
        code = op < 0x8a ? writeE(size, o, regGet(size, o.reg)) : regSet(size, o.reg, readE(size, o));
      } else if (op === 0x8d) { // LEA
        const o = modrm();
        if (o.mod === 3) throw UNSUPPORTED; // #UD: the interpreter raises it
        code = regSet(osz, o.reg, o.off);
      } else if (op === 0x90) {
        code = '';
      } else if ((op === 0x69 || op === 0x6b) && o32) { // IMUL r32, r/m32, imm
        const o = modrm();
        const e = readE(4, o);
        code = regSet(4, o.reg, `imul32(c, ${e}, ${op === 0x69 ? s32() : s8()})`);
      } else if (op >= 0x91 && op <= 0x97) { // XCHG eAX, r
        code = `{ const v = ${regGet(osz, 0)}; ${regSet(osz, 0, regGet(osz, op & 7))} ${regSet(osz, op & 7, 'v')} }`;
      } else if (op === 0xc9) { // LEAVE
        memory = true;
        code = `{ const bp = c.ss32 ? r[5] >>> 0 : r[5] & 0xffff; const v = c.rd${osz * 8}(c.linR(2, bp, ${osz})); ` +
          `if (c.ss32) r[4] = bp + ${osz}; else ${regSet(2, 4, `bp + ${osz}`)} ${regSet(osz, 5, 'v')} }`;
      } else if (op === 0xfc || op === 0xfd) { // CLD / STD
        code = op === 0xfc ? 'c.flags &= -1025;' : 'c.flags |= 1024;';
      } else if (op === 0xf5 || op === 0xf8 || op === 0xf9) { // CMC / CLC / STC
        code = `c.materializeCF(); ${op === 0xf5 ? 'c.flags ^= 1;' : op === 0xf8 ? 'c.flags &= -2;' : 'c.flags |= 1;'}`;
      } else if (op === 0x98) {
        code = o32 ? 'r[0] = (r[0] << 16) >> 16;' : regSet(2, 0, '(r[0] << 24) >> 24');
      } else if (op === 0x99) {
        code = o32 ? 'r[2] = r[0] >> 31;' : regSet(2, 2, '(r[0] << 16) >> 31');
      } else if (op >= 0xb0 && op <= 0xb7) {
        code = regSet(1, op & 7, String(u8()));
      } else if (op >= 0xb8 && op <= 0xbf) {
        code = regSet(osz, op & 7, String(imm(osz)));
      } else if (op === 0xc6 || op === 0xc7) {
        const size = op === 0xc6 ? 1 : osz;
        const o = modrm();
        if (o.reg !== 0) throw UNSUPPORTED;
        code = writeE(size, o, String(imm(size)));
      } else if (op === 0xc0 || op === 0xc1 || (op >= 0xd0 && op <= 0xd3)) { // group 2 shifts
        const size = op & 1 ? osz : 1;
        const o = modrm();
        const count = op <= 0xc1 ? String(u8()) : op <= 0xd1 ? '1' : '(r[1] & 0xff)';
        const inline = size === 4 && count !== '(r[1] & 0xff)' ? shift32(o.reg, Number(count) & 31) : null;
        code = rmw(size, o, (v) => inline ? inline(v) : `const x = shiftOp(c, ${o.reg}, ${v}, ${count}, ${size * 8});`);
      } else if (op === 0xc3) { // RET near
        memory = true;
        // The target is checked before ESP moves: pop into v, undo the ESP update on a bad target.
        code = `{ const esp = r[4]; ${popCode(osz)} const t = v${o32 ? ' >>> 0' : ''}; if (t > c.segLimit[${CS}]) { r[4] = esp; c.raiseGP(0); } c.eip = t; }`;
        branch = true;
      } else if (op === 0xe8) { // CALL rel
        memory = true;
        const d = o32 ? s32() : (u16() << 16) >> 16;
        const ret = next();
        const t = o32 ? (ret + d) >>> 0 : (ret + d) & 0xffff;
        code = `if (${t} > c.segLimit[${CS}]) c.raiseGP(0); ${pushCode(osz, String(ret))} c.eip = ${t};`;
        branch = true;
      } else if (op === 0xe9 || op === 0xeb) { // JMP rel
        const d = op === 0xeb ? s8() : o32 ? s32() : (u16() << 16) >> 16;
        const target = next() + d;
        code = jump(target, osz);
        branch = true;
        if ((o32 ? target >>> 0 : target & 0xffff) === eip) loops = true;
      } else if (op === 0xf6 || op === 0xf7) { // group 3: TEST / NOT / NEG only
        const size = op === 0xf6 ? 1 : osz;
        const o = modrm();
        if (o.reg === 0 || o.reg === 1) {
          const e = readE(size, o);
          code = `{ ${aluCode(4, size, e, String(imm(size)))} }`;
        } else if (o.reg === 2) {
          code = rmw(size, o, (v) => `const x = ~${v} & ${MASK[size]};`);
        } else if (o.reg === 3) {
          code = rmw(size, o, (v) => aluCode(5, size, '0', v));
        } else if ((o.reg === 4 || o.reg === 5) && size === 4) { // MUL / IMUL EDX:EAX, r/m32
          code = `mulAcc32(c, ${readE(4, o)}, ${o.reg === 5});`;
        } else throw UNSUPPORTED;
      } else if (op === 0xfe || op === 0xff) { // INC/DEC Ev; CALL/JMP near indirect, PUSH Ev
        const size = op === 0xfe ? 1 : osz;
        const o = modrm();
        if (o.reg <= 1) {
          code = rmw(size, o, (v) => `const x = c.${o.reg === 0 ? 'inc' : 'dec'}(${v}, ${MASK[size]});`);
        } else if (op === 0xff && (o.reg === 2 || o.reg === 4)) {
          const t = o32 ? `${readE(4, o)} >>> 0` : readE(2, o);
          const push = o.reg === 2 ? `${pushCode(osz, String(next()))} ` : '';
          code = `{ const t = ${t}; if (t > c.segLimit[${CS}]) c.raiseGP(0); ${push}c.eip = t; }`;
          if (o.reg === 2) memory = true;
          branch = true;
        } else if (op === 0xff && o.reg === 6) {
          code = pushCode(osz, readE(osz, o));
          memory = true;
        } else throw UNSUPPORTED;
      } else if (op === 0x0f) {
        const op2 = u8();
        if (op2 >= 0x80 && op2 <= 0x8f) { // Jcc rel16/32
          const d = o32 ? s32() : (u16() << 16) >> 16;
          const target = next() + d;
          code = `if (${condExpr(op2 & 0xf, prevKind)}) { ${jump(target, osz)} } else c.eip = ${next()};`;
          branch = true;
          if ((o32 ? target >>> 0 : target & 0xffff) === eip) loops = true;
        } else if (op2 === 0xb6 || op2 === 0xb7 || op2 === 0xbe || op2 === 0xbf) { // MOVZX/MOVSX
          const size = op2 & 1 ? 2 : 1;
          const o = modrm();
          const e = readE(size, o);
          const v = op2 < 0xbe ? e : size === 1 ? `((${e} << 24) >> 24)` : `((${e} << 16) >> 16)`;
          code = regSet(osz, o.reg, v);
        } else if (op2 === 0xaf && o32) { // IMUL r32, r/m32
          const o = modrm();
          const e = readE(4, o);
          code = regSet(4, o.reg, `imul32(c, ${regGet(4, o.reg)}, ${e})`);
        } else if (op2 === 0x31) { // RDTSC
          code = 'if ((c.cr4 & 4) && c.protectedMode && c.cpl !== 0) c.raiseGP(0); { const t = readTsc(c); r[0] = t % 0x100000000; r[2] = Math.floor(t / 0x100000000); }';
        } else if (op2 >= 0x90 && op2 <= 0x9f) { // SETcc
          const o = modrm();
          code = writeE(1, o, `(${condExpr(op2 & 0xf, prevKind)} ? 1 : 0)`);
        } else if (op2 >= 0x40 && op2 <= 0x4f) { // CMOVcc: the source is read even when false
          const o = modrm();
          code = `{ const v = ${readE(osz, o)}; if (${condExpr(op2 & 0xf, prevKind)}) { ${regSet(osz, o.reg, 'v')} } }`;
        } else throw UNSUPPORTED;
      } else {
        throw UNSUPPORTED;
      }
    } catch (e) {
      if (e !== UNSUPPORTED) throw e;
      q = start;
      break;
    }
    const n = eips.length;
    eips.push(cur);
    const nextEip = cur + (q - start);
    // Only an instruction that can fault needs its start recorded (the run loop rewinds to it and
    // counts the instructions before it); register-only forms cannot fault.
    const canFault = memory || branch || code.includes('raise');
    let text = `${canFault ? `c.instrStart = ${cur}; ` : ''}${pre}${code}`;
    if (memory) text += ` if (c.attention) { ${branch ? '' : `c.eip = ${nextEip}; `}return k + ${n + 1}; }`;
    body.push(pre ? `{ ${text} }` : text);
    prevKind = flagKind;
    cur = nextEip;
    ended = branch;
  }
  const count = eips.length;
  if (count === 0) return null;
  if (!ended) body.push(`c.eip = ${cur}; return k + ${count};`);
  let src: string;
  if (loops) {
    // The last instruction is a jump (maybe conditional) back to the start: loop while the budget lasts.
    src = `let k = 0; for (;;) { c.blockDone = k; ${body.join('\n')}\n k += ${count}; if (c.eip !== ${eip} || c.attention || k + ${count} > budget) return k; }`;
  } else {
    src = `const k = 0; ${body.join('\n')}${ended ? `\nreturn ${count};` : ''}`;
  }
  // Segment state and the TLB access masks cannot change inside a block (no translated
  // instruction loads a segment or changes CPL): read them once per call.
  src = src.replaceAll('c.segCheck[', 'sc[').replaceAll('c.segBase[', 'sb[').replaceAll('c.segLimit[', 'sl[')
    .replaceAll('c.rMask', 'rM').replaceAll('c.wMask', 'wM');
  const factory = new Function('shiftOp', 'readTsc', 'imul32', 'mulAcc32', `'use strict'; return function block(c, budget) { const r = c.regs, tlb = c.tlb, m8 = c.ram, m16 = c.ram16, m32 = c.ram32, sc = c.segCheck, sb = c.segBase, sl = c.segLimit, rM = c.rMask, wM = c.wMask; ${src} };`);
  return { fn: factory(shiftOp, readTsc, imul32, mulAcc32) as BlockFn, eips, count, end: q, loops };
}

