// PIIX3 IDE: two legacy channels (primary 0x1F0-0x1F7 + 0x3F6 on IRQ 14, secondary 0x170-0x177
// + 0x376 on IRQ 15), each with up to two drives: ATA hard disks (PIO, CHS/LBA28/LBA48,
// READ/WRITE SECTORS and MULTIPLE, IDENTIFY) and ATAPI CD-ROMs (PACKET, see atapi.ts). Media
// are CowDisks: guest writes stay in memory. Disk reads are asynchronous: the drive shows BSY
// until the read completes (tracked by PendingIo, so completion is deterministic), then raises
// DRQ and its interrupt. Bus-master DMA is not offered (IDENTIFY advertises PIO only).
import type { IoBus } from '../bus/ioBus';
import { CD_SECTOR, executePacket, SENSE_NONE, type AtapiIdentity, type Sense } from './atapi';
import type { PendingIo } from './asyncIo';
import type { CowDisk } from './cowDisk';
import type { Device } from './device';
import { PciFunction } from './pci';
import type { IrqSink } from './signals';

const ST_ERR = 0x01, ST_DRQ = 0x08, ST_DSC = 0x10, ST_DRDY = 0x40, ST_BSY = 0x80;
const ERR_ABRT = 0x04, ERR_IDNF = 0x10, ERR_UNC = 0x40;
const CTL_NIEN = 0x02, CTL_SRST = 0x04, CTL_HOB = 0x80;
const MAX_MULTIPLE = 16;
/** Sectors fetched per asynchronous read (bounds memory per transfer, amortises latency). */
const FETCH_SECTORS = 128;

export const IDE_CHANNELS = [
  { base: 0x1f0, control: 0x3f6, irq: 14 },
  { base: 0x170, control: 0x376, irq: 15 },
] as const;

export interface IdeDriveConfig {
  kind: 'disk' | 'cdrom';
  /** The medium; a CD-ROM drive may be empty. Sector size: 512 for disks, 2048 for CDs. */
  media?: CowDisk;
  model?: string;
  serial?: string;
}

/** One attached drive's fixed properties and its mode settings. */
class Drive {
  multiple = 0;
  /** Current logical CHS translation (INITIALIZE DEVICE PARAMETERS can change it). */
  heads: number;
  spt: number;
  sense: Sense = SENSE_NONE;
  readonly defaultHeads: number;
  readonly defaultSpt: number;
  readonly cylinders: number;

  constructor(readonly config: IdeDriveConfig) {
    const total = config.media?.sectors ?? 0;
    this.defaultHeads = 16;
    this.defaultSpt = 63;
    this.cylinders = Math.max(1, Math.min(16383, Math.floor(total / (16 * 63))));
    this.heads = this.defaultHeads;
    this.spt = this.defaultSpt;
  }

  get atapi(): boolean { return this.config.kind === 'cdrom'; }
  get sectors(): number { return this.config.media?.sectors ?? 0; }
}

type Transfer =
  | { kind: 'none' }
  /** Data to the guest. `stream` holds fetched bytes not yet presented. */
  | { kind: 'in'; atapi: boolean; remaining: number; stream: Uint8Array; streamPos: number; nextSector: number; sectorsLeft: number; sectorSize: number; blockBytes: number; byteLimit?: number }
  | { kind: 'out'; remainingSectors: number; nextSector: number; blockSectors: number }
  | { kind: 'packet' };

export interface IdeChannelState {
  regs: number[]; hob: number[]; status: number; error: number; control: number; device: number;
  buffer: number[]; bufPos: number; bufLen: number; transfer: unknown; intrq: boolean; irqLevel: boolean;
  drives: ({ multiple: number; heads: number; spt: number; sense: Sense; overlay: [number, number[]][] } | null)[];
}

/** Register indexes for the LBA48 two-deep registers. */
const R_FEATURE = 0, R_COUNT = 1, R_LBA0 = 2, R_LBA1 = 3, R_LBA2 = 4;

class IdeChannel {
  readonly drives: (Drive | undefined)[];
  /** Current and previous ("HOB") values of feature, count, lba low/mid/high. */
  private regs = [0, 0, 0, 0, 0];
  private hob = [0, 0, 0, 0, 0];
  private status = 0;
  private error = 0;
  private control = 0;
  private device = 0;
  private buffer = new Uint8Array(65536);
  private bufPos = 0;
  private bufLen = 0;
  private transfer: Transfer = { kind: 'none' };
  private intrq = false;
  private irqLevel = false;
  /** Bumped by resets so a read completing afterwards is dropped. */
  private generation = 0;

  constructor(readonly index: number, configs: (IdeDriveConfig | undefined)[], private readonly irq: IrqSink, private readonly io: PendingIo, private readonly identity: AtapiIdentity) {
    this.drives = [0, 1].map((i) => (configs[i] ? new Drive(configs[i]!) : undefined));
    this.resetDrives();
  }

  private get irqLine(): number { return IDE_CHANNELS[this.index].irq; }
  private get sel(): number { return (this.device >> 4) & 1; }
  private get drive(): Drive | undefined { return this.drives[this.sel]; }
  private get empty(): boolean { return !this.drives[0] && !this.drives[1]; }

  register(bus: IoBus): void {
    const { base, control } = IDE_CHANNELS[this.index];
    bus.register(base, 8, {
      read8: (p) => (p === base ? this.readData(1) : this.readReg(p - base)),
      write8: (p, v) => (p === base ? this.writeData(v, 1) : this.writeReg(p - base, v)),
      read16: (p) => (p === base ? this.readData(2) : this.readReg(p - base) | 0xff00),
      write16: (p, v) => (p === base ? this.writeData(v, 2) : this.writeReg(p - base, v & 0xff)),
      read32: (p) => (p === base ? this.readData(4) : this.readReg(p - base)),
      write32: (p, v) => (p === base ? this.writeData(v, 4) : this.writeReg(p - base, v & 0xff)),
    });
    bus.register(control, 1, {
      read8: () => (this.empty || !this.drive ? 0 : this.status),
      write8: (_p, v) => this.writeControl(v),
    });
  }

  // ---- interrupts ----------------------------------------------------------

  private raise(): void {
    this.intrq = true;
    this.updateIrq();
  }

  private updateIrq(): void {
    const level = this.intrq && !(this.control & CTL_NIEN);
    if (level === this.irqLevel) return;
    this.irqLevel = level;
    this.irq.setIrq(this.irqLine, level);
  }

  // ---- registers -----------------------------------------------------------

  private readReg(reg: number): number {
    if (this.empty || !this.drive) return 0;
    const hob = (this.control & CTL_HOB) !== 0;
    switch (reg) {
      case 1: return this.error;
      case 2: return hob ? this.hob[R_COUNT] : this.regs[R_COUNT];
      case 3: return hob ? this.hob[R_LBA0] : this.regs[R_LBA0];
      case 4: return hob ? this.hob[R_LBA1] : this.regs[R_LBA1];
      case 5: return hob ? this.hob[R_LBA2] : this.regs[R_LBA2];
      case 6: return this.device | 0xa0;
      default: // status: reading it acknowledges the interrupt
        this.intrq = false;
        this.updateIrq();
        return this.status;
    }
  }

  private writeReg(reg: number, value: number): void {
    this.control &= ~CTL_HOB; // writing a command block register clears HOB
    switch (reg) {
      case 1: case 2: case 3: case 4: case 5: {
        const i = reg - 1;
        this.hob[i] = this.regs[i];
        this.regs[i] = value;
        return;
      }
      case 6: this.device = value; return;
      default: this.command(value);
    }
  }

  private writeControl(value: number): void {
    const wasReset = (this.control & CTL_SRST) !== 0;
    this.control = value;
    if (!wasReset && (value & CTL_SRST)) {
      this.generation++;
      this.transfer = { kind: 'none' };
      this.status = ST_BSY;
    } else if (wasReset && !(value & CTL_SRST)) {
      this.resetDrives();
    }
    this.updateIrq();
  }

  /** Power-on / software reset: signatures in the registers, drive 0 selected. */
  resetDrives(): void {
    this.generation++;
    this.transfer = { kind: 'none' };
    this.device = 0;
    this.setSignature();
    this.error = 0x01; // diagnostics passed
    this.intrq = false;
    for (const d of this.drives) if (d) { d.multiple = 0; d.heads = d.defaultHeads; d.spt = d.defaultSpt; d.sense = SENSE_NONE; }
    this.updateIrq();
  }

  private setSignature(): void {
    const d = this.drive;
    this.regs[R_COUNT] = 1;
    this.regs[R_LBA0] = 1;
    if (d?.atapi) { this.regs[R_LBA1] = 0x14; this.regs[R_LBA2] = 0xeb; this.status = 0; }
    else { this.regs[R_LBA1] = 0; this.regs[R_LBA2] = 0; this.status = d ? ST_DRDY | ST_DSC : 0; }
  }

  // ---- data port -----------------------------------------------------------

  private readData(bytes: number): number {
    if (this.bufPos >= this.bufLen || !(this.status & ST_DRQ)) return bytes === 4 ? 0xffffffff : (1 << (8 * bytes)) - 1;
    let v = 0;
    for (let i = 0; i < bytes && this.bufPos < this.bufLen; i++) v |= this.buffer[this.bufPos++] << (8 * i);
    if (this.bufPos >= this.bufLen) this.inBlockDone();
    return v >>> 0;
  }

  private writeData(value: number, bytes: number): void {
    if (this.bufPos >= this.bufLen || !(this.status & ST_DRQ)) return;
    for (let i = 0; i < bytes && this.bufPos < this.bufLen; i++) this.buffer[this.bufPos++] = (value >>> (8 * i)) & 0xff;
    if (this.bufPos >= this.bufLen) this.outBlockDone();
  }

  private startBuffer(len: number): void {
    if (this.buffer.length < len) this.buffer = new Uint8Array(len);
    this.bufPos = 0;
    this.bufLen = len;
  }

  // ---- commands ------------------------------------------------------------

  private abort(err = ERR_ABRT): void {
    this.transfer = { kind: 'none' };
    this.error = err;
    this.status = ST_DRDY | ST_ERR;
    this.raise();
  }

  private complete(): void {
    this.transfer = { kind: 'none' };
    this.error = 0;
    this.status = ST_DRDY | ST_DSC;
    this.raise();
  }

  private command(cmd: number): void {
    const d = this.drive;
    if (!d) return; // nobody answers
    if (this.status & ST_BSY && cmd !== 0x08) return;
    this.intrq = false;
    this.updateIrq();
    if (d.atapi) { this.atapiCommand(d, cmd); return; }
    switch (cmd) {
      case 0xec: this.sendSync(this.identify(d), false); return;
      case 0x20: case 0x21: this.startRead(d, false, false); return;
      case 0x24: this.startRead(d, true, false); return;
      case 0xc4: case 0x29:
        if (!d.multiple) { this.abort(); return; }
        this.startRead(d, cmd === 0x29, true); return;
      case 0x30: case 0x31: this.startWrite(d, false, false); return;
      case 0x34: this.startWrite(d, true, false); return;
      case 0xc5: case 0x39:
        if (!d.multiple) { this.abort(); return; }
        this.startWrite(d, cmd === 0x39, true); return;
      case 0x40: case 0x41: case 0x42: { // READ VERIFY: check the range only
        const r = this.range(d, cmd === 0x42);
        if (r) this.complete();
        return;
      }
      case 0xc6: { // SET MULTIPLE MODE
        const n = this.regs[R_COUNT];
        if (n > MAX_MULTIPLE || (n & (n - 1)) !== 0) { this.abort(); return; }
        d.multiple = n;
        this.complete();
        return;
      }
      case 0x91: // INITIALIZE DEVICE PARAMETERS
        if (this.regs[R_COUNT] === 0) { this.abort(); return; }
        d.spt = this.regs[R_COUNT];
        d.heads = (this.device & 0x0f) + 1;
        this.complete();
        return;
      case 0xf8: case 0x27: { // READ NATIVE MAX ADDRESS (EXT)
        const max = d.sectors - 1;
        this.setLba(max, cmd === 0x27);
        this.complete();
        return;
      }
      case 0xe5: this.regs[R_COUNT] = 0xff; this.complete(); return; // CHECK POWER MODE: active
      case 0x90: this.diagnostic(); return;
      case 0x08: this.abort(); return; // DEVICE RESET is ATAPI-only
      case 0x70: case 0xef: case 0xe0: case 0xe1: case 0xe2: case 0xe3: case 0xe6: case 0xe7: case 0xea:
        this.complete(); return; // SEEK, SET FEATURES, standby/idle/sleep, FLUSH CACHE (EXT)
      default:
        if ((cmd & 0xf0) === 0x10) { this.complete(); return; } // RECALIBRATE
        this.abort();
    }
  }

  private diagnostic(): void {
    this.device &= ~0x10;
    this.setSignature();
    this.error = 0x01;
    this.raise();
  }

  private atapiCommand(d: Drive, cmd: number): void {
    switch (cmd) {
      case 0xa1: this.sendSync(this.identifyPacket(d), false); return;
      case 0xa0: // PACKET
        if (this.regs[R_FEATURE] & 1) { this.abort(); return; } // DMA not offered
        this.transfer = { kind: 'packet' };
        this.startBuffer(12);
        this.regs[R_COUNT] = 0x01; // CoD: expecting a command packet
        this.status = ST_DRDY | ST_DRQ;
        return;
      case 0x08: // DEVICE RESET
        this.generation++;
        this.transfer = { kind: 'none' };
        this.setSignature();
        this.error = 0x01;
        return;
      case 0x90: this.diagnostic(); return;
      case 0xef: this.complete(); return;
      case 0xec: // IDENTIFY DEVICE on ATAPI: abort with the packet signature
        this.setSignature();
        this.abort();
        return;
      default:
        this.abort();
    }
  }

  /** LBA (or CHS-translated) start sector and count of an ATA command, or undefined after aborting. */
  private range(d: Drive, lba48: boolean): { lba: number; count: number } | undefined {
    let lba: number;
    let count: number;
    if (lba48) {
      lba = this.regs[R_LBA0] + this.regs[R_LBA1] * 2 ** 8 + this.regs[R_LBA2] * 2 ** 16
        + this.hob[R_LBA0] * 2 ** 24 + this.hob[R_LBA1] * 2 ** 32 + this.hob[R_LBA2] * 2 ** 40;
      count = this.regs[R_COUNT] | (this.hob[R_COUNT] << 8);
      if (count === 0) count = 65536;
    } else {
      count = this.regs[R_COUNT] || 256;
      if (this.device & 0x40) {
        lba = this.regs[R_LBA0] | (this.regs[R_LBA1] << 8) | (this.regs[R_LBA2] << 16) | ((this.device & 0x0f) << 24);
      } else {
        const cyl = this.regs[R_LBA1] | (this.regs[R_LBA2] << 8);
        const head = this.device & 0x0f;
        const sector = this.regs[R_LBA0];
        if (sector === 0 || sector > d.spt || head >= d.heads) { this.abort(ERR_IDNF | ERR_ABRT); return undefined; }
        lba = (cyl * d.heads + head) * d.spt + sector - 1;
      }
    }
    if (lba + count > d.sectors) { this.abort(ERR_IDNF); return undefined; }
    return { lba, count };
  }

  private setLba(lba: number, lba48: boolean): void {
    this.regs[R_LBA0] = lba & 0xff;
    this.regs[R_LBA1] = (lba >>> 8) & 0xff;
    this.regs[R_LBA2] = (lba >>> 16) & 0xff;
    if (lba48) {
      const hi = Math.floor(lba / 2 ** 24);
      this.hob[R_LBA0] = hi & 0xff; this.hob[R_LBA1] = (hi >>> 8) & 0xff; this.hob[R_LBA2] = (hi >>> 16) & 0xff;
    } else {
      this.device = (this.device & 0xf0) | ((lba >>> 24) & 0x0f);
    }
  }

  private startRead(d: Drive, lba48: boolean, multiple: boolean): void {
    const r = this.range(d, lba48);
    if (!r) return;
    const block = multiple ? d.multiple : 1;
    this.transfer = { kind: 'in', atapi: false, remaining: r.count * 512, stream: new Uint8Array(0), streamPos: 0, nextSector: r.lba, sectorsLeft: r.count, sectorSize: 512, blockBytes: block * 512 };
    this.presentNext();
  }

  private startWrite(d: Drive, lba48: boolean, multiple: boolean): void {
    const r = this.range(d, lba48);
    if (!r) return;
    const block = multiple ? d.multiple : 1;
    this.transfer = { kind: 'out', remainingSectors: r.count, nextSector: r.lba, blockSectors: block };
    this.startBuffer(Math.min(block, r.count) * 512);
    this.status = ST_DRDY | ST_DSC | ST_DRQ; // first block: no interrupt (PIO data-out protocol)
  }

  /** Data already in memory (IDENTIFY, ATAPI replies). */
  private sendSync(data: Uint8Array, atapi: boolean): void {
    this.transfer = { kind: 'in', atapi, remaining: data.length, stream: data, streamPos: 0, nextSector: 0, sectorsLeft: 0, sectorSize: 512, blockBytes: data.length };
    this.presentNext();
  }

  /** Presents the next DRQ block of an in-transfer, fetching from the medium when needed. */
  private presentNext(): void {
    const t = this.transfer;
    if (t.kind !== 'in') return;
    if (t.remaining === 0) {
      this.transfer = { kind: 'none' };
      this.status = ST_DRDY | ST_DSC;
      if (t.atapi) { this.regs[R_COUNT] = 0x03; this.raise(); } // IO|CoD: command complete
      return;
    }
    let n: number;
    if (t.atapi) {
      // The byte count limit the guest wrote before PACKET (the registers then carry chunk sizes).
      t.byteLimit ??= this.atapiByteLimit();
      n = Math.min(t.byteLimit, t.remaining, this.buffer.length);
    } else {
      n = Math.min(t.blockBytes, t.remaining);
    }
    const avail = t.stream.length - t.streamPos;
    if (avail < n && t.sectorsLeft > 0) { this.fetch(t, n - avail); return; }
    n = Math.min(n, avail);
    this.startBuffer(n);
    this.buffer.set(t.stream.subarray(t.streamPos, t.streamPos + n));
    t.streamPos += n;
    t.remaining -= n;
    this.status = ST_DRDY | ST_DSC | ST_DRQ;
    if (t.atapi) { this.regs[R_COUNT] = 0x02; this.regs[R_LBA1] = n & 0xff; this.regs[R_LBA2] = n >> 8; }
    this.raise();
  }

  private atapiByteLimit(): number {
    let lim = this.regs[R_LBA1] | (this.regs[R_LBA2] << 8);
    if (lim === 0 || lim === 0xffff) lim = 0xfffe;
    return lim & ~1;
  }

  private fetch(t: Extract<Transfer, { kind: 'in' }>, bytesNeeded: number): void {
    const media = this.drive!.config.media!;
    const count = Math.min(t.sectorsLeft, Math.max(Math.ceil(bytesNeeded / t.sectorSize), Math.floor(FETCH_SECTORS * 512 / t.sectorSize)));
    const start = t.nextSector;
    t.nextSector += count;
    t.sectorsLeft -= count;
    this.status = ST_BSY;
    const gen = this.generation;
    this.io.track(media.read(start, count).then(
      (data) => {
        if (gen !== this.generation || this.transfer !== t) return;
        const rest = t.stream.subarray(t.streamPos);
        const merged = new Uint8Array(rest.length + data.length);
        merged.set(rest);
        merged.set(data, rest.length);
        t.stream = merged;
        t.streamPos = 0;
        this.presentNext();
      },
      () => {
        if (gen !== this.generation || this.transfer !== t) return;
        if (t.atapi) this.atapiError({ key: 0x03, asc: 0x11, ascq: 0x00 }); // medium error: unrecovered read
        else this.abort(ERR_UNC);
      },
    ));
  }

  private inBlockDone(): void {
    const t = this.transfer;
    if (t.kind !== 'in') return;
    this.status = ST_DRDY | ST_DSC;
    this.presentNext();
  }

  private outBlockDone(): void {
    const t = this.transfer;
    if (t.kind === 'packet') { this.runPacket(this.buffer.slice(0, 12)); return; }
    if (t.kind !== 'out') return;
    const media = this.drive!.config.media!;
    const sectors = this.bufLen / 512;
    try {
      media.write(t.nextSector, this.buffer.subarray(0, this.bufLen));
    } catch {
      this.abort(ERR_IDNF);
      return;
    }
    t.nextSector += sectors;
    t.remainingSectors -= sectors;
    if (t.remainingSectors === 0) { this.complete(); return; }
    this.startBuffer(Math.min(t.blockSectors, t.remainingSectors) * 512);
    this.status = ST_DRDY | ST_DSC | ST_DRQ;
    this.raise();
  }

  private atapiError(sense: Sense): void {
    this.drive!.sense = sense;
    this.transfer = { kind: 'none' };
    this.error = (sense.key << 4) | ERR_ABRT;
    this.status = ST_DRDY | ST_ERR;
    this.regs[R_COUNT] = 0x03;
    this.raise();
  }

  private runPacket(packet: Uint8Array): void {
    const d = this.drive!;
    const result = executePacket(packet, d.config.media, this.identity, d.sense);
    d.sense = SENSE_NONE; // REQUEST SENSE has reported the previous error; others start clean
    switch (result.kind) {
      case 'error': this.atapiError(result.sense); return;
      case 'done':
        this.transfer = { kind: 'none' };
        this.error = 0;
        this.status = ST_DRDY | ST_DSC;
        this.regs[R_COUNT] = 0x03;
        this.raise();
        return;
      case 'data':
        if (result.data.length === 0) { this.runPacketDone(); return; }
        this.sendSync(result.data, true);
        return;
      case 'read':
        this.transfer = { kind: 'in', atapi: true, remaining: result.sectors * CD_SECTOR, stream: new Uint8Array(0), streamPos: 0, nextSector: result.lba, sectorsLeft: result.sectors, sectorSize: CD_SECTOR, blockBytes: 0 };
        this.presentNext();
        return;
    }
  }

  private runPacketDone(): void {
    this.transfer = { kind: 'in', atapi: true, remaining: 0, stream: new Uint8Array(0), streamPos: 0, nextSector: 0, sectorsLeft: 0, sectorSize: CD_SECTOR, blockBytes: 0 };
    this.presentNext();
  }

  // ---- IDENTIFY data -------------------------------------------------------

  private identify(d: Drive): Uint8Array {
    const w = new Uint16Array(256);
    const total = d.sectors;
    const lba28 = Math.min(total, 0x0fffffff);
    w[0] = 0x0040; // fixed device
    w[1] = d.cylinders; w[3] = d.defaultHeads; w[6] = d.defaultSpt;
    putString(w, 10, 20, d.config.serial ?? `VS${this.index}${this.sel}`.padEnd(20, '0'));
    putString(w, 23, 8, '1.0');
    putString(w, 27, 40, d.config.model ?? 'Virt Studio HARDDISK');
    w[47] = 0x8000 | MAX_MULTIPLE;
    w[49] = 0x0200; // LBA supported (no DMA)
    w[50] = 0x4000;
    w[51] = 0x0200; // PIO timing mode 2
    w[53] = 0x0003; // words 54-58 and 64-70 valid
    const curCyl = Math.min(65535, Math.floor(total / (d.heads * d.spt)));
    w[54] = curCyl; w[55] = d.heads; w[56] = d.spt;
    const curCap = curCyl * d.heads * d.spt;
    w[57] = curCap & 0xffff; w[58] = curCap >>> 16;
    w[59] = d.multiple ? 0x0100 | d.multiple : 0;
    w[60] = lba28 & 0xffff; w[61] = lba28 >>> 16;
    w[64] = 0x0003; // PIO modes 3 and 4
    w[65] = 120; w[66] = 120; w[67] = 120; w[68] = 120;
    w[80] = 0x00f0; // ATA/ATAPI-4 to -7
    w[82] = 0x4000; // NOP supported
    w[83] = 0x4000 | (1 << 13) | (1 << 12) | (1 << 10); // FLUSH CACHE EXT, FLUSH CACHE, 48-bit
    w[84] = 0x4000;
    w[85] = 0x4000; w[86] = w[83] & ~0x4000; w[87] = 0x4000;
    w[100] = total & 0xffff; w[101] = Math.floor(total / 0x10000) & 0xffff; w[102] = Math.floor(total / 2 ** 32) & 0xffff;
    return toBytes(w);
  }

  private identifyPacket(d: Drive): Uint8Array {
    const w = new Uint16Array(256);
    w[0] = 0x85c0; // ATAPI, CD-ROM, removable, 50 µs DRQ, 12-byte packets
    putString(w, 10, 20, d.config.serial ?? `VS${this.index}${this.sel}`.padEnd(20, '0'));
    putString(w, 23, 8, this.identity.revision);
    putString(w, 27, 40, d.config.model ?? 'Virt Studio DVD-ROM');
    w[49] = 0x0200; // LBA
    w[53] = 0x0002;
    w[64] = 0x0003;
    w[65] = 120; w[66] = 120; w[67] = 120; w[68] = 120;
    w[71] = 30; w[72] = 30;
    w[80] = 0x001e; // ATAPI-1 to -4
    return toBytes(w);
  }

  // ---- state ---------------------------------------------------------------

  save(): IdeChannelState {
    const t = this.transfer;
    return {
      regs: [...this.regs], hob: [...this.hob], status: this.status, error: this.error, control: this.control, device: this.device,
      buffer: Array.from(this.buffer.subarray(0, this.bufLen)), bufPos: this.bufPos, bufLen: this.bufLen,
      transfer: t.kind === 'in' ? { ...t, stream: Array.from(t.stream) } : { ...t },
      intrq: this.intrq, irqLevel: this.irqLevel,
      drives: this.drives.map((d) => (d ? { multiple: d.multiple, heads: d.heads, spt: d.spt, sense: { ...d.sense }, overlay: d.config.media?.saveOverlay() ?? [] } : null)),
    };
  }

  restore(s: IdeChannelState): void {
    this.generation++;
    this.regs = [...s.regs]; this.hob = [...s.hob];
    this.status = s.status; this.error = s.error; this.control = s.control; this.device = s.device;
    this.startBuffer(Math.max(s.bufLen, 1));
    this.buffer.set(s.buffer);
    this.bufPos = s.bufPos; this.bufLen = s.bufLen;
    const t = s.transfer as Transfer & { stream?: number[] };
    this.transfer = t.kind === 'in' ? { ...t, stream: Uint8Array.from(t.stream as number[]) } as Transfer : { ...t } as Transfer;
    this.intrq = s.intrq; this.irqLevel = s.irqLevel;
    s.drives.forEach((ds, i) => {
      const d = this.drives[i];
      if (!d || !ds) return;
      d.multiple = ds.multiple; d.heads = ds.heads; d.spt = ds.spt; d.sense = { ...ds.sense };
      d.config.media?.restoreOverlay(ds.overlay);
    });
  }

  /** True while a medium read is outstanding (save only between settled batches). */
  get busyReading(): boolean {
    return (this.status & ST_BSY) !== 0 && this.transfer.kind === 'in';
  }
}

function putString(w: Uint16Array, word: number, bytes: number, s: string): void {
  // ATA strings: two characters per word, first character in the high byte.
  for (let i = 0; i < bytes; i += 2) {
    const a = i < s.length ? s.charCodeAt(i) : 0x20;
    const b = i + 1 < s.length ? s.charCodeAt(i + 1) : 0x20;
    w[word + i / 2] = (a << 8) | b;
  }
}

function toBytes(w: Uint16Array): Uint8Array {
  const out = new Uint8Array(512);
  for (let i = 0; i < 256; i++) { out[i * 2] = w[i] & 0xff; out[i * 2 + 1] = w[i] >> 8; }
  return out;
}

export interface IdeState { channels: IdeChannelState[] }

export interface IdeConfig {
  /** [primary master, primary slave, secondary master, secondary slave]. */
  drives: (IdeDriveConfig | undefined)[];
  identity?: AtapiIdentity;
}

export class IdeController implements Device {
  readonly name = 'ide';
  readonly channels: IdeChannel[];
  /** The PIIX3 IDE PCI function (00:01.1), to attach to the PCI host. */
  readonly pci: PciFunction;

  constructor(config: IdeConfig, irq: IrqSink, io: PendingIo) {
    const identity = config.identity ?? { vendor: 'VirtStud', product: 'Virt DVD-ROM', revision: '1.0' };
    for (const [i, d] of config.drives.entries()) {
      if (!d?.media) continue;
      const want = d.kind === 'cdrom' ? CD_SECTOR : 512;
      if (d.media.sectorSize !== want) throw new Error(`IDE drive ${i}: a ${d.kind} needs ${want}-byte sectors, got ${d.media.sectorSize}`);
    }
    this.channels = [0, 1].map((c) => new IdeChannel(c, [config.drives[c * 2], config.drives[c * 2 + 1]], irq, io, identity));
    this.pci = new PciFunction('piix3-ide', { vendor: 0x8086, device: 0x7010, classCode: 0x010180 });
    this.pci.set16(0x06, 0x0280); // fast back-to-back, DEVSEL medium
    this.pci.addBar(4, 16, true); // bus-master registers (not implemented: PIO only)
    for (const r of [0x40, 0x41, 0x42, 0x43, 0x44]) this.pci.writable[r] = 0xff; // IDE timing
  }

  register(bus: IoBus): void {
    for (const c of this.channels) c.register(bus);
  }

  reset(): void {
    for (const c of this.channels) c.resetDrives();
  }

  saveState(): IdeState {
    if (this.channels.some((c) => c.busyReading)) throw new Error('IDE: cannot save while a disk read is in flight (settle pending I/O first)');
    return { channels: this.channels.map((c) => c.save()) };
  }

  restoreState(state: unknown): void {
    const s = state as IdeState;
    s.channels.forEach((c, i) => this.channels[i].restore(c));
  }
}
