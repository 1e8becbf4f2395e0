// The Disk Images view in real VS Code: the sample qcow2 in the workspace is found by content and
// expands to GPT partitions and an LVM logical volume with ext4, whose files open read-only.
import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { DiskImageExplorer, ExplorerNode } from '../../../client/src/images/explorer';
import { extension } from '../support';

describe('disk images', () => {
  let explorer: DiskImageExplorer;

  before(async () => {
    const api = (await extension().activate()) as { images?: { explorer: DiskImageExplorer } };
    assert.ok(api.images, 'the extension exposes its image explorer');
    explorer = api.images.explorer;
  });

  it('shows sample.qcow2 → GPT → LVM → ext4 and opens a file from it', async () => {
    const roots = await explorer.getChildren();
    const image = roots.find((n) => n.kind === 'image' && path.basename(n.image) === 'sample.qcow2');
    assert.ok(image, `sample.qcow2 is listed (got ${roots.map((n) => (n.kind === 'image' ? path.basename(n.image) : n.kind)).join(', ')})`);
    assert.equal(explorer.getTreeItem(image).label, 'sample.qcow2');

    const volumes = await explorer.getChildren(image);
    const byName = new Map(volumes.flatMap((v) => (v.kind === 'volume' ? [[v.volume, v] as const] : [])));
    assert.equal(byName.get('disk')?.detail, 'gpt', 'the disk carries a GPT');
    assert.equal(byName.get('p1')?.fs, 'ext4');
    assert.equal(byName.get('p2')?.fs, 'LVM2_member');
    const lv = byName.get('vg_sample/root');
    assert.ok(lv, `the logical volume is listed (got ${[...byName.keys()].join(', ')})`);
    assert.equal(lv.fs, 'ext4');

    const top = await explorer.getChildren(lv);
    const names = top.flatMap((n: ExplorerNode) => (n.kind === 'entry' ? [n.entry.name] : []));
    for (const dir of ['etc', 'home']) assert.ok(names.includes(dir), `/${dir} is in the LV's root (got ${names.join(', ')})`);

    const home = top.find((n) => n.kind === 'entry' && n.entry.name === 'home')!;
    const alice = (await explorer.getChildren(home)).find((n) => n.kind === 'entry' && n.entry.name === 'alice')!;
    const readme = (await explorer.getChildren(alice)).find((n) => n.kind === 'entry' && n.entry.name === 'README.txt');
    assert.ok(readme, '/home/alice/README.txt is listed');
    const item = explorer.getTreeItem(readme);
    assert.equal(item.command?.command, 'vscode.open');
    const uri = item.command!.arguments![0] as vscode.Uri;
    assert.equal(uri.scheme, 'virt-image');

    const doc = await vscode.workspace.openTextDocument(uri);
    assert.match(doc.getText(), /^Hello from the sample image\./);
    await vscode.window.showTextDocument(doc);
    await assert.rejects(Promise.resolve(vscode.workspace.fs.writeFile(uri, new TextEncoder().encode('x'))), 'files inside images are read-only');
  });
});
