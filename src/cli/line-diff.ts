// A unified diff of two texts by lines (longest common subsequence; configs are a few hundred lines), for
// `tdc migrate` without --write.
export function unifiedDiff(a: string, b: string, fromName: string, toName: string, context = 3): string {
  const x = a.split('\n');
  const y = b.split('\n');
  const n = x.length;
  const m = y.length;
  const lcs: Uint32Array[] = Array.from({ length: n + 1 }, () => new Uint32Array(m + 1));
  for (let i = n - 1; i >= 0; i--) for (let j = m - 1; j >= 0; j--) lcs[i]![j] = x[i] === y[j] ? lcs[i + 1]![j + 1]! + 1 : Math.max(lcs[i + 1]![j]!, lcs[i]![j + 1]!);
  const ops: { t: ' ' | '-' | '+'; s: string; i: number; j: number }[] = [];
  let i = 0;
  let j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && x[i] === y[j]) ops.push({ t: ' ', s: x[i++]!, i, j: j++ });
    else if (j < m && (i === n || lcs[i]![j + 1]! >= lcs[i + 1]![j]!)) ops.push({ t: '+', s: y[j++]!, i, j });
    else ops.push({ t: '-', s: x[i++]!, i, j });
  }
  const out = [`--- ${fromName}`, `+++ ${toName}`];
  let k = 0;
  while (k < ops.length) {
    if (ops[k]!.t === ' ') {
      k++;
      continue;
    }
    let start = Math.max(0, k - context);
    let end = k;
    // extend the hunk while changes are within 2·context lines of each other
    for (let q = k; q < ops.length; q++) {
      if (ops[q]!.t !== ' ') end = q;
      else if (q - end > 2 * context) break;
    }
    end = Math.min(ops.length - 1, end + context);
    const hunk = ops.slice(start, end + 1);
    const a0 = hunk.filter((o) => o.t !== '+').length;
    const b0 = hunk.filter((o) => o.t !== '-').length;
    const first = ops[start]!;
    const aStart = first.t === '+' ? first.i : first.i - 1;
    const bStart = first.t === '-' ? first.j : first.j - 1;
    out.push(`@@ -${aStart + 1},${a0} +${bStart + 1},${b0} @@`, ...hunk.map((o) => `${o.t}${o.s}`));
    k = end + 1;
    start = k;
  }
  return out.join('\n') + '\n';
}
