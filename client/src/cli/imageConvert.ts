// `virt-studio image convert [-l SNAPSHOT] IMAGE OUT`: the raw virtual disk content, like
// `qemu-img convert -O raw`. Only OUT is written; all-zero 4 KiB blocks are skipped so OUT is
// sparse. Several chunks are read at once so decompression overlaps with I/O.
import { open, realpath } from 'node:fs/promises';
import { resolve } from 'node:path';
import { ImageError } from '../../../emulator/src/block/blockDevice';
import type { ExtentDevice } from '../../../emulator/src/block/extentDevice';
import { openImage } from '../../../emulator/src/block/open';
import type { OpenedImage } from '../../../emulator/src/block/image';
import { parseArgs, UsageError } from './usage';

const CHUNK = 16 * 1024 * 1024; // large enough that bulk decompression batches amortize
const IN_FLIGHT = 3;
const ZERO_GRAIN = 4096;
const MIN_HOLE = 64 * 1024;
const ZEROS = Buffer.alloc(ZERO_GRAIN);

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
      const total = device.size;
      let next = 0, done = 0;
      const worker = async () => {
        const buf = Buffer.allocUnsafe(CHUNK);
        while (next < total) {
          const at = next;
          const n = Math.min(CHUNK, total - at);
          next += n;
          await device.readInto(buf, 0, n, at);
          await writeNonZero(out, buf, n, at);
          done += n;
          opts.onProgress?.(done, total);
        }
      };
      await Promise.all(Array.from({ length: IN_FLIGHT }, worker));
      await out.truncate(total);
      return total;
    } finally {
      await out.close();
    }
  } finally {
    await img.close();
  }
}

/**
 * Writes `buf[0..n)` at file offset `at`, leaving holes for zero stretches of at least
 * MIN_HOLE (found at 4 KiB granularity); shorter zero runs are written with their neighbours so
 * real data with scattered zero pages still goes out in few large writes.
 */
async function writeNonZero(out: import('node:fs/promises').FileHandle, buf: Buffer, n: number, at: number): Promise<void> {
  let dataStart = -1, zeroStart = -1;
  for (let p = 0; p < n; p += ZERO_GRAIN) {
    const len = Math.min(ZERO_GRAIN, n - p);
    const zero = buf.compare(ZEROS, 0, len, p, p + len) === 0;
    if (zero) {
      if (zeroStart < 0) zeroStart = p;
      if (dataStart >= 0 && p + len - zeroStart >= MIN_HOLE) {
        await writeAll(out, buf, dataStart, zeroStart - dataStart, at + dataStart);
        dataStart = -1;
      }
    } else {
      zeroStart = -1;
      if (dataStart < 0) dataStart = p;
    }
  }
  if (dataStart >= 0) {
    const end = zeroStart >= dataStart ? zeroStart : n;
    await writeAll(out, buf, dataStart, end - dataStart, at + dataStart);
  }
}

async function writeAll(out: import('node:fs/promises').FileHandle, buf: Buffer, from: number, len: number, pos: number): Promise<void> {
  let done = 0;
  while (done < len) {
    const { bytesWritten } = await out.write(buf, from + done, len - done, pos + done);
    done += bytesWritten;
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
