// `npm run bench`: runs every test/bench/*.bench.ts (or the ones named on the command line) in its
// own Node process and collects what each prints as "BENCH {json}" lines into bench-results/.
// Each benchmark measures its anchor (xmllint, qemu-img, QEMU, v86, ...) in the same run.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const dir = 'test/bench';
const only = process.argv.slice(2);
const files = readdirSync(dir).filter((f) => f.endsWith('.bench.ts'))
  .filter((f) => only.length === 0 || only.some((o) => f.includes(o))).sort();
if (files.length === 0) { console.error('bench: no benchmarks found'); process.exit(2); }

const results = [];
let failed = 0;
for (const f of files) {
  console.log(`\n=== ${f}`);
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(dir, f)], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 64 << 20 });
  process.stdout.write(r.stdout);
  if (r.status !== 0) { failed++; console.error(`bench: ${f} exited ${r.status}`); }
  for (const line of r.stdout.split('\n')) {
    if (line.startsWith('BENCH ')) results.push({ bench: f, ...JSON.parse(line.slice(6)) });
  }
}
mkdirSync('bench-results', { recursive: true });
const out = join('bench-results', `bench-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
writeFileSync(out, JSON.stringify(results, null, 2));
console.log(`\nbench: ${results.length} figures from ${files.length} benchmarks written to ${out}`);
process.exit(failed ? 1 : 0);
