// Intel 8254 programmable interval timer at 0x40-0x43, clocked at 1.193182 MHz. Counters are
// not stepped: each channel remembers when its count was loaded and derives the current count
// and output level from virtual time. Channel 0 drives IRQ 0 through a clock timer armed at
// the output's next transition; channel 2's gate and output belong to port 0x61 (pcSpeaker.ts).
import type { IoBus } from '../bus/ioBus';
import { NS_PER_SECOND, type Timer, type VirtualClock } from '../machine/clock';
import type { Device } from './device';
import type { IrqSink } from './signals';

export const PIT_HZ = 1_193_182;

/** Read/write access modes of a counter (control word bits 5-4), plus the word phases. */
const RW_LSB = 1, RW_MSB = 2, RW_WORD = 3, RW_WORD_HIGH = 4;

interface ChannelState {
  count: number; latchedCount: number; countLatched: number; status: number; statusLatched: boolean;
  readState: number; writeState: number; writeLatch: number; rwMode: number; mode: number; bcd: boolean;
  gate: boolean; loadTime: number; loaded: boolean; nullCount: boolean; waitingTrigger: boolean;
}

/** Whole ticks of the 1.193182 MHz clock in `ns` nanoseconds, exact for any realistic span. */
function ticksIn(ns: number): number {
  const whole = Math.floor(ns);
  const sec = Math.floor(whole / NS_PER_SECOND);
  const rest = whole - sec * NS_PER_SECOND;
  return sec * PIT_HZ + Math.floor((rest * PIT_HZ) / NS_PER_SECOND);
}

/** Nanoseconds until tick `n` has elapsed (the inverse of ticksIn, rounded up). */
function nsForTicks(n: number): number {
  const sec = Math.floor(n / PIT_HZ);
  const rest = n - sec * PIT_HZ;
  return sec * NS_PER_SECOND + Math.ceil((rest * NS_PER_SECOND) / PIT_HZ);
}

function fromBcd(v: number): number {
  return ((v >> 12) & 15) * 1000 + ((v >> 8) & 15) * 100 + ((v >> 4) & 15) * 10 + (v & 15);
}

function toBcd(v: number): number {
  v %= 10000;
  return (Math.floor(v / 1000) << 12) | (Math.floor(v / 100) % 10 << 8) | (Math.floor(v / 10) % 10 << 4) | (v % 10);
}

class PitChannel implements ChannelState {
  count = 0x10000; latchedCount = 0; countLatched = 0; status = 0; statusLatched = false;
  readState = RW_WORD; writeState = RW_WORD; writeLatch = 0; rwMode = RW_WORD; mode = 0; bcd = false;
  gate: boolean; loadTime = 0; loaded = false; nullCount = true;
  /** Modes 1 and 5 count only after a rising gate edge following the load. */
  waitingTrigger = false;

  constructor(private readonly clock: VirtualClock, readonly index: number) {
    this.gate = index !== 2; // channels 0 and 1 have their gates tied high
  }

  /** Ticks elapsed since the count was loaded. */
  private elapsed(now: number): number {
    return ticksIn(now - this.loadTime);
  }

  /** The counting element's value now (binary). */
  currentCount(now: number): number {
    if (!this.loaded || this.waitingTrigger) return this.count & 0xffff;
    const d = this.elapsed(now);
    switch (this.mode) {
      case 2: return this.count - (d % this.count);
      case 3: return this.count - ((2 * d) % this.count);
      default: return (this.count - d) & 0xffff; // 0, 1, 4, 5: wraps after terminal count
    }
  }

  /** OUT pin level now. */
  output(now: number): boolean {
    if (!this.loaded) return this.mode !== 0;
    if (this.waitingTrigger) return true;
    const d = this.elapsed(now);
    switch (this.mode) {
      case 0: return d >= this.count; // low until terminal count
      case 1: return d >= this.count; // one-shot low pulse from the trigger
      case 2: return d % this.count !== this.count - 1; // low for the clock before reload
      case 3: return d % this.count < ((this.count + 1) >> 1); // square wave, high half first
      default: return d !== this.count; // 4, 5: one-clock strobe at terminal count
    }
  }

  /** Absolute virtual time of the next OUT transition after `now`, or undefined if none. */
  nextTransition(now: number): number | undefined {
    if (!this.loaded || this.waitingTrigger) return undefined;
    const d = this.elapsed(now);
    const c = this.count;
    let next: number;
    switch (this.mode) {
      case 0: case 1:
        if (d >= c) return undefined;
        next = c;
        break;
      case 2: case 3:
        if (c <= 1) return undefined; // OUT never changes: no events to schedule
        return this.periodicTransition(d, c);
      default:
        if (d < c) next = c; else if (d === c) next = c + 1; else return undefined;
        break;
    }
    return this.loadTime + nsForTicks(next);
  }

  private periodicTransition(d: number, c: number): number {
    let next: number;
    switch (this.mode) {
      case 2: {
        const base = d - (d % c);
        next = d % c < c - 1 ? base + c - 1 : base + c;
        break;
      }
      default: {
        const base = d - (d % c);
        const high = (c + 1) >> 1;
        next = d % c < high ? base + high : base + c;
        break;
      }
    }
    return this.loadTime + nsForTicks(next);
  }

  load(value: number, now: number): void {
    let v = this.bcd ? fromBcd(value) : value;
    if (v === 0) v = this.bcd ? 10000 : 0x10000;
    this.count = v;
    this.loadTime = now;
    this.loaded = true;
    this.nullCount = false;
    this.waitingTrigger = this.mode === 1 || this.mode === 5;
  }

  readStatusByte(now: number): number {
    return (this.output(now) ? 0x80 : 0) | (this.nullCount ? 0x40 : 0) | (this.rwMode << 4) | (this.mode << 1) | (this.bcd ? 1 : 0);
  }

  latchCount(now: number): void {
    if (this.countLatched) return; // a latched value is held until read
    const c = this.currentCount(now);
    this.latchedCount = this.bcd ? toBcd(c) : c & 0xffff;
    this.countLatched = this.rwMode;
  }

  latchStatus(now: number): void {
    if (this.statusLatched) return;
    this.status = this.readStatusByte(now);
    this.statusLatched = true;
  }

  readPort(now: number): number {
    if (this.statusLatched) { this.statusLatched = false; return this.status; }
    if (this.countLatched) {
      switch (this.countLatched) {
        case RW_LSB: this.countLatched = 0; return this.latchedCount & 0xff;
        case RW_MSB: this.countLatched = 0; return (this.latchedCount >> 8) & 0xff;
        case RW_WORD: this.countLatched = RW_MSB; return this.latchedCount & 0xff;
      }
    }
    const raw = this.currentCount(now);
    const c = this.bcd ? toBcd(raw) : raw & 0xffff;
    switch (this.readState) {
      case RW_LSB: return c & 0xff;
      case RW_MSB: return (c >> 8) & 0xff;
      case RW_WORD: this.readState = RW_WORD_HIGH; return c & 0xff;
      default: this.readState = RW_WORD; return (c >> 8) & 0xff;
    }
  }

  /** Returns true when a new count was loaded. */
  writePort(value: number, now: number): boolean {
    switch (this.writeState) {
      case RW_LSB: this.load(value, now); return true;
      case RW_MSB: this.load(value << 8, now); return true;
      case RW_WORD: this.writeLatch = value; this.writeState = RW_WORD_HIGH; return false;
      default: this.writeState = RW_WORD; this.load(this.writeLatch | (value << 8), now); return true;
    }
  }

  control(value: number): void {
    const access = (value >> 4) & 3;
    this.rwMode = access;
    this.readState = access;
    this.writeState = access;
    let mode = (value >> 1) & 7;
    if (mode > 5) mode -= 4; // 6 and 7 alias modes 2 and 3
    this.mode = mode;
    this.bcd = (value & 1) !== 0;
    this.loaded = false; // counting stops until the new count is written
    this.nullCount = true;
    this.countLatched = 0;
  }

  setGate(level: boolean, now: number): void {
    const rising = level && !this.gate;
    this.gate = level;
    // Modes 1, 2, 3 and 5 (re)start counting on a rising gate edge.
    if (rising && this.loaded && this.mode !== 0 && this.mode !== 4) {
      this.loadTime = now;
      this.waitingTrigger = false;
    }
  }

  save(): ChannelState {
    const { count, latchedCount, countLatched, status, statusLatched, readState, writeState, writeLatch, rwMode, mode, bcd, gate, loadTime, loaded, nullCount, waitingTrigger } = this;
    return { count, latchedCount, countLatched, status, statusLatched, readState, writeState, writeLatch, rwMode, mode, bcd, gate, loadTime, loaded, nullCount, waitingTrigger };
  }

  restore(s: ChannelState): void {
    Object.assign(this, s);
  }
}

export interface PitState { channels: ChannelState[]; irqLevel: boolean }

export class Pit8254 implements Device {
  readonly name = 'i8254';
  private readonly channels: PitChannel[];
  private readonly timer: Timer;
  private irqLevel = false;

  constructor(private readonly clock: VirtualClock, private readonly irq: IrqSink) {
    this.channels = [0, 1, 2].map((i) => new PitChannel(clock, i));
    this.timer = clock.createTimer('pit-ch0', () => this.channel0Event());
  }

  register(bus: IoBus): void {
    bus.register(0x40, 4, {
      read8: (p) => (p === 0x43 ? 0xff : this.channels[p - 0x40].readPort(this.clock.nowNs())),
      write8: (p, v) => this.write(p, v),
    });
  }

  private write(port: number, value: number): void {
    const now = this.clock.nowNs();
    if (port === 0x43) {
      const sel = value >> 6;
      if (sel === 3) { // read-back command
        for (let i = 0; i < 3; i++) {
          if (!(value & (2 << i))) continue;
          if (!(value & 0x20)) this.channels[i].latchCount(now);
          if (!(value & 0x10)) this.channels[i].latchStatus(now);
        }
        return;
      }
      const ch = this.channels[sel];
      if ((value & 0x30) === 0) { ch.latchCount(now); return; }
      ch.control(value);
      if (sel === 0) this.syncChannel0(now);
      return;
    }
    const ch = this.channels[port - 0x40];
    if (ch.writePort(value, now) && ch.index === 0) this.syncChannel0(now);
  }

  /** Drives IRQ 0 from channel 0's output and arms the timer at its next transition. */
  private syncChannel0(now: number): void {
    const ch = this.channels[0];
    this.setIrq0(ch.output(now));
    const next = ch.nextTransition(now);
    if (next === undefined) this.timer.disarm(); else this.timer.arm(next);
  }

  private channel0Event(): void {
    this.syncChannel0(this.clock.nowNs());
  }

  private setIrq0(level: boolean): void {
    if (level === this.irqLevel) return;
    this.irqLevel = level;
    this.irq.setIrq(0, level);
  }

  /** Channel 2 gate (port 0x61 bit 0). */
  setGate2(level: boolean): void {
    this.channels[2].setGate(level, this.clock.nowNs());
  }

  gate2(): boolean {
    return this.channels[2].gate;
  }

  /** OUT level of a channel now (channel 2's is visible in port 0x61 bit 5). */
  output(channel: number): boolean {
    return this.channels[channel].output(this.clock.nowNs());
  }

  /** Current count of a channel (binary), for debuggers and tests. */
  count(channel: number): number {
    return this.channels[channel].currentCount(this.clock.nowNs());
  }

  /** Channel 0's programmed period in ns (what IRQ 0's rate is), or undefined when stopped. */
  channel0PeriodNs(): number | undefined {
    const ch = this.channels[0];
    return ch.loaded && (ch.mode === 2 || ch.mode === 3) ? (ch.count * NS_PER_SECOND) / PIT_HZ : undefined;
  }

  reset(): void {
    for (const ch of this.channels) ch.restore(new PitChannel(this.clock, ch.index).save());
    this.timer.disarm();
    this.irqLevel = false;
  }

  saveState(): PitState {
    return { channels: this.channels.map((c) => c.save()), irqLevel: this.irqLevel };
  }

  restoreState(state: unknown): void {
    const s = state as PitState;
    s.channels.forEach((c, i) => this.channels[i].restore(c));
    this.irqLevel = s.irqLevel;
    const next = this.channels[0].nextTransition(this.clock.nowNs());
    if (next === undefined) this.timer.disarm(); else this.timer.arm(next);
  }
}
