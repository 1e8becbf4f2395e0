// Offset <-> line/character conversion for one text, built once per parse.
import type { Loc, Span } from './ast';

export class LineMap {
  /** Offsets at which each line starts. */
  private readonly starts: number[] = [0];

  constructor(readonly text: string) {
    for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) this.starts.push(i + 1);
  }

  /** Parsers ask in (nearly) increasing order: try the last answer and the next line first. */
  private last = 0;

  lineOf(offset: number): number {
    const s = this.starts;
    const h = this.last;
    if (offset >= s[h] && (h + 1 >= s.length || offset < s[h + 1])) return h;
    if (h + 1 < s.length && offset >= s[h + 1] && (h + 2 >= s.length || offset < s[h + 2])) return (this.last = h + 1);
    this.last = this.search(offset);
    return this.last;
  }

  private search(offset: number): number {
    let lo = 0;
    let hi = this.starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.starts[mid] <= offset) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  loc(offset: number): Loc {
    const line = this.lineOf(offset);
    return { offset, line, character: offset - this.starts[line] };
  }

  span(start: number, end: number): Span {
    return { start: this.loc(start), end: this.loc(end) };
  }

  /** Offset of a 0-based line/character, clamped to the text. */
  offsetAt(line: number, character: number): number {
    if (line < 0) return 0;
    if (line >= this.starts.length) return this.text.length;
    const lineEnd = line + 1 < this.starts.length ? this.starts[line + 1] - 1 : this.text.length;
    return Math.min(this.starts[line] + Math.max(0, character), lineEnd);
  }
}
