// x87 FPU. Precision: values are held as IEEE double (53-bit significand), not 80-bit extended.
// Loads/stores of m80 convert (rounding to double on load); the precision-control field is
// recorded but arithmetic always rounds to double, in the direction the rounding-control field
// selects for the basic operations (add/sub/mul/div/sqrt), integer conversions (FIST/FISTP/
// FRNDINT) and single-precision stores; transcendentals round to nearest.
// Status/control/tag words, the register stack, stack faults, the exception flags with their
// masks, and the FSAVE/FRSTOR/FSTENV/FLDENV memory images are exact. Unmasked exceptions set ES/B and raise #MF at the next waiting FPU
// instruction when CR0.NE is set (the P6 native mode Linux uses).

import type { Cpu } from './cpu';

const IE = 0x01, DE = 0x02, ZE = 0x04, OE = 0x08, UE = 0x10, PE = 0x20, SF = 0x40, ES = 0x80;
const C0 = 0x100, C1 = 0x200, C2 = 0x400, C3 = 0x4000, BUSY = 0x8000;
const TAG_VALID = 0, TAG_ZERO = 1, TAG_SPECIAL = 2, TAG_EMPTY = 3;
const EFL_CF = 1, EFL_PF = 4, EFL_ZF = 0x40;

/** A QNaN with the sign set: the x87 "real indefinite" (built from its bits: `-NaN` loses the sign). */
const INDEFINITE = new Float64Array(new Uint32Array([0, 0xfff80000]).buffer)[0];

const f64 = new Float64Array(1);
const u32 = new Uint32Array(f64.buffer);
const f32 = new Float32Array(1);
const u32f = new Uint32Array(f32.buffer);

export class Fpu {
  /** Physical registers R0..R7; ST(i) is R[(top + i) & 7]. */
  readonly regs = new Float64Array(8);
  /** 2-bit tags per physical register (only "empty" vs "in use" is authoritative; others are derived). */
  readonly tags = new Uint8Array(8).fill(TAG_EMPTY);
  control = 0x37f;
  /** Status word without TOP (bits 11-13 come from `top`). */
  status = 0;
  top = 0;
  fip = 0; fcs = 0; fop = 0; fdp = 0; fds = 0;

  reset(): void {
    this.control = 0x37f;
    this.status = 0;
    this.top = 0;
    this.tags.fill(TAG_EMPTY);
    this.regs.fill(0);
    this.fip = 0; this.fcs = 0; this.fop = 0; this.fdp = 0; this.fds = 0;
  }

  get statusWord(): number { return (this.status & ~0x3800) | (this.top << 11); }

  get tagWord(): number {
    let w = 0;
    for (let i = 0; i < 8; i++) w |= this.fullTag(i) << (i * 2);
    return w;
  }

  fullTag(phys: number): number {
    if (this.tags[phys] === TAG_EMPTY) return TAG_EMPTY;
    const v = this.regs[phys];
    if (v === 0) return TAG_ZERO;
    if (!Number.isFinite(v) || Math.abs(v) < 2.2250738585072014e-308) return TAG_SPECIAL;
    return TAG_VALID;
  }

  setTagWord(w: number): void {
    for (let i = 0; i < 8; i++) this.tags[i] = ((w >> (i * 2)) & 3) === TAG_EMPTY ? TAG_EMPTY : TAG_VALID;
  }

  st(i: number): number { return this.regs[(this.top + i) & 7]; }
  isEmpty(i: number): boolean { return this.tags[(this.top + i) & 7] === TAG_EMPTY; }

  /** Raise FPU exception flags; returns true when all of them are masked (continue with the default result). */
  signal(flags: number): boolean {
    this.status |= flags;
    const unmasked = flags & ~this.control & 0x3f;
    if (unmasked) { this.status |= ES | BUSY; return false; }
    return true;
  }

  push(v: number): void {
    const t = (this.top - 1) & 7;
    if (this.tags[t] !== TAG_EMPTY) {
      this.status |= C1;
      if (!this.signal(IE | SF)) return;
      v = INDEFINITE;
    } else this.status &= ~C1;
    this.top = t;
    this.regs[t] = v;
    this.tags[t] = TAG_VALID;
  }

  pop(): void {
    this.tags[this.top] = TAG_EMPTY;
    this.top = (this.top + 1) & 7;
  }

  setSt(i: number, v: number): void {
    const p = (this.top + i) & 7;
    this.regs[p] = v;
    this.tags[p] = TAG_VALID;
  }

  /** Read ST(i) for an operation; on stack underflow signal it. Returns null when the op must be skipped. */
  read(i: number): number | null {
    if (this.isEmpty(i)) {
      this.status &= ~C1;
      if (!this.signal(IE | SF)) return null;
      return INDEFINITE;
    }
    return this.st(i);
  }

  checkPending(c: Cpu): void {
    if ((this.status & ES) && (c.cr0 & 0x20)) c.raise(16);
  }
}

// ---------------------------------------------------------------------------------------
// Conversions
// ---------------------------------------------------------------------------------------

/** 80-bit extended (mantissa lo/hi 32 bits, sign+exponent 16 bits) to double. */
export function extToDouble(lo: number, hi: number, se: number): number {
  const sign = se & 0x8000 ? -1 : 1;
  const exp = se & 0x7fff;
  const mant = (hi >>> 0) * 4294967296 + (lo >>> 0);
  if (exp === 0) return mant === 0 ? sign * 0 : sign * mant * Math.pow(2, -16382 - 63);
  if (exp === 0x7fff) {
    if ((hi & 0x7fffffff) === 0 && lo === 0) return sign * Infinity;
    return NaN;
  }
  return sign * mant * Math.pow(2, exp - 16383 - 63);
}

/** Double to 80-bit extended: [lo, hi, signExp]. */
export function doubleToExt(v: number): [number, number, number] {
  f64[0] = v;
  const sign = (u32[1] >>> 31) << 15;
  const e = (u32[1] >>> 20) & 0x7ff;
  let mhi = ((u32[1] & 0xfffff) << 11) | (u32[0] >>> 21);
  let mlo = u32[0] << 11;
  if (e === 0x7ff) {
    if (Number.isNaN(v)) return [0, 0xc0000000 | 0, sign | 0x7fff];
    return [0, 0x80000000 | 0, sign | 0x7fff];
  }
  if (e === 0) {
    if (mhi === 0 && mlo === 0) return [0, 0, sign];
    // double denormal: normalise into the wider exponent range
    let exp = 1 - 1023 + 16383;
    while (!(mhi & 0x80000000)) { mhi = (mhi << 1) | (mlo >>> 31); mlo <<= 1; exp--; }
    return [mlo | 0, mhi | 0, sign | exp];
  }
  return [mlo | 0, (mhi | 0x80000000) | 0, sign | (e - 1023 + 16383)];
}

function roundByControl(v: number, control: number): number {
  switch ((control >> 10) & 3) {
    case 0: { // nearest even
      const r = Math.round(v);
      return (r - v === 0.5 && r % 2 !== 0) ? r - 1 : r;
    }
    case 1: return Math.floor(v);
    case 2: return Math.ceil(v);
    default: return Math.trunc(v);
  }
}

// ---------------------------------------------------------------------------------------
// Memory operands
// ---------------------------------------------------------------------------------------

function lin(c: Cpu, delta: number, size: number, write: boolean): number {
  const off = c.a32 ? (c.eaOff + delta) >>> 0 : (c.eaOff + delta) & 0xffff;
  return write ? c.linW(c.eaSeg, off, size) : c.linR(c.eaSeg, off, size);
}

function readM32f(c: Cpu): number { u32f[0] = c.rd32(lin(c, 0, 4, false)); return f32[0]; }
function readM64f(c: Cpu): number {
  const lo = c.rd32(lin(c, 0, 8, false)), hi = c.rd32(lin(c, 4, 4, false));
  u32[0] = lo; u32[1] = hi; return f64[0];
}
function readM80(c: Cpu): number {
  const lo = c.rd32(lin(c, 0, 10, false)), hi = c.rd32(lin(c, 4, 4, false)), se = c.rd16(lin(c, 8, 2, false));
  return extToDouble(lo, hi, se);
}
function readI16(c: Cpu): number { return (c.rd16(lin(c, 0, 2, false)) << 16) >> 16; }
function readI32(c: Cpu): number { return c.rd32(lin(c, 0, 4, false)); }
function readI64(c: Cpu): number {
  const lo = c.rd32(lin(c, 0, 8, false)) >>> 0, hi = c.rd32(lin(c, 4, 4, false));
  return hi * 4294967296 + lo;
}

function writeM32f(c: Cpu, v: number): void {
  f32[0] = v; // round to nearest even
  if (f32[0] !== v && !Number.isNaN(v)) {
    c.fpu.signal(PE);
    // Directed rounding (RC): step one single-precision ulp when nearest went the wrong way
    // (this also turns an overflow to infinity into the largest finite value where RC says so).
    const r = f32[0], rc = (c.fpu.control >> 10) & 3;
    const neg = (u32f[0] >>> 31) !== 0;
    if ((rc === 1 && r > v) || (rc === 2 && r < v) || (rc === 3 && Math.abs(r) > Math.abs(v))) {
      // the bit pattern orders magnitudes: +1 grows |r|, -1 shrinks it (to 0x7f7fffff from inf)
      const magnitudeUp = (rc === 1 && neg) || (rc === 2 && !neg);
      u32f[0] = magnitudeUp ? u32f[0] + 1 : u32f[0] - 1;
    }
  }
  c.wr32(lin(c, 0, 4, true), u32f[0]);
}
function writeM64f(c: Cpu, v: number): void {
  const a = lin(c, 0, 8, true), b = lin(c, 4, 4, true);
  f64[0] = v; c.wr32(a, u32[0]); c.wr32(b, u32[1]);
}
function writeM80(c: Cpu, v: number): void {
  const a = lin(c, 0, 10, true), b = lin(c, 4, 4, true), s = lin(c, 8, 2, true);
  const [lo, hi, se] = doubleToExt(v);
  c.wr32(a, lo); c.wr32(b, hi); c.wr16(s, se);
}

/** Integer conversion for FIST: rounds by RC; out of range -> IE and the integer indefinite. */
function toInt(f: Fpu, v: number, bits: number): number | null {
  const r = roundByControl(v, f.control);
  const lim = Math.pow(2, bits - 1);
  if (!Number.isFinite(r) || r >= lim || r < -lim) {
    if (!f.signal(IE)) return null;
    return -lim;
  }
  if (r !== v) f.signal(PE);
  return r;
}

function writeInt(c: Cpu, v: number, bits: number): void {
  if (bits === 16) c.wr16(lin(c, 0, 2, true), v);
  else if (bits === 32) c.wr32(lin(c, 0, 4, true), v);
  else {
    const a = lin(c, 0, 8, true), b = lin(c, 4, 4, true);
    const big = BigInt.asUintN(64, BigInt(v));
    c.wr32(a, Number(big & 0xffffffffn)); c.wr32(b, Number(big >> 32n));
  }
}

// ---------------------------------------------------------------------------------------
// Arithmetic
// ---------------------------------------------------------------------------------------

/** The eight D8/DC/DA/DE arithmetic forms: ADD MUL COM COMP SUB SUBR DIV DIVR. */
function arith(f: Fpu, op: number, a: number, b: number): number | null {
  // Register values are quiet NaNs (loads quiet signalling ones and raise IE there), and a quiet
  // NaN operand propagates without IE (SDM, x87 NaN handling): the NaN with the larger significand.
  if (Number.isNaN(a) || Number.isNaN(b)) return propagateNaN(a, b);
  let r: number;
  switch (op) {
    case 0: r = a + b; break;
    case 1: r = a * b; break;
    case 4: r = a - b; break;
    case 5: r = b - a; break;
    case 6: r = divide(f, a, b); break;
    default: r = divide(f, b, a); break;
  }
  // inf-inf, 0*inf, 0/0, inf/inf: invalid operation, the result is the real indefinite
  if (Number.isNaN(r)) return f.signal(IE) ? INDEFINITE : null;
  if (!Number.isFinite(r) && Number.isFinite(a) && Number.isFinite(b) && !((op === 6 && b === 0) || (op === 7 && a === 0))) {
    if (!f.signal(OE | PE)) return null;
  } else {
    const err = roundingError(op, a, b, r);
    if (err !== 0) {
      if (!f.signal(PE)) return null;
      r = applyRounding(r, err, f.control);
    }
  }
  return r;
}

/** The QNaN result of an operation on NaN operand(s): the NaN, or of two the larger significand. */
function propagateNaN(a: number, b: number): number {
  if (!Number.isNaN(b)) return a;
  if (!Number.isNaN(a)) return b;
  f64[0] = a;
  const ah = u32[1] & 0xfffff, al = u32[0] >>> 0;
  f64[0] = b;
  const bh = u32[1] & 0xfffff, bl = u32[0] >>> 0;
  return ah > bh || (ah === bh && al >= bl) ? a : b;
}

/** Unbiased binary exponent of a finite non-zero double (denormals included), as x87 sees it. */
function exponentOf(v: number): number {
  f64[0] = v;
  const e = (u32[1] >>> 20) & 0x7ff;
  if (e !== 0) return e - 1023;
  const hi = u32[1] & 0xfffff;
  return hi !== 0 ? -1023 - (Math.clz32(hi) - 12) : -1043 - Math.clz32(u32[0]);
}

/**
 * FPREM (truncated quotient) / FPREM1 (nearest): [remainder, low 3 quotient bits, partial].
 * The x87 reduces at most 63 exponent bits per instruction: beyond that it returns a partial
 * remainder with C2 set, reducing by 32 + (D mod 32) bits (SDM leaves N to the implementation;
 * this is AMD's documented choice, which Intel parts and QEMU follow, and it makes the last
 * step of a FPREM loop yield the right quotient bits). JS `%` is the exact fmod.
 */
function partialRemainder(x: number, y: number, nearest: boolean): [number, number, boolean] {
  if (x === 0 || !Number.isFinite(y)) return [x, 0, false];
  const d = exponentOf(x) - exponentOf(y);
  if (d >= 64) {
    const n = 32 + (d % 32);
    let chunk = Math.abs(y);
    for (let k = d - n; k > 0; k -= 1000) chunk *= Math.pow(2, Math.min(k, 1000)); // 2^k alone may overflow
    return [x % chunk, 0, true];
  }
  let r = x % y;
  const ay = Math.abs(y);
  // low three bits of the truncated quotient, exactly: ((x mod 8y) - (x mod y)) / y in 0..7
  let q = Math.round(Math.abs((x % (8 * ay)) - r) / ay) & 7;
  if (nearest) {
    const ar = Math.abs(r);
    if (ar > ay / 2 || (ar === ay / 2 && (q & 1))) { r -= Math.sign(x) * ay; q = (q + 1) & 7; }
  }
  return [r, q, false];
}

/** Error term of the product a*b (Dekker/Veltkamp): 0 when p = a*b is exact. */
function productError(a: number, b: number, p: number): number {
  const ca = 134217729 * a, ah = ca - (ca - a), al = a - ah;
  const cb = 134217729 * b, bh = cb - (cb - b), bl = b - bh;
  return ((ah * bh - p) + ah * bl + al * bh) + al * bl;
}

/**
 * Sign of (exact a op b) - r, where r is the double-rounded result: 0 when r is exact (drives
 * PE), else which way rounding to nearest went (drives directed rounding). Error-free
 * transforms: TwoSum for sums, Dekker's product error for products and quotients.
 */
function roundingError(op: number, a: number, b: number, r: number): number {
  if (!Number.isFinite(r) || !Number.isFinite(a) || !Number.isFinite(b)) return 0;
  switch (op) {
    case 0: case 4: case 5: { // sums: TwoSum error term
      const x = op === 5 ? b : a, y = op === 0 ? b : op === 4 ? -b : -a;
      const bb = r - x;
      return Math.sign((x - (r - bb)) + (y - bb));
    }
    case 1: return Math.sign(productError(a, b, r));
    case 6: return quotientError(a, b, r);
    default: return quotientError(b, a, r);
  }
}

/** Sign of n/d - q for q = n/d rounded: n - q*d = (n - p) - pe exactly (p = q*d rounded). */
function quotientError(n: number, d: number, q: number): number {
  if (d === 0) return 0;
  const p = q * d;
  return Math.sign((n - p) - productError(q, d, p)) * Math.sign(d);
}

/**
 * Directed rounding (RC down/up/chop) of a result computed to nearest: step one ulp when nearest
 * went the wrong way (`err` = sign of exact - r).
 */
function applyRounding(r: number, err: number, control: number): number {
  const rc = (control >> 10) & 3;
  if (rc === 0 || err === 0 || !Number.isFinite(r)) return r;
  let dir = 0; // +1 toward +inf, -1 toward -inf
  if (rc === 1 && err < 0) dir = -1;
  else if (rc === 2 && err > 0) dir = 1;
  else if (rc === 3 && r !== 0 && Math.sign(err) !== Math.sign(r)) dir = -Math.sign(r);
  if (dir === 0) return r;
  if (r === 0) return dir * Number.MIN_VALUE;
  f64[0] = r;
  const grow = (r > 0) === (dir > 0);
  if (grow) { u32[0] = u32[0] + 1; if (u32[0] === 0) u32[1] = u32[1] + 1; } else { if (u32[0] === 0) u32[1] = u32[1] - 1; u32[0] = u32[0] - 1; }
  return f64[0];
}

function divide(f: Fpu, a: number, b: number): number {
  if (b === 0 && Number.isFinite(a) && a !== 0) f.signal(ZE);
  return a / b; // 0/0 and inf/inf are NaN: the caller signals IE
}

function compare(f: Fpu, a: number, b: number, unordered: boolean): void {
  let cc: number;
  if (Number.isNaN(a) || Number.isNaN(b)) { cc = C3 | C2 | C0; if (!unordered || isSignalling(a) || isSignalling(b)) f.signal(IE); } else if (a > b) cc = 0;
  else if (a < b) cc = C0;
  else cc = C3;
  f.status = (f.status & ~(C0 | C1 | C2 | C3)) | cc;
}

function isSignalling(_v: number): boolean { return false; }

function compareToEflags(c: Cpu, f: Fpu, a: number, b: number, unordered: boolean): void {
  let fl: number;
  if (Number.isNaN(a) || Number.isNaN(b)) { fl = EFL_ZF | EFL_PF | EFL_CF; if (!unordered) f.signal(IE); } else if (a > b) fl = 0;
  else if (a < b) fl = EFL_CF;
  else fl = EFL_ZF;
  f.status &= ~C1;
  c.setFlags(fl, EFL_ZF | EFL_PF | EFL_CF | 0x800 | 0x80 | 0x10);
}

function examine(f: Fpu): void {
  const p = f.top;
  const v = f.regs[p];
  let cc: number;
  if (f.tags[p] === TAG_EMPTY) cc = C3 | C0;
  else if (Number.isNaN(v)) cc = C0;
  else if (!Number.isFinite(v)) cc = C2 | C0;
  else if (v === 0) cc = C3;
  else if (Math.abs(v) < 2.2250738585072014e-308) cc = C3 | C2;
  else cc = C2;
  const neg = v < 0 || Object.is(v, -0) || (Number.isNaN(v) && signBit(v));
  f.status = (f.status & ~(C0 | C1 | C2 | C3)) | cc | (neg ? C1 : 0);
}

function signBit(v: number): boolean { f64[0] = v; return (u32[1] >>> 31) === 1; }

// ---------------------------------------------------------------------------------------
// Environment images (FSTENV/FLDENV/FSAVE/FRSTOR)
// ---------------------------------------------------------------------------------------

function envSize(c: Cpu): number { return c.o32 ? 28 : 14; }

function storeEnv(c: Cpu, f: Fpu): void {
  if (c.o32) {
    const vals = [f.control | 0xffff0000, f.statusWord | 0xffff0000, f.tagWord | 0xffff0000, f.fip, (f.fcs & 0xffff) | ((f.fop & 0x7ff) << 16), f.fdp, (f.fds & 0xffff) | 0xffff0000];
    for (let i = 0; i < 7; i++) c.wr32(lin(c, i * 4, 4, true), vals[i]);
  } else {
    const vals = [f.control, f.statusWord, f.tagWord, f.fip & 0xffff, f.fcs, f.fdp & 0xffff, f.fds];
    for (let i = 0; i < 7; i++) c.wr16(lin(c, i * 2, 2, true), vals[i]);
  }
}

function loadEnv(c: Cpu, f: Fpu): void {
  const w = c.o32 ? 4 : 2;
  const rd = (i: number): number => (w === 4 ? c.rd32(lin(c, i * 4, 4, false)) : c.rd16(lin(c, i * 2, 2, false)));
  const control = rd(0) & 0xffff, status = rd(1) & 0xffff, tag = rd(2) & 0xffff;
  f.fip = rd(3) >>> 0; const csop = rd(4); f.fcs = csop & 0xffff; f.fop = (csop >>> 16) & 0x7ff;
  f.fdp = rd(5) >>> 0; f.fds = rd(6) & 0xffff;
  f.control = control | 0x40;
  f.status = status & ~0x3800;
  f.top = (status >> 11) & 7;
  f.setTagWord(tag);
  // An unmasked pending exception loaded from memory keeps ES/B; a cleared one drops them.
  if (f.status & ~f.control & 0x3f) f.status |= ES | BUSY; else f.status &= ~(ES | BUSY);
}

function fsave(c: Cpu, f: Fpu): void {
  const base = envSize(c);
  // Probe the whole image first so a fault leaves the FPU state intact.
  lin(c, base + 79, 1, true);
  storeEnv(c, f);
  for (let i = 0; i < 8; i++) {
    const [lo, hi, se] = doubleToExt(f.st(i));
    c.wr32(lin(c, base + i * 10, 4, true), lo);
    c.wr32(lin(c, base + i * 10 + 4, 4, true), hi);
    c.wr16(lin(c, base + i * 10 + 8, 2, true), se);
  }
  f.reset();
}

function frstor(c: Cpu, f: Fpu): void {
  const base = envSize(c);
  const vals: number[] = [];
  for (let i = 0; i < 8; i++) {
    vals.push(extToDouble(c.rd32(lin(c, base + i * 10, 4, false)), c.rd32(lin(c, base + i * 10 + 4, 4, false)), c.rd16(lin(c, base + i * 10 + 8, 2, false))));
  }
  loadEnv(c, f);
  for (let i = 0; i < 8; i++) f.regs[(f.top + i) & 7] = vals[i];
}

// ---------------------------------------------------------------------------------------
// Dispatcher
// ---------------------------------------------------------------------------------------

/** Execute x87 escape `op` (D8..DF) whose ModRM byte has been decoded into c.modrm / c.eaSeg:c.eaOff. */
export function fpuExecute(c: Cpu, op: number, modrm: number): void {
  const f = c.fpu;
  const reg = (modrm >> 3) & 7;
  const mem = modrm < 0xc0;
  const rm = modrm & 7;
  // Control instructions that do not wait for / report pending exceptions.
  const noWait = (op === 0xdb && modrm >= 0xe2 && modrm <= 0xe3) || (op === 0xd9 && mem && (reg === 6 || reg === 7))
    || (op === 0xdd && mem && (reg === 6 || reg === 7)) || (op === 0xdf && modrm === 0xe0);
  if (!noWait) f.checkPending(c);
  if (!(op === 0xd9 && mem && reg >= 4) && !(op === 0xdd && mem && reg >= 4) && !(op === 0xdb && modrm >= 0xe0 && modrm <= 0xe7)) {
    f.fop = ((op & 7) << 8) | modrm;
    f.fip = c.instrStart >>> 0;
    f.fcs = c.sreg[1];
    if (mem) { f.fdp = c.eaOff >>> 0; f.fds = c.sreg[c.eaSeg]; }
  }
  switch (op) {
    case 0xd8: case 0xdc: case 0xda: case 0xde: {
      // arithmetic: D8 m32/st(i), DC m64/st(i) reversed, DA m32int, DE m16int/st(i) reversed + pop
      if (mem) {
        const v = op === 0xd8 ? readM32f(c) : op === 0xdc ? readM64f(c) : op === 0xda ? readI32(c) : readI16(c);
        const a = f.read(0);
        if (a === null) return;
        if (reg === 2 || reg === 3) { compare(f, a, v, false); if (reg === 3) f.pop(); return; }
        const r = arith(f, reg, a, v);
        if (r !== null) f.setSt(0, r);
        return;
      }
      if (op === 0xda) { // FCMOVcc / FUCOMPP
        if (modrm === 0xe9) { const a = f.read(0), b = f.read(1); if (a === null || b === null) return; compare(f, a, b, true); f.pop(); f.pop(); return; }
        if (reg < 4 && fcmovCondition(c, reg)) { const v = f.read(rm); if (v !== null) f.setSt(0, v); }
        if (reg >= 4) c.raise(6);
        return;
      }
      if (op === 0xde && reg === 3) { // FCOMPP (DE D9)
        if (rm !== 1) c.raise(6);
        const a = f.read(0), b = f.read(1); if (a === null || b === null) return;
        compare(f, a, b, false); f.pop(); f.pop(); return;
      }
      if (reg === 2 || reg === 3) { // FCOM/FCOMP st(i) (also the DC/DE aliases)
        const a = f.read(0), b = f.read(rm); if (a === null || b === null) return;
        compare(f, a, b, false); if (reg === 3) f.pop(); return;
      }
      if (op === 0xd8) {
        const a = f.read(0), b = f.read(rm); if (a === null || b === null) return;
        const r = arith(f, reg, a, b); if (r !== null) f.setSt(0, r);
        return;
      }
      // DC/DE register forms: st(i) = st(i) op st(0) with SUB/SUBR and DIV/DIVR swapped
      const a = f.read(rm), b = f.read(0); if (a === null || b === null) return;
      const rop = reg >= 4 ? reg ^ 1 : reg;
      const r = arith(f, rop, a, b);
      if (r !== null) f.setSt(rm, r);
      if (op === 0xde) f.pop();
      return;
    }
    case 0xd9:
      if (mem) {
        switch (reg) {
          case 0: f.push(readM32f(c)); return;
          case 2: case 3: { const v = f.read(0); if (v === null) return; writeM32f(c, v); if (reg === 3) f.pop(); return; }
          case 4: loadEnv(c, f); return;
          case 5: f.control = (c.rd16(lin(c, 0, 2, false)) & 0x1f7f) | 0x40; if (f.status & ~f.control & 0x3f) f.status |= ES | BUSY; else f.status &= ~(ES | BUSY); return;
          case 6: storeEnv(c, f); f.control |= 0x3f; return;
          case 7: c.wr16(lin(c, 0, 2, true), f.control); return;
          default: c.raise(6);
        }
      }
      d9reg(c, f, modrm);
      return;
    case 0xdb:
      if (mem) {
        switch (reg) {
          case 0: f.push(readI32(c)); return;
          case 2: case 3: { const v = f.read(0); if (v === null) return; const i = toInt(f, v, 32); if (i === null) return; writeInt(c, i, 32); if (reg === 3) f.pop(); return; }
          case 5: f.push(readM80(c)); return;
          case 7: { const v = f.read(0); if (v === null) return; writeM80(c, v); f.pop(); return; }
          default: c.raise(6);
        }
      }
      if (modrm === 0xe2) { f.status &= ~(0xff | BUSY); return; } // FNCLEX
      if (modrm === 0xe3) { f.reset(); return; } // FNINIT
      if (modrm >= 0xe0 && modrm <= 0xe4) return; // FENI/FDISI/FSETPM: no-ops on a P6
      if (reg >= 5 && reg <= 6) { // FUCOMI / FCOMI
        const a = f.read(0), b = f.read(rm); if (a === null || b === null) return;
        compareToEflags(c, f, a, b, reg === 5); return;
      }
      if (reg < 4) { // FCMOVNB/NE/NBE/NU
        if (!fcmovCondition(c, reg)) { const v = f.read(rm); if (v !== null) f.setSt(0, v); }
        return;
      }
      c.raise(6);
    // falls through (raise never returns)
    case 0xdd:
      if (mem) {
        switch (reg) {
          case 0: f.push(readM64f(c)); return;
          case 2: case 3: { const v = f.read(0); if (v === null) return; writeM64f(c, v); if (reg === 3) f.pop(); return; }
          case 4: frstor(c, f); return;
          case 6: fsave(c, f); return;
          case 7: c.wr16(lin(c, 0, 2, true), f.statusWord); return;
          default: c.raise(6);
        }
      }
      switch (reg) {
        case 0: f.tags[(f.top + rm) & 7] = TAG_EMPTY; return; // FFREE
        case 2: case 3: { const v = f.read(0); if (v === null) return; f.setSt(rm, v); if (reg === 3) f.pop(); return; }
        case 4: case 5: { const a = f.read(0), b = f.read(rm); if (a === null || b === null) return; compare(f, a, b, true); if (reg === 5) f.pop(); return; }
        default: c.raise(6);
      }
    // falls through (raise never returns)
    case 0xdf:
      if (mem) {
        switch (reg) {
          case 0: f.push(readI16(c)); return;
          case 2: case 3: { const v = f.read(0); if (v === null) return; const i = toInt(f, v, 16); if (i === null) return; writeInt(c, i, 16); if (reg === 3) f.pop(); return; }
          case 4: f.push(readBcd(c)); return;
          case 5: f.push(readI64(c)); return;
          case 6: { const v = f.read(0); if (v === null) return; writeBcd(c, f, v); f.pop(); return; }
          case 7: { const v = f.read(0); if (v === null) return; const i = toInt(f, v, 64); if (i === null) return; writeInt(c, i, 64); f.pop(); return; }
          default: c.raise(6);
        }
      }
      if (modrm === 0xe0) { c.regs[0] = (c.regs[0] & ~0xffff) | f.statusWord; return; } // FNSTSW AX
      if (reg === 5 || reg === 6) { // FUCOMIP / FCOMIP
        const a = f.read(0), b = f.read(rm); if (a === null || b === null) return;
        compareToEflags(c, f, a, b, reg === 5); f.pop(); return;
      }
      if (reg === 0) { f.tags[(f.top + rm) & 7] = TAG_EMPTY; f.pop(); return; } // FFREEP
      c.raise(6);
  }
}

/** FCMOVB/E/BE/U conditions (reg field 0-3; the DB forms negate them). */
function fcmovCondition(c: Cpu, reg: number): boolean {
  switch (reg & 3) {
    case 0: return c.getCF() !== 0;
    case 1: return c.getZF();
    case 2: return c.getCF() !== 0 || c.getZF();
    default: return c.getPF();
  }
}

function d9reg(c: Cpu, f: Fpu, modrm: number): void {
  const rm = modrm & 7;
  switch (modrm >> 3) {
    case 0x18: { const v = f.read(rm); if (v !== null) f.push(v); return; } // FLD st(i)
    case 0x19: { // FXCH
      const a = f.read(0), b = f.read(rm); if (a === null || b === null) return;
      f.setSt(0, b); f.setSt(rm, a); f.status &= ~C1; return;
    }
    case 0x1a: if (rm === 0) return; break; // FNOP
    case 0x1d: { // constants
      const k = [1, Math.log2(10), Math.LOG2E, Math.PI, Math.log10(2), Math.LN2, 0][rm];
      if (rm === 7) break;
      f.push(k); return;
    }
  }
  if (modrm >= 0xe0) {
    switch (modrm) {
      case 0xe0: { const v = f.read(0); if (v !== null) f.setSt(0, -v); return; }
      case 0xe1: { const v = f.read(0); if (v !== null) f.setSt(0, Math.abs(v)); return; }
      case 0xe4: { const v = f.read(0); if (v !== null) compare(f, v, 0, false); return; }
      case 0xe5: examine(f); return;
      case 0xf0: { const v = f.read(0); if (v !== null) f.setSt(0, Math.pow(2, v) - 1); return; }
      case 0xf1: case 0xf9: { // FYL2X / FYL2XP1
        const x = f.read(0), y = f.read(1); if (x === null || y === null) return;
        const arg = modrm === 0xf9 ? x + 1 : x;
        if (arg < 0 && !f.signal(IE)) return;
        if (arg === 0 && !f.signal(ZE)) return;
        f.setSt(1, y * Math.log2(arg)); f.pop(); return;
      }
      case 0xf2: { const v = f.read(0); if (v === null) return; f.setSt(0, Math.tan(v)); f.status &= ~C2; f.push(1); return; }
      case 0xf3: { const x = f.read(0), y = f.read(1); if (x === null || y === null) return; f.setSt(1, Math.atan2(y, x)); f.pop(); return; }
      case 0xf4: { // FXTRACT
        const v = f.read(0); if (v === null) return;
        if (v === 0) { if (!f.signal(ZE)) return; f.setSt(0, -Infinity); f.push(v); return; }
        const e = Math.floor(Math.log2(Math.abs(v)));
        f.setSt(0, e); f.push(v / Math.pow(2, e)); return;
      }
      case 0xf5: case 0xf8: { // FPREM1 / FPREM
        const x = f.read(0), y = f.read(1); if (x === null || y === null) return;
        if (Number.isNaN(x) || Number.isNaN(y)) { f.setSt(0, propagateNaN(x, y)); return; }
        if (y === 0 || !Number.isFinite(x)) { if (!f.signal(IE)) return; f.setSt(0, INDEFINITE); return; }
        const [r, qi, partial] = partialRemainder(x, y, modrm === 0xf5);
        f.setSt(0, r);
        f.status = (f.status & ~(C0 | C1 | C2 | C3)) | (partial ? C2 : ((qi & 4) ? C0 : 0) | ((qi & 2) ? C3 : 0) | ((qi & 1) ? C1 : 0));
        return;
      }
      case 0xf6: f.top = (f.top - 1) & 7; f.status &= ~C1; return;
      case 0xf7: f.top = (f.top + 1) & 7; f.status &= ~C1; return;
      case 0xfa: { // FSQRT
        const v = f.read(0); if (v === null) return;
        if (v < 0 && !f.signal(IE)) return;
        const r = Math.sqrt(v);
        // sign of v - r*r, exactly; tiny operands are scaled (by powers of 2) so r*r does not underflow
        const tiny = v < 1e-250, vs = tiny ? v * 2 ** 600 : v, rs = tiny ? r * 2 ** 300 : r;
        const err = Number.isFinite(r) ? Math.sign((vs - rs * rs) - productError(rs, rs, rs * rs)) : 0;
        if (err !== 0 && !f.signal(PE)) return;
        f.setSt(0, applyRounding(r, err, f.control)); return;
      }
      case 0xfb: { const v = f.read(0); if (v === null) return; f.setSt(0, Math.sin(v)); f.status &= ~C2; f.push(Math.cos(v)); return; }
      case 0xfc: { const v = f.read(0); if (v === null) return; const r = roundByControl(v, f.control); if (r !== v) f.signal(PE); f.setSt(0, r); return; }
      case 0xfd: { const v = f.read(0), s = f.read(1); if (v === null || s === null) return; f.setSt(0, v * Math.pow(2, Math.trunc(s))); return; }
      case 0xfe: { const v = f.read(0); if (v === null) return; f.setSt(0, Math.sin(v)); f.status &= ~C2; return; }
      case 0xff: { const v = f.read(0); if (v === null) return; f.setSt(0, Math.cos(v)); f.status &= ~C2; return; }
    }
  }
  c.raise(6);
}

function readBcd(c: Cpu): number {
  let v = 0;
  for (let i = 8; i >= 0; i--) {
    const b = c.rd8(lin(c, i, 1, false));
    v = v * 100 + (b >> 4) * 10 + (b & 15);
  }
  return c.rd8(lin(c, 9, 1, false)) & 0x80 ? -v : v;
}

function writeBcd(c: Cpu, f: Fpu, v: number): void {
  let r = roundByControl(v, f.control);
  if (!Number.isFinite(r) || Math.abs(r) >= 1e18) {
    if (!f.signal(IE)) return;
    for (let i = 0; i < 7; i++) c.wr8(lin(c, i, 1, true), 0);
    c.wr8(lin(c, 7, 1, true), 0xc0); c.wr8(lin(c, 8, 1, true), 0xff); c.wr8(lin(c, 9, 1, true), 0xff);
    return;
  }
  const neg = r < 0 || Object.is(r, -0);
  r = Math.abs(r);
  let digits = BigInt(r);
  for (let i = 0; i < 9; i++) {
    const lo = Number(digits % 10n); digits /= 10n;
    const hi = Number(digits % 10n); digits /= 10n;
    c.wr8(lin(c, i, 1, true), (hi << 4) | lo);
  }
  c.wr8(lin(c, 9, 1, true), neg ? 0x80 : 0);
}
