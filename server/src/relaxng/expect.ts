// Reading a derivative back: what may come next at a point of a document. Used to explain errors
// ("expected one of ...") and to offer completions, from the very pattern the validator holds.
import { describeNameClass, hasWildcard, listNames, nameMatches } from './nameClass';
import { K, type Pattern } from './patterns';

export interface NameInfo { ns: string; local: string; pattern: Pattern }

function visit(p: Pattern, seen: Set<number>, fn: (p: Pattern) => boolean | void): void {
  if (seen.has(p.id)) return;
  seen.add(p.id);
  if (fn(p) === false) return;
  switch (p.kind) {
    case K.Choice: case K.Interleave: visit(p.a!, seen, fn); visit(p.b!, seen, fn); break;
    case K.Group: visit(p.a!, seen, fn); if (p.a!.nullable) visit(p.b!, seen, fn); break;
    case K.OneOrMore: visit(p.a!, seen, fn); break;
    case K.After: visit(p.a!, seen, fn); break;
  }
}

/** Element patterns that may start next in content pattern p. */
export function expectedElements(p: Pattern): NameInfo[] {
  const out: NameInfo[] = [];
  const seenNames = new Set<string>();
  visit(p, new Set(), (q) => {
    if (q.kind !== K.Element) return;
    for (const n of listNames(q.nc!)) {
      const key = `${n.ns}|${n.local}|${q.id}`;
      if (!seenNames.has(key)) { seenNames.add(key); out.push({ ...n, pattern: q }); }
    }
    return false;
  });
  return out;
}

/** Does content pattern p accept any element name (a wildcard such as <metadata>'s)? */
export function acceptsAnyElement(p: Pattern): boolean {
  let any = false;
  visit(p, new Set(), (q) => { if (q.kind === K.Element && hasWildcard(q.nc!)) any = true; return q.kind !== K.Element; });
  return any;
}

/** Attribute patterns still pending in p (after startTagOpen, before startTagClose). */
export function expectedAttributes(p: Pattern): NameInfo[] {
  const out: NameInfo[] = [];
  const seen = new Set<number>();
  const walk = (q: Pattern) => {
    if (seen.has(q.id)) return;
    seen.add(q.id);
    switch (q.kind) {
      case K.Attribute: for (const n of listNames(q.nc!)) out.push({ ...n, pattern: q }); break;
      case K.Choice: case K.Interleave: case K.Group: walk(q.a!); walk(q.b!); break;
      case K.OneOrMore: case K.After: walk(q.a!); break;
    }
  };
  walk(p);
  return out;
}

/**
 * Names of the attributes (or elements) that must still appear: those in every alternative of p.
 * A nullable pattern requires nothing; a name class with several names requires no single name.
 */
function requiredNames(p: Pattern, kind: K.Attribute | K.Element): string[] {
  const memo = new Map<number, Set<string>>();
  const req = (q: Pattern): Set<string> => {
    const hit = memo.get(q.id);
    if (hit) return hit;
    let r: Set<string>;
    if (q.nullable) r = new Set();
    else if (q.kind === kind) {
      const names = listNames(q.nc!);
      r = new Set(names.length === 1 ? [names[0].local] : []);
    } else {
      switch (q.kind) {
        case K.Group: case K.Interleave: r = new Set([...req(q.a!), ...req(q.b!)]); break;
        case K.Choice: { const a = req(q.a!), b = req(q.b!); r = new Set([...a].filter((x) => b.has(x))); break; }
        case K.OneOrMore: case K.After: r = req(q.a!); break;
        default: r = new Set();
      }
    }
    memo.set(q.id, r);
    return r;
  };
  return [...req(p)];
}

/** Attributes that must still be given: present in every alternative of p. */
export function requiredAttributes(p: Pattern): string[] {
  return requiredNames(p, K.Attribute);
}

/** Elements that must still appear in content pattern p (in every alternative). */
export function requiredElements(p: Pattern): string[] {
  return requiredNames(p, K.Element);
}

export interface ValueInfo { values: string[]; types: string[]; text: boolean }

/** The literal values and datatypes text may take in p. */
export function expectedValues(p: Pattern): ValueInfo {
  const values: string[] = [];
  const types: string[] = [];
  let text = false;
  const seen = new Set<number>();
  const walk = (q: Pattern) => {
    if (seen.has(q.id)) return;
    seen.add(q.id);
    switch (q.kind) {
      case K.Value: if (!values.includes(q.value!)) values.push(q.value!); break;
      case K.Data: { const d = q.dt!.describe(); if (!types.includes(d)) types.push(d); break; }
      case K.Text: text = true; break;
      case K.List: walk(q.a!); break;
      case K.Choice: case K.Interleave: walk(q.a!); walk(q.b!); break;
      case K.Group: walk(q.a!); if (q.a!.nullable) walk(q.b!); break;
      case K.OneOrMore: case K.After: walk(q.a!); break;
    }
  };
  walk(p);
  return { values, types, text };
}

/** The values an attribute named (ns, local) may take in p (choice branches included). */
export function attributeValues(p: Pattern, ns: string, local: string): ValueInfo & { found: boolean } {
  const atts = expectedAttributes(p).filter((a) => nameMatches(a.pattern.nc!, ns, local) || (a.ns === ns && a.local === local));
  const res: ValueInfo & { found: boolean } = { values: [], types: [], text: false, found: atts.length > 0 };
  const seen = new Set<number>();
  for (const a of atts) {
    if (seen.has(a.pattern.id)) continue;
    seen.add(a.pattern.id);
    const v = expectedValues(a.pattern.a!);
    for (const x of v.values) if (!res.values.includes(x)) res.values.push(x);
    for (const x of v.types) if (!res.types.includes(x)) res.types.push(x);
    res.text ||= v.text;
  }
  return res;
}

/** Does p allow non-whitespace text right now? */
export function allowsText(p: Pattern): boolean {
  const v = expectedValues(p);
  return v.text || v.values.length > 0 || v.types.length > 0;
}

export function describeValues(v: ValueInfo, max = 12): string {
  const parts: string[] = [];
  const shown = v.values.slice(0, max).map((x) => `'${x}'`);
  if (shown.length) parts.push(shown.join(', ') + (v.values.length > max ? `, … (${v.values.length} values)` : ''));
  for (const t of v.types) parts.push(`${/^[aeiouAEIOU]/.test(t) ? 'an' : 'a'} ${t}`);
  if (v.text) parts.push('any text');
  return parts.length > 1 ? `one of ${parts.join(', ')}` : parts.length === 1 ? (v.values.length > 1 ? `one of ${parts[0]}` : parts[0]) : 'nothing';
}

export function describeElementNames(list: NameInfo[], max = 15): string {
  const names = [...new Set(list.map((n) => `<${n.local}>`))].sort();
  if (names.length === 0) return 'no elements';
  return names.slice(0, max).join(', ') + (names.length > max ? `, … (${names.length} in all)` : '');
}

export { describeNameClass };
