// The Disk Images view: images in the workspace (found by content), images the open domain XMLs
// use as disks, and images the user opened; each expands to its info, volumes, directories and
// files. Everything is read-only; slow steps show progress and failures show on their node.
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { ListedEntry } from '../../../emulator/src/fs/volumeFs';
import { looksLikeDiskImage } from './detectImage';
import type { ImageLibrary } from './imageLibrary';
import { formatImageUri } from './imageUri';

export type ImageOrigin = 'workspace' | 'domain' | 'opened';

export type ExplorerNode =
  | { kind: 'image'; image: string; origins: Set<ImageOrigin> }
  | { kind: 'volume'; image: string; volume: string; size: number; fs: string | null; detail?: string; error?: string }
  | { kind: 'entry'; image: string; volume: string; path: string; entry: ListedEntry }
  | { kind: 'message'; text: string; error: boolean };

function formatSize(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = bytes, u = 0;
  while (v >= 1024 && u < units.length - 1) { v /= 1024; u++; }
  return `${u === 0 ? v : v.toFixed(v < 10 ? 1 : 0)} ${units[u]}`;
}

/** `<disk ...><source file='...'/>` paths in a domain XML, resolved against the XML's folder. */
export function diskSourcesOf(xml: string, xmlPath: string): string[] {
  const out: string[] = [];
  for (const disk of xml.matchAll(/<disk\b[\s\S]*?<\/disk>/g)) {
    const m = /<source\b[^>]*\bfile\s*=\s*(['"])(.*?)\1/.exec(disk[0]);
    if (m) out.push(path.resolve(path.dirname(xmlPath), m[2].replace(/&apos;/g, "'").replace(/&quot;/g, '"').replace(/&amp;/g, '&')));
  }
  return out;
}

const SCAN_EXCLUDE = '{**/node_modules/**,**/.git/**,**/dist/**,**/out/**}';
const SCAN_LIMIT = 2000;

export class DiskImageExplorer implements vscode.TreeDataProvider<ExplorerNode> {
  private readonly changed = new vscode.EventEmitter<ExplorerNode | undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  private readonly images = new Map<string, ExplorerNode & { kind: 'image' }>();
  private scanned = false;

  constructor(private readonly library: ImageLibrary, private readonly scanWorkspace: () => boolean) {}

  add(image: string, origin: ImageOrigin): void {
    const node = this.images.get(image);
    if (node) node.origins.add(origin);
    else this.images.set(image, { kind: 'image', image, origins: new Set([origin]) });
    this.changed.fire(undefined);
  }

  async refresh(): Promise<void> {
    for (const p of this.images.keys()) await this.library.forget(p);
    for (const [p, n] of this.images) {
      n.origins.delete('workspace');
      n.origins.delete('domain');
      if (n.origins.size === 0) this.images.delete(p);
    }
    this.scanned = false;
    this.changed.fire(undefined);
  }

  /** Finds images in the workspace by content and in the open domain XMLs. */
  private async scan(): Promise<void> {
    this.scanned = true;
    for (const doc of vscode.workspace.textDocuments) {
      if (doc.languageId === 'libvirt-xml' && doc.uri.scheme === 'file') {
        for (const p of diskSourcesOf(doc.getText(), doc.uri.fsPath)) this.images.set(p, this.images.get(p) ?? { kind: 'image', image: p, origins: new Set(['domain']) });
      }
    }
    if (!this.scanWorkspace() || !vscode.workspace.workspaceFolders?.length) return;
    await vscode.window.withProgress({ location: { viewId: 'virtStudio.diskImages' }, title: 'Looking for disk images' }, async () => {
      const files = await vscode.workspace.findFiles('**/*', SCAN_EXCLUDE, SCAN_LIMIT);
      const found: string[] = [];
      // Check contents a few at a time: each check reads at most 32 KiB.
      for (let i = 0; i < files.length; i += 16) {
        const batch = files.slice(i, i + 16).filter((u) => u.scheme === 'file');
        const hits = await Promise.all(batch.map(async (u) => ((await looksLikeDiskImage(u.fsPath)) ? u.fsPath : undefined)));
        for (const h of hits) if (h) found.push(h);
      }
      for (const p of found) this.add(p, 'workspace');
    });
  }

  async getChildren(node?: ExplorerNode): Promise<ExplorerNode[]> {
    if (!node) {
      if (!this.scanned) await this.scan();
      return [...this.images.values()].sort((a, b) => a.image.localeCompare(b.image));
    }
    try {
      switch (node.kind) {
        case 'image': {
          const loaded = await this.library.open(node.image);
          const { volumes, warnings } = await loaded.volumes();
          return [
            ...warnings.map((w): ExplorerNode => ({ kind: 'message', text: w, error: true })),
            ...volumes.map((v): ExplorerNode => ({ kind: 'volume', image: node.image, volume: v.name, size: v.size, fs: v.fs, detail: v.detail, error: v.error })),
          ];
        }
        case 'volume': {
          if (node.error) return [{ kind: 'message', text: node.error, error: true }];
          return await this.listDir(node.image, node.volume, '/');
        }
        case 'entry':
          return node.entry.type === 'dir' ? await this.listDir(node.image, node.volume, node.path) : [];
        default:
          return [];
      }
    } catch (err) {
      return [{ kind: 'message', text: (err as Error).message, error: true }];
    }
  }

  private async listDir(image: string, volume: string, dir: string): Promise<ExplorerNode[]> {
    const fs = await (await this.library.open(image)).fileSystem(volume);
    const entries = await fs.readdir(dir);
    // Directories first, then files, each by name — as the Explorer does.
    entries.sort((a, b) => Number(b.type === 'dir') - Number(a.type === 'dir') || a.name.localeCompare(b.name));
    return entries.map((entry) => ({ kind: 'entry', image, volume, path: `${dir === '/' ? '' : dir}/${entry.name}`, entry }));
  }

  getTreeItem(node: ExplorerNode): vscode.TreeItem {
    switch (node.kind) {
      case 'image': {
        const item = new vscode.TreeItem(path.basename(node.image), vscode.TreeItemCollapsibleState.Collapsed);
        item.description = [...node.origins].includes('domain') ? 'used by a domain' : path.dirname(vscode.workspace.asRelativePath(node.image));
        item.tooltip = node.image;
        item.iconPath = new vscode.ThemeIcon('database');
        item.contextValue = 'virtStudio.image';
        item.resourceUri = vscode.Uri.file(node.image);
        item.command = { command: 'virtStudio.showImageInfo', title: 'Show Image Info', arguments: [node] };
        return item;
      }
      case 'volume': {
        const readable = !node.error && (node.fs === 'ext2' || node.fs === 'ext3' || node.fs === 'ext4' || node.fs === 'vfat' || node.fs === 'iso9660');
        const item = new vscode.TreeItem(node.volume, readable || node.error ? vscode.TreeItemCollapsibleState.Collapsed : vscode.TreeItemCollapsibleState.None);
        item.description = `${node.fs ?? (node.detail || 'no filesystem')} · ${formatSize(node.size)}`;
        item.tooltip = node.error ?? `${node.volume}: ${node.fs ?? 'no filesystem'}${node.detail ? ` (${node.detail})` : ''}, ${node.size} bytes`;
        item.iconPath = new vscode.ThemeIcon(node.error ? 'warning' : node.volume.includes('/') ? 'layers' : 'symbol-namespace');
        item.contextValue = 'virtStudio.volume';
        return item;
      }
      case 'entry': {
        const dir = node.entry.type === 'dir';
        const item = new vscode.TreeItem(node.entry.name, dir ? vscode.TreeItemCollapsibleState.Collapsed : vscode.TreeItemCollapsibleState.None);
        const uri = vscode.Uri.from(formatImageUri({ image: node.image, volume: node.volume, path: node.path }));
        item.resourceUri = uri;
        item.tooltip = `${node.path}\n${(node.entry.mode & 0o7777).toString(8).padStart(4, '0')} ${node.entry.size} bytes · ${new Date(node.entry.mtime * 1000).toISOString()}`;
        if (node.entry.type === 'symlink') item.description = `→ ${node.entry.target}`;
        else if (!dir) item.description = formatSize(node.entry.size);
        item.contextValue = dir ? 'virtStudio.dir' : 'virtStudio.file';
        if (node.entry.type === 'file') item.command = { command: 'vscode.open', title: 'Open', arguments: [uri] };
        return item;
      }
      case 'message': {
        const item = new vscode.TreeItem(node.text, vscode.TreeItemCollapsibleState.None);
        item.iconPath = new vscode.ThemeIcon(node.error ? 'error' : 'info');
        item.tooltip = node.text;
        return item;
      }
    }
  }
}
