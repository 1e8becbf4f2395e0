// Parse + validate time per lvm.conf (ours, in process) against `lvmconfig --validate` of the
// same file (the anchor: a process per file, as a user or CI would run it), in the same run.
// Inputs: lvm2's complete configuration with comments (`lvmconfig --typeconfig full
// --withcomments`, ~2,700 lines, every setting set) and a 10x larger file of repeated sections.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { diagnoseLvmText } from '../../server/src/lvm/index';
import { report, timeIt } from '../support/bench';

const env = { ...process.env, LVM_SUPPRESS_FD_WARNINGS: '1', LC_ALL: 'C' };
const work = mkdtempSync(join(tmpdir(), 'lvm-bench-'));

function lvmconfig(dir: string, args: string[]): string {
  return execFileSync('lvmconfig', args, { env: { ...env, LVM_SYSTEM_DIR: dir }, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

async function main(): Promise<void> {
  const version = /LVM version:\s*(\d+\.\d+\.\d+)/.exec(execFileSync('lvm', ['version'], { env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }))![1];
  const seedDir = join(work, 'seed');
  mkdirSync(seedDir);
  writeFileSync(join(seedDir, 'lvm.conf'), 'devices { }\n');
  const full = lvmconfig(seedDir, ['--typeconfig', 'full', '--withcomments', '--withversions']);
  const inputs: [string, string][] = [
    ['full lvm.conf (with comments)', full],
    ['10x full lvm.conf (repeated sections)', Array.from({ length: 10 }, () => full).join('\n')],
  ];
  for (const [name, text] of inputs) {
    const dir = join(work, name.replace(/\W+/g, '-'));
    mkdirSync(dir);
    writeFileSync(join(dir, 'lvm.conf'), text);
    const lines = text.split('\n').length;
    const errors = diagnoseLvmText(text, join(dir, 'lvm.conf'), { version }).filter((d) => d.severity === 'error');
    if (errors.length) throw new Error(`${name}: unexpected errors ${errors.map((e) => e.message).join('; ')}`);
    const check = lvmconfig(dir, ['--validate']);
    if (!/LVM configuration valid/.test(check)) throw new Error(`${name}: lvmconfig did not validate: ${check}`);

    const ours = await timeIt(() => diagnoseLvmText(text, join(dir, 'lvm.conf'), { version }), { warmup: 20, iterations: 20, rounds: 9 });
    const samples: number[] = [];
    for (let i = 0; i < 15; i++) {
      const t0 = performance.now();
      lvmconfig(dir, ['--validate']);
      samples.push(performance.now() - t0);
    }
    samples.sort((a, b) => a - b);
    const anchor = samples[Math.floor(samples.length / 2)];
    report({
      name: `lvm parse+validate: ${name}, ${lines} lines`, value: ours, unit: 'ms',
      anchor: { name: 'lvmconfig --validate (process)', value: anchor }, ratio: ours / anchor,
      note: 'ratio = ours / anchor (lower is faster)',
    });
  }
}

main().finally(() => rmSync(work, { recursive: true, force: true })).catch((e) => {
  console.error(e);
  process.exit(1);
});
