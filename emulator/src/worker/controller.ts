// The worker's side of the protocol: one Machine, the requests that drive and inspect it, and
// the run loop. The loop runs the guest in slices of a few milliseconds and returns to the
// event loop between them (setImmediate), so requests — pause above all — are answered within
// one slice while the guest runs. Guest output is batched per slice; screen and stats events
// are throttled. Guest triple faults and emulator errors become events; nothing here throws
// out of the worker. Independent of worker_threads (tests drive it directly).
import { EX_DB } from '../cpu/constants';
import type { Watchpoint } from '../cpu/cpu';
import { DEFAULT_VGA_BIOS } from '../machine/pcPlatform';
import { Machine, type MachineStop } from '../machine/machine';
import { decodeSnapshot, encodeSnapshot } from '../machine/snapshotCodec';
import { existsSync } from 'node:fs';
import { machineConfigFromSpec } from './bootConfig';
import { compileCondition, type Condition, type ConditionEnv } from './condition';
import type { Breakpoint, DataBreakpoint, Request, RequestKind, ResponseBody, Stats, StopReason, TextScreen, WorkerEvent } from './protocol';
import { setCpuRegister, snapshotCpu } from '../machine/cpuState';
import { describeDevices } from './devices';

/** Wall time one run slice may take before the loop yields to the message queue. */
const SLICE_MS = 4;
const SCREEN_EVENT_MS = 100;
const STATS_EVENT_MS = 1000;
/** Serial output is flushed at the end of each slice, or earlier once this much is buffered. */
const SERIAL_FLUSH_BYTES = 16384;
const MAX_READ = 16 << 20;
/** While the guest idles, virtual time may run ahead of wall time by this much before the loop sleeps. */
const IDLE_AHEAD_MS = 5;
const IDLE_SLEEP_MAX_MS = 20;

interface ArmedBreakpoint { bp: Breakpoint; condition: Condition | undefined; hits: number }

export class WorkerController {
  private machine: Machine | undefined;
  private running = false;
  private loopScheduled = false;
  private exited = false;
  private readonly serialOut: number[][] = [[], []];
  private debugText = '';
  private breakpoints = new Map<number, ArmedBreakpoint[]>();
  private watchIds = new Map<Watchpoint, number>();
  private stopOnTripleFault = true;
  private lastScreenVersion = -1;
  private lastScreenEvent = 0;
  private lastStats = { at: 0, instructions: 0, mips: 0 };
  private anchor = { wall: 0, virtualNs: 0 };
  private idleSeenNs = 0;
  private readonly warned = new Set<string>();

  constructor(private readonly post: (event: WorkerEvent) => void) {}

  async handle(request: Request): Promise<ResponseBody[RequestKind]> {
    switch (request.kind) {
      case 'boot': return this.boot(request.spec);
      case 'shutdown': return this.shutdown();
      default: break;
    }
    const m = this.machine;
    if (!m) throw new Error('no guest has been booted');
    switch (request.kind) {
      case 'pause': {
        const wasRunning = this.running;
        if (wasRunning) this.stop('pause');
        return { stopped: wasRunning };
      }
      case 'resume':
        if (this.exited) throw new Error('the guest has exited');
        this.start();
        return {};
      case 'step': return this.step(Math.max(1, Math.floor(request.count)));
      case 'readMemory': {
        const length = Math.max(0, Math.floor(request.length));
        if (length > MAX_READ) throw new Error(`readMemory: at most ${MAX_READ} bytes per request`);
        return m.readMemory(request.address >>> 0, length, request.space);
      }
      case 'writeMemory':
        return { written: m.writeMemory(request.address >>> 0, request.data, request.space) };
      case 'translate': return m.translate(request.linear);
      case 'getCpu': return snapshotCpu(m.cpu);
      case 'setRegister':
        if (this.running) throw new Error('pause the guest before changing registers');
        return { value: setCpuRegister(m.cpu, request.name, request.value) };
      case 'getDevices': return describeDevices(m);
      case 'setBreakpoints': return this.setBreakpoints(request.breakpoints);
      case 'setDataBreakpoints': return this.setDataBreakpoints(request.breakpoints);
      case 'setExceptionStops':
        m.exceptionStops.clear();
        for (const v of request.vectors) if (v >= 0 && v < 32 && v !== EX_DB) m.exceptionStops.add(v);
        this.stopOnTripleFault = request.tripleFault;
        return {};
      case 'serialInput': {
        const uart = m.platform.serial[request.port];
        if (!uart) throw new Error(`no serial port ${request.port} (0 = COM1, 1 = COM2)`);
        uart.receive(request.data);
        return {};
      }
      case 'keyboard':
        m.platform.keyboard.sendScancodes(request.scancodes);
        return {};
      case 'getScreen': return this.screen();
      case 'getStats': return this.stats();
      case 'saveState':
        if (m.ioPending) await m.settleIo();
        return { state: encodeSnapshot(m.saveState()) };
      case 'restoreState':
        if (m.ioPending) await m.settleIo();
        m.restoreState(decodeSnapshot(request.state));
        this.exited = false;
        return {};
    }
  }

  // ---- lifecycle ----

  private async boot(spec: Parameters<typeof machineConfigFromSpec>[0]): Promise<ResponseBody['boot']> {
    if (this.machine) throw new Error('a guest is already booted in this worker');
    const { config, warnings } = await machineConfigFromSpec(spec);
    if (config.screen && config.boot.kind === 'firmware' && !existsSync(DEFAULT_VGA_BIOS)) warnings.push(`${DEFAULT_VGA_BIOS} is missing: the screen stays blank until the guest programs VGA itself (install seabios)`);
    const m = await Machine.create({ config });
    this.machine = m;
    m.platform.serial.forEach((uart, port) => {
      uart.onTransmit = (byte) => {
        const buf = this.serialOut[port];
        buf.push(byte);
        if (buf.length >= SERIAL_FLUSH_BYTES) this.flushOutput();
      };
    });
    m.platform.debugConsole.onOutput = (byte) => { this.debugText += String.fromCharCode(byte); };
    this.anchor = { wall: performance.now(), virtualNs: 0 };
    this.idleSeenNs = 0;
    if (!spec.stopOnEntry) this.start();
    return { warnings };
  }

  private async shutdown(): Promise<ResponseBody['shutdown']> {
    this.running = false;
    const m = this.machine;
    this.machine = undefined;
    if (m) {
      this.flushOutput();
      await m.close();
    }
    return {};
  }

  private start(): void {
    if (this.running) return;
    this.running = true;
    const m = this.machine!;
    this.anchor = { wall: performance.now(), virtualNs: m.clock.nowNs() };
    this.lastStats = { at: performance.now(), instructions: m.cpu.instructions, mips: this.lastStats.mips };
    this.post({ event: 'continued' });
    this.schedule(0);
  }

  private stop(reason: StopReason, detail?: string, breakpointId?: number): void {
    this.running = false;
    this.flushOutput();
    const m = this.machine!;
    const { data, readable } = m.readMemory(m.cpu.pcLinear, 15, 'linear');
    this.post({ event: 'stopped', reason, detail, breakpointId, eip: m.cpu.eip >>> 0, cpu: snapshotCpu(m.cpu), code: data.slice(0, readable) });
  }

  private exit(reason: 'shutdown' | 'debug-exit' | 'triple-fault' | 'error', code?: number, message?: string): void {
    this.running = false;
    this.exited = true;
    this.flushOutput();
    this.post({ event: 'exited', reason, code, message });
  }

  // ---- the run loop ----

  private schedule(delayMs: number): void {
    if (this.loopScheduled) return;
    this.loopScheduled = true;
    const run = () => { this.loopScheduled = false; void this.slice(); };
    if (delayMs > 0) setTimeout(run, delayMs); else setImmediate(run);
  }

  private async slice(): Promise<void> {
    const m = this.machine;
    if (!this.running || !m) return;
    let stop: MachineStop;
    try {
      stop = m.run(Number.POSITIVE_INFINITY, performance.now() + SLICE_MS);
      if (stop.kind === 'io') await m.settleIo();
    } catch (err) {
      this.exit('error', undefined, `emulator error at EIP 0x${(m.cpu.eip >>> 0).toString(16)}: ${(err as Error).stack ?? err}`);
      return;
    }
    this.flushOutput();
    this.periodicEvents();
    if (!this.running || this.machine !== m) return; // paused or shut down while awaiting I/O
    if (stop.kind === 'budget' || stop.kind === 'io') { this.schedule(this.idleDelay()); return; }
    if (stop.kind === 'breakpoint') {
      const id = this.breakpointHit(stop.address);
      if (id === undefined) { this.schedule(0); return; }
      this.stop('breakpoint', undefined, id);
      return;
    }
    this.handleStop(stop);
  }

  /** Stops other than budget/io/breakpoint, shared by the run loop and step. */
  private handleStop(stop: MachineStop): void {
    switch (stop.kind) {
      case 'watchpoint': {
        const h = stop.hit;
        this.stop('data-breakpoint', `${h.write ? 'write' : 'read'} of ${h.size} byte(s) at 0x${h.address.toString(16)}`, this.watchIds.get(h.watch));
        return;
      }
      case 'exception':
        this.stop('exception', `exception ${stop.vector}${stop.errorCode >= 0 ? ` (error code 0x${stop.errorCode.toString(16)})` : ''} at EIP 0x${stop.faultEip.toString(16)}`);
        return;
      case 'triple-fault':
        if (this.stopOnTripleFault) this.stop('triple-fault', stop.reason);
        else this.exit('triple-fault', undefined, stop.reason);
        return;
      case 'halted-forever':
        this.stop('halted-forever', 'HLT with interrupts disabled: nothing can wake the CPU');
        return;
      case 'debug-exit':
        this.exit('debug-exit', stop.code);
        return;
      case 'reset-without-firmware':
        this.exit('shutdown', undefined, `the guest reset the machine (${stop.source}); a direct kernel boot has no firmware to restart`);
        return;
      case 'breakpoint':
        this.stop('breakpoint', undefined, this.breakpointHit(stop.address, true));
        return;
      case 'budget':
      case 'io':
        return;
    }
  }

  /**
   * Idle guests (HLT skipping time) do not run virtual time ahead of wall time. Busy guests are
   * not held back: their virtual time comes from instructions, and a slice with no idle skip
   * re-anchors, so only the skipped stretches are paced against the wall clock.
   */
  private idleDelay(): number {
    const m = this.machine!;
    if (m.idleSkippedNs === this.idleSeenNs) {
      this.anchor = { wall: performance.now(), virtualNs: m.clock.nowNs() };
      return 0;
    }
    this.idleSeenNs = m.idleSkippedNs;
    const ahead = (m.clock.nowNs() - this.anchor.virtualNs) / 1e6 - (performance.now() - this.anchor.wall);
    if (ahead <= IDLE_AHEAD_MS) {
      // Re-anchor when far behind so one long idle stretch later is still throttled.
      if (ahead < -1000) this.anchor = { wall: performance.now(), virtualNs: m.clock.nowNs() };
      return 0;
    }
    return Math.min(IDLE_SLEEP_MAX_MS, Math.ceil(ahead));
  }

  private async step(count: number): Promise<ResponseBody['step']> {
    if (this.running) throw new Error('the guest is running; pause it before stepping');
    if (this.exited) throw new Error('the guest has exited');
    const m = this.machine!;
    const start = m.cpu.instructions;
    let stop: MachineStop = { kind: 'budget' };
    try {
      for (let guard = 0; guard < 1_000_000; guard++) {
        const left = count - (m.cpu.instructions - start);
        if (left <= 0) break;
        stop = m.run(left, performance.now() + 1000);
        if (stop.kind === 'io') { await m.settleIo(); continue; }
        if (stop.kind !== 'budget') break;
      }
    } catch (err) {
      this.exit('error', undefined, `emulator error at EIP 0x${(m.cpu.eip >>> 0).toString(16)}: ${(err as Error).message}`);
      return { instructions: m.cpu.instructions - start };
    }
    if (stop.kind === 'budget' || stop.kind === 'io') this.stop('step');
    else this.handleStop(stop);
    return { instructions: m.cpu.instructions - start };
  }

  // ---- breakpoints ----

  private setBreakpoints(list: Breakpoint[]): ResponseBody['setBreakpoints'] {
    const byAddress = new Map<number, ArmedBreakpoint[]>();
    const verified: number[] = [];
    for (const bp of list) {
      let condition: Condition | undefined;
      try {
        condition = bp.condition?.trim() ? compileCondition(bp.condition) : undefined;
      } catch (err) {
        this.warn((err as Error).message);
        continue;
      }
      const previous = this.breakpoints.get(bp.address >>> 0)?.find((a) => a.bp.id === bp.id);
      const armed: ArmedBreakpoint = { bp, condition, hits: previous?.hits ?? 0 };
      const at = byAddress.get(bp.address >>> 0) ?? [];
      at.push(armed);
      byAddress.set(bp.address >>> 0, at);
      verified.push(bp.id);
    }
    this.breakpoints = byAddress;
    this.machine!.setBreakpoints(byAddress.keys());
    return { verified };
  }

  /** A breakpoint address was reached: the id of the breakpoint that stops here, if any. */
  private breakpointHit(address: number, always = false): number | undefined {
    const armed = this.breakpoints.get(address);
    if (!armed) return undefined;
    const env = this.conditionEnv();
    let stopId: number | undefined;
    for (const a of armed) {
      let ok = true;
      if (a.condition) {
        try {
          ok = a.condition(env);
        } catch (err) {
          this.warn(`breakpoint ${a.bp.id}: ${(err as Error).message}; stopping`);
          ok = true;
        }
      }
      if (!ok) continue;
      a.hits++;
      if (a.hits >= (a.bp.hitCount ?? 1) && stopId === undefined) stopId = a.bp.id;
    }
    return stopId ?? (always ? armed[0].bp.id : undefined);
  }

  private conditionEnv(): ConditionEnv {
    const m = this.machine!;
    const snap = snapshotCpu(m.cpu);
    const values = new Map<string, number>();
    for (const r of [...snap.general, ...snap.control]) values.set(r.name, r.value);
    for (const s of snap.segments) values.set(s.name, s.selector);
    const fl = m.cpu.getFlags();
    const flagBits: Record<string, number> = { cf: 0, pf: 2, af: 4, zf: 6, sf: 7, tf: 8, if: 9, df: 10, of: 11 };
    for (const [n, b] of Object.entries(flagBits)) values.set(n, (fl >>> b) & 1);
    const general = ['eax', 'ecx', 'edx', 'ebx', 'esp', 'ebp', 'esi', 'edi'];
    general.forEach((n, i) => {
      const v = m.cpu.regs[i] >>> 0;
      values.set(n.slice(1), v & 0xffff);
      if (i < 4) { values.set(`${n[1]}l`, v & 0xff); values.set(`${n[1]}h`, (v >>> 8) & 0xff); }
    });
    return {
      register: (name) => values.get(name),
      read: (address, size) => {
        const r = m.readMemory(address >>> 0, size, 'linear');
        if (r.readable < size) return undefined;
        let v = 0;
        for (let i = size - 1; i >= 0; i--) v = v * 256 + r.data[i];
        return v;
      },
    };
  }

  private setDataBreakpoints(list: DataBreakpoint[]): ResponseBody['setDataBreakpoints'] {
    const access = { read: 'r', write: 'w', readWrite: 'rw' } as const;
    this.watchIds = new Map();
    const watches: Watchpoint[] = [];
    const verified: number[] = [];
    for (const d of list) {
      if (!(d.size > 0) || d.size > 0x100000) { this.warn(`data breakpoint ${d.id}: size ${d.size} is out of range`); continue; }
      const w: Watchpoint = { space: d.space, start: d.address >>> 0, length: d.size, access: access[d.access] };
      watches.push(w);
      this.watchIds.set(w, d.id);
      verified.push(d.id);
    }
    this.machine!.setWatchpoints(watches);
    return { verified };
  }

  // ---- output and periodic events ----

  private flushOutput(): void {
    this.serialOut.forEach((buf, port) => {
      if (buf.length === 0) return;
      this.post({ event: 'serialOutput', port, data: Uint8Array.from(buf) });
      buf.length = 0;
    });
    const nl = this.debugText.lastIndexOf('\n');
    if (nl >= 0 || this.debugText.length > 4096) {
      const cut = nl >= 0 ? nl + 1 : this.debugText.length;
      this.post({ event: 'debugConsole', text: this.debugText.slice(0, cut) });
      this.debugText = this.debugText.slice(cut);
    }
  }

  private periodicEvents(): void {
    const m = this.machine!;
    const now = performance.now();
    if (now - this.lastScreenEvent >= SCREEN_EVENT_MS && m.platform.vga && m.screenVersion !== this.lastScreenVersion) {
      this.lastScreenVersion = m.screenVersion;
      this.lastScreenEvent = now;
      this.post({ event: 'screenChanged' });
    }
    if (now - this.lastStats.at >= STATS_EVENT_MS) this.post({ event: 'stats', stats: this.stats() });
  }

  private stats(): Stats {
    const m = this.machine!;
    const now = performance.now();
    const dt = now - this.lastStats.at;
    if (this.running && dt >= 200) {
      this.lastStats = { at: now, instructions: m.cpu.instructions, mips: (m.cpu.instructions - this.lastStats.instructions) / dt / 1000 };
    }
    return { instructions: m.cpu.instructions, mips: this.running ? this.lastStats.mips : 0, running: this.running, virtualTimeNs: m.clock.nowNs() };
  }

  private screen(): TextScreen | null {
    const vga = this.machine!.platform.vga;
    if (!vga) return null;
    const s = vga.textScreen();
    return {
      columns: s.cols, rows: s.rows, chars: Array.from(s.chars), attributes: Array.from(s.attrs),
      cursor: { row: s.cursor.row, column: s.cursor.col, visible: s.cursor.visible },
    };
  }

  private warn(message: string): void {
    if (this.warned.has(message)) return;
    this.warned.add(message);
    this.post({ event: 'warning', message });
  }
}
