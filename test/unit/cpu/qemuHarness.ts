// Builds the nasm test programs in test/fixtures/cpu/*.asm (cached in test/.cache/cpu/, keyed
// on the sources' content) and runs them under QEMU (TCG) and under our CPU (BareMachine).
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { BareMachine, type BareRunResult } from '../../../emulator/src/cpu/testing/bareMachine';
import { I8042 } from '../../../emulator/src/devices/i8042';
import { PicPair } from '../../../emulator/src/devices/i8259';
import { A20Gate } from '../../../emulator/src/devices/signals';

export const FIXTURES = join(__dirname, '..', '..', 'fixtures', 'cpu');

/** The programs that must exit through isa-debug-exit with identical output (qemuDiff.test.ts). */
export const DIFF_PROGRAMS = ['memory', 'realmode', 'flags', 'isa', 'strings', 'pmode', 'descriptors', 'segload', 'farxfer', 'intgates', 'tasks', 'paging', 'pagebits', 'faults', 'system', 'iobitmap', 'hlt', 'vm86', 'fpu', 'fpugrid', 'fpuround'];
/** Programs that end in a triple fault instead (their own test in qemuDiff.test.ts). */
export const SHUTDOWN_PROGRAMS = ['triple'];
export const CACHE = join(__dirname, '..', '..', '.cache', 'cpu');

/** Assemble `name`.asm; returns the image path. Fails loudly if nasm is missing. */
export function assemble(name: string): string {
  const includes = readdirSync(FIXTURES).filter((f) => f.endsWith('.inc')).sort();
  const h = createHash('sha256');
  for (const f of [`${name}.asm`, ...includes]) h.update(f).update(readFileSync(join(FIXTURES, f)));
  mkdirSync(CACHE, { recursive: true });
  const out = join(CACHE, `${name}-${h.digest('hex').slice(0, 16)}.bin`);
  if (existsSync(out)) return out;
  const r = spawnSync('nasm', ['-f', 'bin', '-I', FIXTURES + '/', '-o', out, join(FIXTURES, `${name}.asm`)], { encoding: 'utf8' });
  if (r.error) throw new Error(`nasm is required (apt-get install nasm): ${r.error.message}`);
  if (r.status !== 0) throw new Error(`nasm failed for ${name}.asm:\n${r.stderr}`);
  return out;
}

export interface QemuResult { output: string; exitCode: number | null }

/**
 * Run the image as QEMU's BIOS with the debug console on 0xE9 and isa-debug-exit on 0xF4. The
 * CPU model is a Pentium II without the local APIC, like ours: with an APIC QEMU routes the
 * i8259's INTR through LINT0, which nothing programs here, and no external interrupt arrives.
 */
export function runQemu(image: string, timeoutMs = 60_000, extraArgs: string[] = []): QemuResult {
  const outFile = `${image}.${process.pid}.qemu.txt`;
  rmSync(outFile, { force: true });
  const r = spawnSync('qemu-system-i386', qemuArgs(image, outFile, extraArgs), { encoding: 'utf8', timeout: timeoutMs });
  return qemuResult(outFile, r.status, r.error, timeoutMs);
}

/** runQemu in the background (the differential suite runs QEMU while our CPU runs). */
export function runQemuAsync(image: string, timeoutMs = 60_000): Promise<QemuResult> {
  const outFile = `${image}.${process.pid}.${++asyncRuns}.qemu.txt`;
  rmSync(outFile, { force: true });
  return new Promise((resolve, reject) => {
    const child = spawn('qemu-system-i386', qemuArgs(image, outFile, []), { stdio: 'ignore' });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    const finish = (code: number | null, err: Error | undefined): void => {
      clearTimeout(timer);
      try { resolve(qemuResult(outFile, code, err, timeoutMs)); } catch (e) { reject(e); }
    };
    child.on('error', (err) => finish(null, err));
    child.on('exit', (code, signal) => {
      finish(code, signal === 'SIGKILL' ? Object.assign(new Error('timeout'), { code: 'ETIMEDOUT' }) : undefined);
    });
  });
}
let asyncRuns = 0;

function qemuArgs(image: string, outFile: string, extraArgs: string[]): string[] {
  return [
    '-M', 'pc', '-cpu', 'pentium2,-apic', '-m', '32', '-bios', image, '-nodefaults', '-display', 'none',
    '-debugcon', `file:${outFile}`, '-device', 'isa-debug-exit,iobase=0xf4,iosize=4', '-no-reboot', ...extraArgs,
  ];
}

function qemuResult(outFile: string, status: number | null, error: Error | undefined, timeoutMs: number): QemuResult {
  const output = existsSync(outFile) ? readFileSync(outFile, 'latin1') : '';
  rmSync(outFile, { force: true });
  if (error && (error as NodeJS.ErrnoException).code === 'ETIMEDOUT') {
    throw new Error(`QEMU did not finish within ${timeoutMs} ms; output so far:\n${output.slice(-500)}`);
  }
  if (error) throw new Error(`qemu-system-i386 is required (apt-get install qemu-system-x86): ${error.message}`);
  return { output, exitCode: status };
}

/**
 * Run under our CPU; `preload` bytes are placed in RAM first (like QEMU's -device loader).
 * Our i8259 pair and i8042 are added to the bare machine, as QEMU's pc machine has them: the
 * keyboard controller's command 0xD2 is the programs' deterministic interrupt source (hlt.asm).
 * `configure` sees the machine before it runs (e.g. to set the CPU's translation threshold).
 */
export function runOurs(image: string, budget = 200_000_000, preload?: { addr: number; data: Uint8Array }, configure?: (m: BareMachine) => void): BareRunResult {
  const m = new BareMachine(new Uint8Array(readFileSync(image)));
  const pic = new PicPair();
  pic.register(m.io);
  pic.onIntrChange = () => m.cpu.notifyInterrupt();
  m.cpu.intr = pic;
  // QEMU's i8042 and port 0x92 drive one A20 line: the last write wins.
  const a20 = new A20Gate();
  a20.onChange((on) => m.mem.setA20(on));
  new I8042(pic, a20, () => m.cpu.requestStop('stopped')).register(m.io);
  if (preload) m.mem.load(preload.addr, preload.data);
  configure?.(m);
  return m.run(budget);
}

/** First differing line, for a readable assertion message. */
export function firstDifference(a: string, b: string): string {
  const la = a.split('\n'), lb = b.split('\n');
  for (let i = 0; i < Math.max(la.length, lb.length); i++) {
    if (la[i] !== lb[i]) return `line ${i + 1}:\n  qemu: ${la[i] ?? '<missing>'}\n  ours: ${lb[i] ?? '<missing>'}`;
  }
  return 'identical';
}
