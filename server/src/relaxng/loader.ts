// Loads a RelaxNG schema (XML syntax) from files into interned patterns, doing the simplification
// of RelaxNG §4 on the fly: include (with overriding start/defines), externalRef, nested grammars
// and parentRef, define combine="choice|interleave", inherited ns and datatypeLibrary, and the
// sugar (optional, zeroOrMore, mixed, multi-child element/attribute/define) in terms of the core.
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { childElements, parseXml, textContent, type XmlElement } from './xmlParser';
import { makeDatatype } from './datatypes';
import type { NameClass } from './nameClass';
import { K, type Pattern, PatternFactory } from './patterns';

export const RNG_NS = 'http://relaxng.org/ns/structure/1.0';
const ANNOTATION_NS = 'http://relaxng.org/ns/compatibility/annotations/1.0';

export class SchemaError extends Error {
  constructor(message: string, readonly file?: string, readonly offset?: number) {
    super(file ? `${file}: ${message}` : message);
  }
}

interface Ctx {
  ns: string;
  dtLib: string;
  file: string;
  grammar: Grammar;
}

interface Component { node: XmlElement; ctx: Ctx; combine?: string }

class Grammar {
  readonly defines = new Map<string, Component[]>();
  readonly starts: Component[] = [];
  private readonly built = new Map<string, Pattern>();
  private readonly building = new Set<string>();
  /** The top-level grammar object is reused by the schema file's own <grammar> element. */
  used = false;
  constructor(readonly parent: Grammar | undefined) {}
  get isTop(): boolean { return this.parent === undefined; }

  resolveRef(name: string, loader: Loader, at: Ctx, node: XmlElement): Pattern {
    const done = this.built.get(name);
    if (done) return done;
    const comps = this.defines.get(name);
    if (!comps?.length) throw new SchemaError(`reference to undefined pattern '${name}'`, at.file, node.start);
    if (this.building.has(name)) throw new SchemaError(`'${name}' refers to itself without an intervening element`, at.file, node.start);
    this.building.add(name);
    const p = loader.combine(comps, `define '${name}'`);
    this.building.delete(name);
    this.built.set(name, p);
    return p;
  }
}

interface PendingElement { pattern: Pattern; nodes: XmlElement[]; ctx: Ctx }

export class Loader {
  readonly f = new PatternFactory();
  private readonly files = new Map<string, XmlElement>();
  private readonly pending: PendingElement[] = [];
  /** Every element pattern, for "which element is named X" lookups (hover, recovery). */
  readonly elements: Pattern[] = [];
  /** Files read, for cache keys and reporting. */
  readonly filesRead: string[] = [];

  private load(file: string): XmlElement {
    let root = this.files.get(file);
    if (root) return root;
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      throw new SchemaError(`cannot read schema: ${(err as Error).message}`, file);
    }
    const doc = parseXml(text);
    if (doc.errors.length || !doc.root) {
      const e = doc.errors[0];
      throw new SchemaError(`not well-formed: ${e?.message ?? 'no root element'}`, file, e?.start);
    }
    root = doc.root;
    this.files.set(file, root);
    this.filesRead.push(file);
    return root;
  }

  /** Loads the schema whose top file is `file` and returns its start pattern. */
  loadSchema(file: string): Pattern {
    const root = this.load(resolve(file));
    const top = new Grammar(undefined);
    const ctx: Ctx = { ns: '', dtLib: '', file: resolve(file), grammar: top };
    const start = this.pattern(root, ctx);
    this.drainPending();
    return start;
  }

  private drainPending(): void {
    while (this.pending.length) {
      const { pattern, nodes, ctx } = this.pending.pop()!;
      pattern.content = this.groupOf(nodes, ctx);
    }
  }

  combine(comps: Component[], what: string): Pattern {
    const combines = new Set(comps.map((c) => c.combine).filter(Boolean));
    if (combines.size > 1) throw new SchemaError(`${what} mixes combine methods`, comps[0].ctx.file, comps[0].node.start);
    const without = comps.filter((c) => !c.combine).length;
    if (without > 1) throw new SchemaError(`${what} is defined more than once without combine`, comps[1].ctx.file, comps[1].node.start);
    const method = [...combines][0] ?? 'choice';
    let result: Pattern | undefined;
    for (const c of comps) {
      const p = this.groupOf(childElements(c.node).filter(isRng), c.ctx);
      result = result === undefined ? p : method === 'interleave' ? this.f.interleave(result, p) : this.f.choice(result, p);
    }
    return result!;
  }

  private inherit(node: XmlElement, ctx: Ctx): Ctx {
    let { ns, dtLib } = ctx;
    for (const a of node.attributes) {
      if (a.ns !== '') continue;
      if (a.local === 'ns') ns = a.value;
      else if (a.local === 'datatypeLibrary') dtLib = a.value;
    }
    return ns === ctx.ns && dtLib === ctx.dtLib ? ctx : { ...ctx, ns, dtLib };
  }

  private groupOf(nodes: XmlElement[], ctx: Ctx): Pattern {
    let p: Pattern | undefined;
    for (const n of nodes) {
      const q = this.pattern(n, ctx);
      p = p === undefined ? q : this.f.group(p, q);
    }
    return p ?? this.f.empty;
  }

  private pattern(node: XmlElement, outer: Ctx): Pattern {
    if (node.ns !== RNG_NS) throw new SchemaError(`unexpected element <${node.name}> where a pattern was expected`, outer.file, node.start);
    const ctx = this.inherit(node, outer);
    const kids = childElements(node).filter(isRng);
    const f = this.f;
    switch (node.local) {
      case 'element': {
        const name = attrOf(node, 'name');
        const nc = name !== undefined ? this.qname(name, node, ctx, true) : this.nameClass(kids[0], ctx, true);
        const content = name !== undefined ? kids : kids.slice(1);
        const el = f.element(nc);
        el.source = { file: ctx.file, offset: node.start };
        el.doc = annotationOf(node);
        this.elements.push(el);
        this.pending.push({ pattern: el, nodes: content, ctx });
        return el;
      }
      case 'attribute': {
        const name = attrOf(node, 'name');
        const nc = name !== undefined ? this.qname(name, node, ctx, false) : this.nameClass(kids[0], ctx, false);
        const content = name !== undefined ? kids : kids.slice(1);
        const p = f.attribute(nc, content.length ? this.groupOf(content, ctx) : f.text);
        p.source = { file: ctx.file, offset: node.start };
        p.doc = annotationOf(node);
        return p;
      }
      case 'group': return this.groupOf(kids, ctx);
      case 'interleave': return kids.map((k) => this.pattern(k, ctx)).reduce((a, b) => f.interleave(a, b), f.empty);
      case 'choice': return kids.map((k) => this.pattern(k, ctx)).reduce((a, b) => f.choice(a, b), f.notAllowed);
      case 'optional': return f.choice(this.groupOf(kids, ctx), f.empty);
      case 'zeroOrMore': return f.choice(f.oneOrMore(this.groupOf(kids, ctx)), f.empty);
      case 'oneOrMore': return f.oneOrMore(this.groupOf(kids, ctx));
      case 'mixed': return f.interleave(this.groupOf(kids, ctx), f.text);
      case 'list': return f.list(this.groupOf(kids, ctx));
      case 'empty': return f.empty;
      case 'text': return f.text;
      case 'notAllowed': return f.notAllowed;
      case 'value': {
        const type = attrOf(node, 'type');
        const dt = type === undefined ? makeDatatype('', 'token') : this.datatype(ctx.dtLib, type, [], node, ctx);
        return f.value(dt, textContent(node), ctx.ns);
      }
      case 'data': {
        const type = attrOf(node, 'type') ?? '';
        const params = kids.filter((k) => k.local === 'param').map((k) => ({ name: attrOf(k, 'name') ?? '', value: textContent(k) }));
        const dt = this.datatype(ctx.dtLib, type, params, node, ctx);
        const except = kids.find((k) => k.local === 'except');
        return f.data(dt, except ? this.groupOfChoice(childElements(except).filter(isRng), ctx) : undefined);
      }
      case 'ref': return ctx.grammar.resolveRef(this.required(node, 'name', ctx), this, ctx, node);
      case 'parentRef': {
        const parent = ctx.grammar.parent;
        if (!parent) throw new SchemaError('parentRef outside a nested grammar', ctx.file, node.start);
        return parent.resolveRef(this.required(node, 'name', ctx), this, { ...ctx, grammar: parent }, node);
      }
      case 'externalRef': {
        const file = resolve(dirname(ctx.file), this.required(node, 'href', ctx));
        const root = this.load(file);
        // The referenced pattern inherits ns from the externalRef, not datatypeLibrary.
        return this.pattern(root, { ns: ctx.ns, dtLib: '', file, grammar: ctx.grammar });
      }
      case 'grammar': {
        const g = ctx.grammar.isTop && !ctx.grammar.used ? ctx.grammar : new Grammar(ctx.grammar);
        g.used = true;
        this.addComponents(g, node, { ...ctx, grammar: g }, { start: false, defines: new Set() });
        if (!g.starts.length) throw new SchemaError('grammar has no start', ctx.file, node.start);
        return this.combine(g.starts, 'start');
      }
      default:
        throw new SchemaError(`unsupported RelaxNG element <${node.local}>`, ctx.file, node.start);
    }
  }

  private groupOfChoice(nodes: XmlElement[], ctx: Ctx): Pattern {
    return nodes.map((k) => this.pattern(k, ctx)).reduce((a, b) => this.f.choice(a, b), this.f.notAllowed);
  }

  /** Adds a grammar's (or div's, or included grammar's) start and defines to g. */
  private addComponents(g: Grammar, node: XmlElement, outer: Ctx, overridden: { start: boolean; defines: Set<string> }): void {
    const ctx = this.inherit(node, outer);
    for (const k of childElements(node)) {
      if (!isRng(k)) continue;
      const kctx = this.inherit(k, ctx);
      switch (k.local) {
        case 'start':
          if (!overridden.start) g.starts.push({ node: k, ctx: kctx, combine: attrOf(k, 'combine') });
          break;
        case 'define': {
          const name = this.required(k, 'name', kctx);
          if (overridden.defines.has(name)) break;
          let list = g.defines.get(name);
          if (!list) g.defines.set(name, (list = []));
          list.push({ node: k, ctx: kctx, combine: attrOf(k, 'combine') });
          break;
        }
        case 'div':
          this.addComponents(g, k, kctx, overridden);
          break;
        case 'include': {
          const file = resolve(dirname(ctx.file), this.required(k, 'href', kctx));
          const root = this.load(file);
          if (root.ns !== RNG_NS || root.local !== 'grammar') throw new SchemaError('an included file must hold a <grammar>', file, root.start);
          // Components inside <include> replace the included file's ones of the same name.
          const inner = { start: overridden.start, defines: new Set(overridden.defines) };
          const scan = (n: XmlElement) => {
            for (const c of childElements(n)) {
              if (!isRng(c)) continue;
              if (c.local === 'start') inner.start = true;
              else if (c.local === 'define') inner.defines.add(attrOf(c, 'name') ?? '');
              else if (c.local === 'div') scan(c);
            }
          };
          scan(k);
          this.addComponents(g, root, { ns: kctx.ns, dtLib: '', file, grammar: g }, inner);
          this.addComponents(g, k, kctx, overridden);
          break;
        }
        default:
          throw new SchemaError(`<${k.local}> is not allowed directly in a grammar`, ctx.file, k.start);
      }
    }
  }

  private required(node: XmlElement, name: string, ctx: Ctx): string {
    const v = attrOf(node, name);
    if (v === undefined) throw new SchemaError(`<${node.local}> needs a ${name} attribute`, ctx.file, node.start);
    return v.trim();
  }

  private datatype(lib: string, type: string, params: { name: string; value: string }[], node: XmlElement, ctx: Ctx) {
    try {
      return makeDatatype(lib, type.trim(), params);
    } catch (err) {
      throw new SchemaError((err as Error).message, ctx.file, node.start);
    }
  }

  private qname(raw: string, node: XmlElement, ctx: Ctx, isElement: boolean): NameClass {
    const name = raw.trim();
    const colon = name.indexOf(':');
    if (colon < 0) {
      // Attributes are in no namespace unless their own element says ns="...".
      const ns = isElement ? ctx.ns : (attrOf(node, 'ns') ?? '');
      return { kind: 'name', ns, local: name };
    }
    const prefix = name.slice(0, colon);
    const uri = lookupPrefix(node, prefix);
    if (uri === undefined) throw new SchemaError(`undeclared prefix '${prefix}'`, ctx.file, node.start);
    return { kind: 'name', ns: uri, local: name.slice(colon + 1) };
  }

  private nameClass(node: XmlElement | undefined, outer: Ctx, isElement: boolean): NameClass {
    if (!node) throw new SchemaError('missing name class', outer.file);
    const ctx = this.inherit(node, outer);
    const kids = childElements(node).filter(isRng);
    const except = (): NameClass | undefined => {
      const e = kids.find((k) => k.local === 'except');
      if (!e) return undefined;
      return childElements(e).filter(isRng).map((k) => this.nameClass(k, ctx, isElement)).reduce((a, b) => ({ kind: 'choice', a, b }));
    };
    switch (node.local) {
      case 'name': {
        const text = textContent(node).trim();
        const colon = text.indexOf(':');
        if (colon < 0) return { kind: 'name', ns: attrOf(node, 'ns') ?? (isElement ? ctx.ns : ctx.ns), local: text };
        const uri = lookupPrefix(node, text.slice(0, colon));
        if (uri === undefined) throw new SchemaError(`undeclared prefix in '${text}'`, ctx.file, node.start);
        return { kind: 'name', ns: uri, local: text.slice(colon + 1) };
      }
      case 'anyName': return { kind: 'anyName', except: except() };
      case 'nsName': return { kind: 'nsName', ns: ctx.ns, except: except() };
      case 'choice': return kids.map((k) => this.nameClass(k, ctx, isElement)).reduce((a, b) => ({ kind: 'choice', a, b }));
      default: throw new SchemaError(`<${node.local}> is not a name class`, ctx.file, node.start);
    }
  }
}

function isRng(n: XmlElement): boolean {
  return n.ns === RNG_NS;
}

function attrOf(node: XmlElement, name: string): string | undefined {
  for (const a of node.attributes) if (a.local === name && a.ns === '') return a.value;
  return undefined;
}

function lookupPrefix(node: XmlElement, prefix: string): string | undefined {
  for (let e: XmlElement | undefined = node; e; e = e.parent) {
    const v = e.nsDecls.get(prefix);
    if (v !== undefined) return v;
  }
  return undefined;
}

function annotationOf(node: XmlElement): string | undefined {
  for (const k of childElements(node)) if (k.ns === ANNOTATION_NS && k.local === 'documentation') return textContent(k).trim();
  return undefined;
}

export { K };
