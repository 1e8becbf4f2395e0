// The tests' entry inside the extension host: @vscode/test-electron's run() contract. VS Code
// (here code-server, see host/code-server-shim.mjs) loads this module and calls run(); the run
// fails when the promise rejects. Mocha runs every suite/*.test.js below this file.
// Progress goes to the file VIRT_STUDIO_TEST_LOG (the shim echoes it), the counts and each
// test's outcome to VIRT_STUDIO_TEST_RESULTS (scripts/vscode-test.mjs prints them).
import { appendFileSync, readdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import Mocha from 'mocha';

interface Outcome { title: string; state: 'passed' | 'failed'; ms: number; error?: string }

export async function run(): Promise<void> {
  const logFile = process.env.VIRT_STUDIO_TEST_LOG;
  const log = (line: string): void => {
    console.log(line);
    if (logFile) appendFileSync(logFile, `${line}\n`);
  };
  const mocha = new Mocha({ ui: 'bdd', timeout: 60_000, color: false, reporter: class { } as never });
  if (process.env.VIRT_STUDIO_TEST_GREP) mocha.grep(process.env.VIRT_STUDIO_TEST_GREP);
  const suites = path.join(__dirname, 'suite');
  for (const f of readdirSync(suites).filter((n) => n.endsWith('.test.js')).sort()) mocha.addFile(path.join(suites, f));

  const outcomes: Outcome[] = [];
  const failures = await new Promise<number>((resolve) => {
    const runner = mocha.run((n) => resolve(n));
    runner.on('suite', (s) => { if (s.title) log(`  ${s.fullTitle()}`); });
    runner.on('pass', (t) => {
      outcomes.push({ title: t.fullTitle(), state: 'passed', ms: t.duration ?? 0 });
      log(`    ✓ ${t.title} (${t.duration ?? 0} ms)`);
    });
    runner.on('fail', (t, err: Error) => {
      outcomes.push({ title: t.fullTitle(), state: 'failed', ms: t.duration ?? 0, error: err.stack ?? String(err) });
      log(`    ✗ ${t.title}\n${String(err.stack ?? err).replace(/^/gm, '        ')}`);
    });
  });
  const passed = outcomes.filter((o) => o.state === 'passed').length;
  const failed = outcomes.filter((o) => o.state === 'failed').length;
  log(`  extension host: ${passed} passed, ${failed} failed`);
  if (process.env.VIRT_STUDIO_TEST_RESULTS) {
    writeFileSync(process.env.VIRT_STUDIO_TEST_RESULTS, JSON.stringify({ passed, failed, outcomes }, null, 2));
  }
  if (failures > 0 || failed > 0) throw new Error(`${Math.max(failures, failed)} test(s) failed`);
  if (passed === 0) throw new Error('no test ran');
}
