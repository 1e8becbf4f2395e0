// The PC around the CPU: builds and wires every device of the emulated i440FX/PIIX3 machine
// from a MachineConfig — I/O bus, virtual clock, PIC pair, PIT + port 0x61, CMOS/RTC, COM1/COM2,
// i8042, port 0x92, fw_cfg, PCI host, IDE (disks opened through the block layer behind a
// copy-on-write overlay), VGA, and QEMU's debug ports — and prepares the boot: firmware tables
// for SeaBIOS, or a Linux kernel loaded with the boot protocol. The machine loop (CPU, memory
// map, worker) connects to what this returns; nothing here reads the CPU.
//
// How the machine loop is meant to drive it (deterministic: I/O completes at batch ends):
//   const p = await createPcPlatform({ config, memory, startTimeMs });
//   cpu.io = p.bus; cpu.intr = p.pic;                    // IN/OUT; hasInterrupt()/acknowledge()
//   memory maps: RAM, p.vga (readMem/writeMem at 0xA0000-0xBFFFF), p.firmware at 0xE0000 and
//   4 GiB - size, p.pci.onPamChange (shadow RAM), p.a20.onChange (wrap at 1 MiB)
//   boot: p.linux?.entry (32-bit protected-mode state) or the reset vector with p.firmware
//   loop: n = p.clock.instructionsUntilNextEvent(BATCH); run n; p.clock.advance(executed);
//         p.clock.runDueTimers(); if (p.pendingIo.busy) await p.pendingIo.settle();
//         on HLT with IF=1: if (!p.clock.skipToNextEvent()) wait for host input
//   p.onReset = ... (i8042 0xFE, port 0x92, 0xCF9); p.serial[0].onTransmit = ...
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import type { BlockDevice } from '../block/blockDevice';
import { openImage } from '../block/open';
import { IoBus } from '../bus/ioBus';
import { PendingIo } from '../devices/asyncIo';
import { CowDisk } from '../devices/cowDisk';
import { DebugConsole, IsaDebugExit } from '../devices/debugPorts';
import type { Device } from '../devices/device';
import { FwCfg, type E820Entry } from '../devices/fwCfg';
import { I8042 } from '../devices/i8042';
import { Pit8254 } from '../devices/i8254';
import { PicPair } from '../devices/i8259';
import { IdeController, type IdeDriveConfig } from '../devices/ide';
import { Mc146818, type CmosBootDevice } from '../devices/mc146818';
import { PcSpeakerPort } from '../devices/pcSpeaker';
import { PciHost } from '../devices/pci';
import { Port92 } from '../devices/port92';
import { A20Gate, type GuestMemory, type ResetSource } from '../devices/signals';
import { COM1, COM2, Uart16550 } from '../devices/uart16550';
import { Vga } from '../devices/vga';
import { VirtualClock } from './clock';
import type { DiskConfig, MachineConfig } from './domainConfig';
import { loadLinux, type LinuxBootResult } from './linuxBoot';

/** SeaBIOS's VGA option ROM for a plain (ISA-style) VGA. */
export const DEFAULT_VGA_BIOS = '/usr/share/seabios/vgabios-isavga.bin';

export interface PlatformOptions {
  config: MachineConfig;
  /** Guest RAM (config.memoryBytes); fw_cfg DMA and the kernel loader write through it. */
  memory: GuestMemory;
  clock?: VirtualClock;
  /** Guest wall time at power-on (ms since the epoch). Fixed values make runs reproducible. */
  startTimeMs: number;
  /** Opens a disk image read-only (default: the block layer's openImage, raw and qcow2). */
  openDisk?: (disk: DiskConfig) => Promise<{ device: BlockDevice; close(): Promise<void> }>;
  /**
   * VGA option ROM SeaBIOS runs from fw_cfg "vgaroms/" when the guest has a screen. Default:
   * DEFAULT_VGA_BIOS when installed; null: none (SeaBIOS then prints on serial only).
   */
  vgaBiosPath?: string | null;
}

export interface PcPlatform {
  readonly bus: IoBus;
  readonly clock: VirtualClock;
  /** The CPU's interrupt source (INTR/INTA). */
  readonly pic: PicPair;
  readonly pit: Pit8254;
  readonly speaker: PcSpeakerPort;
  readonly rtc: Mc146818;
  /** [COM1, COM2]. Set `serial[i].onTransmit` to receive guest output; `receive()` to type. */
  readonly serial: [Uart16550, Uart16550];
  readonly keyboard: I8042;
  readonly port92: Port92;
  readonly a20: A20Gate;
  readonly fwCfg: FwCfg;
  readonly pci: PciHost;
  readonly ide: IdeController;
  /** Present when the domain has <graphics> or <video>; map vga.readMem/writeMem at 0xA0000-0xBFFFF. */
  readonly vga: Vga | undefined;
  readonly debugConsole: DebugConsole;
  readonly debugExit: IsaDebugExit;
  /** Outstanding disk reads; the machine awaits settle() between instruction batches while busy. */
  readonly pendingIo: PendingIo;
  /** Every device, in save/restore order. */
  readonly devices: Device[];
  /** Set by the machine: a device pulled the reset line. */
  onReset: ((source: ResetSource) => void) | undefined;
  /** Firmware image for 0xE0000-0xFFFFF and the top of 4 GiB (firmware boot). */
  firmware?: Uint8Array;
  /** The loaded kernel and its 32-bit entry state (direct kernel boot). */
  linux?: LinuxBootResult;
  saveState(): PlatformState;
  restoreState(state: PlatformState): void;
  /** Resets every device (the machine resets the CPU and memory map). */
  reset(): void;
  close(): Promise<void>;
}

export interface PlatformState { clock: ReturnType<VirtualClock['saveState']>; devices: Record<string, unknown> }

const BOOT_TO_CMOS: Record<string, CmosBootDevice> = { hd: 'hd', cdrom: 'cdrom', fd: 'floppy', network: 'network' };

/** SeaBIOS's OpenFirmware path for an IDE position on the PIIX3 function 00:01.1. */
export function ideBootPath(ideIndex: number): string {
  return `/pci@i0cf8/ide@1,1/drive@${ideIndex >> 1}/disk@${ideIndex & 1}`;
}

/** What "etc/e820" tells SeaBIOS: the RAM; SeaBIOS adds its own reserved ranges. */
export function firmwareE820(memoryBytes: number): E820Entry[] {
  return [{ address: 0, length: memoryBytes, type: 1 }];
}

async function defaultOpenDisk(disk: DiskConfig): Promise<{ device: BlockDevice; close(): Promise<void> }> {
  const img = await openImage(disk.source!, { format: disk.format });
  return { device: img.device, close: () => img.close() };
}

export async function createPcPlatform(opts: PlatformOptions): Promise<PcPlatform> {
  const { config, memory } = opts;
  const clock = opts.clock ?? new VirtualClock();
  const bus = new IoBus();
  const pendingIo = new PendingIo();
  const a20 = new A20Gate();
  let platform: PcPlatform | undefined;
  const requestReset = (source: ResetSource) => platform?.onReset?.(source);

  // Disks first: a missing or corrupt image fails before anything else is built.
  const opened: { close(): Promise<void> }[] = [];
  const drives: (IdeDriveConfig | undefined)[] = [undefined, undefined, undefined, undefined];
  try {
    for (const d of config.disks) {
      let media: CowDisk | undefined;
      if (d.source) {
        const o = await (opts.openDisk ?? defaultOpenDisk)(d);
        opened.push(o);
        media = new CowDisk(o.device, d.device === 'cdrom' ? 2048 : 512);
      }
      drives[d.ideIndex] = { kind: d.device, media };
    }
  } catch (err) {
    for (const o of opened) await o.close().catch(() => {});
    throw err;
  }

  const pic = new PicPair();
  const pit = new Pit8254(clock, pic);
  const speaker = new PcSpeakerPort(clock, pit);
  const hardDisks = [0, 1].map((i) => {
    const m = drives[i];
    if (!m || m.kind !== 'disk' || !m.media) return undefined;
    const sectors = m.media.sectors;
    return { cylinders: Math.min(16383, Math.max(1, Math.floor(sectors / (16 * 63)))), heads: 16, sectors: 63 };
  });
  const firmwareOrder = config.boot.kind === 'firmware' ? config.boot.order : [];
  const rtc = new Mc146818(clock, pic, {
    startTimeMs: opts.startTimeMs, ramBelow4G: config.memoryBytes, cpus: 1,
    bootOrder: firmwareOrder.map((b) => BOOT_TO_CMOS[b]).slice(0, 3), hardDisks,
  });
  const serial: [Uart16550, Uart16550] = [
    new Uart16550(clock, pic, COM1.base, COM1.irq, 'com1'),
    new Uart16550(clock, pic, COM2.base, COM2.irq, 'com2'),
  ];
  const keyboard = new I8042(pic, a20, requestReset);
  const port92 = new Port92(a20, requestReset);
  const fwCfg = new FwCfg(memory);
  const pci = new PciHost(requestReset);
  const ide = new IdeController({ drives }, pic, pendingIo);
  pci.attach(1, 1, ide.pci);
  const vga = config.screen ? new Vga() : undefined;
  const debugConsole = new DebugConsole();
  const debugExit = new IsaDebugExit();

  for (const d of [pic, pit, speaker, rtc, ...serial, keyboard, port92, fwCfg, pci, ide, debugConsole, debugExit]) d.register(bus);
  vga?.register(bus);

  // fw_cfg: what SeaBIOS asks QEMU for.
  const bootPaths = config.disks.filter((d) => d.bootOrder !== undefined).sort((a, b) => a.bootOrder! - b.bootOrder!).map((d) => ideBootPath(d.ideIndex));
  fwCfg.configure({
    ramSize: config.memoryBytes, cpus: 1, e820: firmwareE820(config.memoryBytes), bootOrder: bootPaths,
    bootMenu: config.boot.kind === 'firmware' && config.boot.menu,
  });

  const devices: Device[] = [pic, pit, speaker, rtc, ...serial, keyboard, port92, fwCfg, pci, ide, debugConsole, debugExit];
  if (vga) devices.push(vga);

  let firmware: Uint8Array | undefined;
  let linux: LinuxBootResult | undefined;
  try {
    if (config.boot.kind === 'firmware') {
      firmware = new Uint8Array(await readFile(config.boot.loader));
      if (firmware.length % 65536 !== 0 || firmware.length > 16 << 20) throw new Error(`${config.boot.loader}: a BIOS image must be a multiple of 64 KiB (got ${firmware.length} bytes)`);
      const vgaBios = opts.vgaBiosPath === undefined ? (existsSync(DEFAULT_VGA_BIOS) ? DEFAULT_VGA_BIOS : null) : opts.vgaBiosPath;
      if (vga && vgaBios) fwCfg.addFile(`vgaroms/${vgaBios.split('/').pop()}`, new Uint8Array(await readFile(vgaBios)));
    } else {
      const kernel = new Uint8Array(await readFile(config.boot.kernel));
      const initrd = config.boot.initrd ? new Uint8Array(await readFile(config.boot.initrd)) : undefined;
      linux = loadLinux(memory, kernel, { cmdline: config.boot.cmdline, initrd, memoryBytes: config.memoryBytes, screen: vga ? 'vga-text' : 'none' });
    }
  } catch (err) {
    for (const o of opened) await o.close().catch(() => {});
    throw err;
  }

  platform = {
    bus, clock, pic, pit, speaker, rtc, serial, keyboard, port92, a20, fwCfg, pci, ide, vga, debugConsole, debugExit,
    pendingIo, devices, onReset: undefined, firmware, linux,
    saveState() {
      const out: Record<string, unknown> = {};
      for (const d of devices) out[d.name] = d.saveState();
      return { clock: clock.saveState(), devices: out };
    },
    restoreState(state) {
      clock.restoreState(state.clock);
      for (const d of devices) {
        if (!(d.name in state.devices)) throw new Error(`snapshot has no state for device ${d.name}`);
        d.restoreState(state.devices[d.name]);
      }
    },
    reset() {
      for (const d of devices) d.reset?.();
      a20.reset();
    },
    async close() {
      for (const o of opened) await o.close().catch(() => {});
    },
  };
  return platform;
}
