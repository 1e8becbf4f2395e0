// QEMU firmware configuration device (fw_cfg) as SeaBIOS reads it on a PC: selector at 0x510
// (16-bit), data at 0x511 (8-bit, auto-incrementing), and the DMA interface at 0x514 (a 64-bit
// big-endian guest address written as two 32-bit halves; writing the low half runs the
// transfer). Items are plain byte arrays; named files are listed in the file directory (0x19).
import type { IoBus } from '../bus/ioBus';
import type { Device } from './device';
import type { GuestMemory } from './signals';

export const FW_CFG = {
  SIGNATURE: 0x00, ID: 0x01, UUID: 0x02, RAM_SIZE: 0x03, NOGRAPHIC: 0x04, NB_CPUS: 0x05, MACHINE_ID: 0x06,
  KERNEL_ADDR: 0x07, KERNEL_SIZE: 0x08, KERNEL_CMDLINE: 0x09, INITRD_ADDR: 0x0a, INITRD_SIZE: 0x0b,
  BOOT_DEVICE: 0x0c, NUMA: 0x0d, BOOT_MENU: 0x0e, MAX_CPUS: 0x0f, KERNEL_ENTRY: 0x10, KERNEL_DATA: 0x11,
  INITRD_DATA: 0x12, CMDLINE_ADDR: 0x13, CMDLINE_SIZE: 0x14, CMDLINE_DATA: 0x15, SETUP_ADDR: 0x16,
  SETUP_SIZE: 0x17, SETUP_DATA: 0x18, FILE_DIR: 0x19, FILE_FIRST: 0x20,
} as const;

const PORT_SELECTOR = 0x510, PORT_DATA = 0x511, PORT_DMA = 0x514;
const DMA_ERROR = 0x01, DMA_READ = 0x02, DMA_SKIP = 0x04, DMA_SELECT = 0x08, DMA_WRITE = 0x10;
const MAX_FILE_NAME = 55;
/** Bound on DMA descriptor chains, so a hostile guest cannot make one write loop forever. */
const MAX_DMA_LENGTH = 1 << 30;

/** An e820 map entry. Types: 1 RAM, 2 reserved, 3 ACPI, 4 NVS. */
export interface E820Entry { address: number; length: number; type: number }

export interface LinuxBootItems {
  setup: Uint8Array; kernel: Uint8Array; initrd?: Uint8Array; cmdline: string;
  setupAddr: number; kernelAddr: number; initrdAddr?: number; cmdlineAddr: number;
}

export interface FwCfgState { selector: number; offset: number; dmaHigh: number; dmaLow: number }

function le(bytes: number, value: number | bigint): Uint8Array {
  const out = new Uint8Array(bytes);
  let v = BigInt(value);
  for (let i = 0; i < bytes; i++) { out[i] = Number(v & 0xffn); v >>= 8n; }
  return out;
}

export function e820Bytes(entries: E820Entry[]): Uint8Array {
  const out = new Uint8Array(entries.length * 20);
  const dv = new DataView(out.buffer);
  entries.forEach((e, i) => {
    dv.setBigUint64(i * 20, BigInt(e.address), true);
    dv.setBigUint64(i * 20 + 8, BigInt(e.length), true);
    dv.setUint32(i * 20 + 16, e.type, true);
  });
  return out;
}

export class FwCfg implements Device {
  readonly name = 'fw_cfg';
  private readonly items = new Map<number, Uint8Array>();
  private readonly files: { name: string; select: number }[] = [];
  private selector = 0;
  private offset = 0;
  private dmaHigh = 0;
  private dmaLow = 0;

  /** `memory` enables the DMA interface (SeaBIOS then loads files with one descriptor each). */
  constructor(private readonly memory?: GuestMemory) {
    this.set(FW_CFG.SIGNATURE, new TextEncoder().encode('QEMU'));
    this.set(FW_CFG.ID, le(4, memory ? 3 : 1)); // bit 0 traditional interface, bit 1 DMA
    this.set(FW_CFG.UUID, new Uint8Array(16));
    this.setU16(FW_CFG.NOGRAPHIC, 0);
    this.setU16(FW_CFG.BOOT_MENU, 0);
    this.rebuildDirectory();
  }

  register(bus: IoBus): void {
    bus.register(PORT_SELECTOR, 2, {
      write16: (p, v) => { if (p === PORT_SELECTOR) this.select(v); },
      write8: (p, v) => { if (p === PORT_SELECTOR) this.select(v); },
      read8: (p) => (p === PORT_DATA ? this.readByte() : 0),
      read16: (p) => (p === PORT_DATA ? this.readByte() : 0),
    });
    if (this.memory) {
      bus.register(PORT_DMA, 8, {
        // Reading the DMA port gives the bytes "QEMU CFG" in address order.
        read32: (p) => (p === PORT_DMA ? 0x554d4551 : p === PORT_DMA + 4 ? 0x47464320 : 0),
        read8: (p) => 'QEMU CFG'.charCodeAt(p - PORT_DMA),
        write32: (p, v) => {
          if (p === PORT_DMA) this.dmaHigh = swap32(v);
          else if (p === PORT_DMA + 4) { this.dmaLow = swap32(v); this.runDma(); }
        },
      });
    }
  }

  set(key: number, data: Uint8Array): void {
    this.items.set(key, data);
  }

  setU16(key: number, v: number): void { this.set(key, le(2, v)); }
  setU32(key: number, v: number): void { this.set(key, le(4, v)); }
  setU64(key: number, v: number | bigint): void { this.set(key, le(8, v)); }

  /** Adds or replaces a named file (e.g. "bootorder", "etc/e820"). */
  addFile(name: string, data: Uint8Array): void {
    if (name.length > MAX_FILE_NAME) throw new RangeError(`fw_cfg file name too long: ${name}`);
    let f = this.files.find((x) => x.name === name);
    if (!f) {
      f = { name, select: FW_CFG.FILE_FIRST + this.files.length };
      this.files.push(f);
    }
    this.items.set(f.select, data);
    this.rebuildDirectory();
  }

  file(name: string): Uint8Array | undefined {
    const f = this.files.find((x) => x.name === name);
    return f ? this.items.get(f.select) : undefined;
  }

  /** The machine-level items SeaBIOS needs. */
  configure(opts: { ramSize: number; cpus: number; e820: E820Entry[]; bootOrder?: string[]; bootFailWaitSeconds?: number; bootMenu?: boolean }): void {
    this.setU64(FW_CFG.RAM_SIZE, opts.ramSize);
    this.setU16(FW_CFG.NB_CPUS, opts.cpus);
    this.setU16(FW_CFG.MAX_CPUS, opts.cpus);
    this.setU16(FW_CFG.BOOT_MENU, opts.bootMenu ? 1 : 0);
    this.addFile('etc/e820', e820Bytes(opts.e820));
    if (opts.bootOrder && opts.bootOrder.length > 0) {
      this.addFile('bootorder', new TextEncoder().encode(opts.bootOrder.join('\n') + '\n'));
    }
    // SeaBIOS reboots after this many seconds when nothing boots (-1 = never).
    this.addFile('etc/boot-fail-wait', le(4, (opts.bootFailWaitSeconds ?? -1) >>> 0));
  }

  /** Kernel, initrd and command line items for a firmware-side Linux loader (linuxboot ROM). */
  setLinuxBoot(items: LinuxBootItems): void {
    const cmd = new TextEncoder().encode(items.cmdline + '\0');
    this.setU32(FW_CFG.SETUP_ADDR, items.setupAddr);
    this.setU32(FW_CFG.SETUP_SIZE, items.setup.length);
    this.set(FW_CFG.SETUP_DATA, items.setup);
    this.setU32(FW_CFG.KERNEL_ADDR, items.kernelAddr);
    this.setU32(FW_CFG.KERNEL_SIZE, items.kernel.length);
    this.set(FW_CFG.KERNEL_DATA, items.kernel);
    this.setU32(FW_CFG.CMDLINE_ADDR, items.cmdlineAddr);
    this.setU32(FW_CFG.CMDLINE_SIZE, cmd.length);
    this.set(FW_CFG.CMDLINE_DATA, cmd);
    this.setU32(FW_CFG.KERNEL_CMDLINE, items.cmdlineAddr);
    const initrd = items.initrd ?? new Uint8Array(0);
    this.setU32(FW_CFG.INITRD_ADDR, items.initrdAddr ?? 0);
    this.setU32(FW_CFG.INITRD_SIZE, initrd.length);
    this.set(FW_CFG.INITRD_DATA, initrd);
  }

  private rebuildDirectory(): void {
    const dir = new Uint8Array(4 + 64 * this.files.length);
    const dv = new DataView(dir.buffer);
    dv.setUint32(0, this.files.length, false);
    this.files.forEach((f, i) => {
      const at = 4 + i * 64;
      dv.setUint32(at, this.items.get(f.select)?.length ?? 0, false);
      dv.setUint16(at + 4, f.select, false);
      dir.set(new TextEncoder().encode(f.name), at + 8);
    });
    this.items.set(FW_CFG.FILE_DIR, dir);
  }

  private select(key: number): void {
    this.selector = key & 0x3fff; // bit 14 (write) and bit 15 (arch-local) are part of the key
    if (key & 0x8000) this.selector |= 0x8000;
    this.offset = 0;
  }

  private readByte(): number {
    const item = this.items.get(this.selector);
    if (!item || this.offset >= item.length) return 0;
    return item[this.offset++];
  }

  private runDma(): void {
    const mem = this.memory!;
    const addr = this.dmaHigh * 0x1_0000_0000 + this.dmaLow;
    let desc: DataView;
    try {
      desc = new DataView(mem.read(addr, 16).buffer);
    } catch {
      return; // descriptor outside RAM: nothing to report it to
    }
    let control = desc.getUint32(0, false);
    const length = Math.min(desc.getUint32(4, false), MAX_DMA_LENGTH);
    const target = desc.getUint32(8, false) * 0x1_0000_0000 + desc.getUint32(12, false);
    if (control & DMA_SELECT) this.select(control >>> 16);
    try {
      if (control & DMA_WRITE) {
        control = DMA_ERROR; // no item is guest-writable
      } else if (control & (DMA_READ | DMA_SKIP)) {
        const item = this.items.get(this.selector) ?? new Uint8Array(0);
        if (control & DMA_READ) {
          if (target + length > mem.size) throw new RangeError('DMA target outside RAM');
          const avail = Math.max(0, Math.min(length, item.length - this.offset));
          if (avail > 0) mem.write(target, item.subarray(this.offset, this.offset + avail));
          // Past the end of the item reads as zeros; written in pieces so a huge length costs no memory.
          const zeros = new Uint8Array(Math.min(65536, length - avail));
          for (let done = avail; done < length; done += zeros.length) mem.write(target + done, zeros.subarray(0, Math.min(zeros.length, length - done)));
        }
        this.offset += length;
        control = 0;
      } else control = 0;
    } catch {
      control = DMA_ERROR;
    }
    const done = new Uint8Array(4);
    new DataView(done.buffer).setUint32(0, control, false);
    try { mem.write(addr, done); } catch { /* descriptor vanished */ }
  }

  reset(): void { this.selector = 0; this.offset = 0; this.dmaHigh = 0; this.dmaLow = 0; }

  /** Items are configuration, rebuilt by the machine; only the access cursor is state. */
  saveState(): FwCfgState {
    return { selector: this.selector, offset: this.offset, dmaHigh: this.dmaHigh, dmaLow: this.dmaLow };
  }

  restoreState(state: unknown): void {
    Object.assign(this, state as FwCfgState);
  }
}

function swap32(v: number): number {
  return (((v & 0xff) << 24) | ((v & 0xff00) << 8) | ((v >>> 8) & 0xff00) | (v >>> 24)) >>> 0;
}
