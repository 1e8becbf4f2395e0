// Bulk zstd decompression through the system `zstd` tool (libzstd, native speed), used when a
// read covers many zstd-compressed qcow2 clusters (image conversion). One long-lived process per
// image: each batch of frames is followed by a skippable frame large enough to push the tool's
// input buffer past the batch, and the tool's stdout is unbuffered (coreutils stdbuf), so its
// output comes back without closing the pipe, in order. Every frame must declare its size
// (checked by the caller), so zstd itself rejects a frame that would put the stream out of step.
// The built-in decoder stays the path for small reads, for hosts without the tool, and for any
// batch the tool rejects, so corruption is always reported by our decoder with its offset.
import { type ChildProcessByStdio, spawn } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';

const PAD_BYTES = 512 * 1024;
const PAD = (() => {
  const b = Buffer.alloc(8 + PAD_BYTES);
  b.writeUInt32LE(0x184d2a50, 0); // skippable frame: ignored by every zstd decoder
  b.writeUInt32LE(PAD_BYTES, 4);
  return b;
})();
/**
 * A working tool answers continuously (native zstd decodes hundreds of MB/s); silence this long
 * with batches pending means it is stuck. zstd 1.5's read-ahead thread keeps it alive on a
 * corrupt frame until its input closes, so a corrupt batch ends here, then falls back.
 */
const IDLE_TIMEOUT_MS = 2_000;

let toolMissing = false;

interface Pending { out: Buffer; got: number; resolve: (b: Buffer | undefined) => void }

export class ZstdTool {
  private child: ChildProcessByStdio<Writable, Readable, null> | undefined;
  private readonly queue: Pending[] = [];
  private watchdog: NodeJS.Timeout | undefined;

  /** Batches sent and not yet answered. */
  get pending(): number { return this.queue.length; }

  /** Decompresses concatenated frames; resolves undefined if the tool is missing or fails. */
  decompress(frames: Uint8Array[], expectedBytes: number): Promise<Buffer | undefined> {
    if (toolMissing) return Promise.resolve(undefined);
    const child = this.child ?? this.start();
    if (!child) return Promise.resolve(undefined);
    return new Promise((resolve) => {
      if (this.queue.length === 0) this.rearm();
      this.queue.push({ out: Buffer.allocUnsafe(expectedBytes), got: 0, resolve });
      this.holdAlive(true);
      // One write per batch: the frames (minus the sector padding between them) and the pad.
      child.stdin.write(Buffer.concat([...frames, PAD]));
    });
  }

  private start(): ChildProcessByStdio<Writable, Readable, null> | undefined {
    let child: ChildProcessByStdio<Writable, Readable, null>;
    try {
      // Unbuffered stdout: stdio would otherwise hold back a batch's last few KiB (a whole batch
      // of small clusters) until the next batch arrives.
      child = spawn('stdbuf', ['-o0', 'zstd', '-d', '-c', '-q'], { stdio: ['pipe', 'pipe', 'ignore'] });
    } catch {
      toolMissing = true;
      return undefined;
    }
    child.on('error', (err: NodeJS.ErrnoException) => { if (err.code === 'ENOENT') toolMissing = true; this.fail(); });
    child.on('close', (code) => { if (code === 127) toolMissing = true; this.fail(); }); // 127: stdbuf found no zstd
    child.stdin.on('error', () => this.fail());
    child.stdout.on('data', (chunk: Buffer) => this.take(chunk));
    this.child = child;
    return child;
  }

  /** An idle helper must not keep the process alive; one with batches in flight must. */
  private holdAlive(busy: boolean): void {
    const c = this.child;
    if (!c) return;
    const handle = c.stdout as Readable & { ref?: () => void; unref?: () => void };
    if (busy) { c.ref(); handle.ref?.(); } else { c.unref(); handle.unref?.(); }
  }

  /** Restarts the silence timer (a batch was queued on an idle tool, or output arrived). */
  private rearm(): void {
    clearTimeout(this.watchdog);
    this.watchdog = setTimeout(() => this.fail(), IDLE_TIMEOUT_MS);
    this.watchdog.unref();
  }

  private take(chunk: Buffer): void {
    this.rearm();
    let at = 0;
    while (at < chunk.length) {
      const head = this.queue[0];
      if (!head) { this.fail(); return; } // output nobody asked for: the stream is out of step
      const n = Math.min(chunk.length - at, head.out.length - head.got);
      chunk.copy(head.out, head.got, at, at + n);
      head.got += n;
      at += n;
      if (head.got === head.out.length) {
        this.queue.shift();
        head.resolve(head.out);
        if (this.queue.length === 0) { clearTimeout(this.watchdog); this.holdAlive(false); }
      }
    }
  }

  /** The tool died, timed out or went out of step: every pending batch falls back. */
  private fail(): void {
    const child = this.child;
    this.child = undefined;
    if (child) { child.removeAllListeners(); child.stdout.removeAllListeners(); child.stdin.removeAllListeners(); child.stdin.on('error', () => {}); child.kill(); }
    clearTimeout(this.watchdog);
    for (const p of this.queue.splice(0)) p.resolve(undefined);
  }

  close(): void { this.fail(); }
}
