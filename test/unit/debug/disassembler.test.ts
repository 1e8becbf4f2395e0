import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Disassembler } from '../../../client/src/debugAdapter/disassembler';

/** Assembles with nasm and returns the flat binary plus nasm's own listing offsets. */
function assemble(source: string): { bytes: Uint8Array; offsets: number[] } {
  const dir = mkdtempSync(join(tmpdir(), 'vs-nasm-'));
  writeFileSync(join(dir, 'a.asm'), source);
  execFileSync('nasm', ['-f', 'bin', '-o', join(dir, 'a.bin'), '-l', join(dir, 'a.lst'), join(dir, 'a.asm')]);
  const offsets = readFileSync(join(dir, 'a.lst'), 'utf8').split('\n')
    .map((l) => /^\s*\d+\s+([0-9A-F]{8})\s+[0-9A-F]/.exec(l)).filter((m): m is RegExpExecArray => !!m)
    .map((m) => parseInt(m[1], 16));
  return { bytes: new Uint8Array(readFileSync(join(dir, 'a.bin'))), offsets: [...new Set(offsets)] };
}

describe('disassembler (iced-x86)', () => {
  const program = assemble(`bits 32
    mov eax, 0x12345678
    add [ebx+ecx*4+8], edx
    lea esi, [esp+4]
    rep movsb
    jmp short $-2
    cmovne eax, ebx
    int 0x80
    nop
  `);
  const base = 0x100000;
  // Guest memory: zeros up to the program (as in cleared RAM), nothing readable after it.
  const read = async (address: number, length: number) => {
    const end = Math.min(base + program.bytes.length, address + length);
    const out = new Uint8Array(Math.max(0, end - address));
    for (let a = address; a < end; a++) out[a - address] = a >= base ? program.bytes[a - base] : 0;
    return out;
  };
  const dis = new Disassembler();

  it('decodes at the offsets nasm placed the instructions', () => {
    const got = dis.decode(program.bytes, base, 32, 100);
    assert.deepEqual(got.map((i) => i.address - base), program.offsets);
    assert.equal(got[0].text, 'mov eax,0x12345678');
    assert.equal(got[1].text, 'add [ebx+ecx*4+8],edx');
    assert.equal(got[3].text, 'rep movsb [edi],[esi]');
    assert.equal(got[5].text, 'cmovne eax,ebx');
  });

  it('returns exactly the requested count, padding past readable memory', async () => {
    const got = await dis.window(read, base, 0, 12, 32);
    assert.equal(got.length, 12);
    assert.equal(got.filter((i) => !i.invalid).length, program.offsets.length);
  });

  it('finds the instructions before an address (negative instruction offset)', async () => {
    const anchor = base + program.offsets[4];
    const got = await dis.window(read, anchor, -2, 4, 32);
    assert.deepEqual(got.map((i) => i.address - base), program.offsets.slice(2, 6));
  });

  it('decodes 16-bit code for real mode', () => {
    const real = assemble('bits 16\n mov ax, 0x1234\n int 0x10\n');
    const got = dis.decode(real.bytes, 0x7c00, 16, 10);
    assert.deepEqual(got.map((i) => i.text), ['mov ax,0x1234', 'int 0x10']);
  });
});
