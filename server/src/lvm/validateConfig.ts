// Checks an lvm.conf / lvmlocal.conf / profile the way lvm2's config_def_check does (unknown
// names, types, empty values, profile restrictions), plus the values lvm2 refuses at start-up
// and what lvm2 accepts silently but a user wants to know (removed settings, duplicates).
// An 'error' here means lvm2 (the target version) refuses the file; warnings never do.
import type { ParseResult, ScalarNode, Span, ValueNode } from './ast';
import type { LvmDiagnostic } from './diagnostic';
import { effectiveTree, type EffectiveNode } from './effective';
import { ENUMERATIONS, isBoolWord, isValidUnits, timeFormatProblem } from './enumerations';
import { REPLACED_BY, typeName, type SettingDef, type SettingsModel } from './settings';

export type ProfileKind = 'command' | 'metadata';

export interface ConfigCheckOptions {
  model: SettingsModel;
  /** The newest model we know, to name the release that added a setting. */
  newest: SettingsModel;
  /** Set for profiles; undefined for lvm.conf and lvmlocal.conf. */
  profile?: ProfileKind;
}

function valueTypeName(v: ScalarNode): string {
  return v.kind === 'int' ? 'integer' : v.kind;
}

/** Edit distance, for "did you mean" suggestions. */
export function editDistance(a: string, b: string): number {
  const d = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = d[0];
    d[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const cur = d[j];
      d[j] = Math.min(d[j] + 1, d[j - 1] + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = cur;
    }
  }
  return d[b.length];
}

export function nearestName(name: string, candidates: string[]): string | undefined {
  let best: string | undefined;
  let bestD = Infinity;
  for (const c of candidates) {
    const dist = editDistance(name.toLowerCase(), c);
    if (dist < bestD) { bestD = dist; best = c; }
  }
  const limit = Math.max(1, Math.min(3, Math.floor(name.length / 3)));
  return bestD <= limit ? best : undefined;
}

class ConfigChecker {
  readonly out: LvmDiagnostic[] = [];

  constructor(private readonly opts: ConfigCheckOptions) {}

  private add(d: LvmDiagnostic): void {
    this.out.push(d);
  }

  private keySpans(n: EffectiveNode): Span[] {
    return n.refs.map((r) => r.span);
  }

  /** Where to report a problem with the node's value: the value in force. */
  private valueSpan(n: EffectiveNode): Span {
    return n.value ? n.value.span : n.refs[n.refs.length - 1].span;
  }

  checkRoot(root: EffectiveNode): void {
    for (const top of root.children) {
      if (top.key === 'tags') {
        this.checkTags(top);
        continue;
      }
      if (top.value) {
        for (const span of this.keySpans(top)) {
          this.add({ code: 'lvm.setting.outside-section', severity: 'error', span, message: `Setting '${top.key}' is not inside any section` });
        }
        continue;
      }
      this.checkNode(top, '');
    }
  }

  private unknown(n: EffectiveNode, parentVp: string, vp: string, isSetting: boolean): void {
    const what = isSetting ? 'setting' : 'section';
    const newer = this.opts.newest.get(vp) ?? (isSetting ? undefined : this.opts.newest.get(parentVp ? `${parentVp}/#` : '#'));
    const path = vp;
    for (const span of this.keySpans(n)) {
      if (newer && newer.kind === (isSetting ? 'setting' : 'section')) {
        this.add({
          code: 'lvm.setting.too-new', severity: 'error', span,
          message: `${isSetting ? 'Setting' : 'Section'} '${path}' was added in lvm2 ${newer.since}; the target version ${this.opts.model.version} does not know it`,
        });
        continue;
      }
      const names = this.opts.model.childrenOf(parentVp).filter((d) => !d.flags.has('CFG_NAME_VARIABLE')).map((d) => d.name);
      const near = nearestName(n.key, names);
      this.add({
        code: isSetting ? 'lvm.setting.unknown' : 'lvm.section.unknown', severity: 'error', span,
        message: `Unknown ${what} '${path}'${near ? `; did you mean '${near}'?` : ''}`,
        fix: near ? { kind: 'rename', name: near } : undefined,
      });
    }
  }

  private checkNode(n: EffectiveNode, parentVp: string): void {
    // Only written as `key` with a syntax error after it: already reported.
    if (!n.value && n.children.length === 0 && n.refs.every((r) => r.item.kind === 'setting')) return;
    let vp = parentVp ? `${parentVp}/${n.key}` : n.key;
    let def = this.opts.model.get(vp);
    if (!def) {
      if (n.value) {
        this.unknown(n, parentVp, vp, true);
        return;
      }
      const variable = parentVp ? `${parentVp}/#` : '#';
      def = this.opts.model.get(variable);
      if (!def) {
        this.unknown(n, parentVp, vp, false);
        return;
      }
      vp = variable;
    }
    if (!this.checkValue(n, def)) return;
    if (!this.checkProfile(n, def)) return;
    this.checkLifecycle(n, def);
    if (!n.value && !def.flags.has('CFG_SECTION_NO_CHECK')) {
      for (const c of n.children) this.checkNode(c, vp);
    }
  }

  /** lvm2's _config_def_check_node_value. Returns false when lvm2 rejects the node. */
  private checkValue(n: EffectiveNode, def: SettingDef): boolean {
    const fail = (code: string, message: string, span = this.valueSpan(n)): false => {
      this.add({ code, severity: 'error', span, message });
      return false;
    };
    if (!n.value) {
      if (def.kind === 'section') return true;
      // lvm2 2.03.16 crashes (SIGSEGV) on this after printing the type warning.
      for (const span of this.keySpans(n)) {
        this.add({ code: 'lvm.type.section-for-setting', severity: 'error', span, message: `'${def.path}' is a setting (${typeName(def)}), not a section: write '${n.key} = value'` });
      }
      return false;
    }
    if (def.kind === 'section') {
      return fail('lvm.type.setting-for-section', `'${def.path}' is a section, not a setting: write '${n.key} { … }'`, n.refs[n.refs.length - 1].span);
    }
    const v: ValueNode = n.value;
    const items = v.kind === 'array' ? v.items : [v];
    if (v.kind === 'array' && v.items.length === 0) {
      if (!def.array) return fail('lvm.type.mismatch', `'${def.path}' takes a ${typeName(def)}, found an empty array`);
      if (!def.flags.has('CFG_ALLOW_EMPTY')) return fail('lvm.value.empty', `'${def.path}' cannot be empty`);
      return true;
    }
    if (items.length > 1 && !def.array) {
      return fail('lvm.type.mismatch', `'${def.path}' takes a single ${typeName(def)}, found an array of ${items.length} values`);
    }
    for (const item of items) {
      const span = item.span;
      if (item.kind === 'int') {
        if (!def.types.includes('int') && !def.types.includes('bool')) {
          return fail('lvm.type.mismatch', `'${def.path}' takes a ${typeName(def)}, found an integer`, span);
        }
      } else if (item.kind === 'float') {
        if (!def.types.includes('float')) {
          return fail('lvm.type.mismatch', `'${def.path}' takes a ${typeName(def)}, found a float (lvm2 settings take no fractions)`, span);
        }
      } else {
        const s = item.value as string;
        if (def.types.includes('bool')) {
          if (!isBoolWord(s)) {
            return fail('lvm.type.bool', `'${def.path}' is a boolean: use 0/1, y/n, yes/no, on/off or true/false, found "${s}"`, span);
          }
        } else if (!def.types.includes('string')) {
          return fail('lvm.type.mismatch', `'${def.path}' takes a ${typeName(def)}, found a string${/^[+-]?\d+$/.test(s) ? ' (remove the quotes)' : ''}`, span);
        } else if (s === '' && !def.flags.has('CFG_ALLOW_EMPTY')) {
          return fail('lvm.value.empty', `'${def.path}' cannot be set to an empty string`, span);
        }
      }
    }
    return this.checkKnownValues(n, def, items);
  }

  /** Values lvm2 refuses at start-up (errors) or silently replaces (warnings). */
  private checkKnownValues(n: EffectiveNode, def: SettingDef, items: ScalarNode[]): boolean {
    const path = def.path;
    if (path === 'global/units') {
      const s = String(items[0].value);
      if (!isValidUnits(s)) {
        this.add({ code: 'lvm.value.rejected', severity: 'error', span: items[0].span, message: `lvm2 refuses units "${s}": use one of r h b s k m g t p e (upper case for powers of 1000), optionally after a positive number, e.g. "4k"` });
        return false;
      }
      return true;
    }
    if (path === 'report/time_format' && items[0]?.kind === 'string') {
      const problem = timeFormatProblem(String(items[0].value));
      if (problem) {
        this.add({ code: 'lvm.value.rejected', severity: 'error', span: items[0].span, message: problem });
        return false;
      }
      return true;
    }
    if (path === 'devices/types') {
      for (let i = 0; i < items.length; i += 2) {
        if (items[i].kind !== 'string') {
          this.add({ code: 'lvm.value.rejected', severity: 'error', span: items[i].span, message: 'devices/types is a list of pairs: a device type name (string) followed by its maximum partition count' });
          return false;
        }
        if (i + 1 >= items.length || items[i + 1].kind !== 'int') {
          this.add({ code: 'lvm.value.rejected', severity: 'error', span: items[i].span, message: `Device type "${String(items[i].value)}" needs its maximum partition count (an integer) after it` });
          return false;
        }
      }
      return true;
    }
    const e = ENUMERATIONS[path];
    if (!e) return true;
    for (const item of items) {
      if (item.kind !== 'string') continue;
      const s = String(item.value);
      const ok = e.values.some((x) => (e.caseInsensitive ? x.toLowerCase() === s.toLowerCase() : x === s));
      if (ok) continue;
      this.add({
        code: e.rejected ? 'lvm.value.rejected' : 'lvm.value.unknown', severity: e.rejected ? 'error' : 'warning', span: item.span,
        message: `${e.rejected ? 'lvm2 refuses' : 'Unknown value'} "${s}" for ${path}${e.rejected ? '' : ' (lvm2 falls back to its default)'}; expected ${e.values.join(', ')}`,
      });
      if (e.rejected) return false;
    }
    void n;
    return true;
  }

  private checkProfile(n: EffectiveNode, def: SettingDef): boolean {
    const kind = this.opts.profile;
    if (!kind) return true;
    const span = n.refs[n.refs.length - 1].span;
    if (!def.flags.has('CFG_PROFILABLE')) {
      this.add({ code: 'lvm.profile.not-profilable', severity: 'error', span, message: `${def.kind === 'section' ? 'Section' : 'Setting'} '${def.path}' cannot be set in a profile` });
      return false;
    }
    // lvm2 refuses metadata-profile items (sections too) in a command profile, but only
    // settings (not sections) lacking the metadata flag in a metadata profile.
    const metadataOk = def.flags.has('CFG_PROFILABLE_METADATA');
    if (kind === 'command' && metadataOk) {
      this.add({ code: 'lvm.profile.metadata-only', severity: 'error', span, message: `'${def.path}' belongs in a metadata profile, not a command profile` });
      return false;
    }
    if (kind === 'metadata' && !metadataOk && n.value) {
      this.add({ code: 'lvm.profile.command-only', severity: 'error', span, message: `'${def.path}' belongs in a command profile, not a metadata profile` });
      return false;
    }
    return true;
  }

  /** Deprecated/removed settings and duplicates: lvm2 accepts them, so these are warnings. */
  private checkLifecycle(n: EffectiveNode, def: SettingDef): void {
    const model = this.opts.model;
    if (model.isDeprecated(def)) {
      const replacement = REPLACED_BY[def.path];
      for (const span of this.keySpans(n)) {
        if (replacement) {
          this.add({ code: 'lvm.setting.deprecated', severity: 'warning', span, message: `'${def.path}' is deprecated since lvm2 ${def.deprecatedSince}; use '${replacement}'`, fix: { kind: 'rename', name: replacement.split('/').pop()! } });
        } else {
          this.add({ code: 'lvm.setting.removed', severity: 'warning', span, message: `'${def.path}' is no longer used since lvm2 ${def.deprecatedSince}: lvm2 ignores it`, fix: { kind: 'remove' } });
        }
      }
    }
    if (n.assignments.length > 1) {
      const last = n.assignments[n.assignments.length - 1];
      for (const a of n.assignments.slice(0, -1)) {
        this.add({ code: 'lvm.setting.duplicate', severity: 'warning', span: a.keySpan, message: `'${def.path}' is set again on line ${last.keySpan.start.line + 1}; lvm2 ignores this value (the last one wins)` });
      }
    }
  }

  /** lvm2 takes the tags section out before checking; only host_list must hold strings. */
  private checkTags(tags: EffectiveNode): void {
    for (const tag of tags.children) {
      if (tag.value) continue;
      const hosts = tag.children.find((c) => c.key === 'host_list');
      if (!hosts?.value) continue;
      const items = hosts.value.kind === 'array' ? hosts.value.items : [hosts.value];
      const bad = items.find((i) => i.kind !== 'string');
      if (bad) {
        this.add({ code: 'lvm.value.rejected', severity: 'error', span: bad.span, message: `host_list of tag '${tag.key}' must list host names as strings` });
      }
    }
  }
}

/** Kind of a profile, from its name or, failing that, from the settings it holds. */
export function detectProfileKind(fileName: string, root: EffectiveNode, model: SettingsModel): ProfileKind {
  if (/metadata/i.test(fileName)) return 'metadata';
  if (/command/i.test(fileName)) return 'command';
  let meta = 0;
  let cmd = 0;
  const walk = (n: EffectiveNode, vp: string): void => {
    for (const c of n.children) {
      const p = vp ? `${vp}/${c.key}` : c.key;
      const def = model.get(p);
      if (def && c.value && def.flags.has('CFG_PROFILABLE')) {
        if (def.flags.has('CFG_PROFILABLE_METADATA')) meta++;
        else cmd++;
      }
      if (!c.value) walk(c, p);
    }
  };
  walk(root, '');
  return meta > cmd ? 'metadata' : 'command';
}

export function checkConfig(parsed: ParseResult, text: string, opts: ConfigCheckOptions): LvmDiagnostic[] {
  const out: LvmDiagnostic[] = parsed.errors.map((e) => ({ code: e.code, message: e.message, span: e.span, severity: e.severity }));
  const checker = new ConfigChecker(opts);
  checker.checkRoot(effectiveTree(parsed.root, text));
  // lvm2 stops at a syntax error; we go on, but drop findings that sit on a syntax error, since
  // they only echo it (e.g. the 'k' of '64k' read as a name).
  const broken = parsed.errors.filter((e) => e.severity === 'error').map((e) => e.span);
  const overlaps = (a: Span, b: Span): boolean => a.start.offset <= b.end.offset && b.start.offset <= a.end.offset;
  return out.concat(checker.out.filter((d) => !broken.some((b) => overlaps(b, d.span))));
}
