// Bulk zstd decompression through the system `zstd` tool (libzstd, native speed), used when a
// read covers many zstd-compressed qcow2 clusters (image conversion). The built-in decoder stays
// the path for small reads, for hosts without the tool, and for any batch the tool rejects, so
// errors are always reported by our own decoder with the cluster's offset.
import { spawn } from 'node:child_process';

let available: boolean | undefined;

/** Decompresses concatenated frames; resolves undefined if the tool is missing or fails. */
export function zstdToolDecompress(frames: Uint8Array[], expectedBytes: number): Promise<Buffer | undefined> {
  if (available === false) return Promise.resolve(undefined);
  return new Promise((resolve) => {
    let settled = false;
    const done = (v: Buffer | undefined) => { if (!settled) { settled = true; resolve(v); } };
    const child = spawn('zstd', ['-d', '-c', '-q'], { stdio: ['pipe', 'pipe', 'ignore'] });
    const out = Buffer.allocUnsafe(expectedBytes);
    let got = 0, overflow = false;
    child.on('error', (err: NodeJS.ErrnoException) => { if (err.code === 'ENOENT') available = false; done(undefined); });
    child.stdout.on('data', (chunk: Buffer) => {
      if (got + chunk.length > expectedBytes) { overflow = true; child.kill(); return; }
      chunk.copy(out, got);
      got += chunk.length;
    });
    child.on('close', (code) => {
      if (code === 0 && !overflow && got === expectedBytes) { available = true; done(out); } else done(undefined);
    });
    child.stdin.on('error', () => done(undefined));
    for (const f of frames) child.stdin.write(f);
    child.stdin.end();
  });
}
