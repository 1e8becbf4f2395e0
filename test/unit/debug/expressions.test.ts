import { strict as assert } from 'node:assert';
import { evaluate, parseExpression, type Env } from '../../../client/src/debugAdapter/expressions';

const memory = new Uint8Array(0x100);
new DataView(memory.buffer).setUint32(0x14, 0xdeadbeef, true);
new DataView(memory.buffer).setInt16(0x20, -2, true);
const env: Env = {
  register: (n) => ({ eax: 7, esp: 0x10, ebx: 0x20 } as Record<string, number>)[n],
  symbol: (n) => (n === 'start_kernel' ? 0xc1000000 : undefined),
  read: async (a, s) => memory.slice(a, a + s),
};
const ev = (text: string) => evaluate(parseExpression(text), env);

describe('debugger expressions', () => {
  it('reads registers, numbers and symbols', async () => {
    assert.equal(await ev('eax'), 7);
    assert.equal(await ev('EAX + 0x10 * 2'), 39);
    assert.equal(await ev('start_kernel+4'), 0xc1000004);
  });
  it('dereferences memory', async () => {
    assert.equal(await ev('[esp+4]'), 0xdeadbeef);
    assert.equal(await ev('*(u16*)0x14'), 0xbeef);
    assert.equal(await ev('*(i16*)ebx'), -2);
    assert.equal(await ev('*(u8*)(esp + 7)'), 0xde);
  });
  it('points at the offending token', async () => {
    assert.throws(() => parseExpression('eax + )'), /unexpected '\)'/);
    await assert.rejects(ev('foo + 1'), (e: Error & { position: number }) => e.position === 0 && /unknown register or symbol 'foo'/.test(e.message));
  });
});
