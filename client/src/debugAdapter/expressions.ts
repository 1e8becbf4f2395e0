// Debug-console and hover expressions over guest state: registers (`eax`, `ax`, `al`),
// numbers (`0x10`, `16`), symbols, arithmetic (+ - * & | << >>), memory dereference
// (`[esp+4]` reads a u32, `*(u16*)addr`, `*(i8*)addr`). Pure: state comes through `Env`.

export type DerefType = 'u8' | 'u16' | 'u32' | 'i8' | 'i16' | 'i32';
const SIZES: Record<DerefType, number> = { u8: 1, u16: 2, u32: 4, i8: 1, i16: 2, i32: 4 };

export type Expr =
  | { kind: 'num'; value: number }
  | { kind: 'name'; name: string; at: number }
  | { kind: 'neg'; operand: Expr }
  | { kind: 'not'; operand: Expr }
  | { kind: 'bin'; op: string; left: Expr; right: Expr }
  | { kind: 'deref'; type: DerefType; address: Expr };

export interface Env {
  register(name: string): number | undefined;
  symbol(name: string): number | undefined;
  read(address: number, size: number): Promise<Uint8Array>;
}

export class ExpressionError extends Error {
  constructor(message: string, readonly position: number) {
    super(message);
    this.name = 'ExpressionError';
  }
}

const TOKEN = /\s*(0x[0-9a-fA-F]+|[0-9]+|[A-Za-z_.$][\w.$@]*|<<|>>|[-+*&|^~()[\]])/y;

function tokenize(text: string): { text: string; at: number }[] {
  const tokens: { text: string; at: number }[] = [];
  TOKEN.lastIndex = 0;
  let pos = 0;
  while (pos < text.length) {
    if (/^\s*$/.test(text.slice(pos))) break;
    TOKEN.lastIndex = pos;
    const m = TOKEN.exec(text);
    if (!m) throw new ExpressionError(`unexpected character '${text.slice(pos).trimStart()[0]}'`, pos);
    tokens.push({ text: m[1], at: m.index + m[0].indexOf(m[1]) });
    pos = TOKEN.lastIndex;
  }
  return tokens;
}

// Precedence climbing, lowest first.
const LEVELS: string[][] = [['|'], ['^'], ['&'], ['<<', '>>'], ['+', '-'], ['*']];

export function parseExpression(text: string): Expr {
  const tokens = tokenize(text);
  let i = 0;
  const peek = () => tokens[i]?.text;
  const expect = (t: string) => {
    if (peek() !== t) throw new ExpressionError(`expected '${t}'`, tokens[i]?.at ?? text.length);
    i++;
  };

  function binary(level: number): Expr {
    if (level === LEVELS.length) return unary();
    let left = binary(level + 1);
    while (peek() !== undefined && LEVELS[level].includes(peek()!)) {
      const op = tokens[i++].text;
      left = { kind: 'bin', op, left, right: binary(level + 1) };
    }
    return left;
  }

  function unary(): Expr {
    const t = peek();
    if (t === '-') { i++; return { kind: 'neg', operand: unary() }; }
    if (t === '~') { i++; return { kind: 'not', operand: unary() }; }
    if (t === '*') {
      i++;
      // *(type*)expr, or *expr meaning a u32 read
      if (peek() === '(' && /^[ui](8|16|32)$/.test(tokens[i + 1]?.text ?? '') && tokens[i + 2]?.text === '*') {
        const type = tokens[i + 1].text as DerefType;
        i += 3;
        expect(')');
        return { kind: 'deref', type, address: unary() };
      }
      return { kind: 'deref', type: 'u32', address: unary() };
    }
    return primary();
  }

  function primary(): Expr {
    const tok = tokens[i];
    if (!tok) throw new ExpressionError('expression ends too early', text.length);
    i++;
    if (tok.text === '(') { const e = binary(0); expect(')'); return e; }
    if (tok.text === '[') { const e = binary(0); expect(']'); return { kind: 'deref', type: 'u32', address: e }; }
    if (/^(0x[0-9a-fA-F]+|[0-9]+)$/.test(tok.text)) return { kind: 'num', value: Number(tok.text) };
    if (/^[A-Za-z_.$]/.test(tok.text)) return { kind: 'name', name: tok.text, at: tok.at };
    throw new ExpressionError(`unexpected '${tok.text}'`, tok.at);
  }

  const e = binary(0);
  if (i < tokens.length) throw new ExpressionError(`unexpected '${tokens[i].text}'`, tokens[i].at);
  return e;
}

function fromBytes(bytes: Uint8Array, type: DerefType): number {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  switch (type) {
    case 'u8': return view.getUint8(0);
    case 'u16': return view.getUint16(0, true);
    case 'u32': return view.getUint32(0, true);
    case 'i8': return view.getInt8(0);
    case 'i16': return view.getInt16(0, true);
    case 'i32': return view.getInt32(0, true);
  }
}

/** Evaluates to a 32-bit value (signed types keep their sign). */
export async function evaluate(expr: Expr, env: Env): Promise<number> {
  switch (expr.kind) {
    case 'num': return expr.value >>> 0;
    case 'name': {
      const v = env.register(expr.name.toLowerCase()) ?? env.symbol(expr.name);
      if (v === undefined) throw new ExpressionError(`unknown register or symbol '${expr.name}'`, expr.at);
      return v;
    }
    case 'neg': return (-(await evaluate(expr.operand, env))) >>> 0;
    case 'not': return (~(await evaluate(expr.operand, env))) >>> 0;
    case 'deref': {
      const address = (await evaluate(expr.address, env)) >>> 0;
      const bytes = await env.read(address, SIZES[expr.type]);
      if (bytes.length < SIZES[expr.type]) throw new ExpressionError(`memory at 0x${address.toString(16)} is not readable`, 0);
      return fromBytes(bytes, expr.type);
    }
    case 'bin': {
      const a = await evaluate(expr.left, env);
      const b = await evaluate(expr.right, env);
      switch (expr.op) {
        case '+': return (a + b) >>> 0;
        case '-': return (a - b) >>> 0;
        case '*': return Math.imul(a, b) >>> 0;
        case '&': return (a & b) >>> 0;
        case '|': return (a | b) >>> 0;
        case '^': return (a ^ b) >>> 0;
        case '<<': return (a << (b & 31)) >>> 0;
        case '>>': return a >>> (b & 31);
      }
      throw new ExpressionError(`unknown operator ${expr.op}`, 0);
    }
  }
}
