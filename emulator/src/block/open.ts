// openImage: detect the format of a file by content, open it read-only, and resolve its backing
// chain under the caller's policy (an untrusted workspace must not reach files outside itself),
// with cycle detection and a depth bound. The result's device reads the whole virtual disk.
import { realpath } from 'node:fs/promises';
import { isAbsolute, resolve } from 'node:path';
import { type BlockDevice, ImageError } from './blockDevice';
import { detectFormat } from './detect';
import { combinePath } from './paths';
import { RawDevice } from './extentDevice';
import { FileDevice } from './fileDevice';
import type { ImageFormat, OpenedImage, OpenOptions, ParsedImage } from './image';
import { openQcow2 } from './qcow2/openQcow2';
import { openVdi } from './vdi';
import { openVhdx } from './vhdx/openVhdx';
import { openVmdk } from './vmdk/openVmdk';
import { openVpc } from './vpc';

export type { ImageFormat, OpenedImage, OpenOptions } from './image';

const DEFAULT_MAX_DEPTH = 64;

const DRIVERS: Record<ImageFormat, (file: FileDevice, path: string, options: OpenOptions) => Promise<ParsedImage>> = {
  raw: async (file) => ({ format: 'raw', device: new RawDevice(file), virtualSize: file.size, snapshots: [], files: [file] }),
  qcow2: openQcow2,
  vmdk: openVmdk,
  vhdx: openVhdx,
  vdi: openVdi,
  vpc: openVpc,
};

const FORMAT_NAMES = new Set<string>(Object.keys(DRIVERS));

export async function openImage(path: string, options: OpenOptions = {}): Promise<OpenedImage> {
  return openLayer(path, options, [], options.format);
}

/** Stands in for a backing file the policy refused: reading what it would supply is an error. */
class RefusedBacking implements BlockDevice {
  readonly size = Number.MAX_SAFE_INTEGER;
  constructor(private readonly reason: string) {}
  async read(): Promise<Uint8Array> { throw new ImageError(this.reason); }
  async close(): Promise<void> {}
}

async function openLayer(path: string, options: OpenOptions, chain: string[], format: ImageFormat | undefined): Promise<OpenedImage> {
  const maxDepth = options.maxChainDepth ?? DEFAULT_MAX_DEPTH;
  let real: string;
  try {
    real = await realpath(path);
  } catch (err) {
    throw new ImageError(`cannot open ${chain.length ? 'backing file ' : ''}${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  if (chain.includes(real)) throw new ImageError(`backing chain loops back to ${real} (${[...chain, real].join(' → ')})`);
  if (chain.length > maxDepth) throw new ImageError(`backing chain is deeper than ${maxDepth} images`);

  const file = await FileDevice.open(path);
  let parsed: ParsedImage;
  try {
    parsed = await DRIVERS[format ?? await detectFormat(file)](file, path, options);
  } catch (err) {
    await file.close().catch(() => {});
    throw err;
  }
  let backing: OpenedImage | undefined;
  let backingRefused: string | undefined;
  let fullBacking: string | undefined;
  try {
    if (parsed.backing && !options.noBacking) {
      const ref = parsed.backing;
      if (/^[a-z][a-z0-9+.-]*:/i.test(ref.name) && !isAbsolute(ref.name) && !/^[a-z]:[\\/]/i.test(ref.name)) {
        throw new ImageError(`backing file "${ref.name}" uses a protocol; only local files are supported`);
      }
      const candidates = [ref.name, ...(ref.alternatives ?? [])].map((n) => combinePath(n, path));
      fullBacking = candidates[0];
      if (ref.alternatives?.length) {
        for (const c of candidates) if (await realpath(c).then(() => true, () => false)) { fullBacking = c; break; }
      }
      let backingFormat: ImageFormat | undefined;
      if (ref.format) {
        if (!FORMAT_NAMES.has(ref.format)) throw new ImageError(`backing file format "${ref.format}" is not supported`);
        backingFormat = ref.format as ImageFormat;
      }
      const absolute = await realpath(fullBacking).catch(() => resolve(fullBacking as string));
      if (options.allowBacking && !options.allowBacking(absolute, path)) {
        backingRefused = `backing file ${fullBacking} was not opened: it is outside the trusted area`;
        parsed.device.backing = new RefusedBacking(backingRefused);
      } else {
        backing = await openLayer(fullBacking, options, [...chain, real], backingFormat);
        parsed.device.backing = backing.device;
      }
    }
  } catch (err) {
    await parsed.device.close().catch(() => {});
    for (const f of parsed.files) await f.close().catch(() => {});
    throw err;
  }

  const device = parsed.device;
  return {
    filename: path,
    format: parsed.format,
    device,
    virtualSize: parsed.virtualSize,
    actualSize: parsed.files.reduce((n, f) => n + f.allocatedBytes, 0),
    clusterSize: parsed.clusterSize,
    backingFilename: parsed.backing?.name,
    fullBackingFilename: fullBacking,
    backingFormat: parsed.backing?.format,
    backing,
    backingRefused,
    snapshots: parsed.snapshots,
    formatSpecific: parsed.formatSpecific,
    dirty: parsed.dirty,
    headerExtensions: parsed.headerExtensions,
    files: parsed.files.map((f) => f.path),
    async openSnapshot(idOrName: string) {
      if (!parsed.openSnapshot) throw new ImageError(`${parsed.format} images have no internal snapshots`);
      const snap = await parsed.openSnapshot(idOrName);
      snap.backing = device.backing;
      return snap;
    },
    async close() {
      await device.close();
      for (const f of parsed.files) await f.close().catch(() => {});
      if (backing) await backing.close();
    },
  };
}
