// Port I/O dispatch. Devices register the ports they decode; unclaimed ports read as all ones
// and ignore writes, as on a PC's ISA bus. Lookups are a flat array indexed by port so an IN/OUT
// costs one load and a call.

export interface PortHandler {
  read8?(port: number): number;
  write8?(port: number, value: number): void;
  /** Optional wide accessors; when absent a 16/32-bit access is split into byte accesses. */
  read16?(port: number): number;
  write16?(port: number, value: number): void;
  read32?(port: number): number;
  write32?(port: number, value: number): void;
}

export class IoBus {
  private readonly handlers: (PortHandler | undefined)[] = new Array(0x10000).fill(undefined);

  register(port: number, count: number, handler: PortHandler): void {
    for (let p = port; p < port + count; p++) {
      if (this.handlers[p]) throw new Error(`I/O port 0x${p.toString(16)} is already claimed`);
      this.handlers[p] = handler;
    }
  }

  read8(port: number): number {
    const h = this.handlers[port & 0xffff];
    return h?.read8 ? h.read8(port & 0xffff) & 0xff : 0xff;
  }

  write8(port: number, value: number): void {
    const h = this.handlers[port & 0xffff];
    h?.write8?.(port & 0xffff, value & 0xff);
  }

  read16(port: number): number {
    const h = this.handlers[port & 0xffff];
    if (h?.read16) return h.read16(port & 0xffff) & 0xffff;
    return this.read8(port) | (this.read8(port + 1) << 8);
  }

  write16(port: number, value: number): void {
    const h = this.handlers[port & 0xffff];
    if (h?.write16) { h.write16(port & 0xffff, value & 0xffff); return; }
    this.write8(port, value);
    this.write8(port + 1, value >>> 8);
  }

  read32(port: number): number {
    const h = this.handlers[port & 0xffff];
    if (h?.read32) return h.read32(port & 0xffff) >>> 0;
    return (this.read16(port) | (this.read16(port + 2) << 16)) >>> 0;
  }

  write32(port: number, value: number): void {
    const h = this.handlers[port & 0xffff];
    if (h?.write32) { h.write32(port & 0xffff, value >>> 0); return; }
    this.write16(port, value);
    this.write16(port + 2, value >>> 16);
  }
}
