// Linux x86 boot protocol, 32-bit entry (Documentation/arch/x86/boot.rst): what libvirt's
// <kernel>/<initrd>/<cmdline> means, with no firmware. Parses the bzImage setup header, puts
// the protected-mode kernel at code32_start (1 MiB), the initrd as high as allowed, builds
// boot_params (the "zero page": e820 map, command line pointer, ramdisk, loader id, screen
// info) and returns the register state the protocol specifies for the 32-bit entry point:
// flat segments from a GDT with __BOOT_CS = 0x10 and __BOOT_DS = 0x18, ESI = boot_params,
// EBP = EDI = EBX = 0, interrupts off. memtest86+ uses the same protocol.
import type { E820Entry } from '../devices/fwCfg';
import type { GuestMemory } from '../devices/signals';

export class LinuxBootError extends Error {
  constructor(message: string, readonly offset?: number) {
    super(offset === undefined ? message : `${message} (at offset 0x${offset.toString(16)})`);
    this.name = 'LinuxBootError';
  }
}

export interface SetupHeader {
  /** Real-mode setup sectors (after the boot sector); 0 means 4. */
  setupSects: number;
  /** Protocol version, e.g. 0x020f for 2.15. */
  version: number;
  /** Kernel version string, when the header points at one. */
  kernelVersion?: string;
  loadflags: number;
  code32Start: number;
  initrdAddrMax: number;
  kernelAlignment: number;
  relocatable: boolean;
  xloadflags: number;
  cmdlineSize: number;
  prefAddress: number;
  initSize: number;
  /** Offset in the file where the protected-mode kernel starts. */
  kernelOffset: number;
  /** Bytes of the setup header present in this image (0x1F1 up to its end). */
  headerEnd: number;
}

const LOADED_HIGH = 0x01, CAN_USE_HEAP = 0x80;

/** Where the loader puts its own structures (all below 640 KiB, above the BIOS data area). */
export const LINUX_LAYOUT = {
  gdt: 0x1000,
  stackTop: 0x8000,
  bootParams: 0x10000,
  cmdline: 0x20000,
} as const;

export function parseSetupHeader(image: Uint8Array): SetupHeader {
  if (image.length < 0x264) throw new LinuxBootError(`file is too small (${image.length} bytes) to be a Linux kernel`);
  const dv = new DataView(image.buffer, image.byteOffset, image.byteLength);
  if (dv.getUint16(0x1fe, true) !== 0xaa55) throw new LinuxBootError('not a Linux kernel: no 0xAA55 boot signature', 0x1fe);
  if (dv.getUint32(0x202, true) !== 0x53726448) throw new LinuxBootError('not a Linux bzImage: no "HdrS" setup header (too old or not a kernel)', 0x202);
  const version = dv.getUint16(0x206, true);
  if (version < 0x0202) throw new LinuxBootError(`boot protocol ${fmtVersion(version)} is too old: 2.02 or newer is needed for the 32-bit entry`, 0x206);
  const loadflags = image[0x211];
  if (!(loadflags & LOADED_HIGH)) throw new LinuxBootError('zImage (loaded low) kernels are not supported: use a bzImage', 0x211);
  let setupSects = image[0x1f1];
  if (setupSects === 0) setupSects = 4;
  const kernelOffset = (setupSects + 1) * 512;
  if (kernelOffset >= image.length) throw new LinuxBootError(`setup_sects (${setupSects}) points past the end of the file`, 0x1f1);
  const headerEnd = 0x202 + image[0x201];
  const at = (off: number, size: 4 | 2 | 1, min: number, fallback: number) =>
    version >= min && off + size <= headerEnd ? (size === 4 ? dv.getUint32(off, true) : size === 2 ? dv.getUint16(off, true) : image[off]) : fallback;
  let kernelVersion: string | undefined;
  const kvPtr = dv.getUint16(0x20e, true);
  if (kvPtr !== 0 && kvPtr + 0x200 < image.length) {
    const start = kvPtr + 0x200;
    let end = start;
    while (end < image.length && end < start + 256 && image[end] !== 0) end++;
    kernelVersion = new TextDecoder('latin1').decode(image.subarray(start, end));
  }
  return {
    setupSects, version, kernelVersion, loadflags,
    code32Start: dv.getUint32(0x214, true),
    initrdAddrMax: at(0x22c, 4, 0x0203, 0x37ffffff),
    kernelAlignment: at(0x230, 4, 0x0205, 0x100000),
    relocatable: at(0x234, 1, 0x0205, 0) !== 0,
    xloadflags: at(0x236, 2, 0x020c, 0),
    cmdlineSize: at(0x238, 4, 0x0206, 255),
    prefAddress: version >= 0x020a && 0x260 <= headerEnd ? Number(dv.getBigUint64(0x258, true)) : 0x100000,
    initSize: at(0x260, 4, 0x020a, 0),
    kernelOffset, headerEnd,
  };
}

function fmtVersion(v: number): string {
  return `${v >> 8}.${(v & 0xff).toString().padStart(2, '0')}`;
}

/** The e820 map a firmware-less PC reports: low RAM, the EBDA/BIOS hole, RAM above 1 MiB. */
export function defaultE820(memoryBytes: number): E820Entry[] {
  return [
    { address: 0, length: 0x9fc00, type: 1 },
    { address: 0x9fc00, length: 0x400, type: 2 },
    { address: 0xf0000, length: 0x10000, type: 2 },
    { address: 0x100000, length: memoryBytes - 0x100000, type: 1 },
  ];
}

export interface LinuxBootOptions {
  cmdline: string;
  initrd?: Uint8Array;
  /** RAM size in bytes (the top of usable memory). */
  memoryBytes: number;
  e820?: E820Entry[];
  /** 'vga-text': tell the kernel an 80×25 VGA text console exists; 'none': serial only. */
  screen?: 'none' | 'vga-text';
}

export interface EntryState {
  eip: number; esi: number; esp: number; ebp: number; edi: number; ebx: number; eax: number; ecx: number; edx: number;
  eflags: number; cr0: number;
  cs: number; ds: number; es: number; ss: number; fs: number; gs: number;
  gdtr: { base: number; limit: number };
  /** Flat 4 GiB segments: descriptor caches the CPU loads for CS and the data selectors. */
  codeSegment: { selector: number; base: number; limit: number; access: number; flags: number };
  dataSegment: { selector: number; base: number; limit: number; access: number; flags: number };
}

export interface LinuxBootResult {
  header: SetupHeader;
  entry: EntryState;
  kernelLoad: { address: number; size: number };
  initrdLoad?: { address: number; size: number };
  bootParams: number;
  cmdlineAddress: number;
}

export function loadLinux(mem: GuestMemory, image: Uint8Array, opts: LinuxBootOptions): LinuxBootResult {
  const h = parseSetupHeader(image);
  const ram = Math.min(opts.memoryBytes, mem.size);
  const kernel = image.subarray(h.kernelOffset);
  const loadAt = h.code32Start;
  if (loadAt < 0x100000) throw new LinuxBootError(`code32_start 0x${loadAt.toString(16)} is below 1 MiB`, 0x214);
  // The decompressor needs init_size bytes at its run address (pref_address for relocatable kernels).
  const runAt = Math.max(loadAt, h.prefAddress);
  const kernelTop = Math.max(loadAt + kernel.length, runAt + h.initSize);
  if (kernelTop > ram) {
    throw new LinuxBootError(`the kernel needs memory up to ${mibStr(kernelTop)} (init_size ${mibStr(h.initSize)}), the guest has ${mibStr(ram)}`);
  }
  const cmd = new TextEncoder().encode(opts.cmdline);
  if (cmd.length > h.cmdlineSize) throw new LinuxBootError(`command line is ${cmd.length} bytes; this kernel accepts at most ${h.cmdlineSize}`);

  mem.write(loadAt, kernel);

  let initrdLoad: { address: number; size: number } | undefined;
  if (opts.initrd && opts.initrd.length > 0) {
    const top = Math.min(ram, h.initrdAddrMax + 1);
    const address = Math.floor((top - opts.initrd.length) / 4096) * 4096;
    if (address < kernelTop) {
      throw new LinuxBootError(`the initrd (${mibStr(opts.initrd.length)}) does not fit between the kernel (up to ${mibStr(kernelTop)}) and ${mibStr(top)}: give the guest more memory`);
    }
    mem.write(address, opts.initrd);
    initrdLoad = { address, size: opts.initrd.length };
  }

  // boot_params: zeroed page, setup header copied from the image, then the loader's fields.
  const bp = new Uint8Array(4096);
  const dv = new DataView(bp.buffer);
  bp.set(image.subarray(0x1f1, Math.min(h.headerEnd, 0x1f1 + 0x7f, image.length)), 0x1f1);
  const e820 = opts.e820 ?? defaultE820(ram);
  if (e820.length > 128) throw new LinuxBootError('more than 128 e820 entries');
  bp[0x1e8] = e820.length;
  e820.forEach((e, i) => {
    dv.setBigUint64(0x2d0 + i * 20, BigInt(e.address), true);
    dv.setBigUint64(0x2d0 + i * 20 + 8, BigInt(e.length), true);
    dv.setUint32(0x2d0 + i * 20 + 16, e.type, true);
  });
  const extKiB = Math.floor((ram - 0x100000) / 1024);
  dv.setUint16(0x002, Math.min(extKiB, 0xffff), true); // screen_info.ext_mem_k
  dv.setUint32(0x1e0, extKiB, true); // alt_mem_k
  if (opts.screen === 'vga-text') {
    bp[0x06] = 3; // orig_video_mode
    bp[0x07] = 80; // orig_video_cols
    bp[0x0e] = 25; // orig_video_lines
    bp[0x0f] = 1; // orig_video_isVGA
    dv.setUint16(0x10, 16, true); // orig_video_points
  }
  dv.setUint16(0x1fa, 0xffff, true); // vid_mode: normal
  bp[0x210] = 0xff; // type_of_loader: undefined loader id
  bp[0x211] = (h.loadflags | CAN_USE_HEAP) & ~0x20; // heap usable; not QUIET
  dv.setUint16(0x224, 0xfe00 - 0x200, true); // heap_end_ptr
  dv.setUint32(0x228, LINUX_LAYOUT.cmdline, true);
  dv.setUint32(0x218, initrdLoad?.address ?? 0, true);
  dv.setUint32(0x21c, initrdLoad?.size ?? 0, true);
  mem.write(LINUX_LAYOUT.bootParams, bp);

  const cmdZ = new Uint8Array(cmd.length + 1);
  cmdZ.set(cmd);
  mem.write(LINUX_LAYOUT.cmdline, cmdZ);

  // GDT: null, unused, __BOOT_CS (0x10) flat code, __BOOT_DS (0x18) flat data.
  const gdt = new Uint8Array(32);
  const gv = new DataView(gdt.buffer);
  gv.setBigUint64(0x10, 0x00cf9a000000ffffn, true);
  gv.setBigUint64(0x18, 0x00cf92000000ffffn, true);
  mem.write(LINUX_LAYOUT.gdt, gdt);

  return {
    header: h,
    kernelLoad: { address: loadAt, size: kernel.length },
    initrdLoad,
    bootParams: LINUX_LAYOUT.bootParams,
    cmdlineAddress: LINUX_LAYOUT.cmdline,
    entry: {
      eip: loadAt, esi: LINUX_LAYOUT.bootParams, esp: LINUX_LAYOUT.stackTop, ebp: 0, edi: 0, ebx: 0, eax: 0, ecx: 0, edx: 0,
      eflags: 0x2, cr0: 0x11, // PE (+ET); paging off, IF clear
      cs: 0x10, ds: 0x18, es: 0x18, ss: 0x18, fs: 0x18, gs: 0x18,
      gdtr: { base: LINUX_LAYOUT.gdt, limit: 0x1f },
      codeSegment: { selector: 0x10, base: 0, limit: 0xffffffff, access: 0x9a, flags: 0xc },
      dataSegment: { selector: 0x18, base: 0, limit: 0xffffffff, access: 0x92, flags: 0xc },
    },
  };
}

function mibStr(bytes: number): string {
  return `${Math.round((bytes / 1048576) * 10) / 10} MiB`;
}
