// LVM in a real VS Code: an lvm.conf completes devices/ settings through the language server and
// flags `use_lvmetad = 1` as removed (with a quick fix). The TextMate grammar is checked by
// test/unit/lvm/grammar.test.ts: code-server has no command that exposes editor tokens.
import * as assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { languageOf, open, waitFor, workspaceFile } from '../support';

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
  });
});
