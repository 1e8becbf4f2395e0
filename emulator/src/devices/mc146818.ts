// Motorola MC146818 real-time clock and the 128-byte CMOS NVRAM behind ports 0x70 (index, bit 7
// = NMI disable) and 0x71 (data). Time runs from a configured start time on the virtual clock,
// never the host's. The update-in-progress bit is set for the 244 µs before each second
// boundary; periodic, alarm and update-ended interrupts go to IRQ 8. The NVRAM is filled with
// what SeaBIOS reads on QEMU machines (memory sizes, boot order, drive types, checksum).
import type { IoBus } from '../bus/ioBus';
import { NS_PER_SECOND, type Timer, type VirtualClock } from '../machine/clock';
import type { Device } from './device';
import type { IrqSink } from './signals';

const REG_A = 0x0a, REG_B = 0x0b, REG_C = 0x0c, REG_D = 0x0d;
const A_UIP = 0x80;
const B_SET = 0x80, B_PIE = 0x40, B_AIE = 0x20, B_UIE = 0x10, B_DM_BINARY = 0x04, B_24H = 0x02;
const C_IRQF = 0x80, C_PF = 0x40, C_AF = 0x20, C_UF = 0x10;
const UIP_WINDOW_NS = 244_000;
const CENTURY = 0x32;
/** IBM PS/2 copy of the century byte. */
const PS2_CENTURY = 0x37;

/** Boot devices as the CMOS boot-order nibbles encode them (SeaBIOS/Bochs convention). */
export type CmosBootDevice = 'floppy' | 'hd' | 'cdrom' | 'network';
const BOOT_NIBBLE: Record<CmosBootDevice, number> = { floppy: 1, hd: 2, cdrom: 3, network: 4 };

export interface CmosDiskGeometry { cylinders: number; heads: number; sectors: number }

export interface CmosConfig {
  /** Guest time at power-on, in ms since the Unix epoch (UTC). */
  startTimeMs: number;
  /** RAM below 4 GiB in bytes (including the first MiB). */
  ramBelow4G: number;
  /** RAM above 4 GiB in bytes. */
  ramAbove4G?: number;
  cpus?: number;
  /** Up to three boot devices in order. */
  bootOrder?: CmosBootDevice[];
  /** Skip the boot-sector 0xAA55 signature check on floppies. */
  skipFloppySignature?: boolean;
  /** Floppy drive types for A: and B: (0 none, 4 = 1.44 MB). */
  floppyTypes?: [number, number];
  /** Geometries of the primary master/slave hard disks for the CMOS drive-type table. */
  hardDisks?: (CmosDiskGeometry | undefined)[];
}

export interface CmosState {
  ram: number[]; index: number; nmiDisabled: boolean; baseSeconds: number; baseNs: number;
  irqLevel: boolean; periodicDeadline: number | undefined; secondDeadline: number | undefined;
}

function toBcd(v: number): number { return ((Math.floor(v / 10) % 10) << 4) | (v % 10); }
function fromBcd(v: number): number { return (v >> 4) * 10 + (v & 15); }

export class Mc146818 implements Device {
  readonly name = 'mc146818';
  private readonly ram = new Uint8Array(128);
  private index = 0;
  private nmiDisabled = false;
  /** Guest time (seconds since the epoch) at virtual time baseNs. */
  private baseSeconds: number;
  private baseNs = 0;
  private irqLevel = false;
  private readonly periodic: Timer;
  private readonly second: Timer;

  constructor(private readonly clock: VirtualClock, private readonly irq: IrqSink, private readonly config: CmosConfig) {
    this.baseSeconds = Math.floor(config.startTimeMs / 1000);
    this.periodic = clock.createTimer('rtc-periodic', () => this.periodicTick());
    this.second = clock.createTimer('rtc-second', () => this.secondTick());
    this.reset();
  }

  register(bus: IoBus): void {
    bus.register(0x70, 2, {
      read8: (p) => (p === 0x70 ? 0xff : this.readData()),
      write8: (p, v) => {
        if (p === 0x70) { this.index = v & 0x7f; this.nmiDisabled = (v & 0x80) !== 0; } else this.writeData(v);
      },
    });
  }

  get nmiMasked(): boolean { return this.nmiDisabled; }

  /** Direct NVRAM access for the machine and tests (no side effects). */
  peek(index: number): number { return this.ram[index & 0x7f]; }
  poke(index: number, value: number): void { this.ram[index & 0x7f] = value; }

  reset(): void {
    this.ram.fill(0);
    this.ram[REG_A] = 0x26; // 32.768 kHz time base, 1024 Hz periodic rate
    this.ram[REG_B] = B_24H;
    this.ram[REG_D] = 0x80; // valid RAM and time
    this.fillNvram();
    this.storeTime(this.currentSeconds());
    this.index = 0;
    this.nmiDisabled = false;
    this.setIrqLevel(false);
    this.periodic.disarm();
    this.second.disarm();
  }

  private fillNvram(): void {
    const c = this.config;
    const r = this.ram;
    const [fa, fb] = c.floppyTypes ?? [0, 0];
    r[0x10] = (fa << 4) | fb;
    // Equipment byte: floppies present, FPU, PS/2 mouse.
    r[0x14] = (fa || fb ? 0x01 | (((fa && fb) ? 1 : 0) << 6) : 0) | 0x02 | 0x04;
    r[0x15] = 640 & 0xff; r[0x16] = 640 >> 8; // base memory in KiB
    const extKiB = Math.min(0xffff, Math.max(0, Math.floor((c.ramBelow4G - 0x100000) / 1024)));
    r[0x17] = extKiB & 0xff; r[0x18] = extKiB >> 8;
    r[0x30] = extKiB & 0xff; r[0x31] = extKiB >> 8;
    const above16M = Math.min(0xffff, Math.max(0, Math.floor((c.ramBelow4G - 0x1000000) / 0x10000)));
    r[0x34] = above16M & 0xff; r[0x35] = above16M >> 8;
    const above4G = Math.floor((c.ramAbove4G ?? 0) / 0x10000);
    r[0x5b] = above4G & 0xff; r[0x5c] = (above4G >> 8) & 0xff; r[0x5d] = (above4G >> 16) & 0xff;
    r[0x5f] = Math.max(0, (c.cpus ?? 1) - 1);
    const order = (c.bootOrder ?? ['hd', 'cdrom', 'floppy']).map((d) => BOOT_NIBBLE[d]);
    r[0x3d] = (order[0] ?? 0) | ((order[1] ?? 0) << 4);
    r[0x38] = ((order[2] ?? 0) << 4) | (c.skipFloppySignature ? 1 : 0);
    const disks = c.hardDisks ?? [];
    // Drive types: 0xF = "see extended type", extended type 47 = user-defined geometry.
    r[0x12] = (disks[0] ? 0xf0 : 0) | (disks[1] ? 0x0f : 0);
    disks.slice(0, 2).forEach((g, i) => {
      if (!g) return;
      r[0x19 + i] = 47;
      const base = i === 0 ? 0x1b : 0x24;
      const cyl = Math.min(g.cylinders, 0xffff);
      r[base] = cyl & 0xff; r[base + 1] = cyl >> 8;
      r[base + 2] = g.heads;
      r[base + 3] = 0xff; r[base + 4] = 0xff; // write precompensation: none
      r[base + 5] = 0xc0 | ((g.heads > 8 ? 1 : 0) << 3);
      r[base + 6] = cyl & 0xff; r[base + 7] = cyl >> 8; // landing zone
      r[base + 8] = g.sectors;
    });
    this.updateChecksum();
  }

  /** Standard checksum over 0x10-0x2D, stored big-endian at 0x2E/0x2F. */
  private updateChecksum(): void {
    let sum = 0;
    for (let i = 0x10; i <= 0x2d; i++) sum += this.ram[i];
    this.ram[0x2e] = (sum >> 8) & 0xff;
    this.ram[0x2f] = sum & 0xff;
  }

  private binary(): boolean { return (this.ram[REG_B] & B_DM_BINARY) !== 0; }
  private enc(v: number): number { return this.binary() ? v : toBcd(v); }
  private dec(v: number): number { return this.binary() ? v : fromBcd(v); }

  /** Guest time in seconds since the epoch, now. */
  currentSeconds(): number {
    if (this.ram[REG_B] & B_SET) return this.baseSeconds; // frozen while the guest sets it
    return this.baseSeconds + Math.floor((this.clock.nowNs() - this.baseNs) / NS_PER_SECOND);
  }

  /** Writes the time registers from a seconds count. */
  private storeTime(seconds: number): void {
    const d = new Date(seconds * 1000);
    const r = this.ram;
    r[0x00] = this.enc(d.getUTCSeconds());
    r[0x02] = this.enc(d.getUTCMinutes());
    const h = d.getUTCHours();
    if (r[REG_B] & B_24H) r[0x04] = this.enc(h);
    else r[0x04] = this.enc(h % 12 === 0 ? 12 : h % 12) | (h >= 12 ? 0x80 : 0);
    r[0x06] = d.getUTCDay() + 1;
    r[0x07] = this.enc(d.getUTCDate());
    r[0x08] = this.enc(d.getUTCMonth() + 1);
    r[0x09] = this.enc(d.getUTCFullYear() % 100);
    r[CENTURY] = this.enc(Math.floor(d.getUTCFullYear() / 100));
    r[PS2_CENTURY] = r[CENTURY];
  }

  /** Reads the time registers back into seconds (after the guest set the clock). */
  private loadTime(): number {
    const r = this.ram;
    let hour = r[0x04];
    if (!(r[REG_B] & B_24H)) {
      const pm = (hour & 0x80) !== 0;
      hour = this.dec(hour & 0x7f) % 12 + (pm ? 12 : 0);
    } else hour = this.dec(hour);
    const year = this.dec(r[CENTURY]) * 100 + this.dec(r[0x09]);
    const ms = Date.UTC(year, this.dec(r[0x08]) - 1, this.dec(r[0x07]), hour, this.dec(r[0x02]), this.dec(r[0x00]));
    return Number.isFinite(ms) ? Math.floor(ms / 1000) : this.baseSeconds;
  }

  private updateInProgress(): boolean {
    if (this.ram[REG_B] & B_SET) return false;
    if ((this.ram[REG_A] & 0x70) !== 0x20) return false; // divider not running
    const frac = (this.clock.nowNs() - this.baseNs) % NS_PER_SECOND;
    return frac >= NS_PER_SECOND - UIP_WINDOW_NS;
  }

  private readData(): number {
    const i = this.index;
    if (i <= 9 || i === CENTURY) {
      if (!(this.ram[REG_B] & B_SET)) this.storeTime(this.currentSeconds());
      return this.ram[i];
    }
    switch (i) {
      case REG_A: return (this.ram[REG_A] & 0x7f) | (this.updateInProgress() ? A_UIP : 0);
      case REG_C: {
        const v = this.ram[REG_C];
        this.ram[REG_C] = 0;
        this.setIrqLevel(false);
        return v;
      }
      default: return this.ram[i];
    }
  }

  private writeData(value: number): void {
    const i = this.index;
    switch (i) {
      case REG_A:
        this.ram[REG_A] = value & 0x7f;
        this.schedule();
        return;
      case REG_B: {
        const wasSet = (this.ram[REG_B] & B_SET) !== 0;
        if (!wasSet && (value & B_SET)) {
          this.baseSeconds = this.currentSeconds(); // freeze
          this.storeTime(this.baseSeconds);
        }
        if (wasSet && !(value & B_SET)) {
          // The guest wrote the time in the format in force while SET was on.
          this.baseSeconds = this.loadTime();
          this.baseNs = this.clock.nowNs();
        }
        this.ram[REG_B] = value;
        if (!(value & B_PIE)) this.ram[REG_C] &= ~C_PF;
        this.schedule();
        return;
      }
      case REG_C: case REG_D: return; // read-only
      default: {
        const isTime = i === 0 || i === 2 || i === 4 || (i >= 6 && i <= 9) || i === CENTURY;
        if (isTime && !(this.ram[REG_B] & B_SET)) {
          // Setting one field while the clock runs: the others keep their current values.
          this.storeTime(this.currentSeconds());
          this.ram[i] = value;
          this.baseSeconds = this.loadTime();
          this.baseNs = this.clock.nowNs();
        } else this.ram[i] = value;
        if (i <= 9 || i === CENTURY) this.schedule();
      }
    }
  }

  /** Periodic interrupt period in ns for the current rate select, or undefined when off. */
  periodicPeriodNs(): number | undefined {
    const rs = this.ram[REG_A] & 0x0f;
    if (rs === 0 || (this.ram[REG_A] & 0x70) !== 0x20) return undefined;
    const ticks = rs <= 2 ? 1 << (rs + 6) : 1 << (rs - 1); // of the 32.768 kHz base
    return (ticks * NS_PER_SECOND) / 32768;
  }

  private schedule(): void {
    const now = this.clock.nowNs();
    const period = this.periodicPeriodNs();
    if (period !== undefined && (this.ram[REG_B] & B_PIE)) {
      this.periodic.arm((Math.floor(now / period) + 1) * period);
    } else this.periodic.disarm();
    if (!(this.ram[REG_B] & B_SET) && (this.ram[REG_B] & (B_AIE | B_UIE))) {
      const intoSecond = (now - this.baseNs) % NS_PER_SECOND;
      this.second.arm(now - intoSecond + NS_PER_SECOND);
    } else this.second.disarm();
  }

  private periodicTick(): void {
    this.raise(C_PF);
    this.schedule();
  }

  private secondTick(): void {
    let flags = C_UF;
    const secs = this.currentSeconds();
    this.storeTime(secs);
    const r = this.ram;
    // Alarm registers match when equal or "don't care" (0xC0-0xFF).
    const match = (alarm: number, cur: number) => (alarm & 0xc0) === 0xc0 || alarm === cur;
    if (match(r[0x01], r[0x00]) && match(r[0x03], r[0x02]) && match(r[0x05], r[0x04])) flags |= C_AF;
    this.raise(flags);
    this.schedule();
  }

  private raise(flags: number): void {
    const r = this.ram;
    r[REG_C] |= flags;
    const enabled = (r[REG_C] & C_PF && r[REG_B] & B_PIE) || (r[REG_C] & C_AF && r[REG_B] & B_AIE) || (r[REG_C] & C_UF && r[REG_B] & B_UIE);
    if (enabled) {
      r[REG_C] |= C_IRQF;
      this.setIrqLevel(true);
    }
  }

  private setIrqLevel(level: boolean): void {
    if (level === this.irqLevel) return;
    this.irqLevel = level;
    this.irq.setIrq(8, level);
  }

  saveState(): CmosState {
    return {
      ram: Array.from(this.ram), index: this.index, nmiDisabled: this.nmiDisabled, baseSeconds: this.baseSeconds,
      baseNs: this.baseNs, irqLevel: this.irqLevel, periodicDeadline: this.periodic.deadline, secondDeadline: this.second.deadline,
    };
  }

  restoreState(state: unknown): void {
    const s = state as CmosState;
    this.ram.set(s.ram);
    this.index = s.index;
    this.nmiDisabled = s.nmiDisabled;
    this.baseSeconds = s.baseSeconds;
    this.baseNs = s.baseNs;
    this.irqLevel = s.irqLevel;
    if (s.periodicDeadline === undefined) this.periodic.disarm(); else this.periodic.arm(s.periodicDeadline);
    if (s.secondDeadline === undefined) this.second.disarm(); else this.second.arm(s.secondDeadline);
  }
}
