// Shared test rig for device tests: a bus, a clock and an IRQ recorder.
import { IoBus } from '../../../emulator/src/bus/ioBus';
import { VirtualClock } from '../../../emulator/src/machine/clock';
import type { IrqSink } from '../../../emulator/src/devices/signals';

export class IrqRecorder implements IrqSink {
  readonly levels = new Array<boolean>(16).fill(false);
  /** Count of low→high transitions per line. */
  readonly rises = new Array<number>(16).fill(0);
  setIrq(irq: number, level: boolean): void {
    if (level && !this.levels[irq]) this.rises[irq]++;
    this.levels[irq] = level;
  }
}

export function rig(rate = 1): { bus: IoBus; clock: VirtualClock; irq: IrqRecorder } {
  return { bus: new IoBus(), clock: new VirtualClock({ instructionsPerNs: rate }), irq: new IrqRecorder() };
}

/** Advances virtual time by `ns` in small instruction batches, firing timers as a machine would. */
export function runFor(clock: VirtualClock, ns: number): void {
  const end = clock.nowNs() + ns;
  while (clock.nowNs() < end) {
    const left = Math.ceil((end - clock.nowNs()) * clock.rate);
    clock.advance(clock.instructionsUntilNextEvent(Math.min(left, 1_000_000)));
    clock.runDueTimers();
  }
}

/** JSON round trip, as a snapshot written to disk would go (typed arrays survive as Uint8Array). */
export function roundTrip<T>(state: T): T {
  const json = JSON.stringify(state, (_k, v) => (v instanceof Uint8Array ? { __u8: Array.from(v) } : v));
  return JSON.parse(json, (_k, v) => (v && typeof v === 'object' && '__u8' in v ? Uint8Array.from(v.__u8) : v));
}
