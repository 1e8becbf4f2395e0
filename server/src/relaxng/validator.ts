// Validates a parsed document against a compiled schema by walking the tree with derivatives.
// When a step yields notAllowed, the node at fault is reported together with what the pattern
// just before that step would have accepted, and validation recovers (skips the node, or assumes
// the missing part) so one mistake gives one diagnostic, not a cascade.
import { Derivatives } from './derivative';
import {
  acceptsAnyElement, attributeValues, describeElementNames, describeValues, expectedAttributes, expectedElements,
  expectedValues, requiredAttributes, requiredElements,
} from './expect';
import { K, type Pattern } from './patterns';
import { XMLNS_NS, type XmlElement } from './xmlParser';

export interface Issue {
  code: string;
  message: string;
  start: number;
  end: number;
  /** Machine-readable details for quick fixes. */
  data?: { expected?: string[]; got?: string; element?: string; attribute?: string; missing?: string[] };
}

/** Thrown to end a probing run as soon as the probe has what it asked for. */
class ProbeDone extends Error {}

/** Where completion wants the validator's state recorded. */
export interface Probe {
  element: XmlElement;
  /** Content: record the pattern before the first child that starts at/after this offset. */
  offset: number;
  /** Pattern right after the element's startTagOpen (before its attributes). */
  open?: Pattern;
  /** Pattern after the attributes except `skipAttribute` (for attribute-value completion). */
  attributes?: Pattern;
  skipAttribute?: string;
  /** Content pattern at `offset`. */
  content?: Pattern;
  /** The parent's state before this element (for element-name completion). */
  before?: Pattern;
}

/** The candidate within a small edit distance of name, if any (for "did you mean"). */
function closestName(name: string, candidates: string[]): string | undefined {
  let best: string | undefined;
  let bestD = Infinity;
  const a = name.toLowerCase();
  for (const c of new Set(candidates)) {
    const b = c.toLowerCase();
    let prev = Array.from({ length: b.length + 1 }, (_, i) => i);
    for (let i = 1; i <= a.length; i++) {
      const cur = [i];
      for (let j = 1; j <= b.length; j++) cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = cur;
    }
    const d = prev[b.length];
    if (d < bestD) { bestD = d; best = c; }
  }
  return best !== undefined && bestD <= Math.max(1, Math.floor(Math.min(name.length, best.length) / 3)) ? best : undefined;
}

function isWs(s: string): boolean {
  return !/[^ \t\n\r]/.test(s);
}

function trimRange(text: { value: string; start: number; end: number }): { start: number; end: number } {
  const lead = text.value.length - text.value.trimStart().length;
  const trail = text.value.length - text.value.trimEnd().length;
  // value is decoded; offsets are source offsets: map approximately when entities changed lengths.
  const start = text.start + lead;
  const end = Math.max(start + 1, text.end - trail);
  return { start, end };
}

export class Validator {
  readonly issues: Issue[] = [];
  /** Probing runs only follow the state; they build no messages. */
  private readonly quiet: boolean;
  constructor(private readonly d: Derivatives, private readonly knownElements: Set<string>, private readonly probe?: Probe) {
    this.quiet = probe !== undefined;
  }

  validateRoot(start: Pattern, root: XmlElement): void {
    try {
      this.element(start, root, undefined);
    } catch (err) {
      if (!(err instanceof ProbeDone)) throw err;
    }
  }

  /** The probe's content state is the last thing it needs: nothing after it matters. */
  private probeContent(probe: Probe, p: Pattern): never {
    probe.content = p;
    throw new ProbeDone();
  }

  private report(issue: Issue): void {
    this.issues.push(issue);
  }

  element(p: Pattern, el: XmlElement, parentInitial: Pattern | undefined): Pattern {
    const d = this.d;
    const probe = this.probe?.element === el ? this.probe : undefined;
    if (probe) probe.before = p;
    const opened = d.startTagOpen(p, el.ns, el.local);
    if (opened.kind === K.NotAllowed) {
      if (probe) throw new ProbeDone(); // the caller falls back to the element's definitions
      if (!this.quiet) this.unexpectedElement(p, el, parentInitial);
      return p;
    }
    if (probe) probe.open = opened;
    let q = opened;
    for (const a of el.attributes) {
      if (a.ns === XMLNS_NS) continue;
      if (probe && probe.skipAttribute === a.name) continue;
      const next = d.attribute(q, a.ns, a.local, a.value);
      if (next.kind !== K.NotAllowed) { q = next; continue; }
      if (this.quiet) { q = this.acceptAttributeAnyValue(q, a.ns, a.local); continue; }
      const vals = attributeValues(q, a.ns, a.local);
      if (vals.found) {
        const start = a.valueStart >= 0 ? a.valueStart : a.nameStart;
        const end = a.valueStart >= 0 ? Math.max(a.valueEnd, a.valueStart + 1) : a.nameEnd;
        this.report({
          code: 'rng-invalid-attribute-value',
          message: `invalid value '${a.value}' for attribute '${a.name}' of <${el.name}>: expected ${describeValues(vals)}`,
          start, end, data: { expected: vals.values, got: a.value, element: el.name, attribute: a.name },
        });
        // Accept the attribute so a later "missing attribute" does not repeat the complaint.
        q = this.acceptAttributeAnyValue(q, a.ns, a.local);
      } else {
        const allowed = expectedAttributes(opened).map((x) => x.local).filter((x, i, arr) => arr.indexOf(x) === i);
        const already = el.attributes.filter((b) => b !== a && b.name === a.name).length > 0;
        this.report({
          code: 'rng-unknown-attribute',
          message: already
            ? `attribute '${a.name}' is repeated on <${el.name}>`
            : allowed.length
              ? `attribute '${a.name}' is not allowed on <${el.name}>${this.attributeAllowedHere(opened, a.local) ? ' together with the other attributes given' : ''}; allowed: ${allowed.slice(0, 20).join(', ')}${allowed.length > 20 ? ', …' : ''}`
              : `<${el.name}> takes no attributes (got '${a.name}')`,
          start: a.nameStart, end: a.nameEnd, data: { expected: allowed, got: a.name, element: el.name, attribute: a.name },
        });
      }
    }
    if (probe) probe.attributes = q;
    let content = d.startTagClose(q);
    if (content.kind === K.NotAllowed) {
      const missing = this.quiet ? [] : requiredAttributes(q);
      if (!this.quiet) this.report({
        code: 'rng-missing-attribute',
        message: missing.length
          ? `<${el.name}> needs attribute${missing.length > 1 ? 's' : ''} ${missing.map((m) => `'${m}'`).join(', ')}`
          : `<${el.name}> is missing an attribute: one of ${expectedAttributes(q).map((x) => `'${x.local}'`).filter((x, i, arr) => arr.indexOf(x) === i).join(', ')}`,
        start: el.nameStart, end: el.nameEnd, data: { missing, element: el.name },
      });
      content = d.startTagClose(d.dropAttributes(q));
    }
    const initial = content;
    const { p: after, valueFailed } = this.children(content, el, probe);
    let end = d.endTag(after);
    if (end.kind === K.NotAllowed) {
      if (!valueFailed && !this.quiet) {
        const rest = d.contentOf(after);
        const missing = requiredElements(rest);
        const needsText = missing.length === 0 && rest.kind !== K.NotAllowed && expectedElements(rest).length === 0;
        this.report({
          code: 'rng-missing-element',
          message: missing.length
            ? `<${el.name}> needs ${missing.map((m) => `<${m}>`).join(', ')}`
            : needsText
              ? `<${el.name}> needs a value: expected ${describeValues(expectedValues(rest))}`
              : `<${el.name}> is incomplete: expected ${describeElementNames(expectedElements(rest))}`,
          start: el.nameStart, end: el.nameEnd, data: { missing, element: el.name },
        });
      }
      end = d.forceEnd(after);
    }
    void initial;
    return end;
  }

  private attributeAllowedHere(opened: Pattern, local: string): boolean {
    return expectedAttributes(opened).some((x) => x.local === local);
  }

  private acceptAttributeAnyValue(q: Pattern, ns: string, local: string): Pattern {
    const r = this.d.attributeAnyValue(q, ns, local);
    return r.kind === K.NotAllowed ? q : r;
  }

  private unexpectedElement(p: Pattern, el: XmlElement, parentInitial: Pattern | undefined): void {
    const content = this.d.contentOf(p);
    const expected = expectedElements(p.kind === K.After || p.kind === K.Choice ? content : p);
    const parent = el.parent ? `<${el.parent.name}>` : 'the document';
    const known = this.knownElements.has(el.local);
    let message: string;
    let code: string;
    if (!el.parent) {
      code = 'rng-wrong-root';
      message = `the root element must be ${describeElementNames(expectedElements(p))}, not <${el.name}>`;
    } else if (parentInitial && expectedElements(parentInitial).some((n) => n.local === el.local && n.ns === el.ns)) {
      const twice = el.parent.children.some((c) => c !== el && c.kind === 'element' && c.start < el.start && c.local === el.local);
      code = twice ? 'rng-duplicate-element' : 'rng-misplaced-element';
      message = twice
        ? `<${el.name}> may appear only once in ${parent} here`
        : `<${el.name}> is not allowed at this position in ${parent}; expected ${describeElementNames(expected)}`;
    } else {
      code = known ? 'rng-element-not-allowed' : 'rng-unknown-element';
      const guess = closestName(el.local, expected.map((e) => e.local));
      const hint = guess ? `; did you mean <${guess}>?` : expected.length ? `; expected ${describeElementNames(expected)}` : `; ${parent} takes no child elements here`;
      message = known ? `<${el.name}> is not allowed in ${parent}${hint}` : `unknown element <${el.name}> in ${parent}${hint}`;
      if (acceptsAnyElement(content)) message = `<${el.name}> is not allowed here in ${parent}`;
    }
    this.report({ code, message, start: el.nameStart, end: el.nameEnd, data: { expected: expected.map((e) => e.local), got: el.local, element: el.parent?.name } });
  }

  private children(p: Pattern, el: XmlElement, probe: Probe | undefined): { p: Pattern; valueFailed: boolean } {
    const d = this.d;
    const kids = el.children;
    let hasElement = false;
    for (const k of kids) if (k.kind === 'element') { hasElement = true; break; }
    if (!hasElement) {
      if (probe) this.probeContent(probe, p);
      const textNode = kids[0]?.kind === 'text' ? kids[0] : undefined;
      const text = textNode?.value ?? '';
      let r = d.text(p, text);
      if (isWs(text)) r = d.f.choice(p, r);
      if (r.kind === K.NotAllowed) {
        if (this.quiet) return { p: this.skipContent(p), valueFailed: true };
        const rest = d.contentOf(p);
        const vals = expectedValues(rest);
        const range = textNode && !isWs(text) ? trimRange(textNode) : { start: el.nameStart, end: el.nameEnd };
        const onlyElements = !vals.text && vals.values.length === 0 && vals.types.length === 0;
        this.report(onlyElements
          ? { code: 'rng-text-not-allowed', message: `text is not allowed in <${el.name}>`, ...range, data: { element: el.name } }
          : {
            code: 'rng-invalid-value',
            message: `invalid value '${text.trim()}' for <${el.name}>: expected ${describeValues(vals)}`,
            ...range, data: { expected: vals.values, got: text.trim(), element: el.name },
          });
        return { p: d.forceEnd(p) === d.f.notAllowed ? p : this.skipContent(p), valueFailed: true };
      }
      return { p: r, valueFailed: false };
    }
    const initial = p;
    for (const k of kids) {
      if (probe && k.start >= probe.offset) this.probeContent(probe, p);
      if (k.kind === 'text') {
        if (isWs(k.value)) continue;
        const r = d.text(p, k.value);
        if (r.kind === K.NotAllowed) {
          if (!this.quiet) this.report({ code: 'rng-text-not-allowed', message: `text is not allowed here in <${el.name}>`, ...trimRange(k), data: { element: el.name } });
        } else {
          p = r;
        }
        continue;
      }
      p = this.element(p, k, initial);
    }
    if (probe) this.probeContent(probe, p);
    return { p, valueFailed: false };
  }

  /** After a bad value: an After whose content is satisfied, so the end tag succeeds. */
  private skipContent(p: Pattern): Pattern {
    return this.d.f.after(this.d.f.empty, this.d.forceEnd(p));
  }
}
