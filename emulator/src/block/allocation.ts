// The allocation map of a virtual disk, from the image's own tables (no data is read or
// decompressed): which ranges hold data, compressed data, explicit zeros, come from the backing
// chain, or are unallocated. Feeds `image info` and the explorer's allocation picture.
import { ExtentDevice } from './extentDevice';

export type AllocationKind = 'data' | 'compressed' | 'zero' | 'backing' | 'unallocated';

export interface AllocationRun { offset: number; length: number; kind: AllocationKind }

/**
 * Runs of one kind covering [offset, offset+length) of `device`, adjacent runs merged. Stops
 * after `maxSteps` table look-ups (fragmented tiny-cluster images can need millions) and then
 * returns where it stopped as `truncatedAt`.
 */
export async function* allocationRuns(device: ExtentDevice, opts: { offset?: number; length?: number; maxSteps?: number } = {}): AsyncGenerator<AllocationRun, { truncatedAt?: number }> {
  const start = opts.offset ?? 0;
  const end = Math.min(device.size, start + (opts.length ?? device.size));
  const maxSteps = opts.maxSteps ?? 1_000_000;
  let pending: AllocationRun | undefined;
  let pos = start, steps = 0;
  while (pos < end) {
    if (steps++ >= maxSteps) {
      if (pending) yield pending;
      return { truncatedAt: pos };
    }
    const ext = await device.mapExtent(pos, end - pos);
    const n = Math.min(ext.length, end - pos);
    let kind: AllocationKind = ext.kind === 'unallocated' ? (device.backing ? 'backing' : 'unallocated') : ext.kind;
    if (kind === 'backing' && device.backing instanceof ExtentDevice && pos < device.backing.size) {
      // Resolve through the chain so the picture shows what the backing file holds there.
      const inner = Math.min(n, device.backing.size - pos);
      for await (const r of allocationRuns(device.backing, { offset: pos, length: inner, maxSteps: maxSteps - steps })) {
        const k: AllocationKind = r.kind === 'unallocated' ? 'unallocated' : 'backing';
        if (pending && pending.kind === k && pending.offset + pending.length === r.offset) pending.length += r.length;
        else { if (pending) yield pending; pending = { offset: r.offset, length: r.length, kind: k }; }
      }
      if (inner < n) {
        if (pending && pending.kind === 'unallocated') pending.length += n - inner;
        else { if (pending) yield pending; pending = { offset: pos + inner, length: n - inner, kind: 'unallocated' }; }
      }
      pos += n;
      continue;
    }
    // Past the end of a shorter backing file the disk reads zeros that nothing stores.
    if (kind === 'backing' && device.backing && pos >= device.backing.size) kind = 'unallocated';
    if (pending && pending.kind === kind) pending.length += n;
    else { if (pending) yield pending; pending = { offset: pos, length: n, kind }; }
    pos += n;
  }
  if (pending) yield pending;
  return {};
}

export interface AllocationSummary {
  data: number;
  compressed: number;
  zero: number;
  backing: number;
  unallocated: number;
  /** Set when the walk stopped early: bytes from here on were not classified. */
  'truncated-at'?: number;
}

export async function allocationSummary(device: ExtentDevice, maxSteps = 1_000_000): Promise<AllocationSummary> {
  const s: AllocationSummary = { data: 0, compressed: 0, zero: 0, backing: 0, unallocated: 0 };
  const it = allocationRuns(device, { maxSteps });
  for (;;) {
    const r = await it.next();
    if (r.done) { if (r.value.truncatedAt !== undefined) s['truncated-at'] = r.value.truncatedAt; break; }
    s[r.value.kind] += r.value.length;
  }
  return s;
}
