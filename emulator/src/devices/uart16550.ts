// National 16550A UART. COM1 sits at 0x3F8 on IRQ 4, COM2 at 0x2F8 on IRQ 3. Transmitted bytes
// go straight to a sink (the serial console); host input waits in an unbounded-by-design but
// capped queue and enters the 16-byte receive FIFO as room frees. The character-timeout
// interrupt (data below the FIFO trigger level, idle for four character times) runs on the
// virtual clock, as Linux's 8250 driver needs it for typed input. The PC gates the interrupt
// output with MCR OUT2, as real boards do.
import type { IoBus } from '../bus/ioBus';
import { NS_PER_SECOND, type Timer, type VirtualClock } from '../machine/clock';
import type { Device } from './device';
import type { IrqSink } from './signals';

export const COM1 = { base: 0x3f8, irq: 4 } as const;
export const COM2 = { base: 0x2f8, irq: 3 } as const;

const IER_RDA = 0x01, IER_THRE = 0x02, IER_RLS = 0x04, IER_MS = 0x08;
const LSR_DR = 0x01, LSR_OE = 0x02, LSR_BI = 0x10, LSR_THRE = 0x20, LSR_TEMT = 0x40;
const MCR_LOOP = 0x10, MCR_OUT2 = 0x08;
const FIFO_SIZE = 16;
const TRIGGER_LEVELS = [1, 4, 8, 14];
/** Host input beyond this is dropped (a paste of megabytes must not grow memory without bound). */
const INPUT_QUEUE_LIMIT = 1 << 20;

export interface UartState {
  divisor: number; ier: number; lcr: number; mcr: number; lsr: number; msr: number; scr: number;
  fcr: number; rx: number[]; input: number[]; thrIpending: boolean; timeoutPending: boolean;
  irqLevel: boolean; timeoutDeadline: number | undefined;
}

export class Uart16550 implements Device {
  readonly name: string;
  private divisor = 12; // 9600 baud
  private ier = 0;
  private lcr = 0;
  /** OUT2 starts set (QEMU's reset value), so the IRQ line is connected until a driver clears it. */
  private mcr = MCR_OUT2;
  private lsr = LSR_THRE | LSR_TEMT;
  /** Modem status: CTS, DSR, DCD asserted (a cable with a terminal attached). */
  private msr = 0xb0;
  private scr = 0;
  private fcr = 0;
  private rx: number[] = [];
  /** Host input not yet in the FIFO: `input[inputHead..]` (a queue without O(n) shifts). */
  private input: number[] = [];
  private inputHead = 0;
  private thrIpending = false;
  private timeoutPending = false;
  private irqLevel = false;
  private readonly timeout: Timer;

  /** Receives every byte the guest transmits (not called in loopback mode). */
  onTransmit: ((byte: number) => void) | undefined;

  constructor(private readonly clock: VirtualClock, private readonly irq: IrqSink, readonly base: number, readonly irqLine: number, name?: string) {
    this.name = name ?? `uart@${base.toString(16)}`;
    this.timeout = clock.createTimer(`${this.name}-timeout`, () => {
      if (this.rx.length > 0) { this.timeoutPending = true; this.updateIrq(); }
    });
  }

  register(bus: IoBus): void {
    bus.register(this.base, 8, { read8: (p) => this.read(p - this.base), write8: (p, v) => this.write(p - this.base, v) });
  }

  /** Queues host input (keyboard, pasted text) for the guest. */
  receive(data: Uint8Array | string): void {
    const bytes = typeof data === 'string' ? new TextEncoder().encode(data) : data;
    const room = INPUT_QUEUE_LIMIT - (this.input.length - this.inputHead);
    for (let i = 0; i < Math.min(room, bytes.length); i++) this.input.push(bytes[i]);
    this.fillFifo();
  }

  /** Bytes waiting to enter the guest (queued plus in the FIFO). */
  get pendingInput(): number {
    return this.input.length - this.inputHead + this.rx.length;
  }

  private get fifoEnabled(): boolean { return (this.fcr & 1) !== 0; }
  private get rxCapacity(): number { return this.fifoEnabled ? FIFO_SIZE : 1; }
  private get triggerLevel(): number { return this.fifoEnabled ? TRIGGER_LEVELS[this.fcr >> 6] : 1; }

  /** Four character times at the programmed rate (10 bits per character). */
  private charTimeoutNs(): number {
    const baud = 115200 / Math.max(1, this.divisor);
    return Math.ceil((4 * 10 * NS_PER_SECOND) / baud);
  }

  private fillFifo(): void {
    if (this.mcr & MCR_LOOP) return;
    let moved = false;
    while (this.inputHead < this.input.length && this.rx.length < this.rxCapacity) {
      this.rx.push(this.input[this.inputHead++]);
      moved = true;
    }
    if (this.inputHead === this.input.length) { this.input = []; this.inputHead = 0; }
    else if (this.inputHead > 4096) { this.input = this.input.slice(this.inputHead); this.inputHead = 0; }
    if (moved) this.dataArrived();
  }

  private pushRx(byte: number): void {
    if (this.rx.length >= this.rxCapacity) { this.lsr |= LSR_OE; return; }
    this.rx.push(byte);
    this.dataArrived();
  }

  private dataArrived(): void {
    this.lsr |= LSR_DR;
    this.timeoutPending = false;
    if (this.fifoEnabled) this.timeout.armIn(this.charTimeoutNs()); else this.timeout.disarm();
    this.updateIrq();
  }

  private transmit(byte: number): void {
    if (this.mcr & MCR_LOOP) this.pushRx(byte);
    else this.onTransmit?.(byte);
    // Transmission is instantaneous: the holding register is empty again at once.
    this.lsr |= LSR_THRE | LSR_TEMT;
    this.thrIpending = true;
    this.updateIrq();
  }

  /** Interrupt identification: the highest-priority pending source (bit 0 set = none). */
  private pendingId(): number {
    if ((this.ier & IER_RLS) && (this.lsr & (LSR_OE | 0x0e | LSR_BI))) return 0x06;
    if ((this.ier & IER_RDA) && this.timeoutPending) return 0x0c;
    if ((this.ier & IER_RDA) && this.rx.length >= this.triggerLevel) return 0x04;
    if ((this.ier & IER_THRE) && this.thrIpending) return 0x02;
    if ((this.ier & IER_MS) && (this.msr & 0x0f)) return 0x00;
    return 0x01;
  }

  private updateIrq(): void {
    const level = this.pendingId() !== 0x01 && (this.mcr & MCR_OUT2) !== 0;
    if (level === this.irqLevel) return;
    this.irqLevel = level;
    this.irq.setIrq(this.irqLine, level);
  }

  private read(offset: number): number {
    const dlab = (this.lcr & 0x80) !== 0;
    switch (offset) {
      case 0: {
        if (dlab) return this.divisor & 0xff;
        const byte = this.rx.length > 0 ? this.rx.shift()! : 0;
        this.timeoutPending = false;
        if (this.rx.length === 0) { this.lsr &= ~LSR_DR; this.timeout.disarm(); }
        else if (this.fifoEnabled) this.timeout.armIn(this.charTimeoutNs());
        this.fillFifo();
        this.updateIrq();
        return byte;
      }
      case 1: return dlab ? (this.divisor >> 8) & 0xff : this.ier;
      case 2: {
        const id = this.pendingId();
        if (id === 0x02) { this.thrIpending = false; this.updateIrq(); } // reading IIR clears THRE
        return id | (this.fifoEnabled ? 0xc0 : 0);
      }
      case 3: return this.lcr;
      case 4: return this.mcr;
      case 5: {
        const v = this.lsr | (this.rx.length > 0 ? LSR_DR : 0);
        this.lsr &= ~(LSR_OE | 0x0e | LSR_BI); // error bits clear on read
        this.updateIrq();
        return v;
      }
      case 6: {
        let v: number;
        if (this.mcr & MCR_LOOP) {
          // Loopback: RTS→CTS, DTR→DSR, OUT1→RI, OUT2→DCD.
          const m = this.mcr;
          v = ((m & 0x02) << 3) | ((m & 0x01) << 5) | ((m & 0x04) << 4) | ((m & 0x08) << 4) | (this.msr & 0x0f);
        } else v = this.msr;
        this.msr &= 0xf0; // deltas clear on read
        this.updateIrq();
        return v;
      }
      default: return this.scr;
    }
  }

  private write(offset: number, value: number): void {
    const dlab = (this.lcr & 0x80) !== 0;
    switch (offset) {
      case 0:
        if (dlab) { this.divisor = (this.divisor & 0xff00) | value; return; }
        this.thrIpending = false;
        this.transmit(value);
        return;
      case 1: {
        if (dlab) { this.divisor = (this.divisor & 0xff) | (value << 8); return; }
        const was = this.ier;
        this.ier = value & 0x0f;
        // Enabling the THRE interrupt while the holding register is empty raises it at once.
        if (!(was & IER_THRE) && (this.ier & IER_THRE) && (this.lsr & LSR_THRE)) this.thrIpending = true;
        this.updateIrq();
        return;
      }
      case 2: {
        const enable = (value & 1) !== 0;
        if (enable !== this.fifoEnabled || (value & 0x02)) { // toggling the FIFO clears it
          this.rx = [];
          this.lsr &= ~LSR_DR;
          this.timeoutPending = false;
          this.timeout.disarm();
        }
        this.fcr = enable ? value & 0xc9 : 0;
        this.fillFifo();
        this.updateIrq();
        return;
      }
      case 3: this.lcr = value; return;
      case 4: {
        const wasLoop = (this.mcr & MCR_LOOP) !== 0;
        this.mcr = value & 0x1f;
        if (wasLoop && !(this.mcr & MCR_LOOP)) this.fillFifo();
        this.updateIrq();
        return;
      }
      case 5: case 6: return; // LSR and MSR are read-only (factory test writes ignored)
      default: this.scr = value;
    }
  }

  reset(): void {
    this.divisor = 12; this.ier = 0; this.lcr = 0; this.mcr = MCR_OUT2; this.lsr = LSR_THRE | LSR_TEMT;
    this.msr = 0xb0; this.scr = 0; this.fcr = 0; this.rx = []; this.thrIpending = false;
    this.timeoutPending = false; this.timeout.disarm();
    this.updateIrq();
  }

  saveState(): UartState {
    return {
      divisor: this.divisor, ier: this.ier, lcr: this.lcr, mcr: this.mcr, lsr: this.lsr, msr: this.msr, scr: this.scr,
      fcr: this.fcr, rx: [...this.rx], input: this.input.slice(this.inputHead), thrIpending: this.thrIpending,
      timeoutPending: this.timeoutPending, irqLevel: this.irqLevel, timeoutDeadline: this.timeout.deadline,
    };
  }

  restoreState(state: unknown): void {
    const s = state as UartState;
    Object.assign(this, { divisor: s.divisor, ier: s.ier, lcr: s.lcr, mcr: s.mcr, lsr: s.lsr, msr: s.msr, scr: s.scr, fcr: s.fcr, thrIpending: s.thrIpending, timeoutPending: s.timeoutPending, irqLevel: s.irqLevel });
    this.rx = [...s.rx];
    this.input = [...s.input];
    this.inputHead = 0;
    if (s.timeoutDeadline === undefined) this.timeout.disarm(); else this.timeout.arm(s.timeoutDeadline);
  }
}
