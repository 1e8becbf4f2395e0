// Architectural constants shared by the CPU modules (Intel SDM vol. 3 naming).

export const CF = 0x0001;
export const PF = 0x0004;
export const AF = 0x0010;
export const ZF = 0x0040;
export const SF = 0x0080;
export const TF = 0x0100;
export const IF = 0x0200;
export const DF = 0x0400;
export const OF = 0x0800;
export const IOPL = 0x3000;
export const NT = 0x4000;
export const RF = 0x10000;
export const VM = 0x20000;
export const AC = 0x40000;
export const ID = 0x200000;
/** The six status flags computed lazily. */
export const ARITH = CF | PF | AF | ZF | SF | OF;

/** Segment register numbers in ModRM/sreg encoding order. */
export const ES = 0, CS = 1, SS = 2, DS = 3, FS = 4, GS = 5;
export const SEG_NAMES = ['es', 'cs', 'ss', 'ds', 'fs', 'gs'] as const;

export const EAX = 0, ECX = 1, EDX = 2, EBX = 3, ESP = 4, EBP = 5, ESI = 6, EDI = 7;
export const REG32_NAMES = ['eax', 'ecx', 'edx', 'ebx', 'esp', 'ebp', 'esi', 'edi'] as const;

export const CR0_PE = 1, CR0_MP = 2, CR0_EM = 4, CR0_TS = 8, CR0_ET = 0x10, CR0_NE = 0x20;
export const CR0_WP = 0x10000, CR0_AM = 0x40000, CR0_NW = 0x20000000, CR0_CD = 0x40000000, CR0_PG = 0x80000000 | 0;
export const CR4_VME = 1, CR4_PVI = 2, CR4_TSD = 4, CR4_DE = 8, CR4_PSE = 0x10, CR4_PAE = 0x20, CR4_MCE = 0x40, CR4_PGE = 0x80;

/** Exception vectors. */
export const EX_DE = 0, EX_DB = 1, EX_NMI = 2, EX_BP = 3, EX_OF = 4, EX_BR = 5, EX_UD = 6, EX_NM = 7, EX_DF = 8;
export const EX_TS = 10, EX_NP = 11, EX_SS = 12, EX_GP = 13, EX_PF = 14, EX_MF = 16, EX_AC = 17, EX_MC = 18;

/** Descriptor attribute word as cached: bits 0-7 = access byte, bits 12-15 = AVL/L/DB/G nibble. */
export const ATTR_ACCESSED = 0x01;
export const ATTR_RW = 0x02; // readable code / writable data
export const ATTR_DC = 0x04; // conforming code / expand-down data
export const ATTR_CODE = 0x08;
export const ATTR_S = 0x10;
export const ATTR_P = 0x80;
export const ATTR_DB = 0x4000;
export const ATTR_G = 0x8000;

/** Parity flag lookup for the low byte of a result. */
export const PARITY = new Uint8Array(256);
for (let i = 0; i < 256; i++) {
  let bits = 0;
  for (let b = i; b; b >>= 1) bits += b & 1;
  PARITY[i] = bits & 1 ? 0 : PF;
}
