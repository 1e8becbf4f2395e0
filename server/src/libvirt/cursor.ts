// What the cursor is on, in terms the schema understands: for completion and hover we replay the
// validator up to the cursor (cheap: derivatives are memoised) and read the pattern it holds there.
import { K, type Pattern } from '../relaxng/patterns';
import type { CompiledSchema } from '../relaxng/schema';
import type { Probe } from '../relaxng/validator';
import { elementAt, type XmlAttribute, type XmlDocument, type XmlElement } from '../relaxng/xmlParser';

export type CursorContext =
  | { kind: 'elementName'; partial: string; start: number; parent?: XmlElement; element?: XmlElement }
  | { kind: 'endTag'; partial: string; start: number; open?: XmlElement }
  | { kind: 'attributeName'; partial: string; start: number; element: XmlElement }
  | { kind: 'attributeValue'; partial: string; start: number; end: number; element: XmlElement; attribute: string; quote: string }
  | { kind: 'content'; element: XmlElement; start: number }
  | { kind: 'none' };

const NAME = /[A-Za-z0-9_:.-]*$/;

/** Classifies the cursor position by looking back from it in the raw text. */
export function cursorContext(xml: XmlDocument, offset: number): CursorContext {
  const t = xml.text;
  const lt = t.lastIndexOf('<', offset - 1);
  const gt = t.lastIndexOf('>', offset - 1);
  if (lt > gt) {
    const inside = t.slice(lt + 1, offset);
    if (inside.startsWith('!') || inside.startsWith('?')) return { kind: 'none' };
    if (inside.startsWith('/')) {
      const partial = inside.slice(1);
      if (!/^[A-Za-z0-9_:.-]*$/.test(partial)) return { kind: 'none' };
      return { kind: 'endTag', partial, start: lt + 2, open: innermostOpen(xml, lt) };
    }
    if (/^[A-Za-z0-9_:.-]*$/.test(inside)) {
      const el = elementStartingAt(xml, lt);
      return { kind: 'elementName', partial: inside, start: lt + 1, parent: el?.parent ?? containerAt(xml, lt), element: el };
    }
    const element = elementStartingAt(xml, lt);
    if (!element) return { kind: 'none' };
    // Inside a quoted value?
    const m = /([A-Za-z_][A-Za-z0-9_:.-]*)\s*=\s*(["'])([^"']*)$/.exec(inside);
    if (m && countQuotes(inside.slice(0, inside.length - m[0].length)) % 2 === 0) {
      const start = offset - m[3].length;
      const close = t.indexOf(m[2], offset);
      const stop = t.indexOf('>', offset);
      const end = close >= 0 && (stop < 0 || close < stop) ? close : offset;
      return { kind: 'attributeValue', partial: m[3], start, end, element, attribute: m[1], quote: m[2] };
    }
    if (countQuotes(inside) % 2 === 1) return { kind: 'none' };
    const partial = NAME.exec(inside)![0];
    const before = inside[inside.length - partial.length - 1];
    if (before !== undefined && !/\s/.test(before)) return { kind: 'none' };
    return { kind: 'attributeName', partial, start: offset - partial.length, element };
  }
  const element = containerAt(xml, offset);
  if (!element) return { kind: 'none' };
  return { kind: 'content', element, start: offset };
}

function countQuotes(s: string): number {
  let n = 0;
  let q = '';
  for (const c of s) {
    if (q) { if (c === q) { q = ''; n++; } } else if (c === '"' || c === "'") { q = c; n++; }
  }
  return n;
}

function elementStartingAt(xml: XmlDocument, lt: number): XmlElement | undefined {
  let cur = xml.root;
  while (cur) {
    if (cur.start === lt) return cur;
    let next: XmlElement | undefined;
    for (const c of cur.children) if (c.kind === 'element' && c.start <= lt && (lt < c.end || !c.closed || c.start === lt)) next = c;
    cur = next;
  }
  return undefined;
}

/** The element whose content holds offset (not counting one that starts exactly there). */
function containerAt(xml: XmlDocument, offset: number): XmlElement | undefined {
  let el = elementAt(xml.root, offset);
  while (el && (el.start === offset || offset < el.startTagEnd || (el.closed && el.endTagStart !== undefined && offset > el.endTagStart))) el = el.parent;
  return el;
}

function innermostOpen(xml: XmlDocument, offset: number): XmlElement | undefined {
  let el = containerAt(xml, offset);
  while (el && el.closed && el.endTagStart !== undefined && el.endTagStart !== offset) el = el.parent;
  return el;
}

export interface SchemaState {
  /** Content pattern (After-wrapped) before the cursor in `element`'s content. */
  content?: Pattern;
  /** Pattern after startTagOpen of the element the cursor's tag belongs to. */
  open?: Pattern;
  /** Pattern after that element's other attributes. */
  attributes?: Pattern;
  /** The element's own parent state (for the name being typed). */
  before?: Pattern;
}

/** Replays validation with a probe at the cursor. */
export function stateAt(schema: CompiledSchema, xml: XmlDocument, element: XmlElement, offset: number, skipAttribute?: string): SchemaState {
  if (!xml.root) return {};
  const probe: Probe = { element, offset, skipAttribute };
  schema.validate(xml.root, probe);
  let { open } = probe;
  let attributes = probe.attributes;
  if (!open) {
    // The element is not allowed where it is: fall back to every schema element of that name.
    const f = schema.derivatives.f;
    const candidates = schema.elementsByName.get(element.local) ?? [];
    open = candidates.reduce<Pattern>((acc, el) => f.choice(acc, f.after(el.content!, f.empty)), f.notAllowed);
    if (open.kind === K.NotAllowed) open = undefined;
    attributes = open;
    if (open) {
      for (const a of element.attributes) {
        if (a.name === skipAttribute || a.name.startsWith('xmlns')) continue;
        const next = schema.derivatives.attribute(attributes!, a.ns, a.local, a.value);
        if (next.kind !== K.NotAllowed) attributes = next;
      }
    }
  }
  return { content: probe.content, open, attributes, before: probe.before };
}

export function attributeAt(el: XmlElement, offset: number): XmlAttribute | undefined {
  return el.attributes.find((a) => offset >= a.nameStart && offset <= (a.valueEnd >= 0 ? a.valueEnd + 1 : a.nameEnd));
}
