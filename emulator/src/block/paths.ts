// How QEMU names files one image refers to (backing files, VMDK extents): absolute names as they
// are, relative ones next to the referring file, spelled without normalization so reported names
// match `qemu-img info` (relative when the image path was relative).
import { isAbsolute } from 'node:path';

export function combinePath(name: string, referringPath: string): string {
  if (isAbsolute(name)) return name;
  const slash = referringPath.lastIndexOf('/');
  return slash < 0 ? name : referringPath.slice(0, slash + 1) + name;
}
