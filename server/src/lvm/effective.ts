// lvm2's view of a parsed text: path keys (`devices/scan_lvs`) expanded, repeated sections
// merged, a repeated setting replaced by its last value. Mirrors libdm's _find_or_make_node,
// quirks included: a key can end up holding both a value and children (`a = 1 a { b = 2 }`),
// and a trailing '/' makes a node with an empty name. Each node remembers the syntax nodes
// (and the part of their key) that made it, so diagnostics land on what the user wrote.
import type { ItemNode, SectionNode, SettingNode, Span, ValueNode } from './ast';
import { LineMap } from './lineMap';

export interface KeyRef {
  item: ItemNode;
  /** The part of the written key naming this node (one path segment). */
  span: Span;
}

export interface EffectiveNode {
  key: string;
  parent?: EffectiveNode;
  /** In order of first appearance, as lvm2 keeps them. */
  children: EffectiveNode[];
  /** The value in force (the last one written), if any was written. */
  value?: ValueNode;
  /** Every assignment of a value to this node, in text order. */
  assignments: SettingNode[];
  /** Every place the node's name was written (sections, settings, path segments). */
  refs: KeyRef[];
}

/** Splits a key at '/' the way libdm does: leading slashes of each segment are dropped. */
export function pathSegments(key: string): { name: string; start: number; end: number }[] {
  const segs: { name: string; start: number; end: number }[] = [];
  let p = 0;
  for (;;) {
    while (p < key.length && key[p] === '/') p++;
    let e = p;
    while (e < key.length && key[e] !== '/') e++;
    segs.push({ name: key.slice(p, e), start: p, end: e });
    if (e >= key.length) break;
    p = e;
  }
  return segs;
}

function segmentSpan(item: ItemNode, seg: { start: number; end: number }, lines: LineMap | undefined, whole: boolean): Span {
  if (whole || item.quotedKey || !lines) return item.keySpan;
  const base = item.keySpan.start.offset;
  return lines.span(base + seg.start, base + seg.end);
}

function child(parent: EffectiveNode, key: string): EffectiveNode {
  let n = parent.children.find((c) => c.key === key);
  if (!n) {
    n = { key, parent, children: [], assignments: [], refs: [] };
    parent.children.push(n);
  }
  return n;
}

function addItems(parent: EffectiveNode, items: ItemNode[], lines: LineMap | undefined): void {
  for (const item of items) {
    const segs = pathSegments(item.key);
    let node = parent;
    for (const seg of segs) {
      node = child(node, seg.name);
      node.refs.push({ item, span: segmentSpan(item, seg, lines, segs.length === 1) });
    }
    if (item.kind === 'section') addItems(node, item.children, lines);
    else if (item.value) {
      node.value = item.value;
      node.assignments.push(item);
    }
  }
}

/** Builds lvm2's merged tree. Pass the text to get per-segment spans for path keys. */
export function effectiveTree(root: SectionNode, text?: string): EffectiveNode {
  const top: EffectiveNode = { key: '', children: [], assignments: [], refs: [] };
  addItems(top, root.children, text === undefined ? undefined : new LineMap(text));
  return top;
}

export function effectivePath(node: EffectiveNode): string {
  const parts: string[] = [];
  for (let n: EffectiveNode | undefined = node; n && n.parent; n = n.parent) parts.unshift(n.key);
  return parts.join('/');
}

export type PlainScalar = number | string;
export type PlainValue = PlainScalar | PlainScalar[];
export interface PlainSection { [key: string]: PlainValue | PlainSection }

export function plainValue(v: ValueNode): PlainValue {
  return v.kind === 'array' ? v.items.map((i) => i.value) : v.value;
}

/**
 * The text as a plain JS value tree, the way lvm2 reads it: sections are objects, settings are
 * numbers, strings or arrays. A node holding both a value and children (possible only in
 * malformed text) keeps its value, as lvm2 does.
 */
export function toPlain(root: SectionNode): PlainSection {
  const convert = (n: EffectiveNode): PlainSection => {
    const out: PlainSection = {};
    for (const c of n.children) {
      // defineProperty: a key such as "__proto__" in untrusted metadata must stay plain data.
      Object.defineProperty(out, c.key, { value: c.value ? plainValue(c.value) : convert(c), enumerable: true, writable: true, configurable: true });
    }
    return out;
  };
  return convert(effectiveTree(root));
}
