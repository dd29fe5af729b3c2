// "did you mean": the closest candidate by Damerau-Levenshtein distance, if close enough.
import { GpuUsageError } from './errors.js';
import { describeValue } from './argument-checks.js';

export function editDistance(a: string, b: string): number {
  if (typeof a !== 'string' || typeof b !== 'string') throw new GpuUsageError(`editDistance: expected two strings, got ${describeValue(a)} and ${describeValue(b)}`);
  const m = a.length;
  const n = b.length;
  const d: number[][] = Array.from({ length: m + 1 }, (_, i) => Array.from({ length: n + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= m; i++) {
    for (let j = 1; j <= n; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, d[i - 2]![j - 2]! + 1);
      d[i]![j] = v;
    }
  }
  return d[m]![n]!;
}

export function closest(word: string, candidates: Iterable<string>): string | undefined {
  if (typeof word !== 'string') throw new GpuUsageError(`closest: the word must be a string, got ${describeValue(word)}`);
  if (candidates === null || typeof (candidates as Partial<Iterable<string>>)?.[Symbol.iterator] !== 'function' || typeof candidates === 'string')
    throw new GpuUsageError(`closest: the candidates must be an iterable of strings (an Array, a Set), got ${describeValue(candidates)}`);
  let best: string | undefined;
  let bestD = Infinity;
  const lw = word.toLowerCase();
  for (const c of candidates) {
    if (typeof c !== 'string') continue;
    const dist = editDistance(lw, c.toLowerCase());
    if (dist < bestD) {
      bestD = dist;
      best = c;
    }
  }
  if (best === undefined) return undefined;
  const limit = Math.max(2, Math.floor(Math.max(word.length, best.length) / 3));
  return bestD <= limit ? best : undefined;
}

export function didYouMean(word: string, candidates: Iterable<string>): string | undefined {
  const c = closest(word, candidates);
  return c === undefined ? undefined : `did you mean '${c}'?`;
}
