// LVM in a real VS Code: an lvm.conf is coloured by syntaxes/lvm.tmLanguage.json (read from the
// editor the browser rendered, through the shim's workbench probe), completes devices/ settings
// through the language server (in the suggest widget too) and flags `use_lvmetad = 1` as removed
// (with a quick fix).
import * as assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { languageOf, note, open, renderedEditor, visibleTexts, waitFor, workspaceFile, type RenderedEditor } from '../support';

const TEXT = 'global {\n\tuse_lvmetad = 1\n}\ndevices {\n\tfilter = [ "a|.*|" ]\n\t\n}\n';

async function openLvmConf(name: string): Promise<vscode.TextDocument> {
  const uri = workspaceFile(name, 'lvm.conf');
  mkdirSync(path.dirname(uri.fsPath), { recursive: true });
  writeFileSync(uri.fsPath, TEXT);
  const doc = await open(uri);
  assert.equal(await languageOf(doc.uri, 'lvm-conf'), 'lvm-conf');
  return doc;
}

describe('lvm', () => {
  it('completes devices/ settings with their type, default and version', async () => {
    const doc = await openLvmConf('lvm-complete');
    const label = (i: vscode.CompletionItem): string => (typeof i.label === 'string' ? i.label : i.label.label);
    // The language server may still be starting (or syncing the file) on the first request.
    let list: vscode.CompletionList = { items: [], isIncomplete: false } as unknown as vscode.CompletionList;
    for (const deadline = Date.now() + 30_000; Date.now() < deadline;) {
      list = await vscode.commands.executeCommand<vscode.CompletionList>('vscode.executeCompletionItemProvider', doc.uri, new vscode.Position(5, 1));
      if (list.items.some((i) => label(i) === 'scan_lvs')) break;
      await new Promise((r) => setTimeout(r, 500));
    }
    const scan = list.items.find((i) => label(i) === 'scan_lvs');
    assert.ok(scan, `scan_lvs is offered inside devices { }; got ${list.items.slice(0, 10).map(label).join(', ')}`);
    assert.match(String(scan.detail), /boolean · default 0 · since 2\.02\.182/);
  });

  it('completes a devices/ path key in the suggest widget as it is typed, and inserts it', async () => {
    const uri = workspaceFile('lvm-path', 'lvm.conf');
    mkdirSync(path.dirname(uri.fsPath), { recursive: true });
    writeFileSync(uri.fsPath, 'global {\n\tumask = 077\n}\ndevices/scan_l\n');
    const doc = await open(uri);
    assert.equal(await languageOf(doc.uri, 'lvm-conf'), 'lvm-conf');
    const editor = vscode.window.activeTextEditor;
    assert.ok(editor && editor.document === doc, 'lvm-path/lvm.conf is the active editor');
    const end = new vscode.Position(3, 'devices/scan_l'.length);
    editor.selection = new vscode.Selection(end, end);
    // What the user sees: the suggest widget's rows, read from the workbench. The language server
    // may still be starting, so ask again until it answers.
    const rows = await waitFor('the suggest widget to offer scan_lvs', async () => {
      await vscode.commands.executeCommand('editor.action.triggerSuggest');
      await new Promise((r) => setTimeout(r, 700));
      const texts = await visibleTexts('.editor-widget.suggest-widget .monaco-list-row');
      return texts.some((t) => t.startsWith('scan_lvs')) ? texts : undefined;
    }, 30_000);
    assert.equal(rows.length, 1, `only scan_lvs matches devices/scan_l: ${rows.join(' | ')}`);
    await vscode.commands.executeCommand('acceptSelectedSuggestion');
    // Only the part after the '/' was replaced; the snippet adds the default.
    await waitFor('the accepted completion in the text', () => doc.lineAt(3).text === 'devices/scan_lvs = 0', 5_000)
      .catch(() => assert.fail(`line 4 is ${JSON.stringify(doc.lineAt(3).text)}`));
    await vscode.commands.executeCommand('workbench.action.files.revert');
  });

  it('flags use_lvmetad = 1 as removed, with the version', async () => {
    const doc = await openLvmConf('lvm-diag');
    const diags = await waitFor('a diagnostic on use_lvmetad', () => {
      const found = vscode.languages.getDiagnostics(doc.uri).filter((d) => String(typeof d.code === 'object' ? d.code.value : d.code) === 'lvm.setting.removed');
      return found.length ? found : undefined;
    }, 30_000);
    assert.equal(diags[0].severity, vscode.DiagnosticSeverity.Warning);
    assert.equal(diags[0].range.start.line, 1);
    assert.match(diags[0].message, /no longer used since lvm2 2\.03\.00/);
    const actions = await vscode.commands.executeCommand<vscode.CodeAction[]>('vscode.executeCodeActionProvider', doc.uri, diags[0].range);
    assert.ok(actions.some((a) => a.title === "Remove 'use_lvmetad'"), actions.map((a) => a.title).join(', '));
    // And the editor shows it: the workbench draws a warning squiggle in this file's editor.
    await waitFor('a warning squiggle in the lvm-diag/lvm.conf editor', async () =>
      (await visibleTexts('[data-uri$="/lvm-diag/lvm.conf"] .squiggly-warning')).length > 0);
  });
});

// ---- colouring ---------------------------------------------------------------------------------

const COLOURED = [
  '# disks the colour test looks at',
  'devices {',
  '\tdir = "/dev"',
  '\tscan_lvs = 1',
  '\tfilter = [ "a|^/dev/sd.*|", \'r|.*|\' ]',
  '}',
  'global {',
  '\tumask = 077',
  '\tunits = "h"   # human',
  '}',
].join('\n') + '\n';

/** Where each kind of token is in COLOURED: [line, text] pairs. */
const SAMPLES: Record<string, [number, string][]> = {
  comment: [[0, '# disks the colour test looks at'], [8, '# human']],
  section: [[1, 'devices'], [6, 'global']],
  key: [[2, 'dir'], [3, 'scan_lvs'], [4, 'filter'], [7, 'umask'], [8, 'units']],
  string: [[2, '"/dev"'], [4, '"a|^/dev/sd.*|"'], [4, "'r|.*|'"], [8, '"h"']],
  number: [[3, '1'], [7, '077']],
};

/**
 * The one colour the browser painted `text` (on `line`) in; fails when the text is not rendered
 * there or its characters are painted in more than one colour.
 */
function colourOf(shown: RenderedEditor, line: number, text: string): string {
  const rendered = shown.lines[line];
  assert.ok(rendered, `line ${line + 1} is rendered`);
  const start = rendered.text.indexOf(text);
  assert.ok(start >= 0, `line ${line + 1} shows ${JSON.stringify(text)}: ${JSON.stringify(rendered.text)}`);
  const colours = new Set<string>();
  let at = 0;
  for (const t of rendered.tokens) {
    const end = at + t.text.length;
    if (end > start && at < start + text.length) colours.add(t.color);
    at = end;
  }
  assert.equal(colours.size, 1, `${JSON.stringify(text)} on line ${line + 1} is painted in one colour: ${[...colours].join(', ')}`);
  return [...colours][0];
}

/** Rendered and document text agree up to whitespace (tabs are drawn as spaces). */
function same(rendered: string, text: string): boolean {
  return rendered.replace(/\s+/g, ' ').trim() === text.replace(/\s+/g, ' ').trim();
}

function dump(shown: RenderedEditor): string {
  return shown.lines.map((l, i) => `${i + 1}: ${l.tokens.map((t) => `[${t.text}|${t.className}|${t.color}]`).join('')}`).join('\n');
}

/**
 * Opens `uri` and waits until the browser shows all of its first `lines` lines and tokenization
 * has painted `line`'s `text` in a colour other than the editor's foreground (TextMate
 * tokenization runs in a worker, after the first paint). Returns the rendered editor; on timeout,
 * fails showing what was rendered.
 */
/**
 * The rendering once it holds still: read again until two reads 400 ms apart agree (classes and
 * colours). After a theme change the workbench swaps the token colour CSS and re-renders the
 * lines separately; a read in between pairs old mtkN classes with new colours.
 */
async function settled(uri: vscode.Uri, first: RenderedEditor): Promise<RenderedEditor> {
  let last = first;
  for (const deadline = Date.now() + 10_000; Date.now() < deadline;) {
    await new Promise((r) => setTimeout(r, 400));
    const now = await renderedEditor(uri);
    if (dump(now) === dump(last) && now.foreground === last.foreground) return now;
    last = now;
  }
  assert.fail(`the rendering of ${path.basename(uri.fsPath)} did not settle within 10 s:\n${dump(last)}`);
}

async function openColoured(uri: vscode.Uri, lines: number, line: number, text: string): Promise<RenderedEditor> {
  const doc = await open(uri);
  assert.equal(await languageOf(doc.uri, 'lvm-conf'), 'lvm-conf');
  let shown: RenderedEditor | undefined;
  const deadline = Date.now() + 20_000;
  for (;;) {
    shown = await renderedEditor(uri);
    const complete = shown.lines.length >= lines && shown.lines.slice(0, lines).every((l, i) => same(l.text, doc.lineAt(i).text));
    if (complete && shown.lines[line].text.includes(text) && colourOf(shown, line, text) !== shown.foreground) return settled(uri, shown);
    if (Date.now() > deadline) assert.fail(`${path.basename(uri.fsPath)} was not coloured within 20 s (foreground ${shown.foreground}):\n${dump(shown)}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** A computed `rgb(r, g, b)` colour in CIE L*a*b* (D65), where distances match what the eye sees. */
function lab(colour: string): number[] {
  const m = /^rgba?\((\d+), (\d+), (\d+)/.exec(colour);
  assert.ok(m, `a computed colour: ${colour}`);
  const [r, g, b] = [m[1], m[2], m[3]].map((v) => {
    const c = Number(v) / 255;
    return c > 0.04045 ? ((c + 0.055) / 1.055) ** 2.4 : c / 12.92;
  });
  const f = (t: number): number => (t > 0.008856 ? Math.cbrt(t) : 7.787 * t + 16 / 116);
  const x = f((0.4124 * r + 0.3576 * g + 0.1805 * b) / 0.95047);
  const y = f(0.2126 * r + 0.7152 * g + 0.0722 * b);
  const z = f((0.0193 * r + 0.1192 * g + 0.9505 * b) / 1.08883);
  return [116 * y - 16, 500 * (x - y), 200 * (y - z)];
}

/**
 * Two colours a reader tells apart: CIE76 ΔE of at least 12 (2.3 is just noticeable). A key
 * painted #1f2328 on a #202020 foreground (ΔE 4) is "coloured" for the DOM, not for the eye;
 * the default themes' comments are 17 or more from their foreground.
 */
function apart(a: string, b: string): boolean {
  const [x, y] = [lab(a), lab(b)];
  return Math.hypot(x[0] - y[0], x[1] - y[1], x[2] - y[2]) >= 12;
}

/**
 * Reads the colour of every sample kind in the rendered lvm.conf; asserts each kind is painted
 * in one colour, apart from the foreground and from every other kind. Returns the palette.
 */
function paletteOf(shown: RenderedEditor): Record<string, string> {
  const palette: Record<string, string> = {};
  for (const [kind, samples] of Object.entries(SAMPLES)) {
    const colours = samples.map(([line, text]) => colourOf(shown, line, text));
    assert.equal(new Set(colours).size, 1, `every ${kind} has the same colour: ${samples.map(([, t], i) => `${t} ${colours[i]}`).join('; ')}\n${dump(shown)}`);
    assert.ok(apart(colours[0], shown.foreground), `${kind}s are coloured: ${colours[0]} is not the editor's foreground ${shown.foreground}\n${dump(shown)}`);
    palette[kind] = colours[0];
  }
  const kinds = Object.keys(palette);
  for (const a of kinds) {
    for (const b of kinds) {
      if (a < b) assert.ok(apart(palette[a], palette[b]), `${a}s and ${b}s differ in colour: ${JSON.stringify(palette)}\n${dump(shown)}`);
    }
  }
  return palette;
}

describe('lvm colouring (rendered by the workbench)', () => {
  let palette: Record<string, string> = {};
  const colourConf = (): vscode.Uri => workspaceFile('lvm-colour', 'lvm.conf');

  it('paints comments, section names, keys, strings and numbers of an lvm.conf in distinct theme colours', async () => {
    const uri = colourConf();
    mkdirSync(path.dirname(uri.fsPath), { recursive: true });
    writeFileSync(uri.fsPath, COLOURED);
    const shown = await openColoured(uri, COLOURED.split('\n').length - 1, 0, '#');
    palette = paletteOf(shown);
    note(`      ${vscode.workspace.getConfiguration('workbench').get('colorTheme')} (${shown.theme}), foreground ${shown.foreground}: ${JSON.stringify(palette)}`);
  });

  it('paints the same text as plain text in one colour (the probe sees an uncoloured file)', async () => {
    // The control: without the lvm-conf language nothing colours the text, and the probe says so.
    const uri = workspaceFile('lvm-colour', 'not-lvm.txt');
    writeFileSync(uri.fsPath, COLOURED);
    const doc = await open(uri);
    assert.equal(doc.languageId, 'plaintext');
    // Give tokenization at least the time it took for lvm.conf, in case something did colour it.
    await new Promise((r) => setTimeout(r, 1500));
    const shown = await renderedEditor(uri);
    assert.equal(shown.lines.length >= 10 && same(shown.lines[4].text, doc.lineAt(4).text), true, dump(shown));
    const colours = new Set(shown.lines.flatMap((l) => l.tokens.map((t) => t.color)));
    assert.deepEqual([...colours], [shown.foreground], dump(shown));
  });

  const files: [string, string[], string | undefined, Record<string, string>][] = [
    ['lvmlocal.conf', ['lvm-colour', 'lvmlocal.conf'], '# this host\nlocal {\n\thost_id = 7\n}\n',
      { comment: '# this host', section: 'local', key: 'host_id', number: '7' }],
    ['a profile (*.profile)', ['lvm-colour', 'profile', 'thin-generic.profile'],
      'activation {\n\tthin_pool_autoextend_threshold = 70\n}\nallocation {\n\tthin_pool_discards = "passdown"\n}\n# generic\n',
      { section: 'activation', key: 'thin_pool_autoextend_threshold', number: '70', string: '"passdown"', comment: '# generic' }],
    // A real vgcfgbackup file (test/vscode/fixtures/lvm/backup/vg_sample), matched by its folder.
    ['a metadata backup (lvm/backup/VG)', ['lvm', 'backup', 'vg_sample'], undefined,
      { comment: '# Generated', key: 'contents', string: '"Text Format Volume Group"', section: 'vg_sample', number: '8192' }],
  ];
  for (const [what, parts, text, samples] of files) {
    it(`colours ${what} with the same grammar and colours`, async () => {
      assert.ok(palette.key, 'the lvm.conf colouring test above passed (it measures the palette)');
      const uri = workspaceFile(...parts);
      if (text !== undefined) {
        mkdirSync(path.dirname(uri.fsPath), { recursive: true });
        writeFileSync(uri.fsPath, text);
      }
      const lines = readFileSync(uri.fsPath, 'utf8').split('\n');
      // A sample's line: the first that starts with it (a section or key), else the first with it.
      const lineOf = (sample: string): number => {
        const start = lines.findIndex((l) => l.trimStart().startsWith(sample));
        return start >= 0 ? start : lines.findIndex((l) => l.includes(sample));
      };
      const first = Object.values(samples)[0];
      const shown = await openColoured(uri, Math.min(lines.length - 1, 20), lineOf(first), first);
      for (const [kind, sample] of Object.entries(samples)) {
        const at = lineOf(sample);
        assert.equal(colourOf(shown, at, sample), palette[kind], `${JSON.stringify(sample)} has the ${kind} colour\n${dump(shown)}`);
      }
    });
  }

  // VS Code's own default themes, light and dark: the scopes the grammar uses must be ones they
  // colour. (The run starts in the default for a light desktop, 'Light 2026'.)
  describe('in the other default themes', () => {
    const settings = vscode.workspace.getConfiguration('workbench');
    after(async () => { await settings.update('colorTheme', undefined, vscode.ConfigurationTarget.Global); });
    let previous = '';
    for (const theme of ['Dark 2026', 'Dark Modern', 'Light Modern']) {
      it(`paints them apart in ${theme}`, async () => {
        assert.ok(palette.key, 'the lvm.conf colouring test above passed');
        const uri = colourConf();
        await open(uri);
        previous ||= (await renderedEditor(uri)).foreground;
        await settings.update('colorTheme', theme, vscode.ConfigurationTarget.Global);
        // Wait for the theme to reach the editor: every one of these has its own foreground.
        const shown = await settled(uri, await waitFor(`the editor to show ${theme}`, async () => {
          const now = await renderedEditor(uri);
          return now.foreground !== previous ? now : undefined;
        }));
        previous = shown.foreground;
        note(`      ${theme} (${shown.theme}), foreground ${shown.foreground}: ${JSON.stringify(paletteOf(shown))}`);
      });
    }
  });
});
