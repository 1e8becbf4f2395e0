// The translated-block cache (emulator/src/cpu/blockCache.ts, blockCompiler.ts) against the
// interpreter and against real references: the hardware-captured 286 tests with every
// instruction translated, the QEMU differential programs run three ways (interpreter only,
// default heat, translate everything) with identical output AND instruction counts, self-modifying
// code and code written by a device, precise faults, breakpoints, watchpoints, budgets and
// snapshots while blocks are hot.
import { strict as assert } from 'node:assert';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { registerSnapshot } from '../../../emulator/src/cpu/registers';
import type { Cpu } from '../../../emulator/src/cpu/cpu';
import { SingleStepRunner, type SingleStepTest } from '../../../emulator/src/cpu/testing/singleStep';
import { assemble, DIFF_PROGRAMS, FIXTURES, firstDifference, runOurs, runQemu } from './qemuHarness';
import { machine, nasm } from './snippetMachine';

const CONFORMANCE = process.env.CPU_TESTS_DIR ?? '/work/shared/cpu-tests/80286-real-mode';
/** Interpreter only, the default heat, and translating every block start at once. */
const MODES = [Infinity, 16, 1];

function runMode(name: string, hot: number) {
  let cpu: Cpu | undefined;
  const r = runOurs(assemble(name), 300_000_000, undefined, (m) => { cpu = m.cpu; m.cpu.blocks.hotThreshold = hot; });
  return { ...r, regs: registerSnapshot(cpu!), translated: cpu!.blocks.translated, invalidated: cpu!.blocks.invalidated };
}

describe('cpu: translated blocks', function () {
  this.timeout(180_000);

  it('every instruction translated still passes the hardware-captured 286 tests (every 8th test of every form)', () => {
    assert.ok(existsSync(CONFORMANCE), `conformance data missing: ${CONFORMANCE} (set CPU_TESTS_DIR)`);
    const exclusions = JSON.parse(readFileSync(join(FIXTURES, 'conformance-exclusions.json'), 'utf8')).exclusions as { form: string; tests: 'all' | number[] }[];
    const runner = new SingleStepRunner({ translate: true });
    let passed = 0;
    const failures: string[] = [];
    for (const f of readdirSync(CONFORMANCE).filter((n) => n.endsWith('.json.gz')).sort()) {
      const form = f.replace(/\.json\.gz$/, '');
      const ex = exclusions.filter((e) => e.form === form);
      const tests = JSON.parse(gunzipSync(readFileSync(join(CONFORMANCE, f))).toString('utf8')) as SingleStepTest[];
      for (let i = 0; i < tests.length; i += 8) {
        const t = tests[i];
        if (ex.some((e) => e.tests === 'all' || e.tests.includes(t.idx))) continue;
        const d = runner.run(t);
        if (d === null) passed++; else failures.push(`${form} #${t.idx} ${t.name}: ${d}`);
      }
    }
    assert.deepEqual(failures.slice(0, 10), [], `${failures.length} failed`);
    assert.ok(passed > 30_000, `only ${passed} tests ran`);
    assert.ok(runner.cpu.blocks.translated > passed / 2, `only ${runner.cpu.blocks.translated} of ${passed} tests ran translated`);
  });

  for (const name of [...DIFF_PROGRAMS, 'smc']) {
    it(`${name}.asm: same output, instruction count and final registers with and without translation`, () => {
      const [interp, ...translated] = MODES.map((hot) => runMode(name, hot));
      assert.equal(interp.stop, 'exit');
      assert.equal(interp.translated, 0);
      for (const r of translated) {
        assert.ok(r.output === interp.output, firstDifference(interp.output, r.output));
        assert.equal(r.instructions, interp.instructions, 'instruction count (the virtual clock) must not depend on translation');
        assert.deepEqual(r.regs, interp.regs);
        assert.ok(r.translated > 0, 'some code was translated');
      }
    });
  }

  it('smc.asm (hot self-modifying code, code copied over translated code, a fault mid-block) prints what QEMU prints', () => {
    const q = runQemu(assemble('smc'));
    assert.equal(q.exitCode, 1, `QEMU did not exit through isa-debug-exit; output:\n${q.output.slice(-500)}`);
    const r = runMode('smc', 1);
    assert.ok(r.output === q.output, firstDifference(q.output, r.output));
    assert.ok(r.invalidated > 0, 'stores into translated code dropped blocks');
    assert.match(r.output, /fault-mid-block #0e 00000000 [0-9a-f]{8} 00400000\n00000101 00000100 /, 'faulted between inc edx and inc edi');
  });

  it('translated 32-bit shifts, rotates, INC/DEC and IMUL leave the interpreter\'s results and flags for every count', () => {
    const ops = ['shl', 'shr', 'sar', 'rol', 'ror', 'sal'];
    const body = ops.map((op) => `
      %assign n 1
      %rep 31
        mov eax, [esi]
        ${op} eax, n
        pushfd
        pop edx
        xor ebp, eax
        add ebp, edx
        rol ebp, 3
        mov ebx, [esi]
        ${op} ebx, 1
        inc ebx
        dec ebx
        imul ebx, ebx, n * 12345
        pushfd
        pop edx
        sub ebp, ebx
        xor ebp, edx
      %assign n n + 1
      %endrep`).join('\n');
    const code = `
      mov esi, values
      mov ecx, 8
      xor ebp, ebp
    v: ${body}
      add esi, 4
      dec ecx
      jnz v
      hlt
    values: dd 0, 1, 0x80000000, 0x7fffffff, 0xffffffff, 0x12345678, 0x89abcdef, 0x00010010`;
    const results = MODES.map((hot) => {
      const { cpu } = machine(code, { flat32: true });
      cpu.blocks.hotThreshold = hot;
      assert.equal(cpu.run(1_000_000), 'halted');
      return { regs: registerSnapshot(cpu), translated: cpu.blocks.translated };
    });
    assert.ok(results[2].translated > 100);
    assert.deepEqual(results[1].regs, results[0].regs);
    assert.deepEqual(results[2].regs, results[0].regs);
  });

  it('translated conditions after CMP/SUB/TEST/AND/ADD/INC/DEC agree with the interpreter for all 16 condition codes', () => {
    const CC = ['o', 'no', 'b', 'ae', 'e', 'ne', 'be', 'a', 's', 'ns', 'p', 'np', 'l', 'ge', 'le', 'g'];
    const setters = ['cmp eax, ebx', 'sub eax, ebx', 'test eax, ebx', 'and eax, ebx', 'add eax, ebx', 'inc eax', 'dec eax', 'neg eax', 'xor eax, ebx'];
    let body = '';
    setters.forEach((op, k) => CC.forEach((cc, i) => {
      body += `
        mov eax, [esi]
        mov ebx, [esi + 4]
        ${op}
        set${cc} dl
        cmov${cc} ebp, eax
        add edi, edx
        rol edi, 1
        mov eax, [esi]
        ${op}
        j${cc} t${k}_${i}
        jmp n${k}_${i}
      t${k}_${i}: xor edi, ${1 << i}
      n${k}_${i}:`;
    }));
    const code = `
      mov esi, values
      mov ecx, 9
      xor edi, edi
      xor ebp, ebp
      xor edx, edx
    v: ${body}
      add esi, 4
      dec ecx
      jnz v
      hlt
    values: dd 0, 0, 1, 0xffffffff, 0x80000000, 0x7fffffff, 0x80000000, 5, 5`;
    const results = MODES.map((hot) => {
      const { cpu } = machine(code, { flat32: true });
      cpu.blocks.hotThreshold = hot;
      assert.equal(cpu.run(1_000_000), 'halted');
      return registerSnapshot(cpu);
    });
    assert.deepEqual(results[1], results[0]);
    assert.deepEqual(results[2], results[0]);
  });

  it('drops translated code that a device (DMA) overwrites', () => {
    // A hot loop calls f (mov eax, 1 / ret, at 0x1100); port 0x80 makes the "device" write new code over f.
    const { cpu, mem, io } = machine(`
      xor ebx, ebx
      mov ecx, 400
    l: call f
      add ebx, eax
      cmp ecx, 200
      jne skip
      out 0x80, al
    skip: dec ecx
      jnz l
      hlt
      times 0x100 - ($ - $$) db 0x90
    f: mov eax, 1
      ret`, { flat32: true, at: 0x1000 });
    io.register(0x80, 1, { write8: () => mem.load(0x1100, Uint8Array.of(0xb8, 5, 0, 0, 0)), read8: () => 0xff }); // mov eax, 5
    cpu.blocks.hotThreshold = 2;
    assert.equal(cpu.run(100_000), 'halted');
    assert.equal(cpu.regs[3], 201 * 1 + 199 * 5, 'calls after the device write run the new code');
    assert.ok(cpu.blocks.invalidated > 0);
  });

  it('stops at a breakpoint inside a hot block, at the same instruction count as the interpreter', () => {
    const code = 'mov ecx, 1000\nl: add eax, ecx\nmov [0x5000], eax\nmark: xor edx, eax\ninc esi\ndec ecx\njnz l\nhlt';
    const bp = 0x1000 + nasm(`bits 32\norg 0x1000\n${code.split('mark:')[0]}`).length;
    const counts: number[] = [];
    for (const hot of [Infinity, 1]) {
      const { cpu } = machine(code, { flat32: true });
      cpu.blocks.hotThreshold = hot;
      assert.equal(cpu.run(3001), 'budget'); // 500 passes through the loop: translated and hot
      cpu.breakpoints.add(bp);
      cpu.hooksChanged();
      assert.equal(cpu.run(100_000), 'breakpoint');
      assert.equal(cpu.eip, bp);
      counts.push(cpu.instructions);
      assert.equal(cpu.regs[6], 500, 'stopped before inc esi of pass 501');
      cpu.breakpoints.clear();
      cpu.hooksChanged();
      assert.equal(cpu.run(100_000), 'halted');
      assert.equal(cpu.regs[6], 1000);
    }
    assert.equal(counts[0], counts[1]);
  });

  it('stops after an instruction of a hot block that writes a watched range', () => {
    const { cpu } = machine('mov ecx, 1000\nl: add eax, ecx\nmov [0x5000 + ecx*4], eax\ninc esi\ndec ecx\njnz l\nhlt', { flat32: true });
    cpu.blocks.hotThreshold = 1;
    assert.equal(cpu.run(2000), 'budget');
    assert.ok(cpu.blocks.translated > 0);
    cpu.watchpoints.push({ space: 'physical', start: 0x5000 + 100 * 4, length: 4, access: 'w' });
    cpu.hooksChanged();
    assert.equal(cpu.run(100_000), 'watchpoint');
    assert.equal(cpu.lastWatchHit?.address, 0x5000 + 100 * 4);
    assert.equal(cpu.regs[1], 100);
    assert.equal(cpu.regs[6], 900, 'the instruction after the store has not run');
  });

  it('honours the instruction budget exactly inside a looping block', () => {
    for (const budget of [1, 7, 37, 1001]) {
      const runs = [Infinity, 1].map((hot) => {
        const { cpu } = machine('l: add eax, 3\nxor ebx, eax\nrol ebx, 1\njmp l', { flat32: true });
        cpu.blocks.hotThreshold = hot;
        cpu.run(50); // translate and warm up
        assert.equal(cpu.run(budget), 'budget');
        return registerSnapshot(cpu);
      });
      assert.equal(runs[1].instructions, 50 + budget);
      assert.deepEqual(runs[1], runs[0]);
    }
  });

  it('flushes translations on restoreState and replays a snapshot exactly', () => {
    const { cpu, mem } = machine('mov ecx, 100000\nl: add eax, ecx\nrol eax, 3\nmov [0x5000], eax\ndec ecx\njnz l\nhlt', { flat32: true });
    cpu.run(30_000);
    assert.ok(cpu.blocks.size > 0);
    const snap = cpu.saveState();
    const ram = mem.saveState();
    cpu.run(1_000_000);
    const after = registerSnapshot(cpu);
    mem.restoreState(ram);
    cpu.restoreState(snap);
    assert.equal(cpu.blocks.size, 0, 'the cache is derived state');
    cpu.run(1_000_000);
    assert.deepEqual(registerSnapshot(cpu), after);
  });
});
