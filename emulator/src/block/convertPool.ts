// Worker threads that run whole conversion jobs: read the stored bytes (plain and deflate-
// compressed clusters) with the image's own file descriptors, inflate, and write the non-zero
// parts to the output descriptor. The main thread only maps the image and hands out jobs, so a
// conversion of a compressed image uses every core, as qemu-img's thread pool does. The worker
// is a few lines of source run with `eval`, so no extra bundle entry is needed. A job that fails
// for any reason reports `false`; the caller redoes it on the main thread, where errors are
// reported with their structure and offset.
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { dataRanges } from './sparseWrite';

/** Fields per segment in SegmentList.values. */
export const SEGMENT_FIELDS = 7;
/** Segment kinds: stored bytes, or one deflate-raw unit of which a slice is wanted. */
export const SEGMENT_DATA = 1, SEGMENT_DEFLATE_RAW = 2;

/**
 * A job's content in virtual order, SEGMENT_FIELDS numbers per segment:
 * kind, fd, file offset, stored length (compressed), unit size (compressed), skip into the unit, length.
 */
export interface SegmentList { values: number[]; compressed: number }

const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const fs = require('node:fs');
const zlib = require('node:zlib');
const ZEROS = Buffer.alloc(4096);
${dataRanges.toString()}
let buf = Buffer.alloc(0), span = Buffer.alloc(0);
function grow(b, n) { return b.length >= n ? b : Buffer.allocUnsafe(n); }
function readFull(fd, b, at, len, pos) {
  for (let d = 0; d < len;) { const r = fs.readSync(fd, b, at + d, len - d, pos + d); if (r === 0) throw new Error('short read'); d += r; }
}
function writeFull(fd, b, at, len, pos) {
  for (let d = 0; d < len;) d += fs.writeSync(fd, b, at + d, len - d, pos + d);
}
parentPort.on('message', ({ id, outFd, start, length, values }) => {
  try {
    buf = grow(buf, length);
    // Compressed clusters are usually stored back to back: one read for the job when dense.
    let lo = Infinity, hi = 0, sum = 0, fdC = -1, oneFile = true;
    for (let i = 0; i < values.length; i += ${SEGMENT_FIELDS}) {
      if (values[i] !== ${SEGMENT_DEFLATE_RAW}) continue;
      if (fdC >= 0 && values[i + 1] !== fdC) oneFile = false;
      fdC = values[i + 1];
      lo = Math.min(lo, values[i + 2]); hi = Math.max(hi, values[i + 2] + values[i + 3]); sum += values[i + 3];
    }
    const dense = fdC >= 0 && oneFile && hi - lo <= 2 * sum + 65536;
    if (dense) { span = grow(span, hi - lo); readFull(fdC, span, 0, hi - lo, lo); }
    let cur = 0;
    for (let i = 0; i < values.length; i += ${SEGMENT_FIELDS}) {
      const kind = values[i], fd = values[i + 1], off = values[i + 2], stored = values[i + 3], unit = values[i + 4], skip = values[i + 5], n = values[i + 6];
      if (kind === ${SEGMENT_DATA}) {
        readFull(fd, buf, cur, n, off);
      } else {
        let src;
        if (dense) src = span.subarray(off - lo, off - lo + stored);
        else { src = Buffer.allocUnsafe(stored); readFull(fd, src, 0, stored, off); }
        const u = zlib.inflateRawSync(src, { finishFlush: zlib.constants.Z_SYNC_FLUSH, maxOutputLength: unit, chunkSize: Math.max(64, unit) });
        if (u.length !== unit || skip + n > unit) throw new Error('bad unit');
        u.copy(buf, cur, skip, skip + n);
      }
      cur += n;
    }
    const r = dataRanges(buf, length, ZEROS);
    for (let k = 0; k < r.length; k += 2) writeFull(outFd, buf, r[k], r[k + 1], start + r[k]);
    parentPort.postMessage({ id, ok: true });
  } catch {
    parentPort.postMessage({ id, ok: false });
  }
});
`;

const DEAD = Number.MAX_SAFE_INTEGER;

interface Pending { resolve: (ok: boolean) => void }

export class ConvertPool {
  /**
   * Four workers even on two cores, as qemu-img keeps several requests (and pool threads)
   * decompressing at once: a job that waits on I/O or on the scheduler leaves work for the others.
   */
  readonly size = Math.max(4, Math.min(8, availableParallelism()));
  private readonly workers: Worker[] = [];
  private readonly load: number[] = [];
  private readonly pending = new Map<number, Pending & { worker: number }>();
  private nextId = 0;

  constructor(private readonly outFd: number) {}

  /** Jobs handed out and not yet finished. */
  backlog(): number { return this.pending.size; }

  /** Runs one job (virtual range [start, start+length) made of `segments`); false if it failed. */
  run(segments: SegmentList, start: number, length: number): Promise<boolean> {
    const w = this.leastLoaded();
    if (this.load[w] === DEAD) return Promise.resolve(false);
    const id = this.nextId++;
    return new Promise((resolve) => {
      this.pending.set(id, { resolve, worker: w });
      this.load[w]++;
      this.workers[w].ref();
      this.workers[w].postMessage({ id, outFd: this.outFd, start, length, values: segments.values });
    });
  }

  private leastLoaded(): number {
    let best = -1;
    for (let i = 0; i < this.workers.length; i++) if (best < 0 || this.load[i] < this.load[best]) best = i;
    if ((best < 0 || this.load[best] > 0) && this.workers.length < this.size) return this.spawn();
    return best;
  }

  private spawn(): number {
    const index = this.workers.length;
    const w = new Worker(WORKER_SOURCE, { eval: true });
    w.on('message', ({ id, ok }: { id: number; ok: boolean }) => this.finish(id, ok));
    // A dead worker fails its jobs (they are redone on the main thread), never hangs them.
    w.on('error', () => this.failWorker(index));
    w.on('exit', () => this.failWorker(index));
    this.workers.push(w);
    this.load.push(0);
    return index;
  }

  private finish(id: number, ok: boolean): void {
    const p = this.pending.get(id);
    if (!p) return;
    this.pending.delete(id);
    if (this.load[p.worker] !== DEAD && --this.load[p.worker] === 0) this.workers[p.worker].unref();
    p.resolve(ok);
  }

  private failWorker(index: number): void {
    for (const [id, p] of this.pending) if (p.worker === index) this.finish(id, false);
    this.load[index] = DEAD; // chosen again only when every worker is dead
  }

  close(): void {
    for (const w of this.workers) { w.removeAllListeners(); void w.terminate(); }
    for (const id of [...this.pending.keys()]) this.finish(id, false);
  }
}
