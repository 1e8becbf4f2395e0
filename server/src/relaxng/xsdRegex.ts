// Translates an XML Schema regular expression (XSD part 2, appendix F) into a JavaScript RegExp.
// The differences that matter: XSD patterns are implicitly anchored; '^' and '$' are ordinary
// characters; '.' excludes only \n and \r; \d is any Unicode decimal digit; \i and \c are the XML
// name-start and name characters; character classes may subtract another class with -[...].

const NAME_START = 'A-Z_a-z:\\u00C0-\\u00D6\\u00D8-\\u00F6\\u00F8-\\u02FF\\u0370-\\u037D\\u037F-\\u1FFF\\u200C-\\u200D\\u2070-\\u218F\\u2C00-\\u2FEF\\u3001-\\uD7FF\\uF900-\\uFDCF\\uFDF0-\\uFFFD';
const NAME_CHAR = `${NAME_START}\\-.0-9\\u00B7\\u0300-\\u036F\\u203F-\\u2040`;

/** Escapes allowed in class bodies, as the JS (u-flag) class fragment they stand for. */
function classEscape(c: string): { body: string; negated: boolean } | undefined {
  switch (c) {
    case 's': return { body: ' \\t\\n\\r', negated: false };
    case 'S': return { body: ' \\t\\n\\r', negated: true };
    case 'd': return { body: '\\p{Nd}', negated: false };
    case 'D': return { body: '\\p{Nd}', negated: true };
    case 'w': return { body: '\\p{P}\\p{Z}\\p{C}', negated: true };
    case 'W': return { body: '\\p{P}\\p{Z}\\p{C}', negated: false };
    case 'i': return { body: NAME_START, negated: false };
    case 'I': return { body: NAME_START, negated: true };
    case 'c': return { body: NAME_CHAR, negated: false };
    case 'C': return { body: NAME_CHAR, negated: true };
  }
  return undefined;
}

const SINGLE: Record<string, string> = { n: '\\n', r: '\\r', t: '\\t' };
const SYNTAX = '^$\\.*+?()[]{}|/';

function escapeLiteral(ch: string): string {
  return SYNTAX.includes(ch) ? `\\${ch}` : ch;
}

export class XsdRegexError extends Error {}

/** Returns the source of an anchored JS regex (to be compiled with the 'u' flag). */
export function translateXsdRegex(src: string): string {
  let i = 0;
  const n = src.length;
  let out = '';

  /** Parses a class body after '[' (and optional '^') up to the closing ']' into JS. */
  const parseClass = (): string => {
    let negated = false;
    if (src[i] === '^') { negated = true; i++; }
    let body = '';
    const negParts: string[] = [];
    let subtract: string | undefined;
    let first = true;
    while (i < n && (src[i] !== ']' || first)) {
      first = false;
      const ch = src[i];
      if (ch === '-' && src[i + 1] === '[') {
        i++; // '['
        i++;
        subtract = parseClass();
        continue;
      }
      if (ch === '\\') {
        const e = src[i + 1];
        i += 2;
        const ce = classEscape(e);
        if (ce) {
          if (ce.negated) negParts.push(ce.body); else body += ce.body;
        } else if (SINGLE[e]) {
          body += SINGLE[e];
        } else if (e === 'p' || e === 'P') {
          const close = src.indexOf('}', i);
          body += `\\${e}${src.slice(i, close + 1)}`;
          i = close + 1;
        } else if (e !== undefined) {
          body += '^$\\.*+?()[]{}|/-'.includes(e) ? `\\${e}` : e;
        }
        continue;
      }
      if (ch === '[' || ch === ']' || ch === '/' || ch === '{' || ch === '}' || ch === '(' || ch === ')' || ch === '|') body += `\\${ch}`;
      else body += ch;
      i++;
    }
    if (src[i] !== ']') throw new XsdRegexError(`unterminated character class in ${src}`);
    i++;
    // Build: (positive parts ∪ negated parts) [minus subtract], then optional negation.
    let cls: string;
    const pos = body ? `[${body}]` : '';
    const negs = negParts.map((b) => `[^${b}]`);
    const alts = [pos, ...negs].filter(Boolean);
    cls = alts.length === 1 ? alts[0] : `(?:${alts.join('|')})`;
    if (subtract) cls = `(?:(?!${subtract})${cls})`;
    if (negated) cls = alts.length === 1 && !subtract && negs.length === 0 ? `[^${body}]` : `(?:(?!${cls})[^])`;
    return cls;
  };

  while (i < n) {
    const ch = src[i];
    if (ch === '\\') {
      const e = src[i + 1];
      i += 2;
      const ce = classEscape(e);
      if (ce) out += ce.negated ? `[^${ce.body}]` : `[${ce.body}]`;
      else if (SINGLE[e]) out += SINGLE[e];
      else if (e === 'p' || e === 'P') {
        const close = src.indexOf('}', i);
        out += `\\${e}${src.slice(i, close + 1)}`;
        i = close + 1;
      } else if (e !== undefined) out += escapeLiteral(e);
      else throw new XsdRegexError(`trailing backslash in ${src}`);
      continue;
    }
    if (ch === '[') { i++; out += parseClass(); continue; }
    if (ch === '.') { out += '[^\\n\\r]'; i++; continue; }
    if (ch === '^' || ch === '$' || ch === '/') { out += `\\${ch}`; i++; continue; }
    out += ch;
    i++;
  }
  return `^(?:${out})$`;
}

const cache = new Map<string, RegExp>();

export function compileXsdRegex(src: string): RegExp {
  let re = cache.get(src);
  if (!re) {
    re = new RegExp(translateXsdRegex(src), 'u');
    cache.set(src, re);
  }
  return re;
}
