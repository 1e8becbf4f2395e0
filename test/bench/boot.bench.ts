// Boot benchmark: wall time from start until a guest prints a known line on its serial port,
// for Virt Studio (the CLI path: EmulatorHost + worker), QEMU TCG (`-M isapc -cpu
// pentium2,-apic`) and the v86 npm package, in the same run on the same guest.
//   rung 1: SeaBIOS + our nasm boot sector (raw disk) → "Virt Studio rung 1: …"
//   rung 2: memtest86+ ia32 as a kernel → its banner
//   rung 3: Debian 686 kernel + busybox initramfs → the shell prompt (minutes for us today;
//           BENCH_LINUX=0 leaves it out)
// Ratios are ours / anchor (lower is better). The issue's bar: rung 3 within 3× v86's time.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { EmulatorHost } from '../../emulator/src/worker/host';
import type { BootSpec } from '../../emulator/src/worker/protocol';
import { report } from '../support/bench';
import { bootSectorGuest, linuxGuest } from '../unit/machine/fixtures';

const ROOT = resolve(__dirname, '../..');
const WORKER = join(ROOT, 'dist/worker.js');
const TIMEOUT_MS = 1_800_000;
/** v86 options that name files (read into buffers); the others pass through. */
const FILE_OPTIONS = new Set(['hda', 'bzimage', 'initrd']);

interface Guest { name: string; text: string; ours: Omit<BootSpec, 'memoryLimitMiB' | 'allowImageWrites' | 'stopOnEntry'>; qemu: string[]; v86?: Record<string, unknown> }

async function ours(g: Guest): Promise<{ ms: number; instructions: number }> {
  const host = new EmulatorHost(WORKER);
  const t0 = performance.now();
  let seen = '';
  const done = new Promise<void>((res, rej) => {
    const timer = setTimeout(() => rej(new Error(`${g.name}: Virt Studio did not print ${JSON.stringify(g.text)} in ${TIMEOUT_MS / 1000} s`)), TIMEOUT_MS);
    host.on('event', (e) => {
      if (e.event === 'serialOutput') {
        seen += Buffer.from(e.data).toString('latin1');
        if (seen.includes(g.text)) { clearTimeout(timer); res(); }
      } else if (e.event === 'exited' || (e.event === 'stopped' && e.reason !== 'pause')) {
        clearTimeout(timer);
        rej(new Error(`${g.name}: guest ${e.event} ${'reason' in e ? e.reason : ''} before the text; output: ${seen.slice(-500)}`));
      }
    });
  });
  await host.request({ kind: 'boot', spec: { ...g.ours, memoryLimitMiB: 2047, allowImageWrites: false, stopOnEntry: false } });
  await done;
  const ms = performance.now() - t0;
  await host.request({ kind: 'pause' });
  const { instructions } = await host.request({ kind: 'getStats' });
  await host.dispose();
  return { ms, instructions };
}

function qemu(g: Guest): Promise<number> {
  return new Promise((res, rej) => {
    const t0 = performance.now();
    const p = spawn('qemu-system-i386', ['-M', 'isapc', '-cpu', 'pentium2,-apic', '-nodefaults', '-display', 'none', '-serial', 'stdio', '-no-reboot', ...g.qemu], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    const timer = setTimeout(() => { p.kill(); rej(new Error(`${g.name}: QEMU timed out`)); }, TIMEOUT_MS);
    p.on('error', rej);
    p.stdout.on('data', (d: Buffer) => {
      out += d.toString('latin1');
      if (out.includes(g.text)) { clearTimeout(timer); const ms = performance.now() - t0; p.kill(); res(ms); }
    });
  });
}

async function v86(g: Guest): Promise<number> {
  const require = createRequire(__filename);
  const { V86 } = await import('v86') as unknown as { V86: new (o: Record<string, unknown>) => { add_listener(e: string, f: (b: number) => void): void; destroy(): void } };
  const ab = (path: string) => { const b = readFileSync(path); return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength); };
  const t0 = performance.now();
  return new Promise((res, rej) => {
    const emu = new V86({
      wasm_path: require.resolve('v86/build/v86.wasm'),
      bios: { buffer: ab('/usr/share/seabios/bios.bin') }, vga_bios: { buffer: ab('/usr/share/seabios/vgabios-stdvga.bin') },
      autostart: true, memory_size: 64 << 20, disable_keyboard: true, disable_mouse: true, disable_speaker: true,
      ...Object.fromEntries(Object.entries(g.v86!).map(([k, v]) => [k, FILE_OPTIONS.has(k) ? { buffer: ab(v as string) } : v])),
    });
    let out = '';
    const timer = setTimeout(() => { emu.destroy(); rej(new Error(`${g.name}: v86 timed out`)); }, TIMEOUT_MS);
    emu.add_listener('serial0-output-byte', (b) => {
      out += String.fromCharCode(b);
      if (out.includes(g.text)) { clearTimeout(timer); const ms = performance.now() - t0; emu.destroy(); res(ms); }
    });
  });
}

async function main(): Promise<void> {
  if (!existsSync(WORKER)) spawnSync(process.execPath, [join(ROOT, 'scripts/build.mjs')], { stdio: 'inherit', cwd: ROOT });
  const disk = bootSectorGuest().raw;
  const guests: Guest[] = [{
    name: 'rung 1 (SeaBIOS + boot sector)', text: 'Virt Studio rung 1: hello from the boot sector',
    ours: { disks: [disk], memoryMiB: 16 }, qemu: ['-m', '16', '-drive', `file=${disk},format=raw,if=ide,snapshot=on`], v86: { hda: disk, memory_size: 16 << 20 },
  }];
  const cmd = 'console=ttyS0,115200';
  guests.push({
    name: 'rung 2 (memtest86+ banner)', text: 'Memtest86+ v',
    ours: { kernel: '/boot/memtest86+ia32.bin', cmdline: cmd, memoryMiB: 64 },
    qemu: ['-m', '64', '-kernel', '/boot/memtest86+ia32.bin', '-append', cmd],
    // No v86 figure: v86 0.5.x dies on memtest86+ ("Maximum call stack size exceeded" in its
    // call_interrupt_vector/do_page_walk recursion), measured 2026-11-25.
  });
  if (process.env.BENCH_LINUX !== '0') {
    const { kernel, initrd } = linuxGuest();
    guests.push({
      name: 'rung 3 (Debian 686 + busybox to the shell)', text: '~ # ',
      ours: { kernel, initrd, cmdline: 'console=ttyS0', memoryMiB: 128 },
      qemu: ['-m', '128', '-kernel', kernel, '-initrd', initrd, '-append', 'console=ttyS0'],
      v86: { bzimage: kernel, initrd, cmdline: 'console=ttyS0', memory_size: 128 << 20 },
    });
  }
  for (const g of guests) {
    const q = await qemu(g);
    const o = await ours(g);
    report({ name: `${g.name}: Virt Studio time to text`, value: o.ms / 1000, unit: 's', anchor: { name: 'QEMU TCG isapc', value: q / 1000 }, ratio: o.ms / q, note: `${o.instructions} instructions, ${(o.instructions / o.ms / 1000).toFixed(1)} MIPS; ratio = ours / QEMU` });
    if (g.v86) {
      const v = await v86(g);
      report({ name: `${g.name}: Virt Studio vs v86`, value: o.ms / 1000, unit: 's', anchor: { name: 'v86 (npm, wasm JIT)', value: v / 1000 }, ratio: o.ms / v, note: `ratio = ours / v86; ours ${o.instructions} instructions` });
    }
  }
}

main().then(() => process.exit(0), (err) => { console.error(err); process.exit(1); });
