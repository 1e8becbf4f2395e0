// Where lvm2 says a syntax error is, and how our syntax diagnostic relates to that place.
//
// lvm2's parser prints "Parse error at byte B (line L): MESSAGE" with B the 1-based byte of the
// token it could not use: the place it NOTICED the mistake, which is the mistake itself or, when
// the mistake only shows later, a later token (the next one, or the end of the file for an
// unclosed '{', '[' or quote). Our diagnostics point at the mistake, so each syntax case falls
// in one of the relations below; a case in none of them is a positioning bug.
//
// lvm2's line number L does not count newlines inside quoted strings (its lexer counts lines
// only between tokens), so after a multi-line string it is smaller than the real line. The byte
// is exact; lvm2Line() reproduces L from it, which checks that we read B as lvm2 means it.

export interface Lvm2Position {
  /** The 0-based character offset of the token lvm2 stopped at (text.length at the end). */
  offset: number;
  /** The line lvm2 printed. */
  line: number;
  message: string;
}

/** Parses lvmconfig's "Parse error at byte B (line L): MESSAGE" for `text`. */
export function lvm2Position(stderr: string, text: string): Lvm2Position | undefined {
  const m = /Parse error at byte (\d+) \(line (\d+)\): (.*)/.exec(stderr);
  if (!m) return undefined;
  const offset = Buffer.from(text).subarray(0, Number(m[1]) - 1).toString().length;
  return { offset, line: Number(m[2]), message: m[3] };
}

/**
 * The line lvm2 reports for `offset`: 1 + the newlines before it outside quoted strings. Tokens
 * as lvm2 reads them: a quote starts a string only where a token starts; an unquoted word runs
 * to whitespace, '#', '=', '{' or '}', quotes included; where a value may start (after '=', '['
 * or ','), a digit, sign or '.' starts a number, which ends at the first other character.
 */
export function lvm2Line(text: string, offset: number): number {
  let line = 1;
  let valueNext = false;
  for (let i = 0; i < offset;) {
    const c = text[i];
    if (c === '\n') {
      line++;
      i++;
    } else if (/\s/.test(c)) {
      i++;
    } else if (c === '#') {
      while (i < text.length && text[i] !== '\n') i++;
    } else {
      const end = tokenEnd(text, i, valueNext);
      valueNext = c === '=' || c === '[' || c === ',';
      i = end;
    }
  }
  return line;
}

/** The offset of the first token at or after `from`: whitespace and # comments skipped. */
export function nextToken(text: string, from: number): number {
  let i = from;
  for (;;) {
    while (i < text.length && /\s/.test(text[i])) i++;
    if (text[i] !== '#') return i;
    while (i < text.length && text[i] !== '\n') i++;
  }
}

/** The end of the token that starts at `at` (quoted strings whole, else up to a separator). */
function tokenEnd(text: string, at: number, valueNext = false): number {
  const c = text[at];
  if (valueNext && /[0-9+\-.]/.test(c)) {
    let i = at + 1;
    let dot = c === '.';
    for (; i < text.length; i++) {
      if (/[0-9]/.test(text[i])) continue;
      if (text[i] === '.' && !dot) { dot = true; continue; }
      break;
    }
    return i;
  }
  if ('{}[],='.includes(c)) return at + 1;
  if (c === '"' || c === "'") {
    for (let i = at + 1; i < text.length; i++) {
      if (c === '"' && text[i] === '\\') i++;
      else if (text[i] === c) return i + 1;
    }
    return text.length;
  }
  let i = at;
  while (i < text.length && !/[\s#{}=]/.test(text[i])) i++;
  return Math.max(i, at + 1);
}

export type Relation =
  | 'on lvm2 token'
  | 'opener lvm2 finds unclosed at the end'
  | 'token before lvm2 token'
  | 'missing value, lvm2 took the next name as the value';

/** Codes for an opener whose missing close lvm2 only notices at the end of the file. */
export const UNCLOSED = new Set(['syntax.unclosed-section', 'syntax.unclosed-array', 'syntax.unterminated-string']);

/**
 * Codes for a token that is wrong in itself but that lvm2 reads as something else and only
 * rejects at the token after it: `64k` (the number 64, then a name k without '='), `a|.*|,`
 * (an unquoted word swallows the comma), `""` as a name, a name without '=' or '{', `;`, and an
 * '=' with no value before the '}' or the end of the file.
 */
const NOTICED_LATER = new Set(['syntax.invalid-number', 'syntax.bare-swallows', 'syntax.empty-key', 'syntax.expected-string',
  'syntax.expected-eq', 'syntax.unexpected-token', 'syntax.missing-value']);

/**
 * How our syntax diagnostic [start, end) with `code` relates to lvm2's position, or undefined
 * when it relates in none of the accepted ways.
 */
export function relation(text: string, code: string, start: number, end: number, lvm2: Lvm2Position): Relation | undefined {
  const at = lvm2.offset;
  const atEnd = nextToken(text, at) >= text.length;
  if (!atEnd && start <= at && at < Math.max(end, start + 1)) return 'on lvm2 token';
  if (atEnd && UNCLOSED.has(code) && '{["\''.includes(text[start])) return 'opener lvm2 finds unclosed at the end';
  if (NOTICED_LATER.has(code) && nextToken(text, end) === nextToken(text, at)) return 'token before lvm2 token';
  if (code === 'syntax.missing-value' && nextToken(text, tokenEnd(text, nextToken(text, end))) === at) {
    return 'missing value, lvm2 took the next name as the value';
  }
  return undefined;
}
