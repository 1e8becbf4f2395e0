// 32-bit MUL/IMUL compute the 64-bit product from 16-bit partial products (no BigInt per
// instruction): checked against BigInt on edge values and a seeded random sample.
import { strict as assert } from 'node:assert';
import { mul32, mulHigh } from '../../../emulator/src/cpu/execute';

describe('cpu: 32x32 -> 64-bit multiply', () => {
  it('matches BigInt for signed and unsigned operands', () => {
    const edge = [0, 1, -1, 2, -2, 0x7fffffff, -0x80000000, 0xffff, 0x10000, -0x10000, 0x12345678, -0x12345678];
    const pairs: [number, number][] = [];
    for (const a of edge) for (const b of edge) pairs.push([a, b]);
    let seed = 12345;
    const rnd = (): number => { seed = (Math.imul(seed, 1103515245) + 12345) | 0; return seed ^ (seed << 13); };
    for (let i = 0; i < 100_000; i++) pairs.push([rnd(), rnd()]);
    for (const [a, b] of pairs) {
      for (const signed of [false, true]) {
        const p = signed ? BigInt(a) * BigInt(b) : BigInt(a >>> 0) * BigInt(b >>> 0);
        const lo = mul32(a, b, signed);
        assert.equal(lo, Number(BigInt.asIntN(32, p)), `${a} * ${b} low (signed ${signed})`);
        assert.equal(mulHigh(), Number(BigInt.asIntN(32, p >> 32n)), `${a} * ${b} high (signed ${signed})`);
      }
    }
  });
});
