// The LVM text-metadata adapter: one function, parseMetadataText(), turns VG text into a tree.
// The language server's positioned LVM parser (server/src/lvm/parser.ts) will replace the small
// reader below once it lands; everything else in this directory only sees ConfigSection.
import { ImageError } from '../../block/blockDevice';

export type ConfigValue = string | number | ConfigValue[];
export interface ConfigSection { [key: string]: ConfigValue | ConfigSection }

export function isSection(v: ConfigValue | ConfigSection | undefined): v is ConfigSection {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Parses LVM text metadata (the lvm.conf grammar) into nested sections. */
export function parseMetadataText(text: string): ConfigSection {
  let i = 0;
  const n = text.length;
  const fail = (msg: string): never => { throw new ImageError(`LVM metadata: ${msg} at byte ${i + 1}`, 'metadata text', i); };
  const skip = () => {
    while (i < n) {
      const c = text.charCodeAt(i);
      if (c === 0x23) { while (i < n && text[i] !== '\n') i++; } else if (c <= 0x20) i++; else break;
    }
  };
  const bare = () => {
    const s = i;
    while (i < n && !/[\s#={}]/.test(text[i])) i++;
    return text.slice(s, i);
  };
  const quoted = (): string => {
    const q = text[i++];
    let out = '';
    while (i < n && text[i] !== q) {
      if (q === '"' && text[i] === '\\' && i + 1 < n) { out += text[i + 1]; i += 2; } else out += text[i++];
    }
    if (i >= n) fail('unterminated string');
    i++;
    return out;
  };
  const scalar = (): ConfigValue => {
    skip();
    const c = text[i];
    if (c === '"' || c === "'") return quoted();
    if (c !== undefined && /[0-9+\-.]/.test(c)) {
      const m = /^[+-]?\d*(\.\d*)?/.exec(text.slice(i, i + 40))!;
      i += m[0].length || 1;
      return m[1] ? Number.parseFloat(m[0]) : Number.parseInt(m[0], 10) || 0;
    }
    const b = bare();
    if (b === '') fail('expected a value');
    return b;
  };
  const body = (depth: number, closing: boolean): ConfigSection => {
    if (depth > 64) fail('sections nested too deeply');
    const sec: ConfigSection = {};
    for (;;) {
      skip();
      if (i >= n) { if (closing) fail('missing "}"'); return sec; }
      if (text[i] === '}') { if (!closing) fail('unexpected "}"'); i++; return sec; }
      const key = text[i] === '"' || text[i] === "'" ? quoted() : bare();
      if (key === '') fail('expected a key');
      skip();
      if (text[i] === '{') {
        i++;
        const child = body(depth + 1, true);
        const prev = sec[key];
        sec[key] = isSection(prev) ? { ...prev, ...child } : child;
      } else if (text[i] === '=') {
        i++;
        skip();
        if (text[i] === '[') {
          i++;
          const arr: ConfigValue[] = [];
          for (;;) {
            skip();
            if (i >= n) fail('missing "]"');
            if (text[i] === ']') { i++; break; }
            if (text[i] === ',') { i++; continue; }
            arr.push(scalar());
          }
          sec[key] = arr;
        } else {
          sec[key] = scalar();
        }
      } else {
        fail(`expected "=" or "{" after "${key}"`);
      }
    }
  };
  return body(0, false);
}
