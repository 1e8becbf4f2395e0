// Differential tests: our nasm programs run under QEMU (TCG, pentium2 without APIC) and under our
// CPU must print exactly the same thing. What each program covers, mapped to the list:
// test/fixtures/cpu/README.md (kept honest by coverage.test.ts).
import { strict as assert } from 'node:assert';
import { assemble, DIFF_PROGRAMS, firstDifference, type QemuResult, runOurs, runQemu, runQemuAsync } from './qemuHarness';

/** Start every QEMU run up front, a few at a time, so QEMU works while our CPU runs. */
function startQemuRuns(names: string[], parallel = 3): Map<string, Promise<QemuResult>> {
  const runs = new Map<string, Promise<QemuResult>>();
  const settled: Promise<unknown>[] = [];
  for (const name of names) {
    // each run starts when the one `parallel` places before it has finished
    const slot = settled.length < parallel ? Promise.resolve() : settled[settled.length - parallel];
    const run = slot.then(() => runQemuAsync(assemble(name)));
    runs.set(name, run);
    settled.push(run.catch(() => undefined)); // failures are reported by the test awaiting `run`
  }
  return runs;
}

describe('cpu: differential tests against QEMU', function () {
  this.timeout(120_000);
  let qemu: Map<string, Promise<QemuResult>>;
  before(() => { qemu = startQemuRuns(DIFF_PROGRAMS); });
  for (const name of DIFF_PROGRAMS) {
    it(`${name}.asm prints the same under QEMU and under our CPU`, async () => {
      const image = assemble(name);
      const ours = runOurs(image);
      const q = await qemu.get(name)!;
      assert.equal(q.exitCode, 1, `QEMU did not exit through isa-debug-exit (status ${q.exitCode}); output:\n${q.output.slice(-500)}`);
      assert.match(q.output, /END\n$/, 'QEMU run did not reach the end');
      assert.doesNotMatch(q.output, /UNEXPECTED/);
      assert.equal(ours.stop, 'exit', `our CPU stopped with ${ours.stop} ${ours.shutdownReason}; output:\n${ours.output.slice(-500)}`);
      assert.equal(ours.exitCode, 1);
      assert.ok(ours.output === q.output, firstDifference(q.output, ours.output));
    });
  }

  it('triple.asm: a triple fault ends both runs at the same point (QEMU -no-reboot exit, our triple-fault stop)', () => {
    const image = assemble('triple');
    const q = runQemu(image);
    assert.equal(q.exitCode, 0, `QEMU should shut down on the triple fault (-no-reboot), status ${q.exitCode}; output:\n${q.output.slice(-500)}`);
    assert.match(q.output, /^triple #08 [0-9a-f]{8} [0-9a-f]{8}\ndf-ok $/, 'QEMU: the handled #DF is printed, then the run ends');
    const ours = runOurs(image);
    assert.equal(ours.stop, 'triple-fault', `our CPU stopped with ${ours.stop}`);
    assert.match(ours.shutdownReason, /triple fault/);
    assert.ok(ours.output === q.output, firstDifference(q.output, ours.output));
  });
});
