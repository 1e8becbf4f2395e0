// The wires between devices and the machine: interrupt request lines, the A20 gate and the
// reset line. Devices take these small interfaces, never the CPU or the machine itself.

/** Where devices drive their IRQ lines (the i8259 pair implements it). */
export interface IrqSink {
  /** Sets the level of ISA IRQ `irq` (0-15). Edge-triggered inputs react to a low→high change. */
  setIrq(irq: number, level: boolean): void;
}

/** What the CPU asks the interrupt controller (INTR pin + INTA cycle). */
export interface InterruptSource {
  /** True when an unmasked interrupt is pending for the CPU. */
  hasInterrupt(): boolean;
  /** INTA: acknowledges the highest-priority request and returns its vector (0-255). */
  acknowledge(): number;
}

/** Physical memory as seen by DMA-capable devices and boot loaders. */
export interface GuestMemory {
  /** Size of RAM in bytes. */
  readonly size: number;
  read(address: number, length: number): Uint8Array;
  write(address: number, data: Uint8Array): void;
}

/** A GuestMemory over a plain byte array (tests, and the machine's RAM before the CPU owns it). */
export class ArrayMemory implements GuestMemory {
  readonly bytes: Uint8Array;
  constructor(sizeOrBytes: number | Uint8Array) {
    this.bytes = typeof sizeOrBytes === 'number' ? new Uint8Array(sizeOrBytes) : sizeOrBytes;
  }
  get size(): number { return this.bytes.length; }
  read(address: number, length: number): Uint8Array {
    checkRange(address, length, this.bytes.length);
    return this.bytes.slice(address, address + length);
  }
  write(address: number, data: Uint8Array): void {
    checkRange(address, data.length, this.bytes.length);
    this.bytes.set(data, address);
  }
}

function checkRange(address: number, length: number, size: number): void {
  if (address < 0 || length < 0 || address + length > size) {
    throw new RangeError(`guest memory access 0x${address.toString(16)}+${length} is outside RAM (${size} bytes)`);
  }
}

/**
 * The A20 gate. The chipset ORs two sources: the i8042 output port (bit 1, on at power-up as on
 * QEMU's PC) and port 0x92's fast-A20 bit. The machine subscribes to remap the 1 MiB wrap-around.
 */
export class A20Gate {
  private kbc = true;
  private fast = false;
  private on = true;
  private readonly listeners: ((enabled: boolean) => void)[] = [];

  get enabled(): boolean { return this.on; }

  /** Drives one source; the line follows their OR. */
  setInput(source: 'kbc' | 'port92', enabled: boolean): void {
    if (source === 'kbc') this.kbc = enabled; else this.fast = enabled;
    const on = this.kbc || this.fast;
    if (on === this.on) return;
    this.on = on;
    for (const l of this.listeners) l(on);
  }

  /** Power-on state: the i8042 output enables A20, port 0x92 does not. */
  reset(): void {
    this.setInput('port92', false);
    this.setInput('kbc', true);
  }

  onChange(listener: (enabled: boolean) => void): void {
    this.listeners.push(listener);
  }
}

/** Why a device asked for a machine reset. */
export type ResetSource = 'i8042' | 'port92' | 'cf9';

/** Called by devices that can pull the CPU's reset line; the machine performs the reset. */
export type ResetRequest = (source: ResetSource) => void;
