// The plan's symbols (the dims uniform's members): in order of first appearance in the inputs' shapes, then
// anywhere else in the graph.
import { dimSymbols } from '../../graph/dims.js';
import type { Dim, Graph } from '../../graph/types.js';

export function planSymbols(g: Graph): string[] {
  const out: string[] = [];
  const add = (d: Dim) => {
    for (const s of dimSymbols(d)) if (!out.includes(s)) out.push(s);
  };
  for (const i of g.inputs) for (const d of g.nodes[i.node]!.shape) add(d);
  for (const n of g.nodes) for (const d of n.shape) add(d);
  return out;
}
