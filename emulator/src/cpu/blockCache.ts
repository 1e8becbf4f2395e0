// The translated-block cache: blocks keyed by the physical address of their first byte (plus the
// EIP and code size they were decoded for), compiled once their start has been reached often
// enough, and dropped when their bytes are written (self-modifying code, DMA, loaders).
//
// Invalidation: every physical page holding a block is marked in PhysicalMemory.codePages, which
// keeps CPU stores to it off the TLB fast path and makes every writer (CPU slow path, devices,
// loaders) report the write here. Blocks overlapping the written bytes are dropped; the page stays
// marked while other blocks remain on it. The cache is derived state: flush() forgets everything.

import type { PhysicalMemory } from '../memory/physicalMemory';
import { compileBlock, type BlockFn, type CompiledBlock } from './blockCompiler';

export interface Block {
  phys: number;
  eip: number;
  /** Decode mode the block was translated for (1 = 32-bit code segment). */
  mode: number;
  /** Instructions per pass; 0 for a start that cannot be translated (the interpreter runs it). */
  count: number;
  fn: BlockFn;
  eips: number[];
  end: number;
  loops: boolean;
}

const SLOT_BITS = 16;
const SLOTS = 1 << SLOT_BITS;
/** Times a block start is reached before it is translated (cold code stays interpreted). */
const HOT = 16;

const noBlock: BlockFn = () => 0;

function slotOf(phys: number): number { return Math.imul(phys, 0x9e3779b1) >>> (32 - SLOT_BITS); }

export class BlockCache {
  private readonly slots: (Block | undefined)[] = new Array<Block | undefined>(SLOTS).fill(undefined);
  private readonly heat = new Uint8Array(SLOTS);
  private readonly byPage = new Map<number, Block[]>();
  /**
   * Times a block start must be reached before it is translated: 1 translates everything at
   * once (tests), Infinity never translates (the pure interpreter, for comparisons).
   */
  hotThreshold = HOT;
  /** Blocks translated (for tests and benchmarks). */
  translated = 0;
  /** Blocks dropped because their bytes were written. */
  invalidated = 0;

  /** `onInvalidate` runs when a write dropped blocks (the CPU leaves the running block). */
  constructor(private readonly mem: PhysicalMemory, private readonly onInvalidate: () => void) {
    mem.onCodeWrite((addr, length) => this.codeWritten(addr, length));
  }

  /** The block for (phys, eip, mode), or undefined if it is not (yet) translated. */
  lookup(phys: number, eip: number, mode: number): Block | undefined {
    const b = this.slots[slotOf(phys)];
    return b !== undefined && b.phys === phys && b.eip === eip && b.mode === mode ? b : undefined;
  }

  /**
   * Called on a lookup miss: counts the start's heat and translates it when hot. `limit` is the
   * physical address where readable code bytes end (page end or CS limit), exclusive.
   */
  miss(phys: number, eip: number, mode: number, limit: number): Block | undefined {
    const slot = slotOf(phys);
    if (++this.heat[slot] < this.hotThreshold) return undefined;
    this.heat[slot] = 0;
    const c: CompiledBlock | null = compileBlock(this.mem.u8, phys, eip, limit, mode === 1);
    if (c) this.translated++;
    const b: Block = c
      ? { phys, eip, mode, count: c.count, fn: c.fn, eips: c.eips, end: c.end, loops: c.loops }
      : { phys, eip, mode, count: 0, fn: noBlock, eips: [], end: phys + 1, loops: false };
    const old = this.slots[slot];
    if (old !== undefined) this.unlink(old);
    this.slots[slot] = b;
    const page = phys >>> 12;
    let list = this.byPage.get(page);
    if (!list) { list = []; this.byPage.set(page, list); }
    list.push(b);
    this.mem.markCodePage(page);
    return b;
  }

  /** Blocks currently cached (translated or not translatable). */
  get size(): number {
    let n = 0;
    for (const list of this.byPage.values()) n += list.length;
    return n;
  }

  /** Forget every block (snapshot restore, memory map changes). */
  flush(): void {
    this.slots.fill(undefined);
    this.heat.fill(0);
    // Pages stay marked: the next write to one finds no block here and unmarks it.
    this.byPage.clear();
  }

  private unlink(b: Block): void {
    const list = this.byPage.get(b.phys >>> 12);
    if (!list) return;
    const i = list.indexOf(b);
    if (i >= 0) list.splice(i, 1);
    // The page stays marked: a later write finds no block there and unmarks it.
  }

  private codeWritten(addr: number, length: number): void {
    const page = addr >>> 12;
    const list = this.byPage.get(page);
    if (!list) return;
    const end = addr + length;
    let dropped = 0;
    for (let i = list.length - 1; i >= 0; i--) {
      const b = list[i];
      if (b.phys < end && b.end > addr) {
        const slot = slotOf(b.phys);
        if (this.slots[slot] === b) this.slots[slot] = undefined;
        list.splice(i, 1);
        dropped++;
      }
    }
    if (list.length === 0) this.byPage.delete(page);
    // PhysicalMemory unmarked the page before telling us; blocks left on it keep it marked. No
    // TLB entry can have gained fast-write rights in between (this runs inside the write).
    else this.mem.codePages[page] = 1;
    if (dropped) { this.invalidated += dropped; this.onInvalidate(); }
  }
}
