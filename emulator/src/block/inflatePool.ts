// Raw-deflate decompression of cluster batches on worker threads, so a conversion of a zlib qcow2
// uses every core as QEMU's thread pool does. The worker is a few lines of source (Node eval
// worker), so no extra bundle entry is needed. Failed units come back undefined; the caller's
// single-cluster path then reports the error with its offset.
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';

const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const zlib = require('node:zlib');
parentPort.on('message', ({ data, offsets, unitSize }) => {
  const count = offsets.length - 1;
  const out = new Uint8Array(count * unitSize);
  const ok = new Uint8Array(count);
  const opts = { finishFlush: zlib.constants.Z_SYNC_FLUSH, maxOutputLength: unitSize, chunkSize: Math.max(64, unitSize) };
  for (let k = 0; k < count; k++) {
    try {
      const r = zlib.inflateRawSync(new Uint8Array(data, offsets[k], offsets[k + 1] - offsets[k]), opts);
      if (r.length === unitSize) { out.set(r, k * unitSize); ok[k] = 1; }
    } catch {}
  }
  parentPort.postMessage({ out: out.buffer, ok }, [out.buffer]);
});
`;

interface Job { units: Uint8Array[]; unitSize: number; resolve: (r: (Uint8Array | undefined)[]) => void }

class InflatePool {
  private readonly idle: Worker[] = [];
  private readonly queue: Job[] = [];
  private workers = 0;
  private busy = 0;

  constructor(private readonly max: number) {}

  run(job: Job): void { this.queue.push(job); this.pump(); }

  private pump(): void {
    while (this.queue.length) {
      let w = this.idle.pop();
      if (!w) {
        if (this.workers >= this.max) return;
        w = new Worker(WORKER_SOURCE, { eval: true });
        this.workers++;
      }
      this.start(w, this.queue.shift() as Job);
    }
  }

  private start(w: Worker, job: Job): void {
    const offsets = [0];
    for (const u of job.units) offsets.push(offsets[offsets.length - 1] + u.length);
    const data = new Uint8Array(offsets[offsets.length - 1]);
    job.units.forEach((u, k) => data.set(u, offsets[k]));
    this.busy++;
    w.ref(); // a worker with a job keeps the process alive; idle ones do not
    const finish = (result: (Uint8Array | undefined)[], keep: boolean) => {
      w.off('message', onMessage); w.off('error', onError);
      this.busy--;
      if (keep) { w.unref(); this.idle.push(w); } else { this.workers--; void w.terminate(); }
      job.resolve(result);
      this.pump();
    };
    const onMessage = ({ out, ok }: { out: ArrayBuffer; ok: Uint8Array }) => {
      const all = new Uint8Array(out);
      finish(job.units.map((_, k) => (ok[k] ? all.subarray(k * job.unitSize, (k + 1) * job.unitSize) : undefined)), true);
    };
    const onError = () => finish([], false);
    w.on('message', onMessage);
    w.on('error', onError);
    w.postMessage({ data: data.buffer, offsets, unitSize: job.unitSize }, [data.buffer]);
  }
}

let pool: InflatePool | undefined;

/** Inflates `units` (raw deflate, each one cluster of `unitSize`) split across worker threads. */
export async function inflateBatch(units: Uint8Array[], unitSize: number): Promise<(Uint8Array | undefined)[]> {
  const cores = Math.max(1, Math.min(4, availableParallelism()));
  pool ??= new InflatePool(cores);
  const parts = Math.max(1, Math.min(cores, Math.floor(units.length / 16)));
  const per = Math.ceil(units.length / parts);
  const results = await Promise.all(Array.from({ length: parts }, (_, p) => new Promise<(Uint8Array | undefined)[]>((resolve) => {
    (pool as InflatePool).run({ units: units.slice(p * per, (p + 1) * per), unitSize, resolve });
  })));
  return results.flatMap((r, p) => Array.from({ length: Math.min(per, units.length - p * per) }, (_, k) => r[k]));
}
