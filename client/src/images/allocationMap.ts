// The allocation map picture of an image: the virtual disk cut into cells, each coloured by what
// its bytes are — stored data, stored compressed, zero, held by a backing file, or unallocated in
// every layer. Computed from the block layer's allocation runs, never by reading the data.
import { allocationRuns, type AllocationKind } from '../../../emulator/src/block/allocation';
import type { ExtentDevice } from '../../../emulator/src/block/extentDevice';

export type CellKind = AllocationKind;
export const CELL_KINDS: CellKind[] = ['data', 'compressed', 'zero', 'backing', 'unallocated'];

export interface AllocationMap {
  cells: number;
  cellBytes: number;
  /** Per cell, bytes of each kind (in CELL_KINDS order). */
  bytes: Float64Array[];
  totals: Record<CellKind, number>;
}

export interface MapOptions {
  cells?: number;
  /** Called with the fraction done; return true to stop early (the map is then partial). */
  progress?: (fraction: number) => boolean | void;
  /** Bound on table look-ups, so a hostile image with billions of tiny extents cannot hang us. */
  maxExtents?: number;
}

export async function allocationMap(device: ExtentDevice, options: MapOptions = {}): Promise<AllocationMap & { complete: boolean }> {
  const cells = Math.max(1, Math.min(options.cells ?? 1024, Math.ceil(device.size / 512) || 1));
  const cellBytes = Math.ceil(device.size / cells) || 1;
  const bytes = CELL_KINDS.map(() => new Float64Array(cells));
  const totals = Object.fromEntries(CELL_KINDS.map((k) => [k, 0])) as Record<CellKind, number>;
  // The block layer classifies (through the backing chain, as `image info --allocation` does);
  // this only spreads its runs over the picture's cells.
  const runs = allocationRuns(device, { maxSteps: options.maxExtents ?? 4_000_000 });
  let lastReport = 0;
  for (;;) {
    const r = await runs.next();
    if (r.done) return { cells, cellBytes, bytes, totals, complete: r.value.truncatedAt === undefined };
    const kind = CELL_KINDS.indexOf(r.value.kind);
    totals[r.value.kind] += r.value.length;
    const end = r.value.offset + r.value.length;
    for (let at = r.value.offset; at < end;) {
      const cell = Math.min(cells - 1, Math.floor(at / cellBytes));
      const cellEnd = Math.min(end, (cell + 1) * cellBytes);
      bytes[kind][cell] += cellEnd - at;
      at = cellEnd;
    }
    if (options.progress && end - lastReport > device.size / 100) {
      lastReport = end;
      if (options.progress(end / device.size)) {
        await runs.return({});
        return { cells, cellBytes, bytes, totals, complete: false };
      }
    }
  }
}

/** The kind that dominates a cell (most bytes), for drawing. */
export function dominantKind(map: AllocationMap, cell: number): CellKind {
  let best = 0;
  for (let k = 1; k < CELL_KINDS.length; k++) if (map.bytes[k][cell] > map.bytes[best][cell]) best = k;
  return CELL_KINDS[best];
}
