// Text for hover and completion: what a setting is, its type, default and versions.
import { ENUMERATIONS } from './enumerations';
import { OWN_DESCRIPTIONS } from './ownDescriptions';
import { REPLACED_BY, typeName, type SettingDef, type SettingsModel } from './settings';

export function shortDetail(def: SettingDef): string {
  if (def.kind === 'section') return `section · since ${def.since}`;
  const parts = [typeName(def)];
  if (def.defaultText !== undefined) parts.push(`default ${def.defaultText}`);
  else if (def.runtimeDefault) parts.push('default computed at run time');
  parts.push(`since ${def.since}`);
  return parts.join(' · ');
}

/** Markdown describing a setting; `lvmText` is lvm2's own description when lvm2 is installed. */
export function describe(def: SettingDef, model: SettingsModel, lvmText: string | undefined): string {
  const lines: string[] = [`**${def.path}** — ${def.kind === 'section' ? 'section' : typeName(def)}`, ''];
  const text = lvmText ?? OWN_DESCRIPTIONS[def.vpath];
  if (text) lines.push(text, '');
  const known = ENUMERATIONS[def.path];
  if (known) lines.push(`Values: ${known.values.map((v) => `\`${v}\``).join(', ')}${known.rejected ? ' (lvm2 refuses others)' : ''}`);
  if (def.kind === 'setting') {
    if (def.defaultText !== undefined) lines.push(`Default: \`${def.defaultText}\``);
    else if (def.runtimeDefault) lines.push('Default: computed by lvm2 at run time');
    else lines.push('Default: none');
  }
  lines.push(`Since lvm2 ${def.since}`);
  if (model.isDeprecated(def)) {
    const r = REPLACED_BY[def.path];
    lines.push(r ? `Deprecated since ${def.deprecatedSince}: use \`${r}\`` : `No longer used since ${def.deprecatedSince}: lvm2 ignores it`);
  }
  const notes: string[] = [];
  if (def.flags.has('CFG_PROFILABLE_METADATA')) notes.push('can be set in a metadata profile');
  else if (def.flags.has('CFG_PROFILABLE')) notes.push('can be set in a command profile');
  if (def.flags.has('CFG_ADVANCED')) notes.push('advanced');
  if (def.flags.has('CFG_UNSUPPORTED')) notes.push('not officially supported');
  if (def.flags.has('CFG_ALLOW_EMPTY')) notes.push('may be empty');
  if (notes.length) lines.push(`(${notes.join('; ')})`);
  return lines.join('  \n').replace(/ {2}\n {2}\n/g, '\n\n');
}
