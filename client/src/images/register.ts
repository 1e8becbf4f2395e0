// Wires the disk-image explorer into VS Code: the view, the read-only file system, commands.
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { readConfig } from '../config';
import type { Ctx } from '../ctx';
import { DiskImageExplorer, type ExplorerNode } from './explorer';
import { ImageFileSystemProvider } from './fsProvider';
import { ImageLibrary } from './imageLibrary';
import { IMAGE_SCHEME } from './imageUri';
import { showImageInfo } from './infoPanel';

/** Returns the explorer's model so the extension's API (and its tests) can reach it. */
export function registerImageExplorer(ctx: Ctx): { explorer: DiskImageExplorer; library: ImageLibrary } {
  const library = new ImageLibrary({
    // Untrusted workspace: backing files only from inside the workspace folders.
    confineBackingTo: () => (vscode.workspace.isTrusted ? [] : (vscode.workspace.workspaceFolders ?? []).map((f) => f.uri.fsPath)),
  });
  const explorer = new DiskImageExplorer(library, () => readConfig().scanWorkspace);
  const fail = (err: unknown) => void vscode.window.showErrorMessage(`Virt Studio: ${(err as Error).message}`);

  ctx.extension.subscriptions.push(
    { dispose: () => void library.dispose() },
    vscode.window.createTreeView('virtStudio.diskImages', { treeDataProvider: explorer, showCollapseAll: true }),
    vscode.workspace.registerFileSystemProvider(IMAGE_SCHEME, new ImageFileSystemProvider(library), { isReadonly: true, isCaseSensitive: true }),
    vscode.workspace.onDidGrantWorkspaceTrust(() => void explorer.refresh()),
    vscode.commands.registerCommand('virtStudio.refreshDiskImages', () => explorer.refresh()),
    vscode.commands.registerCommand('virtStudio.openDiskImage', async (uri?: vscode.Uri) => {
      const target = uri ?? (await vscode.window.showOpenDialog({ canSelectMany: false, openLabel: 'Open Disk Image', title: 'Open a disk image (read-only)' }))?.[0];
      if (!target) return;
      explorer.add(target.fsPath, 'opened');
      await vscode.commands.executeCommand('virtStudio.diskImages.focus');
    }),
    vscode.commands.registerCommand('virtStudio.showImageInfo', async (node?: ExplorerNode | vscode.Uri) => {
      const image = node instanceof vscode.Uri ? node.fsPath : node && 'image' in node ? node.image : undefined;
      if (!image) return;
      await showImageInfo(library, image).catch(fail);
    }),
    vscode.commands.registerCommand('virtStudio.saveImageFileAs', async (node?: ExplorerNode) => {
      if (!node || node.kind !== 'entry' || node.entry.type !== 'file') return;
      const target = await vscode.window.showSaveDialog({ defaultUri: vscode.Uri.file(path.join(vscode.workspace.workspaceFolders?.[0]?.uri.fsPath ?? '', path.basename(node.path))), title: `Save ${node.path} from ${node.volume}` });
      if (!target) return;
      await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `Saving ${path.basename(node.path)}`, cancellable: true }, async (progress, token) => {
        const fs = await (await library.open(node.image)).fileSystem(node.volume);
        const out = createWriteStream(target.fsPath);
        let done = 0;
        try {
          for await (const chunk of fs.stream(node.path)) {
            if (token.isCancellationRequested) throw new vscode.CancellationError();
            if (!out.write(chunk)) await once(out, 'drain');
            done += chunk.length;
            progress.report({ increment: (chunk.length / Math.max(1, node.entry.size)) * 100, message: `${(done / (1 << 20)).toFixed(1)} MiB` });
          }
          out.end();
          await once(out, 'finish');
        } catch (err) {
          out.destroy();
          throw err;
        }
      }).then(undefined, (err) => { if (!(err instanceof vscode.CancellationError)) fail(err); });
    }),
  );
  return { explorer, library };
}
