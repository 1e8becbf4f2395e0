// libvirt XML completion through the real language client: inside `<disk type='` the schema's
// choice of disk types is offered.
import * as assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import * as vscode from 'vscode';
import { languageOf, open, workspaceFile } from '../support';

const TEXT = `<domain type='kvm'>
  <name>complete-me</name>
  <memory unit='MiB'>512</memory>
  <os><type arch='x86_64'>hvm</type></os>
  <devices>
    <disk type=''
  </devices>
</domain>
`;

describe('libvirt completion', () => {
  it("offers file/block/network/... for <disk type='", async () => {
    const uri = workspaceFile('complete-disk.xml');
    writeFileSync(uri.fsPath, TEXT);
    const doc = await open(uri);
    assert.equal(await languageOf(doc.uri, 'libvirt-xml'), 'libvirt-xml');
    const line = 5;
    const position = new vscode.Position(line, doc.lineAt(line).text.indexOf("''") + 1);
    const label = (i: vscode.CompletionItem): string => (typeof i.label === 'string' ? i.label : i.label.label);
    let labels: string[] = [];
    // The language server may still be loading the schemas on the first request.
    for (const deadline = Date.now() + 30_000; Date.now() < deadline;) {
      const list = await vscode.commands.executeCommand<vscode.CompletionList>('vscode.executeCompletionItemProvider', doc.uri, position, "'");
      labels = list.items.map(label);
      if (labels.includes('file')) break;
      await new Promise((r) => setTimeout(r, 500));
    }
    for (const type of ['file', 'block', 'network', 'dir', 'volume']) {
      assert.ok(labels.includes(type), `${type} is offered; got ${labels.slice(0, 20).join(', ')}`);
    }
  });
});
