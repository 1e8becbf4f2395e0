// The packaged extension activates in a real VS Code when a libvirt domain XML is opened, and
// its language server runs. This suite runs first (mocha loads files in name order), so the
// extension is still inactive when it starts.
import * as assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { extension, languageOf, open, waitFor, workspaceFile } from '../support';

/** What activate() returns (client/src/ctx.ts): only what these tests look at. */
interface ActivatedApi {
  client?: { isRunning(): boolean; initializeResult?: { capabilities: Record<string, unknown> } };
}

describe('activation', () => {
  it('activates on opening examples/domain.xml, which gets the libvirt-xml language', async () => {
    const ext = extension();
    assert.equal(ext.isActive, false, 'nothing activated the extension before a domain XML was opened');
    const doc = await open(workspaceFile('domain.xml'));
    await waitFor('the extension to activate', () => ext.isActive, 30_000);
    assert.equal(await languageOf(doc.uri, 'libvirt-xml'), 'libvirt-xml');
  });

  it('is the copy the run meant to test (the installed .vsix, or the working tree with --dev)', () => {
    const ext = extension();
    assert.equal(ext.packageJSON.version, process.env.VIRT_STUDIO_TEST_EXTENSION_VERSION);
    const where = ext.extensionUri.fsPath;
    if (process.env.VIRT_STUDIO_TEST_MODE === 'installed') {
      const extensionsDir = process.env.VIRT_STUDIO_TEST_EXTENSIONS_DIR;
      assert.ok(extensionsDir && where.startsWith(extensionsDir + path.sep), `${where} is inside the extensions folder ${extensionsDir}`);
      // What the package must carry for the extension to work on a machine without libvirt.
      for (const f of ['dist/extension.js', 'dist/server.js', 'dist/debugAdapter.js', 'schemas/libvirt/domain.rng', 'schemas/libvirt/domaincommon.rng']) {
        assert.ok(existsSync(path.join(where, f)), `the .vsix contains ${f}`);
      }
      assert.ok(!existsSync(path.join(where, 'client', 'src')), 'the .vsix carries no TypeScript sources');
    } else {
      assert.equal(where, process.env.VIRT_STUDIO_TEST_REPO);
    }
  });

  it('runs the language server, which answered initialize', async () => {
    const api = extension().exports as ActivatedApi | undefined;
    const client = api?.client;
    assert.ok(client, 'activate() returns the language client');
    await waitFor('the language client to be running', () => client.isRunning(), 30_000);
    const caps = client.initializeResult?.capabilities;
    assert.ok(caps, 'the server sent its capabilities');
    assert.ok(caps.hoverProvider, 'the server offers hover');
    assert.ok(caps.completionProvider, 'the server offers completion');
  });
});

describe('language ids', () => {
  const cases: Array<[string[], string]> = [
    [['lvm.conf'], 'lvm-conf'],
    [['lvm', 'backup', 'vg_sample'], 'lvm-conf'], // a real vgcfgbackup file, matched by its folder
    [['network-default.xml'], 'libvirt-xml'], // matched by the root element on the first line
    [['boot-stop.xml'], 'libvirt-xml'],
  ];
  for (const [parts, id] of cases) {
    it(`${parts.join('/')} → ${id}`, async () => {
      const doc = await open(workspaceFile(...parts));
      assert.equal(await languageOf(doc.uri, id), id);
    });
  }

  it('plain.xml (another XML vocabulary) stays xml', async () => {
    const plain = await open(workspaceFile('plain.xml'));
    // Documents are looked at in the order they open: once a libvirt file opened after it has
    // moved, plain.xml has been looked at and must still be xml.
    const network = await open(workspaceFile('network-default.xml'));
    await vscode.commands.executeCommand('workbench.action.closeActiveEditor');
    await vscode.window.showTextDocument(network);
    assert.equal(await languageOf(network.uri, 'libvirt-xml'), 'libvirt-xml');
    assert.equal(plain.languageId, 'xml');
  });
});

after(async () => {
  await vscode.commands.executeCommand('workbench.action.closeAllEditors');
});
