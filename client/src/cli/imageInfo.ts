// `virt-studio image info [--json] [--backing-chain] [--no-backing] [--allocation] IMAGE`: the facts
// `qemu-img info` gives, with its JSON field names, plus an allocation summary computed from the
// image's own tables (always in JSON, on request in the human output).
import { allocationSummary, type AllocationSummary } from '../../../emulator/src/block/allocation';
import { openImage } from '../../../emulator/src/block/open';
import type { OpenedImage } from '../../../emulator/src/block/image';
import { parseArgs, UsageError } from './usage';

/** qemu's size_to_str: "%0.3g" with binary units, switching unit once the value reaches 1000. */
export function sizeToStr(bytes: number): string {
  const units = ['', 'Ki', 'Mi', 'Gi', 'Ti', 'Pi', 'Ei'];
  const v = bytes / (1000 / 1024);
  const exp = v > 0 ? Math.floor(Math.log2(v)) : -1; // frexp exponent minus one
  const i = Math.max(0, Math.trunc(exp / 10));
  const value = bytes / 2 ** (i * 10);
  return `${formatG3(value)} ${units[i]}B`;
}

function formatG3(v: number): string {
  if (v === 0) return '0';
  return String(Number(v.toPrecision(3)));
}

export function infoJson(img: OpenedImage, allocation?: AllocationSummary): Record<string, unknown> {
  const j: Record<string, unknown> = {
    'virtual-size': img.virtualSize,
    filename: img.filename,
    format: img.format,
    'actual-size': img.actualSize,
    'dirty-flag': img.dirty ?? false,
  };
  if (img.clusterSize !== undefined) j['cluster-size'] = img.clusterSize;
  if (img.backingFilename !== undefined) {
    j['backing-filename'] = img.backingFilename;
    if (img.fullBackingFilename !== undefined) j['full-backing-filename'] = img.fullBackingFilename;
    if (img.backingFormat !== undefined) j['backing-filename-format'] = img.backingFormat;
  }
  if (img.snapshots.length) j.snapshots = img.snapshots.map(({ diskSize: _d, ...s }) => s);
  if (img.formatSpecific) j['format-specific'] = img.formatSpecific;
  if (img.headerExtensions?.length) j['header-extensions'] = img.headerExtensions;
  if (img.backingRefused) j['backing-refused'] = img.backingRefused;
  if (allocation) j.allocation = allocation;
  return j;
}

function pad2(n: number): string { return String(n).padStart(2, '0'); }

function snapshotLine(s: OpenedImage['snapshots'][number]): string {
  const d = new Date(s['date-sec'] * 1000);
  const date = `${d.getFullYear()}-${pad2(d.getMonth() + 1)}-${pad2(d.getDate())} ${pad2(d.getHours())}:${pad2(d.getMinutes())}:${pad2(d.getSeconds())}`;
  const secs = s['vm-clock-sec'];
  const clock = `${pad2(Math.floor(secs / 3600))}:${pad2(Math.floor(secs / 60) % 60)}:${pad2(secs % 60)}.${String(Math.floor(s['vm-clock-nsec'] / 1e6)).padStart(3, '0')}`;
  return `${s.id.padEnd(10)}${s.name.padEnd(18)}${sizeToStr(s['vm-state-size']).padStart(7)} ${date} ${clock} ${String(s.icount ?? '').padStart(10)}`;
}

function specificLines(value: unknown, indent: string): string[] {
  const out: string[] = [];
  if (Array.isArray(value)) {
    value.forEach((item, i) => {
      if (item && typeof item === 'object') { out.push(`${indent}[${i}]:`); out.push(...specificLines(item, `${indent}    `)); }
      else out.push(`${indent}[${i}]: ${String(item)}`);
    });
  } else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      const key = k.replace(/-/g, ' ');
      if (v && typeof v === 'object') { out.push(`${indent}${key}:`); out.push(...specificLines(v, `${indent}    `)); }
      else out.push(`${indent}${key}: ${String(v)}`);
    }
  }
  return out;
}

export function infoHuman(img: OpenedImage, allocation?: AllocationSummary): string {
  const lines = [
    `image: ${img.filename}`,
    `file format: ${img.format}`,
    `virtual size: ${sizeToStr(img.virtualSize)} (${img.virtualSize} bytes)`,
    `disk size: ${sizeToStr(img.actualSize)}`,
  ];
  if (img.clusterSize !== undefined) lines.push(`cluster_size: ${img.clusterSize}`);
  if (img.backingFilename !== undefined) {
    const full = img.fullBackingFilename && img.fullBackingFilename !== img.backingFilename ? ` (actual path: ${img.fullBackingFilename})` : '';
    lines.push(`backing file: ${img.backingFilename}${full}`);
    if (img.backingFormat) lines.push(`backing file format: ${img.backingFormat}`);
    if (img.backingRefused) lines.push(`backing file not opened: ${img.backingRefused}`);
  }
  if (img.dirty) lines.push('dirty flag: true');
  if (img.snapshots.length) {
    lines.push('Snapshot list:', 'ID        TAG               VM SIZE                DATE     VM CLOCK     ICOUNT');
    for (const s of img.snapshots) lines.push(snapshotLine(s));
  }
  if (img.formatSpecific) {
    lines.push('Format specific information:', ...specificLines(img.formatSpecific.data, '    '));
  }
  if (allocation) {
    lines.push('Allocation:');
    for (const k of ['data', 'compressed', 'zero', 'backing', 'unallocated'] as const) {
      if (allocation[k]) lines.push(`    ${k}: ${sizeToStr(allocation[k])} (${allocation[k]} bytes)`);
    }
    if (allocation['truncated-at'] !== undefined) lines.push(`    (not classified past offset ${allocation['truncated-at']})`);
  }
  return lines.join('\n');
}

export async function runImageInfo(argv: string[]): Promise<number> {
  const args = parseArgs(argv, { flags: ['--json', '--backing-chain', '--no-backing', '--allocation'] });
  if (args.positionals.length !== 1) throw new UsageError('image info: expected exactly one IMAGE');
  const img = await openImage(args.positionals[0], { noBacking: args.flags.has('--no-backing') });
  try {
    const chain: OpenedImage[] = [img];
    if (args.flags.has('--backing-chain')) for (let b = img.backing; b; b = b.backing) chain.push(b);
    // The allocation walk reads tables only; JSON always has it, human output on request.
    const json = args.flags.has('--json');
    const alloc = json || args.flags.has('--allocation') ? await Promise.all(chain.map((i) => allocationSummary(i.device))) : [];
    if (json) {
      const docs = chain.map((i, k) => infoJson(i, alloc[k]));
      process.stdout.write(`${JSON.stringify(args.flags.has('--backing-chain') ? docs : docs[0], null, 4)}\n`);
    } else {
      process.stdout.write(`${chain.map((i, k) => infoHuman(i, alloc[k])).join('\n\n')}\n`);
    }
  } finally {
    await img.close();
  }
  return 0;
}
