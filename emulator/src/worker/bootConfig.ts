// BootSpec (protocol.ts) → MachineConfig: a domain XML read by domainConfig.ts, with the
// kernel/initrd/cmdline/disks/cdrom/memory overrides applied on top, or — without a domain —
// a machine made from the overrides alone (the CLI's `boot --kernel … --disk …`).
import { existsSync } from 'node:fs';
import { open, readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { DEFAULT_LOADER, parseDomainXml, type ConfigMessage, type DiskConfig, type MachineConfig } from '../machine/domainConfig';
import type { BootSpec } from './protocol';

/** QEMU's default guest RAM, used when neither the domain nor --memory says. */
const DEFAULT_MEMORY_MIB = 128;

export class BootConfigError extends Error {}

function describe(file: string, m: ConfigMessage): string {
  return m.pos ? `${file}:${m.pos.line}:${m.pos.column}: ${m.message}` : `${file}: ${m.message}`;
}

async function diskFormat(path: string): Promise<'raw' | 'qcow2'> {
  let fh;
  try {
    fh = await open(path, 'r');
  } catch (err) {
    throw new BootConfigError(`cannot open disk image ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  try {
    const magic = Buffer.alloc(4);
    await fh.read(magic, 0, 4, 0);
    return magic.toString('latin1') === 'QFI\xfb' ? 'qcow2' : 'raw';
  } finally {
    await fh.close();
  }
}

async function overrideDisks(spec: BootSpec): Promise<DiskConfig[] | undefined> {
  if (!spec.disks && !spec.cdrom) return undefined;
  const disks: DiskConfig[] = [];
  for (const [i, d] of (spec.disks ?? []).entries()) {
    if (i > 1) throw new BootConfigError('at most two --disk images (hda, hdb); the secondary channel holds the CD-ROM');
    const source = resolve(d);
    disks.push({ device: 'disk', source, format: await diskFormat(source), ideIndex: i, target: `hd${'ab'[i]}`, readonly: false });
  }
  if (spec.cdrom) {
    const source = resolve(spec.cdrom);
    await diskFormat(source); // fails clearly when missing
    disks.push({ device: 'cdrom', source, format: 'raw', ideIndex: 2, target: 'hdc', readonly: true });
  }
  return disks;
}

export async function machineConfigFromSpec(spec: BootSpec): Promise<{ config: MachineConfig; warnings: string[] }> {
  const warnings: string[] = [];
  let config: MachineConfig;
  if (spec.domain) {
    let text: string;
    try {
      text = await readFile(spec.domain, 'utf8');
    } catch (err) {
      throw new BootConfigError(`cannot read ${spec.domain}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
    const options = { baseDir: dirname(resolve(spec.domain)), memoryLimitMiB: spec.memoryLimitMiB };
    // Files the launch overrides need not exist where the XML says (a domain whose images are
    // elsewhere, booted with kernel/initrd/disks given): learn their paths, then parse for real.
    const replaced = new Set<string>();
    const draft = parseDomainXml(text, { ...options, fileExists: () => true }).config;
    if (draft?.boot.kind === 'kernel' && spec.kernel) replaced.add(draft.boot.kernel);
    if (draft?.boot.kind === 'kernel' && draft.boot.initrd && (spec.kernel || spec.initrd)) replaced.add(draft.boot.initrd);
    if (spec.disks || spec.cdrom) for (const d of draft?.disks ?? []) if (d.source) replaced.add(d.source);
    const r = parseDomainXml(text, { ...options, fileExists: (path) => replaced.has(path) || existsSync(path) });
    warnings.push(...r.warnings.map((w) => describe(spec.domain!, w)));
    if (r.errors.length > 0 || !r.config) {
      throw new BootConfigError(r.errors.map((e) => describe(spec.domain!, e)).join('\n') || `${spec.domain}: not a bootable domain`);
    }
    config = r.config;
  } else {
    if (!spec.kernel && !spec.disks?.length && !spec.cdrom) throw new BootConfigError('nothing to boot: give a domain XML, a kernel, a disk or a CD-ROM');
    if (!existsSync(DEFAULT_LOADER) && !spec.kernel) throw new BootConfigError(`the firmware ${DEFAULT_LOADER} is missing (install the seabios package)`);
    config = {
      name: 'virt-studio', memoryBytes: DEFAULT_MEMORY_MIB << 20, vcpus: 1, arch: 'i686', machine: 'pc',
      boot: { kind: 'firmware', loader: DEFAULT_LOADER, order: spec.cdrom && !spec.disks?.length ? ['cdrom', 'hd'] : ['hd', 'cdrom'], menu: false },
      disks: [], serials: [{ port: 0, type: 'pty' }], screen: undefined, keyboard: true,
    };
  }

  if (spec.memoryMiB !== undefined) {
    if (!(spec.memoryMiB >= 2) || spec.memoryMiB % 1 !== 0) throw new BootConfigError(`memory must be a whole number of MiB ≥ 2, got ${spec.memoryMiB}`);
    config.memoryBytes = spec.memoryMiB << 20;
  }
  if (config.memoryBytes > spec.memoryLimitMiB * 1048576) {
    throw new BootConfigError(`guest memory ${config.memoryBytes >> 20} MiB is over the limit of ${spec.memoryLimitMiB} MiB (virtStudio.emulator.memoryLimitMiB)`);
  }
  const disks = await overrideDisks(spec);
  if (disks) config.disks = disks;
  if (spec.kernel) {
    config.boot = { kind: 'kernel', kernel: resolve(spec.kernel), initrd: spec.initrd ? resolve(spec.initrd) : undefined, cmdline: spec.cmdline ?? (config.boot.kind === 'kernel' ? config.boot.cmdline : '') };
  } else if (config.boot.kind === 'kernel') {
    if (spec.initrd) config.boot.initrd = resolve(spec.initrd);
    if (spec.cmdline !== undefined) config.boot.cmdline = spec.cmdline;
  } else if (spec.initrd || spec.cmdline) {
    warnings.push('an initrd or command line without a kernel is ignored (the guest boots from firmware)');
  }
  return { config, warnings };
}
