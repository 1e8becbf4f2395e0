// Offset <-> line/character conversion for one text, built once per parse.
import type { Loc, Span } from './ast';

export class LineMap {
  /** Offsets at which each line starts. */
  private readonly starts: number[] = [0];

  constructor(readonly text: string) {
    for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) this.starts.push(i + 1);
  }

  lineOf(offset: number): number {
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
