// Virtual time. The guest's notion of time is derived from the number of instructions it has
// executed (plus time skipped while halted), never from the host's wall clock, so the same
// inputs give the same run: tests are reproducible and reverse stepping can replay.
//
// Devices create named timers on the clock; the machine loop asks how many instructions it may
// run before the next timer is due, runs them, reports them with advance(), then calls
// runDueTimers(). On HLT with interrupts enabled it calls skipToNextEvent() instead of spinning.

export const NS_PER_SECOND = 1_000_000_000;

export interface ClockOptions {
  /** Guest instructions per virtual nanosecond (1 = a 1000-MIPS guest). Default 1. */
  instructionsPerNs?: number;
}

export interface ClockState {
  instructions: number;
  idleNs: number;
  instructionsPerNs: number;
}

/** One device-owned timer. Its deadline is part of the owning device's saved state. */
export class Timer {
  /** Absolute virtual time in ns when the callback fires, or undefined when disarmed. */
  deadline: number | undefined = undefined;

  constructor(private readonly clock: VirtualClock, readonly name: string, readonly callback: (nowNs: number) => void) {}

  /** Fires once at absolute virtual time `atNs` (clamped to now). Re-arming replaces the deadline. */
  arm(atNs: number): void {
    this.deadline = Math.ceil(atNs);
    this.clock.timersChanged();
  }

  /** Fires once `delayNs` after the current virtual time. */
  armIn(delayNs: number): void {
    this.arm(this.clock.nowNs() + delayNs);
  }

  disarm(): void {
    if (this.deadline === undefined) return;
    this.deadline = undefined;
    this.clock.timersChanged();
  }

  get armed(): boolean {
    return this.deadline !== undefined;
  }
}

export class VirtualClock {
  private instructions = 0;
  private idleNs = 0;
  private instructionsPerNs: number;
  private readonly timers: Timer[] = [];
  /** Cached earliest deadline; recomputed lazily when a timer changes. */
  private next: number | undefined = undefined;
  private nextValid = true;

  constructor(options: ClockOptions = {}) {
    this.instructionsPerNs = checkRate(options.instructionsPerNs ?? 1);
  }

  /** Current virtual time in whole nanoseconds since power-on. */
  nowNs(): number {
    // Whole nanoseconds, so devices subtract times exactly.
    return Math.floor(this.instructions / this.instructionsPerNs) + this.idleNs;
  }

  get instructionCount(): number {
    return this.instructions;
  }

  get rate(): number {
    return this.instructionsPerNs;
  }

  createTimer(name: string, callback: (nowNs: number) => void): Timer {
    const t = new Timer(this, name, callback);
    this.timers.push(t);
    return t;
  }

  /** @internal called by Timer */
  timersChanged(): void {
    this.nextValid = false;
  }

  /** Earliest armed deadline, or undefined when no timer is armed. */
  nextDeadline(): number | undefined {
    if (!this.nextValid) {
      let best: number | undefined;
      for (const t of this.timers) {
        if (t.deadline !== undefined && (best === undefined || t.deadline < best)) best = t.deadline;
      }
      this.next = best;
      this.nextValid = true;
    }
    return this.next;
  }

  /**
   * How many instructions may run before the next timer is due (at least 1), capped at `max`.
   * The machine uses it to size its execution batches.
   */
  instructionsUntilNextEvent(max: number): number {
    const d = this.nextDeadline();
    if (d === undefined) return max;
    const n = Math.ceil((d - this.nowNs()) * this.instructionsPerNs);
    return Math.max(1, Math.min(max, n));
  }

  /** Accounts for `count` executed instructions. Does not fire timers. */
  advance(count: number): void {
    this.instructions += count;
  }

  /** Fires every timer whose deadline has passed, earliest first. Returns how many fired. */
  runDueTimers(): number {
    let fired = 0;
    // A callback may re-arm its own or another timer, so pick the earliest due one each round;
    // the bound stops a timer that keeps arming itself in the past from looping forever.
    for (let guard = 0; guard < 10_000; guard++) {
      const now = this.nowNs();
      let due: Timer | undefined;
      for (const t of this.timers) {
        if (t.deadline !== undefined && t.deadline <= now && (due === undefined || t.deadline < due.deadline!)) due = t;
      }
      if (!due) break;
      due.deadline = undefined;
      this.nextValid = false;
      due.callback(now);
      fired++;
    }
    return fired;
  }

  /**
   * Halted CPU: jump virtual time forward to the next deadline (no instructions run) and fire
   * what is due. Returns false when no timer is armed (the guest would sleep forever).
   */
  skipToNextEvent(): boolean {
    const d = this.nextDeadline();
    if (d === undefined) return false;
    const now = this.nowNs();
    if (d > now) this.idleNs += d - now;
    this.runDueTimers();
    return true;
  }

  saveState(): ClockState {
    return { instructions: this.instructions, idleNs: this.idleNs, instructionsPerNs: this.instructionsPerNs };
  }

  /** Restores the time base; devices restore (re-arm) their own timers afterwards. */
  restoreState(state: ClockState): void {
    this.instructions = state.instructions;
    this.idleNs = state.idleNs;
    this.instructionsPerNs = checkRate(state.instructionsPerNs);
    this.nextValid = false;
  }
}

function checkRate(rate: number): number {
  if (!(rate > 0) || !Number.isFinite(rate)) throw new RangeError(`instructions per ns must be a positive number, got ${rate}`);
  return rate;
}
