// The tensor graph: what instantiation produces, autodiff extends, the CPU executor interprets and the
// scheduler fuses. Nodes are in topological order (inputs always have smaller ids).
import type { Span } from '../diagnostics/diagnostic.js';

// ---- symbolic dims (defined by the plan contract in tdc-runtime) -------------------------------------
import type { Dim, Shape, StateInit, SymDim } from 'tdc-runtime';
export type { Dim, SymDim, Shape, StateInit };

export type DType = 'float' | 'int';

// ---- ops ----------------------------------------------------------------------------------------------
export type UnaryOp = 'neg' | 'exp' | 'log' | 'sqrt' | 'abs' | 'sign' | 'recip' | 'floor' | 'tanh' | 'log1p' | 'relu';
export type BinaryOp =
  | 'add' | 'sub' | 'mul' | 'div' | 'pow' | 'maximum' | 'minimum'
  | 'lt' | 'le' | 'gt' | 'ge' | 'eq' | 'ne'; // comparisons give 0/1 in the operands' dtype ('float' if mixed)
export type ReduceOp = 'sum' | 'max' | 'min';

/** Op name → attributes. One entry per primitive; the op table (src/graph/ops) gives each a shape rule,
 *  a VJP, a float64 CPU kernel and (src/codegen) a WGSL lowering. */
export interface OpAttrs {
  input: { name: string };                       // a graph input (io tensor, targets, model loss, state)
  const: { value: number };                      // scalar constant, shape []
  unary: { fn: UnaryOp };
  binary: { fn: BinaryOp };                      // numpy broadcasting
  where: {};                                     // where(cond != 0, a, b), broadcasting
  reduce: { fn: ReduceOp; axes: number[]; keepdim: boolean }; // max/min VJP: torch's amax, split over tied extrema
  reshape: { shape: Shape };
  permute: { perm: number[] };
  broadcast: { shape: Shape };                   // expand size-1 / missing leading dims
  slice: { axis: number; start: Dim; end: Dim; step: number };
  concat: { axis: number };
  matmul: {};                                    // [..., M, K] @ [..., K, N], batch dims broadcast
  gather: { axis: number };                      // torch.gather(x, axis, index); index int, same rank as x
  iota: { shape: Shape; axis: number; dtype: DType }; // values = index along axis
  cast: { dtype: DType };
  detach: {};                                    // identity forward, zero gradient
  adaptive_pool2d: { fn: 'avg' | 'max'; out: [Dim, Dim] }; // over the last two dims, torch's overlapping bins
  sort: { axis: number; descending: boolean; output: 'values' | 'indices' | 'ranks' };
  cholesky: {};                                  // lower factor of SPD [..., n, n]
  triangular_solve: { lower: boolean; transpose: boolean }; // solve op(A) X = B, A triangular, op = ᵀ if transpose
  ctc_nll: { blank: number };                    // [log_probs [T,N,C], targets [N,S] int, input_lengths [N] int, target_lengths [N] int] → CTC NLL [N]
  // ---- added by the op table (VJP building blocks; also usable by specs) ----
  index_copy: { axis: number };                  // inputs [x, index (1-D int, B), src (x's shape, B along axis)]: x with slice index[b] ← src[b]; last b wins
  scatter_add: { axis: number; shape: Shape };   // inputs [index, src] (same shape): zeros(shape), out[.., index[i], ..] += src[i]
  slice_scatter: { axis: number; start: Dim; end: Dim; step: number; size: Dim }; // zeros of axis size `size`, src at start:end:step
  adaptive_pool2d_grad: { fn: 'avg' | 'max'; in: [Dim, Dim] }; // VJP of adaptive_pool2d: avg inputs [g], max inputs [x, g]
  ctc_nll_grad: { blank: number };               // VJP of ctc_nll (torch's formula): [log_probs, targets, input_lengths, target_lengths, nll, g] → [T,N,C]
}
export type OpName = keyof OpAttrs;

export interface NodeOf<K extends OpName> {
  id: number;
  op: K;
  inputs: number[];
  attrs: OpAttrs[K];
  shape: Shape;
  dtype: DType;
  /** Where this node came from: the spec line and, when known, the config line that instantiated it. */
  origin?: { spec?: Span; config?: Span };
}
export type Node = { [K in OpName]: NodeOf<K> }[OpName];

export interface GraphInput {
  /** golden/ naming: `student/<path>/<io>[/<i or key>]`, `teacher/...`, `targets`, `model_loss/<key>`. */
  name: string;
  node: number;
  /** d loss / d input is an output of the graph. */
  trainable: boolean;
}

export interface GraphTerm {
  name: string;
  weight: number;
  /** Unweighted term value (what the sub-term module returns), a scalar node. */
  node: number;
}

export interface Graph {
  nodes: Node[];
  inputs: GraphInput[];
  loss: number;
  terms: GraphTerm[];
  /** The model term (WeightedSumLoss model_term), when present: weight · Σ model losses (or per-key weights). */
  modelTerm?: { node: number; weight: number | Record<string, number> };
  /** Stateful losses' updated buffers (CRD memory banks): output name `state_out/<term>/<buffer>` → node. */
  stateOut?: { name: string; node: number }[];
  /** Stateful losses' initial buffers, as the spec's state(name, shape, init) gives them: input name → init. */
  stateInit?: { name: string; init: StateInit }[];
  /**
   * Data-dependent warnings (the spec's warn_rows): a 1-D 0/1 mask node not on any output's path; `tdc run`
   * evaluates it on the host and warns with `message` and the nonzero indices when there are any.
   */
  warnings?: { term: string; node: number; message: string }[];
  /** Filled by autodiff: input name → gradient node (same shape as the input). */
  grads: { input: string; node: number }[];
  /** Dims the shape rules assumed equal without proof (dims.ts broadcastDim, assumeDimEq); checked at run time. */
  equalDims?: [Dim, Dim][];
}
