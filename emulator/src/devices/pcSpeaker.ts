// Port 0x61 (PC/AT system control port B): PIT channel 2's gate (bit 0), the speaker data
// enable (bit 1), the DRAM refresh toggle (bit 4, flips every 15.085 µs) and channel 2's output
// (bit 5). Linux calibrates the TSC by polling bit 5, so it must follow the virtual clock.
import type { IoBus } from '../bus/ioBus';
import type { VirtualClock } from '../machine/clock';
import type { Device } from './device';
import type { Pit8254 } from './i8254';

const REFRESH_PERIOD_NS = 15_085;

export interface SpeakerState { control: number }

export class PcSpeakerPort implements Device {
  readonly name = 'port61';
  /** Bits 0-3 as last written. */
  private control = 0;

  constructor(private readonly clock: VirtualClock, private readonly pit: Pit8254) {}

  register(bus: IoBus): void {
    bus.register(0x61, 1, { read8: () => this.read(), write8: (_p, v) => this.write(v) });
  }

  /** True while the speaker is being driven (gate and data enable both on). */
  get speakerOn(): boolean {
    return (this.control & 3) === 3;
  }

  private read(): number {
    const refresh = Math.floor(this.clock.nowNs() / REFRESH_PERIOD_NS) & 1;
    return (this.control & 0x0f) | (refresh << 4) | (this.pit.output(2) ? 0x20 : 0);
  }

  private write(value: number): void {
    this.control = value & 0x0f;
    this.pit.setGate2((value & 1) !== 0);
  }

  reset(): void {
    this.control = 0;
    this.pit.setGate2(false);
  }

  saveState(): SpeakerState {
    return { control: this.control };
  }

  restoreState(state: unknown): void {
    this.control = (state as SpeakerState).control; // the gate itself is part of the PIT's state
  }
}
