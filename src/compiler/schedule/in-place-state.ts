// State updated in place: a state output `state_out/<key>` that is an index_copy along axis 0 of its own state
// input `state_in/<key>` (CRD's memory banks: torchdistill's `memory.index_copy_(0, pos_idx, updated)`) is not
// stored as a new [M, …] tensor. The plan writes the B updated rows into the state input's buffer (the plan
// contract marks the output `inPlace`), in a kernel of its own that runs after every kernel reading the old
// state (write after read, order.ts) and reads the rows from memory computed by an earlier kernel (so a
// repeated index cannot see a row another invocation already replaced). Each invocation of that kernel writes
// the last b's row for its target, so duplicates write the same value (torch's CPU index_copy_: the last wins).
// That kernel also binds the run's device-check flags (build.ts, PlanKernel.checkFlags) and stores nothing when an
// index check failed on the device: torch raises before it updates the bank, so the caller's bank stays as it was.
import { isOneDim as isOne } from '../../graph/dims.js';
import type { Graph } from '../../graph/types.js';

export interface InPlaceUpdate {
  /** The state input node (its buffer is the output's). */
  input: number;
  /** The row index [B] (int). */
  index: number;
  /** The new rows [B, …], written at index. */
  rows: number;
}

const STATE_IN = 'state_in/';
const STATE_OUT = 'state_out/';

const undetached = (g: Graph, id: number): number => {
  while (g.nodes[id]!.op === 'detach') id = g.nodes[id]!.inputs[0]!;
  return id;
};

/** The in-place form of state output `x`, when it has one. */
function inPlaceUpdate(g: Graph, x: { name: string; node: number }): InPlaceUpdate | undefined {
  if (!x.name.startsWith(STATE_OUT)) return undefined;
  const n = g.nodes[undetached(g, x.node)]!;
  if (n.op !== 'index_copy' || n.attrs.axis !== 0) return undefined;
  const [bank, index, rows] = n.inputs as [number, number, number];
  const input = undetached(g, bank);
  if (!g.inputs.some((i) => i.node === input && i.name === STATE_IN + x.name.slice(STATE_OUT.length))) return undefined;
  // a literal 1 along the rows or the index would drop out of the domains the kernel's coordinates follow
  // (the rows coordinate is the scatter kernel's outer one: rows of at least one more non-1 dim)
  const rs = g.nodes[rows]!.shape;
  if (isOne(g.nodes[input]!.shape[0]!) || isOne(rs[0]!) || rs.filter((d) => !isOne(d)).length < 2 || g.nodes[rows]!.dtype !== g.nodes[input]!.dtype) return undefined;
  return { input, index, rows };
}

/** Per state output (graph.stateOut order), its in-place form or undefined. */
export function inPlaceUpdates(g: Graph): (InPlaceUpdate | undefined)[] {
  return (g.stateOut ?? []).map((x) => inPlaceUpdate(g, x));
}
