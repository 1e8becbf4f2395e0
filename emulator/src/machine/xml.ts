// A small, strict XML reader for domain XML: elements, attributes, text, comments, CDATA,
// processing instructions and the five predefined entities plus character references. Every
// node carries its source position so configuration messages can point at the exact spot.
// Malformed input gives an XmlError with line and column; depth and size are bounded.

export interface Position { offset: number; line: number; column: number }

export interface XmlElement {
  name: string;
  attrs: Map<string, { value: string; pos: Position }>;
  children: XmlElement[];
  /** Concatenated character data directly inside this element. */
  text: string;
  pos: Position;
}

export class XmlError extends Error {
  constructor(message: string, readonly pos: Position) {
    super(`${pos.line}:${pos.column}: ${message}`);
    this.name = 'XmlError';
  }
}

const MAX_DEPTH = 256;
const MAX_SIZE = 16 * 1024 * 1024;
const NAME = /[A-Za-z_:][-A-Za-z0-9_:.]*/y;

export function parseXml(text: string): XmlElement {
  if (text.length > MAX_SIZE) throw new XmlError(`document is larger than ${MAX_SIZE} bytes`, { offset: 0, line: 1, column: 1 });
  let i = 0;
  // Line starts, for offset → line/column.
  const lineStarts = [0];
  for (let k = 0; k < text.length; k++) if (text.charCodeAt(k) === 10) lineStarts.push(k + 1);
  const posAt = (offset: number): Position => {
    let lo = 0, hi = lineStarts.length - 1;
    while (lo < hi) { const mid = (lo + hi + 1) >> 1; if (lineStarts[mid] <= offset) lo = mid; else hi = mid - 1; }
    return { offset, line: lo + 1, column: offset - lineStarts[lo] + 1 };
  };
  const fail = (msg: string, at = i): never => { throw new XmlError(msg, posAt(Math.min(at, text.length))); };
  const skipWs = () => { while (i < text.length && /\s/.test(text[i])) i++; };
  const readName = (): string => {
    NAME.lastIndex = i;
    const m = NAME.exec(text);
    if (!m) fail('expected a name');
    i += m![0].length;
    return m![0];
  };
  const decode = (raw: string, at: number): string =>
    raw.replace(/&([^;&\s]*);?/g, (whole, ent: string, off: number) => {
      if (!whole.endsWith(';')) fail(`unterminated entity reference "&${ent}"`, at + off);
      switch (ent) {
        case 'lt': return '<'; case 'gt': return '>'; case 'amp': return '&'; case 'quot': return '"'; case 'apos': return "'";
      }
      const num = /^#x([0-9a-fA-F]+)$/.exec(ent) ?? /^#([0-9]+)$/.exec(ent);
      if (num) {
        const cp = parseInt(num[1], ent[1] === 'x' ? 16 : 10);
        if (cp > 0 && cp <= 0x10ffff) return String.fromCodePoint(cp);
      }
      return fail(`unknown entity "&${ent};"`, at + off);
    });
  /** Skips comments, PIs and a doctype; returns false at anything else. */
  const skipMisc = (): boolean => {
    if (text.startsWith('<!--', i)) {
      const end = text.indexOf('-->', i + 4);
      if (end < 0) fail('unterminated comment');
      i = end + 3;
      return true;
    }
    if (text.startsWith('<?', i)) {
      const end = text.indexOf('?>', i + 2);
      if (end < 0) fail('unterminated processing instruction');
      i = end + 2;
      return true;
    }
    if (text.startsWith('<!DOCTYPE', i)) {
      let depth = 0;
      for (; i < text.length; i++) {
        if (text[i] === '[') depth++;
        else if (text[i] === ']') depth--;
        else if (text[i] === '>' && depth <= 0) { i++; return true; }
      }
      fail('unterminated DOCTYPE');
    }
    return false;
  };

  const parseElement = (depth: number): XmlElement => {
    if (depth > MAX_DEPTH) fail(`elements nested deeper than ${MAX_DEPTH}`);
    const start = i;
    i++; // '<'
    const name = readName();
    const el: XmlElement = { name, attrs: new Map(), children: [], text: '', pos: posAt(start) };
    for (;;) {
      const before = i;
      skipWs();
      if (text.startsWith('/>', i)) { i += 2; return el; }
      if (text[i] === '>') { i++; break; }
      if (i >= text.length) fail(`unterminated start tag <${name}>`, start);
      if (i === before) fail(`expected whitespace before an attribute in <${name}>`);
      const apos = i;
      const an = readName();
      skipWs();
      if (text[i] !== '=') fail(`attribute "${an}" has no value`);
      i++;
      skipWs();
      const q = text[i];
      if (q !== '"' && q !== "'") fail(`value of attribute "${an}" must be quoted`);
      const end = text.indexOf(q, i + 1);
      if (end < 0) fail(`unterminated value of attribute "${an}"`);
      const raw = text.slice(i + 1, end);
      if (raw.includes('<')) fail(`"<" in the value of attribute "${an}"`, i + 1 + raw.indexOf('<'));
      if (el.attrs.has(an)) fail(`duplicate attribute "${an}"`, apos);
      el.attrs.set(an, { value: decode(raw, i + 1), pos: posAt(apos) });
      i = end + 1;
    }
    // Content.
    for (;;) {
      if (i >= text.length) fail(`<${name}> is not closed`, start);
      if (text.startsWith('</', i)) {
        const at = i;
        i += 2;
        const closing = readName();
        if (closing !== name) fail(`</${closing}> does not match <${name}> opened at line ${posAt(start).line}`, at);
        skipWs();
        if (text[i] !== '>') fail(`expected ">" to end </${closing}>`);
        i++;
        return el;
      }
      if (text.startsWith('<![CDATA[', i)) {
        const end = text.indexOf(']]>', i + 9);
        if (end < 0) fail('unterminated CDATA section');
        el.text += text.slice(i + 9, end);
        i = end + 3;
        continue;
      }
      if (text.startsWith('<!--', i) || text.startsWith('<?', i)) { skipMisc(); continue; }
      if (text[i] === '<') { el.children.push(parseElement(depth + 1)); continue; }
      const next = text.indexOf('<', i);
      const end = next < 0 ? text.length : next;
      el.text += decode(text.slice(i, end), i);
      i = end;
    }
  };

  if (text.charCodeAt(0) === 0xfeff) i = 1;
  for (;;) {
    skipWs();
    if (!skipMisc()) break;
  }
  if (text[i] !== '<') fail('expected the root element');
  const root = parseElement(0);
  for (;;) {
    skipWs();
    if (i >= text.length) break;
    if (!skipMisc()) fail('content after the root element');
  }
  return root;
}

/** First child element called `name`. */
export function child(el: XmlElement | undefined, name: string): XmlElement | undefined {
  return el?.children.find((c) => c.name === name);
}

export function children(el: XmlElement | undefined, name: string): XmlElement[] {
  return el ? el.children.filter((c) => c.name === name) : [];
}

export function attr(el: XmlElement | undefined, name: string): string | undefined {
  return el?.attrs.get(name)?.value;
}
