// The LVM text-metadata adapter: parseMetadataText() turns VG text into plain nested sections,
// using the language server's positioned LVM parser (server/src/lvm/parser.ts) so both read the
// text exactly alike. Everything else in this directory only sees ConfigSection.
import { hasSyntaxErrors, parse } from '../../../../server/src/lvm/parser';
import type { SectionNode, ValueNode } from '../../../../server/src/lvm/parser';
import { ImageError } from '../../block/blockDevice';

export type ConfigValue = string | number | ConfigValue[];
export interface ConfigSection { [key: string]: ConfigValue | ConfigSection }

export function isSection(v: ConfigValue | ConfigSection | undefined): v is ConfigSection {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function valueOf(v: ValueNode): ConfigValue {
  return v.kind === 'array' ? v.items.map((i) => i.value) : v.value;
}

/** Repeated sections merge and a repeated key's last value wins, as lvm2 reads its config tree. */
function toSection(node: SectionNode): ConfigSection {
  const out: ConfigSection = {};
  for (const child of node.children) {
    if (child.kind === 'section') {
      const prev = out[child.key];
      const sec = toSection(child);
      out[child.key] = isSection(prev) ? { ...prev, ...sec } : sec;
    } else if (child.value) {
      out[child.key] = valueOf(child.value);
    }
  }
  return out;
}

/** Parses LVM text metadata; text lvm2 would refuse is an ImageError naming line and column. */
export function parseMetadataText(text: string): ConfigSection {
  const result = parse(text);
  if (hasSyntaxErrors(result)) {
    const e = result.errors.find((x) => x.severity === 'error')!;
    throw new ImageError(`LVM metadata text: ${e.message} at line ${e.span.start.line + 1}, column ${e.span.start.character + 1}`, 'metadata text', e.span.start.offset);
  }
  return toSection(result.root);
}
