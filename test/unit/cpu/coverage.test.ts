// The coverage table in test/fixtures/cpu/README.md maps every item of the CPU issue's
// "Deliver (1)" list to the differential programs (and labels) that exercise it. This test keeps
// the table from rotting: every item is present, every reference names an existing program that
// the differential suite runs and a label that program prints, or an existing unit test.
import { strict as assert } from 'node:assert';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DIFF_PROGRAMS, FIXTURES, SHUTDOWN_PROGRAMS } from './qemuHarness';

/** The list, split into the items the table must have. */
const ITEMS = [
  'Real mode', '16/32-bit protected mode with descriptor caches', 'Privilege checks', 'Limit checks',
  'Call gates', 'Interrupt and trap gates', 'IRET/RETF across privilege levels', 'TSS stack switching',
  'Task switch (JMP/CALL/IRET, task gates, #DF task as Linux uses)', 'Paging: 2-level tables',
  'Paging: 4 MiB PSE pages', 'Paging: global pages', 'Paging: CR0.WP', 'Paging: accessed/dirty bits',
  'Paging: #PF error codes and CR2', 'TLB flushing: MOV CR3, INVLPG, CR0/CR4 writes',
  'Exceptions: vector and error code', 'Exceptions: faults re-execute', 'Exceptions: traps continue',
  'Double fault', 'Triple fault', 'CMOVcc', 'CMPXCHG / CMPXCHG8B', 'BSWAP', 'XADD', 'BT, BTS, BTR, BTC',
  'SHLD / SHRD', 'MOVZX / MOVSX', 'SETcc', 'String ops with REP and segment overrides',
  'IN/OUT with IOPL and I/O bitmap checks', 'CPUID: family 6 with FPU/TSC/CX8/CMOV/PSE/PGE, no FXSR',
  'RDTSC (monotonic)', 'RDMSR/WRMSR (the MSRs Linux touches)', 'WBINVD / INVD / CLTS / LMSW', 'HLT', 'UD2 and other #UD encodings (LOCK)',
  'x87: FNINIT/FNSTSW/FNSTCW probing', 'x87: FSAVE/FRSTOR', 'x87: arithmetic',
  'x87: exceptions (#MF, #NM, stack faults)', 'x87: documented precision', 'A20 gating', 'VM86 (optional)',
];

function table(): Map<string, string> {
  const md = readFileSync(join(FIXTURES, 'README.md'), 'utf8');
  const start = md.indexOf('| Item | Covered by |');
  assert.ok(start >= 0, 'README.md has the coverage table');
  const rows = new Map<string, string>();
  for (const line of md.slice(start).split('\n').slice(2)) {
    if (!line.startsWith('|')) break;
    const cells = line.split('|').slice(1, -1).map((c) => c.trim());
    assert.equal(cells.length, 2, `malformed row: ${line}`);
    assert.ok(!rows.has(cells[0]), `duplicate row ${cells[0]}`);
    rows.set(cells[0], cells[1]);
  }
  return rows;
}

describe('cpu: the differential coverage table', () => {
  it('lists every item of the issue, and nothing else', () => {
    const rows = table();
    assert.deepEqual([...rows.keys()], ITEMS);
  });

  it('names, for every item, programs the suite runs and labels those programs print (or existing unit tests)', () => {
    const unitTests = readFileSync(join(__dirname, 'cpu.test.ts'), 'utf8');
    const run = new Set([...DIFF_PROGRAMS, ...SHUTDOWN_PROGRAMS]);
    let refs = 0;
    for (const [item, cell] of table()) {
      const found = [...cell.matchAll(/([\w.-]+) `([^`]+)`/g)];
      assert.ok(found.length > 0, `${item}: no program or test named`);
      assert.equal(cell.split(',').length, found.length, `${item}: every entry must be "file \`label\`": ${cell}`);
      for (const [, file, label] of found) {
        refs++;
        if (file === 'cpu.test.ts') {
          assert.ok(unitTests.includes(`it('${label}`), `${item}: cpu.test.ts has no test starting "${label}"`);
          continue;
        }
        const m = /^(\w+)\.asm$/.exec(file);
        assert.ok(m, `${item}: ${file} is not a program`);
        const path = join(FIXTURES, file);
        assert.ok(existsSync(path), `${item}: ${file} does not exist`);
        assert.ok(run.has(m[1]), `${item}: ${file} is not run by the differential suite`);
        const src = readFileSync(path, 'utf8');
        assert.ok(src.includes(`"${label} `) || src.includes(`"${label}"`), `${item}: ${file} prints no label "${label}"`);
      }
    }
    assert.ok(refs >= ITEMS.length);
  });
});
