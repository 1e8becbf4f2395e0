// System control port A (0x92, "fast A20"): bit 1 is the fast-A20 input of the A20 gate,
// writing bit 0 = 1 pulses the CPU reset line (fast reset). Reads return the latch.
import type { IoBus } from '../bus/ioBus';
import type { Device } from './device';
import type { A20Gate, ResetRequest } from './signals';

export interface Port92State { value: number }

export class Port92 implements Device {
  readonly name = 'port92';
  private value = 0;

  constructor(private readonly a20: A20Gate, private readonly requestReset: ResetRequest) {}

  register(bus: IoBus): void {
    bus.register(0x92, 1, {
      read8: () => this.value,
      write8: (_p, v) => {
        const old = this.value;
        this.value = v & 0x02; // bit 0 reads back as 0 after the reset pulse
        this.a20.setInput('port92', (v & 0x02) !== 0);
        if ((v & 1) && !(old & 1)) this.requestReset('port92');
      },
    });
  }

  reset(): void { this.value = 0; }
  saveState(): Port92State { return { value: this.value }; }
  restoreState(state: unknown): void { this.value = (state as Port92State).value; }
}
