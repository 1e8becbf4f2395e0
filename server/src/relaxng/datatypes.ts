// Datatypes for <data> and <value>: RelaxNG's built-in library (string, token) and the XML Schema
// datatypes libvirt's schemas use, with the facets RelaxNG passes as <param>s.
import { compileXsdRegex } from './xsdRegex';

export const XSD_LIBRARY = 'http://www.w3.org/2001/XMLSchema-datatypes';

export interface Datatype {
  /** library + type + params, unique per distinct datatype (used for interning values). */
  readonly key: string;
  readonly library: string;
  readonly name: string;
  readonly params: readonly { name: string; value: string }[];
  /** Is the (unnormalised) string a valid lexical value? */
  allows(s: string): boolean;
  /** Do two lexical values denote the same value (for <value>)? */
  equal(a: string, b: string): boolean;
  /** A short human description: "unsignedInt ≥ 1", "string matching /…/". */
  describe(): string;
}

export class DatatypeError extends Error {}

const collapse = (s: string) => s.replace(/[ \t\n\r]+/g, ' ').trim();
const replaceWs = (s: string) => s.replace(/[\t\n\r]/g, ' ');

type Whitespace = 'preserve' | 'replace' | 'collapse';

interface Base {
  ws: Whitespace;
  lexical: (s: string) => boolean;
  /** Numeric types: the value for range facets and equality. */
  num?: (s: string) => bigint | number;
  min?: bigint;
  max?: bigint;
}

const INT_RE = /^[+-]?[0-9]+$/;
const DEC_RE = /^[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)$/;
const FLOAT_RE = /^([+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?|[+-]?INF|NaN)$/;
const NCNAME_RE = /^[A-Z_a-z\u00C0-\u00D6\u00D8-\u00F6\u00F8-\u02FF\u0370-\u037D\u037F-\u1FFF\u200C-\u200D\u2070-\u218F\u2C00-\u2FEF\u3001-\uD7FF\uF900-\uFDCF\uFDF0-\uFFFD][-.0-9A-Z_a-z\u00B7\u00C0-\u00D6\u00D8-\u00F6\u00F8-\u037D\u037F-\u1FFF\u200C-\u200D\u203F-\u2040\u2070-\u218F\u2C00-\u2FEF\u3001-\uD7FF\uF900-\uFDCF\uFDF0-\uFFFD]*$/;
const NAME_RE = /^[:A-Z_a-z\u00C0-\u00D6\u00D8-\u00F6\u00F8-\u02FF\u0370-\u037D\u037F-\u1FFF\u200C-\u200D\u2070-\u218F\u2C00-\u2FEF\u3001-\uD7FF\uF900-\uFDCF\uFDF0-\uFFFD][-.:0-9A-Z_a-z\u00B7\u00C0-\u00D6\u00D8-\u00F6\u00F8-\u037D\u037F-\u1FFF\u200C-\u200D\u203F-\u2040\u2070-\u218F\u2C00-\u2FEF\u3001-\uD7FF\uF900-\uFDCF\uFDF0-\uFFFD]*$/;
const NMTOKEN_RE = /^[-.:0-9A-Z_a-z\u00B7\u00C0-\u00D6\u00D8-\u00F6\u00F8-\u037D\u037F-\u1FFF\u200C-\u200D\u203F-\u2040\u2070-\u218F\u2C00-\u2FEF\u3001-\uD7FF\uF900-\uFDCF\uFDF0-\uFFFD]+$/;
const DATETIME_RE = /^-?[0-9]{4,}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\.[0-9]+)?(Z|[+-]([01][0-9]|2[0-3]):[0-5][0-9])?$/;
const DATE_RE = /^-?[0-9]{4,}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])(Z|[+-]([01][0-9]|2[0-3]):[0-5][0-9])?$/;
const TIME_RE = /^([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\.[0-9]+)?(Z|[+-]([01][0-9]|2[0-3]):[0-5][0-9])?$/;
const DURATION_RE = /^-?P(?=.)([0-9]+Y)?([0-9]+M)?([0-9]+D)?(T(?=.)([0-9]+H)?([0-9]+M)?([0-9]+(\.[0-9]+)?S)?)?$/;
const HEX_RE = /^([0-9a-fA-F]{2})*$/;
const B64_RE = /^([A-Za-z0-9+/] ?)*=? ?=?$/;

const toBig = (s: string) => BigInt(s.startsWith('+') ? s.slice(1) : s);
const intType = (min?: bigint, max?: bigint): Base => ({ ws: 'collapse', lexical: (s) => INT_RE.test(s), num: toBig, min, max });

const P = (bits: number) => (1n << BigInt(bits)) - 1n;
const XSD_TYPES: Record<string, Base> = {
  string: { ws: 'preserve', lexical: () => true },
  normalizedString: { ws: 'replace', lexical: () => true },
  token: { ws: 'collapse', lexical: () => true },
  language: { ws: 'collapse', lexical: (s) => /^[a-zA-Z]{1,8}(-[a-zA-Z0-9]{1,8})*$/.test(s) },
  boolean: { ws: 'collapse', lexical: (s) => /^(true|false|1|0)$/.test(s), num: (s) => (s === 'true' || s === '1' ? 1 : 0) },
  decimal: { ws: 'collapse', lexical: (s) => DEC_RE.test(s), num: (s) => Number(s) },
  float: { ws: 'collapse', lexical: (s) => FLOAT_RE.test(s), num: (s) => Number(s.replace('INF', 'Infinity')) },
  double: { ws: 'collapse', lexical: (s) => FLOAT_RE.test(s), num: (s) => Number(s.replace('INF', 'Infinity')) },
  integer: intType(),
  nonPositiveInteger: intType(undefined, 0n),
  negativeInteger: intType(undefined, -1n),
  nonNegativeInteger: intType(0n),
  positiveInteger: intType(1n),
  long: intType(-(P(63) + 1n), P(63)),
  int: intType(-(P(31) + 1n), P(31)),
  short: intType(-(P(15) + 1n), P(15)),
  byte: intType(-128n, 127n),
  unsignedLong: intType(0n, P(64)),
  unsignedInt: intType(0n, P(32)),
  unsignedShort: intType(0n, P(16)),
  unsignedByte: intType(0n, P(8)),
  NCName: { ws: 'collapse', lexical: (s) => NCNAME_RE.test(s) },
  ID: { ws: 'collapse', lexical: (s) => NCNAME_RE.test(s) },
  IDREF: { ws: 'collapse', lexical: (s) => NCNAME_RE.test(s) },
  ENTITY: { ws: 'collapse', lexical: (s) => NCNAME_RE.test(s) },
  IDREFS: { ws: 'collapse', lexical: (s) => s.length > 0 && s.split(' ').every((t) => NCNAME_RE.test(t)) },
  Name: { ws: 'collapse', lexical: (s) => NAME_RE.test(s) },
  QName: { ws: 'collapse', lexical: (s) => { const [a, b, c] = s.split(':'); return c === undefined && NCNAME_RE.test(a) && (b === undefined || NCNAME_RE.test(b)); } },
  NMTOKEN: { ws: 'collapse', lexical: (s) => NMTOKEN_RE.test(s) },
  NMTOKENS: { ws: 'collapse', lexical: (s) => s.length > 0 && s.split(' ').every((t) => NMTOKEN_RE.test(t)) },
  anyURI: { ws: 'collapse', lexical: (s) => !/[\u0000-\u001f]/.test(s) },
  dateTime: { ws: 'collapse', lexical: (s) => DATETIME_RE.test(s) },
  date: { ws: 'collapse', lexical: (s) => DATE_RE.test(s) },
  time: { ws: 'collapse', lexical: (s) => TIME_RE.test(s) },
  duration: { ws: 'collapse', lexical: (s) => DURATION_RE.test(s) },
  gYear: { ws: 'collapse', lexical: (s) => /^-?[0-9]{4,}(Z|[+-][0-9]{2}:[0-9]{2})?$/.test(s) },
  hexBinary: { ws: 'collapse', lexical: (s) => HEX_RE.test(s) },
  base64Binary: { ws: 'collapse', lexical: (s) => B64_RE.test(s) && s.replace(/ /g, '').length % 4 === 0 },
};

function normalize(ws: Whitespace, s: string): string {
  return ws === 'collapse' ? collapse(s) : ws === 'replace' ? replaceWs(s) : s;
}

function cmp(a: bigint | number, b: bigint | number): number {
  if (typeof a === 'bigint' && typeof b === 'bigint') return a < b ? -1 : a > b ? 1 : 0;
  const x = Number(a), y = Number(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

function makeXsd(name: string, params: { name: string; value: string }[]): Datatype {
  const base = XSD_TYPES[name];
  if (!base) throw new DatatypeError(`unsupported XML Schema datatype '${name}'`);
  const checks: ((norm: string) => boolean)[] = [];
  const descr: string[] = [];
  const patterns: RegExp[] = [];
  let ws = base.ws;
  for (const p of params) {
    switch (p.name) {
      case 'pattern': patterns.push(compileXsdRegex(p.value)); descr.push(`matching ${p.value}`); break;
      case 'length': { const n = Number(p.value); checks.push((s) => [...s].length === n); descr.push(`of length ${n}`); break; }
      case 'minLength': { const n = Number(p.value); checks.push((s) => [...s].length >= n); descr.push(`at least ${n} characters`); break; }
      case 'maxLength': { const n = Number(p.value); checks.push((s) => [...s].length <= n); descr.push(`at most ${n} characters`); break; }
      case 'minInclusive': case 'maxInclusive': case 'minExclusive': case 'maxExclusive': {
        if (!base.num) throw new DatatypeError(`facet ${p.name} needs a numeric type, not ${name}`);
        const bound = base.num(collapse(p.value));
        const test = { minInclusive: (c: number) => c >= 0, maxInclusive: (c: number) => c <= 0, minExclusive: (c: number) => c > 0, maxExclusive: (c: number) => c < 0 }[p.name];
        const num = base.num;
        checks.push((s) => test(cmp(num(s), bound)));
        descr.push({ minInclusive: '≥', maxInclusive: '≤', minExclusive: '>', maxExclusive: '<' }[p.name] + ' ' + p.value);
        break;
      }
      case 'totalDigits': { const n = Number(p.value); checks.push((s) => s.replace(/^[+-]/, '').replace(/\..*$|^0+/g, '').length <= n); descr.push(`at most ${n} digits`); break; }
      case 'fractionDigits': { const n = Number(p.value); checks.push((s) => (s.split('.')[1] ?? '').replace(/0+$/, '').length <= n); break; }
      case 'whiteSpace': ws = p.value as Whitespace; break;
      case 'enumeration': break;
      default: throw new DatatypeError(`unsupported facet '${p.name}' on ${name}`);
    }
  }
  const { min, max, num } = base;
  const allows = (raw: string): boolean => {
    const s = normalize(ws, raw);
    if (!base.lexical(s)) return false;
    if (num && (min !== undefined || max !== undefined)) {
      const v = num(s) as bigint;
      if ((min !== undefined && v < min) || (max !== undefined && v > max)) return false;
    }
    for (const re of patterns) if (!re.test(s)) return false;
    for (const c of checks) if (!c(s)) return false;
    return true;
  };
  const equal = (a: string, b: string): boolean => {
    const x = normalize(ws, a), y = normalize(ws, b);
    if (x === y) return true;
    if (num && base.lexical(x) && base.lexical(y)) return cmp(num(x), num(y)) === 0;
    return false;
  };
  const label = descr.length ? `${name} ${descr.join(', ')}` : name;
  return {
    key: `${XSD_LIBRARY}#${name}${params.map((p) => `;${p.name}=${p.value}`).join('')}`,
    library: XSD_LIBRARY, name, params, allows, equal, describe: () => label,
  };
}

const BUILTIN_STRING: Datatype = {
  key: '#string', library: '', name: 'string', params: [], allows: () => true, equal: (a, b) => a === b, describe: () => 'string',
};
const BUILTIN_TOKEN: Datatype = {
  key: '#token', library: '', name: 'token', params: [], allows: () => true, equal: (a, b) => collapse(a) === collapse(b), describe: () => 'token',
};

const cache = new Map<string, Datatype>();

export function makeDatatype(library: string, name: string, params: { name: string; value: string }[] = []): Datatype {
  const key = `${library}#${name}${params.map((p) => `;${p.name}=${p.value}`).join('')}`;
  let dt = cache.get(key);
  if (dt) return dt;
  if (library === '') {
    if (params.length) throw new DatatypeError(`the built-in datatype ${name} takes no parameters`);
    if (name === 'string') dt = BUILTIN_STRING;
    else if (name === 'token') dt = BUILTIN_TOKEN;
    else throw new DatatypeError(`unknown built-in datatype '${name}'`);
  } else if (library === XSD_LIBRARY) {
    dt = makeXsd(name, params);
  } else {
    throw new DatatypeError(`unsupported datatype library '${library}'`);
  }
  cache.set(key, dt);
  return dt;
}
