// libvirt domain XML → the machine the built-in emulator builds. Everything the emulator
// honours is mapped; everything else gets one warning that names the element and its position,
// so nothing in the user's XML is silently ignored. Errors (no usable boot source, a firmware
// file that is missing, a size over the memory limit) stop the boot with a clear message.
import { existsSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { attr, child, children, parseXml, XmlError, type Position, type XmlElement } from './xml';
import type { BootSpec } from '../worker/protocol';

export const DEFAULT_LOADER = '/usr/share/seabios/bios.bin';

export type BootDevice = 'hd' | 'cdrom' | 'fd' | 'network';

export interface DiskConfig {
  device: 'disk' | 'cdrom';
  /** Absolute path of the image; undefined for an empty CD-ROM drive. */
  source?: string;
  format: 'raw' | 'qcow2';
  /** IDE position: 0 primary master, 1 primary slave, 2 secondary master, 3 secondary slave. */
  ideIndex: number;
  target: string;
  readonly: boolean;
  /** Per-device <boot order='N'/>. */
  bootOrder?: number;
}

export interface SerialConfig {
  /** 0 = COM1, 1 = COM2. */
  port: number;
  type: string;
}

export interface MachineConfig {
  name: string;
  memoryBytes: number;
  vcpus: 1;
  arch: 'i686' | 'x86_64';
  machine: string;
  /** Direct Linux boot (no firmware) or firmware boot. */
  boot:
    | { kind: 'kernel'; kernel: string; initrd?: string; cmdline: string }
    | { kind: 'firmware'; loader: string; order: BootDevice[]; menu: boolean };
  disks: DiskConfig[];
  serials: SerialConfig[];
  /** Whether the guest has a screen (<graphics> or <video>). */
  screen: { video: string } | undefined;
  keyboard: boolean;
}

export interface ConfigMessage { message: string; pos?: Position }

export interface DomainConfigResult {
  config?: MachineConfig;
  warnings: ConfigMessage[];
  errors: ConfigMessage[];
}

export interface DomainConfigOptions {
  /** Relative file paths resolve against this folder (the XML's folder). */
  baseDir?: string;
  /** Guest RAM upper bound (virtStudio.emulator.memoryLimitMiB). */
  memoryLimitMiB?: number;
  /** Checks whether files exist (tests pass a fake). */
  fileExists?: (path: string) => boolean;
}

const UNITS: Record<string, number> = {
  b: 1, bytes: 1, kb: 1e3, k: 1024, kib: 1024, mb: 1e6, m: 1024 ** 2, mib: 1024 ** 2,
  gb: 1e9, g: 1024 ** 3, gib: 1024 ** 3, tb: 1e12, t: 1024 ** 4, tib: 1024 ** 4,
};

const IDE_TARGETS: Record<string, number> = { hda: 0, hdb: 1, hdc: 2, hdd: 3 };

/** Elements under <domain> that are metadata, not hardware: accepted without comment. */
const METADATA = new Set(['name', 'uuid', 'title', 'description', 'metadata', 'genid']);
/** Lifecycle actions: meaningful to libvirt, not to a single emulator run. */
const LIFECYCLE = new Set(['on_poweroff', 'on_reboot', 'on_crash', 'on_lockfailure']);

export function parseDomainXml(text: string, options: DomainConfigOptions = {}): DomainConfigResult {
  const warnings: ConfigMessage[] = [];
  const errors: ConfigMessage[] = [];
  const warn = (message: string, el?: XmlElement) => warnings.push({ message, pos: el?.pos });
  const error = (message: string, el?: XmlElement) => errors.push({ message, pos: el?.pos });
  const exists = options.fileExists ?? existsSync;
  const path = (p: string) => (isAbsolute(p) ? p : resolve(options.baseDir ?? '.', p));

  let root: XmlElement;
  try {
    root = parseXml(text);
  } catch (err) {
    if (err instanceof XmlError) return { warnings, errors: [{ message: `malformed XML: ${err.message.replace(/^\d+:\d+: /, '')}`, pos: err.pos }] };
    throw err;
  }
  if (root.name !== 'domain') return { warnings, errors: [{ message: `expected a <domain> document, found <${root.name}>`, pos: root.pos }] };

  const domType = attr(root, 'type');
  if (domType && !['kvm', 'qemu'].includes(domType)) warn(`domain type '${domType}': the built-in emulator runs it as an emulated PC`, root);

  // --- memory -------------------------------------------------------------
  const size = (el: XmlElement | undefined): number | undefined => {
    if (!el) return undefined;
    const unit = (attr(el, 'unit') ?? 'KiB').toLowerCase();
    const factor = UNITS[unit];
    const n = Number(el.text.trim());
    if (!factor) { error(`unknown memory unit '${attr(el, 'unit')}'`, el); return undefined; }
    if (!Number.isFinite(n) || n <= 0 || !/^\d+$/.test(el.text.trim())) { error(`<${el.name}> must be a positive integer, got '${el.text.trim()}'`, el); return undefined; }
    return n * factor;
  };
  const memEl = child(root, 'memory');
  const curEl = child(root, 'currentMemory');
  let memory = size(memEl);
  const current = size(curEl);
  if (memory === undefined && current !== undefined) memory = current;
  if (memory === undefined && !errors.length) error('the domain has no <memory>', root);
  if (memory !== undefined && current !== undefined && current !== memory) {
    warn(`<currentMemory> (${mib(current)} MiB) differs from <memory> (${mib(memory)} MiB): without a balloon driver the guest gets ${mib(memory)} MiB`, curEl);
  }
  const limit = (options.memoryLimitMiB ?? 1024) * 1024 * 1024;
  if (memory !== undefined && memory > limit) error(`<memory> is ${mib(memory)} MiB, over the emulator's limit of ${mib(limit)} MiB (virtStudio.emulator.memoryLimitMiB)`, memEl);
  if (memory !== undefined && memory < 2 * 1024 * 1024) error(`<memory> is ${memory} bytes; a PC guest needs at least 2 MiB`, memEl);
  if (memory !== undefined) memory = Math.floor(memory / 4096) * 4096;

  // --- vcpu ---------------------------------------------------------------
  const vcpuEl = child(root, 'vcpu');
  if (vcpuEl) {
    const n = Number(vcpuEl.text.trim());
    if (n > 1) warn(`${n} vCPUs requested: the emulator runs 1 (SMP is not supported)`, vcpuEl);
  }

  // --- os -----------------------------------------------------------------
  const os = child(root, 'os');
  const typeEl = child(os, 'type');
  let arch: 'i686' | 'x86_64' = 'i686';
  let machine = 'pc';
  if (!os || !typeEl) error('the domain has no <os><type>', os ?? root);
  else {
    if (typeEl.text.trim() !== 'hvm') error(`<os><type> '${typeEl.text.trim()}' is not supported: only 'hvm' guests run in the emulator`, typeEl);
    const a = attr(typeEl, 'arch') ?? 'i686';
    if (a === 'x86_64') { arch = 'x86_64'; warn("arch 'x86_64': the emulated CPU is a 32-bit P6 (no long mode); 64-bit kernels will not start", typeEl); }
    else if (a !== 'i686' && a !== 'i386') error(`arch '${a}' is not supported: the emulator is an x86 PC`, typeEl);
    machine = attr(typeEl, 'machine') ?? 'pc';
    if (!/^(pc|pc-i440fx-.*|isapc)$/.test(machine)) warn(`machine '${machine}' is emulated as an i440FX PC`, typeEl);
  }
  if (attr(os, 'firmware') === 'efi') error("<os firmware='efi'>: UEFI firmware is not available in the emulator; use BIOS (SeaBIOS) or a <kernel>", os);
  const kernelEl = child(os, 'kernel');
  const initrdEl = child(os, 'initrd');
  const cmdlineEl = child(os, 'cmdline');
  const loaderEl = child(os, 'loader');
  const order: BootDevice[] = [];
  for (const b of children(os, 'boot')) {
    const dev = attr(b, 'dev');
    if (dev === 'hd' || dev === 'cdrom' || dev === 'fd' || dev === 'network') {
      if (dev === 'network') warn('<boot dev="network">: networking is not emulated', b);
      else if (dev === 'fd') warn('<boot dev="fd">: there is no floppy controller', b);
      order.push(dev);
    } else error(`<boot dev='${dev ?? ''}'> is not a boot device (hd, cdrom, fd, network)`, b);
  }
  const bootMenu = attr(child(os, 'bootmenu'), 'enable') === 'yes';
  for (const c of os?.children ?? []) {
    if (!['type', 'kernel', 'initrd', 'cmdline', 'loader', 'boot', 'bootmenu', 'nvram'].includes(c.name)) warn(`<os><${c.name}> is not supported and is ignored`, c);
    if (c.name === 'nvram') warn('<nvram> is for UEFI firmware, which the emulator does not run; ignored', c);
  }

  // --- devices ------------------------------------------------------------
  const disks: DiskConfig[] = [];
  const serials: SerialConfig[] = [];
  let screen: MachineConfig['screen'];
  let keyboard = true;
  const devices = child(root, 'devices');
  const usedIde = new Set<number>();
  for (const dev of devices?.children ?? []) {
    switch (dev.name) {
      case 'disk': {
        const d = parseDisk(dev);
        if (d) {
          if (usedIde.has(d.ideIndex)) error(`two disks use IDE position ${d.ideIndex} (${d.target})`, dev);
          usedIde.add(d.ideIndex);
          disks.push(d);
        }
        break;
      }
      case 'serial': case 'console': {
        const target = child(dev, 'target');
        const ttype = attr(target, 'type');
        if (dev.name === 'console' && ttype && ttype !== 'serial') { warn(`<console> target type '${ttype}' is not emulated; use a serial console`, dev); break; }
        const port = Number(attr(target, 'port') ?? (dev.name === 'console' ? 0 : serials.length));
        if (port > 1) { warn(`serial port ${port}: only COM1 and COM2 are emulated`, dev); break; }
        const type = attr(dev, 'type') ?? 'pty';
        if (!serials.some((s) => s.port === port)) serials.push({ port, type });
        break;
      }
      case 'graphics':
        screen ??= { video: 'vga' };
        break;
      case 'video': {
        const model = attr(child(dev, 'model'), 'type') ?? 'vga';
        if (!['vga', 'cirrus', 'std', 'bochs'].includes(model)) warn(`video model '${model}' is emulated as a standard VGA (text mode)`, dev);
        screen = { video: 'vga' };
        break;
      }
      case 'input': {
        const bus = attr(dev, 'bus') ?? 'ps2';
        const t = attr(dev, 'type');
        if (bus !== 'ps2') warn(`input device '${t}' on bus '${bus}' is not emulated (the PS/2 keyboard is always present)`, dev);
        if (t === 'keyboard') keyboard = true;
        break;
      }
      case 'controller': {
        const t = attr(dev, 'type');
        if (t === 'ide' || (t === 'pci' && (attr(dev, 'model') ?? 'pci-root') === 'pci-root')) break;
        warn(`<controller type='${t}'> is not emulated (disks attach to the PIIX3 IDE controller)`, dev);
        break;
      }
      case 'emulator':
        warn('<emulator> names a QEMU binary; the built-in emulator does not use it', dev);
        break;
      default:
        warn(`<${dev.name}> is not emulated and is ignored`, dev);
    }
  }

  function parseDisk(dev: XmlElement): DiskConfig | undefined {
    const device = attr(dev, 'device') ?? 'disk';
    if (device !== 'disk' && device !== 'cdrom') { warn(`<disk device='${device}'> is not emulated`, dev); return undefined; }
    const type = attr(dev, 'type') ?? 'file';
    const src = child(dev, 'source');
    let source: string | undefined;
    if (type === 'file') {
      const f = attr(src, 'file');
      if (f) source = path(f);
    } else if (type === 'block') {
      const f = attr(src, 'dev');
      if (f) source = path(f);
    } else { warn(`<disk type='${type}'> is not supported (only file and block sources)`, dev); return undefined; }
    if (!source && device === 'disk') { error('a hard disk needs <source file=...>', dev); return undefined; }
    if (source && !exists(source)) error(`disk image not found: ${source}`, src ?? dev);
    const driverType = attr(child(dev, 'driver'), 'type') ?? 'raw';
    if (driverType !== 'raw' && driverType !== 'qcow2') { error(`disk format '${driverType}' is not supported (raw, qcow2)`, child(dev, 'driver')); return undefined; }
    const target = child(dev, 'target');
    const tdev = attr(target, 'dev') ?? '';
    const bus = attr(target, 'bus') ?? (tdev.startsWith('hd') ? 'ide' : undefined);
    let ideIndex = IDE_TARGETS[tdev];
    const address = child(dev, 'address');
    if (address && attr(address, 'type') === 'drive') ideIndex = Number(attr(address, 'bus') ?? 0) * 2 + Number(attr(address, 'unit') ?? 0);
    if (bus !== 'ide') {
      warn(`disk ${tdev || '(no target)'} on bus '${bus ?? 'unknown'}' is attached to the IDE controller instead`, target ?? dev);
      ideIndex = undefined as unknown as number;
    }
    if (ideIndex === undefined || !(ideIndex >= 0 && ideIndex <= 3)) {
      ideIndex = [0, 1, 2, 3].find((i) => !usedIde.has(i) && !disks.some((d) => d.ideIndex === i)) ?? -1;
      if (ideIndex < 0) { error('more than four disks: the IDE controller has four positions', dev); return undefined; }
    }
    const bootEl = child(dev, 'boot');
    const bootOrder = bootEl ? Number(attr(bootEl, 'order')) : undefined;
    if (bootEl && !(bootOrder! >= 1)) error("<boot order='N'> needs a positive number", bootEl);
    for (const c of dev.children) {
      if (!['source', 'driver', 'target', 'address', 'boot', 'readonly', 'alias', 'serial'].includes(c.name)) warn(`<disk><${c.name}> is not supported and is ignored`, c);
    }
    return { device, source, format: driverType, ideIndex, target: tdev, readonly: device === 'cdrom' || !!child(dev, 'readonly'), bootOrder };
  }

  for (const c of root.children) {
    if (METADATA.has(c.name) || c.name === 'memory' || c.name === 'currentMemory' || c.name === 'vcpu' || c.name === 'os' || c.name === 'devices') continue;
    if (LIFECYCLE.has(c.name)) { warn(`<${c.name}>: the emulator stops the run on power-off, reset or crash events; ignored`, c); continue; }
    if (c.name === 'features') {
      for (const f of c.children) {
        if (f.name === 'apic' || f.name === 'acpi') warn(`<features><${f.name}/>: not emulated (the machine is a PIC-only PC without ${f.name.toUpperCase()})`, f);
        else if (f.name !== 'pae') warn(`<features><${f.name}/> is not emulated`, f);
      }
      continue;
    }
    if (c.name === 'cpu') { warn('<cpu>: the emulated CPU is a fixed P6-class model; the CPU definition is ignored', c); continue; }
    if (c.name === 'clock') { warn('<clock>: the guest clock starts at the host time and runs on virtual time; the offset settings are ignored', c); continue; }
    warn(`<${c.name}> is not supported by the built-in emulator and is ignored`, c);
  }

  // --- boot ---------------------------------------------------------------
  const perDevice = disks.filter((d) => d.bootOrder !== undefined);
  if (perDevice.length > 0 && order.length > 0) error("per-device <boot order> and <os><boot dev> cannot be used together (libvirt rejects it too)", children(os, 'boot')[0]);
  let boot: MachineConfig['boot'] | undefined;
  if (kernelEl) {
    const kernel = path(kernelEl.text.trim());
    if (!exists(kernel)) error(`kernel not found: ${kernel}`, kernelEl);
    const initrd = initrdEl ? path(initrdEl.text.trim()) : undefined;
    if (initrd && !exists(initrd)) error(`initrd not found: ${initrd}`, initrdEl);
    boot = { kind: 'kernel', kernel, initrd, cmdline: cmdlineEl?.text.trim() ?? '' };
    if (loaderEl) warn('<loader> is not used with <kernel>: the kernel is started directly (Linux boot protocol)', loaderEl);
    for (const b of children(os, 'boot')) warn('<boot dev> has no effect with <kernel>: the kernel is started directly', b);
  } else {
    if (initrdEl) warn('<initrd> without <kernel> is ignored', initrdEl);
    if (cmdlineEl) warn('<cmdline> without <kernel> is ignored', cmdlineEl);
    let loader = DEFAULT_LOADER;
    if (loaderEl) {
      if (attr(loaderEl, 'type') === 'pflash') error('<loader type="pflash"> is UEFI firmware, which the emulator does not run; use SeaBIOS (rom)', loaderEl);
      const p = loaderEl.text.trim();
      if (p) loader = path(p);
    }
    if (!exists(loader)) {
      error(loader === DEFAULT_LOADER
        ? `SeaBIOS is not installed (${DEFAULT_LOADER} is missing): install the 'seabios' package, set <os><loader>, or boot a <kernel> directly`
        : `firmware not found: ${loader}`, loaderEl ?? os);
    }
    const bootOrder: BootDevice[] = perDevice.length > 0
      ? [...perDevice].sort((a, b) => a.bootOrder! - b.bootOrder!).map((d) => (d.device === 'cdrom' ? 'cdrom' : 'hd'))
      : order.length > 0 ? order : ['hd'];
    boot = { kind: 'firmware', loader, order: bootOrder.filter((d, i, a) => a.indexOf(d) === i), menu: bootMenu };
    if (disks.length === 0) warn('no disks: the firmware will find nothing to boot', devices ?? root);
  }

  if (serials.length === 0) warn('no <serial> or <console>: the guest has no serial console to show', devices ?? root);

  if (errors.length > 0 || memory === undefined || !boot) return { warnings, errors };
  return {
    warnings, errors,
    config: {
      name: child(root, 'name')?.text.trim() ?? 'guest', memoryBytes: memory, vcpus: 1, arch, machine, boot,
      disks: disks.sort((a, b) => a.ideIndex - b.ideIndex), serials: serials.sort((a, b) => a.port - b.port), screen, keyboard,
    },
  };
}

function mib(bytes: number): number {
  return Math.round((bytes / 1024 / 1024) * 100) / 100;
}

/** Command-line / launch-configuration overrides (`virt-studio boot --kernel K ...`, F5 settings). */
export type BootOverrides = Pick<BootSpec, 'kernel' | 'initrd' | 'cmdline' | 'disks' | 'cdrom' | 'memoryMiB'>;

/**
 * Applies overrides to a domain's configuration, or builds one from scratch when there is no
 * domain XML: 128 MiB, COM1, the given kernel or disks. Paths resolve against `baseDir`.
 */
export function applyBootOverrides(base: MachineConfig | undefined, o: BootOverrides, options: DomainConfigOptions = {}): DomainConfigResult {
  const warnings: ConfigMessage[] = [];
  const errors: ConfigMessage[] = [];
  const exists = options.fileExists ?? existsSync;
  const path = (p: string) => (isAbsolute(p) ? p : resolve(options.baseDir ?? '.', p));
  const need = (p: string, what: string) => { if (!exists(p)) errors.push({ message: `${what} not found: ${p}` }); return p; };
  const config: MachineConfig = base ? { ...base, disks: [...base.disks], serials: [...base.serials] } : {
    name: 'guest', memoryBytes: 128 << 20, vcpus: 1, arch: 'i686', machine: 'pc',
    boot: { kind: 'firmware', loader: DEFAULT_LOADER, order: ['hd'], menu: false },
    disks: [], serials: [{ port: 0, type: 'stdio' }], screen: undefined, keyboard: true,
  };
  if (o.memoryMiB !== undefined) {
    const limit = options.memoryLimitMiB ?? 1024;
    if (!(o.memoryMiB >= 2) || !Number.isInteger(o.memoryMiB)) errors.push({ message: `memory must be a whole number of MiB, at least 2 (got ${o.memoryMiB})` });
    else if (o.memoryMiB > limit) errors.push({ message: `memory ${o.memoryMiB} MiB is over the emulator's limit of ${limit} MiB` });
    else config.memoryBytes = o.memoryMiB * 1024 * 1024;
  }
  if (o.disks || o.cdrom !== undefined) {
    const disks: DiskConfig[] = (o.disks ?? []).map((d, i) => ({
      device: 'disk' as const, source: need(path(d), 'disk image'), format: /\.qcow2$/i.test(d) ? 'qcow2' as const : 'raw' as const,
      ideIndex: i === 0 ? 0 : i === 1 ? 1 : 3, target: ['hda', 'hdb', 'hdd'][i] ?? '', readonly: false,
    }));
    if (disks.length > 3) errors.push({ message: 'at most three disks (the fourth IDE position holds the CD-ROM)' });
    const keep = o.disks ? [] : config.disks.filter((d) => d.device === 'disk');
    config.disks = [...keep, ...disks.slice(0, 3)];
    if (o.cdrom !== undefined) config.disks.push({ device: 'cdrom', source: need(path(o.cdrom), 'CD-ROM image'), format: 'raw', ideIndex: 2, target: 'hdc', readonly: true });
    else config.disks.push(...(base?.disks.filter((d) => d.device === 'cdrom') ?? []));
    config.disks.sort((a, b) => a.ideIndex - b.ideIndex);
  }
  if (o.kernel) {
    config.boot = { kind: 'kernel', kernel: need(path(o.kernel), 'kernel'), initrd: o.initrd ? need(path(o.initrd), 'initrd') : undefined, cmdline: o.cmdline ?? 'console=ttyS0' };
  } else if (config.boot.kind === 'kernel') {
    config.boot = { ...config.boot, initrd: o.initrd ? need(path(o.initrd), 'initrd') : config.boot.initrd, cmdline: o.cmdline ?? config.boot.cmdline };
  } else {
    if (o.initrd || o.cmdline) warnings.push({ message: '--initrd/--append need --kernel (or a <kernel> in the domain); ignored' });
    if (o.cdrom !== undefined && !o.disks?.length) config.boot = { ...config.boot, order: ['cdrom', 'hd'] };
    if (!exists(config.boot.loader)) errors.push({ message: `SeaBIOS is not installed (${config.boot.loader} is missing): install the 'seabios' package or boot a --kernel directly` });
    if (config.disks.length === 0) errors.push({ message: 'nothing to boot: give a --kernel, a --disk or a --cdrom' });
  }
  return errors.length ? { warnings, errors } : { config, warnings, errors };
}
