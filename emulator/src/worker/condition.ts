// Breakpoint conditions, evaluated in the worker at every hit so a conditional breakpoint costs
// no round trip: C-like expressions over registers, flags and guest memory, e.g. "eax == 3",
// "(ecx & 0xff) != 0 && zf", "[esp+4] == 0x1000", "byte [esi] == 0x41".
// Compiled once per setBreakpoints into a closure over an environment.

export interface ConditionEnv {
  /** Register or flag value by lower-case name, undefined when unknown. */
  register(name: string): number | undefined;
  /** Little-endian read of `size` bytes at a linear address; undefined when unmapped. */
  read(address: number, size: number): number | undefined;
}

export type Condition = (env: ConditionEnv) => boolean;

export class ConditionError extends Error {}

type Node = (env: ConditionEnv) => number;

/** Binary operators by precedence, loosest first. */
const PRECEDENCE: string[][] = [['||'], ['&&'], ['|'], ['^'], ['&'], ['==', '!='], ['<', '<=', '>', '>='], ['<<', '>>'], ['+', '-'], ['*', '/', '%']];

const OPS: Record<string, (a: number, b: number) => number> = {
  '||': (a, b) => (a || b ? 1 : 0), '&&': (a, b) => (a && b ? 1 : 0),
  '|': (a, b) => (a | b) >>> 0, '^': (a, b) => (a ^ b) >>> 0, '&': (a, b) => (a & b) >>> 0,
  '==': (a, b) => (a === b ? 1 : 0), '!=': (a, b) => (a !== b ? 1 : 0),
  '<': (a, b) => (a < b ? 1 : 0), '<=': (a, b) => (a <= b ? 1 : 0), '>': (a, b) => (a > b ? 1 : 0), '>=': (a, b) => (a >= b ? 1 : 0),
  '<<': (a, b) => (a << b) >>> 0, '>>': (a, b) => a >>> b,
  '+': (a, b) => (a + b) >>> 0, '-': (a, b) => (a - b) >>> 0, '*': (a, b) => Math.imul(a, b) >>> 0,
  '/': (a, b) => (b === 0 ? 0 : Math.floor(a / b) >>> 0), '%': (a, b) => (b === 0 ? 0 : a % b),
};

const TOKEN = /\s*(0x[0-9a-f]+|[0-9]+|[a-z_][a-z0-9_.]*|\|\||&&|==|!=|<=|>=|<<|>>|[-+*/%&|^~!<>()[\]])/iy;
const SIZES: Record<string, number> = { byte: 1, word: 2, dword: 4 };

export function compileCondition(text: string): Condition {
  const tokens: { t: string; at: number }[] = [];
  let pos = 0;
  while (pos < text.length && !/^\s*$/.test(text.slice(pos))) {
    TOKEN.lastIndex = pos;
    const m = TOKEN.exec(text);
    if (!m) throw new ConditionError(`condition "${text}": unexpected '${text.slice(pos).trim()[0]}' at column ${pos + 1}`);
    tokens.push({ t: m[1].toLowerCase(), at: m.index + m[0].indexOf(m[1]) });
    pos = TOKEN.lastIndex;
  }
  let i = 0;
  const peek = () => tokens[i]?.t;
  const fail = (what: string): never => {
    const at = tokens[i]?.at ?? text.length;
    throw new ConditionError(`condition "${text}": ${what} at column ${at + 1}`);
  };
  const expect = (t: string) => { if (peek() !== t) fail(`expected '${t}'`); i++; };

  const binary = (level: number): Node => {
    if (level === PRECEDENCE.length) return unary();
    let left = binary(level + 1);
    while (PRECEDENCE[level].includes(peek() ?? '')) {
      const f = OPS[tokens[i++].t];
      const l = left, r = binary(level + 1);
      left = (env) => f(l(env), r(env));
    }
    return left;
  };
  const unary = (): Node => {
    const t = peek();
    if (t === '-') { i++; const o = unary(); return (env) => (-o(env)) >>> 0; }
    if (t === '~') { i++; const o = unary(); return (env) => (~o(env)) >>> 0; }
    if (t === '!') { i++; const o = unary(); return (env) => (o(env) ? 0 : 1); }
    return primary();
  };
  const primary = (): Node => {
    const t = peek();
    if (t === undefined) return fail('expression expected');
    if (t === '(') { i++; const e = binary(0); expect(')'); return e; }
    let size = 4;
    if (t in SIZES && tokens[i + 1]?.t === '[') { size = SIZES[t]; i++; }
    if (peek() === '[') {
      i++;
      const addr = binary(0);
      expect(']');
      return (env) => env.read(addr(env), size) ?? 0;
    }
    i++;
    if (/^(0x[0-9a-f]+|[0-9]+)$/.test(t)) { const v = Number(t) >>> 0; return () => v; }
    if (/^[a-z_]/.test(t)) {
      const name = t;
      return (env) => {
        const v = env.register(name);
        if (v === undefined) throw new ConditionError(`condition "${text}": unknown register '${name}'`);
        return v >>> 0;
      };
    }
    i--;
    return fail(`unexpected '${t}'`);
  };

  const root = binary(0);
  if (i < tokens.length) fail(`unexpected '${tokens[i].t}'`);
  return (env) => root(env) !== 0;
}
