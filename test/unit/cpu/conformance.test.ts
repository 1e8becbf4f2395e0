// The shared hardware-captured 80286 real-mode tests, run through scripts/cpu-conformance.mjs
// exactly as a user would; the bar is >= 99.5% of the non-excluded tests passing.
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';

/** The shared SingleStepTests data; CPU_TESTS_DIR overrides the location (e.g. on CI). */
const DIR = process.env.CPU_TESTS_DIR ?? '/work/shared/cpu-tests/80286-real-mode';

describe('cpu: 80286 real-mode conformance (SingleStepTests)', function () {
  this.timeout(180_000);

  it('passes at least 99.5% of the shared tests (every 2nd test of every form)', () => {
    assert.ok(existsSync(DIR), `conformance data missing: ${DIR} (set CPU_TESTS_DIR)`);
    const r = spawnSync(process.execPath, ['scripts/cpu-conformance.mjs', DIR, '--json', '--sample', '2'], { encoding: 'utf8', maxBuffer: 64 << 20 });
    assert.equal(r.status, 0, r.stderr);
    const res = JSON.parse(r.stdout.trim().split('\n').pop()!);
    const total = res.passed + res.failed;
    assert.ok(Object.keys(res.forms).length >= 300, `only ${Object.keys(res.forms).length} forms ran`);
    assert.ok(total > 100_000, `only ${total} tests ran`);
    const rate = res.passed / total;
    const failing = Object.entries(res.forms as Record<string, { failed: number }>).filter(([, f]) => f.failed).map(([k, f]) => `${k}:${f.failed}`);
    assert.ok(rate >= 0.995, `pass rate ${(rate * 100).toFixed(2)}% (${res.failed} failed: ${failing.join(' ')})`);
  });

  it('prints the per-form report and a last line "N passed, N failed"', () => {
    const r = spawnSync(process.execPath, ['scripts/cpu-conformance.mjs', DIR, '--form', '00'], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const last = r.stdout.trim().split('\n').pop()!;
    assert.match(last, /^\d+ passed, \d+ failed$/);
    // form 00 has 1000 tests; the reviewed exclusions (LOCK on a register destination) are not run
    const listed = JSON.parse(readFileSync('test/fixtures/cpu/conformance-exclusions.json', 'utf8')).exclusions as { form: string; tests: number[] | 'all' }[];
    const excluded = listed.filter((e) => e.form === '00').reduce((n, e) => n + (e.tests === 'all' ? 1000 : e.tests.length), 0);
    assert.ok(excluded < 10, `${excluded} excluded in form 00`);
    assert.equal(last, `${1000 - excluded} passed, 0 failed`);
  });

  it('rejects a missing directory with a usage error', () => {
    const r = spawnSync(process.execPath, ['scripts/cpu-conformance.mjs', '/nonexistent/dir'], { encoding: 'utf8' });
    assert.equal(r.status, 2);
    assert.match(r.stderr, /cannot read/);
  });
});
