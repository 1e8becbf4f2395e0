// James Clark's derivative algorithm for RelaxNG ("An algorithm for RELAX NG validation"), over
// the interned patterns of patterns.ts. Each derivative is memoised on the pattern object, so the
// second time a document (or a similar one) is validated almost every step is a map lookup.
import { nameMatches } from './nameClass';
import { K, type Pattern, type PatternFactory } from './patterns';

/** Interned (namespace, local name) pairs, so memo keys are small integers. */
export class NameTable {
  private readonly ids = new Map<string, number>();
  id(ns: string, local: string): number {
    const key = ns ? `{${ns}}${local}` : local;
    let id = this.ids.get(key);
    if (id === undefined) this.ids.set(key, (id = this.ids.size));
    return id;
  }
}

const MAX_VALUE_MEMO = 64;

function isWhitespace(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c !== 32 && c !== 9 && c !== 10 && c !== 13) return false;
  }
  return true;
}

export class Derivatives {
  readonly names = new NameTable();
  constructor(readonly f: PatternFactory) {}

  /** Applies fn to the second half of every After at the top of p. */
  private applyAfter(p: Pattern, fn: (x: Pattern) => Pattern): Pattern {
    switch (p.kind) {
      case K.After: return this.f.after(p.a!, fn(p.b!));
      case K.Choice: return this.f.choice(this.applyAfter(p.a!, fn), this.applyAfter(p.b!, fn));
      default: return this.f.notAllowed;
    }
  }

  startTagOpen(p: Pattern, ns: string, local: string): Pattern {
    return this.open(p, this.names.id(ns, local), ns, local);
  }

  private open(p: Pattern, nameId: number, ns: string, local: string): Pattern {
    const memo = p.memoOpen;
    const hit = memo?.get(nameId);
    if (hit) return hit;
    const f = this.f;
    let r: Pattern;
    switch (p.kind) {
      case K.Choice: r = f.choice(this.open(p.a!, nameId, ns, local), this.open(p.b!, nameId, ns, local)); break;
      case K.Element: r = nameMatches(p.nc!, ns, local) ? f.after(p.content!, f.empty) : f.notAllowed; break;
      case K.Interleave: {
        const a = p.a!, b = p.b!;
        r = f.choice(
          this.applyAfter(this.open(a, nameId, ns, local), (x) => f.interleave(x, b)),
          this.applyAfter(this.open(b, nameId, ns, local), (x) => f.interleave(a, x)));
        break;
      }
      case K.OneOrMore: {
        const rest = f.choice(p, f.empty);
        r = this.applyAfter(this.open(p.a!, nameId, ns, local), (x) => f.group(x, rest));
        break;
      }
      case K.Group: {
        const b = p.b!;
        const x = this.applyAfter(this.open(p.a!, nameId, ns, local), (y) => f.group(y, b));
        r = p.a!.nullable ? f.choice(x, this.open(b, nameId, ns, local)) : x;
        break;
      }
      case K.After: {
        const b = p.b!;
        r = this.applyAfter(this.open(p.a!, nameId, ns, local), (y) => f.after(y, b));
        break;
      }
      default: r = f.notAllowed;
    }
    (p.memoOpen ??= new Map()).set(nameId, r);
    return r;
  }

  attribute(p: Pattern, ns: string, local: string, value: string): Pattern {
    const key = `${this.names.id(ns, local)}\u0000${value}`;
    return this.att(p, key, ns, local, value);
  }

  private att(p: Pattern, key: string, ns: string, local: string, value: string): Pattern {
    const memo = p.memoAtt;
    const hit = memo?.get(key);
    if (hit) return hit;
    const f = this.f;
    let r: Pattern;
    switch (p.kind) {
      case K.After: r = f.after(this.att(p.a!, key, ns, local, value), p.b!); break;
      case K.Choice: r = f.choice(this.att(p.a!, key, ns, local, value), this.att(p.b!, key, ns, local, value)); break;
      case K.Group: r = f.choice(f.group(this.att(p.a!, key, ns, local, value), p.b!), f.group(p.a!, this.att(p.b!, key, ns, local, value))); break;
      case K.Interleave: r = f.choice(f.interleave(this.att(p.a!, key, ns, local, value), p.b!), f.interleave(p.a!, this.att(p.b!, key, ns, local, value))); break;
      case K.OneOrMore: r = f.group(this.att(p.a!, key, ns, local, value), f.choice(p, f.empty)); break;
      case K.Attribute: r = nameMatches(p.nc!, ns, local) && this.valueMatch(p.a!, value) ? f.empty : f.notAllowed; break;
      default: r = f.notAllowed;
    }
    const m = (p.memoAtt ??= new Map());
    if (m.size >= MAX_VALUE_MEMO) m.clear();
    m.set(key, r);
    return r;
  }

  valueMatch(p: Pattern, s: string): boolean {
    return (p.nullable && isWhitespace(s)) || this.text(p, s).nullable;
  }

  startTagClose(p: Pattern): Pattern {
    if (p.memoClose) return p.memoClose;
    const f = this.f;
    let r: Pattern;
    switch (p.kind) {
      case K.After: r = f.after(this.startTagClose(p.a!), p.b!); break;
      case K.Choice: r = f.choice(this.startTagClose(p.a!), this.startTagClose(p.b!)); break;
      case K.Group: r = f.group(this.startTagClose(p.a!), this.startTagClose(p.b!)); break;
      case K.Interleave: r = f.interleave(this.startTagClose(p.a!), this.startTagClose(p.b!)); break;
      case K.OneOrMore: r = f.oneOrMore(this.startTagClose(p.a!)); break;
      case K.Attribute: r = f.notAllowed; break;
      default: r = p;
    }
    p.memoClose = r;
    return r;
  }

  text(p: Pattern, s: string): Pattern {
    const memo = p.memoText;
    const hit = memo?.get(s);
    if (hit) return hit;
    const f = this.f;
    let r: Pattern;
    switch (p.kind) {
      case K.Choice: r = f.choice(this.text(p.a!, s), this.text(p.b!, s)); break;
      case K.Interleave: r = f.choice(f.interleave(this.text(p.a!, s), p.b!), f.interleave(p.a!, this.text(p.b!, s))); break;
      case K.Group: {
        const x = f.group(this.text(p.a!, s), p.b!);
        r = p.a!.nullable ? f.choice(x, this.text(p.b!, s)) : x;
        break;
      }
      case K.After: r = f.after(this.text(p.a!, s), p.b!); break;
      case K.OneOrMore: r = f.group(this.text(p.a!, s), f.choice(p, f.empty)); break;
      case K.Text: r = p; break;
      case K.Value: r = p.dt!.equal(p.value!, s) ? f.empty : f.notAllowed; break;
      case K.Data: r = p.dt!.allows(s) && (!p.a || !this.valueMatch(p.a, s)) ? f.empty : f.notAllowed; break;
      case K.List: r = this.list(p.a!, s).nullable ? f.empty : f.notAllowed; break;
      default: r = f.notAllowed;
    }
    const m = (p.memoText ??= new Map());
    if (m.size >= MAX_VALUE_MEMO) m.clear();
    m.set(s, r);
    return r;
  }

  private list(p: Pattern, s: string): Pattern {
    let q = p;
    for (const w of s.split(/[ \t\n\r]+/)) if (w) q = this.text(q, w);
    return q;
  }

  endTag(p: Pattern): Pattern {
    if (p.memoEnd) return p.memoEnd;
    let r: Pattern;
    switch (p.kind) {
      case K.Choice: r = this.f.choice(this.endTag(p.a!), this.endTag(p.b!)); break;
      case K.After: r = p.a!.nullable ? p.b! : this.f.notAllowed; break;
      default: r = this.f.notAllowed;
    }
    p.memoEnd = r;
    return r;
  }

  /** Recovery after a bad attribute value: consume the attribute whatever its value. */
  attributeAnyValue(p: Pattern, ns: string, local: string): Pattern {
    const f = this.f;
    const r = (q: Pattern): Pattern => {
      switch (q.kind) {
        case K.After: return f.after(r(q.a!), q.b!);
        case K.Choice: return f.choice(r(q.a!), r(q.b!));
        case K.Group: return f.choice(f.group(r(q.a!), q.b!), f.group(q.a!, r(q.b!)));
        case K.Interleave: return f.choice(f.interleave(r(q.a!), q.b!), f.interleave(q.a!, r(q.b!)));
        case K.OneOrMore: return f.group(r(q.a!), f.choice(q, f.empty));
        case K.Attribute: return nameMatches(q.nc!, ns, local) ? f.empty : f.notAllowed;
        default: return f.notAllowed;
      }
    };
    return r(p);
  }

  /** Recovery after a missing required attribute: pretend every pending attribute was given. */
  dropAttributes(p: Pattern): Pattern {
    if (p.memoDrop) return p.memoDrop;
    const f = this.f;
    let r: Pattern;
    switch (p.kind) {
      case K.After: r = f.after(this.dropAttributes(p.a!), p.b!); break;
      case K.Choice: r = f.choice(this.dropAttributes(p.a!), this.dropAttributes(p.b!)); break;
      case K.Group: r = f.group(this.dropAttributes(p.a!), this.dropAttributes(p.b!)); break;
      case K.Interleave: r = f.interleave(this.dropAttributes(p.a!), this.dropAttributes(p.b!)); break;
      case K.OneOrMore: r = f.oneOrMore(this.dropAttributes(p.a!)); break;
      case K.Attribute: r = f.empty; break;
      default: r = p;
    }
    p.memoDrop = r;
    return r;
  }

  /** Recovery after incomplete content: what follows the element, whatever its content lacked. */
  forceEnd(p: Pattern): Pattern {
    switch (p.kind) {
      case K.Choice: return this.f.choice(this.forceEnd(p.a!), this.forceEnd(p.b!));
      case K.After: return p.b!;
      default: return this.f.notAllowed;
    }
  }

  /** The content half of the top-level Afters (the pattern for the open element's content). */
  contentOf(p: Pattern): Pattern {
    switch (p.kind) {
      case K.Choice: return this.f.choice(this.contentOf(p.a!), this.contentOf(p.b!));
      case K.After: return p.a!;
      default: return this.f.notAllowed;
    }
  }
}
