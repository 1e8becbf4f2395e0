// Checks libvirt only makes when a domain is defined (`virsh define`), beyond what the RelaxNG
// schema can say. Messages follow libvirt's own wording so users can search for them.
import { existsSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import type { XmlElement } from '../relaxng/xmlParser';
import {
  attr, attrValue, child, children, descendants, nameRange, textContent, textRange, valueRange,
} from './xmlQuery';

export type Severity = 'error' | 'warning' | 'information';

export interface Finding {
  code: string;
  message: string;
  severity: Severity;
  start: number;
  end: number;
  data?: Record<string, unknown>;
}

export interface DefineCheckOptions {
  checkSourceFiles: boolean;
  /** Folders relative disk paths resolve against (the first that holds the file wins). */
  workspaceFolders: string[];
  /** Folder of the document itself, tried after the workspace folders. */
  documentFolder?: string;
}

const UNIT_SCALE: Record<string, number> = {
  b: 1, bytes: 1,
  kb: 1e3, k: 1024, kib: 1024,
  mb: 1e6, m: 1024 ** 2, mib: 1024 ** 2,
  gb: 1e9, g: 1024 ** 3, gib: 1024 ** 3,
  tb: 1e12, t: 1024 ** 4, tib: 1024 ** 4,
  pb: 1e15, p: 1024 ** 5, pib: 1024 ** 5,
  eb: 1e18, e: 1024 ** 6, eib: 1024 ** 6,
};

/** A memory-like element's size in bytes (libvirt's default unit is KiB), or undefined. */
export function sizeInBytes(el: XmlElement | undefined): number | undefined {
  if (!el) return undefined;
  const text = textContent(el).trim();
  if (!/^[0-9]+$/.test(text)) return undefined;
  const unit = (attrValue(el, 'unit') ?? 'KiB').toLowerCase();
  const scale = UNIT_SCALE[unit];
  return scale === undefined ? undefined : Number(text) * scale;
}

function parseNumber(s: string | undefined): number | undefined {
  if (s === undefined) return undefined;
  const t = s.trim();
  if (/^[0-9]+$/.test(t)) return Number(t);
  if (/^0x[0-9a-fA-F]+$/.test(t)) return parseInt(t, 16);
  return undefined;
}

export function domainChecks(domain: XmlElement, opts: DefineCheckOptions): Finding[] {
  const out: Finding[] = [];
  checkVcpus(domain, out);
  checkMemory(domain, out);
  const devices = child(domain, 'devices');
  if (devices) {
    checkDiskTargets(devices, out);
    checkDriveAddresses(devices, out);
    checkPciAddresses(devices, out);
    checkMacs(devices, out);
    if (opts.checkSourceFiles) checkSourceFiles(devices, opts, out);
  }
  checkAliases(domain, out);
  checkBootOrder(domain, out);
  return out;
}

function checkVcpus(domain: XmlElement, out: Finding[]): void {
  const vcpu = child(domain, 'vcpu');
  const current = vcpu && attr(vcpu, 'current');
  if (!vcpu || !current) return;
  const max = parseNumber(textContent(vcpu));
  const cur = parseNumber(current.value);
  if (max !== undefined && cur !== undefined && cur > max) {
    out.push({
      code: 'libvirt-vcpu-current-exceeds-max', severity: 'error', ...valueRange(current),
      message: `maximum vCPU count must not be less than current vCPU count (current='${cur}' > ${max})`,
    });
  }
}

function checkMemory(domain: XmlElement, out: Finding[]): void {
  const memory = child(domain, 'memory');
  const mem = sizeInBytes(memory);
  const maxMemory = child(domain, 'maxMemory');
  const max = sizeInBytes(maxMemory);
  if (maxMemory && mem !== undefined && max !== undefined && max < mem) {
    out.push({
      code: 'libvirt-maxmemory-below-memory', severity: 'error', ...textRange(maxMemory),
      message: 'maximum memory size must be equal or greater than the actual memory size (<maxMemory> < <memory>)',
    });
  }
  const currentMemory = child(domain, 'currentMemory');
  const cur = sizeInBytes(currentMemory);
  if (currentMemory && mem !== undefined && cur !== undefined && cur > mem) {
    out.push({
      code: 'libvirt-current-memory-clamped', severity: 'warning', ...textRange(currentMemory),
      message: '<currentMemory> is larger than <memory>: libvirt silently lowers it to <memory>',
    });
  }
}

function diskSource(disk: XmlElement): string {
  const src = child(disk, 'source');
  return attrValue(src, 'file') ?? attrValue(src, 'dev') ?? attrValue(src, 'dir') ?? attrValue(src, 'name') ?? attrValue(src, 'volume') ?? '';
}

function checkDiskTargets(devices: XmlElement, out: Finding[]): void {
  const seen = new Map<string, XmlElement>();
  for (const disk of children(devices, 'disk')) {
    const target = child(disk, 'target');
    const dev = target && attr(target, 'dev');
    if (!dev || !dev.value) continue;
    const first = seen.get(dev.value);
    if (first) {
      out.push({
        code: 'libvirt-duplicate-disk-target', severity: 'error', ...valueRange(dev),
        message: `target '${dev.value}' duplicated for disk sources '${diskSource(first)}' and '${diskSource(disk)}'`,
      });
    } else {
      seen.set(dev.value, disk);
    }
  }
}

/** Devices with <address type='drive'> must not share controller/bus/target/unit. */
function checkDriveAddresses(devices: XmlElement, out: Finding[]): void {
  const seen = new Map<string, XmlElement>();
  for (const disk of children(devices, 'disk')) {
    const address = child(disk, 'address');
    if (!address || attrValue(address, 'type') !== 'drive') continue;
    const bus = attrValue(child(disk, 'target'), 'bus') ?? '';
    const key = ['controller', 'bus', 'target', 'unit'].map((k) => `${k}='${parseNumber(attrValue(address, k) ?? '0') ?? attrValue(address, k)}'`).join(' ');
    const fullKey = `${bus === 'fdc' ? 'fdc' : bus === 'ide' ? 'ide' : bus === 'sata' ? 'sata' : 'scsi'}|${key}`;
    if (seen.has(fullKey)) {
      out.push({
        code: 'libvirt-duplicate-drive-address', severity: 'error', ...nameRange(address),
        message: `Found duplicate drive address for disk with target name '${attrValue(child(disk, 'target'), 'dev') ?? ''}' ${key}`,
      });
    } else {
      seen.set(fullKey, disk);
    }
  }
}

function checkPciAddresses(devices: XmlElement, out: Finding[]): void {
  const seen = new Map<string, XmlElement>();
  for (const address of descendants(devices)) {
    if (address.local !== 'address' || attrValue(address, 'type') !== 'pci') continue;
    // <source><address> of host devices names the host's device, not a guest slot.
    if (address.parent?.local === 'source') continue;
    const parts = ['domain', 'bus', 'slot', 'function'].map((k) => parseNumber(attrValue(address, k) ?? '0'));
    if (parts.some((p) => p === undefined)) continue;
    const [dom, bus, slot, fn] = parts as number[];
    const key = `${dom.toString(16).padStart(4, '0')}:${bus.toString(16).padStart(2, '0')}:${slot.toString(16).padStart(2, '0')}.${fn.toString(16)}`;
    // Functions of a multifunction device share a slot; only an exact repeat is a conflict.
    if (seen.has(key)) {
      out.push({
        code: 'libvirt-duplicate-pci-address', severity: 'error', ...nameRange(address),
        message: `Attempted double use of PCI Address ${key} (already used by <${seen.get(key)!.parent?.local ?? 'device'}>)`,
      });
    } else {
      seen.set(key, address);
    }
  }
}

const MAC_RE = /^[0-9a-fA-F]{1,2}(:[0-9a-fA-F]{1,2}){5}$/;

function checkMacs(devices: XmlElement, out: Finding[]): void {
  for (const iface of children(devices, 'interface')) {
    const mac = child(iface, 'mac');
    const address = mac && attr(mac, 'address');
    if (!address) continue;
    const v = address.value;
    if (!MAC_RE.test(v) && !/^[0-9a-fA-F]{2}([-:]?[0-9a-fA-F]{2}){5}$/.test(v)) {
      out.push({ code: 'libvirt-invalid-mac', severity: 'error', ...valueRange(address), message: `unable to parse mac address '${v}'` });
    } else if (parseInt(v.split(/[-:]/)[0] || v.slice(0, 2), 16) & 1) {
      out.push({
        code: 'libvirt-multicast-mac', severity: 'error', ...valueRange(address),
        message: `expected unicast mac address, found multicast '${v}' (the low bit of the first octet is set)`,
        data: { fix: fixMulticast(v) },
      });
    }
  }
}

function fixMulticast(v: string): string {
  const first = parseInt(v.slice(0, 2), 16) & 0xfe;
  return first.toString(16).padStart(2, '0') + v.slice(2);
}

/** libvirt keeps only user aliases ("ua-" prefix) in inactive XML and requires them unique. */
function checkAliases(domain: XmlElement, out: Finding[]): void {
  const seen = new Set<string>();
  for (const el of descendants(domain)) {
    if (el.local !== 'alias' || !el.parent || el.parent.parent?.local !== 'devices') continue;
    const name = attr(el, 'name');
    if (!name || !name.value.startsWith('ua-')) continue;
    if (seen.has(name.value)) {
      out.push({ code: 'libvirt-duplicate-alias', severity: 'error', ...valueRange(name), message: `non unique alias detected: ${name.value}` });
    }
    seen.add(name.value);
  }
}

function checkBootOrder(domain: XmlElement, out: Finding[]): void {
  const osBoot = children(child(domain, 'os'), 'boot');
  const devices = child(domain, 'devices');
  if (!devices) return;
  const perDevice: { boot: XmlElement; order: string }[] = [];
  for (const dev of childElementsOf(devices)) {
    const boot = child(dev, 'boot');
    const order = boot && attrValue(boot, 'order');
    if (boot && order !== undefined) perDevice.push({ boot, order });
  }
  if (perDevice.length && osBoot.length) {
    out.push({
      code: 'libvirt-boot-order-with-os-boot', severity: 'error', ...nameRange(perDevice[0].boot),
      message: 'per-device boot elements cannot be used together with os/boot elements',
      data: { osBoot: osBoot.map((b) => ({ start: b.start, end: b.end })) },
    });
  }
  const used = new Set<string>();
  for (const { boot, order } of perDevice) {
    const key = String(parseNumber(order) ?? order);
    if (used.has(key)) {
      const a = attr(boot, 'order')!;
      out.push({ code: 'libvirt-duplicate-boot-order', severity: 'error', ...valueRange(a), message: `boot order '${order}' used for more than one device` });
    }
    used.add(key);
  }
}

function childElementsOf(el: XmlElement): XmlElement[] {
  return el.children.filter((c): c is XmlElement => c.kind === 'element');
}

function checkSourceFiles(devices: XmlElement, opts: DefineCheckOptions, out: Finding[]): void {
  for (const disk of children(devices, 'disk')) {
    if (attrValue(disk, 'type') !== 'file') continue;
    for (const src of [child(disk, 'source'), ...children(child(disk, 'backingStore'), 'source')]) {
      const file = src && attr(src, 'file');
      if (!file || !file.value) continue;
      const p = file.value;
      const candidates = isAbsolute(p)
        ? [p]
        : [...opts.workspaceFolders, ...(opts.documentFolder ? [opts.documentFolder] : [])].map((f) => resolve(f, p));
      if (candidates.length === 0 || !candidates.some((c) => existsSync(c))) {
        out.push({
          code: 'libvirt-source-file-missing', severity: 'warning', ...valueRange(file),
          message: `disk source '${p}' does not exist${isAbsolute(p) ? '' : ` (looked in ${candidates.join(', ') || 'no workspace folder'})`}; the domain will fail to start`,
        });
      }
    }
  }
}
