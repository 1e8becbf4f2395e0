// Whole-disk conversion to a raw file (`image convert`, the explorer's "Save As…" of a disk), the
// way `qemu-img convert -O raw` does it: the output is sized first (a sparse file), the image's
// own tables say which ranges hold data, holes are never read or written, and what is read goes
// out in large writes that skip all-zero stretches. The disk is cut into jobs of a few MiB;
// jobs holding deflate-compressed clusters run whole (read, inflate, write) on worker threads,
// everything else runs on the main thread with asynchronous I/O, several jobs at a time.
import type { FileHandle } from 'node:fs/promises';
import { ImageError } from './blockDevice';
import { type Extent, ExtentDevice } from './extentDevice';
import { ConvertPool, SEGMENT_DATA, SEGMENT_DEFLATE_RAW, type SegmentList } from './convertPool';
import { dataRanges, ZERO_GRAIN_BUFFER } from './sparseWrite';

/** Virtual bytes per job: big enough for few syscalls, small enough to stay in the CPU caches. */
const JOB_BYTES = 2 * 1024 * 1024;
/**
 * Jobs with clusters only the main thread can decompress (zstd, through the native tool) are
 * larger: each is one batch for the tool, and a batch costs a round trip.
 */
const MAIN_DECOMPRESS_JOB_BYTES = 16 * 1024 * 1024;
/** Jobs the main thread keeps in flight (each owns one buffer). */
const MAIN_IN_FLIGHT = 4;

export interface ConvertProgress { (done: number, total: number): void }

/** A leaf extent: what the bytes at a virtual range are, resolved through the backing chain. */
type Leaf = Exclude<Extent, { kind: 'unallocated' }> | { kind: 'hole'; length: number } | { kind: 'other'; length: number };

/**
 * Leaf extents covering [offset, offset+length) of `device`: unallocated ranges are looked up in
 * the backing chain; ranges nothing stores are holes; a backing device that is not an image
 * layer (a refused file) gives 'other', read through the device so its error surfaces.
 */
async function* leaves(device: ExtentDevice, offset: number, length: number): AsyncGenerator<Leaf & { at: number }> {
  const end = offset + length;
  let pos = offset;
  while (pos < end) {
    const ext = await device.mapExtent(pos, end - pos);
    const n = Math.min(ext.length, end - pos);
    if (!(n > 0)) throw new ImageError(`image mapping made no progress at virtual offset ${pos}`);
    if (ext.kind !== 'unallocated') {
      yield { ...ext, length: n, at: pos };
    } else {
      const b = device.backing;
      const inBacking = b ? Math.max(0, Math.min(n, b.size - pos)) : 0;
      if (inBacking > 0 && b instanceof ExtentDevice) yield* leaves(b, pos, inBacking);
      else if (inBacking > 0) yield { kind: 'other', length: inBacking, at: pos };
      if (inBacking < n) yield { kind: 'hole', length: n - inBacking, at: pos + inBacking };
    }
    pos += n;
  }
}

/** A contiguous virtual range to copy, and how its bytes can be produced. */
interface Job { start: number; length: number; segments: SegmentList | undefined }

/**
 * Writes the raw content of `device` to `out` (an empty file opened for writing). Returns the
 * virtual size. Never reads the output back; holes stay holes.
 */
export async function convertDevice(device: ExtentDevice, out: FileHandle, onProgress?: ConvertProgress): Promise<number> {
  const total = device.size;
  await out.truncate(total);
  let done = 0;
  const advance = (n: number) => { done += n; onProgress?.(done, total); };

  const pool = new ConvertPool(out.fd);
  const buffers: Buffer[] = [];
  const running = new Set<Promise<void>>();
  let failure: unknown;
  const launch = (p: Promise<void>) => {
    const tracked = p.catch((err: unknown) => { failure ??= err; }).finally(() => running.delete(tracked));
    running.add(tracked);
  };
  const mainJob = async (job: Job) => {
    const k = buffers.findIndex((b) => b.length >= job.length);
    const buf = k >= 0 ? buffers.splice(k, 1)[0] : Buffer.allocUnsafe(job.length > JOB_BYTES ? MAIN_DECOMPRESS_JOB_BYTES : JOB_BYTES);
    try {
      await device.readInto(buf, 0, job.length, job.start);
      const r = dataRanges(buf, job.length, ZERO_GRAIN_BUFFER);
      for (let k = 0; k < r.length; k += 2) await writeAll(out, buf, r[k], r[k + 1], job.start + r[k]);
    } finally {
      buffers.push(buf);
    }
    advance(job.length);
  };
  const submit = async (job: Job) => {
    if (job.length === 0) return;
    if (job.segments) {
      // Off-thread; a job the worker cannot finish (corrupt data) is redone here, where the
      // single-cluster path reports the exact structure and offset.
      launch(pool.run(job.segments, job.start, job.length).then((ok) => (ok ? advance(job.length) : mainJob(job))));
      while (pool.backlog() > pool.size * 2 && !failure) await Promise.race(running);
    } else {
      launch(mainJob(job));
      while (running.size - pool.backlog() >= MAIN_IN_FLIGHT && !failure) await Promise.race(running);
    }
  };

  try {
    let job: Job = { start: 0, length: 0, segments: undefined };
    let offload = true; // every compressed segment so far can run on a worker
    const close = async () => {
      if (job.length > 0) await submit({ ...job, segments: offload && job.segments && job.segments.compressed > 0 ? job.segments : undefined });
      job = { start: job.start + job.length, length: 0, segments: undefined };
    };
    for await (const leaf of leaves(device, 0, total)) {
      if (failure) break;
      let { at, length } = leaf;
      if ((leaf.kind === 'hole' || leaf.kind === 'zero') && !offload && job.length > 0 && job.length + length <= MAIN_DECOMPRESS_JOB_BYTES) {
        // A main-thread decompression job spans short holes (read as zeros, not written) so its
        // clusters still go to the helper tool as one large batch.
        job.length += length;
        continue;
      }
      if (leaf.kind === 'hole' || leaf.kind === 'zero') {
        // Zeros the fresh output already holds: end the current job, skip the range.
        await close();
        advance(length);
        continue;
      }
      while (length > 0) {
        if (job.length === 0) { job = { start: at, length: 0, segments: { values: [], compressed: 0 } }; offload = true; }
        const n = Math.min(length, (offload ? JOB_BYTES : MAIN_DECOMPRESS_JOB_BYTES) - job.length);
        const segs = job.segments as SegmentList;
        if (leaf.kind === 'data') {
          segs.values.push(SEGMENT_DATA, leaf.source.fd, leaf.offset + (at - leaf.at), 0, 0, 0, n);
        } else if (leaf.kind === 'compressed' && leaf.stored?.codec === 'deflate-raw') {
          const s = leaf.stored;
          segs.values.push(SEGMENT_DEFLATE_RAW, s.source.fd, s.offset, s.length, s.unitSize, leaf.skip + (at - leaf.at), n);
          segs.compressed++;
        } else {
          offload = false;
        }
        job.length += n; at += n; length -= n;
        if (job.length >= (offload ? JOB_BYTES : MAIN_DECOMPRESS_JOB_BYTES)) await close();
      }
    }
    if (!failure) await close();
    await Promise.all(running);
    if (failure) throw failure;
  } finally {
    await Promise.allSettled(running);
    pool.close();
  }
  return total;
}

async function writeAll(out: FileHandle, buf: Buffer, from: number, len: number, pos: number): Promise<void> {
  let done = 0;
  while (done < len) {
    const { bytesWritten } = await out.write(buf, from + done, len - done, pos + done);
    done += bytesWritten;
  }
}
