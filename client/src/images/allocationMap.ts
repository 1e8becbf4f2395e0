// The allocation map picture of an image: the virtual disk cut into cells, each coloured by what
// its bytes are in the top layer — stored data, stored compressed, zero, left to the backing file,
// or unallocated. Computed from the block layer's extents, never by reading the data.
import type { ExtentDevice, ExtentKind } from '../../../emulator/src/block/extentDevice';

export type CellKind = 'data' | 'compressed' | 'zero' | 'backing' | 'unallocated';
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
  /** Bound on extents visited, so a hostile image with billions of tiny extents cannot hang us. */
  maxExtents?: number;
}

export async function allocationMap(device: ExtentDevice, options: MapOptions = {}): Promise<AllocationMap & { complete: boolean }> {
  const cells = Math.max(1, Math.min(options.cells ?? 1024, Math.ceil(device.size / 512) || 1));
  const cellBytes = Math.ceil(device.size / cells) || 1;
  const bytes = CELL_KINDS.map(() => new Float64Array(cells));
  const totals = Object.fromEntries(CELL_KINDS.map((k) => [k, 0])) as Record<CellKind, number>;
  const kindOf = (k: ExtentKind): CellKind => (k === 'unallocated' ? (device.backing ? 'backing' : 'unallocated') : k);
  const maxExtents = options.maxExtents ?? 4_000_000;
  let visited = 0;
  let pos = 0;
  let lastReport = 0;
  while (pos < device.size) {
    const ext = await device.mapExtent(pos, device.size - pos);
    const len = Math.min(ext.length, device.size - pos);
    if (!(len > 0)) throw new Error(`image mapping made no progress at virtual offset ${pos}`);
    const kind = CELL_KINDS.indexOf(kindOf(ext.kind));
    totals[CELL_KINDS[kind]] += len;
    // Spread the extent over the cells it covers.
    let at = pos;
    const end = pos + len;
    while (at < end) {
      const cell = Math.min(cells - 1, Math.floor(at / cellBytes));
      const cellEnd = Math.min(end, (cell + 1) * cellBytes);
      bytes[kind][cell] += cellEnd - at;
      at = cellEnd;
    }
    pos = end;
    if (++visited >= maxExtents) return { cells, cellBytes, bytes, totals, complete: false };
    if (options.progress && pos - lastReport > device.size / 100) {
      lastReport = pos;
      if (options.progress(pos / device.size)) return { cells, cellBytes, bytes, totals, complete: false };
    }
  }
  return { cells, cellBytes, bytes, totals, complete: true };
}

/** The kind that dominates a cell (most bytes), for drawing. */
export function dominantKind(map: AllocationMap, cell: number): CellKind {
  let best = 0;
  for (let k = 1; k < CELL_KINDS.length; k++) if (map.bytes[k][cell] > map.bytes[best][cell]) best = k;
  return CELL_KINDS[best];
}
