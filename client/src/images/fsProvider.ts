// A read-only FileSystemProvider over files inside disk images (scheme virt-image), so files open
// in ordinary editors. Every write operation is refused: a user's image is never modified.
import * as vscode from 'vscode';
import { FsError } from '../../../emulator/src/fs/fileSystem';
import type { ImageLibrary } from './imageLibrary';
import { parseImageUri } from './imageUri';

/** Files larger than this are not opened in an editor (use Save As… instead). */
const MAX_EDITOR_FILE = 256 * 1024 * 1024;

function toVscodeError(err: unknown, uri: vscode.Uri): Error {
  if (err instanceof FsError) {
    if (err.code === 'ENOENT') return vscode.FileSystemError.FileNotFound(uri);
    if (err.code === 'ENOTDIR') return vscode.FileSystemError.FileNotADirectory(uri);
    if (err.code === 'EISDIR') return vscode.FileSystemError.FileIsADirectory(uri);
  }
  return new vscode.FileSystemError(`${(err as Error).message}`);
}

export class ImageFileSystemProvider implements vscode.FileSystemProvider {
  private readonly changeEmitter = new vscode.EventEmitter<vscode.FileChangeEvent[]>();
  readonly onDidChangeFile = this.changeEmitter.event;

  constructor(private readonly library: ImageLibrary) {}

  private async fsFor(uri: vscode.Uri) {
    const loc = parseImageUri(uri);
    const image = await this.library.open(loc.image);
    return { fs: await image.fileSystem(loc.volume), path: loc.path };
  }

  async stat(uri: vscode.Uri): Promise<vscode.FileStat> {
    try {
      const { fs, path } = await this.fsFor(uri);
      const s = await fs.stat(path);
      const type = s.type === 'dir' ? vscode.FileType.Directory : s.type === 'file' ? vscode.FileType.File : vscode.FileType.Unknown;
      return { type, size: s.size, mtime: s.mtime * 1000, ctime: s.mtime * 1000, permissions: vscode.FilePermission.Readonly };
    } catch (err) {
      throw toVscodeError(err, uri);
    }
  }

  async readDirectory(uri: vscode.Uri): Promise<[string, vscode.FileType][]> {
    try {
      const { fs, path } = await this.fsFor(uri);
      return (await fs.readdir(path)).map((e) => [e.name,
        e.type === 'dir' ? vscode.FileType.Directory : e.type === 'symlink' ? vscode.FileType.SymbolicLink : e.type === 'file' ? vscode.FileType.File : vscode.FileType.Unknown]);
    } catch (err) {
      throw toVscodeError(err, uri);
    }
  }

  async readFile(uri: vscode.Uri): Promise<Uint8Array> {
    try {
      const { fs, path } = await this.fsFor(uri);
      const s = await fs.stat(path);
      if (s.type !== 'file') throw new FsError(`${path}: not a regular file`, 'EISDIR');
      if (s.size > MAX_EDITOR_FILE) throw new Error(`${path} is ${s.size} bytes: too large to open in an editor; use "Save As…" instead`);
      return await fs.read(path, 0, s.size);
    } catch (err) {
      throw toVscodeError(err, uri);
    }
  }

  watch(): vscode.Disposable { return new vscode.Disposable(() => undefined); }
  writeFile(uri: vscode.Uri): never { throw vscode.FileSystemError.NoPermissions(uri); }
  createDirectory(uri: vscode.Uri): never { throw vscode.FileSystemError.NoPermissions(uri); }
  delete(uri: vscode.Uri): never { throw vscode.FileSystemError.NoPermissions(uri); }
  rename(uri: vscode.Uri): never { throw vscode.FileSystemError.NoPermissions(uri); }
}
