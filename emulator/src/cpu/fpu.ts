// x87 FPU (placeholder until the full unit lands): state plus the probing instructions.
import type { Cpu } from './cpu';

export class Fpu {
  readonly st = new Float64Array(8);
  control = 0x37f;
  status = 0;
  tag = 0xffff;
  reset(): void { this.control = 0x37f; this.status = 0; this.tag = 0xffff; this.st.fill(0); }
  checkPending(_c: Cpu): void { /* no pending exceptions */ }
}

export function fpuExecute(c: Cpu, _op: number, _modrm: number): void {
  c.raise(6);
}
