// Checks LVM2 text metadata (vgcfgbackup output, /etc/lvm/backup and archive, or the text area
// of a PV): the fields lvm2's importer requires, their types, known status flags and segment
// types, and the allocation itself — segment_count, segments contiguous from extent 0, PV
// references, extents inside each PV, no extent used twice, stripe lists, LV references of
// mirrors, RAID, thin and cache. Severity 'error' means vgcfgrestore would refuse the file.
import type { ParseResult, ScalarNode, SectionNode, SettingNode, Span, ValueNode } from './ast';
import type { LvmDiagnostic } from './diagnostic';

const VG_STATUS = new Set(['RESIZEABLE', 'READ', 'WRITE', 'WRITE_LOCKED', 'CLUSTERED', 'SHARED', 'EXPORTED', 'PARTIAL', 'PVMOVE']);
const PV_STATUS = new Set(['ALLOCATABLE', 'EXPORTED', 'MISSING']);
const PV_FLAGS = new Set(['MISSING']);
const LV_STATUS = new Set([
  'READ', 'WRITE', 'WRITE_LOCKED', 'VISIBLE', 'FIXED_MINOR', 'LOCKED', 'PVMOVE', 'CONVERTING', 'MERGING', 'REBUILD',
  'METADATA_FORMAT', 'ACTIVATION_SKIP', 'PARTIAL', 'CACHE_USES_CACHEVOL', 'LV_CROP_METADATA', 'LV_REMOVE_AFTER_RESHAPE',
  'LV_RESHAPE_DATA_OFFSET', 'LV_RESHAPE_DELTA_DISKS_PLUS', 'LV_RESHAPE_DELTA_DISKS_MINUS', 'LV_RESHAPE_ACTIVATE_NEW',
  'LV_NOTSYNCED', 'LV_WRITEMOSTLY', 'LV_ACTIVATION_SKIP', 'LV_NOSCAN', 'LV_TEMPORARY', 'MIRROR_NOTSYNCED', 'VDO_POOL_DATA',
]);
export const SEGMENT_TYPES = new Set([
  'striped', 'mirror', 'snapshot', 'zero', 'error', 'free', 'thin', 'thin-pool', 'cache', 'cache-pool', 'vdo', 'vdo-pool',
  'writecache', 'integrity', 'raid0', 'raid0_meta', 'raid1', 'raid10', 'raid10_near', 'raid4', 'raid5', 'raid5_n', 'raid5_la',
  'raid5_ra', 'raid5_ls', 'raid5_rs', 'raid6', 'raid6_zr', 'raid6_nr', 'raid6_nc', 'raid6_n_6', 'raid6_ls_6', 'raid6_rs_6',
  'raid6_la_6', 'raid6_ra_6',
]);
/** LV-reference fields of segments, and the segment types they belong to. */
const LV_REF_FIELDS = ['thin_pool', 'pool', 'metadata', 'origin', 'cow_store', 'cache_pool', 'data', 'mirror_log', 'merging_store', 'external_origin', 'vdo_pool', 'writecache', 'integrity_meta'];

const ID_RE = /^[A-Za-z0-9!#]{6}-[A-Za-z0-9!#]{4}-[A-Za-z0-9!#]{4}-[A-Za-z0-9!#]{4}-[A-Za-z0-9!#]{4}-[A-Za-z0-9!#]{4}-[A-Za-z0-9!#]{6}$/;

type Kind = 'int' | 'string' | 'strings' | 'section';

class Section {
  readonly settings = new Map<string, SettingNode>();
  readonly sections: SectionNode[] = [];
  constructor(readonly node: SectionNode, readonly out: LvmDiagnostic[]) {
    for (const c of node.children) {
      if (c.kind === 'section') this.sections.push(c);
      else if (c.value) this.settings.set(c.key, c);
    }
  }

  private err(code: string, message: string, span: Span, severity: 'error' | 'warning' = 'error'): void {
    this.out.push({ code, message, span, severity });
  }

  /** A field of a known kind; reports it missing (if required) or of the wrong type. */
  get(key: string, kind: Exclude<Kind, 'section'>, required: boolean, where: string): SettingNode | undefined {
    const s = this.settings.get(key);
    if (!s) {
      if (required) this.err('lvm.meta.missing', `${where} has no '${key}'`, this.node.keySpan);
      return undefined;
    }
    const v = s.value as ValueNode;
    const ok = kind === 'int' ? v.kind === 'int'
      : kind === 'string' ? v.kind === 'string'
        : v.kind === 'array' ? v.items.every((i) => i.kind === 'string') : v.kind === 'string';
    if (!ok) {
      const want = kind === 'int' ? 'an integer' : kind === 'string' ? 'a string' : 'a list of strings';
      this.err('lvm.meta.type', `'${key}' of ${where} must be ${want}`, v.span);
      return undefined;
    }
    return s;
  }

  int(key: string, required: boolean, where: string): number | undefined {
    const s = this.get(key, 'int', required, where);
    return s ? (s.value as ScalarNode).value as number : undefined;
  }

  str(key: string, required: boolean, where: string): string | undefined {
    const s = this.get(key, 'string', required, where);
    return s ? (s.value as ScalarNode).value as string : undefined;
  }

  flags(key: string, required: boolean, where: string, known: Set<string>): Set<string> {
    const s = this.get(key, 'strings', required, where);
    const out = new Set<string>();
    if (!s) return out;
    const v = s.value as ValueNode;
    for (const item of v.kind === 'array' ? v.items : [v]) {
      const f = item.value as string;
      if (!known.has(f)) this.err('lvm.meta.flag', `Unknown ${key} flag "${f}" in ${where}`, item.span);
      out.add(f);
    }
    return out;
  }

  section(key: string): SectionNode | undefined {
    return this.sections.find((s) => s.key === key);
  }
}

interface Pv {
  name: string;
  peCount?: number;
  node: SectionNode;
  /** Allocated extent ranges [start, end) with their owner, to find double allocation. */
  used: { start: number; end: number; owner: string; who: string; span: Span }[];
}

export function checkMetadata(parsed: ParseResult, _text: string): LvmDiagnostic[] {
  const out: LvmDiagnostic[] = parsed.errors.map((e) => ({ code: e.code, message: e.message, span: e.span, severity: e.severity }));
  if (out.some((d) => d.severity === 'error')) return out;
  const err = (code: string, message: string, span: Span, severity: 'error' | 'warning' = 'error'): void => {
    out.push({ code, message, span, severity });
  };
  const root = new Section(parsed.root, out);
  const contents = root.settings.get('contents');
  if (contents && (contents.value?.kind !== 'string' || contents.value.value !== 'Text Format Volume Group')) {
    err('lvm.meta.contents', 'contents must be "Text Format Volume Group"', contents.value?.span ?? contents.keySpan);
  }
  const version = root.settings.get('version');
  if (version && (version.value?.kind !== 'int' || version.value.value !== 1)) {
    err('lvm.meta.version', 'Only text metadata format version 1 exists', version.value?.span ?? version.keySpan);
  }
  if (root.sections.length === 0) {
    err('lvm.meta.no-vg', 'No volume group section in this metadata', parsed.root.span);
    return out;
  }
  for (const extra of root.sections.slice(1)) {
    err('lvm.meta.extra-vg', `Metadata holds one volume group; '${extra.key}' is a second one`, extra.keySpan);
  }
  const vgNode = root.sections[0];
  const vg = new Section(vgNode, out);
  const where = `volume group '${vgNode.key}'`;
  const checkId = (s: Section, w: string): void => {
    const id = s.get('id', 'string', true, w);
    if (id && !ID_RE.test((id.value as ScalarNode).value as string)) {
      err('lvm.meta.id', `Malformed id in ${w}: expected 32 characters in groups 6-4-4-4-4-4-6`, (id.value as ScalarNode).span);
    }
  };
  checkId(vg, where);
  /** Each PV or LV section of a list: shape, id and id uniqueness, then `check`. */
  const eachVolume = (list: SectionNode | undefined, label: 'PV' | 'LV', check: (node: SectionNode, sec: Section, w: string) => void): void => {
    const ids = new Map<string, string>();
    for (const node of list?.children ?? []) {
      if (node.kind !== 'section') {
        err('lvm.meta.unexpected', `'${node.key}' in ${list!.key} must be a${label === 'LV' ? 'n' : ''} ${label} section`, node.keySpan);
        continue;
      }
      const sec = new Section(node, out);
      const w = `${label} '${node.key}'`;
      checkId(sec, w);
      const id = sec.settings.get('id')?.value;
      if (id?.kind === 'string') {
        const other = ids.get(id.value as string);
        if (other) err('lvm.meta.duplicate-id', `${w} has the same id as ${label} '${other}'`, id.span);
        ids.set(id.value as string, node.key);
      }
      check(node, sec, w);
    }
  };
  vg.int('seqno', true, where);
  vg.flags('status', true, where, VG_STATUS);
  const extentSize = vg.int('extent_size', true, where);
  if (extentSize !== undefined && extentSize <= 0) err('lvm.meta.extent-size', 'extent_size must be positive', vg.settings.get('extent_size')!.value!.span);
  vg.int('max_lv', true, where);
  vg.int('max_pv', true, where);

  const pvs = new Map<string, Pv>();
  const pvSection = vg.section('physical_volumes');
  if (!pvSection) err('lvm.meta.missing', `${where} has no physical_volumes section`, vgNode.keySpan);
  eachVolume(pvSection, 'PV', (pvNode, pv, w) => {
    pv.str('device', false, w);
    pv.flags('status', true, w, PV_STATUS);
    pv.flags('flags', false, w, PV_FLAGS);
    const devSize = pv.int('dev_size', false, w);
    const peStart = pv.int('pe_start', true, w);
    const peCount = pv.int('pe_count', true, w);
    if (pvs.has(pvNode.key)) err('lvm.meta.duplicate', `PV '${pvNode.key}' appears twice`, pvNode.keySpan);
    pvs.set(pvNode.key, { name: pvNode.key, peCount, node: pvNode, used: [] });
    if (devSize !== undefined && peStart !== undefined && peCount !== undefined && extentSize) {
      if (peStart + peCount * extentSize > devSize) {
        err('lvm.meta.pv-size', `${w}: pe_start + pe_count × extent_size (${peStart + peCount * extentSize} sectors) is past dev_size (${devSize})`, pv.settings.get('pe_count')!.value!.span, 'warning');
      }
    }
  });

  const lvSection = vg.section('logical_volumes');
  const lvNames = new Set((lvSection?.children ?? []).filter((c) => c.kind === 'section').map((c) => c.key));
  eachVolume(lvSection, 'LV', (lvNode, lv, w) => {
    lv.flags('status', true, w, LV_STATUS);
    const segCount = lv.int('segment_count', true, w);
    const segments = lv.sections;
    if (segCount !== undefined && segCount !== segments.length) {
      err('lvm.meta.segment-count', `${w}: segment_count is ${segCount} but ${segments.length} segment section${segments.length === 1 ? '' : 's'} follow`, lv.settings.get('segment_count')!.value!.span);
    }
    const segs = segments.map((node) => ({ node, s: new Section(node, out) }));
    const starts = segs.map(({ node, s }) => ({ node, s, start: s.int('start_extent', true, `${w} ${node.key}`), count: s.int('extent_count', true, `${w} ${node.key}`) }));
    starts.sort((a, b) => (a.start ?? 0) - (b.start ?? 0));
    let expected = 0;
    for (const seg of starts) {
      const sw = `${w} ${seg.node.key}`;
      if (seg.start !== undefined && seg.start !== expected) {
        err('lvm.meta.segment-gap', `${sw} starts at extent ${seg.start}, expected ${expected}: segments must follow each other from extent 0`, seg.s.settings.get('start_extent')!.value!.span);
      }
      if (seg.count !== undefined && seg.count <= 0) err('lvm.meta.extent-count', `${sw}: extent_count must be positive`, seg.s.settings.get('extent_count')!.value!.span);
      expected = (seg.start ?? expected) + (seg.count ?? 0);
      checkSegment(seg.s, sw, seg.count, pvs, lvNames, lvNode.key, err);
    }
  });
  // Extents used twice: sort each PV's allocations once (untrusted metadata may hold thousands).
  for (const pv of pvs.values()) {
    const used = [...pv.used].sort((a, b) => a.start - b.start);
    let widest: (typeof used)[number] | undefined;
    for (const u of used) {
      if (widest && u.start < widest.end) {
        err('lvm.meta.double-allocation', `${u.who}: extent ${u.start} of PV '${pv.name}' is already used by ${widest.owner}`, u.span);
      }
      if (!widest || u.end > widest.end) widest = u;
    }
  }
  return out;
}

type Report = (code: string, message: string, span: Span, severity?: 'error' | 'warning') => void;

function checkSegment(s: Section, w: string, extentCount: number | undefined, pvs: Map<string, Pv>, lvNames: Set<string>, lvName: string, err: Report): void {
  const typeNode = s.get('type', 'string', false, w);
  const type = typeNode ? (typeNode.value as ScalarNode).value as string : 'striped';
  // lvm2 keeps segments of types it does not know (written by a newer release) as they are.
  if (typeNode && !SEGMENT_TYPES.has(type)) err('lvm.meta.segment-type', `${w}: unknown segment type "${type}" (lvm2 keeps it but cannot activate the LV)`, typeNode.value!.span, 'warning');
  for (const f of LV_REF_FIELDS) {
    const ref = s.settings.get(f);
    if (!ref || ref.value?.kind !== 'string') continue;
    const target = ref.value.value as string;
    if (!lvNames.has(target)) err('lvm.meta.lv-ref', `${w}: ${f} refers to LV '${target}', which is not in logical_volumes`, ref.value.span);
    else if (target === lvName) err('lvm.meta.lv-ref', `${w}: ${f} refers to the LV itself`, ref.value.span);
  }
  if (type === 'thin') s.get('thin_pool', 'string', true, w);
  if (type === 'thin-pool') { s.get('pool', 'string', true, w); s.get('metadata', 'string', true, w); }
  if (type === 'cache') { s.get('cache_pool', 'string', true, w); s.get('origin', 'string', true, w); }
  if (type === 'cache-pool') { s.get('data', 'string', true, w); s.get('metadata', 'string', true, w); }
  if (type === 'snapshot') { s.get('origin', 'string', true, w); s.get('cow_store', 'string', true, w); }
  for (const listKey of ['mirrors', 'raids']) {
    const list = s.settings.get(listKey);
    if (!list?.value) continue;
    const items = list.value.kind === 'array' ? list.value.items : [list.value];
    for (const item of items) {
      if (item.kind === 'string' && !lvNames.has(item.value as string)) {
        err('lvm.meta.lv-ref', `${w}: ${listKey} refers to LV '${String(item.value)}', which is not in logical_volumes`, item.span);
      }
    }
  }
  if (type !== 'striped') return;
  const stripeCount = s.int('stripe_count', true, w);
  const stripesNode = s.settings.get('stripes');
  if (!stripesNode?.value) {
    err('lvm.meta.missing', `${w} has no 'stripes'`, s.node.keySpan);
    return;
  }
  const items: ScalarNode[] = stripesNode.value.kind === 'array' ? stripesNode.value.items : [stripesNode.value];
  if (stripeCount === undefined) return;
  if (stripeCount < 1) {
    err('lvm.meta.stripes', `${w}: stripe_count must be at least 1`, s.settings.get('stripe_count')!.value!.span);
    return;
  }
  if (stripeCount > 1) s.int('stripe_size', true, w);
  if (items.length !== 2 * stripeCount) {
    err('lvm.meta.stripes', `${w}: stripes lists ${items.length / 2} PV/extent pairs but stripe_count is ${stripeCount}`, stripesNode.value.span);
    return;
  }
  if (extentCount !== undefined && extentCount % stripeCount !== 0) {
    err('lvm.meta.stripes', `${w}: extent_count ${extentCount} is not a multiple of stripe_count ${stripeCount}`, s.settings.get('extent_count')!.value!.span);
    return;
  }
  const perStripe = extentCount !== undefined ? extentCount / stripeCount : 0;
  for (let i = 0; i < items.length; i += 2) {
    const pvItem = items[i];
    const peItem = items[i + 1];
    if (pvItem.kind !== 'string' || peItem.kind !== 'int') {
      err('lvm.meta.stripes', `${w}: stripes must be pairs of a PV name (string) and a start extent (integer)`, pvItem.kind !== 'string' ? pvItem.span : peItem.span);
      continue;
    }
    const pv = pvs.get(pvItem.value as string);
    if (!pv) {
      err('lvm.meta.pv-ref', `${w}: stripe ${i / 2} is on PV '${String(pvItem.value)}', which is not in physical_volumes`, pvItem.span);
      continue;
    }
    const start = peItem.value as number;
    if (start < 0 || (pv.peCount !== undefined && start + perStripe > pv.peCount)) {
      err('lvm.meta.extent-range', `${w}: extents ${start}-${start + perStripe - 1} are outside PV '${pv.name}' (pe_count ${pv.peCount})`, peItem.span);
      continue;
    }
    pv.used.push({ start, end: start + perStripe, owner: `${w.replace(/^LV /, '')} stripe ${i / 2}`, who: w, span: peItem.span });
  }
}
