// The simplified RelaxNG pattern algebra, hash-consed: structurally equal patterns are the same
// object with the same id, so derivatives can be memoised per pattern and choices deduplicated
// (without that, interleave derivatives grow without bound).
import type { NameClass } from './nameClass';
import type { Datatype } from './datatypes';

export const enum K {
  Empty, NotAllowed, Text, Choice, Interleave, Group, OneOrMore, List, Data, Value, Attribute, Element, After,
}

export interface SourceRef { file: string; offset: number }

export class Pattern {
  /** Derivative caches, owned by derivative.ts. */
  memoOpen?: Map<number, Pattern>;
  memoClose?: Pattern;
  memoEnd?: Pattern;
  memoDrop?: Pattern;
  /** Completion's cached insert text for an element pattern. */
  memoSnippet?: string;
  memoAtt?: Map<string, Pattern>;
  memoText?: Map<string, Pattern>;
  /** Element content, set after construction so recursive grammars can be built. */
  content?: Pattern;
  /** For elements/attributes: documentation found in the schema (a comment or a:documentation). */
  doc?: string;
  source?: SourceRef;

  constructor(
    readonly kind: K,
    readonly id: number,
    readonly nullable: boolean,
    readonly a?: Pattern,
    readonly b?: Pattern,
    readonly nc?: NameClass,
    readonly dt?: Datatype,
    /** Value patterns: the literal; Data patterns: undefined. */
    readonly value?: string,
    /** Value patterns: the context namespace (for QName values). */
    readonly ns?: string,
  ) {}
}

/** Creates and interns patterns. One factory per compiled schema. */
export class PatternFactory {
  private nextId = 0;
  private readonly table = new Map<string, Pattern>();
  readonly empty = new Pattern(K.Empty, this.nextId++, true);
  readonly notAllowed = new Pattern(K.NotAllowed, this.nextId++, false);
  readonly text = new Pattern(K.Text, this.nextId++, true);

  get size(): number { return this.nextId; }

  private intern(key: string, make: (id: number) => Pattern): Pattern {
    let p = this.table.get(key);
    if (!p) {
      p = make(this.nextId++);
      this.table.set(key, p);
    }
    return p;
  }

  choice(a: Pattern, b: Pattern): Pattern {
    if (a === b) return a;
    if (a.kind === K.NotAllowed) return b;
    if (b.kind === K.NotAllowed) return a;
    // Flatten, deduplicate and order the alternatives so equal sets intern to one pattern.
    if (a.kind === K.Choice || b.kind === K.Choice) {
      const leaves: Pattern[] = [];
      const seen = new Set<number>();
      const collect = (p: Pattern) => {
        if (p.kind === K.Choice) { collect(p.a!); collect(p.b!); } else if (!seen.has(p.id)) { seen.add(p.id); leaves.push(p); }
      };
      collect(a);
      collect(b);
      if (leaves.length === 1) return leaves[0];
      leaves.sort((x, y) => x.id - y.id);
      let r = leaves[leaves.length - 1];
      for (let i = leaves.length - 2; i >= 0; i--) r = this.choice2(leaves[i], r);
      return r;
    }
    return a.id < b.id ? this.choice2(a, b) : this.choice2(b, a);
  }

  private choice2(a: Pattern, b: Pattern): Pattern {
    return this.intern(`c${a.id},${b.id}`, (id) => new Pattern(K.Choice, id, a.nullable || b.nullable, a, b));
  }

  group(a: Pattern, b: Pattern): Pattern {
    if (a.kind === K.NotAllowed || b.kind === K.NotAllowed) return this.notAllowed;
    if (a.kind === K.Empty) return b;
    if (b.kind === K.Empty) return a;
    return this.intern(`g${a.id},${b.id}`, (id) => new Pattern(K.Group, id, a.nullable && b.nullable, a, b));
  }

  interleave(a: Pattern, b: Pattern): Pattern {
    if (a.kind === K.NotAllowed || b.kind === K.NotAllowed) return this.notAllowed;
    if (a.kind === K.Empty) return b;
    if (b.kind === K.Empty) return a;
    const [x, y] = a.id <= b.id ? [a, b] : [b, a];
    return this.intern(`i${x.id},${y.id}`, (id) => new Pattern(K.Interleave, id, a.nullable && b.nullable, x, y));
  }

  after(a: Pattern, b: Pattern): Pattern {
    if (a.kind === K.NotAllowed || b.kind === K.NotAllowed) return this.notAllowed;
    return this.intern(`a${a.id},${b.id}`, (id) => new Pattern(K.After, id, false, a, b));
  }

  oneOrMore(p: Pattern): Pattern {
    if (p.kind === K.NotAllowed || p.kind === K.Empty) return p;
    if (p.kind === K.OneOrMore) return p;
    return this.intern(`o${p.id}`, (id) => new Pattern(K.OneOrMore, id, p.nullable, p));
  }

  list(p: Pattern): Pattern {
    if (p.kind === K.NotAllowed) return p;
    return this.intern(`l${p.id}`, (id) => new Pattern(K.List, id, false, p));
  }

  /** Data patterns are not interned by structure (their params are objects); each is its own. */
  data(dt: Datatype, except?: Pattern): Pattern {
    return new Pattern(K.Data, this.nextId++, false, except, undefined, undefined, dt);
  }

  value(dt: Datatype, value: string, ns: string): Pattern {
    return this.intern(`v${dt.key}\u0000${ns}\u0000${value}`, (id) => new Pattern(K.Value, id, false, undefined, undefined, undefined, dt, value, ns));
  }

  attribute(nc: NameClass, p: Pattern): Pattern {
    if (p.kind === K.NotAllowed) return p;
    return new Pattern(K.Attribute, this.nextId++, false, p, undefined, nc);
  }

  /** Elements are identities: each schema element is distinct; content is filled in later. */
  element(nc: NameClass): Pattern {
    return new Pattern(K.Element, this.nextId++, false, undefined, undefined, nc);
  }
}
