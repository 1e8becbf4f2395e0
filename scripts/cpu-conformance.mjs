#!/usr/bin/env node
// CPU conformance runner: `node scripts/cpu-conformance.mjs DIR [--json] [--sample N] [--form XX]`
// Runs every single-instruction test in DIR (SingleStepTests format, *.json.gz, one file per
// opcode form) against the emulator's CPU. Prints the failures per form and, as the last line,
// `N passed, N failed` (or, with --json, {"passed","failed","excluded","forms":{...}}).
// Excluded tests come from test/fixtures/cpu/conformance-exclusions.json, each with its reason.
//   --sample N   run every Nth test of each form (for quick checks; default 1 = all)
//   --form XX    only forms whose name starts with XX
//   --verbose    print every failing test, not just the first three per form
import { readdirSync, readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tsImport } from 'tsx/esm/api';

const here = dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const json = args.includes('--json');
const verbose = args.includes('--verbose');
const opt = (name, dflt) => { const i = args.indexOf(name); return i >= 0 ? args[i + 1] : dflt; };
const sample = Math.max(1, Number(opt('--sample', '1')) | 0);
const formFilter = opt('--form', '');
const positional = args.filter((a, i) => !a.startsWith('--') && !['--sample', '--form'].includes(args[i - 1]));
const dir = positional[0];
if (!dir) {
  console.error('usage: node scripts/cpu-conformance.mjs DIR [--json] [--sample N] [--form XX] [--verbose]');
  process.exit(2);
}

let files;
try {
  files = readdirSync(dir).filter((f) => f.endsWith('.json.gz') || f.endsWith('.json')).sort();
} catch (e) {
  console.error(`cpu-conformance: cannot read ${dir}: ${e.message}`);
  process.exit(2);
}
if (files.length === 0) { console.error(`cpu-conformance: no *.json.gz tests in ${dir}`); process.exit(2); }

const exclusionsPath = join(here, '..', 'test', 'fixtures', 'cpu', 'conformance-exclusions.json');
const exclusions = JSON.parse(readFileSync(exclusionsPath, 'utf8')).exclusions;
/** form -> { all: reason } | { idx: Map<idx, reason> } */
const excl = new Map();
for (const e of exclusions) {
  if (!e.reason || !e.form) throw new Error(`exclusion without form/reason: ${JSON.stringify(e)}`);
  const entry = excl.get(e.form) ?? { all: null, idx: new Map() };
  if (e.tests === 'all') entry.all = e.reason; else for (const i of e.tests) entry.idx.set(i, e.reason);
  excl.set(e.form, entry);
}

const { SingleStepRunner } = await tsImport('../emulator/src/cpu/testing/singleStep.ts', import.meta.url);
const runner = new SingleStepRunner();

const totals = { passed: 0, failed: 0, excluded: 0, forms: {} };
const started = Date.now();
for (const f of files) {
  const form = f.replace(/\.json(\.gz)?$/, '');
  if (formFilter && !form.startsWith(formFilter)) continue;
  const raw = readFileSync(join(dir, f));
  const tests = JSON.parse((f.endsWith('.gz') ? gunzipSync(raw) : raw).toString('utf8'));
  const ex = excl.get(form);
  const r = { passed: 0, failed: 0, excluded: 0, failures: [] };
  for (let i = 0; i < tests.length; i += sample) {
    const t = tests[i];
    if (ex && (ex.all || ex.idx.has(t.idx))) { r.excluded++; continue; }
    let diff;
    try {
      diff = runner.run(t);
    } catch (e) {
      diff = `emulator threw: ${e && e.stack ? e.stack.split('\n').slice(0, 3).join(' | ') : e}`;
    }
    if (diff === null) r.passed++;
    else { r.failed++; r.failures.push({ idx: t.idx, name: t.name, diff }); }
  }
  totals.passed += r.passed; totals.failed += r.failed; totals.excluded += r.excluded;
  totals.forms[form] = { passed: r.passed, failed: r.failed, excluded: r.excluded };
  if (json) { if (r.failed) totals.forms[form].failures = r.failures.slice(0, 20); continue; }
  if (r.failed) {
    console.log(`${form}: ${r.failed} failed, ${r.passed} passed${r.excluded ? `, ${r.excluded} excluded` : ''}`);
    for (const x of verbose ? r.failures : r.failures.slice(0, 3)) console.log(`  #${x.idx} ${x.name}: ${x.diff}`);
  }
}
if (json) {
  console.log(JSON.stringify(totals));
} else {
  console.log(`forms: ${Object.keys(totals.forms).length}, excluded: ${totals.excluded}, time: ${((Date.now() - started) / 1000).toFixed(1)} s`);
  console.log(`${totals.passed} passed, ${totals.failed} failed`);
}
process.exit(0);
