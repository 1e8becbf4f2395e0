// Each define-time check against the real thing: `virsh -c test:///default define` (libvirt's
// own domain parser and validator, in-process), and QEMU itself for guest PCI slot conflicts,
// which libvirt leaves to its hypervisor drivers.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DiagnosticSeverity, type Diagnostic } from 'vscode-languageserver-types';
import { CACHE, docFor, requireTool, service, virshBatch, virshDefine } from './oracles';

const IMAGES = join(CACHE, 'define-checks');
mkdirSync(IMAGES, { recursive: true });
const DISK_A = join(IMAGES, 'a.img');
const DISK_B = join(IMAGES, 'b.img');
writeFileSync(DISK_A, '');
writeFileSync(DISK_B, '');

const BASE = `<domain type='test'>
  <name>vs-check</name>
  <memory unit='KiB'>1048576</memory>
  <currentMemory unit='KiB'>1048576</currentMemory>
  <vcpu>2</vcpu>
  <os>
    <type arch='x86_64'>hvm</type>
  </os>
  <devices>
    <disk type='file' device='disk'>
      <source file='${DISK_A}'/>
      <target dev='vda' bus='virtio'/>
    </disk>
    <disk type='file' device='disk'>
      <source file='${DISK_B}'/>
      <target dev='vdb' bus='virtio'/>
    </disk>
    <interface type='network'>
      <mac address='52:54:00:11:22:33'/>
      <source network='default'/>
    </interface>
  </devices>
</domain>
`;

function edit(text: string, pairs: [string, string][]): string {
  for (const [from, to] of pairs) {
    assert.ok(text.includes(from), `test setup: '${from}' not in the document`);
    text = text.replace(from, to);
  }
  return text;
}

async function diagnose(text: string, name: string): Promise<Diagnostic[]> {
  const file = join(IMAGES, `${name}.xml`);
  writeFileSync(file, text);
  return service({ checkSourceFiles: true, workspaceFolders: [IMAGES] }).validate(docFor(file, text));
}

/** Asserts a diagnostic with `code` whose range covers the first occurrence of `at` in text. */
function assertAt(diags: Diagnostic[], text: string, code: string, at: string): Diagnostic {
  const d = diags.find((x) => x.code === code);
  assert.ok(d, `expected ${code}; got ${JSON.stringify(diags.map((x) => `${x.code}: ${x.message}`))}`);
  const off = text.indexOf(at);
  const lines = text.slice(0, off).split('\n');
  const line = lines.length - 1;
  const ch = lines[lines.length - 1].length;
  assert.equal(d.range.start.line, line, `${code} on line ${d.range.start.line + 1}, expected ${line + 1}`);
  assert.ok(d.range.start.character <= ch + at.length && d.range.end.character >= ch, `${code} at ${d.range.start.character}-${d.range.end.character}, expected around ${ch}`);
  return d;
}

interface Case { name: string; code: string; edits: [string, string][]; at: string; virsh: RegExp; severity?: DiagnosticSeverity }

const CASES: Case[] = [
  { name: 'vcpu current > max', code: 'libvirt-vcpu-current-exceeds-max', edits: [["<vcpu>2</vcpu>", "<vcpu current='4'>2</vcpu>"]], at: "'4'", virsh: /maximum vCPU count must not be less than current vCPU count/ },
  { name: 'maxMemory < memory', code: 'libvirt-maxmemory-below-memory', edits: [["<vcpu>2</vcpu>", "<vcpu>2</vcpu>\n  <maxMemory slots='4' unit='MiB'>512</maxMemory>"]], at: '512', virsh: /maximum memory size must be equal or greater than the actual memory size/ },
  { name: 'duplicate disk target', code: 'libvirt-duplicate-disk-target', edits: [["dev='vdb'", "dev='vda'"]], at: "vda' bus='virtio'/>\n    </disk>\n    <interface", virsh: /target 'vda' duplicated for disk sources/ },
  { name: 'duplicate user alias', code: 'libvirt-duplicate-alias', edits: [["<target dev='vda' bus='virtio'/>", "<target dev='vda' bus='virtio'/>\n      <alias name='ua-disk'/>"], ["<target dev='vdb' bus='virtio'/>", "<target dev='vdb' bus='virtio'/>\n      <alias name='ua-disk'/>"]], at: "ua-disk'/>\n    </disk>\n    <interface", virsh: /non unique alias detected: ua-disk/ },
  { name: 'per-device boot with os/boot', code: 'libvirt-boot-order-with-os-boot', edits: [["<type arch='x86_64'>hvm</type>", "<type arch='x86_64'>hvm</type>\n    <boot dev='hd'/>"], ["<target dev='vda' bus='virtio'/>", "<target dev='vda' bus='virtio'/>\n      <boot order='1'/>"]], at: "boot order", virsh: /per-device boot elements cannot be used together with os\/boot elements/ },
  { name: 'reused boot order', code: 'libvirt-duplicate-boot-order', edits: [["<target dev='vda' bus='virtio'/>", "<target dev='vda' bus='virtio'/>\n      <boot order='1'/>"], ["<source network='default'/>", "<source network='default'/>\n      <boot order='1'/>"]], at: "1'/>\n    </interface>", virsh: /boot order '1' used for more than one device/ },
  { name: 'duplicate drive address', code: 'libvirt-duplicate-drive-address', edits: [["<target dev='vda' bus='virtio'/>", "<target dev='sda' bus='scsi'/>\n      <address type='drive' controller='0' bus='0' target='0' unit='0'/>"], ["<target dev='vdb' bus='virtio'/>", "<target dev='sdb' bus='scsi'/>\n      <address type='drive' controller='0' bus='0' target='0' unit='0'/>"]], at: "address type='drive' controller='0' bus='0' target='0' unit='0'/>\n    </disk>\n    <interface", virsh: /Found duplicate drive address for disk with target name 'sda'/ },
  { name: 'multicast MAC', code: 'rng-invalid-attribute-value', edits: [['52:54:00:11:22:33', '01:54:00:11:22:33']], at: '01:54', virsh: /expected unicast mac address, found multicast '01:54:00:11:22:33'/ },
  { name: 'MAC syntax', code: 'rng-invalid-attribute-value', edits: [['52:54:00:11:22:33', '52:54:00:11:22']], at: '52:54:00:11:22', virsh: /unable to parse mac address '52:54:00:11:22'/ },
];

describe('libvirt define-time checks agree with virsh define (test driver)', function () {
  this.timeout(120_000);
  before(() => requireTool('virsh', 'libvirt-clients'));

  it('accepts the base domain, like virsh', async () => {
    const v = virshDefine(BASE, 'base');
    assert.ok(v.ok, `virsh rejected the base domain: ${v.output}`);
    const diags = await diagnose(BASE, 'base');
    assert.deepEqual(diags.map((d) => `${d.code}: ${d.message}`), []);
  });

  for (const c of CASES) {
    it(`${c.name}: virsh rejects it and we flag the node (${c.code})`, async () => {
      const text = edit(BASE, c.edits);
      const v = virshDefine(text, c.code);
      assert.ok(!v.ok, `virsh accepted it: ${v.output}`);
      assert.match(v.output, c.virsh);
      const diags = await diagnose(text, c.code);
      const d = assertAt(diags, text, c.code, c.at);
      assert.equal(d.severity, DiagnosticSeverity.Error);
      if (c.name.startsWith('MAC') || c.name.startsWith('multicast')) assert.match(String(d.message), /libvirt: (unable to parse|expected unicast)/);
    });
  }

  it('currentMemory > memory: virsh silently clamps it, we warn', async () => {
    const text = edit(BASE, [["<currentMemory unit='KiB'>1048576", "<currentMemory unit='KiB'>2097152"]]);
    const file = join(IMAGES, 'clamp.xml');
    writeFileSync(file, text);
    const out = virshBatch(`define ${file}; dumpxml vs-check`);
    assert.match(out, /<currentMemory unit='KiB'>1048576<\/currentMemory>/, `virsh did not clamp: ${out}`);
    const d = assertAt(await diagnose(text, 'clamp'), text, 'libvirt-current-memory-clamped', '2097152');
    assert.equal(d.severity, DiagnosticSeverity.Warning);
  });

  it('unknown elements: virsh drops them silently (and rejects with --validate), we flag them', async () => {
    const text = edit(BASE, [['<vcpu>2</vcpu>', '<vcpu>2</vcpu>\n  <vcpus_typo/>']]);
    const file = join(IMAGES, 'dropped.xml');
    writeFileSync(file, text);
    const out = virshBatch(`define ${file}; dumpxml vs-check`);
    assert.match(out, /<vcpu placement='static'>2<\/vcpu>/);
    assert.doesNotMatch(out, /vcpus_typo/, 'virsh kept the unknown element');
    const strict = spawnSync('virsh', ['-q', '-c', 'test:///default', 'define', '--validate', file], { encoding: 'utf8' });
    assert.notEqual(strict.status, 0);
    const d = assertAt(await diagnose(text, 'dropped'), text, 'rng-unknown-element', 'vcpus_typo');
    assert.match(String(d.message), /silently drops/);
  });

  it('a missing disk source file: a warning (virsh defines it; starting would fail)', async () => {
    const text = edit(BASE, [[DISK_B, join(IMAGES, 'does-not-exist.img')], [`file='${DISK_A}'`, "file='a.img'"]]);
    const v = virshDefine(text, 'missing-source');
    assert.ok(v.ok, v.output);
    const diags = await diagnose(text, 'missing-source');
    const d = assertAt(diags, text, 'libvirt-source-file-missing', 'does-not-exist');
    assert.equal(d.severity, DiagnosticSeverity.Warning);
    // The relative 'a.img' resolves against the workspace folder, where it exists.
    assert.equal(diags.filter((x) => x.code === 'libvirt-source-file-missing').length, 1);
  });

  it('duplicate guest PCI address: QEMU refuses the second device, we flag it', async () => {
    requireTool('qemu-system-x86_64', 'qemu-system-x86');
    const qemu = (a: string, b: string) => spawnSync('qemu-system-x86_64', [
      '-machine', 'pc,accel=tcg', '-nodefaults', '-display', 'none', '-S', '-qmp', 'stdio', '-serial', 'none',
      '-device', `virtio-blk-pci,addr=${a},drive=d0`, '-drive', `if=none,id=d0,file=${DISK_A},format=raw`,
      '-device', `virtio-net-pci,addr=${b}`,
    ], { input: '{"execute":"qmp_capabilities"}\n{"execute":"quit"}\n', encoding: 'utf8', timeout: 30_000 });
    const clash = qemu('0x3', '0x3');
    assert.notEqual(clash.status, 0);
    assert.match(clash.stderr, /PCI: slot 3 function 0 not available/);
    assert.equal(qemu('0x3', '0x4').status, 0);
    const addr = "<address type='pci' domain='0x0000' bus='0x00' slot='0x03' function='0x0'/>";
    const text = edit(BASE, [["<target dev='vda' bus='virtio'/>", `<target dev='vda' bus='virtio'/>\n      ${addr}`], ["<source network='default'/>", `<source network='default'/>\n      ${addr.replace("slot='0x03'", "slot='3'")}`]]);
    assertAt(await diagnose(text, 'pci'), text, 'libvirt-duplicate-pci-address', "address type='pci' domain='0x0000' bus='0x00' slot='3'");
    const distinct = edit(text, [["slot='3'", "slot='4'"]]);
    assert.ok(!(await diagnose(distinct, 'pci-ok')).some((d) => d.code === 'libvirt-duplicate-pci-address'));
  });
});
