// QEMU's debug devices: the debug console at 0x402 (SeaBIOS prints its log there once a read
// returns 0xE9) and isa-debug-exit at 0x501 (a write of V ends the run with exit code
// (V << 1) | 1, which test guests use to report pass/fail).
import type { IoBus } from '../bus/ioBus';
import type { Device } from './device';

export class DebugConsole implements Device {
  readonly name = 'debugcon';
  onOutput: ((byte: number) => void) | undefined;

  constructor(readonly port = 0x402) {}

  register(bus: IoBus): void {
    bus.register(this.port, 1, { read8: () => 0xe9, write8: (_p, v) => this.onOutput?.(v) });
  }

  saveState(): Record<string, never> { return {}; }
  restoreState(): void { /* stateless */ }
}

export class IsaDebugExit implements Device {
  readonly name = 'isa-debug-exit';
  /** Receives the exit code the guest asked for. */
  onExit: ((code: number) => void) | undefined;

  constructor(readonly port = 0x501) {}

  register(bus: IoBus): void {
    const exit = (v: number) => this.onExit?.(((v << 1) | 1) >>> 0);
    bus.register(this.port, 2, { write8: (_p, v) => exit(v), write16: (_p, v) => exit(v), write32: (_p, v) => exit(v) });
  }

  saveState(): Record<string, never> { return {}; }
  restoreState(): void { /* stateless */ }
}
