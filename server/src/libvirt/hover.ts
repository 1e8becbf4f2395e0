// Hover: what an element or attribute is, what the schema allows there, and sizes in readable units.
import type { TextDocument } from 'vscode-languageserver-textdocument';
import { MarkupKind, type Hover, type Position } from 'vscode-languageserver-types';
import { attributeValues, describeValues, expectedAttributes, expectedElements, expectedValues, requiredAttributes } from '../relaxng/expect';
import { elementAt, type XmlElement } from '../relaxng/xmlParser';
import type { LibvirtAnalyzer } from './analysis';
import { attributeAt, stateAt } from './cursor';
import { sizeInBytes } from './defineChecks';
import { DESCRIPTIONS } from './descriptions';

function human(bytes: number): string {
  const units = ['bytes', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  let v = bytes;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) { v /= 1024; i++; }
  return `${Number.isInteger(v) ? v : v.toFixed(2)} ${units[i]}`;
}

const SIZE_ELEMENTS = new Set(['memory', 'currentMemory', 'maxMemory', 'size', 'capacity', 'allocation', 'hard_limit', 'soft_limit', 'min_guarantee', 'swap_hard_limit']);

export function hover(an: LibvirtAnalyzer, doc: TextDocument, pos: Position): Hover | null {
  const xml = an.parse(doc);
  const offset = doc.offsetAt(pos);
  const el = elementAt(xml.root, offset);
  if (!el || !xml.root) return null;
  let schema;
  try { schema = an.schema(xml.root.local); } catch { schema = undefined; }
  const range = (s: number, e: number) => ({ start: doc.positionAt(s), end: doc.positionAt(e) });
  const inName = (offset >= el.nameStart && offset <= el.nameEnd) || (el.endTagStart !== undefined && offset > el.endTagStart && offset < el.end);
  const a = offset < el.startTagEnd ? attributeAt(el, offset) : undefined;
  const lines: string[] = [];
  if (a) {
    const key = `${el.local}@${a.local}`;
    lines.push(`**${a.name}** — attribute of \`<${el.name}>\``);
    if (DESCRIPTIONS[key] ?? DESCRIPTIONS[`@${a.local}`]) lines.push('', DESCRIPTIONS[key] ?? DESCRIPTIONS[`@${a.local}`]);
    if (schema) {
      const state = stateAt(schema, xml, el, offset, a.name);
      if (state.attributes) {
        const vals = attributeValues(state.attributes, a.ns, a.local);
        if (vals.found) lines.push('', `Allowed: ${describeValues(vals, 30)}`);
      }
    }
    return { contents: { kind: MarkupKind.Markdown, value: lines.join('\n') }, range: range(a.nameStart, a.valueEnd >= 0 ? a.valueEnd + 1 : a.nameEnd) };
  }
  if (!inName && schema && offset >= el.startTagEnd && el.children.every((c) => c.kind === 'text')) {
    // In an element's text: what values it takes.
    const state = stateAt(schema, xml, el, offset);
    const vals = state.content ? expectedValues(schema.derivatives.contentOf(state.content)) : undefined;
    if (vals && (vals.values.length || vals.types.length)) {
      lines.push(`**<${el.name}>** value`, '', `Allowed: ${describeValues(vals, 30)}`);
      const bytes = SIZE_ELEMENTS.has(el.local) ? sizeInBytes(el) : undefined;
      if (bytes !== undefined) lines.push('', `Size: ${human(bytes)} (${bytes} bytes)`);
      return { contents: { kind: MarkupKind.Markdown, value: lines.join('\n') }, range: range(el.startTagEnd, el.endTagStart ?? el.end) };
    }
  }
  if (!inName && !SIZE_ELEMENTS.has(el.local)) return null;
  lines.push(`**<${el.name}>**${el.parent ? ` in \`<${el.parent.name}>\`` : ''}`);
  const desc = DESCRIPTIONS[el.local];
  if (desc) lines.push('', desc);
  const bytes = SIZE_ELEMENTS.has(el.local) ? sizeInBytes(el) : undefined;
  if (bytes !== undefined) lines.push('', `Size: ${human(bytes)} (${bytes} bytes; unit defaults to KiB)`);
  if (schema) describeFromSchema(schema, xml, el, offset, lines);
  return { contents: { kind: MarkupKind.Markdown, value: lines.join('\n') }, range: range(el.nameStart, el.nameEnd) };
}

function describeFromSchema(schema: NonNullable<ReturnType<LibvirtAnalyzer['schema']>>, xml: Parameters<typeof stateAt>[1], el: XmlElement, offset: number, lines: string[]): void {
  const state = stateAt(schema, xml, el, offset);
  if (!state.open) { lines.push('', '_Not allowed here by the libvirt schema._'); return; }
  const d = schema.derivatives;
  const attrs = [...new Set(expectedAttributes(state.open).map((x) => x.local))];
  const required = requiredAttributes(state.open);
  if (attrs.length) lines.push('', `Attributes: ${attrs.map((x) => (required.includes(x) ? `**${x}**` : x)).join(', ')}`);
  const content = d.contentOf(d.startTagClose(d.dropAttributes(state.open)));
  const kids = [...new Set(expectedElements(content).map((x) => x.local))];
  if (kids.length) lines.push('', `Children: ${kids.slice(0, 40).map((k) => `\`<${k}>\``).join(', ')}${kids.length > 40 ? ', …' : ''}`);
}
