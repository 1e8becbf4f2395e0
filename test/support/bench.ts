// Helpers for test/bench/*.bench.ts: time things and report figures as "BENCH {json}" lines
// that scripts/bench.mjs collects. Always report a ratio against the anchor measured in the same run.
import { performance } from 'node:perf_hooks';

export interface Figure {
  name: string;
  value: number;
  unit: string;
  anchor?: { name: string; value: number };
  /** ours / anchor for times, anchor / ours never: state which in `note`. */
  ratio?: number;
  note?: string;
}

export function report(f: Figure): void {
  const anchor = f.anchor ? `  (anchor ${f.anchor.name}: ${f.anchor.value.toPrecision(4)} ${f.unit}${f.ratio !== undefined ? `, ratio ${f.ratio.toFixed(3)}` : ''})` : '';
  console.log(`${f.name}: ${f.value.toPrecision(4)} ${f.unit}${anchor}${f.note ? ` — ${f.note}` : ''}`);
  console.log(`BENCH ${JSON.stringify(f)}`);
}

/** Milliseconds per call of fn, after warm-up; the median of `rounds` rounds. */
export async function timeIt(fn: () => unknown, opts: { warmup?: number; iterations?: number; rounds?: number } = {}): Promise<number> {
  const { warmup = 3, iterations = 10, rounds = 5 } = opts;
  for (let i = 0; i < warmup; i++) await fn();
  const samples: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const t0 = performance.now();
    for (let i = 0; i < iterations; i++) await fn();
    samples.push((performance.now() - t0) / iterations);
  }
  samples.sort((a, b) => a - b);
  return samples[Math.floor(samples.length / 2)];
}

export function percentile(samples: number[], p: number): number {
  const s = [...samples].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
}
