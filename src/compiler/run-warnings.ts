// Data-dependent warnings of a run (the specs' warn_rows): each is a 1-D 0/1 mask in the graph, off every output's
// path (so compiled plans never compute it); `tdc run` evaluates the masks on the host (float64, only the nodes
// they depend on) after the CPU or GPU run and warns with the spec's message and the nonzero indices.
import { diag, type Diagnostic, type Span } from '../diagnostics/diagnostic.js';
import type { Graph } from '../graph/types.js';
import { evaluateNodes } from '../cpu/executor.js';
import type { HostTensor } from '../graph/host-tensor.js';

/** At most this many indices are listed in one warning. */
const MAX_LISTED = 20;

export function runWarnings(g: Graph, inputs: Map<string, HostTensor>, span?: Span): Diagnostic[] {
  if (!g.warnings?.length) return [];
  const values = evaluateNodes(g, inputs, g.warnings.map((w) => w.node));
  const out: Diagnostic[] = [];
  for (const w of g.warnings) {
    const mask = values[w.node]!.data;
    const rows: number[] = [];
    for (let i = 0; i < mask.length; i++) if (mask[i] !== 0) rows.push(i);
    if (rows.length === 0) continue;
    const listed = rows.slice(0, MAX_LISTED).join(', ') + (rows.length > MAX_LISTED ? `, … (${rows.length} in all)` : '');
    out.push(diag('warning', 'TDC540', `term '${w.term}': ${w.message}: ${listed}`, span));
  }
  return out;
}
