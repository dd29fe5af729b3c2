// Name suggestions for unknown keys: edit distance first, then snake_case token overlap
// (`io` → `io_type`, `kernel_params` → `kernel_config` when that is the one required name left).
import { closest, editDistance } from '../../diagnostics/index.js';

const tokens = (s: string): string[] => s.toLowerCase().split(/_+/).filter(Boolean);

export function suggestName(word: string, candidates: Iterable<string>): string | undefined {
  const cs = [...candidates];
  // A unique candidate containing every snake_case token of the word wins (`io` → `io_type`, not `p`).
  const wt = tokens(word);
  if (wt.length > 0) {
    const hits = cs.filter((cand) => {
      const ct = tokens(cand);
      return cand !== word && wt.every((t) => ct.includes(t));
    });
    if (hits.length === 1) return hits[0];
  }
  return closest(word, cs);
}

function related(a: string, b: string): boolean {
  const bt = tokens(b);
  if (tokens(a).some((t) => t.length >= 3 && bt.includes(t))) return true;
  return editDistance(a.toLowerCase(), b.toLowerCase()) <= Math.ceil(Math.max(a.length, b.length) / 2);
}

/** Pairs unknown keys with missing required names they most likely misspell. */
export function pairTypos(unknown: readonly string[], missing: readonly string[]): Map<string, string> {
  const pairs = new Map<string, string>();
  const free = new Set(missing);
  for (const u of unknown) {
    const m = suggestName(u, free);
    if (m !== undefined) {
      pairs.set(u, m);
      free.delete(m);
    }
  }
  const leftover = unknown.filter((u) => !pairs.has(u));
  if (leftover.length === 1 && free.size === 1) {
    const m = [...free][0]!;
    if (related(leftover[0]!, m)) pairs.set(leftover[0]!, m);
  }
  return pairs;
}

export const didYouMeanText = (name: string): string => `did you mean '${name}'?`;
