// The `virt` debug session: translates DAP into the emulator worker's typed protocol. It knows
// nothing of the CPU's internals — everything it shows comes from worker responses — and it
// never blocks: the worker runs the guest on its own thread and every request answers while
// the guest runs.
import {
  Breakpoint, InitializedEvent, InvalidatedEvent, LoggingDebugSession, MemoryEvent, OutputEvent, Scope, StackFrame,
  StoppedEvent, TerminatedEvent, Thread, ContinuedEvent, Event as DapEvent,
} from '@vscode/debugadapter';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { compileCondition } from '../../../emulator/src/worker/condition';
import { EmulatorHost } from '../../../emulator/src/worker/host';
import type {
  BootSpec, Breakpoint as WorkerBreakpoint, CpuSnapshot, Stats, DataBreakpoint as WorkerDataBreakpoint, StopReason, WorkerEvent,
} from '../../../emulator/src/worker/protocol';
import { DescriptorTablesRequest, KeyboardRequest, ScreenRequest, SerialInputRequest, SerialOutputEvent, ScreenChangedEvent, StatsEvent, StatsRequest, TranslateRequest } from './customProtocol';
import { decodeTable } from './descriptors';
import { Disassembler } from './disassembler';
import { evaluate, ExpressionError, parseExpression } from './expressions';
import { formatReference, parseReference } from './memoryReference';
import { BIT_FIELDS, describeBits, fieldValue, hex, parseNumber, withField } from './registers';
import { loadSymbols, SymbolTable } from './symbols';

/**
 * The launch configuration: what to boot (the worker's BootSpec, every field optional; the
 * extension fills memoryLimitMiB/allowImageWrites from settings) plus debugger-only options.
 */
export interface LaunchArguments extends DebugProtocol.LaunchRequestArguments, Partial<BootSpec> {
  symbols?: string[];
}

const THREAD_ID = 1;
/** The id of the temporary breakpoint behind step over and step out; its stop is a step. */
const STEP_BREAKPOINT_ID = -1;
const SCOPE = { general: 1, segments: 2, control: 3, fpu: 4, devices: 5 } as const;
/** Child references for decoded bit fields: BITS_BASE + index in the register list. */
const BITS_BASE = 100;

const EXCEPTION_FILTERS: (DebugProtocol.ExceptionBreakpointsFilter & { vector?: number })[] = [
  { filter: 'triple-fault', label: 'Triple fault', description: 'The guest triple-faulted (the machine would reset).', default: true },
  { filter: 'de', label: '#DE divide error', vector: 0, default: false },
  { filter: 'ud', label: '#UD invalid opcode', vector: 6, default: false },
  { filter: 'df', label: '#DF double fault', vector: 8, default: true },
  { filter: 'gp', label: '#GP general protection', vector: 13, default: false },
  { filter: 'pf', label: '#PF page fault', vector: 14, default: false },
];

const STOP_REASON: Record<StopReason, string> = {
  entry: 'entry', pause: 'pause', step: 'step', breakpoint: 'instruction breakpoint',
  'data-breakpoint': 'data breakpoint', exception: 'exception', 'triple-fault': 'exception', 'halted-forever': 'pause',
};

export class VirtDebugSession extends LoggingDebugSession {
  private host: EmulatorHost | undefined;
  private launchArgs: LaunchArguments | undefined;
  private symbols = new SymbolTable();
  private cpu: CpuSnapshot | undefined;
  /** The bytes at CS:EIP as of the last stop (what step over decodes). */
  private codeAtPc: { address: number; bytes: Uint8Array } | undefined;
  private readonly disassembler = new Disassembler();
  private instructionBreakpoints: WorkerBreakpoint[] = [];
  private functionBreakpoints: WorkerBreakpoint[] = [];
  /** Temporary breakpoint used by stepOut; removed at the next stop. */
  private stepOutBreakpoint: WorkerBreakpoint | undefined;
  private nextBreakpointId = 1;
  private clientSupportsInvalidated = false;
  private clientSupportsMemoryEvent = false;
  /** The worker's last periodic figures; the status bar also hears of every stop and resume. */
  private lastStats: Stats = { instructions: 0, mips: 0, running: false, virtualTimeNs: 0 };

  constructor(private readonly workerScript: string) {
    super();
    this.setDebuggerLinesStartAt1(true);
    this.setDebuggerColumnsStartAt1(true);
  }

  // ---- lifecycle ----

  protected override initializeRequest(response: DebugProtocol.InitializeResponse, args: DebugProtocol.InitializeRequestArguments): void {
    this.clientSupportsInvalidated = !!args.supportsInvalidatedEvent;
    this.clientSupportsMemoryEvent = !!args.supportsMemoryEvent;
    response.body = {
      supportsConfigurationDoneRequest: true,
      supportsInstructionBreakpoints: true,
      supportsSteppingGranularity: true,
      supportsDisassembleRequest: true,
      supportsReadMemoryRequest: true,
      supportsWriteMemoryRequest: true,
      supportsSetVariable: true,
      supportsEvaluateForHovers: true,
      supportsFunctionBreakpoints: true,
      supportsDataBreakpoints: true,
      supportsConditionalBreakpoints: true,
      supportsHitConditionalBreakpoints: true,
      supportsRestartRequest: true,
      supportsTerminateRequest: true,
      supportsExceptionInfoRequest: true,
      exceptionBreakpointFilters: EXCEPTION_FILTERS.map(({ vector: _v, ...f }) => f),
    };
    this.sendResponse(response);
  }

  protected override async launchRequest(response: DebugProtocol.LaunchResponse, args: LaunchArguments): Promise<void> {
    try {
      this.launchArgs = args;
      this.symbols = args.symbols?.length ? await loadSymbols(args.symbols) : new SymbolTable();
      await this.boot(args);
      this.sendResponse(response);
      this.sendEvent(new InitializedEvent());
    } catch (err) {
      this.sendErrorResponse(response, 1001, `Cannot boot: ${(err as Error).message}`);
    }
  }

  private async boot(args: LaunchArguments): Promise<void> {
    const host = new EmulatorHost(this.workerScript);
    host.on('event', (e) => this.onWorkerEvent(host, e));
    this.host = host;
    const spec: BootSpec = {
      domain: args.domain, kernel: args.kernel, initrd: args.initrd, cmdline: args.cmdline, disks: args.disks,
      cdrom: args.cdrom, memoryMiB: args.memoryMiB, memoryLimitMiB: args.memoryLimitMiB ?? 1024,
      allowImageWrites: args.allowImageWrites ?? false,
      // Always stop first so breakpoints are in place before the first instruction runs;
      // configurationDone resumes unless the user asked to stop on entry.
      stopOnEntry: true,
    };
    const { warnings } = await host.request({ kind: 'boot', spec });
    for (const w of warnings) this.sendEvent(new OutputEvent(`warning: ${w}\n`, 'console'));
  }

  protected override async configurationDoneRequest(response: DebugProtocol.ConfigurationDoneResponse): Promise<void> {
    this.sendResponse(response);
    if (this.launchArgs?.stopOnEntry) {
      this.sendEvent(new StoppedEvent('entry', THREAD_ID));
    } else {
      await this.resume();
    }
  }

  protected override async restartRequest(response: DebugProtocol.RestartResponse): Promise<void> {
    try {
      await this.host?.dispose();
      this.cpu = undefined;
      await this.boot(this.launchArgs ?? {});
      await this.pushBreakpoints();
      this.sendResponse(response);
      if (this.launchArgs?.stopOnEntry) this.sendEvent(new StoppedEvent('entry', THREAD_ID));
      else await this.resume();
    } catch (err) {
      this.sendErrorResponse(response, 1002, `Cannot restart: ${(err as Error).message}`);
    }
  }

  protected override async terminateRequest(response: DebugProtocol.TerminateResponse): Promise<void> {
    await this.host?.dispose();
    this.host = undefined;
    this.sendResponse(response);
    this.sendEvent(new TerminatedEvent());
  }

  protected override async disconnectRequest(response: DebugProtocol.DisconnectResponse): Promise<void> {
    await this.host?.dispose();
    this.host = undefined;
    this.sendResponse(response);
  }

  // ---- worker events ----

  private onWorkerEvent(host: EmulatorHost, e: WorkerEvent): void {
    if (host !== this.host) return; // an event from a machine we already replaced (restart)
    switch (e.event) {
      case 'stopped': {
        this.cpu = e.cpu;
        this.codeAtPc = { address: this.pc(e.cpu), bytes: e.code };
        if (this.stepOutBreakpoint) {
          this.stepOutBreakpoint = undefined;
          void this.pushBreakpoints();
        }
        const stepped = e.reason === 'breakpoint' && e.breakpointId === STEP_BREAKPOINT_ID;
        const isFunction = e.reason === 'breakpoint' && this.functionBreakpoints.some((b) => b.id === e.breakpointId);
        const reason = stepped ? 'step' : isFunction ? 'function breakpoint' : STOP_REASON[e.reason];
        const stopped = new StoppedEvent(reason, THREAD_ID, e.detail) as DebugProtocol.StoppedEvent;
        stopped.body.allThreadsStopped = true;
        if (e.breakpointId !== undefined && !stepped) stopped.body.hitBreakpointIds = [e.breakpointId];
        if (e.reason === 'triple-fault' || e.reason === 'exception') stopped.body.description = e.detail;
        this.sendEvent(stopped);
        this.sendStats({ running: false, mips: 0 });
        // The guest ran: any memory a view shows may have changed (linear and physical views).
        if (this.clientSupportsMemoryEvent && e.reason !== 'entry') {
          this.sendEvent(new MemoryEvent(formatReference(0), 0, 0x100000000));
          this.sendEvent(new MemoryEvent(formatReference(0, 'physical'), 0, 0x100000000));
        }
        break;
      }
      case 'continued':
        this.sendEvent(new ContinuedEvent(THREAD_ID, true));
        this.sendStats({ running: true });
        break;
      case 'serialOutput': {
        const data = Buffer.from(e.data).toString('latin1');
        this.sendEvent(new DapEvent(SerialOutputEvent.event, { port: e.port, data }));
        this.sendEvent(new OutputEvent(Buffer.from(e.data).toString('utf8'), 'stdout'));
        break;
      }
      case 'debugConsole':
        this.sendEvent(new OutputEvent(e.text, 'console'));
        break;
      case 'screenChanged':
        this.sendEvent(new DapEvent(ScreenChangedEvent.event, {}));
        break;
      case 'stats':
        this.lastStats = e.stats;
        this.sendEvent(new DapEvent(StatsEvent.event, e.stats));
        break;
      case 'warning':
        this.sendEvent(new OutputEvent(`warning: ${e.message}\n`, 'console'));
        break;
      case 'exited':
        this.sendEvent(new OutputEvent(`guest ${e.reason}${e.code !== undefined ? ` (code ${e.code})` : ''}${e.message ? `: ${e.message}` : ''}\n`, 'console'));
        this.sendEvent(new TerminatedEvent());
        break;
    }
  }

  private sendStats(change: Partial<Stats>): void {
    this.lastStats = { ...this.lastStats, ...change };
    this.sendEvent(new DapEvent(StatsEvent.event, this.lastStats));
  }

  // ---- execution control ----

  private requireHost(): EmulatorHost {
    if (!this.host) throw new Error('no guest is running');
    return this.host;
  }

  private async resume(): Promise<void> {
    this.cpu = undefined;
    await this.requireHost().request({ kind: 'resume' });
  }

  protected override threadsRequest(response: DebugProtocol.ThreadsResponse): void {
    response.body = { threads: [new Thread(THREAD_ID, 'vCPU 0')] };
    this.sendResponse(response);
  }

  protected override async pauseRequest(response: DebugProtocol.PauseResponse): Promise<void> {
    await this.answer(response, async () => { await this.requireHost().request({ kind: 'pause' }); });
  }

  protected override async continueRequest(response: DebugProtocol.ContinueResponse): Promise<void> {
    await this.answer(response, async () => {
      await this.resume();
      response.body = { allThreadsContinued: true };
    });
  }

  /** All step granularities are one instruction: there is no source to step by lines in. */
  private async stepOne(): Promise<void> {
    this.cpu = undefined;
    await this.requireHost().request({ kind: 'step', count: 1 });
  }

  /** Runs the guest until `address` with the stack unwound to `condition`; stops as a step. */
  private async runTo(address: number, condition: string): Promise<void> {
    if (this.lastStats.running) throw new Error('the guest is running; pause it before stepping');
    this.stepOutBreakpoint = { id: STEP_BREAKPOINT_ID, address: address >>> 0, condition };
    await this.pushBreakpoints();
    await this.resume();
  }

  /** Step over: a call runs to the instruction after it (on the same stack level), anything else steps. */
  protected override async nextRequest(response: DebugProtocol.NextResponse): Promise<void> {
    await this.answer(response, async () => {
      const cpu = await this.snapshot();
      const pc = this.pc(cpu);
      const code = this.codeAtPc?.address === pc ? this.codeAtPc.bytes : await this.readLinear(pc, 15);
      const [insn] = this.disassembler.decode(code, pc, this.codeBitness(cpu), 1);
      if (insn && !insn.invalid && /^call\b/.test(insn.text)) {
        const sp = this.stackPointerName(cpu);
        await this.runTo(pc + insn.bytes.length, `${sp} >= ${hex(this.reg(cpu, 'esp') & (sp === 'sp' ? 0xffff : 0xffffffff))}`);
      } else {
        await this.stepOne();
      }
    });
  }

  protected override async stepInRequest(response: DebugProtocol.StepInResponse): Promise<void> {
    await this.answer(response, () => this.stepOne());
  }

  /**
   * Runs to the return address of the current function, found by the usual frame heuristics:
   * at a `ret`, at the function's first instruction or at `push ebp` it is at [esp]; right after
   * `push ebp` at [esp+word]; inside a function with a frame pointer at [ebp+word]; else [esp].
   * The breakpoint there only stops once the stack has unwound past the current stack pointer,
   * so recursion stops in the caller, not in a deeper call of the same function.
   */
  protected override async stepOutRequest(response: DebugProtocol.StepOutResponse): Promise<void> {
    await this.answer(response, async () => {
      const cpu = await this.snapshot();
      const word = this.codeBitness(cpu) === 32 ? 4 : 2;
      const sp = this.stackPointerName(cpu);
      const mask = sp === 'sp' ? 0xffff : 0xffffffff;
      const esp = this.reg(cpu, 'esp') & mask;
      const ebp = this.reg(cpu, 'ebp') & mask;
      const ss = this.segmentBase(cpu, 'ss');
      const pc = this.pc(cpu);
      const code = await this.readLinear(pc, 2);
      const atEntry = this.symbols.nameFor(pc)?.offset === 0;
      const slot =
        atEntry || code[0] === 0xc3 || code[0] === 0xc2 || code[0] === 0x55 ? esp // ret / push ebp / entry
          : (code[0] === 0x89 && code[1] === 0xe5) || (code[0] === 0x8b && code[1] === 0xec) ? esp + word // mov ebp, esp
            : ebp >= esp && ebp - esp < 0x100000 ? ebp + word
              : esp;
      const bytes = await this.readLinear((ss + slot) >>> 0, word);
      if (bytes.length < word) throw new Error(`cannot read the return address at ss:${hex(slot)}`);
      const ret = word === 4 ? new DataView(bytes.buffer, bytes.byteOffset, 4).getUint32(0, true) : bytes[0] | (bytes[1] << 8);
      await this.runTo(this.segmentBase(cpu, 'cs') + ret, `${sp} > ${hex(esp)}`);
    });
  }

  private pc(cpu: CpuSnapshot): number {
    return (this.segmentBase(cpu, 'cs') + this.reg(cpu, 'eip')) >>> 0;
  }

  /** `esp` for a 32-bit stack segment, `sp` for a 16-bit one (the B bit of SS's descriptor). */
  private stackPointerName(cpu: CpuSnapshot): 'esp' | 'sp' {
    const ss = cpu.segments.find((s) => s.name === 'ss');
    return cpu.mode === 'protected' && ss && (ss.attributes & 0x4000) ? 'esp' : 'sp';
  }

  private async readLinear(address: number, length: number): Promise<Uint8Array> {
    const { data, readable } = await this.requireHost().request({ kind: 'readMemory', address: address >>> 0, length, space: 'linear' });
    return data.subarray(0, readable);
  }

  // ---- breakpoints ----

  private async pushBreakpoints(): Promise<void> {
    const all = [...this.instructionBreakpoints, ...this.functionBreakpoints];
    if (this.stepOutBreakpoint) all.push(this.stepOutBreakpoint);
    await this.host?.request({ kind: 'setBreakpoints', breakpoints: all });
  }

  private static hitCount(text: string | undefined): number | undefined {
    if (!text) return undefined;
    const m = /^\s*(?:>=)?\s*(\d+)\s*$/.exec(text);
    if (!m) throw new Error(`hit condition '${text}' is not a number (stop from the Nth hit on: "N" or ">=N")`);
    return Number(m[1]);
  }

  /** A worker breakpoint for a DAP one; a condition or hit count that does not parse throws (the breakpoint is refused with the reason). */
  private arm(address: number, bp: { condition?: string; hitCondition?: string }): WorkerBreakpoint {
    if (bp.condition?.trim()) compileCondition(bp.condition); // the worker compiles it again; here only to refuse it with its message
    return { id: this.nextBreakpointId++, address, condition: bp.condition, hitCount: VirtDebugSession.hitCount(bp.hitCondition) };
  }

  protected override async setInstructionBreakpointsRequest(
    response: DebugProtocol.SetInstructionBreakpointsResponse, args: DebugProtocol.SetInstructionBreakpointsArguments,
  ): Promise<void> {
    const result: DebugProtocol.Breakpoint[] = [];
    this.instructionBreakpoints = [];
    for (const bp of args.breakpoints) {
      try {
        const { address } = parseReference(bp.instructionReference, bp.offset ?? 0);
        const armed = this.arm(address, bp);
        this.instructionBreakpoints.push(armed);
        result.push({ id: armed.id, verified: true, instructionReference: formatReference(address) });
      } catch (err) {
        result.push({ verified: false, message: (err as Error).message });
      }
    }
    await this.answer(response, async () => {
      await this.pushBreakpoints();
      response.body = { breakpoints: result };
    });
  }

  protected override async setFunctionBreakPointsRequest(
    response: DebugProtocol.SetFunctionBreakpointsResponse, args: DebugProtocol.SetFunctionBreakpointsArguments,
  ): Promise<void> {
    const result: DebugProtocol.Breakpoint[] = [];
    this.functionBreakpoints = [];
    for (const bp of args.breakpoints) {
      const address = this.symbols.lookup(bp.name) ?? parseNumber(bp.name);
      if (address === undefined) {
        result.push({ verified: false, message: `no symbol '${bp.name}'${this.symbols.size ? '' : ' (no symbols loaded: set "symbols" in the launch configuration)'}` });
        continue;
      }
      try {
        const armed = this.arm(address, bp);
        this.functionBreakpoints.push(armed);
        result.push({ id: armed.id, verified: true, instructionReference: formatReference(address) });
      } catch (err) {
        result.push({ verified: false, message: (err as Error).message });
      }
    }
    await this.answer(response, async () => {
      await this.pushBreakpoints();
      response.body = { breakpoints: result };
    });
  }

  protected override async dataBreakpointInfoRequest(
    response: DebugProtocol.DataBreakpointInfoResponse, args: DebugProtocol.DataBreakpointInfoArguments,
  ): Promise<void> {
    await this.answer(response, async () => {
      let address: number | undefined;
      let size = 4;
      if (args.asAddress) {
        address = parseReference(args.name).address;
        size = args.bytes ?? 1;
      } else if (args.variablesReference === SCOPE.general || args.variablesReference === undefined) {
        // A register's value taken as an address, or an expression from the debug console.
        address = await this.evaluateText(args.name);
      }
      response.body = address === undefined
        ? { dataId: null, description: `'${args.name}' is not an address` }
        : {
          dataId: `${formatReference(address)}/${size}`,
          description: `${size} byte${size > 1 ? 's' : ''} at ${formatReference(address)}`,
          accessTypes: ['read', 'write', 'readWrite'],
          canPersist: true,
        };
    });
  }

  protected override async setDataBreakpointsRequest(
    response: DebugProtocol.SetDataBreakpointsResponse, args: DebugProtocol.SetDataBreakpointsArguments,
  ): Promise<void> {
    const list: WorkerDataBreakpoint[] = [];
    const result: DebugProtocol.Breakpoint[] = [];
    for (const bp of args.breakpoints) {
      const m = /^(.*)\/(\d+)$/.exec(bp.dataId);
      if (!m) { result.push({ verified: false, message: `bad data breakpoint id ${bp.dataId}` }); continue; }
      const { address, space } = parseReference(m[1]);
      const id = this.nextBreakpointId++;
      list.push({ id, address, size: Number(m[2]), access: bp.accessType ?? 'write', space });
      result.push({ id, verified: true });
    }
    await this.answer(response, async () => {
      await this.requireHost().request({ kind: 'setDataBreakpoints', breakpoints: list });
      response.body = { breakpoints: result };
    });
  }

  protected override async setExceptionBreakPointsRequest(
    response: DebugProtocol.SetExceptionBreakpointsResponse, args: DebugProtocol.SetExceptionBreakpointsArguments,
  ): Promise<void> {
    await this.answer(response, async () => {
      const chosen = EXCEPTION_FILTERS.filter((f) => args.filters.includes(f.filter));
      await this.requireHost().request({
        kind: 'setExceptionStops',
        vectors: chosen.flatMap((f) => (f.vector === undefined ? [] : [f.vector])),
        tripleFault: chosen.some((f) => f.filter === 'triple-fault'),
      });
      response.body = { breakpoints: chosen.map(() => new Breakpoint(true)) };
    });
  }

  protected override setBreakPointsRequest(response: DebugProtocol.SetBreakpointsResponse, args: DebugProtocol.SetBreakpointsArguments): void {
    // Source breakpoints have no meaning in a domain XML; say so instead of pretending.
    response.body = { breakpoints: (args.breakpoints ?? []).map(() => ({ verified: false, message: 'Use the Disassembly view or a function breakpoint to break in guest code.' })) };
    this.sendResponse(response);
  }

  protected override exceptionInfoRequest(response: DebugProtocol.ExceptionInfoResponse): void {
    response.body = { exceptionId: 'guest-exception', breakMode: 'always', description: 'The guest raised an exception the debugger was asked to stop on.' };
    this.sendResponse(response);
  }

  // ---- state ----

  private async snapshot(): Promise<CpuSnapshot> {
    this.cpu ??= await this.requireHost().request({ kind: 'getCpu' });
    return this.cpu;
  }

  private reg(cpu: CpuSnapshot, name: string): number {
    const r = [...cpu.general, ...cpu.control].find((x) => x.name === name);
    if (!r) throw new Error(`register ${name} is not reported by the emulator`);
    return r.value >>> 0;
  }

  private segmentBase(cpu: CpuSnapshot, name: string): number {
    return cpu.segments.find((s) => s.name === name)?.base ?? 0;
  }

  private codeBitness(cpu: CpuSnapshot): 16 | 32 {
    const cs = cpu.segments.find((s) => s.name === 'cs');
    // The D bit of the cached descriptor (bit 14 of the attribute word) selects 32-bit code.
    return cpu.mode !== 'real' && cpu.mode !== 'vm86' && cs && (cs.attributes & 0x4000) ? 32 : 16;
  }

  private async readU32(linear: number): Promise<number | undefined> {
    const { data, readable } = await this.requireHost().request({ kind: 'readMemory', address: linear >>> 0, length: 4, space: 'linear' });
    return readable >= 4 ? new DataView(data.buffer, data.byteOffset, 4).getUint32(0, true) : undefined;
  }

  protected override async stackTraceRequest(response: DebugProtocol.StackTraceResponse): Promise<void> {
    await this.answer(response, async () => {
      const cpu = await this.snapshot();
      const cs = cpu.segments.find((s) => s.name === 'cs');
      const eip = this.reg(cpu, 'eip');
      const pc = ((cs?.base ?? 0) + eip) >>> 0;
      const frames: StackFrame[] = [this.frame(0, pc, `${hex(cs?.selector ?? 0, 16)}:${hex(eip, cpu.mode === 'real' ? 16 : 32)}`)];
      // Walk the frame-pointer chain when we have names to show for it.
      if (this.symbols.size && cpu.mode !== 'real') {
        const ssBase = this.segmentBase(cpu, 'ss');
        let ebp = this.reg(cpu, 'ebp');
        for (let depth = 1; depth < 32 && ebp; depth++) {
          const ret = await this.readU32(ssBase + ebp + 4);
          const next = await this.readU32(ssBase + ebp);
          if (ret === undefined || next === undefined || next <= ebp) break;
          frames.push(this.frame(depth, ((cs?.base ?? 0) + ret) >>> 0, hex(ret)));
          ebp = next;
        }
      }
      response.body = { stackFrames: frames, totalFrames: frames.length };
    });
  }

  private frame(id: number, linear: number, fallback: string): StackFrame {
    const sym = this.symbols.nameFor(linear);
    const frame = new StackFrame(id, sym ? `${sym.name}${sym.offset ? `+${hex(sym.offset, 0)}` : ''}` : fallback) as DebugProtocol.StackFrame;
    frame.instructionPointerReference = formatReference(linear);
    frame.presentationHint = id === 0 ? 'normal' : 'subtle';
    return frame as StackFrame;
  }

  protected override scopesRequest(response: DebugProtocol.ScopesResponse): void {
    response.body = {
      scopes: [
        new Scope('General', SCOPE.general, false),
        new Scope('Segments', SCOPE.segments, false),
        new Scope('Control', SCOPE.control, false),
        new Scope('FPU', SCOPE.fpu, true),
        new Scope('Devices', SCOPE.devices, true),
      ],
    };
    this.sendResponse(response);
  }

  protected override async variablesRequest(response: DebugProtocol.VariablesResponse, args: DebugProtocol.VariablesArguments): Promise<void> {
    await this.answer(response, async () => {
      const cpu = await this.snapshot();
      const ref = args.variablesReference;
      const registers = [...cpu.general, ...cpu.control];
      let variables: DebugProtocol.Variable[] = [];
      if (ref === SCOPE.general || ref === SCOPE.control) {
        const list = ref === SCOPE.general ? cpu.general : cpu.control;
        variables = list.map((r) => {
          const fields = BIT_FIELDS[r.name];
          const index = registers.indexOf(r);
          const v: DebugProtocol.Variable = {
            name: r.name,
            value: fields ? `${hex(r.value, r.bits)} [${describeBits(r.value, fields)}]` : hex(r.value, r.bits),
            variablesReference: fields ? BITS_BASE + index : 0,
          };
          // Registers that hold addresses open the memory view directly.
          if (r.bits === 32 && /^(e[abcd]x|e[sd]i|e[sb]p|eip|cr2|cr3|gdtr\.base|idtr\.base)$/.test(r.name)) {
            const base = r.name === 'eip' ? this.segmentBase(cpu, 'cs') : r.name === 'esp' || r.name === 'ebp' ? this.segmentBase(cpu, 'ss') : 0;
            v.memoryReference = r.name === 'cr3' ? formatReference(r.value & 0xfffff000, 'physical') : formatReference(base + r.value);
          }
          return v;
        });
      } else if (ref === SCOPE.segments) {
        variables = cpu.segments.map((s) => ({
          name: s.name,
          value: `${hex(s.selector, 16)} base=${hex(s.base)} limit=${hex(s.limit)} attr=${hex(s.attributes, 16)}`,
          variablesReference: 0,
          memoryReference: formatReference(s.base),
        }));
      } else if (ref === SCOPE.fpu) {
        variables = cpu.fpu.map((r) => ({ name: r.name, value: r.bits > 32 ? String(r.value) : hex(r.value, r.bits), variablesReference: 0 }));
      } else if (ref === SCOPE.devices) {
        const devices = await this.requireHost().request({ kind: 'getDevices' });
        variables = devices.flatMap((d) => d.fields.map((f) => ({ name: `${d.name}.${f.name}`, value: f.value, variablesReference: 0 })));
      } else if (ref >= BITS_BASE && registers[ref - BITS_BASE]) {
        const r = registers[ref - BITS_BASE];
        variables = BIT_FIELDS[r.name].map((f) => ({ name: f.name, value: String(fieldValue(r.value, f)), variablesReference: 0, type: f.description }));
      }
      response.body = { variables };
    });
  }

  protected override async setVariableRequest(response: DebugProtocol.SetVariableResponse, args: DebugProtocol.SetVariableArguments): Promise<void> {
    await this.answer(response, async () => {
      const cpu = await this.snapshot();
      const registers = [...cpu.general, ...cpu.control];
      const typed = parseNumber(args.value) ?? await this.evaluateText(args.value);
      let name = args.name;
      let value = typed;
      if (args.variablesReference >= BITS_BASE) {
        const r = registers[args.variablesReference - BITS_BASE];
        const field = BIT_FIELDS[r.name]?.find((f) => f.name === args.name);
        if (!field) throw new Error(`unknown field ${args.name}`);
        name = r.name;
        value = withField(r.value, field, typed);
      }
      const result = await this.requireHost().request({ kind: 'setRegister', name, value });
      this.cpu = undefined;
      response.body = { value: hex(args.variablesReference >= BITS_BASE ? typed : result.value) };
      if (this.clientSupportsInvalidated) this.sendEvent(new InvalidatedEvent(['variables', 'stacks']));
    });
  }

  private async evaluateText(text: string): Promise<number> {
    const cpu = await this.snapshot();
    const registers = new Map<string, number>();
    for (const r of [...cpu.general, ...cpu.control]) registers.set(r.name, r.value >>> 0);
    for (const s of cpu.segments) registers.set(s.name, s.selector);
    // 16- and 8-bit views of the general registers.
    for (const n of ['a', 'b', 'c', 'd']) {
      const v = registers.get(`e${n}x`);
      if (v !== undefined) {
        registers.set(`${n}x`, v & 0xffff); registers.set(`${n}l`, v & 0xff); registers.set(`${n}h`, (v >>> 8) & 0xff);
      }
    }
    for (const n of ['si', 'di', 'sp', 'bp', 'ip']) {
      const v = registers.get(`e${n}`);
      if (v !== undefined) registers.set(n, v & 0xffff);
    }
    return evaluate(parseExpression(text), {
      register: (n) => registers.get(n),
      symbol: (n) => this.symbols.lookup(n),
      read: async (address, size) => {
        const { data, readable } = await this.requireHost().request({ kind: 'readMemory', address, length: size, space: 'linear' });
        return data.subarray(0, readable);
      },
    });
  }

  protected override async evaluateRequest(response: DebugProtocol.EvaluateResponse, args: DebugProtocol.EvaluateArguments): Promise<void> {
    try {
      const value = await this.evaluateText(args.expression);
      const sym = this.symbols.nameFor(value);
      response.body = {
        result: `${hex(value)} (${value | 0})${sym ? ` <${sym.name}${sym.offset ? `+${hex(sym.offset, 0)}` : ''}>` : ''}`,
        variablesReference: 0,
        memoryReference: formatReference(value),
      };
      this.sendResponse(response);
    } catch (err) {
      const e = err as Error;
      const where = e instanceof ExpressionError ? ` (at column ${e.position + 1})` : '';
      // Hovers over words that are no expression should stay silent, not pop errors.
      this.sendErrorResponse(response, { id: 2001, format: `${e.message}${where}`, showUser: args.context !== 'hover' });
    }
  }

  // ---- memory and code ----

  protected override async readMemoryRequest(response: DebugProtocol.ReadMemoryResponse, args: DebugProtocol.ReadMemoryArguments): Promise<void> {
    await this.answer(response, async () => {
      const { address, space } = parseReference(args.memoryReference, args.offset ?? 0);
      const length = Math.min(args.count, 0x100000);
      const { data, readable } = await this.requireHost().request({ kind: 'readMemory', address, length, space });
      response.body = {
        address: formatReference(address, space),
        data: Buffer.from(data.subarray(0, readable)).toString('base64'),
        unreadableBytes: args.count - readable,
      };
    });
  }

  protected override async writeMemoryRequest(response: DebugProtocol.WriteMemoryResponse, args: DebugProtocol.WriteMemoryArguments): Promise<void> {
    await this.answer(response, async () => {
      const { address, space } = parseReference(args.memoryReference, args.offset ?? 0);
      const data = new Uint8Array(Buffer.from(args.data, 'base64'));
      const { written } = await this.requireHost().request({ kind: 'writeMemory', address, data, space });
      response.body = { bytesWritten: written };
      this.cpu = undefined;
      this.codeAtPc = undefined;
      if (this.clientSupportsMemoryEvent) this.sendEvent(new MemoryEvent(args.memoryReference, args.offset ?? 0, written));
      if (this.clientSupportsInvalidated) this.sendEvent(new InvalidatedEvent(['variables']));
    });
  }

  protected override async disassembleRequest(response: DebugProtocol.DisassembleResponse, args: DebugProtocol.DisassembleArguments): Promise<void> {
    await this.answer(response, async () => {
      const cpu = await this.snapshot();
      const { address, space } = parseReference(args.memoryReference, args.offset ?? 0);
      const host = this.requireHost();
      const read = async (a: number, length: number) => {
        const r = await host.request({ kind: 'readMemory', address: a >>> 0, length, space });
        return r.data.subarray(0, r.readable);
      };
      const decoded = await this.disassembler.window(read, address, args.instructionOffset ?? 0, args.instructionCount, this.codeBitness(cpu));
      response.body = {
        instructions: decoded.map((d) => {
          const sym = args.resolveSymbols === false ? undefined : this.symbols.nameFor(d.address);
          return {
            address: formatReference(d.address, space),
            instructionBytes: Buffer.from(d.bytes).toString('hex').replace(/(..)(?!$)/g, '$1 '),
            instruction: d.text,
            symbol: sym && sym.offset === 0 ? sym.name : undefined,
            presentationHint: d.invalid ? 'invalid' : undefined,
          };
        }),
      };
    });
  }

  // ---- custom requests for the extension's views ----

  protected override async customRequest(command: string, response: DebugProtocol.Response, args: any): Promise<void> {
    await this.answer(response, async () => {
      const host = this.requireHost();
      switch (command) {
        case SerialInputRequest.command:
          await host.request({ kind: 'serialInput', port: args.port ?? 0, data: new Uint8Array(Buffer.from(String(args.data), 'latin1')) });
          break;
        case KeyboardRequest.command:
          await host.request({ kind: 'keyboard', scancodes: args.scancodes ?? [] });
          break;
        case ScreenRequest.command:
          response.body = { screen: await host.request({ kind: 'getScreen' }) };
          break;
        case StatsRequest.command:
          response.body = await host.request({ kind: 'getStats' });
          break;
        case TranslateRequest.command:
          response.body = await host.request({ kind: 'translate', linear: Number(args.linear) >>> 0 });
          break;
        case DescriptorTablesRequest.command: {
          const cpu = await this.snapshot();
          const table = async (name: string) => {
            const base = cpu.control.find((r) => r.name === `${name}.base`)?.value ?? 0;
            const limit = cpu.control.find((r) => r.name === `${name}.limit`)?.value ?? 0;
            const { data, readable } = await host.request({ kind: 'readMemory', address: base, length: Math.min(limit + 1, 0x10000), space: 'linear' });
            return decodeTable(data.subarray(0, readable));
          };
          response.body = { cpu, gdt: await table('gdtr'), idt: cpu.mode === 'real' ? [] : await table('idtr') };
          break;
        }
        default:
          throw new Error(`unknown request ${command}`);
      }
    });
  }

  /** Runs `work`, then answers: with its body, or with its error as a message the user sees. */
  private async answer(response: DebugProtocol.Response, work: () => Promise<void>): Promise<void> {
    try {
      await work();
      this.sendResponse(response);
    } catch (err) {
      this.sendErrorResponse(response, { id: 3000, format: (err as Error).message, showUser: true });
    }
  }
}
