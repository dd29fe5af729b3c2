// Which integer inputs index an axis, and how large that axis is: torch raises for a value outside [0, size),
// while a WGSL gather would read a clamped element (and an in-place index_copy write a clamped row). The plan lists
// them (KernelPlan.indexInputs); the runtime checks host inputs before dispatch and device inputs on the device,
// `tdc run --device cpu` before it executes. Every index operand is traced back to its input through layout ops and
// `where(x != ignore_index, x, 0)` (the ignore value is exempt): a gather's index (class picks of nll_loss /
// cross_entropy / KD: torch's "Target 5000 is out of bounds"; an index broadcast across the other dims selects whole
// slices, as index_select / CRD's `memory[contrast_idx]`: "index out of range in self"), index_copy's index (CRD's
// bank update, `index_copy_`) and scatter_add's. CTC's input and target lengths are checked the same way
// (ctcLengthChecks).
import { addDims } from '../graph/dims.js';
import type { Dim, Graph, Node } from '../graph/types.js';
import type { Related, Span } from '../diagnostics/diagnostic.js';
import { isBuiltinSpecFile } from '../registry/registry.js';
import type { IndexInputCheck, KernelPlan, UnitInputCheck } from './schedule/plan.js';
import { deviceCheckKernels } from '../codegen/wgsl/device-check-kernels.js';

const LAYOUT = new Set(['reshape', 'permute', 'broadcast', 'cast', 'detach']);

/** one_hot's class values (torch raises "Class values must be smaller than num_classes." or "… non-negative."). */
const ONE_HOT = { what: 'a one_hot class value' };
/** one_hot(where(t != -1, t, 0), C): the class indices of a -1-terminated target (MultiLabelMarginLoss's, whose every
 *  value torch checks, also one past the first -1). */
const LABEL_LIST = { what: 'a class index of a -1-terminated target', torch: "argument #2 'target' is out of range" };

export function indexInputChecks(g: Graph): IndexInputCheck[] {
  const out = new Map<string, IndexInputCheck>();
  const node = (id: number): Node => g.nodes[id]!;
  // the first op to read an input decides its message (graph order is the order torch meets them)
  const add = (operand: Node, size: Dim, message: { what: string; torch?: string } | undefined) => {
    const t = tracedIndexInput(operand, node);
    if (!t) return;
    const key = `${t.input}|${JSON.stringify(size)}|${t.ignore}`;
    const msg = message === ONE_HOT && t.ignore === -1 ? LABEL_LIST : message;
    if (!out.has(key)) out.set(key, { input: t.input, size, ...(t.ignore !== undefined ? { ignore: t.ignore } : {}), ...msg });
  };
  for (const n of g.nodes) {
    if (n.op === 'gather') {
      const [data, index] = n.inputs.map(node) as [Node, Node];
      const axis = n.attrs.axis;
      // one_hot(t, n) picks t's values from arange(n) (builtins.ts): class values, with their own wording;
      // an index broadcast across the other dims picks whole slices: index_select(data, axis, i) (CRD's bank rows)
      const message =
        data.op === 'iota' && data.shape.length === 1
          ? ONE_HOT
          : selectsSlices(index, axis, node)
            ? sliceIndex(data, axis, node, 'index out of range in self')
            : undefined;
      add(index, data.shape[axis]!, message);
    } else if (n.op === 'index_copy') {
      const [self, index] = n.inputs.map(node) as [Node, Node];
      const axis = n.attrs.axis;
      add(index, self.shape[axis]!, sliceIndex(self, axis, node, `index_copy_(): index {value} is out of bounds for dimension ${axis} with size {size}`));
    } else if (n.op === 'scatter_add') {
      const axis = n.attrs.axis;
      add(node(n.inputs[0]!), n.attrs.shape[axis]!, { what: `an index into dimension ${axis}`, torch: `index {value} is out of bounds for dimension ${axis} with size {size}` });
    }
  }
  return [...out.values(), ...ctcLengthChecks(g)];
}

/**
 * Where a bad value of the index input `input` is reported, on every device: at the spec call of the first op that
 * indexes with it when that call is in a file of the user's (their --spec), else at the config term whose loss reads
 * it (a built-in loss: tdc's own spec line follows as related), else at `fallback` (the stage).
 */
export function indexInputPosition(g: Graph, input: string, fallback: Span | undefined): { span?: Span; related: Related[] } {
  const node = (id: number): Node => g.nodes[id]!;
  const reader = g.nodes.find((n) => {
    const index = n.op === 'gather' || n.op === 'index_copy' ? n.inputs[1] : n.op === 'scatter_add' ? n.inputs[0] : undefined;
    return index !== undefined && tracedIndexInput(node(index), node)?.input === input;
  });
  return readerPosition(reader, fallback);
}

/** Where a value outside [0, 1] of the probability input `input` (unitInputChecks) is reported, on every device: as
 *  indexInputPosition places an index input's, at the op that reads it as a probability (binary_cross_entropy's log). */
export function unitInputPosition(g: Graph, input: string, fallback: Span | undefined): { span?: Span; related: Related[] } {
  const node = (id: number): Node => g.nodes[id]!;
  return readerPosition(g.nodes.find((n) => unitReadInput(n, node) === input), fallback);
}

/** An input check's position from the op that first reads the input: the user's spec call, else the config term. */
function readerPosition(reader: Node | undefined, fallback: Span | undefined): { span?: Span; related: Related[] } {
  const { spec, config } = reader?.origin ?? {};
  const term = config ?? fallback;
  if (spec && !isBuiltinSpecFile(spec.file)) return { span: spec, related: term ? [{ message: 'in the loss of this term', span: term }] : [] };
  return { ...(term ? { span: term } : {}), related: spec ? [{ message: "read here, in tdc's built-in spec", span: spec }] : [] };
}

/**
 * The int graph input an index operand reads, seen through layout ops, slices and `where(x != ignore_index, x, k)`
 * (the ignore value is then exempt); undefined for an index the graph computes. Through a slice the whole input is
 * checked, also the elements the slice leaves out (SSKD's augmented-row labels, a slice of the repeated targets,
 * cover them all): a check before the kernels run, instead of storing the slice for a check after them
 * (computed-indices.ts).
 */
export function tracedIndexInput(start: Node, node: (id: number) => Node): { input: string; ignore?: number } | undefined {
  let cur = start;
  let ignore: number | undefined;
  for (let hops = 0; hops < 32; hops++) {
    if (cur.op === 'input') return cur.dtype === 'int' ? { input: cur.attrs.name, ...(ignore !== undefined ? { ignore } : {}) } : undefined;
    if (LAYOUT.has(cur.op) || cur.op === 'slice') {
      cur = node(cur.inputs[0]!);
      continue;
    }
    if (cur.op !== 'where') return undefined;
    const [cond, a, b] = cur.inputs.map(node) as [Node, Node, Node];
    // cond = (x != ignore) over the same x, with a constant in-range fallback
    // Any other mask (e.g. MultiLabelMarginLoss's `pos < first -1`) exempts values the host cannot tell apart
    // statically: the input is not listed rather than checked wrongly.
    if (constValue(b, node) === undefined) return undefined;
    if (cond.op !== 'binary' || cond.attrs.fn !== 'ne') return undefined;
    const c = cond.inputs.map((i) => constValue(node(i), node)).find((v) => v !== undefined);
    if (c === undefined) return undefined;
    ignore = c;
    cur = a;
  }
  return undefined;
}

/** A gather index that is a broadcast along some dim other than the gather axis: each value picks a whole slice. */
function selectsSlices(index: Node, axis: number, node: (id: number) => Node): boolean {
  if (index.op !== 'broadcast') return false;
  const from = node(index.inputs[0]!).shape;
  const lead = index.shape.length - from.length;
  return index.shape.some((d, i) => i !== axis && d !== 1 && (i < lead || from[i - lead] === 1));
}

/** The message of an index into dimension `axis` of `x` (named when it is a graph input, e.g. a CRD bank). */
function sliceIndex(x: Node, axis: number, node: (id: number) => Node, torch: string): { what: string; torch: string } {
  let cur = x;
  for (let hops = 0; hops < 8 && LAYOUT.has(cur.op); hops++) cur = node(cur.inputs[0]!);
  return { what: `an index into dimension ${axis} of ${cur.op === 'input' ? `'${cur.attrs.name}'` : 'a tensor'}`, torch };
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
    const name = unitReadInput(n, node);
    if (name !== undefined) out.set(name, { input: name, message: 'binary_cross_entropy: all elements of input should be between 0 and 1' });
  }
  return [...out.values()];
}

/** The float graph input `n` reads as a probability when `n` is the prelude's `maximum(log(x), -100)` over it. */
function unitReadInput(n: Node, node: (id: number) => Node): string | undefined {
  if (n.op !== 'binary' || (n.attrs as { fn: string }).fn !== 'maximum') return undefined;
  const [a, b] = n.inputs.map(node) as [Node, Node];
  const [log, bound] = a.op === 'unary' ? [a, b] : [b, a];
  if (log.op !== 'unary' || (log.attrs as { fn: string }).fn !== 'log' || constValue(bound, node) !== -100) return undefined;
  let cur = node(log.inputs[0]!);
  for (let hops = 0; hops < 8 && LAYOUT.has(cur.op); hops++) cur = node(cur.inputs[0]!);
  return cur.op === 'input' && cur.dtype === 'float' ? (cur.attrs as { name: string }).name : undefined;
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
