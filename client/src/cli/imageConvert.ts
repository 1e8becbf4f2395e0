// `virt-studio image convert [-l SNAPSHOT] IMAGE OUT`: the raw virtual disk content, like
// `qemu-img convert -O raw`. Only OUT is written, sparse; the work is in block/convert.ts.
import { open, realpath } from 'node:fs/promises';
import { resolve } from 'node:path';
import { ImageError } from '../../../emulator/src/block/blockDevice';
import type { ExtentDevice } from '../../../emulator/src/block/extentDevice';
import { convertDevice } from '../../../emulator/src/block/convert';
import { openImage } from '../../../emulator/src/block/open';
import type { OpenedImage } from '../../../emulator/src/block/image';
import { parseArgs, UsageError } from './usage';

export interface ConvertOptions { snapshot?: string; onProgress?: (done: number, total: number) => void }

/** Paths of every file the image reads (descriptor, extents, the whole backing chain). */
async function inputFiles(img: OpenedImage): Promise<string[]> {
  const out: string[] = [];
  for (let i: OpenedImage | undefined = img; i; i = i.backing) {
    for (const f of i.files) out.push(await realpath(f).catch(() => resolve(f)));
  }
  return out;
}

export async function convertToRaw(imagePath: string, outPath: string, opts: ConvertOptions = {}): Promise<number> {
  const img = await openImage(imagePath);
  try {
    const outReal = await realpath(outPath).catch(() => resolve(outPath));
    if ((await inputFiles(img)).includes(outReal)) throw new ImageError(`refusing to overwrite ${outPath}: it is one of the image's own files`);
    const device: ExtentDevice = opts.snapshot !== undefined ? await img.openSnapshot(opts.snapshot) : img.device;
    const out = await open(outPath, 'w');
    try {
      return await convertDevice(device, out, opts.onProgress);
    } finally {
      await out.close();
    }
  } finally {
    await img.close();
  }
}

export async function runImageConvert(argv: string[]): Promise<number> {
  const args = parseArgs(argv, { flags: ['-p'], valued: ['-l', '--snapshot'] });
  if (args.positionals.length !== 2) throw new UsageError('image convert: expected IMAGE OUT');
  const [image, outPath] = args.positionals;
  const snapshot = (args.options.get('-l') ?? args.options.get('--snapshot'))?.at(-1)?.replace(/^snapshot\.name=/, '');
  const tty = process.stderr.isTTY || args.flags.has('-p');
  let last = -1;
  await convertToRaw(image, outPath, {
    snapshot,
    onProgress: tty ? (done, total) => {
      const pct = total ? Math.floor((done / total) * 10000) / 100 : 100;
      if (pct !== last) { last = pct; process.stderr.write(`\r    (${pct.toFixed(2)}/100%)`); }
    } : undefined,
  });
  if (tty) process.stderr.write('\n');
  return 0;
}
