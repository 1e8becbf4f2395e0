// The explorer's model, without vscode: images opened read-only through the block layer, the
// volumes found in them, and the filesystems on those volumes, each opened once and cached.
// Images are untrusted input: every failure becomes an error on the node it belongs to.
import { realpathSync } from 'node:fs';
import { isAbsolute, relative } from 'node:path';
import { openImage, type OpenedImage } from '../../../emulator/src/block/open';
import { openFileSystem } from '../../../emulator/src/fs/openFileSystem';
import type { VolumeFileSystem } from '../../../emulator/src/fs/volumeFs';
import { discoverVolumes, type Volume } from '../../../emulator/src/volumes/discover';

export interface LibraryPolicy {
  /** Folders backing files may come from; empty = anywhere (a trusted workspace). */
  confineBackingTo(): string[];
}

function inside(path: string, folder: string): boolean {
  const rel = relative(folder, path);
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel));
}

/** One image file (with its backing chain) and what was found in it. */
export class LoadedImage {
  private volumesPromise: Promise<{ volumes: Volume[]; warnings: string[] }> | undefined;
  private readonly fileSystems = new Map<string, Promise<VolumeFileSystem>>();

  constructor(readonly path: string, readonly image: OpenedImage) {}

  volumes(): Promise<{ volumes: Volume[]; warnings: string[] }> {
    this.volumesPromise ??= discoverVolumes([{ device: this.image.device, path: this.path }]);
    return this.volumesPromise;
  }

  async volume(name: string): Promise<Volume> {
    const v = (await this.volumes()).volumes.find((x) => x.name === name);
    if (!v) throw new Error(`no volume "${name}" in ${this.path}`);
    return v;
  }

  fileSystem(volumeName: string): Promise<VolumeFileSystem> {
    let fs = this.fileSystems.get(volumeName);
    if (!fs) {
      fs = this.volume(volumeName).then(async (v) => {
        if (v.error) throw new Error(v.error);
        return openFileSystem(await v.open(), v.name);
      });
      // A failed open is not cached: the user may fix the file and retry.
      fs.catch(() => this.fileSystems.delete(volumeName));
      this.fileSystems.set(volumeName, fs);
    }
    return fs;
  }

  close(): Promise<void> {
    return this.image.close();
  }
}

export class ImageLibrary {
  private readonly images = new Map<string, Promise<LoadedImage>>();

  constructor(private readonly policy: LibraryPolicy) {}

  open(path: string): Promise<LoadedImage> {
    let loaded = this.images.get(path);
    if (!loaded) {
      // The block layer passes real paths (symlinks resolved): compare against real paths too.
      const confine = this.policy.confineBackingTo().map((f) => { try { return realpathSync(f); } catch { return f; } });
      loaded = openImage(path, {
        allowBacking: confine.length === 0 ? undefined : (resolved) => confine.some((f) => inside(resolved, f)),
      }).then((image) => new LoadedImage(path, image));
      loaded.catch(() => this.images.delete(path));
      this.images.set(path, loaded);
    }
    return loaded;
  }

  /** Forgets (and closes) an image so the next open re-reads it from disk. */
  async forget(path: string): Promise<void> {
    const loaded = this.images.get(path);
    this.images.delete(path);
    if (loaded) await loaded.then((l) => l.close(), () => undefined);
  }

  async dispose(): Promise<void> {
    const all = [...this.images.keys()];
    await Promise.all(all.map((p) => this.forget(p)));
  }
}
