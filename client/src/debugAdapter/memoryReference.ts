// Memory and instruction references in DAP are strings. Ours: "0x1234abcd" is a guest linear
// address; "phys:0x1234abcd" a guest physical address (the documented prefix for physical views).
import type { AddressSpace } from '../../../emulator/src/worker/protocol';

export const PHYSICAL_PREFIX = 'phys:';

export function formatReference(address: number, space: AddressSpace = 'linear'): string {
  return `${space === 'physical' ? PHYSICAL_PREFIX : ''}0x${(address >>> 0).toString(16).padStart(8, '0')}`;
}

export function parseReference(ref: string, offset = 0): { address: number; space: AddressSpace } {
  let text = ref.trim();
  let space: AddressSpace = 'linear';
  if (text.startsWith(PHYSICAL_PREFIX)) { space = 'physical'; text = text.slice(PHYSICAL_PREFIX.length); }
  if (!/^(0x[0-9a-f]+|\d+)$/i.test(text)) throw new Error(`'${ref}' is not a memory reference (expected 0x… or ${PHYSICAL_PREFIX}0x…)`);
  const address = Number(text) + offset;
  if (address < 0 || address > 0xffffffff) throw new Error(`address ${address} is outside the 32-bit address space`);
  return { address: address >>> 0, space };
}
