// Seeded mutation fuzzing of every image parser: mutated headers and tables, and truncated files,
// must open and read or fail with an ImageError — never another exception, never a hang (each
// image's run has a time limit) and never unbounded memory (the worker's heap is capped).
// BLOCK_FUZZ_CASES raises the number of mutants per image (default 60).
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { blockFixtures } from '../../fixtures/block/images';

const CASES = Number(process.env.BLOCK_FUZZ_CASES ?? 60);
const WORKER = resolve(__dirname, 'fuzzWorker.ts');

const TARGETS = [
  'q-c4096.qcow2', 'q-v2.qcow2', 'q-mixed.qcow2', 'q-zstd-4k.qcow2', 'q-zstd.qcow2', 'q-zlib.qcow2', 'q-snap.qcow2', 'q-extl2-2m.qcow2', 'q-prealloc.qcow2',
  'vm-monolithicSparse.vmdk', 'vm-streamOptimized.vmdk', 'vm-monolithicFlat.vmdk',
  'x-sparse.vhdx', 'x-fixed.vhdx', 'x-diff.vhdx', 'd-dynamic.vdi', 'd-static.vdi', 'p-dynamic.vhd', 'p-fixed.vhd',
];

describe('block: fuzzing every parser with mutated images', function () {
  this.timeout(180_000);
  const { dir } = blockFixtures();
  let work: string;
  before(() => { work = mkdtempSync(join(tmpdir(), 'vs-fuzz-')); });
  after(() => rmSync(work, { recursive: true, force: true }));

  TARGETS.forEach((name, i) => {
    it(`survives ${CASES} mutants of ${name}`, () => {
      const r = spawnSync(process.execPath, ['--max-old-space-size=256', '--import', 'tsx', WORKER, join(dir, name), work, String(CASES), String(1000 + i)], {
        encoding: 'utf8', timeout: 90_000, maxBuffer: 16 * 1024 * 1024,
      });
      assert.equal(r.error, undefined, `worker did not finish: ${r.error?.message}`);
      assert.equal(r.status, 0, `worker crashed (status ${r.status}, signal ${r.signal}): ${r.stderr.slice(-2000)}`);
      const res = JSON.parse(r.stdout) as { cases: number; opened: number; imageErrors: number; bugs: string[]; maxMs: number };
      assert.equal(res.cases, CASES);
      assert.deepEqual(res.bugs, [], 'non-ImageError exceptions');
      // The mutants must actually reach the parsers: some open, some are refused.
      assert.ok(res.imageErrors > 0, 'no mutant was rejected: mutations do not reach the parser');
      assert.ok(res.maxMs < 10_000, `slowest mutant took ${res.maxMs.toFixed(0)} ms`);
    });
  });
});
