// Linear → physical translation for the debugger: a side-effect-free walk of the 32-bit page
// tables (4 KiB pages, and 4 MiB pages when CR4.PSE is set). Unlike the CPU's own walk it sets
// no accessed/dirty bits, fills no TLB and raises nothing; it reports why a translation fails.
import type { PhysicalMemory } from '../memory/physicalMemory';

export interface PageWalk {
  physical: number | null;
  pde?: number;
  pte?: number;
  fault?: string;
}

export interface PagingRegs { cr0: number; cr3: number; cr4: number }

function readPhys32(mem: PhysicalMemory, addr: number): number {
  return mem.read32(addr >>> 0) >>> 0;
}

export function walkPageTables(mem: PhysicalMemory, regs: PagingRegs, linear: number): PageWalk {
  linear >>>= 0;
  const pagingOn = (regs.cr0 & 0x80000001) === (0x80000001 | 0);
  if (!pagingOn) return { physical: linear };
  const pdeAddr = ((regs.cr3 & 0xfffff000) + ((linear >>> 22) << 2)) >>> 0;
  const pde = readPhys32(mem, pdeAddr);
  if (!(pde & 1)) return { physical: null, pde, fault: `page directory entry ${linear >>> 22} is not present` };
  if ((pde & 0x80) && (regs.cr4 & 0x10)) {
    return { physical: ((pde & 0xffc00000) + (linear & 0x3fffff)) >>> 0, pde };
  }
  const pteAddr = ((pde & 0xfffff000) + (((linear >>> 12) & 0x3ff) << 2)) >>> 0;
  const pte = readPhys32(mem, pteAddr);
  if (!(pte & 1)) return { physical: null, pde, pte, fault: `page table entry ${(linear >>> 12) & 0x3ff} is not present` };
  return { physical: ((pte & 0xfffff000) + (linear & 0xfff)) >>> 0, pde, pte };
}
