// Index operands the graph computes (not a plan input): `gather(s, 1, unsqueeze(targets, 1) + 10)`, an index_copy
// of `long(tensor([9.0]))`. torch raises for a value outside [0, size); a WGSL gather reads a clamped element
// instead, so such an index is stored (a scratch buffer of its own: stored-values.ts makes it a unit, buffers.ts
// gives it the buffer) and the runtime checks the stored values on the device right after the kernel storing them,
// before the kernels that update state (KernelPlan.computedIndexChecks, device-checks.ts). Indices that are graph inputs are checked as inputs
// (index-checks.ts, KernelPlan.indexInputs), before anything runs. Indices in range by construction — a sort's
// indices or ranks, an iota along an axis of the same size, a constant in range — are not stored:
// the built-in losses' schedules stay as they are.
import { dimEq, dimToString, numel } from '../../graph/dims.js';
import type { Dim, Graph, Node } from '../../graph/types.js';
import type { Span } from '../../diagnostics/diagnostic.js';
import { indexInputChecks, tracedIndexInput } from '../index-checks.js';

/** Views that keep every value of the index (the values the consumer reads are the stored node's). */
const VIEWS = new Set(['reshape', 'permute', 'broadcast', 'detach']);

export interface ComputedIndex {
  /** The node whose values are the index (below any views of it). */
  node: number;
  /** The size of the axis it indexes: each value must lie in [0, size). */
  size: Dim;
  /** Element count of the node. */
  n: Dim;
  /** The op consuming it, the axis and, when known, the spec call that made that op and the config term. */
  op: 'gather' | 'one_hot' | 'index_copy' | 'scatter_add';
  axis: number;
  origin?: Span;
  config?: Span;
}

/** The computed index operands of `g` that need a check on the device, one per (node, size). */
export function computedIndices(g: Graph): ComputedIndex[] {
  const node = (id: number): Node => g.nodes[id]!;
  const out = new Map<string, ComputedIndex>();
  // the index inputs checked as a whole before the kernels run (no ignore value): a slice of one is in range
  const checkedInputs = indexInputChecks(g).filter((c) => c.ignore === undefined);
  const inRange = (x: Node, size: Dim): boolean => valuesInRange(x, size, node, (name) => checkedInputs.some((c) => c.input === name && dimEq(c.size, size) === true));
  for (const n of g.nodes) {
    let index: number;
    let size: Dim;
    if (n.op === 'gather') [index, size] = [n.inputs[1]!, node(n.inputs[0]!).shape[n.attrs.axis]!];
    else if (n.op === 'index_copy') [index, size] = [n.inputs[1]!, node(n.inputs[0]!).shape[n.attrs.axis]!];
    else if (n.op === 'scatter_add') [index, size] = [n.inputs[0]!, n.attrs.shape[n.attrs.axis]!];
    else continue;
    if (tracedIndexInput(node(index), node)) continue;
    // a constant is no unit of its own: its view (a broadcast of it) is stored then
    let src = node(index);
    for (let hops = 0; hops < 32 && VIEWS.has(src.op) && node(src.inputs[0]!).op !== 'const'; hops++) src = node(src.inputs[0]!);
    if (src.op === 'input' || inRange(src, size)) continue;
    const key = `${src.id}|${dimToString(size)}`;
    // one_hot(t, n) picks t's values from arange(n) (builtins.ts)
    const op = n.op === 'gather' && node(n.inputs[0]!).op === 'iota' && n.shape.length === 1 ? 'one_hot' : n.op;
    if (!out.has(key)) out.set(key, { node: src.id, size, n: numel(src.shape), op, axis: n.attrs.axis, ...(n.origin?.spec ? { origin: n.origin.spec } : {}), ...(n.origin?.config ? { config: n.origin.config } : {}) });
  }
  return [...out.values()];
}

/** How a check's message names a computed index: the op reading it and the spec call that made that op (the
 *  file's base name: the plan, and the glue carrying it, are the same wherever tdc and the spec are installed). */
export function computedIndexWhat(c: ComputedIndex): string {
  const at = c.origin ? ` at ${c.origin.file.slice(c.origin.file.search(/[^/\\]*$/))}:${c.origin.start.line}:${c.origin.start.col}` : '';
  return c.op === 'one_hot' ? `the class values of one_hot${at} (computed by the loss)` : `the index of ${c.op}${at} (computed by the loss), into dimension ${c.axis}`;
}

/** torch's message for such an index ({value}, {size}: see IndexInputCheck.torch); none for one_hot, whose
 *  wording depends on the sign ("Class values must be smaller than num_classes." / "… non-negative."). */
export function computedIndexTorch(c: ComputedIndex): { torch?: string } {
  if (c.op === 'one_hot') return {};
  return { torch: `${c.op === 'index_copy' ? 'index_copy_(): ' : ''}index {value} is out of bounds for dimension ${c.axis} with size {size}` };
}

/**
 * Values in [0, size) by construction: a constant in range, an iota, sort indices or ranks over an axis of that
 * size, an input `checked` against that size; seen through views, slices (a subset of the values)
 * and casts of int values or constants; a `where` of two such values (nll_loss's `where(target != ignore_index,
 * target, 0)` over SSKD's rotation labels).
 */
function valuesInRange(x: Node, size: Dim, node: (id: number) => Node, checked: (input: string) => boolean): boolean {
  const rec = (y: Node, hops: number): boolean => {
    if (hops > 32) return false;
    const below = (k: number) => rec(node(y.inputs[k]!), hops + 1);
    if (VIEWS.has(y.op) || y.op === 'slice') return below(0);
    switch (y.op) {
      case 'input':
        return checked(y.attrs.name);
      case 'const':
        return typeof size === 'number' && Math.trunc(y.attrs.value) >= 0 && Math.trunc(y.attrs.value) < size;
      case 'cast': {
        const from = node(y.inputs[0]!);
        return (from.dtype === 'int' || from.op === 'const') && below(0);
      }
      case 'where':
        return below(1) && below(2);
      case 'iota':
        return dimEq(y.attrs.shape[y.attrs.axis]!, size) === true;
      case 'sort':
        return y.attrs.output !== 'values' && dimEq(y.shape[y.attrs.axis]!, size) === true;
      default:
        return false;
    }
  };
  return rec(x, 0);
}
