// Hover text for metadata backups: what the numbers mean (sectors, extents, times) in bytes.
import type { SectionNode } from './ast';

const SECTOR_FIELDS: Record<string, string> = {
  extent_size: 'Extent size', dev_size: 'Device size', pe_start: 'Start of the first extent', stripe_size: 'Stripe size',
  chunk_size: 'Chunk size', region_size: 'Region size', ba_start: 'Bootloader area start', ba_size: 'Bootloader area size',
};
const EXTENT_FIELDS: Record<string, string> = {
  pe_count: 'Extents on this PV', extent_count: 'Extents in this segment', start_extent: 'First logical extent of this segment',
};

export function humanBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB', 'EiB'];
  let v = bytes;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) { v /= 1024; i++; }
  return `${Number.isInteger(v) ? v : v.toFixed(2)} ${units[i]}`;
}

/** The VG's extent size in sectors, from the first top-level section. */
export function vgExtentSize(root: SectionNode): number | undefined {
  const vg = root.children.find((c): c is SectionNode => c.kind === 'section');
  const es = vg?.children.find((c) => c.kind === 'setting' && c.key === 'extent_size');
  return es?.kind === 'setting' && es.value?.kind === 'int' ? es.value.value as number : undefined;
}

/** Markdown for a metadata field with an integer value, or undefined when there is nothing to add. */
export function describeMetadataField(key: string, value: number, extentSize: number | undefined): string | undefined {
  if (SECTOR_FIELDS[key]) return `**${SECTOR_FIELDS[key]}**: ${value} sectors of 512 bytes = ${humanBytes(value * 512)}`;
  if (EXTENT_FIELDS[key]) {
    const size = extentSize ? ` = ${humanBytes(value * extentSize * 512)}` : '';
    return `**${EXTENT_FIELDS[key]}**: ${value} extents${size}`;
  }
  if (key === 'creation_time') return `**Creation time**: ${new Date(value * 1000).toISOString()}`;
  if (key === 'seqno') return '**Sequence number**: grows by one with every metadata change; the highest copy wins.';
  return undefined;
}
