// The VMDK text descriptor: key=value lines and extent lines
// (`RW 2048 FLAT "disk-flat.vmdk" 0`, `RW 4192256 SPARSE "disk-s001.vmdk"`, `RW 100 ZERO`).
import { ImageError } from '../blockDevice';

export interface DescriptorExtent {
  access: string;
  sectors: number;
  type: string;
  file?: string;
  /** Start sector inside the file (FLAT/VMFS). */
  offset: number;
  line: number;
}

export interface VmdkDescriptor {
  fields: Map<string, string>;
  extents: DescriptorExtent[];
}

const MAX_DESCRIPTOR = 1024 * 1024;
const MAX_EXTENTS = 4096;

export function parseDescriptor(text: string, where: string): VmdkDescriptor {
  if (text.length > MAX_DESCRIPTOR) throw new ImageError(`${where} is larger than 1 MiB`, where, 0);
  const fields = new Map<string, string>();
  const extents: DescriptorExtent[] = [];
  const lines = text.replace(/\0.*$/s, '').split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].trim();
    if (!line || line.startsWith('#')) continue;
    const ext = /^(RW|RDONLY|NOACCESS)\s+(\d+)\s+([A-Z]+)(?:\s+"([^"]*)"(?:\s+(\d+))?)?/.exec(line);
    if (ext) {
      if (extents.length >= MAX_EXTENTS) throw new ImageError(`${where} lists more than ${MAX_EXTENTS} extents`, where, 0);
      const sectors = Number(ext[2]), offset = Number(ext[5] ?? 0);
      if (!Number.isSafeInteger(sectors * 512) || !Number.isSafeInteger(offset * 512)) {
        throw new ImageError(`${where} line ${i + 1}: extent size or offset is too large`, where, 0);
      }
      extents.push({ access: ext[1], sectors, type: ext[3], file: ext[4], offset, line: i + 1 });
      continue;
    }
    const kv = /^([A-Za-z0-9_.]+)\s*=\s*(.*)$/.exec(line);
    if (kv) fields.set(kv[1], kv[2].replace(/^"(.*)"$/, '$1'));
  }
  return { fields, extents };
}
