// Assembles volume groups from the PVs found on the given images and exposes each logical volume
// as a BlockDevice: linear/striped segments, mirror and raid1 (first leg), raid0, thin LVs and
// old-style snapshots. The newest metadata copy (highest seqno) of each VG wins.
import { type BlockDevice, ImageError } from '../../block/blockDevice';
import { MappedDevice, type Piece } from '../mappedDevice';
import { formatUuid, type PvLabel, readMetadataArea, readPvLabel } from './label';
import { type ConfigSection, type ConfigValue, isSection, parseMetadataText } from './metadataText';
import { SnapshotDevice } from './snapshot';
import { ThinDevice, ThinPoolMetadata } from './thin';

const SECTOR = 512;
const MAX_LVS = 10000;
const MAX_SEGMENTS = 100000;

export interface PhysicalVolume { device: BlockDevice; label: PvLabel; where: string; vgText?: string; warnings: string[] }

export interface LogicalVolume {
  vg: string;
  name: string;
  size: number;
  visible: boolean;
  segmentTypes: string[];
  /** Resolves the LV's bytes; rejects with a clear message when a PV is missing or the type is unsupported. */
  open(): Promise<BlockDevice>;
}

export interface VolumeGroup { name: string; id: string; seqno: number; extentBytes: number; lvs: LogicalVolume[]; missingPvs: string[] }

export async function readPhysicalVolume(device: BlockDevice, where: string): Promise<PhysicalVolume | undefined> {
  const label = await readPvLabel(device);
  if (!label) return undefined;
  const pv: PhysicalVolume = { device, label, where, warnings: [] };
  for (const mda of label.metadataAreas) {
    try {
      const m = await readMetadataArea(device, mda);
      if (m) { pv.vgText = m.text; break; }
    } catch (err) {
      if (!(err instanceof ImageError)) throw err;
      pv.warnings.push(`${where}: ${err.message}`); // another metadata copy may still be good
    }
  }
  return pv;
}

const str = (v: ConfigValue | ConfigSection | undefined) => (typeof v === 'string' ? v : undefined);
const num = (v: ConfigValue | ConfigSection | undefined) => (typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : undefined);
const flagsOf = (v: ConfigValue | ConfigSection | undefined) => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []);
const rawUuid = (id: string) => id.replace(/-/g, '');

/** The VG section of parsed metadata: the one top-level section carrying id and seqno. */
function vgSection(tree: ConfigSection): [string, ConfigSection] {
  for (const [k, v] of Object.entries(tree)) if (isSection(v) && 'seqno' in v && 'id' in v) return [k, v];
  throw new ImageError('LVM metadata has no volume-group section');
}

export async function assembleVolumeGroups(pvs: PhysicalVolume[]): Promise<{ vgs: VolumeGroup[]; warnings: string[] }> {
  const warnings = pvs.flatMap((p) => p.warnings);
  const newest = new Map<string, { name: string; vg: ConfigSection; seqno: number }>();
  for (const pv of pvs) {
    if (!pv.vgText) continue;
    try {
      const [name, vg] = vgSection(parseMetadataText(pv.vgText));
      const id = str(vg.id) ?? name;
      const seqno = num(vg.seqno) ?? 0;
      const cur = newest.get(id);
      if (!cur || seqno > cur.seqno) newest.set(id, { name, vg, seqno });
    } catch (err) {
      if (!(err instanceof ImageError)) throw err;
      warnings.push(`${pv.where}: ${err.message}`);
    }
  }
  const byUuid = new Map(pvs.map((p) => [p.label.uuid, p]));
  const vgs: VolumeGroup[] = [];
  for (const [id, { name, vg, seqno }] of newest) {
    try {
      vgs.push(buildVg(name, id, seqno, vg, byUuid));
    } catch (err) {
      if (!(err instanceof ImageError)) throw err;
      warnings.push(`VG ${name}: ${err.message}`);
    }
  }
  return { vgs, warnings };
}

interface PvRef { device?: BlockDevice; peStart: number; peCount: number; uuid: string }
type SegmentTarget = (name: string) => Promise<BlockDevice>;

function buildVg(name: string, id: string, seqno: number, vg: ConfigSection, byUuid: Map<string, PhysicalVolume>): VolumeGroup {
  const extentSectors = num(vg.extent_size);
  if (!extentSectors) throw new ImageError('extent_size is missing');
  const extentBytes = extentSectors * SECTOR;
  const pvRefs = new Map<string, PvRef>();
  const missingPvs: string[] = [];
  const pvSec = isSection(vg.physical_volumes) ? vg.physical_volumes : {};
  for (const [pvName, p] of Object.entries(pvSec)) {
    if (!isSection(p)) continue;
    const uuid = rawUuid(str(p.id) ?? '');
    const found = byUuid.get(uuid);
    if (!found) missingPvs.push(`${pvName} (${formatUuid(uuid)})`);
    pvRefs.set(pvName, { device: found?.device, peStart: (num(p.pe_start) ?? 0) * SECTOR, peCount: num(p.pe_count) ?? 0, uuid });
  }
  const lvSec = isSection(vg.logical_volumes) ? vg.logical_volumes : {};
  const lvEntries = Object.entries(lvSec).filter((e): e is [string, ConfigSection] => isSection(e[1]));
  if (lvEntries.length > MAX_LVS) throw new ImageError(`more than ${MAX_LVS} logical volumes`);
  const lvDefs = new Map(lvEntries);
  const opened = new Map<string, Promise<BlockDevice>>();
  // Old-style snapshots: a hidden LV with a "snapshot" segment ties origin and COW store together.
  const snapshotOf = new Map<string, { origin: string }>();
  for (const [, lv] of lvEntries) {
    const seg = lv.segment1;
    if (isSection(seg) && str(seg.type) === 'snapshot' && str(seg.cow_store) && str(seg.origin)) snapshotOf.set(str(seg.cow_store)!, { origin: str(seg.origin)! });
  }

  const openLv = (lvName: string, stack: string[]): Promise<BlockDevice> => {
    if (stack.includes(lvName)) return Promise.reject(new ImageError(`LV ${name}/${lvName} refers to itself through ${stack.join(' → ')}`));
    if (stack.length > 16) return Promise.reject(new ImageError(`LV ${name}/${lvName}: LV stacking is too deep`));
    let p = opened.get(lvName);
    if (!p) {
      p = buildLv(lvName, [...stack, lvName]);
      opened.set(lvName, p);
    }
    return p;
  };

  const pvTarget = (pvName: string, startExtent: number, lvName: string): { device: BlockDevice; base: number } => {
    const ref = pvRefs.get(pvName);
    if (!ref) throw new ImageError(`LV ${name}/${lvName} uses ${pvName}, which the VG does not list`);
    if (!ref.device) throw new ImageError(`LV ${name}/${lvName} needs PV ${formatUuid(ref.uuid)}, which is not in the given images`);
    return { device: ref.device, base: ref.peStart + startExtent * extentBytes };
  };

  const buildLv = async (lvName: string, stack: string[]): Promise<BlockDevice> => {
    const lv = lvDefs.get(lvName);
    if (!lv) throw new ImageError(`LV ${name}/${lvName} is referenced but not defined`);
    const snap = snapshotOf.get(lvName);
    if (snap) {
      const origin = await openLv(snap.origin, stack);
      const cow = await linearSegments(lvName, lv, stack);
      return SnapshotDevice.open(origin, cow, `${name}/${lvName}`);
    }
    return linearSegments(lvName, lv, stack);
  };

  const linearSegments = async (lvName: string, lv: ConfigSection, stack: string[]): Promise<BlockDevice> => {
    const count = num(lv.segment_count) ?? 0;
    if (count > MAX_SEGMENTS) throw new ImageError(`LV ${name}/${lvName} has ${count} segments`);
    const segs: Segment[] = [];
    for (let i = 1; i <= count; i++) {
      const s = lv[`segment${i}`];
      if (!isSection(s)) throw new ImageError(`LV ${name}/${lvName}: segment${i} is missing`);
      segs.push(await buildSegment(lvName, s, stack));
    }
    segs.sort((a, b) => a.start - b.start);
    let end = 0;
    for (const s of segs) {
      if (s.start !== end) throw new ImageError(`LV ${name}/${lvName}: segments leave a gap or overlap at extent ${end / extentBytes}`);
      end += s.length;
    }
    return new LvDevice(segs, end, `${name}/${lvName}`);
  };

  const buildSegment = async (lvName: string, s: ConfigSection, stack: string[]): Promise<Segment> => {
    const type = str(s.type) ?? 'striped';
    const start = (num(s.start_extent) ?? 0) * extentBytes;
    const extents = num(s.extent_count) ?? 0;
    const length = extents * extentBytes;
    const label = `${name}/${lvName}`;
    const list = Array.isArray(s.stripes) ? s.stripes : [];
    switch (type) {
      case 'striped': {
        const n = list.length / 2;
        if (n < 1 || !Number.isInteger(n) || n !== (num(s.stripe_count) ?? n)) throw new ImageError(`${label}: stripe list does not match stripe_count`);
        const per = extents / n;
        if (!Number.isInteger(per)) throw new ImageError(`${label}: ${extents} extents do not divide into ${n} stripes`);
        const legs = [];
        for (let k = 0; k < n; k++) {
          const pvName = list[2 * k];
          const first = list[2 * k + 1];
          if (typeof pvName !== 'string' || typeof first !== 'number') throw new ImageError(`${label}: malformed stripes list`);
          const ref = pvRefs.get(pvName);
          if (ref && first + per > ref.peCount) throw new ImageError(`${label}: stripe on ${pvName} runs past its ${ref.peCount} extents`);
          legs.push(pvTarget(pvName, first, lvName));
        }
        const stripeBytes = n > 1 ? (num(s.stripe_size) ?? 0) * SECTOR : length;
        if (!(stripeBytes > 0)) throw new ImageError(`${label}: stripe_size is missing`);
        return { start, length, legs, stripeBytes };
      }
      case 'mirror': case 'raid1': {
        // Every leg holds the same bytes; read the first one that is available.
        const names = type === 'mirror' ? (Array.isArray(s.mirrors) ? s.mirrors : []).filter((_, i) => i % 2 === 0)
          : (Array.isArray(s.raids) ? s.raids : []).filter((_, i) => i % 2 === 1);
        const offsets = type === 'mirror' ? (Array.isArray(s.mirrors) ? s.mirrors : []).filter((_, i) => i % 2 === 1) : [];
        let lastErr: unknown = new ImageError(`${label}: ${type} segment lists no legs`);
        for (let k = 0; k < names.length; k++) {
          const leg = names[k];
          if (typeof leg !== 'string') continue;
          try {
            const dev = await openLv(leg, stack);
            const off = typeof offsets[k] === 'number' ? (offsets[k] as number) * extentBytes : 0;
            return { start, length, legs: [{ device: dev, base: off }], stripeBytes: length };
          } catch (err) { lastErr = err; }
        }
        throw lastErr;
      }
      case 'raid0': case 'raid0_meta': {
        const raids = Array.isArray(s.raids) ? s.raids : [];
        const images = type === 'raid0' ? raids : raids.filter((_, i) => i % 2 === 1);
        const legs = [];
        for (const img of images) {
          if (typeof img !== 'string') throw new ImageError(`${label}: malformed raids list`);
          legs.push({ device: await openLv(img, stack), base: 0 });
        }
        const stripeBytes = (num(s.stripe_size) ?? 0) * SECTOR;
        if (legs.length === 0 || !(stripeBytes > 0)) throw new ImageError(`${label}: raid0 segment needs images and stripe_size`);
        return { start, length, legs, stripeBytes };
      }
      case 'thin': {
        const poolName = str(s.thin_pool);
        const devId = num(s.device_id);
        if (!poolName || devId === undefined) throw new ImageError(`${label}: thin segment needs thin_pool and device_id`);
        const pool = lvDefs.get(poolName);
        const pseg = pool?.segment1;
        if (!isSection(pseg) || str(pseg.type) !== 'thin-pool') throw new ImageError(`${label}: ${poolName} is not a thin pool`);
        const metaName = str(pseg.metadata);
        const dataName = str(pseg.pool);
        if (!metaName || !dataName) throw new ImageError(`${name}/${poolName}: thin pool needs metadata and pool LVs`);
        const metaDev = await openLv(metaName, stack);
        const dataDev = await openLv(dataName, stack);
        const md = await ThinPoolMetadata.open(metaDev, `${name}/${poolName}`);
        const chunk = num(pseg.chunk_size);
        if (chunk !== undefined && chunk !== md.sb.dataBlockSectors) throw new ImageError(`${name}/${poolName}: chunk_size ${chunk} disagrees with the pool superblock (${md.sb.dataBlockSectors})`);
        if (!(await md.deviceExists(devId))) throw new ImageError(`${label}: thin device ${devId} is not in the pool metadata`);
        return { start, length, legs: [{ device: new ThinDevice(md, dataDev, devId, length, label), base: 0 }], stripeBytes: length };
      }
      case 'zero':
        return { start, length, legs: [], stripeBytes: length };
      default:
        throw new ImageError(`${label}: segment type "${type}" is not supported`);
    }
  };

  const lvs: LogicalVolume[] = [];
  for (const [lvName, lv] of lvEntries) {
    const segTypes: string[] = [];
    let extents = 0;
    for (let i = 1; i <= Math.min(num(lv.segment_count) ?? 0, MAX_SEGMENTS); i++) {
      const s = lv[`segment${i}`];
      if (isSection(s)) { segTypes.push(str(s.type) ?? 'striped'); extents += num(s.extent_count) ?? 0; }
    }
    const snap = snapshotOf.get(lvName);
    const originSize = snap ? lvDefs.get(snap.origin) : undefined;
    let size = extents * extentBytes;
    if (originSize) {
      size = 0;
      for (let i = 1; i <= (num(originSize.segment_count) ?? 0); i++) {
        const s = originSize[`segment${i}`];
        if (isSection(s)) size += (num(s.extent_count) ?? 0) * extentBytes;
      }
    }
    lvs.push({
      // LVM writes a snapshot's COW LV without VISIBLE; lvs shows it as the snapshot, and so do we.
      vg: name, name: lvName, size, visible: flagsOf(lv.status).includes('VISIBLE') || snap !== undefined, segmentTypes: snap ? ['snapshot', ...segTypes] : segTypes,
      open: () => openLv(lvName, []),
    });
  }
  return { name, id, seqno, extentBytes, lvs, missingPvs };
}

interface Segment { start: number; length: number; legs: { device: BlockDevice; base: number }[]; stripeBytes: number }

/** An LV: its segments in order, each striped over one or more legs (one leg = linear). */
class LvDevice extends MappedDevice {
  constructor(private readonly segs: Segment[], readonly size: number, protected readonly label: string) { super(); }

  protected async locate(offset: number, maxLength: number): Promise<Piece> {
    let lo = 0, hi = this.segs.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.segs[mid].start <= offset) lo = mid; else hi = mid - 1;
    }
    const seg = this.segs[lo];
    const o = offset - seg.start;
    const segLeft = seg.length - o;
    if (seg.legs.length === 0) return { zero: true, length: Math.min(maxLength, segLeft) };
    const n = seg.legs.length;
    const chunk = Math.floor(o / seg.stripeBytes);
    const within = o - chunk * seg.stripeBytes;
    const leg = seg.legs[chunk % n];
    const at = leg.base + Math.floor(chunk / n) * seg.stripeBytes + within;
    const length = Math.min(maxLength, segLeft, seg.stripeBytes - within);
    if (at + length > leg.device.size) throw new ImageError(`${this.label}: extent maps past the end of its physical volume`, this.label, at);
    return { device: leg.device, offset: at, length };
  }
}
