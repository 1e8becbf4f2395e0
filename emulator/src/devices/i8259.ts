// Intel 8259A programmable interrupt controller, as the PC wires a pair: the master at
// 0x20/0x21 takes IRQ 0-7, the slave at 0xA0/0xA1 takes IRQ 8-15 and cascades into master
// input 2. The PIIX edge/level control registers (ELCR) at 0x4D0/0x4D1 choose the trigger mode
// per input. The pair is the CPU's InterruptSource (INTR + INTA).
import type { IoBus } from '../bus/ioBus';
import type { Device } from './device';
import type { InterruptSource, IrqSink } from './signals';

interface ChipState {
  irr: number; isr: number; imr: number; lastLevel: number; elcr: number;
  vectorBase: number; priorityAdd: number; initStep: number; needIcw4: boolean; single: boolean;
  readIsr: boolean; poll: boolean; specialMask: boolean; autoEoi: boolean; rotateOnAutoEoi: boolean;
  specialFullyNested: boolean; levelAll: boolean; icw3: number;
}

/** One 8259A. The pair logic (cascade, INTA) lives in PicPair. */
class Pic8259 {
  irr = 0; isr = 0; imr = 0; lastLevel = 0;
  /** Edge/level control (PIIX ELCR); bits set = level triggered. */
  elcr = 0;
  vectorBase = 0; priorityAdd = 0; initStep = 0; needIcw4 = false; single = false;
  readIsr = false; poll = false; specialMask = false; autoEoi = false; rotateOnAutoEoi = false;
  specialFullyNested = false; levelAll = false; icw3 = 0;

  constructor(readonly isMaster: boolean, readonly elcrMask: number) {}

  private levelTriggered(mask: number): boolean {
    return this.levelAll || (this.elcr & mask) !== 0;
  }

  setInput(irq: number, level: boolean): void {
    const mask = 1 << irq;
    if (this.levelTriggered(mask)) {
      if (level) { this.irr |= mask; this.lastLevel |= mask; } else { this.irr &= ~mask; this.lastLevel &= ~mask; }
    } else if (level) {
      if ((this.lastLevel & mask) === 0) this.irr |= mask; // rising edge latches the request
      this.lastLevel |= mask;
    } else {
      this.lastLevel &= ~mask;
    }
  }

  /** 0 = highest priority (relative to the rotation base); 8 = none. */
  private priority(mask: number): number {
    if (mask === 0) return 8;
    let p = 0;
    while ((mask & (1 << ((p + this.priorityAdd) & 7))) === 0) p++;
    return p;
  }

  /** The input this chip would present to the CPU now, or -1. */
  pendingIrq(): number {
    const p = this.priority(this.irr & ~this.imr);
    if (p === 8) return -1;
    let inService = this.isr;
    if (this.specialMask) inService &= ~this.imr; // masked in-service levels do not block lower ones
    if (this.specialFullyNested && this.isMaster) inService &= ~(1 << 2); // slave may nest
    const cur = this.priority(inService);
    return p < cur ? (p + this.priorityAdd) & 7 : -1;
  }

  /** INTA for input `irq`: moves it from IRR to ISR (or auto-EOIs it). */
  acknowledge(irq: number): void {
    const mask = 1 << irq;
    if (this.autoEoi) {
      if (this.rotateOnAutoEoi) this.priorityAdd = (irq + 1) & 7;
    } else {
      this.isr |= mask;
    }
    // A level-triggered request stays pending while its line is high.
    if (!this.levelTriggered(mask)) this.irr &= ~mask;
  }

  private resetForIcw1(): void {
    this.lastLevel = 0;
    this.irr &= this.elcr;
    this.imr = 0; this.isr = 0; this.priorityAdd = 0; this.vectorBase = 0;
    this.readIsr = false; this.poll = false; this.specialMask = false; this.autoEoi = false;
    this.rotateOnAutoEoi = false; this.specialFullyNested = false; this.needIcw4 = false;
    this.single = false; this.levelAll = false; this.initStep = 0;
  }

  reset(): void {
    this.resetForIcw1();
    this.irr = 0; this.elcr = 0; this.icw3 = 0;
  }

  writeCommand(value: number): void {
    if (value & 0x10) { // ICW1
      this.resetForIcw1();
      this.initStep = 1;
      this.needIcw4 = (value & 0x01) !== 0;
      this.single = (value & 0x02) !== 0;
      this.levelAll = (value & 0x08) !== 0;
    } else if (value & 0x08) { // OCW3
      if (value & 0x04) this.poll = true;
      if (value & 0x02) this.readIsr = (value & 0x01) !== 0;
      if (value & 0x40) this.specialMask = (value & 0x20) !== 0;
    } else { // OCW2
      const cmd = value >> 5;
      switch (cmd) {
        case 0: case 4: this.rotateOnAutoEoi = cmd === 4; break;
        case 1: case 5: { // non-specific EOI (5: and rotate)
          const p = this.priority(this.isr);
          if (p !== 8) {
            const irq = (p + this.priorityAdd) & 7;
            this.isr &= ~(1 << irq);
            if (cmd === 5) this.priorityAdd = (irq + 1) & 7;
          }
          break;
        }
        case 3: this.isr &= ~(1 << (value & 7)); break; // specific EOI
        case 6: this.priorityAdd = ((value & 7) + 1) & 7; break; // set lowest priority
        case 7: { // rotate on specific EOI
          const irq = value & 7;
          this.isr &= ~(1 << irq);
          this.priorityAdd = (irq + 1) & 7;
          break;
        }
        default: break; // 2: no operation
      }
    }
  }

  writeData(value: number): void {
    switch (this.initStep) {
      case 0: this.imr = value; break; // OCW1
      case 1: // ICW2
        this.vectorBase = value & 0xf8;
        this.initStep = this.single ? (this.needIcw4 ? 3 : 0) : 2;
        break;
      case 2: // ICW3 (cascade wiring; the PC's is fixed)
        this.icw3 = value;
        this.initStep = this.needIcw4 ? 3 : 0;
        break;
      case 3: // ICW4
        this.specialFullyNested = (value & 0x10) !== 0;
        this.autoEoi = (value & 0x02) !== 0;
        this.initStep = 0;
        break;
    }
  }

  save(): ChipState {
    return {
      irr: this.irr, isr: this.isr, imr: this.imr, lastLevel: this.lastLevel, elcr: this.elcr,
      vectorBase: this.vectorBase, priorityAdd: this.priorityAdd, initStep: this.initStep,
      needIcw4: this.needIcw4, single: this.single, readIsr: this.readIsr, poll: this.poll,
      specialMask: this.specialMask, autoEoi: this.autoEoi, rotateOnAutoEoi: this.rotateOnAutoEoi,
      specialFullyNested: this.specialFullyNested, levelAll: this.levelAll, icw3: this.icw3,
    };
  }

  restore(s: ChipState): void {
    Object.assign(this, s);
  }
}

export interface PicState { master: ChipState; slave: ChipState }

export class PicPair implements Device, IrqSink, InterruptSource {
  readonly name = 'i8259';
  private readonly master = new Pic8259(true, 0xf8);
  private readonly slave = new Pic8259(false, 0xde);
  private intr = false;

  /** Called whenever the INTR output changes (lets a halted CPU wake without polling). */
  onIntrChange: ((level: boolean) => void) | undefined;

  register(bus: IoBus): void {
    bus.register(0x20, 2, { read8: (p) => this.readPort(this.master, p), write8: (p, v) => this.writePort(this.master, p, v) });
    bus.register(0xa0, 2, { read8: (p) => this.readPort(this.slave, p), write8: (p, v) => this.writePort(this.slave, p, v) });
    bus.register(0x4d0, 2, {
      read8: (p) => (p === 0x4d0 ? this.master.elcr : this.slave.elcr),
      write8: (p, v) => {
        const chip = p === 0x4d0 ? this.master : this.slave;
        chip.elcr = v & chip.elcrMask;
        this.update();
      },
    });
  }

  setIrq(irq: number, level: boolean): void {
    if (irq < 0 || irq > 15) throw new RangeError(`IRQ ${irq} does not exist on the i8259 pair`);
    if (irq < 8) this.master.setInput(irq, level); else this.slave.setInput(irq - 8, level);
    this.update();
  }

  hasInterrupt(): boolean {
    return this.intr;
  }

  acknowledge(): number {
    let vector: number;
    const irq = this.master.pendingIrq();
    if (irq >= 0) {
      this.master.acknowledge(irq);
      if (irq === 2) {
        const irq2 = this.slave.pendingIrq();
        if (irq2 >= 0) {
          this.slave.acknowledge(irq2);
          vector = this.slave.vectorBase + irq2;
        } else {
          vector = this.slave.vectorBase + 7; // spurious IRQ 15
        }
      } else {
        vector = this.master.vectorBase + irq;
      }
    } else {
      vector = this.master.vectorBase + 7; // spurious IRQ 7
    }
    this.update();
    return vector;
  }

  /** IRQ number → the vector the guest programmed (for debuggers and tests). */
  vectorOf(irq: number): number {
    return irq < 8 ? this.master.vectorBase + irq : this.slave.vectorBase + irq - 8;
  }

  private update(): void {
    this.master.setInput(2, this.slave.pendingIrq() >= 0);
    const intr = this.master.pendingIrq() >= 0;
    if (intr !== this.intr) {
      this.intr = intr;
      this.onIntrChange?.(intr);
    }
  }

  private readPort(chip: Pic8259, port: number): number {
    if (chip.poll) {
      chip.poll = false;
      const irq = chip.pendingIrq();
      let value = 0;
      if (irq >= 0) {
        chip.acknowledge(irq);
        value = 0x80 | irq;
      }
      this.update();
      return value;
    }
    if ((port & 1) === 0) return chip.readIsr ? chip.isr : chip.irr;
    return chip.imr;
  }

  private writePort(chip: Pic8259, port: number, value: number): void {
    if ((port & 1) === 0) chip.writeCommand(value); else chip.writeData(value);
    this.update();
  }

  reset(): void {
    this.master.reset();
    this.slave.reset();
    this.update();
  }

  saveState(): PicState {
    return { master: this.master.save(), slave: this.slave.save() };
  }

  restoreState(state: unknown): void {
    const s = state as PicState;
    this.master.restore(s.master);
    this.slave.restore(s.slave);
    this.update();
  }
}
