// Which integer inputs index a class axis (the gather of nll_loss / cross_entropy / KD's label picks), and how
// large that axis is: torch raises "Target 5000 is out of bounds" for such values, while a WGSL gather would
// read a clamped element. The plan lists them (KernelPlan.indexInputs) and the runtime checks host inputs
// before dispatch. Traced through layout ops and `where(x != ignore_index, x, 0)` (the ignore value is exempt).
// CTC's input and target lengths are checked the same way (ctcLengthChecks).
import { addDims } from '../graph/dims.js';
import type { Dim, Graph, Node } from '../graph/types.js';
import type { IndexInputCheck, KernelPlan, UnitInputCheck } from './schedule/plan.js';
import { deviceCheckKernels } from '../codegen/wgsl/device-check-kernels.js';

const LAYOUT = new Set(['reshape', 'permute', 'broadcast', 'cast', 'detach']);

export function indexInputChecks(g: Graph): IndexInputCheck[] {
  const out = new Map<string, IndexInputCheck>();
  const node = (id: number): Node => g.nodes[id]!;
  for (const n of g.nodes) {
    if (n.op !== 'gather') continue;
    const size: Dim = node(n.inputs[0]!).shape[(n.attrs as { axis: number }).axis]!;
    let cur = node(n.inputs[1]!);
    let ignore: number | undefined;
    for (let hops = 0; hops < 32; hops++) {
      if (cur.op === 'input') {
        if (cur.dtype === 'int') {
          const name = (cur.attrs as { name: string }).name;
          const key = `${name}|${JSON.stringify(size)}|${ignore}`;
          out.set(key, { input: name, size, ...(ignore !== undefined ? { ignore } : {}) });
        }
        break;
      }
      if (LAYOUT.has(cur.op)) {
        cur = node(cur.inputs[0]!);
        continue;
      }
      if (cur.op === 'where') {
        const [cond, a, b] = cur.inputs.map(node) as [Node, Node, Node];
        const k = constValue(b, node);
        if (k === undefined) break;
        // cond = (x != ignore) over the same x, with a constant in-range fallback
        // Any other mask (e.g. MultiLabelMarginLoss's `pos < first -1`) exempts values the host cannot tell apart
        // statically: the input is not listed rather than checked wrongly.
        if (cond.op !== 'binary' || (cond.attrs as { fn: string }).fn !== 'ne') break;
        const c = cond.inputs.map((i) => constValue(node(i), node)).find((v) => v !== undefined);
        if (c === undefined) break;
        ignore = c;
        cur = a;
        continue;
      }
      break;
    }
  }
  return [...out.values(), ...ctcLengthChecks(g)];
}

/**
 * CTC's length inputs (ctc_nll's input_lengths and target_lengths, when they are graph inputs seen through layout
 * ops): torch raises for an input length above T or a target length above the padded targets' S; the GPU kernels
 * would clamp them. Listed as index checks of size T + 1 and S + 1.
 */
function ctcLengthChecks(g: Graph): IndexInputCheck[] {
  const out = new Map<string, IndexInputCheck>();
  const node = (id: number): Node => g.nodes[id]!;
  const traced = (x: Node): Node => {
    let cur = x;
    for (let hops = 0; hops < 8 && LAYOUT.has(cur.op); hops++) cur = node(cur.inputs[0]!);
    return cur;
  };
  for (const n of g.nodes) {
    if (n.op !== 'ctc_nll') continue;
    const [lp, tg, il, tl] = n.inputs.map(node) as [Node, Node, Node, Node];
    // torch's target-length message is the padded layout's (concatenated targets are checked against their sum)
    const padded = traced(tg).op === 'input';
    const lengths: [Node, Dim, string, string | undefined][] = [
      [il, lp.shape[0]!, 'a CTC input length', 'Expected input_lengths to have value at most {max}, but got value {value}'],
      [tl, tg.shape[1]!, 'a CTC target length', padded ? 'Expected tensor to have size at least {value} at dimension 1, but got size {max}' : undefined],
    ];
    for (const [x, bound, what, torch] of lengths) {
      const cur = traced(x);
      if (cur.op !== 'input' || cur.dtype !== 'int') continue;
      const name = (cur.attrs as { name: string }).name;
      const size = addDims(bound, 1);
      out.set(`${name}|${JSON.stringify(size)}`, { input: name, size, what, ...(torch ? { torch } : {}) });
    }
  }
  return [...out.values()];
}

/**
 * Float inputs read as probabilities by binary_cross_entropy (the prelude's `maximum(log(x), -100)` over
 * x = detach(input)): torch raises "all elements of input should be between 0 and 1" (NaN included) for them.
 * An input computed in the graph (a sigmoid) is not listed: only what the caller hands in can be checked.
 */
export function unitInputChecks(g: Graph): UnitInputCheck[] {
  const out = new Map<string, UnitInputCheck>();
  const node = (id: number): Node => g.nodes[id]!;
  for (const n of g.nodes) {
    if (n.op !== 'binary' || (n.attrs as { fn: string }).fn !== 'maximum') continue;
    const [a, b] = n.inputs.map(node) as [Node, Node];
    const [log, bound] = a.op === 'unary' ? [a, b] : [b, a];
    if (log.op !== 'unary' || (log.attrs as { fn: string }).fn !== 'log' || constValue(bound, node) !== -100) continue;
    let cur = node(log.inputs[0]!);
    for (let hops = 0; hops < 8 && LAYOUT.has(cur.op); hops++) cur = node(cur.inputs[0]!);
    if (cur.op !== 'input' || cur.dtype !== 'float') continue;
    const name = (cur.attrs as { name: string }).name;
    out.set(name, { input: name, message: 'binary_cross_entropy: all elements of input should be between 0 and 1' });
  }
  return [...out.values()];
}

/** The value of a constant, seen through casts, broadcasts and reshapes. */
function constValue(n: Node, node: (id: number) => Node): number | undefined {
  for (let hops = 0; hops < 8; hops++) {
    if (n.op === 'const') return (n.attrs as { value: number }).value;
    if (!LAYOUT.has(n.op)) return undefined;
    n = node(n.inputs[0]!);
  }
  return undefined;
}

/**
 * The plan's input checks (indexInputs, unitInputs, found in `g`) and the kernels of every device check it then
 * lists (checkKernels: printed by codegen, dispatched by the runtime).
 */
export function attachInputChecks(plan: KernelPlan, g: Graph): void {
  const idx = indexInputChecks(g);
  if (idx.length) plan.indexInputs = idx;
  const unit = unitInputChecks(g);
  if (unit.length) plan.unitInputs = unit;
  const kernels = deviceCheckKernels(plan);
  if (kernels) plan.checkKernels = kernels;
}
