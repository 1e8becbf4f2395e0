// The one message protocol between the emulator worker (worker_threads) and its host (the
// extension host, the debug adapter or the CLI). Both sides import this file; nothing else
// crosses the boundary. Requests carry an id and get exactly one Response with the same id;
// events flow from the worker unasked.

/** Addresses are guest linear addresses unless `space` says physical. */
export type AddressSpace = 'linear' | 'physical';

export interface BootSpec {
  /** Path of a libvirt domain XML; the fields below override what it says. */
  domain?: string;
  kernel?: string;
  initrd?: string;
  cmdline?: string;
  /** Hard disk images (format detected by content); the first is the boot disk. */
  disks?: string[];
  cdrom?: string;
  memoryMiB?: number;
  /** Upper bound the host enforces on guest RAM (virtStudio.emulator.memoryLimitMiB). */
  memoryLimitMiB: number;
  /** Let the guest write to its images; off: writes go to an in-memory overlay. */
  allowImageWrites: boolean;
  /** Stop before the first instruction. */
  stopOnEntry: boolean;
}

export type StopReason =
  | 'entry' | 'pause' | 'step' | 'breakpoint' | 'data-breakpoint' | 'exception' | 'triple-fault' | 'halted-forever';

export interface RegisterValue {
  name: string;
  value: number;
  /** Width in bits, so the host can format it. */
  bits: number;
}

export interface SegmentValue {
  name: string;
  selector: number;
  base: number;
  limit: number;
  /** Access rights byte and flags as in the descriptor (type, S, DPL, P, AVL, L, D/B, G). */
  attributes: number;
}

export interface CpuSnapshot {
  mode: 'real' | 'protected' | 'vm86';
  /** eax ecx edx ebx esp ebp esi edi eip eflags (32-bit), by these names. */
  general: RegisterValue[];
  /** es cs ss ds fs gs ldtr tr, with their cached descriptors. */
  segments: SegmentValue[];
  /** cr0 cr2 cr3 cr4, gdtr.base gdtr.limit idtr.base idtr.limit, and the MSRs worth showing. */
  control: RegisterValue[];
  /** st0…st7 (value as a number), fctrl fstat ftag fop. */
  fpu: RegisterValue[];
  instructionCount: number;
}

export interface DeviceSnapshot {
  name: string;
  fields: { name: string; value: string }[];
}

export interface Breakpoint {
  id: number;
  address: number;
  /** Expression over registers evaluated in the worker, e.g. "eax == 3"; empty = always. */
  condition?: string;
  /** Stop on the Nth hit (and every hit after). */
  hitCount?: number;
}

export interface DataBreakpoint {
  id: number;
  address: number;
  size: number;
  access: 'read' | 'write' | 'readWrite';
  space: AddressSpace;
}

export interface TextScreen {
  columns: number;
  rows: number;
  /** Characters as code points of the VGA font (CP437), row-major. */
  chars: number[];
  attributes: number[];
  cursor: { row: number; column: number; visible: boolean };
}

export interface Stats {
  instructions: number;
  /** Guest instructions per wall-clock second over the last interval. */
  mips: number;
  running: boolean;
  virtualTimeNs: number;
}

/** Host → worker. */
export type Request =
  | { kind: 'boot'; spec: BootSpec }
  | { kind: 'pause' }
  | { kind: 'resume' }
  | { kind: 'step'; count: number }
  | { kind: 'readMemory'; address: number; length: number; space: AddressSpace }
  | { kind: 'writeMemory'; address: number; data: Uint8Array; space: AddressSpace }
  | { kind: 'translate'; linear: number }
  | { kind: 'getCpu' }
  | { kind: 'setRegister'; name: string; value: number }
  | { kind: 'getDevices' }
  | { kind: 'setBreakpoints'; breakpoints: Breakpoint[] }
  | { kind: 'setDataBreakpoints'; breakpoints: DataBreakpoint[] }
  | { kind: 'setExceptionStops'; vectors: number[]; tripleFault: boolean }
  | { kind: 'serialInput'; port: number; data: Uint8Array }
  | { kind: 'keyboard'; scancodes: number[] }
  | { kind: 'getScreen' }
  | { kind: 'getStats' }
  | { kind: 'saveState' }
  | { kind: 'restoreState'; state: Uint8Array }
  | { kind: 'shutdown' };

/** What each request answers with. */
export interface ResponseBody {
  boot: { warnings: string[] };
  pause: { stopped: boolean };
  resume: Record<string, never>;
  step: { instructions: number };
  readMemory: { data: Uint8Array; /** bytes past this many were unmapped */ readable: number };
  writeMemory: { written: number };
  translate: { physical: number | null; pde?: number; pte?: number; fault?: string };
  getCpu: CpuSnapshot;
  setRegister: { value: number };
  getDevices: DeviceSnapshot[];
  setBreakpoints: { verified: number[] };
  setDataBreakpoints: { verified: number[] };
  setExceptionStops: Record<string, never>;
  serialInput: Record<string, never>;
  keyboard: Record<string, never>;
  getScreen: TextScreen | null;
  getStats: Stats;
  saveState: { state: Uint8Array };
  restoreState: Record<string, never>;
  shutdown: Record<string, never>;
}

export type RequestKind = Request['kind'];
export type RequestOf<K extends RequestKind> = Extract<Request, { kind: K }>;

export interface RequestEnvelope { id: number; request: Request }
export type ResponseEnvelope =
  | { id: number; ok: true; body: ResponseBody[RequestKind] }
  | { id: number; ok: false; error: string };

/** Worker → host, unasked. */
export type WorkerEvent =
  | {
    event: 'stopped'; reason: StopReason; detail?: string; breakpointId?: number; eip: number;
    /** The CPU state at the stop and the bytes at CS:EIP (up to 15, fewer where unmapped): what
     * a debugger asks for first after every stop, sent along to save the round trips. */
    cpu: CpuSnapshot; code: Uint8Array;
  }
  | { event: 'continued' }
  | { event: 'serialOutput'; port: number; data: Uint8Array }
  | { event: 'debugConsole'; text: string }
  | { event: 'screenChanged' }
  | { event: 'stats'; stats: Stats }
  | { event: 'warning'; message: string }
  | { event: 'exited'; reason: 'shutdown' | 'debug-exit' | 'triple-fault' | 'error'; code?: number; message?: string };

export type WorkerMessage = ResponseEnvelope | ({ id?: undefined } & WorkerEvent);
