// Small helpers to walk parsed libvirt XML by element names.
import { attr, childElements, textContent, type XmlAttribute, type XmlElement } from '../relaxng/xmlParser';

export { attr, childElements, textContent };

export function child(el: XmlElement | undefined, name: string): XmlElement | undefined {
  if (!el) return undefined;
  for (const c of el.children) if (c.kind === 'element' && c.local === name) return c;
  return undefined;
}

export function children(el: XmlElement | undefined, name: string): XmlElement[] {
  if (!el) return [];
  const out: XmlElement[] = [];
  for (const c of el.children) if (c.kind === 'element' && c.local === name) out.push(c);
  return out;
}

/** Follows a path of child names: path(domain, 'devices', 'disk'). */
export function path(el: XmlElement | undefined, ...names: string[]): XmlElement | undefined {
  let cur = el;
  for (const n of names) cur = child(cur, n);
  return cur;
}

export function attrValue(el: XmlElement | undefined, name: string): string | undefined {
  return el ? attr(el, name)?.value : undefined;
}

/** Every element below el (depth first, document order). */
export function* descendants(el: XmlElement): Generator<XmlElement> {
  for (const c of el.children) {
    if (c.kind === 'element') {
      yield c;
      yield* descendants(c);
    }
  }
}

/** Source range of an attribute's value (or its name when it has none). */
export function valueRange(a: XmlAttribute): { start: number; end: number } {
  return a.valueStart >= 0 ? { start: a.valueStart, end: Math.max(a.valueEnd, a.valueStart + 1) } : { start: a.nameStart, end: a.nameEnd };
}

/** Source range of an element's (trimmed) text, or of its name when it has none. */
export function textRange(el: XmlElement): { start: number; end: number } {
  for (const c of el.children) {
    if (c.kind === 'text' && c.value.trim()) {
      const lead = c.value.length - c.value.trimStart().length;
      const trail = c.value.length - c.value.trimEnd().length;
      return { start: c.start + lead, end: Math.max(c.start + lead + 1, c.end - trail) };
    }
  }
  return nameRange(el);
}

export function nameRange(el: XmlElement): { start: number; end: number } {
  return { start: el.nameStart, end: el.nameEnd };
}
