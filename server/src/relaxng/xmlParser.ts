// A tolerant, positioned XML parser. Every element, attribute, value and text run carries its
// source offsets, namespaces are resolved, and well-formedness problems become errors located at
// the offending token while parsing carries on (editors show half-typed documents all the time).
// It is used both for the documents users edit and for loading the RelaxNG schemas themselves.

export const XML_NS = 'http://www.w3.org/XML/1998/namespace';
export const XMLNS_NS = 'http://www.w3.org/2000/xmlns/';

export interface XmlAttribute {
  /** The qualified name as written. */
  name: string;
  local: string;
  /** Resolved namespace URI ('' for unprefixed attributes). */
  ns: string;
  /** The value with entity and character references replaced. */
  value: string;
  nameStart: number;
  nameEnd: number;
  /** Offsets of the value between the quotes (valueStart === valueEnd for ''). -1 when missing. */
  valueStart: number;
  valueEnd: number;
}

export interface XmlText {
  kind: 'text';
  value: string;
  start: number;
  end: number;
}

export interface XmlElement {
  kind: 'element';
  name: string;
  local: string;
  ns: string;
  /** Offset of '<'. */
  start: number;
  nameStart: number;
  nameEnd: number;
  /** Offset just after the start tag's '>' (or where the tag was cut off). */
  startTagEnd: number;
  /** Offset of the end tag's '<', undefined when self-closing or never closed. */
  endTagStart?: number;
  /** Offset just after the end tag (or the end of the last child when never closed). */
  end: number;
  selfClosing: boolean;
  /** False when the end tag is missing. */
  closed: boolean;
  attributes: XmlAttribute[];
  /** Namespace declarations made on this element (prefix '' = default namespace). */
  nsDecls: Map<string, string>;
  /** All namespace bindings in scope here (shared with the parent when nothing is declared). */
  nsScope?: Map<string, string>;
  children: XmlNode[];
  parent?: XmlElement;
}

export type XmlNode = XmlElement | XmlText;

export interface XmlError {
  code: string;
  message: string;
  start: number;
  end: number;
}

export interface XmlDocument {
  text: string;
  root?: XmlElement;
  errors: XmlError[];
}

/** Shared by every element that declares no namespace (never mutated). */
const NO_DECLS: Map<string, string> = new Map();

const PREDEFINED: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

function isNameStart(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || c === 95 || c === 58 || c >= 0xc0;
}
function isNameChar(c: number): boolean {
  return isNameStart(c) || (c >= 48 && c <= 57) || c === 45 || c === 46 || c === 0xb7;
}
function isSpace(c: number): boolean {
  return c === 32 || c === 10 || c === 9 || c === 13;
}

class Parser {
  private pos = 0;
  readonly errors: XmlError[] = [];
  private root?: XmlElement;
  private readonly stack: XmlElement[] = [];

  constructor(private readonly text: string) {}

  private error(code: string, message: string, start: number, end = start + 1): void {
    // One error per offset is enough: cascades at the same spot only confuse.
    if (this.errors.length && this.errors[this.errors.length - 1].start === start) return;
    this.errors.push({ code, message, start, end: Math.max(end, start + 1) });
  }

  parse(): XmlDocument {
    const t = this.text;
    if (t.charCodeAt(0) === 0xfeff) this.pos = 1;
    let textStart = this.pos;
    let textBuf = '';
    const flushText = (upTo: number) => {
      if (upTo > textStart) textBuf += this.decode(textStart, upTo);
      if (textBuf.length) this.addText(textBuf, this.pendingTextStart ?? textStart, upTo);
      textBuf = '';
      this.pendingTextStart = undefined;
    };
    while (this.pos < t.length) {
      const lt = t.indexOf('<', this.pos);
      const stop = lt < 0 ? t.length : lt;
      this.pos = stop;
      if (lt < 0) break;
      const next = t.charCodeAt(lt + 1);
      if (t.startsWith('<!--', lt)) {
        // Comments do not split text in the data model: keep accumulating around them.
        if (lt > textStart) { if (this.pendingTextStart === undefined) this.pendingTextStart = textStart; textBuf += this.decode(textStart, lt); }
        this.comment();
        textStart = this.pos;
        continue;
      }
      if (t.startsWith('<![CDATA[', lt)) {
        if (this.pendingTextStart === undefined) this.pendingTextStart = textStart;
        if (lt > textStart) textBuf += this.decode(textStart, lt);
        const close = t.indexOf(']]>', lt + 9);
        if (close < 0) {
          this.error('xml-unterminated-cdata', 'CDATA section is not closed', lt, lt + 9);
          textBuf += t.slice(lt + 9);
          this.pos = t.length;
        } else {
          if (this.stack.length === 0) this.error('xml-text-outside-root', 'CDATA outside the root element', lt, close + 3);
          textBuf += t.slice(lt + 9, close);
          this.pos = close + 3;
        }
        textStart = this.pos;
        continue;
      }
      flushText(lt);
      if (next === 63 /* ? */) this.processingInstruction();
      else if (t.startsWith('<!DOCTYPE', lt)) this.doctype();
      else if (next === 47 /* / */) this.endTag();
      else this.startTag();
      textStart = this.pos;
    }
    flushText(t.length);
    for (let i = this.stack.length - 1; i >= 0; i--) {
      const el = this.stack[i];
      this.error('xml-unclosed-element', `<${el.name}> is never closed (expected </${el.name}>)`, el.nameStart, el.nameEnd);
      el.end = t.length;
    }
    if (!this.root) this.error('xml-no-root', 'the document has no root element', 0, Math.min(t.length, 1));
    return { text: t, root: this.root, errors: this.errors };
  }

  private pendingTextStart?: number;

  private addText(value: string, start: number, end: number): void {
    const parent = this.stack[this.stack.length - 1];
    if (!parent) {
      if (/\S/.test(value)) {
        const off = start + value.search(/\S/);
        this.error('xml-text-outside-root', this.root ? 'text after the root element' : 'text before the root element', off, Math.min(end, off + 20));
      }
      return;
    }
    const last = parent.children[parent.children.length - 1];
    if (last && last.kind === 'text') {
      last.value += value;
      last.end = end;
    } else {
      parent.children.push({ kind: 'text', value, start, end });
    }
  }

  /** Replaces entity and character references in text[start, end), reporting bad ones. */
  private decode(start: number, end: number): string {
    const t = this.text;
    let amp = -1;
    for (let i = start; i < end; i++) if (t.charCodeAt(i) === 38) { amp = i; break; }
    if (amp < 0) return this.checkText(start, end);
    let out = '';
    let from = start;
    while (amp >= 0 && amp < end) {
      out += t.slice(from, amp);
      const semi = t.indexOf(';', amp);
      const ref = semi > amp && semi < end && semi - amp < 40 ? t.slice(amp + 1, semi) : undefined;
      let replaced: string | undefined;
      if (ref !== undefined) {
        if (ref.startsWith('#x')) {
          const n = /^[0-9a-fA-F]+$/.test(ref.slice(2)) ? parseInt(ref.slice(2), 16) : NaN;
          if (n >= 0 && n <= 0x10ffff) replaced = String.fromCodePoint(n);
        } else if (ref.startsWith('#')) {
          const n = /^[0-9]+$/.test(ref.slice(1)) ? parseInt(ref.slice(1), 10) : NaN;
          if (n >= 0 && n <= 0x10ffff) replaced = String.fromCodePoint(n);
        } else {
          replaced = PREDEFINED[ref];
        }
      }
      if (replaced === undefined) {
        if (ref === undefined) this.error('xml-bare-ampersand', "'&' must be written as &amp;", amp, amp + 1);
        else this.error('xml-undefined-entity', `entity '&${ref};' is not defined`, amp, semi + 1);
        out += ref === undefined ? '&' : t.slice(amp, semi + 1);
        from = ref === undefined ? amp + 1 : semi + 1;
      } else {
        out += replaced;
        from = semi + 1;
      }
      amp = t.indexOf('&', from);
    }
    return out + t.slice(from, end);
  }

  private checkText(start: number, end: number): string {
    const s = this.text.slice(start, end);
    const bad = s.length > 2 ? s.indexOf(']]>') : -1;
    if (bad >= 0) this.error('xml-cdata-end-in-text', "']]>' is not allowed in text", start + bad, start + bad + 3);
    return s;
  }

  /** Finds the terminator of a construct opened at pos; reports and skips to EOF if missing. */
  private closeOf(terminator: string, openLength: number, code: string, what: string): number | undefined {
    const start = this.pos;
    const close = this.text.indexOf(terminator, start + openLength);
    if (close >= 0) return close;
    this.error(code, `${what} is not closed (expected ${terminator})`, start, start + openLength);
    this.pos = this.text.length;
    return undefined;
  }

  private comment(): void {
    const t = this.text;
    const start = this.pos;
    const close = this.closeOf('-->', 4, 'xml-unterminated-comment', 'comment');
    if (close === undefined) return;
    const dd = t.indexOf('--', start + 4);
    if (dd >= 0 && dd < close) this.error('xml-double-hyphen-in-comment', "'--' is not allowed inside a comment", dd, dd + 2);
    this.pos = close + 3;
  }

  private processingInstruction(): void {
    const t = this.text;
    const start = this.pos;
    const close = this.closeOf('?>', 2, 'xml-unterminated-pi', 'processing instruction');
    if (close === undefined) return;
    const target = /^[^\s?]*/.exec(t.slice(start + 2, close))![0];
    if (target.toLowerCase() === 'xml' && (start > (t.charCodeAt(0) === 0xfeff ? 1 : 0) || target !== 'xml')) {
      this.error('xml-misplaced-declaration', 'the XML declaration must be at the very start of the document', start, start + 5);
    }
    this.pos = close + 2;
  }

  private doctype(): void {
    const t = this.text;
    const start = this.pos;
    // Skip an internal subset if any; entity declarations in it are not supported.
    let i = start + 9;
    let depth = 0;
    for (; i < t.length; i++) {
      const c = t[i];
      if (c === '[') depth++;
      else if (c === ']') depth--;
      else if (c === '>' && depth <= 0) break;
    }
    if (this.root || this.stack.length) this.error('xml-misplaced-doctype', 'DOCTYPE must come before the root element', start, start + 9);
    this.pos = Math.min(i + 1, t.length);
  }

  private readName(): string {
    const t = this.text;
    const start = this.pos;
    while (this.pos < t.length && isNameChar(t.charCodeAt(this.pos))) this.pos++;
    return t.slice(start, this.pos);
  }

  private skipSpace(): boolean {
    const start = this.pos;
    while (this.pos < this.text.length && isSpace(this.text.charCodeAt(this.pos))) this.pos++;
    return this.pos > start;
  }

  private startTag(): void {
    const t = this.text;
    const start = this.pos;
    this.pos++;
    if (!isNameStart(t.charCodeAt(this.pos))) {
      this.error('xml-bad-tag-start', "'<' must start a tag: expected an element name (write &lt; for a literal '<')", start, start + 1);
      return;
    }
    const nameStart = this.pos;
    const name = this.readName();
    const el: XmlElement = {
      kind: 'element', name, local: name, ns: '', start, nameStart, nameEnd: this.pos, startTagEnd: this.pos,
      end: this.pos, selfClosing: false, closed: false, attributes: [], nsDecls: NO_DECLS, children: [],
      parent: this.stack[this.stack.length - 1],
    };
    let terminated = false;
    for (;;) {
      const hadSpace = this.skipSpace();
      if (this.pos >= t.length) break;
      const c = t.charCodeAt(this.pos);
      if (c === 62 /* > */) { this.pos++; terminated = true; break; }
      if (c === 47 /* / */ && t.charCodeAt(this.pos + 1) === 62) { this.pos += 2; el.selfClosing = true; terminated = true; break; }
      if (c === 60 /* < */) break; // a tag cut off while typing: the next tag starts here
      if (!isNameStart(c)) {
        this.error('xml-bad-attribute', `unexpected '${t[this.pos]}' in the start tag of <${name}>`, this.pos, this.pos + 1);
        this.pos++;
        continue;
      }
      const aStart = this.pos;
      const aName = this.readName();
      if (!hadSpace) this.error('xml-missing-space', `attributes must be separated by white space`, aStart, this.pos);
      const attr: XmlAttribute = { name: aName, local: aName, ns: '', value: '', nameStart: aStart, nameEnd: this.pos, valueStart: -1, valueEnd: -1 };
      this.skipSpace();
      if (t.charCodeAt(this.pos) !== 61 /* = */) {
        this.error('xml-attribute-without-value', `attribute '${aName}' has no value (expected ${aName}="...")`, aStart, attr.nameEnd);
      } else {
        this.pos++;
        this.skipSpace();
        const q = t.charCodeAt(this.pos);
        if (q === 34 || q === 39) {
          const close = t.indexOf(String.fromCharCode(q), this.pos + 1);
          const limit = close < 0 ? t.length : close;
          // A value running into the next tag means the quote was never closed.
          const lt = t.indexOf('<', this.pos + 1);
          if (close < 0 || (lt >= 0 && lt < close && t.indexOf('>', this.pos + 1) < lt)) {
            this.error('xml-unterminated-attribute', `the value of '${aName}' is missing its closing quote`, this.pos, this.pos + 1);
            const stop = lt >= 0 ? t.lastIndexOf('>', lt) > this.pos ? t.lastIndexOf('>', lt) : lt : t.length;
            attr.valueStart = this.pos + 1;
            attr.valueEnd = Math.max(attr.valueStart, stop);
            attr.value = t.slice(attr.valueStart, attr.valueEnd);
            this.pos = attr.valueEnd;
          } else {
            attr.valueStart = this.pos + 1;
            attr.valueEnd = limit;
            if (lt >= 0 && lt < limit) this.error('xml-lt-in-attribute', `'<' is not allowed in attribute values (write &lt;)`, lt, lt + 1);
            attr.value = normalizeAttribute(this.decode(attr.valueStart, attr.valueEnd));
            this.pos = limit + 1;
          }
        } else {
          this.error('xml-unquoted-attribute', `the value of '${aName}' must be quoted`, this.pos, this.pos + 1);
          const vStart = this.pos;
          while (this.pos < t.length && !isSpace(t.charCodeAt(this.pos)) && t[this.pos] !== '>' && !(t[this.pos] === '/' && t[this.pos + 1] === '>') && t[this.pos] !== '<') this.pos++;
          attr.valueStart = vStart;
          attr.valueEnd = this.pos;
          attr.value = t.slice(vStart, this.pos);
        }
      }
      for (const other of el.attributes) {
        if (other.name === aName) { this.error('xml-duplicate-attribute', `attribute '${aName}' is repeated`, aStart, attr.nameEnd); break; }
      }
      if (aName === 'xmlns' || aName.startsWith('xmlns:')) {
        if (el.nsDecls === NO_DECLS) el.nsDecls = new Map();
        el.nsDecls.set(aName === 'xmlns' ? '' : aName.slice(6), attr.value);
      }
      el.attributes.push(attr);
    }
    el.startTagEnd = this.pos;
    el.end = this.pos;
    if (!terminated) this.error('xml-unterminated-tag', `the start tag of <${name}> is not closed (expected '>')`, nameStart, el.nameEnd);
    this.resolveNames(el);
    const parent = this.stack[this.stack.length - 1];
    if (parent) {
      parent.children.push(el);
    } else if (this.root) {
      this.error('xml-multiple-roots', `only one root element is allowed; <${name}> comes after </${this.root.name}>`, nameStart, el.nameEnd);
      return;
    } else {
      this.root = el;
    }
    if (el.selfClosing) {
      el.closed = true;
    } else {
      this.stack.push(el);
    }
  }

  private resolveNames(el: XmlElement): void {
    const parentScope = el.parent?.nsScope ?? NO_DECLS;
    let scope = parentScope;
    if (el.nsDecls.size) {
      scope = new Map(parentScope);
      for (const [k, v] of el.nsDecls) scope.set(k, v);
    }
    el.nsScope = scope;
    const colon = el.name.indexOf(':');
    if (colon >= 0) {
      const prefix = el.name.slice(0, colon);
      el.local = el.name.slice(colon + 1);
      const ns = lookupPrefix(scope, prefix);
      if (ns === undefined) this.error('xml-undefined-prefix', `namespace prefix '${prefix}' is not declared`, el.nameStart, el.nameStart + colon);
      el.ns = ns ?? '';
    } else {
      el.ns = scope.get('') ?? '';
    }
    for (const a of el.attributes) {
      const c = a.name.indexOf(':');
      if (c < 0 || a.name.startsWith('xmlns:')) { if (a.name === 'xmlns' || a.name.startsWith('xmlns:')) a.ns = XMLNS_NS; continue; }
      const prefix = a.name.slice(0, c);
      a.local = a.name.slice(c + 1);
      const ns = lookupPrefix(scope, prefix);
      if (ns === undefined) this.error('xml-undefined-prefix', `namespace prefix '${prefix}' is not declared`, a.nameStart, a.nameStart + c);
      a.ns = ns ?? '';
    }
  }

  private endTag(): void {
    const t = this.text;
    const start = this.pos;
    this.pos += 2;
    const nameStart = this.pos;
    const name = this.readName();
    const nameEnd = this.pos;
    this.skipSpace();
    if (t.charCodeAt(this.pos) === 62) this.pos++;
    else this.error('xml-unterminated-tag', `the end tag </${name}> is not closed (expected '>')`, nameStart, Math.max(nameEnd, nameStart + 1));
    if (!name) { this.error('xml-bad-end-tag', 'expected an element name after </', start, start + 2); return; }
    const top = this.stack[this.stack.length - 1];
    if (top && top.name === name) {
      this.stack.pop();
      top.closed = true;
      top.endTagStart = start;
      top.end = this.pos;
      return;
    }
    // Mismatch. If an ancestor has this name, the elements above it were left open.
    const idx = this.stack.map((e) => e.name).lastIndexOf(name);
    if (idx < 0) {
      this.error('xml-mismatched-end-tag', top ? `</${name}> does not match <${top.name}> (expected </${top.name}>)` : `</${name}> has no matching start tag`, nameStart, nameEnd);
      return;
    }
    for (let i = this.stack.length - 1; i > idx; i--) {
      const open = this.stack[i];
      this.error('xml-unclosed-element', `<${open.name}> is not closed before </${name}>`, open.nameStart, open.nameEnd);
      open.end = start;
    }
    const el = this.stack[idx];
    this.stack.length = idx;
    el.closed = true;
    el.endTagStart = start;
    el.end = this.pos;
  }
}

function lookupPrefix(scope: Map<string, string>, prefix: string): string | undefined {
  if (prefix === 'xml') return XML_NS;
  if (prefix === 'xmlns') return XMLNS_NS;
  return scope.get(prefix);
}

/** Attribute-value normalisation: literal tabs and newlines become spaces (XML 1.0 §3.3.3). */
function normalizeAttribute(v: string): string {
  return /[\t\n\r]/.test(v) ? v.replace(/\r\n|[\t\n\r]/g, ' ') : v;
}

export function parseXml(text: string): XmlDocument {
  return new Parser(text).parse();
}

/** Elements of a node list, skipping text. */
export function childElements(el: XmlElement): XmlElement[] {
  const out: XmlElement[] = [];
  for (const c of el.children) if (c.kind === 'element') out.push(c);
  return out;
}

/** The text content of an element (its direct text children joined). */
export function textContent(el: XmlElement): string {
  let s = '';
  for (const c of el.children) if (c.kind === 'text') s += c.value;
  return s;
}

export function attr(el: XmlElement, name: string): XmlAttribute | undefined {
  for (const a of el.attributes) if (a.name === name) return a;
  return undefined;
}

/** The innermost element whose range contains offset. */
export function elementAt(root: XmlElement | undefined, offset: number): XmlElement | undefined {
  let found: XmlElement | undefined;
  let cur = root;
  while (cur && offset >= cur.start && (offset <= cur.end || !cur.closed)) {
    found = cur;
    let next: XmlElement | undefined;
    for (const c of cur.children) {
      if (c.kind === 'element' && offset >= c.start && (offset < c.end || (!c.closed && offset <= c.end))) { next = c; break; }
    }
    cur = next;
  }
  return found;
}
