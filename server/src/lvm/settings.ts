// The lvm.conf settings model for one target LVM version, built from the facts extracted from
// lvm2's config_settings.h (data/settings-<version>.json). Paths use '#' for variable names
// (tags/#/host_list), the way lvm2's own lookup hash does.
import facts16 from './data/settings-2.03.16.json';
import facts40 from './data/settings-2.03.40.json';

export type ValueType = 'bool' | 'int' | 'float' | 'string';

interface RawItem {
  kind: string;
  name: string;
  path: string;
  flags: string[];
  since: string | null;
  deprecated_since: string | null;
  default_expr: string | null;
  type?: string[];
  array?: boolean;
  runtime_default?: boolean;
  lvmconfig_default?: { value: string; commented: boolean } | null;
}

interface RawFacts {
  lvm_version: string;
  items: RawItem[];
}

export interface SettingDef {
  kind: 'section' | 'setting';
  name: string;
  /** As lvm2 prints it: tags/<tag>/host_list. */
  path: string;
  /** Lookup key: tags/#/host_list. */
  vpath: string;
  parentVpath: string;
  types: ValueType[];
  array: boolean;
  flags: ReadonlySet<string>;
  /** 2.03.16 style. */
  since: string;
  deprecatedSince?: string;
  /** Default as lvm.conf text, when one is known. */
  defaultText?: string;
  /** The default depends on the system (computed by lvm2 at run time). */
  runtimeDefault: boolean;
}

export const KNOWN_VERSIONS = ['2.03.16', '2.03.40'] as const;
const FACTS: Record<string, RawFacts> = { '2.03.16': facts16 as RawFacts, '2.03.40': facts40 as RawFacts };
export const NEWEST_VERSION = KNOWN_VERSIONS[KNOWN_VERSIONS.length - 1];

/** '2.3.0' or '2.03.00' -> [2, 3, 0]. */
export function versionTuple(v: string): number[] {
  return v.split(/[.(]/).slice(0, 3).map((x) => Number.parseInt(x, 10) || 0);
}

export function compareVersions(a: string, b: string): number {
  const x = versionTuple(a);
  const y = versionTuple(b);
  for (let i = 0; i < 3; i++) if (x[i] !== y[i]) return x[i] - y[i];
  return 0;
}

/** '2.3.0' -> '2.03.00', the way lvm2 releases are named. */
export function displayVersion(v: string): string {
  const [a, b, c] = versionTuple(v);
  // lvm2 releases are 2.MM.PP; settings inherited from LVM1 carry 1.x versions, shown as such.
  if (a < 2) return `${a}.${b}.${c}`;
  return `${a}.${String(b).padStart(2, '0')}.${String(c).padStart(2, '0')}`;
}

function vpathOf(path: string): string {
  return path.replace(/<[^>]*>/g, '#');
}

function parentOf(vpath: string): string {
  const i = vpath.lastIndexOf('/');
  return i < 0 ? '' : vpath.slice(0, i);
}

function defaultText(item: RawItem): string | undefined {
  if (item.lvmconfig_default) return item.lvmconfig_default.value;
  const e = item.default_expr;
  if (!e || e === 'NULL' || /^[A-Z_][A-Z0-9_]*$/.test(e) || e.includes('(')) return undefined;
  if (/^"#S/.test(e)) return `[${e.slice(3, -1).split('#S').map((s) => JSON.stringify(s)).join(', ')}]`;
  return e;
}

function toDef(item: RawItem): SettingDef {
  const vpath = vpathOf(item.path);
  return {
    kind: item.kind === 'cfg_section' ? 'section' : 'setting',
    name: item.name,
    path: item.path,
    vpath,
    parentVpath: parentOf(vpath),
    types: (item.type ?? []) as ValueType[],
    array: !!item.array,
    flags: new Set(item.flags),
    // VDO settings carry a macro as version; lvmconfig --withversions prints 2.3.0 for them.
    since: displayVersion(item.since ?? '2.3.0'),
    deprecatedSince: item.deprecated_since ? displayVersion(item.deprecated_since) : undefined,
    defaultText: defaultText(item),
    runtimeDefault: !!item.runtime_default,
  };
}

/**
 * Deprecated settings lvm2 still reads, with what replaces them. Every other setting with a
 * deprecated_since version is no longer used at all ("removed"): lvm2 accepts and ignores it.
 */
export const REPLACED_BY: Record<string, string> = {
  'allocation/cache_pool_cachemode': 'allocation/cache_mode',
  'activation/mirror_region_size': 'activation/raid_region_size',
  'activation/mirror_device_fault_policy': 'activation/mirror_image_fault_policy',
};

export class SettingsModel {
  readonly byVpath = new Map<string, SettingDef>();
  private readonly kids = new Map<string, SettingDef[]>();
  private readonly deprecated = new Map<SettingDef, boolean>();

  /** `version`: the target release; `facts`: the release whose facts are used. */
  constructor(readonly version: string, facts: RawFacts) {
    for (const item of facts.items) {
      const def = toDef(item);
      if (compareVersions(def.since, version) > 0) continue;
      this.byVpath.set(def.vpath, def);
      const list = this.kids.get(def.parentVpath) ?? [];
      list.push(def);
      this.kids.set(def.parentVpath, list);
    }
  }

  get(vpath: string): SettingDef | undefined {
    return this.byVpath.get(vpath);
  }

  /** Sections and settings directly below a section ('' = top level). */
  childrenOf(vpath: string): SettingDef[] {
    return this.kids.get(vpath) ?? [];
  }

  isDeprecated(def: SettingDef): boolean {
    if (!def.deprecatedSince) return false;
    let known = this.deprecated.get(def);
    if (known === undefined) {
      known = compareVersions(def.deprecatedSince, this.version) <= 0;
      this.deprecated.set(def, known);
    }
    return known;
  }

  isRemoved(def: SettingDef): boolean {
    return this.isDeprecated(def) && !REPLACED_BY[def.path];
  }
}

const models = new Map<string, SettingsModel>();

/**
 * The model for a target version: the facts of that release if we have them, else those of the
 * nearest newer release trimmed to what existed at the target, else the newest.
 */
export function settingsModel(version: string): SettingsModel {
  const key = /^\d+\.\d+\.\d+$/.test(version) ? displayVersion(version) : NEWEST_VERSION;
  let m = models.get(key);
  if (!m) {
    const source = KNOWN_VERSIONS.find((v) => compareVersions(v, key) >= 0) ?? NEWEST_VERSION;
    m = new SettingsModel(key, FACTS[source]);
    models.set(key, m);
  }
  return m;
}

/** The newest facts, used to tell "unknown" apart from "added after the target version". */
export function newestModel(): SettingsModel {
  return settingsModel(NEWEST_VERSION);
}

export function typeName(def: SettingDef): string {
  const names: Record<ValueType, string> = { bool: 'boolean', int: 'integer', float: 'float', string: 'string' };
  const t = def.types.map((x) => names[x]).join(' or ');
  if (def.kind === 'section') return 'section';
  return def.array ? `array of ${t}` : t;
}
