import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { applyBootOverrides, DEFAULT_LOADER, parseDomainXml, type DomainConfigOptions } from '../../../emulator/src/machine/domainConfig';

const ROOT = resolve(__dirname, '../../..');
const EXAMPLES = join(ROOT, 'examples');
/** Where examples/make-guests.sh puts the guests and the examples' absolute paths point. */
const GUESTS = '/var/lib/libvirt/images/virt-studio';
const everything: DomainConfigOptions = { baseDir: EXAMPLES, fileExists: () => true };

function domain(body: string, os = "<type arch='i686' machine='pc'>hvm</type>"): string {
  return `<domain type='qemu'>\n  <name>t</name>\n  <memory unit='MiB'>64</memory>\n  <os>${os}</os>\n  <devices>\n    <serial type='pty'/>\n${body}\n  </devices>\n</domain>\n`;
}

describe('machine: domain XML → MachineConfig', () => {
  it('every example validates against libvirt\'s schema (virt-xml-validate) as it stands', () => {
    for (const name of ['bootsector.xml', 'bootsector-qcow2.xml', 'memtest.xml', 'linux.xml']) {
      execFileSync('virt-xml-validate', [join(EXAMPLES, name), 'domain'], { stdio: 'pipe' });
    }
  });

  it('maps the boot-sector example: SeaBIOS, raw IDE disk, COM1, VGA', () => {
    const r = parseDomainXml(readFileSync(join(EXAMPLES, 'bootsector.xml'), 'utf8'), everything);
    assert.deepEqual(r.errors, []);
    assert.deepEqual(r.warnings, []);
    const c = r.config!;
    assert.equal(c.memoryBytes, 16 << 20);
    assert.deepEqual(c.boot, { kind: 'firmware', loader: DEFAULT_LOADER, order: ['hd'], menu: false });
    assert.deepEqual(c.disks, [{ device: 'disk', source: join(GUESTS, 'bootsector.raw'), format: 'raw', ideIndex: 0, target: 'hda', readonly: false, bootOrder: undefined }]);
    assert.deepEqual(c.serials, [{ port: 0, type: 'pty' }]);
    assert.deepEqual(c.screen, { video: 'vga' });
  });

  it('maps the kernel examples: direct boot with initrd and command line', () => {
    const r = parseDomainXml(readFileSync(join(EXAMPLES, 'linux.xml'), 'utf8'), everything);
    assert.deepEqual(r.errors, []);
    assert.deepEqual(r.config!.boot, { kind: 'kernel', kernel: join(GUESTS, 'vmlinuz-686'), initrd: join(GUESTS, 'initramfs.cpio.gz'), cmdline: 'console=ttyS0' });
    const m = parseDomainXml(readFileSync(join(EXAMPLES, 'memtest.xml'), 'utf8'), { baseDir: EXAMPLES });
    assert.deepEqual(m.errors, [], 'memtest86+ comes from the Debian package at /boot');
    assert.equal(m.config!.boot.kind, 'kernel');
  });

  it('memory units, currentMemory, vCPUs and the memory limit', () => {
    const xml = (mem: string, extra = '') => `<domain type='kvm'><name>m</name>${mem}${extra}<os><type>hvm</type><kernel>/k</kernel></os><devices><serial type='pty'/></devices></domain>`;
    assert.equal(parseDomainXml(xml('<memory>131072</memory>'), everything).config!.memoryBytes, 128 << 20, 'KiB by default');
    assert.equal(parseDomainXml(xml("<memory unit='GiB'>1</memory>"), everything).config!.memoryBytes, 1 << 30);
    assert.equal(parseDomainXml(xml("<memory unit='MB'>100</memory>"), everything).config!.memoryBytes, 100e6 - (100e6 % 4096));
    const cur = parseDomainXml(xml("<memory unit='MiB'>256</memory><currentMemory unit='MiB'>128</currentMemory>", '<vcpu>4</vcpu>'), everything);
    assert.equal(cur.config!.memoryBytes, 256 << 20);
    assert.match(cur.warnings[0].message, /currentMemory.*128 MiB.*256 MiB/);
    assert.match(cur.warnings[1].message, /4 vCPUs requested: the emulator runs 1/);
    const big = parseDomainXml(xml("<memory unit='GiB'>4</memory>"), everything);
    assert.match(big.errors[0].message, /over the emulator's limit of 1024 MiB/);
    assert.equal(big.config, undefined);
    assert.match(parseDomainXml(xml("<memory unit='parsecs'>1</memory>"), everything).errors[0].message, /unknown memory unit/);
  });

  it('one positioned warning per unsupported part, none silently ignored', () => {
    const text = domain(`    <interface type='network'><source network='default'/></interface>
    <disk type='file' device='disk'><driver name='qemu' type='qcow2'/><source file='/d.qcow2'/><target dev='vda' bus='virtio'/></disk>
    <input type='tablet' bus='usb'/>
    <video><model type='qxl'/></video>
    <memballoon model='virtio'/>`);
    const r = parseDomainXml(text.replace('<devices>', '<features><acpi/><apic/></features><devices>'), everything);
    assert.deepEqual(r.errors, []);
    const msgs = r.warnings.map((w) => `${w.pos?.line}: ${w.message}`);
    assert.deepEqual(msgs, [
      "7: <interface> is not emulated and is ignored",
      "8: disk vda on bus 'virtio' is attached to the IDE controller instead",
      "9: input device 'tablet' on bus 'usb' is not emulated (the PS/2 keyboard is always present)",
      "10: video model 'qxl' is emulated as a standard VGA (text mode)",
      "11: <memballoon> is not emulated and is ignored",
      "5: <features><acpi/>: not emulated (the machine is a PIC-only PC without ACPI)",
      "5: <features><apic/>: not emulated (the machine is a PIC-only PC without APIC)",
    ]);
    assert.deepEqual(r.config!.disks.map((d) => [d.target, d.ideIndex, d.format]), [['vda', 0, 'qcow2']]);
  });

  it('per-device boot order, cdrom on the secondary channel, boot menu', () => {
    const r = parseDomainXml(domain(`    <disk type='file' device='disk'><source file='/hd.raw'/><target dev='hda' bus='ide'/><boot order='2'/></disk>
    <disk type='file' device='cdrom'><driver name='qemu' type='raw'/><source file='/cd.iso'/><target dev='hdc' bus='ide'/><readonly/><boot order='1'/></disk>`,
    "<type>hvm</type><bootmenu enable='yes'/>"), everything);
    assert.deepEqual(r.errors, []);
    assert.deepEqual(r.config!.boot, { kind: 'firmware', loader: DEFAULT_LOADER, order: ['cdrom', 'hd'], menu: true });
    assert.deepEqual(r.config!.disks.map((d) => [d.device, d.ideIndex, d.bootOrder]), [['disk', 0, 2], ['cdrom', 2, 1]]);
  });

  it('clear errors: missing SeaBIOS, missing images, UEFI, non-hvm, malformed XML with a position', () => {
    const none: DomainConfigOptions = { fileExists: () => false };
    const r = parseDomainXml(domain("    <disk type='file' device='disk'><source file='/nope.raw'/><target dev='hda' bus='ide'/></disk>"), none);
    assert.deepEqual(r.errors.map((e) => e.message), [
      'disk image not found: /nope.raw',
      `SeaBIOS is not installed (${DEFAULT_LOADER} is missing): install the 'seabios' package, set <os><loader>, or boot a <kernel> directly`,
    ]);
    const uefi = parseDomainXml(domain('', "<type>hvm</type><loader type='pflash'>/OVMF.fd</loader>"), everything);
    assert.match(uefi.errors[0].message, /UEFI/);
    const efi = parseDomainXml(domain('', '<type>hvm</type>').replace('<os>', "<os firmware='efi'>"), everything);
    assert.match(efi.errors[0].message, /firmware='efi'.*UEFI/);
    const kboot = parseDomainXml(domain('', "<type>hvm</type><kernel>/k</kernel><boot dev='hd'/>"), everything);
    assert.match(kboot.warnings[0].message, /<boot dev> has no effect with <kernel>/);
    assert.match(parseDomainXml(domain('', '<type>xen</type><kernel>/k</kernel>'), everything).errors[0].message, /only 'hvm'/);
    const bad = parseDomainXml("<domain>\n  <name>x</name>\n  <memory>1</memory\n</domain>", everything);
    assert.equal(bad.config, undefined);
    assert.deepEqual(bad.errors[0].pos && [bad.errors[0].pos.line, bad.errors[0].pos.column], [4, 1]);
    const mismatch = parseDomainXml('<domain><name>x</nam></domain>', everything);
    assert.match(mismatch.errors[0].message, /<\/nam> does not match <name>/);
    assert.match(parseDomainXml('<network/>', everything).errors[0].message, /expected a <domain>/);
  });
});

describe('machine: boot overrides (CLI flags, launch settings)', () => {
  it('builds a kernel machine from flags alone, and a firmware machine from --disk/--cdrom', () => {
    const k = applyBootOverrides(undefined, { kernel: 'vmlinuz', initrd: 'initrd.gz', memoryMiB: 256 }, { baseDir: '/x', fileExists: () => true });
    assert.deepEqual(k.errors, []);
    assert.deepEqual(k.config!.boot, { kind: 'kernel', kernel: '/x/vmlinuz', initrd: '/x/initrd.gz', cmdline: 'console=ttyS0' });
    assert.equal(k.config!.memoryBytes, 256 << 20);
    assert.deepEqual(k.config!.serials, [{ port: 0, type: 'stdio' }]);
    const f = applyBootOverrides(undefined, { disks: ['/a.qcow2'], cdrom: '/b.iso' }, { fileExists: () => true });
    assert.deepEqual(f.config!.disks.map((d) => [d.device, d.ideIndex, d.format]), [['disk', 0, 'qcow2'], ['cdrom', 2, 'raw']]);
    assert.deepEqual(f.config!.boot, { kind: 'firmware', loader: DEFAULT_LOADER, order: ['hd'], menu: false });
    const cd = applyBootOverrides(undefined, { cdrom: '/b.iso' }, { fileExists: () => true });
    assert.deepEqual(cd.config!.boot.kind === 'firmware' && cd.config!.boot.order, ['cdrom', 'hd']);
  });

  it('overrides a domain\'s kernel command line and memory; rejects bad values clearly', () => {
    const base = parseDomainXml(readFileSync(join(EXAMPLES, 'linux.xml'), 'utf8'), everything).config!;
    const r = applyBootOverrides(base, { cmdline: 'console=ttyS0 init=/bin/sh', memoryMiB: 64 }, everything);
    assert.equal(r.config!.boot.kind === 'kernel' && r.config!.boot.cmdline, 'console=ttyS0 init=/bin/sh');
    assert.equal(r.config!.boot.kind === 'kernel' && r.config!.boot.initrd, join(GUESTS, 'initramfs.cpio.gz'));
    assert.equal(base.memoryBytes, 128 << 20, 'the base config is not modified');
    assert.match(applyBootOverrides(base, { memoryMiB: 4096 }, everything).errors[0].message, /over the emulator's limit/);
    assert.match(applyBootOverrides(undefined, {}, everything).errors[0].message, /nothing to boot/);
    assert.match(applyBootOverrides(undefined, { kernel: '/nope' }, { fileExists: () => false }).errors[0].message, /kernel not found: \/nope/);
  });
});
