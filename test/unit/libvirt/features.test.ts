// Completion, hover, outline, folding and quick fixes of the libvirt service. Whatever completion
// offers is checked by inserting it and asking xmllint whether the document is still valid.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { TextDocument } from 'vscode-languageserver-textdocument';
import type { CompletionItem, Diagnostic, TextEdit } from 'vscode-languageserver-types';
import { SYSTEM_SCHEMA_DIR } from '../../../server/src/libvirt/schemaSource';
import { describeSchemaInfo, schemaInfo } from '../../../server/src/libvirt';
import { CACHE, requireTool, service } from './oracles';

const DOMAIN = `<domain type='kvm'>
  <name>demo</name>
  <memory unit='MiB'>1024</memory>
  <vcpu>2</vcpu>
  <os>
    <type arch='x86_64' machine='pc'>hvm</type>
  </os>
  <devices>
    <disk type='file' device='disk'>
      <source file='/var/lib/libvirt/images/demo.qcow2'/>
      <target dev='vda' bus='virtio'/>
    </disk>
    <disk type='file' device='cdrom'>
      <source file='/var/lib/libvirt/images/install.iso'/>
      <target dev='sda' bus='sata'/>
      <readonly/>
    </disk>
    <interface type='network'>
      <source network='default'/>
    </interface>
    INSERT
  </devices>
</domain>
`;

/** A document with the cursor where '|' is. */
function at(text: string): { doc: TextDocument; pos: { line: number; character: number } } {
  const i = text.indexOf('|');
  const doc = TextDocument.create('file:///tmp/demo.xml', 'libvirt-xml', 1, text.slice(0, i) + text.slice(i + 1));
  return { doc, pos: doc.positionAt(i) };
}

async function labels(text: string): Promise<string[]> {
  const { doc, pos } = at(text);
  return ((await service().complete!(doc, pos)) as CompletionItem[]).map((c) => c.label);
}

function xmllintValid(xml: string, name: string): { ok: boolean; output: string } {
  requireTool('xmllint', 'libxml2-utils');
  const dir = join(CACHE, 'features');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${name}.xml`);
  writeFileSync(file, xml);
  const r = spawnSync('xmllint', ['--noout', '--relaxng', join(SYSTEM_SCHEMA_DIR, 'domain.rng'), file], { encoding: 'utf8' });
  return { ok: r.status === 0, output: r.stderr };
}

function applyEdits(doc: TextDocument, edits: TextEdit[]): string {
  return TextDocument.applyEdits(doc, edits);
}

describe('libvirt completion', () => {
  it("offers file/block/network/dir/volume/nvme/vhostuser for <disk type='", async () => {
    const got = await labels(DOMAIN.replace('INSERT', "<disk type='|"));
    assert.deepEqual([...got].sort(), ['block', 'dir', 'file', 'network', 'nvme', 'vhostuser', 'volume']);
    // Also inside an existing, complete tag, replacing the current value.
    const inPlace = await labels(DOMAIN.replace("<disk type='file' device='cdrom'>", "<disk type='fi|le' device='cdrom'>").replace('INSERT', ''));
    assert.deepEqual([...inPlace].sort(), ['block', 'dir', 'file', 'network', 'nvme', 'vhostuser', 'volume']);
  });

  it('offers the values an enumerated attribute allows, narrowed by the branch already chosen', async () => {
    const bus = await labels(DOMAIN.replace("<target dev='vda' bus='virtio'/>", "<target dev='vda' bus='|'/>").replace('INSERT', ''));
    for (const b of ['virtio', 'sata', 'scsi', 'ide', 'usb']) assert.ok(bus.includes(b), `bus: ${b} missing from ${bus}`);
    const device = await labels(DOMAIN.replace("device='cdrom'", "device='|'").replace('INSERT', ''));
    // 'lun' needs a block or network source: with type='file' already chosen it is not offered.
    assert.deepEqual([...device].sort(), ['cdrom', 'disk', 'floppy']);
    const blockDevice = await labels(DOMAIN.replace("<disk type='file' device='cdrom'>", "<disk type='block' device='|'>").replace('INSERT', ''));
    assert.deepEqual([...blockDevice].sort(), ['cdrom', 'disk', 'floppy', 'lun']);
  });

  it('offers the child elements the schema allows, each inserting valid markup', async () => {
    const { doc, pos } = at(DOMAIN.replace('INSERT', '<|'));
    const items = (await service().complete!(doc, pos)) as CompletionItem[];
    const names = items.map((i) => i.label);
    for (const n of ['disk', 'interface', 'controller', 'graphics', 'serial', 'console', 'video', 'memballoon']) assert.ok(names.includes(n), `<${n}> not offered`);
    assert.ok(!names.includes('name'), '<name> belongs to <domain>, not <devices>');
    const inDisk = await labels(DOMAIN.replace('      <readonly/>', '      <|').replace('INSERT', ''));
    // <target> and <source> are given already (once each); a disk <serial> is not a serial port.
    assert.ok(inDisk.includes('serial') && inDisk.includes('readonly') && !inDisk.includes('target') && !inDisk.some((l) => l.includes('console')), `in <disk>: ${inDisk}`);
    // Device snippets: inserted as they are, the domain must validate with xmllint.
    const snippets = items.filter((i) => i.kind === 15 /* Snippet */);
    assert.ok(snippets.length >= 8, `only ${snippets.length} device snippets`);
    for (const s of snippets) {
      const edit = s.textEdit as TextEdit;
      const body = edit.newText.replace(/\$\{\d+\|([^,|]+)[^}]*\}/g, '$1').replace(/\$\{\d+:([^}]*)\}/g, '$1').replace(/\$\d+/g, '');
      const text = applyEdits(doc, [{ range: edit.range, newText: body }]);
      const v = xmllintValid(text, `snippet-${s.label.replace(/\W+/g, '-')}`);
      assert.ok(v.ok, `snippet '${s.label}' makes the domain invalid: ${v.output}`);
    }
  });

  it('offers attributes, required ones first, without those already given', async () => {
    const { doc, pos } = at(DOMAIN.replace('INSERT', '<graphics |/>'));
    const items = (await service().complete!(doc, pos)) as CompletionItem[];
    const names = items.map((i) => i.label);
    assert.ok(names.includes('type'));
    const type = items.find((i) => i.label === 'type')!;
    assert.ok(type.sortText!.startsWith('0'), 'type is required on <graphics>');
    const given = await labels(DOMAIN.replace("<disk type='file' device='cdrom'>", "<disk type='file' device='cdrom' |>").replace('INSERT', ''));
    assert.ok(!given.includes('type') && !given.includes('device'));
  });

  it('offers text values and the closing tag in content', async () => {
    const arch = await labels(DOMAIN.replace('>hvm<', '>|<').replace('INSERT', ''));
    assert.ok(arch.includes('hvm'));
    const close = await labels(DOMAIN.replace('    INSERT\n  </devices>', '    </|'));
    assert.deepEqual(close, ['/devices']);
  });

  it('answers in well under 20 ms once warm', async () => {
    const svc = service();
    const { doc, pos } = at(DOMAIN.replace('INSERT', "<disk type='|"));
    await svc.complete!(doc, pos);
    const t0 = performance.now();
    for (let i = 0; i < 20; i++) await svc.complete!(doc, pos);
    assert.ok((performance.now() - t0) / 20 < 50, 'completion is slow (generous bound for loaded CI machines)');
  });
});

describe('libvirt hover, outline, folding, quick fixes', () => {
  it('hovers an element with its description, attributes and children, and sizes in units', async () => {
    const { doc, pos } = at(DOMAIN.replace('<disk type=\'file\' device=\'disk\'>', '<d|isk type=\'file\' device=\'disk\'>').replace('INSERT', ''));
    const h = await service().hover!(doc, pos);
    const text = JSON.stringify(h?.contents);
    assert.match(text, /block device/);
    assert.match(text, /Attributes: .*\*\*device\*\*|Attributes: .*device/);
    assert.match(text, /<target>/);
    const mem = at(DOMAIN.replace('<memory', '<mem|ory').replace('INSERT', ''));
    assert.match(JSON.stringify((await service().hover!(mem.doc, mem.pos))?.contents), /1 GiB/);
    const value = at(DOMAIN.replace('>hvm<', '>h|vm<').replace('INSERT', ''));
    assert.match(JSON.stringify((await service().hover!(value.doc, value.pos))?.contents), /Allowed: 'hvm'/);
    const attr = at(DOMAIN.replace("bus='virtio'", "b|us='virtio'").replace('INSERT', ''));
    assert.match(JSON.stringify((await service().hover!(attr.doc, attr.pos))?.contents), /'virtio'/);
  });

  it('outlines devices grouped by kind and folds elements', () => {
    const doc = TextDocument.create('file:///tmp/demo.xml', 'libvirt-xml', 1, DOMAIN.replace('INSERT', ''));
    const [root] = service().symbols!(doc);
    assert.equal(root.name, 'domain demo');
    const devices = root.children!.find((c) => c.name === 'devices')!;
    const disks = devices.children!.find((c) => c.name === 'disk (2)')!;
    assert.deepEqual(disks.children!.map((d) => d.detail), ['disk vda /var/lib/libvirt/images/demo.qcow2', 'cdrom sda /var/lib/libvirt/images/install.iso']);
    const folds = service().folding!(doc);
    assert.ok(folds.some((f) => f.startLine === 0), 'the root folds');
    assert.ok(folds.some((f) => f.startLine === 8 && f.endLine === 10), 'the first disk folds to its last child line');
  });

  it('fixes a misspelt value with the closest allowed one, and inserts a missing required child', async () => {
    const svc = service();
    const bad = TextDocument.create('file:///tmp/bad.xml', 'libvirt-xml', 1, DOMAIN.replace("bus='virtio'", "bus='virtoi'").replace('  <name>demo</name>\n', '').replace('INSERT', ''));
    const diags: Diagnostic[] = await svc.validate(bad);
    const busDiag = diags.find((d) => d.code === 'rng-invalid-attribute-value')!;
    assert.ok(busDiag, JSON.stringify(diags));
    const fixes = svc.codeActions!(bad, busDiag.range, [busDiag]);
    assert.equal(fixes[0].title, "Change 'virtoi' to 'virtio'");
    const missing = diags.find((d) => d.code === 'rng-missing-element')!;
    assert.match(String(missing.message), /<domain> needs <name>/);
    assert.equal(missing.range.start.line, 0);
    const insert = svc.codeActions!(bad, missing.range, [missing]).find((a) => a.title === 'Insert <name>')!;
    const fixed = applyEdits(bad, insert.edit!.changes![bad.uri]);
    assert.match(fixed, /<domain type='kvm'>\n  <name><\/name>/);
    // An unknown element: rename to the closest allowed name (both tags), or remove it.
    const typo = TextDocument.create('file:///tmp/typo.xml', 'libvirt-xml', 1, DOMAIN.replace('INSERT', '<memballon model="virtio"></memballon>'));
    const unknown = (await svc.validate(typo)).find((d) => d.code === 'rng-unknown-element')!;
    const actions = svc.codeActions!(typo, unknown.range, [unknown]);
    const rename = actions.find((a) => a.title === "Change 'memballon' to 'memballoon'")!;
    assert.match(applyEdits(typo, rename.edit!.changes![typo.uri]), /<memballoon model="virtio"><\/memballoon>/);
    const removed = applyEdits(typo, actions.find((a) => a.title === 'Remove <memballon>')!.edit!.changes![typo.uri]);
    assert.equal(removed, DOMAIN.replace('    INSERT\n', ''));
  });

  it('reports the schema folder and version in use, in the documented order', async () => {
    service();
    const info = schemaInfo();
    assert.equal(info.dir, SYSTEM_SCHEMA_DIR);
    assert.equal(info.source, 'system');
    assert.match(info.version ?? '', /^\d+\.\d+\.\d+/);
    assert.match(describeSchemaInfo(info), /^libvirt schemas \d+\.\d+\.\d+\S* \(system: \/usr\/share\/libvirt\/schemas\)$/);
    // The setting wins; a folder without schemas falls through to the system copy, and says so.
    const custom = service({ libvirtSchemaDir: '/nonexistent/schemas' }).schemaInfo();
    assert.equal(custom.source, 'system');
    assert.deepEqual(custom.tried, [{ dir: '/nonexistent/schemas', reason: 'does not exist' }]);
    const copy = join(CACHE, 'schema-copy');
    mkdirSync(copy, { recursive: true });
    for (const f of readdirSync(SYSTEM_SCHEMA_DIR)) copyFileSync(join(SYSTEM_SCHEMA_DIR, f), join(copy, f));
    writeFileSync(join(copy, 'VERSION'), 'copy-1.0\n');
    const fromSetting = service({ libvirtSchemaDir: copy });
    assert.deepEqual([fromSetting.schemaInfo().source, fromSetting.schemaInfo().version, fromSetting.schemaInfo().dir], ['setting', 'copy-1.0', copy]);
    const broken = TextDocument.create('file:///tmp/b.xml', 'libvirt-xml', 1, "<domain type='kvm'><name>x</name><bogus/></domain>");
    assert.deepEqual((await fromSetting.validate(broken)).map((d) => d.code), ['rng-unknown-element']);
  });
});
