// A unified diff of two texts by lines, for `tdc migrate` without --write. The common prefix and suffix are set
// aside, the rest is diffed with Myers' O((N+M)·D) algorithm (D = lines added plus removed), whose memory is
// O(D²). Past an edit budget (a rewrite that changes most of a large file) the middle becomes one hunk that removes
// the old lines and adds the new ones: still a correct diff, never a quadratic one.

/** One line of the diff: kept, removed or added, and how many lines of each text come before it. */
interface Op {
  t: ' ' | '-' | '+';
  s: string;
  a: number;
  b: number;
}

/** Myers' search stops past this many edits, or when the work (lines × edits) would pass WORK_BUDGET. */
const MAX_EDITS = 2000;
const WORK_BUDGET = 40_000_000;

export function unifiedDiff(a: string, b: string, fromName: string, toName: string, context = 3, maxEdits = MAX_EDITS): string {
  const ops = diffLines(a.split('\n'), b.split('\n'), maxEdits);
  const out = [`--- ${fromName}`, `+++ ${toName}`];
  let k = 0;
  while (k < ops.length) {
    if (ops[k]!.t === ' ') {
      k++;
      continue;
    }
    const start = Math.max(0, k - context);
    let end = k;
    // extend the hunk while changes are within 2·context lines of each other
    for (let q = k; q < ops.length; q++) {
      if (ops[q]!.t !== ' ') end = q;
      else if (q - end > 2 * context) break;
    }
    end = Math.min(ops.length - 1, end + context);
    const hunk = ops.slice(start, end + 1);
    const aCount = hunk.filter((o) => o.t !== '+').length;
    const bCount = hunk.filter((o) => o.t !== '-').length;
    const first = ops[start]!;
    // an empty side names the line before it (0 at the start of the file), as diff -u does
    const range = (at: number, count: number): string => `${count ? at + 1 : at},${count}`;
    out.push(`@@ -${range(first.a, aCount)} +${range(first.b, bCount)} @@`, ...hunk.map((o) => `${o.t}${o.s}`));
    k = end + 1;
  }
  return out.join('\n') + '\n';
}

/** The edit script turning lines `x` into lines `y`. */
export function diffLines(x: readonly string[], y: readonly string[], maxEdits = MAX_EDITS): Op[] {
  let pre = 0;
  while (pre < x.length && pre < y.length && x[pre] === y[pre]) pre++;
  let suf = 0;
  while (suf < x.length - pre && suf < y.length - pre && x[x.length - 1 - suf] === y[y.length - 1 - suf]) suf++;
  const ops: Op[] = [];
  for (let i = 0; i < pre; i++) ops.push({ t: ' ', s: x[i]!, a: i, b: i });
  const xs = x.slice(pre, x.length - suf);
  const ys = y.slice(pre, y.length - suf);
  const budget = Math.min(maxEdits, Math.floor(WORK_BUDGET / Math.max(1, xs.length + ys.length)));
  const middle = myers(xs, ys, budget) ?? [...xs.map((): '-' => '-'), ...ys.map((): '+' => '+')];
  let i = 0;
  let j = 0;
  for (const t of middle) {
    const op: Op = { t, s: t === '+' ? ys[j]! : xs[i]!, a: pre + i, b: pre + j };
    ops.push(op);
    if (t !== '+') i++;
    if (t !== '-') j++;
  }
  for (let q = suf; q > 0; q--) ops.push({ t: ' ', s: x[x.length - q]!, a: x.length - q, b: y.length - q });
  return ops;
}

/** Myers' greedy shortest edit script (kept/removed/added per line), or undefined when it needs more than `maxD` edits. */
function myers(x: readonly string[], y: readonly string[], maxD: number): (' ' | '-' | '+')[] | undefined {
  const n = x.length;
  const m = y.length;
  const limit = Math.min(n + m, maxD);
  const off = limit + 1;
  const v = new Int32Array(2 * limit + 3);
  // trace[d]: the furthest x on each diagonal k ∈ [-d-1, d+1] before step d (index k + d + 1)
  const trace: Int32Array[] = [];
  for (let d = 0; d <= limit; d++) {
    trace.push(v.slice(off - d - 1, off + d + 2));
    for (let k = -d; k <= d; k += 2) {
      let i = k === -d || (k !== d && v[off + k - 1]! < v[off + k + 1]!) ? v[off + k + 1]! : v[off + k - 1]! + 1;
      let j = i - k;
      while (i < n && j < m && x[i] === y[j]) {
        i++;
        j++;
      }
      v[off + k] = i;
      if (i >= n && j >= m) return backtrack(trace, n, m, d);
    }
  }
  return undefined;
}

function backtrack(trace: readonly Int32Array[], n: number, m: number, dEnd: number): (' ' | '-' | '+')[] {
  const rev: (' ' | '-' | '+')[] = [];
  let i = n;
  let j = m;
  for (let d = dEnd; d >= 0; d--) {
    const v = trace[d]!;
    const at = (k: number): number => v[k + d + 1]!;
    const k = i - j;
    const prevK = k === -d || (k !== d && at(k - 1) < at(k + 1)) ? k + 1 : k - 1;
    const prevI = at(prevK);
    const prevJ = prevI - prevK;
    while (i > prevI && j > prevJ) {
      rev.push(' ');
      i--;
      j--;
    }
    if (d > 0) rev.push(i === prevI ? '+' : '-');
    i = prevI;
    j = prevJ;
  }
  return rev.reverse();
}
