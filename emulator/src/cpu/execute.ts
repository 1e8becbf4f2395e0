// The integer instruction set (8086 through P6): prefix decoding, ModRM/SIB addressing and one
// big opcode switch. Each instruction commits architectural state only after its last possible
// fault, so a fault can simply rewind EIP (see Cpu.run).

import * as K from './constants';

// Local copies: module-level constants read once (tsx/CJS would otherwise go through getters).
const {
  AF, CF, CR0_PE, CR0_TS, CS, DF, DS, EAX, EBP, EBX, ECX, EDI, EDX, ES, ESI, ESP, EX_BP, EX_BR, EX_DB, EX_DE, EX_GP, EX_NM, EX_OF, EX_UD, FS, GS, IF, IOPL, NT, OF, PF, SF, SS, TF, VM, ZF, AC, ID, CR0_EM, ATTR_P, ATTR_S, ATTR_CODE, ATTR_DC, ATTR_RW,
} = K;
import { Cpu } from './cpu';
import { fpuExecute } from './fpu';

/** 1 for bytes that are instruction prefixes. */
const PREFIX = new Uint8Array(256);
for (const p of [0x26, 0x2e, 0x36, 0x3e, 0x64, 0x65, 0x66, 0x67, 0xf0, 0xf2, 0xf3]) PREFIX[p] = 1;

/** 32-bit operand mask; -1 (not 0xffffffff) keeps every value an int32. */
const M32 = -1;

// ---------------------------------------------------------------------------------------
// Register and operand helpers
// ---------------------------------------------------------------------------------------

function getR8(c: Cpu, r: number): number {
  return r < 4 ? c.regs[r] & 0xff : (c.regs[r - 4] >> 8) & 0xff;
}

function setR8(c: Cpu, r: number, v: number): void {
  if (r < 4) c.regs[r] = (c.regs[r] & ~0xff) | (v & 0xff);
  else c.regs[r - 4] = (c.regs[r - 4] & ~0xff00) | ((v & 0xff) << 8);
}

function getR16(c: Cpu, r: number): number { return c.regs[r] & 0xffff; }
function setR16(c: Cpu, r: number, v: number): void { c.regs[r] = (c.regs[r] & ~0xffff) | (v & 0xffff); }

function getRV(c: Cpu, r: number): number { return c.o32 ? c.regs[r] : c.regs[r] & 0xffff; }
function setRV(c: Cpu, r: number, v: number): void {
  if (c.o32) c.regs[r] = v; else c.regs[r] = (c.regs[r] & ~0xffff) | (v & 0xffff);
}

/** Decode a ModRM byte (+SIB/displacement) into c.modrm and, for memory forms, c.eaSeg:c.eaOff. */
function decodeModrm(c: Cpu): void {
  const m = c.fetch8();
  c.modrm = m;
  if (m >= 0xc0) return;
  const mod = m >> 6;
  const rm = m & 7;
  const regs = c.regs;
  let off: number;
  let seg = DS;
  if (!c.a32) {
    switch (rm) {
      case 0: off = regs[EBX] + regs[ESI]; break;
      case 1: off = regs[EBX] + regs[EDI]; break;
      case 2: off = regs[EBP] + regs[ESI]; seg = SS; break;
      case 3: off = regs[EBP] + regs[EDI]; seg = SS; break;
      case 4: off = regs[ESI]; break;
      case 5: off = regs[EDI]; break;
      case 6: if (mod === 0) off = c.fetch16(); else { off = regs[EBP]; seg = SS; } break;
      default: off = regs[EBX]; break;
    }
    if (mod === 1) off += (c.fetch8() << 24) >> 24;
    else if (mod === 2) off += c.fetch16();
    off &= 0xffff;
  } else {
    if (rm === 4) {
      const sib = c.fetch8();
      const base = sib & 7, idx = (sib >> 3) & 7;
      off = idx === 4 ? 0 : regs[idx] << (sib >> 6);
      if (base === 5 && mod === 0) off += c.fetch32();
      else { off += regs[base]; if (base === ESP || base === EBP) seg = SS; }
    } else if (rm === 5 && mod === 0) {
      off = c.fetch32();
    } else {
      off = regs[rm];
      if (rm === EBP) seg = SS;
    }
    if (mod === 1) off += (c.fetch8() << 24) >> 24;
    else if (mod === 2) off += c.fetch32();
    off |= 0; // int32 (offsets >= 2 GiB are negative here; linear = base + off wraps the same)
  }
  c.eaSeg = c.segOvr >= 0 ? c.segOvr : seg;
  c.eaOff = off;
}

function readE8(c: Cpu): number {
  return c.modrm >= 0xc0 ? getR8(c, c.modrm & 7) : c.rd8(c.linR(c.eaSeg, c.eaOff, 1));
}
function readE16(c: Cpu): number {
  return c.modrm >= 0xc0 ? c.regs[c.modrm & 7] & 0xffff : c.rd16(c.linR(c.eaSeg, c.eaOff, 2));
}
function readE32(c: Cpu): number {
  return c.modrm >= 0xc0 ? c.regs[c.modrm & 7] : c.rd32(c.linR(c.eaSeg, c.eaOff, 4));
}
function readEV(c: Cpu): number { return c.o32 ? readE32(c) : readE16(c); }

function writeE8(c: Cpu, v: number): void {
  if (c.modrm >= 0xc0) setR8(c, c.modrm & 7, v); else c.wr8(c.linW(c.eaSeg, c.eaOff, 1), v);
}
function writeE16(c: Cpu, v: number): void {
  if (c.modrm >= 0xc0) setR16(c, c.modrm & 7, v); else c.wr16(c.linW(c.eaSeg, c.eaOff, 2), v);
}
function writeE32(c: Cpu, v: number): void {
  if (c.modrm >= 0xc0) c.regs[c.modrm & 7] = v; else c.wr32(c.linW(c.eaSeg, c.eaOff, 4), v);
}
function writeEV(c: Cpu, v: number): void { if (c.o32) writeE32(c, v); else writeE16(c, v); }

/**
 * Linear address of the memory operand for a read-modify-write: segment-checked for writing and
 * both accesses probed, so a fault comes before any flag or register changes.
 */
function eaLinW(c: Cpu, size: number): number {
  const lin = c.linW(c.eaSeg, c.eaOff, size);
  c.probeRmw(lin, size);
  return lin;
}

function fetchImmV(c: Cpu): number { return c.o32 ? c.fetch32() : c.fetch16(); }
function fetchS8(c: Cpu): number { return (c.fetch8() << 24) >> 24; }

/** Near jump target check and commit. */
function jumpTo(c: Cpu, target: number): void {
  target = c.o32 ? target >>> 0 : target & 0xffff;
  if (target > c.segLimit[CS]) c.raiseGP(0);
  c.eip = target;
}

function requireProtected(c: Cpu): void {
  if (!c.protectedMode || (c.flags & VM)) c.raise(EX_UD);
}

function requireCpl0(c: Cpu): void {
  if (c.protectedMode && (c.cpl !== 0 || (c.flags & VM))) c.raiseGP(0);
}

// ---------------------------------------------------------------------------------------
// Shifts and rotates (group 2)
// ---------------------------------------------------------------------------------------

export function shiftOp(c: Cpu, op: number, v: number, count: number, bits: number): number {
  count &= 0x1f;
  if (count === 0) return v;
  const m = bits === 32 ? M32 : (1 << bits) - 1;
  // All values stay int32 (sign = 1 << 31 for 32 bits): a uint32 in a variable would be boxed.
  const sign = 1 << (bits - 1);
  let r: number, cf: number;
  switch (op) {
    case 0: { // ROL
      const n = count % bits;
      r = n === 0 ? v : ((v << n) | (v >>> (bits - n))) & m;
      cf = r & 1;
      c.setCFOF(cf, ((r & sign) !== 0) !== (cf !== 0));
      return r | 0; // int32: returning a uint32 double would allocate
    }
    case 1: { // ROR
      const n = count % bits;
      r = n === 0 ? v : ((v >>> n) | (v << (bits - n))) & m;
      cf = (r & sign) ? 1 : 0;
      c.setCFOF(cf, ((r & sign) !== 0) !== ((r & (sign >>> 1)) !== 0));
      return r | 0; // int32: returning a uint32 double would allocate
    }
    case 2: { // RCL
      const n = bits === 32 ? count : count % (bits + 1);
      let cfv = c.getCF();
      r = v;
      for (let i = 0; i < n; i++) {
        const out = (r & sign) ? 1 : 0;
        r = ((r << 1) | cfv) & m;
          cfv = out;
      }
      c.setCFOF(cfv, ((r & sign) !== 0) !== (cfv !== 0));
      return r | 0; // int32: returning a uint32 double would allocate
    }
    case 3: { // RCR
      const n = bits === 32 ? count : count % (bits + 1);
      let cfv = c.getCF();
      r = v;
      for (let i = 0; i < n; i++) {
        const out = r & 1;
        r = ((r >>> 1) | (cfv ? sign : 0)) & m;
          cfv = out;
      }
      c.setCFOF(cfv, ((r & sign) !== 0) !== ((r & (sign >>> 1)) !== 0));
      return r | 0; // int32: returning a uint32 double would allocate
    }
    case 4: case 6: { // SHL/SAL
      r = count >= 32 ? 0 : (v << count) & m;
      cf = count > bits ? 0 : ((v << (count - 1)) & sign) ? 1 : 0;
      c.setResultFlags(r, m, cf, ((r & sign) !== 0) !== (cf !== 0));
      c.setAF((r & 0x10) !== 0);
      return r | 0; // int32: returning a uint32 double would allocate
    }
    case 5: { // SHR
      r = v >>> count;
      cf = (v >>> (count - 1)) & 1;
      c.setResultFlags(r, m, cf, (v & sign) !== 0 && count === 1);
      c.setAF(true);
      return r | 0; // int32: returning a uint32 double would allocate
    }
    default: { // SAR
      const sv = bits === 32 ? v | 0 : (v << (32 - bits)) >> (32 - bits);
      r = (sv >> Math.min(count, 31)) & m;
      cf = (sv >> Math.min(count - 1, 31)) & 1;
      c.setResultFlags(r, m, cf, false);
      c.setAF(true);
      return r | 0; // int32: returning a uint32 double would allocate
    }
  }
}

function group2(c: Cpu, bits: number, countSrc: number): void {
  // countSrc: 0 = 1, 1 = CL, 2 = imm8 (fetched after the ModRM operand)
  decodeModrm(c);
  const op = (c.modrm >> 3) & 7;
  if (c.modrm >= 0xc0) {
    const count = countSrc === 0 ? 1 : countSrc === 1 ? c.regs[ECX] & 0xff : c.fetch8();
    const rm = c.modrm & 7;
    if (bits === 8) setR8(c, rm, shiftOp(c, op, getR8(c, rm), count, 8));
    else if (bits === 16) setR16(c, rm, shiftOp(c, op, getR16(c, rm), count, 16));
    else c.regs[rm] = shiftOp(c, op, c.regs[rm], count, 32);
    return;
  }
  const count = countSrc === 0 ? 1 : countSrc === 1 ? c.regs[ECX] & 0xff : c.fetch8();
  const size = bits >> 3;
  const lin = eaLinW(c, size);
  if (bits === 8) c.wr8(lin, shiftOp(c, op, c.rd8(lin), count, 8));
  else if (bits === 16) c.wr16(lin, shiftOp(c, op, c.rd16(lin), count, 16));
  else c.wr32(lin, shiftOp(c, op, c.rd32(lin), count, 32));
}

// ---------------------------------------------------------------------------------------
// Group 3 (TEST/NOT/NEG/MUL/IMUL/DIV/IDIV)
// ---------------------------------------------------------------------------------------

function group3(c: Cpu, bits: number): void {
  decodeModrm(c);
  const op = (c.modrm >> 3) & 7;
  const m = bits === 8 ? 0xff : bits === 16 ? 0xffff : M32;
  const size = bits >> 3;
  const regs = c.regs;
  switch (op) {
    case 0: case 1: { // TEST E, imm
      const v = bits === 8 ? readE8(c) : bits === 16 ? readE16(c) : readE32(c);
      const imm = bits === 8 ? c.fetch8() : bits === 16 ? c.fetch16() : c.fetch32();
      c.alu(4, v, imm, m);
      return;
    }
    case 2: case 3: { // NOT / NEG
      let lin = 0, v: number;
      if (c.modrm < 0xc0) { lin = eaLinW(c, size); v = bits === 8 ? c.rd8(lin) : bits === 16 ? c.rd16(lin) : c.rd32(lin); } else v = bits === 8 ? getR8(c, c.modrm & 7) : bits === 16 ? getR16(c, c.modrm & 7) : regs[c.modrm & 7];
      const r = op === 2 ? ~v & m : c.alu(5, 0, v, m);
      if (c.modrm < 0xc0) { if (bits === 8) c.wr8(lin, r); else if (bits === 16) c.wr16(lin, r); else c.wr32(lin, r); } else if (bits === 8) setR8(c, c.modrm & 7, r); else if (bits === 16) setR16(c, c.modrm & 7, r); else regs[c.modrm & 7] = r;
      return;
    }
    case 4: { // MUL
      if (bits === 8) {
        const r = (regs[EAX] & 0xff) * readE8(c);
        setR16(c, EAX, r);
        mulFlags(c, r >>> 8, 0xff, r > 0xff);
      } else if (bits === 16) {
        const r = (regs[EAX] & 0xffff) * readE16(c);
        setR16(c, EAX, r); setR16(c, EDX, r >>> 16);
        mulFlags(c, r >>> 16, 0xffff, r > 0xffff);
      } else mulAcc32(c, readE32(c), false);
      return;
    }
    case 5: { // IMUL (one operand)
      if (bits === 8) {
        const r = ((regs[EAX] << 24) >> 24) * ((readE8(c) << 24) >> 24);
        setR16(c, EAX, r);
        const ovf = r !== ((r << 24) >> 24);
        mulFlags(c, (r >> 8) & 0xff, 0xff, ovf);
      } else if (bits === 16) {
        const r = ((regs[EAX] << 16) >> 16) * ((readE16(c) << 16) >> 16);
        setR16(c, EAX, r); setR16(c, EDX, r >> 16);
        const ovf = r !== ((r << 16) >> 16);
        mulFlags(c, (r >> 16) & 0xffff, 0xffff, ovf);
      } else mulAcc32(c, readE32(c), true);
      return;
    }
    case 6: { // DIV
      if (bits === 8) {
        const d = readE8(c);
        if (d === 0) c.raise(EX_DE);
        const n = regs[EAX] & 0xffff;
        const q = Math.floor(n / d);
        if (q > 0xff) c.raise(EX_DE);
        setR16(c, EAX, ((n % d) << 8) | q);
      } else if (bits === 16) {
        const d = readE16(c);
        if (d === 0) c.raise(EX_DE);
        const n = (((regs[EDX] & 0xffff) << 16) | (regs[EAX] & 0xffff)) >>> 0;
        const q = Math.floor(n / d);
        if (q > 0xffff) c.raise(EX_DE);
        setR16(c, EAX, q); setR16(c, EDX, n % d);
      } else {
        const d = readE32(c) >>> 0;
        if (d === 0) c.raise(EX_DE);
        const hi = regs[EDX] >>> 0, lo = regs[EAX] >>> 0;
        if (hi === 0) {
          regs[EAX] = Math.floor(lo / d); regs[EDX] = lo % d;
        } else {
          if (hi >= d) c.raise(EX_DE);
          const n = (BigInt(hi) << 32n) | BigInt(lo);
          const bd = BigInt(d);
          regs[EAX] = Number(n / bd); regs[EDX] = Number(n % bd);
        }
      }
      divFlags(c);
      return;
    }
    default: { // IDIV
      if (bits === 8) {
        const d = (readE8(c) << 24) >> 24;
        if (d === 0) c.raise(EX_DE);
        const n = (regs[EAX] << 16) >> 16;
        const q = Math.trunc(n / d);
        if (q > 127 || q < -128) c.raise(EX_DE);
        setR16(c, EAX, (((n % d) & 0xff) << 8) | (q & 0xff));
      } else if (bits === 16) {
        const d = (readE16(c) << 16) >> 16;
        if (d === 0) c.raise(EX_DE);
        const n = ((regs[EDX] & 0xffff) << 16) | (regs[EAX] & 0xffff);
        const q = Math.trunc(n / d);
        if (q > 32767 || q < -32768) c.raise(EX_DE);
        setR16(c, EAX, q); setR16(c, EDX, n % d);
      } else {
        const d = readE32(c);
        if (d === 0) c.raise(EX_DE);
        const n = (BigInt(regs[EDX]) << 32n) | BigInt(regs[EAX] >>> 0);
        const bd = BigInt(d);
        const q = n / bd;
        if (q > 0x7fffffffn || q < -0x80000000n) c.raise(EX_DE);
        regs[EAX] = Number(q); regs[EDX] = Number(n % bd);
      }
      divFlags(c);
      return;
    }
  }
}

/**
 * MUL/IMUL: CF=OF=significant high half. SF/ZF/PF/AF are undefined on the P6; we produce what
 * the 286 measurably does (SF/ZF/PF from the high half, AF set) so every value is a real CPU's.
 */
/** The high half (int32) of mul32's last product: a module variable, so nothing is allocated. */
let mulHi = 0;
export function mulHigh(): number { return mulHi; }

/**
 * The exact 64-bit product of two 32-bit values (unsigned, or two's complement when `signed`),
 * from 16-bit partial products that doubles hold exactly: no BigInt per MUL/IMUL.
 */
export function mul32(a: number, b: number, signed: boolean): number {
  const al = a & 0xffff, ah = (a >>> 16) & 0xffff, bl = b & 0xffff, bh = (b >>> 16) & 0xffff;
  const ll = al * bl, lh = al * bh, hl = ah * bl;
  const mid = (ll >>> 16) + (lh & 0xffff) + (hl & 0xffff);
  const lo = ((mid << 16) | (ll & 0xffff)) | 0;
  let hi = (ah * bh + (lh >>> 16) + (hl >>> 16) + (mid >>> 16)) | 0;
  // Signed: subtract the other operand * 2^32 for each negative one (mod 2^64).
  if (signed) { if (a < 0 || a > 0x7fffffff) hi = (hi - b) | 0; if (b < 0 || b > 0x7fffffff) hi = (hi - a) | 0; }
  mulHi = hi;
  return lo;
}

function mulFlags(c: Cpu, high: number, m: number, ovf: boolean): void {
  c.setResultFlags(high & m, m, ovf ? 1 : 0, ovf);
  c.setAF(true);
}

/** DIV/IDIV leave the status flags undefined; the P6 leaves them unchanged. */
function divFlags(_c: Cpu): void { /* flags unchanged */ }

/** 32-bit IMUL r, r/m[, imm]: the low half of the signed product, flags set. */
export function imul32(c: Cpu, a: number, b: number): number {
  const lo = mul32(a, b, true), hi = mulHi;
  mulFlags(c, hi, M32, hi !== (lo >> 31));
  return lo;
}

/** 32-bit MUL/IMUL r/m (one operand): EDX:EAX = EAX * v, flags set (translated blocks call this). */
export function mulAcc32(c: Cpu, v: number, signed: boolean): void {
  const regs = c.regs;
  const lo = mul32(regs[EAX], v, signed), hi = mulHi;
  regs[EAX] = lo; regs[EDX] = hi;
  mulFlags(c, hi, M32, signed ? hi !== (lo >> 31) : hi !== 0);
}

/** IMUL r, r/m, imm and IMUL r, r/m (two/three operand forms). */
function imulV(c: Cpu, a: number, b: number): number {
  if (c.o32) return imul32(c, a, b);
  const r = ((a << 16) >> 16) * ((b << 16) >> 16);
  const ovf = r !== ((r << 16) >> 16);
  mulFlags(c, (r >> 16) & 0xffff, 0xffff, ovf);
  return r & 0xffff;
}

// ---------------------------------------------------------------------------------------
// String instructions
// ---------------------------------------------------------------------------------------

function strAdvance(c: Cpu, reg: number, delta: number): void {
  if (c.a32) c.regs[reg] = c.regs[reg] + delta;
  else c.regs[reg] = (c.regs[reg] & ~0xffff) | ((c.regs[reg] + delta) & 0xffff);
}

function stringOp(c: Cpu, op: number, size: number): void {
  const a32 = c.a32;
  const srcSeg = c.segOvr >= 0 ? c.segOvr : DS;
  const delta = (c.flags & DF) ? -size : size;
  const rep = c.rep;
  const regs = c.regs;
  let count = 1;
  if (rep) {
    count = a32 ? regs[ECX] >>> 0 : regs[ECX] & 0xffff;
    if (count === 0) return;
  }
  if (rep && count > 1 && (op === 0 || op === 2) && a32) {
    count = repFast(c, op, size, srcSeg, delta, count);
    if (count === 0) return;
  }
  const m = size === 1 ? 0xff : size === 2 ? 0xffff : M32;
  for (;;) {
    const si = a32 ? regs[ESI] : regs[ESI] & 0xffff; // int32: see decodeModrm
    const di = a32 ? regs[EDI] : regs[EDI] & 0xffff;
    let stopCond = false;
    switch (op) {
      case 0: { // MOVS
        const v = size === 1 ? c.rd8(c.linR(srcSeg, si, 1)) : size === 2 ? c.rd16(c.linR(srcSeg, si, 2)) : c.rd32(c.linR(srcSeg, si, 4));
        const lin = c.linW(ES, di, size);
        if (size === 1) c.wr8(lin, v); else if (size === 2) c.wr16(lin, v); else c.wr32(lin, v);
        strAdvance(c, ESI, delta); strAdvance(c, EDI, delta);
        break;
      }
      case 1: { // CMPS
        const a = size === 1 ? c.rd8(c.linR(srcSeg, si, 1)) : size === 2 ? c.rd16(c.linR(srcSeg, si, 2)) : c.rd32(c.linR(srcSeg, si, 4));
        const b = size === 1 ? c.rd8(c.linR(ES, di, 1)) : size === 2 ? c.rd16(c.linR(ES, di, 2)) : c.rd32(c.linR(ES, di, 4));
        c.alu(7, a, b, m);
        strAdvance(c, ESI, delta); strAdvance(c, EDI, delta);
        stopCond = true;
        break;
      }
      case 2: { // STOS
        const lin = c.linW(ES, di, size);
        if (size === 1) c.wr8(lin, regs[EAX]); else if (size === 2) c.wr16(lin, regs[EAX]); else c.wr32(lin, regs[EAX]);
        strAdvance(c, EDI, delta);
        break;
      }
      case 3: { // LODS
        const v = size === 1 ? c.rd8(c.linR(srcSeg, si, 1)) : size === 2 ? c.rd16(c.linR(srcSeg, si, 2)) : c.rd32(c.linR(srcSeg, si, 4));
        if (size === 1) setR8(c, EAX, v); else if (size === 2) setR16(c, EAX, v); else regs[EAX] = v;
        strAdvance(c, ESI, delta);
        break;
      }
      case 4: { // SCAS
        const b = size === 1 ? c.rd8(c.linR(ES, di, 1)) : size === 2 ? c.rd16(c.linR(ES, di, 2)) : c.rd32(c.linR(ES, di, 4));
        c.alu(7, regs[EAX] & m, b, m);
        strAdvance(c, EDI, delta);
        stopCond = true;
        break;
      }
      case 5: { // INS
        const port = regs[EDX] & 0xffff;
        if (count === (a32 ? regs[ECX] >>> 0 : regs[ECX] & 0xffff) || !rep) c.checkIo(port, size);
        const lin = c.linW(ES, di, size);
        // Probe the destination before the port read so a fault does not lose input.
        if (size === 1) c.wr8(lin, c.rd8(lin)); else if (size === 2) c.wr16(lin, c.rd16(lin)); else c.wr32(lin, c.rd32(lin));
        const v = size === 1 ? c.io.read8(port) : size === 2 ? c.io.read16(port) : c.io.read32(port);
        if (size === 1) c.wr8(lin, v); else if (size === 2) c.wr16(lin, v); else c.wr32(lin, v);
        strAdvance(c, EDI, delta);
        break;
      }
      default: { // OUTS
        const port = regs[EDX] & 0xffff;
        c.checkIo(port, size);
        const v = size === 1 ? c.rd8(c.linR(srcSeg, si, 1)) : size === 2 ? c.rd16(c.linR(srcSeg, si, 2)) : c.rd32(c.linR(srcSeg, si, 4));
        if (size === 1) c.io.write8(port, v); else if (size === 2) c.io.write16(port, v); else c.io.write32(port, v);
        strAdvance(c, ESI, delta);
        break;
      }
    }
    if (!rep) return;
    count--;
    if (a32) regs[ECX] = count; else regs[ECX] = (regs[ECX] & ~0xffff) | count;
    if (count === 0) return;
    if (stopCond && (rep === 0xf3 ? !c.getZF() : c.getZF())) return;
  }
}

/**
 * REP MOVS / REP STOS fast path (32-bit addressing, flat segments): whole runs of elements that
 * stay inside one RAM page on each side are moved straight in the RAM array, element by element
 * in architectural order (so overlapping copies replicate exactly as on hardware). It stops at
 * the first element that is not a plain TLB hit (page boundary, MMIO, code or watched page,
 * not yet translated) and returns the remaining count for the generic per-element loop, which
 * handles faults and restarts. Returns 0 when done.
 */
function repFast(c: Cpu, op: number, size: number, srcSeg: number, delta: number, count: number): number {
  if ((c.segCheck[ES] & 2) || (op === 0 && (c.segCheck[srcSeg] & 1))) return count;
  const regs = c.regs, ram = c.ram, tlb = c.tlb;
  const esBase = c.segBase[ES], srcBase = c.segBase[srcSeg];
  const rMask = c.rMask, wMask = c.wMask;
  while (count > 0) {
    const dLin = (esBase + regs[EDI]) | 0;
    const de = tlb[dLin >>> 12];
    if ((de & wMask) !== wMask) return count;
    // Elements left in this page in the direction of travel.
    const dOff = dLin & 0xfff;
    if (dOff > 0x1000 - size) return count; // this element straddles two pages
    let n = delta > 0 ? (0x1000 - dOff) / size : (dOff + size) / size;
    let sPhys = 0;
    if (op === 0) {
      const sLin = (srcBase + regs[ESI]) | 0;
      const se = tlb[sLin >>> 12];
      if ((se & rMask) !== rMask) return count;
      const sOff = sLin & 0xfff;
      if (sOff > 0x1000 - size) return count;
      n = Math.min(n, delta > 0 ? (0x1000 - sOff) / size : (sOff + size) / size);
      sPhys = (se & ~0xfff) | sOff;
    }
    n = Math.floor(Math.min(n, count));
    if (n < 1) return count;
    let dPhys = (de & ~0xfff) | dOff;
    if (op === 0) {
      for (let i = 0; i < n; i++) {
        if (size === 1) ram[dPhys] = ram[sPhys];
        else if (size === 2) { const a = ram[sPhys], b = ram[sPhys + 1]; ram[dPhys] = a; ram[dPhys + 1] = b; } else {
          const a = ram[sPhys], b = ram[sPhys + 1], d2 = ram[sPhys + 2], d3 = ram[sPhys + 3];
          ram[dPhys] = a; ram[dPhys + 1] = b; ram[dPhys + 2] = d2; ram[dPhys + 3] = d3;
        }
        dPhys += delta; sPhys += delta;
      }
      regs[ESI] = regs[ESI] + n * delta;
    } else {
      const v = regs[EAX];
      for (let i = 0; i < n; i++) {
        ram[dPhys] = v;
        if (size > 1) { ram[dPhys + 1] = v >> 8; if (size === 4) { ram[dPhys + 2] = v >> 16; ram[dPhys + 3] = v >> 24; } }
        dPhys += delta;
      }
    }
    regs[EDI] = regs[EDI] + n * delta;
    count -= n;
    regs[ECX] = count;
  }
  return 0;
}

// ---------------------------------------------------------------------------------------
// BCD adjustments
// ---------------------------------------------------------------------------------------

function daa(c: Cpu, sub: boolean): void {
  const f = c.getFlags();
  const oldAl = c.regs[EAX] & 0xff;
  const oldCf = f & CF;
  let al = oldAl, cf = 0, af = 0;
  if ((al & 0xf) > 9 || (f & AF)) {
    al = sub ? al - 6 : al + 6;
    cf = oldCf | (sub ? (oldAl < 6 ? 1 : 0) : (al > 0xff ? 1 : 0));
    af = AF;
    al &= 0xff;
  }
  if (oldAl > 0x99 || oldCf) {
    al = (sub ? al - 0x60 : al + 0x60) & 0xff;
    cf = 1;
  }
  setR8(c, EAX, al);
  let nf = (f & ~(CF | AF | PF | ZF | SF | OF)) | cf | af;
  nf |= c.computeParity(al);
  if (al === 0) nf |= ZF;
  if (al & 0x80) nf |= SF;
  // OF is undefined; the P6 derives it from the sign change of the adjustment.
  if (sub ? (oldAl & 0x80) && !(al & 0x80) : !(oldAl & 0x80) && (al & 0x80)) nf |= OF;
  c.flags = nf; c.lazy = 0;
}

function aaa(c: Cpu, sub: boolean): void {
  const f = c.getFlags();
  let ax = c.regs[EAX] & 0xffff;
  const al = ax & 0xff;
  if ((al & 0xf) > 9 || (f & AF)) {
    // SF/ZF/PF/OF are undefined; like the 286 we leave those of the AL+-6 adjustment.
    c.alu(sub ? 5 : 0, al, 6, 0xff);
    const adj = c.getFlags();
    ax = sub ? ((ax - 6) & 0xffff) - 0x100 : ax + 0x106; // 386+ (and 286): AX arithmetic, carry reaches AH
    setR16(c, EAX, ax & 0xff0f);
    c.flags = (adj & ~(CF | AF)) | CF | AF; c.lazy = 0;
  } else {
    setR16(c, EAX, ax & 0xff0f);
    c.setResultFlags(al, 0xff, 0, false);
  }
}

// ---------------------------------------------------------------------------------------
// System instructions (0F 00 / 0F 01 groups, LAR/LSL)
// ---------------------------------------------------------------------------------------

function group6(c: Cpu): void {
  requireProtected(c);
  decodeModrm(c);
  const op = (c.modrm >> 3) & 7;
  switch (op) {
    case 0: writeSysSel(c, c.ldtSel); return; // SLDT
    case 1: writeSysSel(c, c.trSel); return; // STR
    case 2: { // LLDT
      requireCpl0(c);
      const sel = readE16(c);
      if ((sel & ~3) === 0) { c.ldtSel = sel; c.ldtAttr = 0; c.ldtBase = 0; c.ldtLimit = 0; return; }
      if (sel & 4) c.raiseGP(sel);
      const [lo, hi] = c.readDescriptor(sel)!;
      const attr = Cpu.descAttr(hi);
      if ((attr & 0x1f) !== 0x02) c.raiseGP(sel);
      if (!(attr & ATTR_P)) c.raise(11, sel & 0xfffc);
      c.ldtSel = sel; c.ldtBase = Cpu.descBase(lo, hi); c.ldtLimit = Cpu.descLimit(lo, hi); c.ldtAttr = attr;
      return;
    }
    case 3: { // LTR
      requireCpl0(c);
      const sel = readE16(c);
      if ((sel & ~3) === 0 || (sel & 4)) c.raiseGP(sel);
      const [lo, hi] = c.readDescriptor(sel)!;
      const attr = Cpu.descAttr(hi);
      const type = attr & 0x1f;
      if (type !== 0x09 && type !== 0x01) c.raiseGP(sel);
      if (!(attr & ATTR_P)) c.raise(11, sel & 0xfffc);
      c.sysWr8(c.descAddr(sel) + 5, (hi >>> 8) | 2);
      c.trSel = sel; c.trBase = Cpu.descBase(lo, hi); c.trLimit = Cpu.descLimit(lo, hi); c.trAttr = attr | 2;
      return;
    }
    case 4: case 5: { // VERR / VERW
      const sel = readE16(c);
      let ok = false;
      const d = (sel & ~3) !== 0 ? tryDescriptor(c, sel) : null;
      if (d) {
        const attr = Cpu.descAttr(d[1]);
        const dpl = (attr >> 5) & 3;
        const conforming = (attr & (ATTR_CODE | ATTR_DC)) === (ATTR_CODE | ATTR_DC);
        if ((attr & ATTR_S) && (conforming || (dpl >= c.cpl && dpl >= (sel & 3)))) {
          ok = op === 4 ? !(attr & ATTR_CODE) || (attr & ATTR_RW) !== 0 : !(attr & ATTR_CODE) && (attr & ATTR_RW) !== 0;
        }
      }
      setZF(c, ok);
      return;
    }
    default: c.raise(EX_UD);
  }
}

function writeSysSel(c: Cpu, v: number): void {
  if (c.modrm >= 0xc0) { if (c.o32) c.regs[c.modrm & 7] = v; else setR16(c, c.modrm & 7, v); } else writeE16(c, v);
}

function tryDescriptor(c: Cpu, sel: number): [number, number] | null {
  const base = sel & 4 ? c.ldtBase : c.gdtBase;
  const limit = sel & 4 ? c.ldtLimit : c.gdtLimit;
  if ((sel & ~7) + 7 > limit) return null;
  const lin = (base + (sel & ~7)) | 0;
  return [c.sysRd32(lin), c.sysRd32(lin + 4)];
}

function setZF(c: Cpu, on: boolean): void {
  const f = c.getFlags();
  c.flags = on ? f | ZF : f & ~ZF;
  c.lazy = 0;
}

function larLsl(c: Cpu, lsl: boolean): void {
  requireProtected(c);
  decodeModrm(c);
  const sel = readE16(c);
  const d = (sel & ~3) !== 0 ? tryDescriptor(c, sel) : null;
  let ok = false;
  if (d) {
    const attr = Cpu.descAttr(d[1]);
    const dpl = (attr >> 5) & 3;
    const type = attr & 0x1f;
    const conforming = (attr & (ATTR_CODE | ATTR_DC | ATTR_S)) === (ATTR_CODE | ATTR_DC | ATTR_S);
    const validSys = lsl ? [1, 2, 3, 9, 11].includes(type) : [1, 2, 3, 4, 5, 9, 11, 12].includes(type);
    if (((attr & ATTR_S) || validSys) && (conforming || (dpl >= c.cpl && dpl >= (sel & 3)))) {
      ok = true;
      const reg = (c.modrm >> 3) & 7;
      if (lsl) setRV(c, reg, Cpu.descLimit(d[0], d[1]));
      else setRV(c, reg, d[1] & (c.o32 ? 0x00f0ff00 : 0xff00));
    }
  }
  setZF(c, ok);
}

function group7(c: Cpu): void {
  decodeModrm(c);
  const op = (c.modrm >> 3) & 7;
  if (c.modrm >= 0xc0 && op !== 4 && op !== 6) c.raise(EX_UD);
  switch (op) {
    case 0: case 1: { // SGDT / SIDT
      const limit = op === 0 ? c.gdtLimit : c.idtLimit;
      let base = op === 0 ? c.gdtBase : c.idtBase;
      if (!c.o32) base &= 0xffffff; // the 16-bit form stores 24 bits of base (P6 stores 0 in the top byte)
      c.wr16(c.linW(c.eaSeg, c.eaOff, 6), limit);
      c.wr32(c.linW(c.eaSeg, (c.eaOff + 2) >>> 0, 4), base);
      return;
    }
    case 2: case 3: { // LGDT / LIDT
      requireCpl0(c);
      const limit = c.rd16(c.linR(c.eaSeg, c.eaOff, 6));
      let base = c.rd32(c.linR(c.eaSeg, (c.eaOff + 2) >>> 0, 4));
      if (!c.o32) base &= 0xffffff;
      if (op === 2) { c.gdtBase = base; c.gdtLimit = limit; } else { c.idtBase = base; c.idtLimit = limit; }
      return;
    }
    case 4: // SMSW
      if (c.modrm >= 0xc0) setRV(c, c.modrm & 7, c.cr0); else writeE16(c, c.cr0);
      return;
    case 6: { // LMSW: can set PE but not clear it; only the low four bits
      requireCpl0(c);
      const v = readE16(c);
      let cr0 = (c.cr0 & ~0xe) | (v & 0xf);
      if (c.cr0 & CR0_PE) cr0 |= CR0_PE;
      c.writeCr0(cr0);
      return;
    }
    case 7: // INVLPG
      requireCpl0(c);
      c.invlpg((c.segBase[c.eaSeg] + c.eaOff) | 0);
      return;
    default: c.raise(EX_UD);
  }
}

// ---------------------------------------------------------------------------------------
// CPUID / MSRs
// ---------------------------------------------------------------------------------------

/** EDX feature bits for CPUID 1: FPU, DE, PSE, TSC, MSR, CX8, PGE, CMOV (no APIC, PAE, MTRR, MMX). */
export const CPUID_FEATURES = (1 << 0) | (1 << 2) | (1 << 3) | (1 << 4) | (1 << 5) | (1 << 8) | (1 << 13) | (1 << 15);
export const CPUID_SIGNATURE = 0x0633;

function cpuid(c: Cpu): void {
  const regs = c.regs;
  let leaf = regs[EAX] >>> 0;
  if (leaf > 2) leaf = 2; // P6: out-of-range leaves return the highest basic leaf
  switch (leaf) {
    case 0:
      regs[EAX] = 2; regs[EBX] = 0x756e6547; regs[EDX] = 0x49656e69; regs[ECX] = 0x6c65746e; // "GenuineIntel"
      return;
    case 1:
      regs[EAX] = CPUID_SIGNATURE; regs[EBX] = 0; regs[ECX] = 0; regs[EDX] = CPUID_FEATURES;
      return;
    default:
      regs[EAX] = 0x03020101; regs[EBX] = 0; regs[ECX] = 0; regs[EDX] = 0x0c040843;
  }
}

/** MSRs a P6 implements that guests (Linux, SeaBIOS) touch; others #GP. */
const KNOWN_MSRS = new Set([0x10, 0x17, 0x2a, 0x8b, 0xc1, 0xc2, 0x174, 0x175, 0x176, 0x186, 0x187, 0x1d9, 0x1db, 0x1dc, 0x1dd, 0x1de]);

/**
 * The time-stamp counter: one tick per retired instruction. `c.instructions` is only brought up
 * to date when run() returns, so reads inside one run() slice would all see the same value (a
 * TSC that stands still for up to a whole slice). Each further read in the same slice counts at
 * least one tick more; the slice holds at least that many instructions, so the counter never
 * runs ahead of the true count and keeps increasing across slices.
 */
export function readTsc(c: Cpu): number {
  if (c.instructions === c.tscSeenAt) c.tscBump++;
  else { c.tscSeenAt = c.instructions; c.tscBump = 0; }
  return c.tsc + c.instructions + c.tscBump;
}

function rdmsr(c: Cpu): void {
  requireCpl0(c);
  const idx = c.regs[ECX] >>> 0;
  if (!KNOWN_MSRS.has(idx)) c.raiseGP(0);
  let v: bigint;
  if (idx === 0x10) v = BigInt(readTsc(c));
  else v = c.msrs.get(idx) ?? 0n;
  c.regs[EAX] = Number(v & 0xffffffffn);
  c.regs[EDX] = Number((v >> 32n) & 0xffffffffn);
}

function wrmsr(c: Cpu): void {
  requireCpl0(c);
  const idx = c.regs[ECX] >>> 0;
  if (!KNOWN_MSRS.has(idx)) c.raiseGP(0);
  const v = (BigInt(c.regs[EDX] >>> 0) << 32n) | BigInt(c.regs[EAX] >>> 0);
  if (idx === 0x10) { readTsc(c); c.tsc = Number(v) - c.instructions - c.tscBump; return; }
  c.msrs.set(idx, v);
}

// ---------------------------------------------------------------------------------------
// Bit tests and misc helpers
// ---------------------------------------------------------------------------------------

/** BT/BTS/BTR/BTC: op 0..3. Register bit offsets address memory beyond the operand. */
function bitTest(c: Cpu, op: number, bitOff: number, immediate: boolean): void {
  const bits = c.o32 ? 32 : 16;
  let cf: number;
  if (c.modrm >= 0xc0) {
    const rm = c.modrm & 7;
    const b = bitOff & (bits - 1);
    const v = getRV(c, rm);
    cf = (v >>> b) & 1;
    if (op === 1) setRV(c, rm, v | (1 << b)); else if (op === 2) setRV(c, rm, v & ~(1 << b)); else if (op === 3) setRV(c, rm, v ^ (1 << b));
  } else {
    let off = c.eaOff;
    let b: number;
    if (immediate) b = bitOff & (bits - 1);
    else {
      const sOff = c.o32 ? bitOff | 0 : (bitOff << 16) >> 16;
      off = c.a32 ? (off + Math.floor(sOff / bits) * (bits >> 3)) >>> 0 : (off + Math.floor(sOff / bits) * (bits >> 3)) & 0xffff;
      b = sOff & (bits - 1);
    }
    const size = bits >> 3;
    const lin = op === 0 ? c.linR(c.eaSeg, off, size) : c.linW(c.eaSeg, off, size);
    const v = size === 4 ? c.rd32(lin) : c.rd16(lin);
    cf = (v >>> b) & 1;
    if (op !== 0) {
      const nv = op === 1 ? v | (1 << b) : op === 2 ? v & ~(1 << b) : v ^ (1 << b);
      if (size === 4) c.wr32(lin, nv); else c.wr16(lin, nv);
    }
  }
  c.flags = (c.getFlags() & ~CF) | cf;
  c.lazy = 0;
}

function shiftDouble(c: Cpu, right: boolean, countSrc: number): void {
  decodeModrm(c);
  const reg = (c.modrm >> 3) & 7;
  let lin = 0;
  if (c.modrm < 0xc0) lin = eaLinW(c, c.o32 ? 4 : 2);
  const count = (countSrc === 1 ? c.regs[ECX] : c.fetch8()) & 0x1f;
  if (count === 0) return;
  const bits = c.o32 ? 32 : 16;
  const dst = c.modrm >= 0xc0 ? getRV(c, c.modrm & 7) >>> 0 : (c.o32 ? c.rd32(lin) >>> 0 : c.rd16(lin));
  const src = getRV(c, reg) >>> 0;
  let r: number, cf: number;
  const sign = bits === 32 ? 0x80000000 : 0x8000;
  if (bits === 32) {
    if (right) { r = ((dst >>> count) | (src << (32 - count))) >>> 0; cf = (dst >>> (count - 1)) & 1; } else { r = ((dst << count) | (src >>> (32 - count))) >>> 0; cf = (dst >>> (32 - count)) & 1; }
  } else {
    // 16-bit with count > 16: the P6 shifts through the 32-bit concatenation (result undefined per SDM).
    if (right) {
      const big = BigInt(dst) | (BigInt(src) << 16n) | (BigInt(dst) << 32n);
      r = Number((big >> BigInt(count)) & 0xffffn);
      cf = Number((big >> BigInt(count - 1)) & 1n);
    } else {
      const big = (BigInt(dst) << 32n) | (BigInt(src) << 16n) | BigInt(dst);
      r = Number((big >> BigInt(32 - count)) & 0xffffn);
      cf = Number((big >> BigInt(48 - count)) & 1n);
    }
  }
  const of = ((r & sign) !== 0) !== ((dst & sign) !== 0);
  c.setResultFlags(r, bits === 32 ? M32 : 0xffff, cf, of);
  if (c.modrm >= 0xc0) setRV(c, c.modrm & 7, r); else if (c.o32) c.wr32(lin, r); else c.wr16(lin, r);
}

function movToCr(c: Cpu, cr: number, v: number): void {
  switch (cr) {
    case 0: c.writeCr0(v); return;
    case 2: c.cr2 = v; return;
    case 3: c.writeCr3(v); return;
    case 4: c.writeCr4(v); return;
    default: c.raise(EX_UD);
  }
}

function readCr(c: Cpu, cr: number): number {
  switch (cr) {
    case 0: return c.cr0;
    case 2: return c.cr2;
    case 3: return c.cr3;
    case 4: return c.cr4;
    default: c.raise(EX_UD);
  }
}

/** LDS/LES/LFS/LGS/LSS: load a far pointer (offset then selector) from memory. */
function loadFarPointer(c: Cpu, seg: number): void {
  decodeModrm(c);
  if (c.modrm >= 0xc0) c.raise(EX_UD);
  const off = c.o32 ? c.rd32(c.linR(c.eaSeg, c.eaOff, 4)) : c.rd16(c.linR(c.eaSeg, c.eaOff, 2));
  const sel = c.rd16(c.linR(c.eaSeg, (c.eaOff + (c.o32 ? 4 : 2)) >>> 0, 2));
  c.loadSeg(seg, sel);
  setRV(c, (c.modrm >> 3) & 7, off);
}

function pushf(c: Cpu): void {
  if ((c.flags & VM) && ((c.flags & IOPL) >> 12) < 3) c.raiseGP(0);
  const f = c.getFlags();
  if (c.o32) c.push32(f & 0x00fcffff); else c.push16(f);
}

function popf(c: Cpu): void {
  if ((c.flags & VM) && ((c.flags & IOPL) >> 12) < 3) c.raiseGP(0);
  const v = c.o32 ? c.peek32(0) : c.peek16(0);
  c.adjustSp(c.o32 ? 4 : 2);
  let mask = 0x4dd5 | TF | DF | OF; // CF PF AF ZF SF TF DF OF NT
  if (c.o32) mask |= AC | ID;
  if (!c.protectedMode || c.cpl === 0) mask |= IOPL;
  if (!c.protectedMode || c.cpl <= ((c.flags & IOPL) >> 12)) mask |= IF;
  if (c.flags & VM) mask &= ~IOPL;
  c.setFlags(v, mask);
}

function enter(c: Cpu): void {
  const size = c.fetch16();
  const level = c.fetch8() & 0x1f;
  const regs = c.regs;
  const w = c.o32 ? 4 : 2;
  const savedEsp = regs[ESP], savedEbp = regs[EBP];
  try {
    c.pushV(regs[EBP]);
    const frame = c.ss32 ? regs[ESP] : regs[ESP] & 0xffff;
    let bp = c.ss32 ? regs[EBP] : regs[EBP] & 0xffff;
    for (let i = 1; i < level; i++) {
      bp = c.ss32 ? bp - w : (bp - w) & 0xffff;
      const v = w === 4 ? c.rd32(c.linR(SS, bp >>> 0, 4)) : c.rd16(c.linR(SS, bp, 2));
      c.pushV(v);
    }
    if (level > 0) c.pushV(frame);
    const newSp = c.ss32 ? (regs[ESP] - size) >>> 0 : (regs[ESP] - size) & 0xffff;
    // The final frame must be writable (checked by the P6 with a probe of the new top).
    if (size > 0) c.linW(SS, newSp, 1);
    setRV(c, EBP, frame);
    if (!c.o32 && c.ss32) regs[EBP] = (regs[EBP] & ~0xffff) | (frame & 0xffff);
    c.adjustSp(-size);
  } catch (e) {
    regs[ESP] = savedEsp; regs[EBP] = savedEbp;
    throw e;
  }
}

function bound(c: Cpu): void {
  decodeModrm(c);
  if (c.modrm >= 0xc0) c.raise(EX_UD);
  const reg = (c.modrm >> 3) & 7;
  if (c.o32) {
    const lo = c.rd32(c.linR(c.eaSeg, c.eaOff, 4)), hi = c.rd32(c.linR(c.eaSeg, (c.eaOff + 4) >>> 0, 4));
    const v = c.regs[reg];
    if (v < lo || v > hi) c.raise(EX_BR);
  } else {
    const lo = (c.rd16(c.linR(c.eaSeg, c.eaOff, 2)) << 16) >> 16;
    const hi = (c.rd16(c.linR(c.eaSeg, (c.eaOff + 2) & (c.a32 ? M32 : 0xffff), 2)) << 16) >> 16;
    const v = (c.regs[reg] << 16) >> 16;
    if (v < lo || v > hi) c.raise(EX_BR);
  }
}

function arpl(c: Cpu): void {
  requireProtected(c);
  decodeModrm(c);
  const dst = readE16(c);
  const src = getR16(c, (c.modrm >> 3) & 7);
  if ((dst & 3) < (src & 3)) {
    writeE16(c, (dst & ~3) | (src & 3));
    setZF(c, true);
  } else setZF(c, false);
}

function fpuAvailable(c: Cpu): void {
  if (c.cr0 & (CR0_EM | CR0_TS)) c.raise(EX_NM);
}

// ---------------------------------------------------------------------------------------
// Two-byte opcodes
// ---------------------------------------------------------------------------------------

function exec0F(c: Cpu): void {
  const op = c.fetch8();
  const regs = c.regs;
  switch (op) {
    case 0x00: group6(c); return;
    case 0x01: group7(c); return;
    case 0x02: larLsl(c, false); return;
    case 0x03: larLsl(c, true); return;
    case 0x06: requireCpl0(c); c.cr0 &= ~CR0_TS; return; // CLTS
    case 0x08: case 0x09: requireCpl0(c); return; // INVD, WBINVD: no caches to manage
    case 0x0b: c.raise(EX_UD); // UD2
    case 0x1f: decodeModrm(c); return; // NOP Ev (multi-byte NOP, present on P6)
    case 0x20: case 0x22: { // MOV r32, CRn / MOV CRn, r32
      const m = c.fetch8();
      requireCpl0(c);
      const cr = (m >> 3) & 7;
      if (op === 0x20) regs[m & 7] = readCr(c, cr); else movToCr(c, cr, regs[m & 7]);
      return;
    }
    case 0x21: case 0x23: { // MOV DRn
      const m = c.fetch8();
      requireCpl0(c);
      let dr = (m >> 3) & 7;
      if (dr === 4 || dr === 5) { if (c.cr4 & 8) c.raise(EX_UD); dr += 2; }
      if (op === 0x21) regs[m & 7] = c.dr[dr]; else c.dr[dr] = regs[m & 7];
      return;
    }
    case 0x30: wrmsr(c); return;
    case 0x31: // RDTSC
      if ((c.cr4 & 4) && c.protectedMode && c.cpl !== 0) c.raiseGP(0);
      { const t = readTsc(c); regs[EAX] = t % 0x100000000; regs[EDX] = Math.floor(t / 0x100000000); }
      return;
    case 0x32: rdmsr(c); return;
    case 0xa0: c.pushV(c.sreg[FS]); return;
    case 0xa1: { const v = c.o32 ? c.peek32(0) : c.peek16(0); c.loadSeg(FS, v); c.adjustSp(c.o32 ? 4 : 2); return; }
    case 0xa2: cpuid(c); return;
    case 0xa3: decodeModrm(c); bitTest(c, 0, getRV(c, (c.modrm >> 3) & 7), false); return;
    case 0xa4: shiftDouble(c, false, 2); return;
    case 0xa5: shiftDouble(c, false, 1); return;
    case 0xa8: c.pushV(c.sreg[GS]); return;
    case 0xa9: { const v = c.o32 ? c.peek32(0) : c.peek16(0); c.loadSeg(GS, v); c.adjustSp(c.o32 ? 4 : 2); return; }
    case 0xab: decodeModrm(c); bitTest(c, 1, getRV(c, (c.modrm >> 3) & 7), false); return;
    case 0xac: shiftDouble(c, true, 2); return;
    case 0xad: shiftDouble(c, true, 1); return;
    case 0xaf: { decodeModrm(c); const reg = (c.modrm >> 3) & 7; setRV(c, reg, imulV(c, getRV(c, reg), readEV(c))); return; }
    case 0xb0: case 0xb1: { // CMPXCHG
      decodeModrm(c);
      const reg = (c.modrm >> 3) & 7;
      const bits = op === 0xb0 ? 8 : c.o32 ? 32 : 16;
      const m = bits === 8 ? 0xff : bits === 16 ? 0xffff : M32;
      let lin = 0, dst: number;
      if (c.modrm >= 0xc0) dst = bits === 8 ? getR8(c, c.modrm & 7) : getRV(c, c.modrm & 7);
      else { lin = eaLinW(c, bits >> 3); dst = bits === 8 ? c.rd8(lin) : bits === 16 ? c.rd16(lin) : c.rd32(lin); }
      const acc = regs[EAX] & m;
      c.alu(7, acc, dst, m);
      const src = bits === 8 ? getR8(c, reg) : getRV(c, reg);
      const eq = ((acc ^ dst) & m) === 0;
      // The destination is always written (with its old value when unequal), as on hardware.
      const out = eq ? src : dst;
      if (c.modrm >= 0xc0) { if (bits === 8) setR8(c, c.modrm & 7, out); else setRV(c, c.modrm & 7, out); } else if (bits === 8) c.wr8(lin, out); else if (bits === 16) c.wr16(lin, out); else c.wr32(lin, out);
      if (!eq) { if (bits === 8) setR8(c, EAX, dst); else setRV(c, EAX, dst); }
      return;
    }
    case 0xb2: loadFarPointer(c, SS); return;
    case 0xb3: decodeModrm(c); bitTest(c, 2, getRV(c, (c.modrm >> 3) & 7), false); return;
    case 0xb4: loadFarPointer(c, FS); return;
    case 0xb5: loadFarPointer(c, GS); return;
    case 0xb6: { decodeModrm(c); setRV(c, (c.modrm >> 3) & 7, readE8(c)); return; }
    case 0xb7: { decodeModrm(c); setRV(c, (c.modrm >> 3) & 7, readE16(c)); return; }
    case 0xba: {
      decodeModrm(c);
      const sub = (c.modrm >> 3) & 7;
      if (sub < 4) c.raise(EX_UD);
      const imm = c.fetch8();
      bitTest(c, sub - 4, imm, true);
      return;
    }
    case 0xbb: decodeModrm(c); bitTest(c, 3, getRV(c, (c.modrm >> 3) & 7), false); return;
    case 0xbc: case 0xbd: { // BSF / BSR
      decodeModrm(c);
      const v = c.o32 ? readE32(c) >>> 0 : readE16(c);
      if (v === 0) { setZF(c, true); return; }
      const idx = op === 0xbc ? 31 - Math.clz32(v & -v) : 31 - Math.clz32(v);
      setRV(c, (c.modrm >> 3) & 7, idx);
      c.setResultFlags(idx, 0xffff, c.getCF(), false);
      c.lazy = PF | SF | AF; c.flags &= ~ZF;
      return;
    }
    case 0xbe: { decodeModrm(c); setRV(c, (c.modrm >> 3) & 7, (readE8(c) << 24) >> 24); return; }
    case 0xbf: { decodeModrm(c); setRV(c, (c.modrm >> 3) & 7, (readE16(c) << 16) >> 16); return; }
    case 0xc0: case 0xc1: { // XADD
      decodeModrm(c);
      const reg = (c.modrm >> 3) & 7;
      const bits = op === 0xc0 ? 8 : c.o32 ? 32 : 16;
      const m = bits === 8 ? 0xff : bits === 16 ? 0xffff : M32;
      let lin = 0, dst: number;
      if (c.modrm >= 0xc0) dst = bits === 8 ? getR8(c, c.modrm & 7) : getRV(c, c.modrm & 7);
      else { lin = eaLinW(c, bits >> 3); dst = bits === 8 ? c.rd8(lin) : bits === 16 ? c.rd16(lin) : c.rd32(lin); }
      const src = bits === 8 ? getR8(c, reg) : getRV(c, reg);
      const sum = c.alu(0, dst, src, m);
      if (bits === 8) setR8(c, reg, dst); else setRV(c, reg, dst);
      if (c.modrm >= 0xc0) { if (bits === 8) setR8(c, c.modrm & 7, sum); else setRV(c, c.modrm & 7, sum); } else if (bits === 8) c.wr8(lin, sum); else if (bits === 16) c.wr16(lin, sum); else c.wr32(lin, sum);
      return;
    }
    case 0xc7: { // CMPXCHG8B
      decodeModrm(c);
      if (((c.modrm >> 3) & 7) !== 1 || c.modrm >= 0xc0) c.raise(EX_UD);
      const lin = eaLinW(c, 8);
      const lo = c.rd32(lin), hi = c.rd32((lin + 4) | 0);
      const f = c.getFlags();
      if (lo === regs[EAX] && hi === regs[EDX]) {
        c.wr32(lin, regs[EBX]); c.wr32((lin + 4) | 0, regs[ECX]);
        c.flags = f | ZF;
      } else {
        c.wr32(lin, lo); c.wr32((lin + 4) | 0, hi);
        regs[EAX] = lo; regs[EDX] = hi;
        c.flags = f & ~ZF;
      }
      c.lazy = 0;
      return;
    }
    default:
      if (op >= 0x40 && op <= 0x4f) { // CMOVcc (the source is read even when the condition is false)
        decodeModrm(c);
        const v = readEV(c);
        if (c.cond(op & 0xf)) setRV(c, (c.modrm >> 3) & 7, v);
        return;
      }
      if (op >= 0x80 && op <= 0x8f) { // Jcc rel16/32
        const d = c.o32 ? c.fetch32() : (c.fetch16() << 16) >> 16;
        if (c.cond(op & 0xf)) jumpTo(c, c.eip + d);
        return;
      }
      if (op >= 0x90 && op <= 0x9f) { decodeModrm(c); writeE8(c, c.cond(op & 0xf) ? 1 : 0); return; }
      if (op >= 0xc8) { // BSWAP
        const r = op & 7;
        const v = regs[r];
        regs[r] = ((v & 0xff) << 24) | ((v & 0xff00) << 8) | ((v >>> 8) & 0xff00) | (v >>> 24);
        return;
      }
      c.raise(EX_UD);
  }
}

// ---------------------------------------------------------------------------------------
// One instruction
// ---------------------------------------------------------------------------------------

// ---- one-byte opcode handlers (one small function each, so V8 optimizes them independently) ----

function op00(c: Cpu, op: number): void {
  {
    decodeModrm(c);
    const aop = op >> 3;
    const src = getR8(c, (c.modrm >> 3) & 7);
    if (c.modrm >= 0xc0) {
      const rm = c.modrm & 7;
      const r = c.alu(aop, getR8(c, rm), src, 0xff);
      if (aop !== 7) setR8(c, rm, r);
    } else if (aop === 7) {
      c.alu(7, c.rd8(c.linR(c.eaSeg, c.eaOff, 1)), src, 0xff);
    } else {
      const lin = eaLinW(c, 1);
      c.wr8(lin, c.alu(aop, c.rd8(lin), src, 0xff));
    }
    return;
  }
}

function op01(c: Cpu, op: number): void {
  const regs = c.regs;
  const o32 = c.o32;
  {
    decodeModrm(c);
    const aop = op >> 3;
    const reg = (c.modrm >> 3) & 7;
    if (o32) {
      const src = regs[reg];
      if (c.modrm >= 0xc0) {
        const rm = c.modrm & 7;
        const r = c.alu(aop, regs[rm], src, M32);
        if (aop !== 7) regs[rm] = r;
      } else if (aop === 7) {
        c.alu(7, c.rd32(c.linR(c.eaSeg, c.eaOff, 4)), src, M32);
      } else {
        const lin = eaLinW(c, 4);
        c.wr32(lin, c.alu(aop, c.rd32(lin), src, M32));
      }
    } else {
      const src = regs[reg] & 0xffff;
      if (c.modrm >= 0xc0) {
        const rm = c.modrm & 7;
        const r = c.alu(aop, regs[rm] & 0xffff, src, 0xffff);
        if (aop !== 7) setR16(c, rm, r);
      } else if (aop === 7) {
        c.alu(7, c.rd16(c.linR(c.eaSeg, c.eaOff, 2)), src, 0xffff);
      } else {
        const lin = eaLinW(c, 2);
        c.wr16(lin, c.alu(aop, c.rd16(lin), src, 0xffff));
      }
    }
    return;
  }
}

function op02(c: Cpu, op: number): void {
  {
    decodeModrm(c);
    const reg = (c.modrm >> 3) & 7;
    const r = c.alu(op >> 3, getR8(c, reg), readE8(c), 0xff);
    if ((op >> 3) !== 7) setR8(c, reg, r);
    return;
  }
}

function op03(c: Cpu, op: number): void {
  const regs = c.regs;
  const o32 = c.o32;
  {
    decodeModrm(c);
    const reg = (c.modrm >> 3) & 7;
    if (o32) {
      const r = c.alu(op >> 3, regs[reg], readE32(c), M32);
      if ((op >> 3) !== 7) regs[reg] = r;
    } else {
      const r = c.alu(op >> 3, regs[reg] & 0xffff, readE16(c), 0xffff);
      if ((op >> 3) !== 7) setR16(c, reg, r);
    }
    return;
  }
}

function op04(c: Cpu, op: number): void {
  const regs = c.regs;
  {
    const r = c.alu(op >> 3, regs[EAX] & 0xff, c.fetch8(), 0xff);
    if ((op >> 3) !== 7) setR8(c, EAX, r);
    return;
  }
}

function op05(c: Cpu, op: number): void {
  const regs = c.regs;
  const o32 = c.o32;
  {
    if (o32) {
      const r = c.alu(op >> 3, regs[EAX], c.fetch32(), M32);
      if ((op >> 3) !== 7) regs[EAX] = r;
    } else {
      const r = c.alu(op >> 3, regs[EAX] & 0xffff, c.fetch16(), 0xffff);
      if ((op >> 3) !== 7) setR16(c, EAX, r);
    }
    return;
  }
}

function op06(c: Cpu, op: number): void {
  c.pushV(c.sreg[ES]); return;
}

function op0E(c: Cpu, op: number): void {
  c.pushV(c.sreg[CS]); return;
}

function op16(c: Cpu, op: number): void {
  c.pushV(c.sreg[SS]); return;
}

function op1E(c: Cpu, op: number): void {
  c.pushV(c.sreg[DS]); return;
}

function op07(c: Cpu, op: number): void {
  const o32 = c.o32;
  {
    const v = o32 ? c.peek32(0) & 0xffff : c.peek16(0);
    c.loadSeg(op >> 3, v);
    c.adjustSp(o32 ? 4 : 2);
    return;
  }
}

function op0F(c: Cpu, op: number): void {
  exec0F(c); return;
}

function op27(c: Cpu, op: number): void {
  daa(c, false); return;
}

function op2F(c: Cpu, op: number): void {
  daa(c, true); return;
}

function op37(c: Cpu, op: number): void {
  aaa(c, false); return;
}

function op3F(c: Cpu, op: number): void {
  aaa(c, true); return;
}

function op40(c: Cpu, op: number): void {
  const regs = c.regs;
  const o32 = c.o32;
    if (o32) regs[op & 7] = c.inc(regs[op & 7], M32); else setR16(c, op & 7, c.inc(regs[op & 7] & 0xffff, 0xffff));
    return;
}

function op48(c: Cpu, op: number): void {
  const regs = c.regs;
  const o32 = c.o32;
    if (o32) regs[op & 7] = c.dec(regs[op & 7], M32); else setR16(c, op & 7, c.dec(regs[op & 7] & 0xffff, 0xffff));
    return;
}

function op50(c: Cpu, op: number): void {
  const regs = c.regs;
  const o32 = c.o32;
    if (o32) c.push32(regs[op & 7]); else c.push16(regs[op & 7]);
    return;
}

function op58(c: Cpu, op: number): void {
  const regs = c.regs;
  const o32 = c.o32;
    if (o32) { const v = c.pop32(); regs[op & 7] = v; } else { const v = c.pop16(); setR16(c, op & 7, v); }
    return;
}

function op60(c: Cpu, op: number): void {
  const regs = c.regs;
  { // PUSHA
    const sp = regs[ESP];
    try {
      for (let i = 0; i < 8; i++) c.pushV(i === ESP ? sp : regs[i]);
    } catch (e) { regs[ESP] = sp; throw e; }
    return;
  }
}

function op61(c: Cpu, op: number): void {
  const o32 = c.o32;
  { // POPA
    const w = o32 ? 4 : 2;
    const vals = [0, 0, 0, 0, 0, 0, 0, 0];
    for (let i = 0; i < 8; i++) vals[7 - i] = o32 ? c.peek32(i * w) : c.peek16(i * w);
    for (let i = 0; i < 8; i++) if (i !== ESP) setRV(c, i, vals[i]);
    c.adjustSp(8 * w);
    return;
  }
}

function op62(c: Cpu, op: number): void {
  bound(c); return;
}

function op63(c: Cpu, op: number): void {
  arpl(c); return;
}

function op68(c: Cpu, op: number): void {
  c.pushV(fetchImmV(c)); return;
}

function op69(c: Cpu, op: number): void {
  {
    decodeModrm(c);
    const src = readEV(c);
    const imm = op === 0x69 ? fetchImmV(c) : fetchS8(c);
    setRV(c, (c.modrm >> 3) & 7, imulV(c, src, imm));
    return;
  }
}

function op6A(c: Cpu, op: number): void {
  c.pushV(fetchS8(c)); return;
}

function op6C(c: Cpu, op: number): void {
  stringOp(c, 5, 1); return;
}

function op6D(c: Cpu, op: number): void {
  const o32 = c.o32;
  stringOp(c, 5, o32 ? 4 : 2); return;
}

function op6E(c: Cpu, op: number): void {
  stringOp(c, 6, 1); return;
}

function op6F(c: Cpu, op: number): void {
  const o32 = c.o32;
  stringOp(c, 6, o32 ? 4 : 2); return;
}

function op70(c: Cpu, op: number): void {
  {
    const d = fetchS8(c);
    if (c.cond(op & 0xf)) jumpTo(c, c.eip + d);
    return;
  }
}

function op80(c: Cpu, op: number): void {
  { // group 1 Eb, Ib
    decodeModrm(c);
    const aop = (c.modrm >> 3) & 7;
    if (c.modrm >= 0xc0) {
      const rm = c.modrm & 7;
      const r = c.alu(aop, getR8(c, rm), c.fetch8(), 0xff);
      if (aop !== 7) setR8(c, rm, r);
    } else if (aop === 7) {
      const lin = c.linR(c.eaSeg, c.eaOff, 1);
      c.alu(7, c.rd8(lin), c.fetch8(), 0xff);
    } else {
      const imm = c.fetch8();
      const lin = eaLinW(c, 1);
      c.wr8(lin, c.alu(aop, c.rd8(lin), imm, 0xff));
    }
    return;
  }
}

function op81(c: Cpu, op: number): void {
  const regs = c.regs;
  const o32 = c.o32;
  { // group 1 Ev, Iv / Ev, Ib (sign-extended)
    decodeModrm(c);
    const aop = (c.modrm >> 3) & 7;
    const m = o32 ? M32 : 0xffff;
    const imm = (op === 0x81 ? fetchImmV(c) : fetchS8(c)) & m;
    if (c.modrm >= 0xc0) {
      const rm = c.modrm & 7;
      if (o32) { const r = c.alu(aop, regs[rm], imm, M32); if (aop !== 7) regs[rm] = r; } else {
        const r = c.alu(aop, regs[rm] & 0xffff, imm, 0xffff); if (aop !== 7) setR16(c, rm, r);
      }
    } else if (aop === 7) {
      c.alu(7, o32 ? c.rd32(c.linR(c.eaSeg, c.eaOff, 4)) : c.rd16(c.linR(c.eaSeg, c.eaOff, 2)), imm, m);
    } else if (o32) {
      const lin = eaLinW(c, 4);
      c.wr32(lin, c.alu(aop, c.rd32(lin), imm, M32));
    } else {
      const lin = eaLinW(c, 2);
      c.wr16(lin, c.alu(aop, c.rd16(lin), imm, 0xffff));
    }
    return;
  }
}

function op84(c: Cpu, op: number): void {
  { decodeModrm(c); c.alu(4, readE8(c), getR8(c, (c.modrm >> 3) & 7), 0xff); return; }
}

function op85(c: Cpu, op: number): void {
  const o32 = c.o32;
  { decodeModrm(c); c.alu(4, readEV(c), getRV(c, (c.modrm >> 3) & 7), o32 ? M32 : 0xffff); return; }
}

function op86(c: Cpu, op: number): void {
  {
    decodeModrm(c);
    const reg = (c.modrm >> 3) & 7;
    if (c.modrm >= 0xc0) { const a = getR8(c, c.modrm & 7); setR8(c, c.modrm & 7, getR8(c, reg)); setR8(c, reg, a); return; }
    const lin = eaLinW(c, 1);
    const v = c.rd8(lin);
    c.wr8(lin, getR8(c, reg));
    setR8(c, reg, v);
    return;
  }
}

function op87(c: Cpu, op: number): void {
  const regs = c.regs;
  const o32 = c.o32;
  {
    decodeModrm(c);
    const reg = (c.modrm >> 3) & 7;
    if (c.modrm >= 0xc0) { const a = getRV(c, c.modrm & 7); setRV(c, c.modrm & 7, getRV(c, reg)); setRV(c, reg, a); return; }
    const lin = eaLinW(c, o32 ? 4 : 2);
    const v = o32 ? c.rd32(lin) : c.rd16(lin);
    if (o32) c.wr32(lin, regs[reg]); else c.wr16(lin, regs[reg]);
    setRV(c, reg, v);
    return;
  }
}

function op88(c: Cpu, op: number): void {
  { decodeModrm(c); writeE8(c, getR8(c, (c.modrm >> 3) & 7)); return; }
}

function op89(c: Cpu, op: number): void {
  const regs = c.regs;
  const o32 = c.o32;
  {
    decodeModrm(c);
    const v = regs[(c.modrm >> 3) & 7];
    if (c.modrm >= 0xc0) { if (o32) regs[c.modrm & 7] = v; else setR16(c, c.modrm & 7, v); } else if (o32) c.wr32(c.linW(c.eaSeg, c.eaOff, 4), v); else c.wr16(c.linW(c.eaSeg, c.eaOff, 2), v);
    return;
  }
}

function op8A(c: Cpu, op: number): void {
  { decodeModrm(c); setR8(c, (c.modrm >> 3) & 7, readE8(c)); return; }
}

function op8B(c: Cpu, op: number): void {
  const regs = c.regs;
  const o32 = c.o32;
  {
    decodeModrm(c);
    const reg = (c.modrm >> 3) & 7;
    if (o32) regs[reg] = c.modrm >= 0xc0 ? regs[c.modrm & 7] : c.rd32(c.linR(c.eaSeg, c.eaOff, 4));
    else setR16(c, reg, readE16(c));
    return;
  }
}

function op8C(c: Cpu, op: number): void {
  const regs = c.regs;
  const o32 = c.o32;
  { // MOV Ew, Sreg (register destination with 32-bit operand zero-extends)
    decodeModrm(c);
    const s = (c.modrm >> 3) & 7;
    if (s > 5) c.raise(EX_UD);
    if (c.modrm >= 0xc0) { if (o32) regs[c.modrm & 7] = c.sreg[s]; else setR16(c, c.modrm & 7, c.sreg[s]); } else writeE16(c, c.sreg[s]);
    return;
  }
}

function op8D(c: Cpu, op: number): void {
  { // LEA
    decodeModrm(c);
    if (c.modrm >= 0xc0) c.raise(EX_UD);
    setRV(c, (c.modrm >> 3) & 7, c.eaOff);
    return;
  }
}

function op8E(c: Cpu, op: number): void {
  {
    decodeModrm(c);
    const s = (c.modrm >> 3) & 7;
    if (s === CS || s > 5) c.raise(EX_UD);
    c.loadSeg(s, readE16(c));
    if (s === SS) { c.inhibitIrq = true; c.attention = true; }
    return;
  }
}

function op8F(c: Cpu, op: number): void {
  const regs = c.regs;
  const o32 = c.o32;
  { // POP Ev: ESP is incremented before the destination address is computed
    const savedEsp = regs[ESP];
    const v = o32 ? c.peek32(0) : c.peek16(0);
    c.adjustSp(o32 ? 4 : 2);
    try {
      decodeModrm(c);
      if (((c.modrm >> 3) & 7) !== 0) c.raise(EX_UD);
      writeEV(c, v);
    } catch (e) { regs[ESP] = savedEsp; throw e; }
    return;
  }
}

function op90(c: Cpu, op: number): void {
    return;
}

function op91(c: Cpu, op: number): void {
  {
    const r = op & 7;
    const a = getRV(c, EAX);
    setRV(c, EAX, getRV(c, r));
    setRV(c, r, a);
    return;
  }
}

function op98(c: Cpu, op: number): void {
  const regs = c.regs;
  const o32 = c.o32;
  if (o32) regs[EAX] = (regs[EAX] << 16) >> 16; else setR16(c, EAX, (regs[EAX] << 24) >> 24); return;
}

function op99(c: Cpu, op: number): void {
  const regs = c.regs;
  const o32 = c.o32;
  if (o32) regs[EDX] = regs[EAX] >> 31; else setR16(c, EDX, (regs[EAX] << 16) >> 31); return;
}

function op9A(c: Cpu, op: number): void {
  { // CALL far ptr16:16/32
    const off = fetchImmV(c);
    const sel = c.fetch16();
    c.callFar(sel, off >>> 0, c.eip);
    return;
  }
}

function op9B(c: Cpu, op: number): void {
  // FWAIT: unmasked pending x87 exceptions are reported here
    if ((c.cr0 & (CR0_TS | 2)) === (CR0_TS | 2)) c.raise(EX_NM);
    c.fpu.checkPending(c);
    return;
}

function op9C(c: Cpu, op: number): void {
  pushf(c); return;
}

function op9D(c: Cpu, op: number): void {
  popf(c); return;
}

function op9E(c: Cpu, op: number): void {
  const regs = c.regs;
  c.setFlags(regs[EAX] >> 8, CF | PF | AF | ZF | SF); return;
}

function op9F(c: Cpu, op: number): void {
  setR8(c, 4, (c.getFlags() & 0xd7) | 2); return;
}

function opA0(c: Cpu, op: number): void {
  const regs = c.regs;
  const o32 = c.o32;
  { // MOV AL/eAX <-> moffs
    const off = c.a32 ? c.fetch32() >>> 0 : c.fetch16();
    const seg = c.segOvr >= 0 ? c.segOvr : DS;
    if (op === 0xa0) setR8(c, EAX, c.rd8(c.linR(seg, off, 1)));
    else if (op === 0xa1) { if (o32) regs[EAX] = c.rd32(c.linR(seg, off, 4)); else setR16(c, EAX, c.rd16(c.linR(seg, off, 2))); } else if (op === 0xa2) c.wr8(c.linW(seg, off, 1), regs[EAX]);
    else if (o32) c.wr32(c.linW(seg, off, 4), regs[EAX]); else c.wr16(c.linW(seg, off, 2), regs[EAX]);
    return;
  }
}

function opA4(c: Cpu, op: number): void {
  stringOp(c, 0, 1); return;
}

function opA5(c: Cpu, op: number): void {
  const o32 = c.o32;
  stringOp(c, 0, o32 ? 4 : 2); return;
}

function opA6(c: Cpu, op: number): void {
  stringOp(c, 1, 1); return;
}

function opA7(c: Cpu, op: number): void {
  const o32 = c.o32;
  stringOp(c, 1, o32 ? 4 : 2); return;
}

function opA8(c: Cpu, op: number): void {
  const regs = c.regs;
  c.alu(4, regs[EAX] & 0xff, c.fetch8(), 0xff); return;
}

function opA9(c: Cpu, op: number): void {
  const o32 = c.o32;
  c.alu(4, getRV(c, EAX), fetchImmV(c), o32 ? M32 : 0xffff); return;
}

function opAA(c: Cpu, op: number): void {
  stringOp(c, 2, 1); return;
}

function opAB(c: Cpu, op: number): void {
  const o32 = c.o32;
  stringOp(c, 2, o32 ? 4 : 2); return;
}

function opAC(c: Cpu, op: number): void {
  stringOp(c, 3, 1); return;
}

function opAD(c: Cpu, op: number): void {
  const o32 = c.o32;
  stringOp(c, 3, o32 ? 4 : 2); return;
}

function opAE(c: Cpu, op: number): void {
  stringOp(c, 4, 1); return;
}

function opAF(c: Cpu, op: number): void {
  const o32 = c.o32;
  stringOp(c, 4, o32 ? 4 : 2); return;
}

function opB0(c: Cpu, op: number): void {
    setR8(c, op & 7, c.fetch8());
    return;
}

function opB8(c: Cpu, op: number): void {
  const regs = c.regs;
  const o32 = c.o32;
    if (o32) regs[op & 7] = c.fetch32(); else setR16(c, op & 7, c.fetch16());
    return;
}

function opC0(c: Cpu, op: number): void {
  group2(c, 8, 2); return;
}

function opC1(c: Cpu, op: number): void {
  const o32 = c.o32;
  group2(c, o32 ? 32 : 16, 2); return;
}

function opC2(c: Cpu, op: number): void {
  const o32 = c.o32;
  { // RET near [imm16]
    const imm = op === 0xc2 ? c.fetch16() : 0;
    const target = o32 ? c.peek32(0) >>> 0 : c.peek16(0);
    jumpTo(c, target);
    c.adjustSp((o32 ? 4 : 2) + imm);
    return;
  }
}

function opC4(c: Cpu, op: number): void {
  loadFarPointer(c, ES); return;
}

function opC5(c: Cpu, op: number): void {
  loadFarPointer(c, DS); return;
}

function opC6(c: Cpu, op: number): void {
  {
    decodeModrm(c);
    if (c.modrm & 0x38) c.raise(EX_UD);
    if (c.modrm >= 0xc0) { setR8(c, c.modrm & 7, c.fetch8()); return; }
    const imm = c.fetch8();
    c.wr8(c.linW(c.eaSeg, c.eaOff, 1), imm);
    return;
  }
}

function opC7(c: Cpu, op: number): void {
  {
    decodeModrm(c);
    if (c.modrm & 0x38) c.raise(EX_UD);
    if (c.modrm >= 0xc0) { setRV(c, c.modrm & 7, fetchImmV(c)); return; }
    const imm = fetchImmV(c);
    writeEV(c, imm);
    return;
  }
}

function opC8(c: Cpu, op: number): void {
  enter(c); return;
}

function opC9(c: Cpu, op: number): void {
  const regs = c.regs;
  const o32 = c.o32;
  { // LEAVE
    const bp = c.ss32 ? regs[EBP] >>> 0 : regs[EBP] & 0xffff;
    const v = o32 ? c.rd32(c.linR(SS, bp, 4)) : c.rd16(c.linR(SS, bp, 2));
    if (c.ss32) regs[ESP] = bp + (o32 ? 4 : 2); else setR16(c, ESP, bp + (o32 ? 4 : 2));
    setRV(c, EBP, v);
    return;
  }
}

function opCA(c: Cpu, op: number): void {
  c.retFar(c.fetch16()); return;
}

function opCB(c: Cpu, op: number): void {
  c.retFar(0); return;
}

function opCC(c: Cpu, op: number): void {
  c.interrupt(EX_BP, true, -1); return;
}

function opCD(c: Cpu, op: number): void {
  {
    const v = c.fetch8();
    // VM86: INT n (only this form, not INT3/INTO) is IOPL-sensitive
    if ((c.flags & VM) && ((c.flags & IOPL) >> 12) < 3) c.raiseGP(0);
    c.interrupt(v, true, -1);
    return;
  }
}

function opCE(c: Cpu, op: number): void {
  if (c.getOF()) c.interrupt(EX_OF, true, -1); return;
}

function opCF(c: Cpu, op: number): void {
  c.iret(); return;
}

function opD0(c: Cpu, op: number): void {
  group2(c, 8, 0); return;
}

function opD1(c: Cpu, op: number): void {
  const o32 = c.o32;
  group2(c, o32 ? 32 : 16, 0); return;
}

function opD2(c: Cpu, op: number): void {
  group2(c, 8, 1); return;
}

function opD3(c: Cpu, op: number): void {
  const o32 = c.o32;
  group2(c, o32 ? 32 : 16, 1); return;
}

function opD4(c: Cpu, op: number): void {
  const regs = c.regs;
  { // AAM
    const base = c.fetch8();
    if (base === 0) c.raise(EX_DE);
    const al = regs[EAX] & 0xff;
    const r = al % base;
    setR16(c, EAX, (Math.floor(al / base) << 8) | r);
    c.setResultFlags(r, 0xff, 0, false);
    return;
  }
}

function opD5(c: Cpu, op: number): void {
  const regs = c.regs;
  { // AAD
    const base = c.fetch8();
    const al = regs[EAX] & 0xff, ah = (regs[EAX] >> 8) & 0xff;
    const r = c.alu(0, al, (ah * base) & 0xff, 0xff);
    setR16(c, EAX, r);
    return;
  }
}

function opD6(c: Cpu, op: number): void {
  setR8(c, EAX, c.getCF() ? 0xff : 0); return; // SALC
}

function opD7(c: Cpu, op: number): void {
  const regs = c.regs;
  { // XLAT
    const seg = c.segOvr >= 0 ? c.segOvr : DS;
    const off = c.a32 ? (regs[EBX] + (regs[EAX] & 0xff)) >>> 0 : (regs[EBX] + (regs[EAX] & 0xff)) & 0xffff;
    setR8(c, EAX, c.rd8(c.linR(seg, off, 1)));
    return;
  }
}

function opD8(c: Cpu, op: number): void {
    decodeModrm(c);
    fpuAvailable(c);
    fpuExecute(c, op, c.modrm);
    return;
}

function opE0(c: Cpu, op: number): void {
  const regs = c.regs;
  { // LOOPNE/LOOPE/LOOP
    const d = fetchS8(c);
    let cnt: number;
    if (c.a32) { cnt = (regs[ECX] - 1) | 0; regs[ECX] = cnt; } else { cnt = (regs[ECX] - 1) & 0xffff; setR16(c, ECX, cnt); }
    const take = cnt !== 0 && (op === 0xe2 || (op === 0xe1 ? c.getZF() : !c.getZF()));
    if (take) jumpTo(c, c.eip + d);
    return;
  }
}

function opE3(c: Cpu, op: number): void {
  const regs = c.regs;
  {
    const d = fetchS8(c);
    if ((c.a32 ? regs[ECX] : regs[ECX] & 0xffff) === 0) jumpTo(c, c.eip + d);
    return;
  }
}

function opE4(c: Cpu, op: number): void {
  { const p = c.fetch8(); c.checkIo(p, 1); setR8(c, EAX, c.io.read8(p)); return; }
}

function opE5(c: Cpu, op: number): void {
  const regs = c.regs;
  const o32 = c.o32;
  { const p = c.fetch8(); c.checkIo(p, o32 ? 4 : 2); if (o32) regs[EAX] = c.io.read32(p); else setR16(c, EAX, c.io.read16(p)); return; }
}

function opE6(c: Cpu, op: number): void {
  const regs = c.regs;
  { const p = c.fetch8(); c.checkIo(p, 1); c.io.write8(p, regs[EAX] & 0xff); return; }
}

function opE7(c: Cpu, op: number): void {
  const regs = c.regs;
  const o32 = c.o32;
  { const p = c.fetch8(); c.checkIo(p, o32 ? 4 : 2); if (o32) c.io.write32(p, regs[EAX]); else c.io.write16(p, regs[EAX] & 0xffff); return; }
}

function opE8(c: Cpu, op: number): void {
  const o32 = c.o32;
  { // CALL rel
    const d = o32 ? c.fetch32() : (c.fetch16() << 16) >> 16;
    const ret = c.eip;
    const target = o32 ? (ret + d) >>> 0 : (ret + d) & 0xffff;
    if (target > c.segLimit[CS]) c.raiseGP(0);
    c.pushV(ret);
    c.eip = target;
    return;
  }
}

function opE9(c: Cpu, op: number): void {
  const o32 = c.o32;
  { const d = o32 ? c.fetch32() : (c.fetch16() << 16) >> 16; jumpTo(c, c.eip + d); return; }
}

function opEA(c: Cpu, op: number): void {
  { const off = fetchImmV(c); const sel = c.fetch16(); c.jmpFar(sel, off >>> 0); return; }
}

function opEB(c: Cpu, op: number): void {
  { const d = fetchS8(c); jumpTo(c, c.eip + d); return; }
}

function opEC(c: Cpu, op: number): void {
  const regs = c.regs;
  { const p = regs[EDX] & 0xffff; c.checkIo(p, 1); setR8(c, EAX, c.io.read8(p)); return; }
}

function opED(c: Cpu, op: number): void {
  const regs = c.regs;
  const o32 = c.o32;
  { const p = regs[EDX] & 0xffff; c.checkIo(p, o32 ? 4 : 2); if (o32) regs[EAX] = c.io.read32(p); else setR16(c, EAX, c.io.read16(p)); return; }
}

function opEE(c: Cpu, op: number): void {
  const regs = c.regs;
  { const p = regs[EDX] & 0xffff; c.checkIo(p, 1); c.io.write8(p, regs[EAX] & 0xff); return; }
}

function opEF(c: Cpu, op: number): void {
  const regs = c.regs;
  const o32 = c.o32;
  { const p = regs[EDX] & 0xffff; c.checkIo(p, o32 ? 4 : 2); if (o32) c.io.write32(p, regs[EAX]); else c.io.write16(p, regs[EAX] & 0xffff); return; }
}

function opF1(c: Cpu, op: number): void {
  c.dr[6] |= 0; c.interrupt(EX_DB, false, -1); return; // ICEBP: #DB as a trap, no DPL check
}

function opF4(c: Cpu, op: number): void {
  // HLT
    requireCpl0(c);
    c.halted = true;
    c.attention = true;
    return;
}

function opF5(c: Cpu, op: number): void {
  c.materializeCF(); c.flags ^= CF; return;
}

function opF6(c: Cpu, op: number): void {
  group3(c, 8); return;
}

function opF7(c: Cpu, op: number): void {
  const o32 = c.o32;
  group3(c, o32 ? 32 : 16); return;
}

function opF8(c: Cpu, op: number): void {
  c.materializeCF(); c.flags &= ~CF; return;
}

function opF9(c: Cpu, op: number): void {
  c.materializeCF(); c.flags |= CF; return;
}

function opFA(c: Cpu, op: number): void {
  // CLI
    if (c.protectedMode && ((c.flags & VM) ? ((c.flags & IOPL) >> 12) < 3 : c.cpl > ((c.flags & IOPL) >> 12))) c.raiseGP(0);
    c.flags &= ~IF;
    return;
}

function opFB(c: Cpu, op: number): void {
  // STI: interrupts stay blocked until after the next instruction
    if (c.protectedMode && ((c.flags & VM) ? ((c.flags & IOPL) >> 12) < 3 : c.cpl > ((c.flags & IOPL) >> 12))) c.raiseGP(0);
    if (!(c.flags & IF)) { c.flags |= IF; c.inhibitIrq = true; c.attention = true; }
    return;
}

function opFC(c: Cpu, op: number): void {
  c.flags &= ~DF; return;
}

function opFD(c: Cpu, op: number): void {
  c.flags |= DF; return;
}

function opFE(c: Cpu, op: number): void {
  { // INC/DEC Eb
    decodeModrm(c);
    const sub = (c.modrm >> 3) & 7;
    if (sub > 1) c.raise(EX_UD);
    if (c.modrm >= 0xc0) {
      const rm = c.modrm & 7;
      setR8(c, rm, sub === 0 ? c.inc(getR8(c, rm), 0xff) : c.dec(getR8(c, rm), 0xff));
    } else {
      const lin = eaLinW(c, 1);
      const v = c.rd8(lin);
      c.wr8(lin, sub === 0 ? c.inc(v, 0xff) : c.dec(v, 0xff));
    }
    return;
  }
}

function opFF(c: Cpu, op: number): void {
  group5(c); return;
}

function opUD(c: Cpu, _op: number): void { c.raise(EX_UD); }

/** Dispatch table for one-byte opcodes. */
const OPS: ((c: Cpu, op: number) => void)[] = new Array(256).fill(opUD);
OPS[0x00] = op00;
OPS[0x08] = op00;
OPS[0x10] = op00;
OPS[0x18] = op00;
OPS[0x20] = op00;
OPS[0x28] = op00;
OPS[0x30] = op00;
OPS[0x38] = op00;
OPS[0x01] = op01;
OPS[0x09] = op01;
OPS[0x11] = op01;
OPS[0x19] = op01;
OPS[0x21] = op01;
OPS[0x29] = op01;
OPS[0x31] = op01;
OPS[0x39] = op01;
OPS[0x02] = op02;
OPS[0x0a] = op02;
OPS[0x12] = op02;
OPS[0x1a] = op02;
OPS[0x22] = op02;
OPS[0x2a] = op02;
OPS[0x32] = op02;
OPS[0x3a] = op02;
OPS[0x03] = op03;
OPS[0x0b] = op03;
OPS[0x13] = op03;
OPS[0x1b] = op03;
OPS[0x23] = op03;
OPS[0x2b] = op03;
OPS[0x33] = op03;
OPS[0x3b] = op03;
OPS[0x04] = op04;
OPS[0x0c] = op04;
OPS[0x14] = op04;
OPS[0x1c] = op04;
OPS[0x24] = op04;
OPS[0x2c] = op04;
OPS[0x34] = op04;
OPS[0x3c] = op04;
OPS[0x05] = op05;
OPS[0x0d] = op05;
OPS[0x15] = op05;
OPS[0x1d] = op05;
OPS[0x25] = op05;
OPS[0x2d] = op05;
OPS[0x35] = op05;
OPS[0x3d] = op05;
OPS[0x06] = op06;
OPS[0x0e] = op0E;
OPS[0x16] = op16;
OPS[0x1e] = op1E;
OPS[0x07] = op07;
OPS[0x17] = op07;
OPS[0x1f] = op07;
OPS[0x0f] = op0F;
OPS[0x27] = op27;
OPS[0x2f] = op2F;
OPS[0x37] = op37;
OPS[0x3f] = op3F;
OPS[0x40] = op40;
OPS[0x41] = op40;
OPS[0x42] = op40;
OPS[0x43] = op40;
OPS[0x44] = op40;
OPS[0x45] = op40;
OPS[0x46] = op40;
OPS[0x47] = op40;
OPS[0x48] = op48;
OPS[0x49] = op48;
OPS[0x4a] = op48;
OPS[0x4b] = op48;
OPS[0x4c] = op48;
OPS[0x4d] = op48;
OPS[0x4e] = op48;
OPS[0x4f] = op48;
OPS[0x50] = op50;
OPS[0x51] = op50;
OPS[0x52] = op50;
OPS[0x53] = op50;
OPS[0x54] = op50;
OPS[0x55] = op50;
OPS[0x56] = op50;
OPS[0x57] = op50;
OPS[0x58] = op58;
OPS[0x59] = op58;
OPS[0x5a] = op58;
OPS[0x5b] = op58;
OPS[0x5c] = op58;
OPS[0x5d] = op58;
OPS[0x5e] = op58;
OPS[0x5f] = op58;
OPS[0x60] = op60;
OPS[0x61] = op61;
OPS[0x62] = op62;
OPS[0x63] = op63;
OPS[0x68] = op68;
OPS[0x69] = op69;
OPS[0x6b] = op69;
OPS[0x6a] = op6A;
OPS[0x6c] = op6C;
OPS[0x6d] = op6D;
OPS[0x6e] = op6E;
OPS[0x6f] = op6F;
OPS[0x70] = op70;
OPS[0x71] = op70;
OPS[0x72] = op70;
OPS[0x73] = op70;
OPS[0x74] = op70;
OPS[0x75] = op70;
OPS[0x76] = op70;
OPS[0x77] = op70;
OPS[0x78] = op70;
OPS[0x79] = op70;
OPS[0x7a] = op70;
OPS[0x7b] = op70;
OPS[0x7c] = op70;
OPS[0x7d] = op70;
OPS[0x7e] = op70;
OPS[0x7f] = op70;
OPS[0x80] = op80;
OPS[0x82] = op80;
OPS[0x81] = op81;
OPS[0x83] = op81;
OPS[0x84] = op84;
OPS[0x85] = op85;
OPS[0x86] = op86;
OPS[0x87] = op87;
OPS[0x88] = op88;
OPS[0x89] = op89;
OPS[0x8a] = op8A;
OPS[0x8b] = op8B;
OPS[0x8c] = op8C;
OPS[0x8d] = op8D;
OPS[0x8e] = op8E;
OPS[0x8f] = op8F;
OPS[0x90] = op90;
OPS[0x91] = op91;
OPS[0x92] = op91;
OPS[0x93] = op91;
OPS[0x94] = op91;
OPS[0x95] = op91;
OPS[0x96] = op91;
OPS[0x97] = op91;
OPS[0x98] = op98;
OPS[0x99] = op99;
OPS[0x9a] = op9A;
OPS[0x9b] = op9B;
OPS[0x9c] = op9C;
OPS[0x9d] = op9D;
OPS[0x9e] = op9E;
OPS[0x9f] = op9F;
OPS[0xa0] = opA0;
OPS[0xa1] = opA0;
OPS[0xa2] = opA0;
OPS[0xa3] = opA0;
OPS[0xa4] = opA4;
OPS[0xa5] = opA5;
OPS[0xa6] = opA6;
OPS[0xa7] = opA7;
OPS[0xa8] = opA8;
OPS[0xa9] = opA9;
OPS[0xaa] = opAA;
OPS[0xab] = opAB;
OPS[0xac] = opAC;
OPS[0xad] = opAD;
OPS[0xae] = opAE;
OPS[0xaf] = opAF;
OPS[0xb0] = opB0;
OPS[0xb1] = opB0;
OPS[0xb2] = opB0;
OPS[0xb3] = opB0;
OPS[0xb4] = opB0;
OPS[0xb5] = opB0;
OPS[0xb6] = opB0;
OPS[0xb7] = opB0;
OPS[0xb8] = opB8;
OPS[0xb9] = opB8;
OPS[0xba] = opB8;
OPS[0xbb] = opB8;
OPS[0xbc] = opB8;
OPS[0xbd] = opB8;
OPS[0xbe] = opB8;
OPS[0xbf] = opB8;
OPS[0xc0] = opC0;
OPS[0xc1] = opC1;
OPS[0xc2] = opC2;
OPS[0xc3] = opC2;
OPS[0xc4] = opC4;
OPS[0xc5] = opC5;
OPS[0xc6] = opC6;
OPS[0xc7] = opC7;
OPS[0xc8] = opC8;
OPS[0xc9] = opC9;
OPS[0xca] = opCA;
OPS[0xcb] = opCB;
OPS[0xcc] = opCC;
OPS[0xcd] = opCD;
OPS[0xce] = opCE;
OPS[0xcf] = opCF;
OPS[0xd0] = opD0;
OPS[0xd1] = opD1;
OPS[0xd2] = opD2;
OPS[0xd3] = opD3;
OPS[0xd4] = opD4;
OPS[0xd5] = opD5;
OPS[0xd6] = opD6;
OPS[0xd7] = opD7;
OPS[0xd8] = opD8;
OPS[0xd9] = opD8;
OPS[0xda] = opD8;
OPS[0xdb] = opD8;
OPS[0xdc] = opD8;
OPS[0xdd] = opD8;
OPS[0xde] = opD8;
OPS[0xdf] = opD8;
OPS[0xe0] = opE0;
OPS[0xe1] = opE0;
OPS[0xe2] = opE0;
OPS[0xe3] = opE3;
OPS[0xe4] = opE4;
OPS[0xe5] = opE5;
OPS[0xe6] = opE6;
OPS[0xe7] = opE7;
OPS[0xe8] = opE8;
OPS[0xe9] = opE9;
OPS[0xea] = opEA;
OPS[0xeb] = opEB;
OPS[0xec] = opEC;
OPS[0xed] = opED;
OPS[0xee] = opEE;
OPS[0xef] = opEF;
OPS[0xf1] = opF1;
OPS[0xf4] = opF4;
OPS[0xf5] = opF5;
OPS[0xf6] = opF6;
OPS[0xf7] = opF7;
OPS[0xf8] = opF8;
OPS[0xf9] = opF9;
OPS[0xfa] = opFA;
OPS[0xfb] = opFB;
OPS[0xfc] = opFC;
OPS[0xfd] = opFD;
OPS[0xfe] = opFE;
OPS[0xff] = opFF;

export function executeOne(c: Cpu): void {
  // Prefix state is reset only when the previous instruction used prefixes (or the mode
  // changed): most instructions have none, and four stores per instruction add up.
  if (c.prefixDirty) {
    c.o32 = c.code32; c.a32 = c.code32; c.segOvr = -1; c.rep = 0; c.prefixDirty = false;
  }
  const op = c.fetch8();
  if (PREFIX[op]) { decodePrefixes(c, op); return; }
  OPS[op](c, op);
}

function decodePrefixes(c: Cpu, op: number): void {
  c.prefixDirty = true;
  let n = 0;
  let lock = false;
  do {
    switch (op) {
      case 0x26: c.segOvr = ES; break;
      case 0x2e: c.segOvr = CS; break;
      case 0x36: c.segOvr = SS; break;
      case 0x3e: c.segOvr = DS; break;
      case 0x64: c.segOvr = FS; break;
      case 0x65: c.segOvr = GS; break;
      case 0x66: c.o32 = !c.code32; break;
      case 0x67: c.a32 = !c.code32; break;
      case 0xf0: lock = true; break; // single CPU: LOCK only has to be validated
      default: c.rep = op; break;
    }
    if (++n >= 15) c.raiseGP(0);
    op = c.fetch8();
  } while (PREFIX[op]);
  if (lock && !lockable(c, op)) c.raise(EX_UD);
  OPS[op](c, op);
}

/** One-byte opcodes LOCK may prefix (with a memory destination); 0x80-0x83 exclude CMP below. */
const LOCKABLE1 = new Set([0x00, 0x01, 0x08, 0x09, 0x10, 0x11, 0x18, 0x19, 0x20, 0x21, 0x28, 0x29, 0x30, 0x31, 0x80, 0x81, 0x83, 0x86, 0x87, 0xf6, 0xf7, 0xfe, 0xff]);
const LOCKABLE0F = new Set([0xab, 0xb3, 0xbb, 0xba, 0xb0, 0xb1, 0xc0, 0xc1, 0xc7]);

/**
 * SDM (LOCK): #UD unless the instruction is one of ADD ADC AND BTC BTR BTS CMPXCHG CMPXCHG8B DEC
 * INC NEG NOT OR SBB SUB XOR XADD XCHG with a memory destination. Peeks at the opcode/ModRM
 * bytes and puts EIP back (a fault rewinds to the instruction start anyway).
 */
function lockable(c: Cpu, op: number): boolean {
  const at = c.eip;
  let ok: boolean;
  if (op === 0x0f) {
    const op2 = c.fetch8();
    const modrm = c.fetch8();
    const reg = (modrm >> 3) & 7;
    ok = LOCKABLE0F.has(op2) && modrm < 0xc0 && (op2 !== 0xba || reg >= 5) && (op2 !== 0xc7 || reg === 1);
  } else if (LOCKABLE1.has(op)) {
    const modrm = c.fetch8();
    const reg = (modrm >> 3) & 7;
    if (modrm >= 0xc0) ok = false;
    else if (op >= 0x80 && op <= 0x83) ok = reg !== 7; // not CMP
    else if (op === 0xf6 || op === 0xf7) ok = reg === 2 || reg === 3; // NOT, NEG
    else if (op === 0xfe || op === 0xff) ok = reg <= 1; // INC, DEC
    else ok = true;
  } else ok = false;
  c.eip = at;
  return ok;
}

function group5(c: Cpu): void {
  decodeModrm(c);
  const sub = (c.modrm >> 3) & 7;
  const o32 = c.o32;
  const m = o32 ? M32 : 0xffff;
  switch (sub) {
    case 0: case 1: {
      if (c.modrm >= 0xc0) {
        const rm = c.modrm & 7;
        setRV(c, rm, sub === 0 ? c.inc(getRV(c, rm), m) : c.dec(getRV(c, rm), m));
      } else {
        const lin = eaLinW(c, o32 ? 4 : 2);
        const v = o32 ? c.rd32(lin) : c.rd16(lin);
        const r = sub === 0 ? c.inc(v, m) : c.dec(v, m);
        if (o32) c.wr32(lin, r); else c.wr16(lin, r);
      }
      return;
    }
    case 2: { // CALL near indirect
      const target = o32 ? readE32(c) >>> 0 : readE16(c);
      if (target > c.segLimit[CS]) c.raiseGP(0);
      c.pushV(c.eip);
      c.eip = target;
      return;
    }
    case 3: case 5: { // CALL/JMP far indirect
      if (c.modrm >= 0xc0) c.raise(EX_UD);
      const off = o32 ? c.rd32(c.linR(c.eaSeg, c.eaOff, 4)) >>> 0 : c.rd16(c.linR(c.eaSeg, c.eaOff, 2));
      const sel = c.rd16(c.linR(c.eaSeg, (c.eaOff + (o32 ? 4 : 2)) >>> 0, 2));
      if (sub === 3) c.callFar(sel, off, c.eip); else c.jmpFar(sel, off);
      return;
    }
    case 4: { jumpTo(c, o32 ? readE32(c) : readE16(c)); return; }
    case 6: c.pushV(readEV(c)); return;
    default: c.raise(EX_UD);
  }
}

