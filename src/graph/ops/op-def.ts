// The shape of one entry of the op table. Every primitive has: a shape/dtype rule (on symbolic dims), which
// inputs gradients flow through, a VJP that emits graph nodes, and a float64 CPU kernel. The WGSL lowering
// lives in src/codegen, keyed by the same OpName (`Emitter.lowering` in src/codegen/wgsl/emitter.ts, exhaustive
// by type); `kind` tells the scheduler how to treat the op. Nothing GPU-specific is here.
import type { BinaryOp, Dim, DType, Node, NodeOf, OpAttrs, OpName, Shape, UnaryOp } from '../types.js';
import type { HostTensor } from '../host-tensor.js';

export interface TypedShape {
  shape: Shape;
  dtype: DType;
}

export interface Inferred extends TypedShape {
  /** Canonicalised attributes (negative axes resolved, axes sorted…), used for CSE and stored on the node. */
  attrs?: unknown;
}

export interface CpuCtx {
  /** The node's output shape with symbols bound. */
  outShape: number[];
  outDtype: DType;
  /** Evaluate a Dim appearing in the attributes. */
  ev(d: Dim): number;
}

/** What a VJP may do to the graph under construction. GraphBuilder implements it (the ops never import the builder). */
export interface VjpBuilder {
  op<K extends OpName>(op: K, inputs: number[], attrs: OpAttrs[K]): number;
  constant(value: number): number;
  unary(fn: UnaryOp, x: number): number;
  binary(fn: BinaryOp, a: number, b: number): number;
  shape(id: number): Shape;
  /** A node of the graph under construction (VJPs that recognise their operands, e.g. matmul's x·xᵀ). */
  node(id: number): Node;
}

/**
 * How the scheduler treats an op (it reads this column, never op names):
 * - source: inputs, constants, iota — no work;
 * - layout: no arithmetic — an index remap (reshape, permute, broadcast, slice) or a dtype/gradient boundary
 *   (cast, detach); free wherever it is inlined;
 * - elementwise: arithmetic on the inputs at the same (broadcast) index, inlined into whatever reads it;
 * - indexed: inlined too, but reading its inputs at data- or window-dependent indices (gather, scatters,
 *   concat, pooling);
 * - reduction: a reduction over axes — a unit of a row kernel (one workgroup per row);
 * - contraction: a matmul — a register-tiled kernel of its own;
 * - serial: sequential dependences inside a matrix or row (sort, Cholesky, triangular solve) — a serial kernel.
 */
export type OpKind = 'source' | 'layout' | 'elementwise' | 'indexed' | 'reduction' | 'contraction' | 'serial';

export interface OpDef<K extends OpName> {
  /** What the scheduler does with it (see OpKind). */
  kind: OpKind;
  /** Number of inputs, or 'variadic' (≥ 1). */
  arity: number | 'variadic';
  /** Output shape and dtype; throws ShapeRuleError with a message naming the op and the shapes. */
  infer(ins: TypedShape[], attrs: OpAttrs[K]): Inferred;
  /** Which inputs carry gradient (default: the float inputs). An int output never carries gradient. */
  diffInputs?(node: NodeOf<K>, inDtypes: DType[]): boolean[];
  /** Gradient per input given d loss/d output `g`; only inputs with needs[i] are required (others may be null). */
  vjp(b: VjpBuilder, node: NodeOf<K>, g: number, needs: boolean[]): (number | null)[];
  cpu(ins: HostTensor[], attrs: OpAttrs[K], ctx: CpuCtx): HostTensor;
}

export type OpTable = { [K in OpName]: OpDef<K> };

/** Thrown by shape rules; the builder wraps it into a ShapeError carrying the node ids (and the hint: what to do). */
export class ShapeRuleError extends Error {
  constructor(
    message: string,
    readonly hint?: string,
  ) {
    super(message);
  }
}

export function normAxis(op: string, axis: number, rank: number): number {
  const a = axis < 0 ? axis + rank : axis;
  if (!Number.isInteger(a) || a < 0 || a >= rank) throw new ShapeRuleError(`${op}: axis ${axis} is out of range for rank ${rank}`);
  return a;
}

export function promote(a: DType, b: DType): DType {
  return a === 'int' && b === 'int' ? 'int' : 'float';
}
