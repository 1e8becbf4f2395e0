// The whole default test suite: typecheck, build, unit tests (mocha, against real tools), then the
// extension inside a real VS Code (code-server). Prints one closing "N passed, N failed" line.
// `--unit` runs only the first three steps.
import { spawn } from 'node:child_process';

const unitOnly = process.argv.includes('--unit');
const totals = { passed: 0, failed: 0, skipped: 0 };

function run(label, cmd, args) {
  return new Promise((resolve) => {
    const started = Date.now();
    console.log(`\n=== ${label}: ${cmd} ${args.join(' ')}`);
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'inherit'] });
    let tail = '';
    child.stdout.on('data', (chunk) => {
      process.stdout.write(chunk);
      tail = (tail + chunk.toString()).slice(-4096);
    });
    child.on('close', (code) => {
      const m = /(\d+) passed, (\d+) failed(?:, (\d+) skipped)?\s*$/.exec(tail.trimEnd());
      console.log(`=== ${label}: exit ${code} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
      resolve({ code, counts: m ? { passed: +m[1], failed: +m[2], skipped: +(m[3] ?? 0) } : undefined });
    });
  });
}

let failedSteps = 0;
for (const [label, cmd, args, counted] of [
  ['typecheck', 'npx', ['tsc', '-p', '.', '--noEmit'], false],
  ['build', 'node', ['scripts/build.mjs'], false],
  ['unit', 'npx', ['mocha'], true],
  ...(unitOnly ? [] : [['vscode', 'node', ['scripts/vscode-test.mjs'], true]]),
]) {
  const r = await run(label, cmd, args);
  if (r.code !== 0) failedSteps++;
  if (counted) {
    if (r.counts) {
      totals.passed += r.counts.passed; totals.failed += r.counts.failed; totals.skipped += r.counts.skipped;
    } else {
      totals.failed += 1; // a test step that could not report counts failed to run at all
    }
  } else if (r.code !== 0) {
    totals.failed += 1;
  }
}
console.log(`\n${totals.passed} passed, ${totals.failed} failed, ${totals.skipped} skipped`);
process.exit(failedSteps || totals.failed ? 1 : 0);
