// Tolerant parser for the LVM config text format, following lvm2's own tokenizer (libdm-config.c)
// rule for rule so that it accepts and refuses exactly what lvm2 does (see GRAMMAR.md facts):
// the token after '=', '[' or ',' is read as a value, anything else as a key; numbers stop at the
// first non-digit; bare words run to whitespace, '#', '=', '{' or '}'. Where lvm2 stops at the
// first problem and names the byte where it noticed it, this parser names the token that caused
// it, records the error and carries on, so every node after a mistake still has a position.
// Pure: no I/O, no vscode. Also used for text metadata backups and on-disk metadata.
import type {
  ArrayNode, ItemNode, ParseError, ParseResult, ScalarNode, SectionNode, SettingNode, Severity, Span, ValueNode,
} from './ast';
import { LineMap } from './lineMap';

export type * from './ast';

const enum T {
  Int, Float, SqString, DqString, Bare, Eq, SectionB, SectionE, ArrayB, ArrayE, Identifier, Comma, Eof,
}

interface Token {
  t: T;
  start: number;
  end: number;
  /** Whitespace or a comment separated this token from the previous one. */
  spaced: boolean;
  /** For strings: the closing quote was found. */
  terminated: boolean;
}

const TOKEN_TEXT: Record<number, string> = {
  [T.Eq]: "'='", [T.SectionB]: "'{'", [T.SectionE]: "'}'", [T.ArrayB]: "'['", [T.ArrayE]: "']'", [T.Comma]: "','",
  [T.Eof]: 'the end of the file',
};

function isSpace(c: number): boolean {
  // C isspace() in the C locale: space, \t, \n, \v, \f, \r.
  return c === 32 || (c >= 9 && c <= 13);
}

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

/** lvm2's dm_unescape_double_quotes: only \" and \\ lose their backslash. */
export function unescapeDoubleQuoted(s: string): string {
  if (!s.includes('\\')) return s;
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c === '\\' && (s[i + 1] === '"' || s[i + 1] === '\\')) {
      out += s[i + 1];
      i++;
    } else out += c;
  }
  return out;
}

/** Quotes a string the way lvm2 writes it (only " and \ are escaped). */
export function quoteString(s: string): string {
  return `"${s.replace(/[\\"]/g, (m) => `\\${m}`)}"`;
}

/** Deeper nesting than lvm2 itself can handle (its section path buffer is 8 KiB). */
export const MAX_DEPTH = 256;

const INT64_MAX = (1n << 63n) - 1n;
const INT64_MIN = -(1n << 63n);

/** strtoll(raw, NULL, 0) for a token of digits with an optional sign: leading 0 means octal. */
export function strtoll(raw: string): { value: number; quirk?: string } {
  let i = 0;
  let neg = false;
  if (raw[0] === '+' || raw[0] === '-') {
    neg = raw[0] === '-';
    i = 1;
  }
  const digits = raw.slice(i);
  if (digits === '') return { value: 0, quirk: `'${raw}' has no digits; lvm2 2.03.16 silently reads it as 0 (newer lvm2 rejects it)` };
  // Fast path: plain decimal that fits a double exactly (nearly every number in practice).
  if (digits.length < 16 && digits[0] !== '0') return { value: neg ? -Number(digits) : Number(digits) };
  let n = 0n;
  let quirk: string | undefined;
  if (digits.length > 1 && digits[0] === '0') {
    let j = 1;
    while (j < digits.length && digits[j] >= '0' && digits[j] <= '7') n = n * 8n + BigInt(digits.charCodeAt(j++) - 48);
    if (j < digits.length) {
      quirk = `'${raw}' starts with 0, so it is octal; lvm2 2.03.16 stops at '${digits[j]}' and reads ${neg ? -n : n} (newer lvm2 rejects it)`;
    }
  } else {
    n = BigInt(digits);
  }
  if (neg) n = -n;
  if (n > INT64_MAX) { n = INT64_MAX; quirk = `'${raw}' is out of range; lvm2 reads ${n}`; }
  if (n < INT64_MIN) { n = INT64_MIN; quirk = `'${raw}' is out of range; lvm2 reads ${n}`; }
  return { value: Number(n), quirk };
}

/** A name as messages show it: newlines as \n, at most 40 characters (a quoted name can be long). */
function shortName(name: string): string {
  const flat = name.replace(/\n/g, '\\n').replace(/\t/g, '\\t');
  return flat.length > 40 ? `${flat.slice(0, 40)}…` : flat;
}

class Parser {
  private readonly lines: LineMap;
  /** lvm2 treats a NUL byte as the end of the text. */
  private readonly end: number;
  readonly errors: ParseError[] = [];
  private tok: Token;
  private depth = 0;
  /** An unclosed string swallowed the rest of the text: the braces it ate are not the mistake. */
  private unterminated = false;
  private prev: Token | undefined;
  /**
   * The first closed string that spans lines. lvm2 accepts it, but a missing closing quote shows
   * up exactly like this (the string runs to the next quote), and the error comes later (or is
   * on the string itself, read as a name).
   */
  private multiline: Token | undefined;
  private multilineExplained = false;
  /** The last scalar value parsed, with the '=' it belonged to: used to explain later errors. */
  private lastValue: { node: ScalarNode; tok: Token; eq?: Token } | undefined;

  constructor(private readonly text: string) {
    this.lines = new LineMap(text);
    const nul = text.indexOf('\0');
    this.end = nul < 0 ? text.length : nul;
    if (nul >= 0) {
      this.warn('syntax.nul', 'NUL character: lvm2 stops reading the file here', nul, Math.min(nul + 1, text.length));
    }
    this.tok = this.lex(0, false);
  }

  private span(start: number, end: number): Span {
    return this.lines.span(start, end);
  }

  private report(severity: Severity, code: string, message: string, start: number, end: number): void {
    this.errors.push({ code, message, severity, span: this.span(start, Math.max(start, end)) });
  }

  private error(code: string, message: string, start: number, end: number): void {
    this.report('error', code, message, start, end);
    const ml = this.multiline;
    if (ml && !this.multilineExplained && ml.start <= start) {
      // Point at the quote that may be the real mistake, once, for the first error after it.
      this.multilineExplained = true;
      const [from, to, at] = [this.line(ml.start) + 1, this.line(ml.end - 1) + 1, this.line(start) + 1];
      this.warn('syntax.multiline-string', `This string runs from line ${from} to line ${to}. lvm2 allows that, but if this `
        + `string's closing quote is missing, the string ran on to the next quote, which explains the error on line ${at}`, ml.start, ml.start + 1);
    }
  }

  private warn(code: string, message: string, start: number, end: number): void {
    this.report('warning', code, message, start, end);
  }

  private tokText(tok: Token): string {
    if (TOKEN_TEXT[tok.t]) return TOKEN_TEXT[tok.t];
    const s = this.text.slice(tok.start, tok.end);
    return `'${s.length > 40 ? `${s.slice(0, 40)}…` : s}'`;
  }

  private line(offset: number): number {
    return this.lines.lineOf(offset);
  }

  // ---- tokenizer -------------------------------------------------------------------------

  private lex(from: number, valuesAllowed: boolean): Token {
    const text = this.text;
    const end = this.end;
    let p = from;
    for (;;) {
      while (p < end && isSpace(text.charCodeAt(p))) p++;
      if (p < end && text.charCodeAt(p) === 35 /* # */) {
        const nl = text.indexOf('\n', p);
        p = nl < 0 || nl > end ? end : nl;
        continue;
      }
      break;
    }
    const spaced = p !== from;
    if (p >= end) return { t: T.Eof, start: end, end, spaced, terminated: false };
    const c = text[p];
    let one: T | undefined;
    switch (c) {
      case '{': one = T.SectionB; break;
      case '}': one = T.SectionE; break;
      case '[': one = T.ArrayB; break;
      case ']': one = T.ArrayE; break;
      case ',': one = T.Comma; break;
      case '=': one = T.Eq; break;
      case '"': {
        let e = p + 1;
        while (e < end && text[e] !== '"') {
          if (text[e] === '\\' && e + 1 < end) e++;
          e++;
        }
        const terminated = e < end;
        return this.noteString({ t: T.DqString, start: p, end: terminated ? e + 1 : e, spaced, terminated });
      }
      case "'": {
        let e = p + 1;
        while (e < end && text[e] !== "'") e++;
        const terminated = e < end;
        return this.noteString({ t: T.SqString, start: p, end: terminated ? e + 1 : e, spaced, terminated });
      }
      default: break;
    }
    if (one !== undefined) return { t: one, start: p, end: p + 1, spaced, terminated: false };
    if (valuesAllowed && (c === '.' || c === '+' || c === '-' || isDigit(c.charCodeAt(0)))) {
      let t = c === '.' ? T.Float : T.Int;
      let e = p;
      while (++e < end) {
        const d = text.charCodeAt(e);
        if (isDigit(d)) continue;
        if (d === 46 /* . */ && t !== T.Float) { t = T.Float; continue; }
        break;
      }
      return { t, start: p, end: e, spaced, terminated: false };
    }
    let e = p;
    while (e < end) {
      const d = text.charCodeAt(e);
      if (isSpace(d) || d === 35 || d === 61 || d === 123 || d === 125) break; // # = { }
      e++;
    }
    return { t: valuesAllowed ? T.Bare : T.Identifier, start: p, end: e, spaced, terminated: false };
  }

  /** Remembers the first closed string that spans lines (see `multiline`). */
  private noteString(tok: Token): Token {
    if (tok.terminated && (!this.multiline || tok.start < this.multiline.start) && this.text.slice(tok.start, tok.end).includes('\n')) {
      this.multiline = tok;
    }
    return tok;
  }

  /** The current token's type (a call, so TypeScript does not narrow it across advance()). */
  private kind(): T {
    return this.tok.t;
  }

  /** Consumes the current token; the next one is a value if this one was '=', '[' or ','. */
  private advance(): void {
    const t = this.tok.t;
    this.prev = this.tok;
    this.tok = this.lex(this.tok.end, t === T.Eq || t === T.ArrayB || t === T.Comma);
  }

  /** Text of a quoted token as lvm2 keeps it; undefined for a lone quote at the end of the file. */
  private stringContent(tok: Token): string | undefined {
    // lvm2 strips the first and last character even when the closing quote is missing.
    if (tok.end - 1 < tok.start + 1) return undefined;
    const inner = this.text.slice(tok.start + 1, tok.end - 1);
    return tok.t === T.DqString ? unescapeDoubleQuoted(inner) : inner;
  }

  /**
   * A string without its closing quote runs to the end of the file. lvm2 then drops the last
   * character and, if nothing else is open, accepts it (a warning); inside a section or an
   * array it fails at the end of the file (an error, reported here, on the quote).
   */
  private checkTerminated(tok: Token, inArray: boolean): void {
    if ((tok.t !== T.DqString && tok.t !== T.SqString) || tok.terminated) return;
    const quote = tok.t === T.DqString ? 'double' : 'single';
    if (this.depth === 0 && !inArray) {
      this.warn('syntax.unterminated-string', `String is not closed: lvm2 reads this ${quote}-quoted string to the end of the file and drops its last character`, tok.start, tok.start + 1);
    } else {
      this.unterminated = true;
      this.error('syntax.unterminated-string', `String is not closed: the ${quote} quote opened here has no closing quote before the end of the file`, tok.start, tok.start + 1);
    }
  }

  // ---- grammar -------------------------------------------------------------------------------

  parseFile(): SectionNode {
    const root: SectionNode = {
      kind: 'section', key: '', keySpan: this.span(0, 0), span: this.span(0, this.text.length), children: [], quotedKey: false,
    };
    while (this.tok.t !== T.Eof) {
      const before = this.tok.start;
      const item = this.parseItem(false);
      if (item) root.children.push(item.node);
      if (!item || !item.ok) this.recover(false, before);
    }
    if (root.children.length === 0 && this.text.length > 0 && !this.errors.some((e) => e.severity === 'error')) {
      const firstLineEnd = this.text.indexOf('\n');
      this.error('syntax.no-settings', 'The file has no sections or settings: lvm2 refuses to load a non-empty file that holds only comments or whitespace', 0, firstLineEnd < 0 ? this.text.length : firstLineEnd);
    }
    return root;
  }

  /** Skips to a point where parsing can resume: the next line's key, or the '}' closing this section. */
  private recover(inSection: boolean, itemStart: number): void {
    const errorLine = this.line(this.errors.length ? this.errors[this.errors.length - 1].span.start.offset : this.tok.start);
    let depth = 0;
    let brackets = 0;
    let moved = this.tok.start !== itemStart;
    while (this.tok.t !== T.Eof) {
      const t = this.tok.t;
      if (depth === 0 && brackets === 0 && moved) {
        if (t === T.SectionE && inSection) return;
        const keyLike = t === T.Identifier || t === T.DqString || t === T.SqString;
        const line = this.line(this.tok.start);
        const firstOnLine = !this.prev || this.line(this.prev.end) < line;
        if (keyLike && firstOnLine && line > errorLine) return;
      }
      if (t === T.SectionB) depth++;
      if (t === T.SectionE && depth > 0) depth--;
      if (t === T.ArrayB) brackets++;
      if (t === T.ArrayE && brackets > 0) brackets--;
      // Never read the skipped text as values: a stray quote should not swallow the rest.
      this.prev = this.tok;
      this.tok = this.lex(this.tok.end, false);
      moved = true;
    }
  }

  private parseItem(inSection: boolean): { node: ItemNode; ok: boolean } | undefined {
    const keyTok = this.tok;
    let key: string;
    let quotedKey = false;
    if (keyTok.t === T.DqString || keyTok.t === T.SqString) {
      const content = this.stringContent(keyTok);
      if (content === undefined) {
        this.error('syntax.expected-string', 'A lone quote at the end of the file: expected a quoted name', keyTok.start, keyTok.end);
        this.advance();
        return undefined;
      }
      this.checkTerminated(keyTok, false);
      key = content;
      quotedKey = true;
    } else if (keyTok.t === T.Identifier) {
      key = this.text.slice(keyTok.start, keyTok.end);
    } else {
      this.unexpectedAtKey(keyTok, inSection);
      return undefined;
    }
    const glued = this.gluedToNumber(keyTok);
    this.advance();
    if (key === '') {
      this.error('syntax.empty-key', 'Empty name: a section or setting name cannot be ""', keyTok.start, keyTok.end);
    }
    const keySpan = this.span(keyTok.start, keyTok.end);
    if (this.tok.t === T.SectionB) {
      const open = this.tok;
      const node: SectionNode = {
        kind: 'section', key, keySpan, span: keySpan, openBrace: this.span(open.start, open.end), children: [], quotedKey,
      };
      this.advance();
      if (this.depth >= MAX_DEPTH) {
        // Untrusted metadata must not exhaust the stack: keep the section, skip what is inside.
        this.error('syntax.too-deep', `Sections nested more than ${MAX_DEPTH} deep; the contents of '${shortName(key)}' are not read`, open.start, open.end);
        let level = 1;
        while (this.kind() !== T.Eof) {
          if (this.kind() === T.SectionB) level++;
          if (this.kind() === T.SectionE && --level === 0) break;
          this.prev = this.tok;
          this.tok = this.lex(this.tok.end, false);
        }
      }
      this.depth++;
      try {
        while (this.kind() !== T.SectionE) {
          if (this.kind() === T.Eof) {
            if (!this.unterminated) this.error('syntax.unclosed-section', `Section '${shortName(key)}' is not closed: this '{' has no matching '}'`, open.start, open.end);
            node.span = this.span(keyTok.start, this.tok.start);
            return { node, ok: false };
          }
          const before = this.tok.start;
          const child = this.parseItem(true);
          if (child) node.children.push(child.node);
          if (!child || !child.ok) this.recover(true, before);
        }
      } finally {
        this.depth--;
      }
      node.closeBrace = this.span(this.tok.start, this.tok.end);
      node.span = this.span(keyTok.start, this.tok.end);
      this.advance();
      if (glued) this.warn('syntax.glued-key', glued.message, glued.start, glued.end);
      return { node, ok: true };
    }
    const node: SettingNode = { kind: 'setting', key, keySpan, span: keySpan, quotedKey };
    if (this.tok.t !== T.Eq) {
      this.missingEq(keyTok, key, glued);
      return { node, ok: false };
    }
    const eq = this.tok;
    node.eq = this.span(eq.start, eq.end);
    this.advance();
    const value = this.parseValue(eq);
    if (!value) {
      node.span = this.span(keyTok.start, eq.end);
      return { node, ok: false };
    }
    node.value = value;
    node.span = this.span(keyTok.start, value.span.end.offset);
    if (glued) this.warn('syntax.glued-key', glued.message, glued.start, glued.end);
    return { node, ok: true };
  }

  /** A key written straight after a number (`64k`, `0x10`, `1.5e3`, `1.2.3`): lvm2 ends the number there. */
  private gluedToNumber(keyTok: Token): { start: number; end: number; message: string } | undefined {
    const last = this.lastValue;
    if (keyTok.spaced || !last || last.tok.end !== keyTok.start) return undefined;
    if (last.node.kind !== 'int' && last.node.kind !== 'float') return undefined;
    if (!/^[A-Za-z0-9_.]/.test(this.text[keyTok.start])) return undefined;
    const whole = this.text.slice(last.tok.start, keyTok.end);
    let why = 'lvm2 numbers are plain decimal (or octal with a leading 0) digits with at most one \'.\'';
    if (/^[+-]?0[xX]/.test(whole)) why = 'lvm2 does not read hexadecimal numbers';
    else if (/^[+-]?[\d.]+[eE]/.test(whole)) why = 'lvm2 does not read exponents';
    else if (/^[+-]?\d+[A-Za-z]/.test(whole)) why = 'lvm2 does not read unit suffixes; write the number in the setting\'s unit (or quote it if the setting takes a string)';
    return {
      start: last.tok.start, end: keyTok.end,
      message: `Invalid number '${whole}': ${why}. lvm2 reads '${this.text.slice(last.tok.start, last.tok.end)}' and then '${this.text.slice(keyTok.start, keyTok.end)}' as the next name`,
    };
  }

  private unexpectedAtKey(tok: Token, inSection: boolean): void {
    switch (tok.t) {
      case T.SectionE:
        if (!inSection) this.error('syntax.unmatched-brace', "Unmatched '}': no section is open here", tok.start, tok.end);
        else this.error('syntax.unexpected-token', "Unexpected '}'", tok.start, tok.end);
        return;
      case T.SectionB:
      case T.Eq: {
        const last = this.lastValue;
        if (last && last.tok === this.prev && last.eq && last.node.quote === 'bare'
          && this.line(last.tok.start) > this.line(last.eq.start)) {
          // `a =` with nothing after it: lvm2 took the next line's name as a's value.
          this.error('syntax.missing-value', `Missing value after '=': lvm2 took the next line's '${last.node.raw}' as this value`, last.eq.start, last.eq.end);
          return;
        }
        this.error('syntax.missing-name', `${tok.t === T.Eq ? 'Setting' : 'Section'} has no name before ${this.tokText(tok)}`, tok.start, tok.end);
        return;
      }
      default:
        this.error('syntax.unexpected-token', `Unexpected ${this.tokText(tok)}: expected a section or setting name`, tok.start, tok.end);
    }
  }

  private missingEq(keyTok: Token, key: string, glued: { start: number; end: number; message: string } | undefined): void {
    const tok = this.tok;
    if (glued) {
      this.error('syntax.invalid-number', glued.message, glued.start, glued.end);
      return;
    }
    if (/^[;,]+$/.test(key)) {
      this.error('syntax.unexpected-token', `Unexpected '${key}': LVM settings need no separator or terminator`, keyTok.start, keyTok.end);
      return;
    }
    const sameLine = tok.t !== T.Eof && tok.t !== T.SectionE && this.line(tok.start) === this.line(keyTok.end);
    if (sameLine) {
      this.error('syntax.expected-eq', `Expected '=' or '{' after '${shortName(key)}', found ${this.tokText(tok)}`, tok.start, tok.end);
    } else {
      this.error('syntax.expected-eq', `'${shortName(key)}' needs '= value' (a setting) or '{ … }' (a section)`, keyTok.start, keyTok.end);
    }
  }

  private parseValue(eq: Token): ValueNode | undefined {
    if (this.tok.t !== T.ArrayB) return this.parseScalar(eq, undefined);
    const open = this.tok;
    this.advance();
    const items: ScalarNode[] = [];
    while (this.kind() !== T.ArrayE) {
      const item = this.parseScalar(eq, { open, items });
      if (!item) return undefined;
      items.push(item);
      if (this.kind() === T.Comma) this.advance();
    }
    const close = this.tok;
    this.advance();
    const arr: ArrayNode = { kind: 'array', items, span: this.span(open.start, close.end), closed: true };
    return arr;
  }

  private parseScalar(eq: Token, inArray: { open: Token; items: ScalarNode[] } | undefined): ScalarNode | undefined {
    const tok = this.tok;
    const raw = this.text.slice(tok.start, tok.end);
    let node: ScalarNode;
    switch (tok.t) {
      case T.Int: {
        const { value, quirk } = strtoll(raw);
        node = { kind: 'int', value, raw, span: this.span(tok.start, tok.end) };
        if (quirk) this.warn('syntax.int-quirk', quirk, tok.start, tok.end);
        break;
      }
      case T.Float: {
        const m = /^[+-]?(\d+\.?\d*|\.\d+)/.exec(raw);
        node = { kind: 'float', value: m ? Number(m[0]) : 0, raw, span: this.span(tok.start, tok.end) };
        break;
      }
      case T.DqString:
      case T.SqString: {
        const content = this.stringContent(tok);
        if (content === undefined) {
          this.error('syntax.expected-string', 'A lone quote at the end of the file: expected a quoted string', tok.start, tok.end);
          return undefined;
        }
        this.checkTerminated(tok, !!inArray);
        node = { kind: 'string', value: content, raw, quote: tok.t === T.DqString ? '"' : "'", span: this.span(tok.start, tok.end) };
        break;
      }
      case T.Bare:
        node = { kind: 'string', value: raw, raw, quote: 'bare', span: this.span(tok.start, tok.end) };
        break;
      default:
        this.expectedValue(tok, eq, inArray);
        return undefined;
    }
    this.lastValue = { node, tok, eq };
    this.advance();
    return node;
  }

  private expectedValue(tok: Token, eq: Token, inArray: { open: Token; items: ScalarNode[] } | undefined): void {
    const prevItem = inArray?.items[inArray.items.length - 1];
    if (inArray && prevItem && prevItem.quote === 'bare' && /[,\]]$/.test(prevItem.raw)) {
      const ch = prevItem.raw.slice(-1);
      this.error('syntax.bare-swallows', `Unquoted value ${prevItem.raw} takes the '${ch}' as part of itself (unquoted values end only at whitespace, '#', '=', '{' or '}'): quote it, e.g. ${quoteString(prevItem.raw.slice(0, -1))}`, prevItem.span.start.offset, prevItem.span.end.offset);
      return;
    }
    if (inArray && tok.t === T.Eof) {
      if (this.unterminated) return;
      this.error('syntax.unclosed-array', "Array is not closed: this '[' has no matching ']'", inArray.open.start, inArray.open.end);
      return;
    }
    if (inArray && prevItem && tok.t === T.Identifier) {
      this.error('syntax.missing-comma', `Missing ',' before ${this.tokText(tok)}: after ${prevItem.raw} lvm2 reads an unquoted word as a name, not a value`, tok.start, tok.end);
      return;
    }
    if (inArray && tok.t === T.Comma) {
      this.error('syntax.expected-value', "Empty array element: expected a value before ','", tok.start, tok.end);
      return;
    }
    if (!inArray && (tok.t === T.Eof || this.line(tok.start) !== this.line(eq.start))) {
      this.error('syntax.missing-value', "Missing value after '='", eq.start, eq.end);
      return;
    }
    this.error('syntax.expected-value', `Expected a value, found ${this.tokText(tok)}`, tok.start, tok.end);
  }
}

/** Parses LVM config or metadata text. Never throws; problems are in `errors`. */
export function parse(text: string): ParseResult {
  const p = new Parser(text);
  const root = p.parseFile();
  return { root, errors: p.errors };
}

/** True when lvm2 would refuse to load the text at all. */
export function hasSyntaxErrors(result: ParseResult): boolean {
  return result.errors.some((e) => e.severity === 'error');
}
