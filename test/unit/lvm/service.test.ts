// The LanguageService for lvm-conf and lvm-metadata documents: diagnostics, completion, hover,
// outline, folding and quick fixes, with the settings of a chosen or the installed lvm2.
import assert from 'node:assert/strict';
import { TextDocument } from 'vscode-languageserver-textdocument';
import type { CompletionItem, Diagnostic } from 'vscode-languageserver-types';
import { createLvmService } from '../../../server/src/lvm/index';
import { parseLvmconfigComments } from '../../../server/src/lvm/system';
import { describe as describeSetting } from '../../../server/src/lvm/describe';
import { OWN_DESCRIPTIONS } from '../../../server/src/lvm/ownDescriptions';
import { settingsModel } from '../../../server/src/lvm/settings';
import { DEFAULT_SETTINGS, type LanguageService } from '../../../server/src/service';
import { runTool } from './lvmTools';

function doc(text: string, uri = 'file:///etc/lvm/lvm.conf'): TextDocument {
  return TextDocument.create(uri, 'lvm-conf', 1, text);
}

/** Text with a | marking the cursor. */
function at(textWithCursor: string, uri?: string): { d: TextDocument; pos: { line: number; character: number } } {
  const i = textWithCursor.indexOf('|');
  const d = doc(textWithCursor.slice(0, i) + textWithCursor.slice(i + 1), uri);
  return { d, pos: d.positionAt(i) };
}

function codes(diags: Diagnostic[]): string[] {
  return diags.map((x) => String(x.code));
}

describe('lvm language service', function () {
  this.timeout(60_000);
  const v16 = createLvmService({ ...DEFAULT_SETTINGS, lvmVersion: '2.03.16' });
  const v40 = createLvmService({ ...DEFAULT_SETTINGS, lvmVersion: '2.03.40' });
  const auto = createLvmService({ ...DEFAULT_SETTINGS, lvmVersion: 'auto' });

  it('flags use_lvmetad and locking_type as no longer used, with the version, and offers to remove them', async () => {
    const d = doc('global {\n\tuse_lvmetad = 1\n\tlocking_type = 1\n\tumask = 077\n}\n');
    const diags = await v16.validate(d);
    assert.deepEqual(codes(diags), ['lvm.setting.removed', 'lvm.setting.removed']);
    assert.match(String(diags[0].message), /use_lvmetad.*2\.03\.00/);
    assert.equal(diags[0].range.start.line, 1);
    const actions = v16.codeActions!(d, diags[0].range, [diags[0]]);
    assert.equal(actions.length, 1);
    const edit = actions[0].edit!.changes![d.uri][0];
    assert.deepEqual(edit.range, { start: { line: 1, character: 0 }, end: { line: 2, character: 0 } });
    assert.equal(TextDocument.applyEdits(d, [edit]), 'global {\n\tlocking_type = 1\n\tumask = 077\n}\n');
  });

  it('suggests the near-miss name for an unknown setting and renames it', async () => {
    const d = doc('devices {\n\tscan_lv = 1\n}\n');
    const diags = await v16.validate(d);
    assert.deepEqual(codes(diags), ['lvm.setting.unknown']);
    assert.match(String(diags[0].message), /did you mean 'scan_lvs'/);
    const [action] = v16.codeActions!(d, diags[0].range, diags);
    assert.equal(TextDocument.applyEdits(d, action.edit!.changes![d.uri]), 'devices {\n\tscan_lvs = 1\n}\n');
  });

  it('reports settings newer than the target version as errors naming the release', async () => {
    const d = doc('devices {\n\tdevice_ids_refresh = 1\n}\n');
    const old = await v16.validate(d);
    assert.deepEqual(codes(old), ['lvm.setting.too-new']);
    assert.match(String(old[0].message), /added in lvm2 2\.03\.23/);
    assert.deepEqual(await v40.validate(d), []);
  });

  it("uses the installed lvm2's version for 'auto'", async () => {
    const r = await runTool('lvm', ['version']);
    const installed = /LVM version:\s*(\d+\.\d+\.\d+)/.exec(r.stdout)![1];
    const d = doc('devices {\n\tdevice_ids_refresh = 1\n}\n');
    const diags = await auto.validate(d);
    const expectTooNew = installed < '2.03.23';
    assert.deepEqual(codes(diags), expectTooNew ? ['lvm.setting.too-new'] : []);
  });

  it('reports types the way lvmconfig does, on the value', async () => {
    const d = doc('devices {\n\tscan_lvs = "maybe"\n\tpv_min_size = 1.5\n}\nactivation { readahead = "256" }\n');
    const diags = await v16.validate(d);
    assert.deepEqual(codes(diags), ['lvm.type.bool', 'lvm.type.mismatch', 'lvm.value.rejected']);
    assert.equal(d.getText(diags[0].range), '"maybe"');
    assert.equal(d.getText(diags[1].range), '1.5');
  });

  it('checks profiles: command vs metadata settings', async () => {
    const cmd = doc('global { units = "h" }\nallocation { thin_pool_zero = 1 }\ndevices { scan_lvs = 1 }\n', 'file:///etc/lvm/profile/command_x.profile');
    assert.deepEqual(codes(await v16.validate(cmd)), ['lvm.profile.metadata-only', 'lvm.profile.not-profilable']);
    const meta = doc('allocation { thin_pool_zero = 1 thin_pool_discards = "passdown" }\nreport { headings = 1 }\n', 'file:///etc/lvm/profile/thin-performance.profile');
    assert.deepEqual(codes(await v16.validate(meta)), ['lvm.profile.command-only']);
  });

  it('validates metadata backups by content and location', async () => {
    const d = doc('contents = "Text Format Volume Group"\nversion = 1\nvg { id = "x" }\n', 'file:///etc/lvm/backup/vg');
    const diags = await v16.validate(d);
    assert.ok(codes(diags).includes('lvm.meta.id'));
    assert.ok(codes(diags).includes('lvm.meta.missing'));
  });

  async function labels(svc: LanguageService, text: string): Promise<CompletionItem[]> {
    const { d, pos } = at(text);
    return (await svc.complete!(d, pos)) as CompletionItem[];
  }

  it('completes devices/ settings with type, default and version', async () => {
    const inside = await labels(v16, 'devices {\n\t|\n}\n');
    const scan = inside.find((i) => i.label === 'scan_lvs');
    assert.ok(scan, 'scan_lvs offered');
    assert.match(scan.detail!, /boolean · default 0 · since 2\.02\.182/);
    assert.ok(inside.find((i) => i.label === 'filter'));
    const pathKey = await labels(v16, 'devices/sc|');
    const scanLvs = pathKey.find((i) => i.label === 'scan_lvs');
    assert.ok(scanLvs);
    assert.deepEqual((scanLvs.textEdit as { range: unknown }).range, { start: { line: 0, character: 8 }, end: { line: 0, character: 10 } });
    assert.equal((scanLvs.textEdit as { newText: string }).newText, 'scan_lvs = ${1:0}');
    assert.ok(!pathKey.some((i) => i.label === 'umask'));
    const top = await labels(v16, '|');
    assert.ok(top.some((i) => i.label === 'devices' && (i.textEdit as { newText: string }).newText.includes('{')));
    const removed = inside.find((i) => i.label === 'write_cache_state');
    assert.deepEqual(removed?.tags, [1]);
    assert.ok(!inside.some((i) => i.label === 'device_ids_refresh'), 'no settings from newer releases');
    assert.ok((await labels(v40, 'devices {\n\t|\n}\n')).some((i) => i.label === 'device_ids_refresh'));
  });

  it('offers only profilable sections and settings in a profile', async () => {
    const { d, pos } = at('|', 'file:///etc/lvm/profile/x.profile');
    const top = ((await v16.complete!(d, pos)) as CompletionItem[]).map((i) => i.label);
    assert.ok(top.includes('allocation') && top.includes('global'), top.join());
    assert.ok(!top.includes('devices') && !top.includes('backup'), top.join());
  });

  it('completes values: booleans and enumerations', async () => {
    assert.deepEqual((await labels(v16, 'devices { scan_lvs = |')).map((i) => i.label).sort(), ['0', '1']);
    const policy = (await labels(v16, 'activation {\n\traid_fault_policy = |\n}')).map((i) => i.label);
    assert.ok(policy.includes('"warn"') && policy.includes('"allocate"'), policy.join());
  });

  it('hovers with the description, type, default and version (description from the installed lvmconfig)', async () => {
    const out = await runTool('lvmconfig', ['--type', 'default', '--withcomments', '--withversions'], { LVM_SYSTEM_DIR: '/nonexistent-virt-studio' });
    const lvmText = parseLvmconfigComments(out.stdout).get('devices/scan_lvs');
    assert.ok(lvmText, 'lvmconfig describes devices/scan_lvs');
    const { d, pos } = at('devices {\n\tscan_l|vs = 1\n}\n');
    const h = await v16.hover!(d, pos);
    const md = (h!.contents as { value: string }).value;
    assert.match(md, /\*\*devices\/scan_lvs\*\* — boolean/);
    assert.ok(md.includes(lvmText.split('\n')[0]), md);
    assert.match(md, /Default: `0`/);
    assert.match(md, /Since lvm2 2\.02\.182/);
    const removed = await v16.hover!(...Object.values(at('global { use_lvm|etad = 0 }')) as [TextDocument, { line: number; character: number }]);
    assert.match((removed!.contents as { value: string }).value, /No longer used since 2\.03\.00/);
    const path = await v16.hover!(...Object.values(at('dev|ices/scan_lvs = 1')) as [TextDocument, { line: number; character: number }]);
    assert.match((path!.contents as { value: string }).value, /\*\*devices\*\* — section/);
  });

  it('explains metadata numbers on hover (sectors and extents in bytes)', async () => {
    const text = 'contents = "Text Format Volume Group"\nvg {\n\textent_size = 8192\n\tphysical_volumes { pv0 { pe_count = 15 } }\n}\n';
    const { d, pos } = at(text.replace('pe_count', 'pe_c|ount'), 'file:///etc/lvm/backup/vg');
    const h = await v16.hover!(d, pos);
    assert.match((h!.contents as { value: string }).value, /15 extents = 60 MiB/);
    const e = await v16.hover!(...Object.values(at(text.replace('extent_size', 'extent_|size'), 'file:///etc/lvm/backup/vg')) as [TextDocument, { line: number; character: number }]);
    assert.match((e!.contents as { value: string }).value, /8192 sectors of 512 bytes = 4 MiB/);
  });

  it('describes settings in its own words when lvm2 cannot', () => {
    const model = settingsModel('2.03.16');
    const md = describeSetting(model.get('devices/filter')!, model, undefined);
    assert.ok(md.includes(OWN_DESCRIPTIONS['devices/filter']));
    assert.match(md, /Default: `\["a\|\.\*\|"\]`/);
  });

  it('outlines sections and settings, and folds multi-line sections and arrays', () => {
    const d = doc('devices {\n\tfilter = [\n\t\t"a|.*|"\n\t]\n\tscan_lvs = 1\n}\nglobal { umask = 077 }\n');
    const symbols = v16.symbols!(d);
    assert.deepEqual(symbols.map((s) => s.name), ['devices', 'global']);
    assert.deepEqual(symbols[0].children!.map((s) => `${s.name}=${s.detail}`), ['filter=["a|.*|"]', 'scan_lvs=1']);
    assert.deepEqual(v16.folding!(d), [{ startLine: 0, endLine: 4 }, { startLine: 1, endLine: 2 }]);
  });
});
