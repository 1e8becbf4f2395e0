// `virt-studio boot`: runs a guest in the emulator worker (the same EmulatorHost path the
// debugger uses), with COM1 on stdout and stdin forwarded when it is a terminal or a pipe.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { EmulatorHost } from '../../../emulator/src/worker/host';
import type { BootSpec, WorkerEvent } from '../../../emulator/src/worker/protocol';
import { parseArgs, UsageError } from './usage';

export const bootHelp = `Usage: virt-studio boot DOMAIN.xml [options]
       virt-studio boot --kernel K [--initrd I] [--append S] [--disk IMG] [--cdrom ISO] [--memory MiB] [options]

Boots a guest in the built-in x86 PC emulator; the serial console (COM1) is on stdout and stdin
goes to it (on a terminal in raw mode: Ctrl-C reaches the guest, Ctrl-A x quits).

Options:
  --until TEXT     stop with exit 0 once TEXT appears on the serial console
  --timeout SEC    stop with exit 1 after SEC seconds of wall time

On exit prints "instructions=N seconds=S mips=M" on stderr.
Exit status: 0 TEXT seen, 1 timeout, 2 usage or I/O error, 3 guest crash.`;

/** Guest RAM ceiling for the CLI (the extension takes it from virtStudio.emulator.memoryLimitMiB). */
const CLI_MEMORY_LIMIT_MIB = 2047;

export async function runBoot(argv: string[]): Promise<number> {
  if (argv.length === 0 || argv[0] === '--help' || argv[0] === '-h') { console.log(bootHelp); return 0; }
  const args = parseArgs(argv, { valued: ['--kernel', '--initrd', '--append', '--disk', '--cdrom', '--memory', '--until', '--timeout'] });
  const one = (name: string) => {
    const v = args.options.get(name);
    if (v && v.length > 1) throw new UsageError(`${name} given more than once`);
    return v?.[0];
  };
  if (args.positionals.length > 1) throw new UsageError(`boot: one domain XML at most, got ${args.positionals.length} arguments`);
  const memory = one('--memory');
  const timeout = one('--timeout');
  const memoryMiB = memory === undefined ? undefined : Number(memory);
  if (memoryMiB !== undefined && !(Number.isInteger(memoryMiB) && memoryMiB >= 2)) throw new UsageError(`--memory: expected a whole number of MiB, got '${memory}'`);
  const timeoutSec = timeout === undefined ? undefined : Number(timeout);
  if (timeoutSec !== undefined && !(timeoutSec > 0)) throw new UsageError(`--timeout: expected a positive number of seconds, got '${timeout}'`);
  const spec: BootSpec = {
    domain: args.positionals[0], kernel: one('--kernel'), initrd: one('--initrd'), cmdline: one('--append'),
    disks: args.options.get('--disk'), cdrom: one('--cdrom'), memoryMiB,
    memoryLimitMiB: CLI_MEMORY_LIMIT_MIB, allowImageWrites: false, stopOnEntry: false,
  };
  if (!spec.domain && !spec.kernel && !spec.disks && !spec.cdrom) throw new UsageError('boot: give a domain XML, --kernel, --disk or --cdrom');
  for (const f of [spec.domain, spec.kernel, spec.initrd, spec.cdrom, ...(spec.disks ?? [])]) {
    if (f !== undefined && !existsSync(f)) throw new UsageError(`boot: ${f}: no such file`);
  }
  return bootAndWatch(spec, one('--until'), timeoutSec);
}

async function bootAndWatch(spec: BootSpec, until: string | undefined, timeoutSec: number | undefined): Promise<number> {
  const host = new EmulatorHost(join(__dirname, 'worker.js'));
  const started = performance.now();
  let seen = '';
  let finish!: (code: number) => void;
  const done = new Promise<number>((resolve) => { finish = resolve; });

  host.on('event', (e: WorkerEvent) => {
    switch (e.event) {
      case 'serialOutput':
        if (e.port !== 0) return;
        process.stdout.write(e.data);
        if (until !== undefined) {
          // Keep only as much history as a match spanning two batches needs.
          seen = (seen + Buffer.from(e.data).toString('latin1')).slice(-(until.length + 65536));
          if (seen.includes(until)) finish(0);
        }
        return;
      case 'warning':
        process.stderr.write(`warning: ${e.message}\n`);
        return;
      case 'stopped':
        if (e.reason === 'triple-fault' || e.reason === 'exception') {
          process.stderr.write(`guest crashed: ${e.reason}${e.detail ? `: ${e.detail}` : ''}\n`);
          finish(3);
        } else if (e.reason === 'halted-forever') {
          process.stderr.write(`guest halted with interrupts off at EIP 0x${e.eip.toString(16)}\n`);
          finish(until === undefined ? 0 : 1);
        }
        return;
      case 'exited':
        if (e.reason === 'triple-fault' || e.reason === 'error') {
          process.stderr.write(`guest crashed: ${e.reason}${e.message ? `: ${e.message}` : ''}\n`);
          finish(3);
        } else {
          process.stderr.write(`guest exited: ${e.reason}${e.code !== undefined ? ` (code ${e.code})` : ''}${e.message ? `: ${e.message}` : ''}\n`);
          finish(until === undefined ? 0 : 1);
        }
        return;
      default:
    }
  });

  // On a terminal the console is raw (Ctrl-C goes to the guest); Ctrl-A x quits, as in QEMU.
  let ctrlA = false;
  const forwardInput = (chunk: Buffer) => {
    if (process.stdin.isTTY) {
      for (const b of chunk) {
        if (ctrlA && (b === 0x78 || b === 0x58)) { process.stderr.write('\r\nvirt-studio boot: quit (Ctrl-A x)\r\n'); finish(until === undefined ? 0 : 1); return; }
        ctrlA = b === 0x01;
      }
    }
    void host.request({ kind: 'serialInput', port: 0, data: new Uint8Array(chunk) }).catch(() => {});
  };
  const timer = timeoutSec !== undefined ? setTimeout(() => {
    process.stderr.write(`timeout after ${timeoutSec} s${until !== undefined ? ` without seeing ${JSON.stringify(until)}` : ''}\n`);
    finish(1);
  }, timeoutSec * 1000) : undefined;

  let code: number;
  try {
    const { warnings } = await host.request({ kind: 'boot', spec: { ...spec, stopOnEntry: true } });
    for (const w of warnings) process.stderr.write(`warning: ${w}\n`);
    await host.request({ kind: 'setExceptionStops', vectors: [], tripleFault: true });
    if (process.stdin.isTTY) process.stdin.setRawMode(true);
    process.stdin.on('data', forwardInput);
    await host.request({ kind: 'resume' });
    code = await done;
  } catch (err) {
    process.stderr.write(`virt-studio boot: ${(err as Error).message}\n`);
    code = 2;
  }
  if (timer) clearTimeout(timer);
  process.stdin.off('data', forwardInput);
  if (process.stdin.isTTY) process.stdin.setRawMode(false);
  process.stdin.pause();
  let instructions = 0;
  try {
    await host.request({ kind: 'pause' });
    instructions = (await host.request({ kind: 'getStats' })).instructions;
  } catch { /* the worker is gone; report what we know */ }
  const seconds = (performance.now() - started) / 1000;
  process.stderr.write(`instructions=${instructions} seconds=${seconds.toFixed(2)} mips=${(instructions / seconds / 1e6).toFixed(1)}\n`);
  await host.dispose();
  return code;
}
