// The shape of each kernel kind's work, decided by the scheduler (the dispatch formulas depend on it) and
// carried in the kernel specs for codegen to follow.
import { addDims, ceilDivDims, divExactDims, mulDims } from '../../graph/dims.js';
import type { Dim, Node } from '../../graph/types.js';
import type { DomainAxis } from './kernel-spec.js';

/** Map kernels: consecutive elements of the innermost axis per invocation (outer coordinates computed once). */
export const MAP_ELEMS = 8;

/**
 * Quads of a domain's trailing axes (from axis `from` on): an invocation takes 4 consecutive positions of them
 * (row-major, so 4 neighbouring elements of every buffer laid out along them), read and written as one vec4 each,
 * when their number of positions is a multiple of 4, known or provably so (196 = 14·14; not 49 = 7·7). The number
 * of quads, else undefined. On lavapipe a vec4 load costs about what a scalar one does.
 */
function quadRun(dims: readonly Dim[], from: number): Dim | undefined {
  if (from >= dims.length) return undefined;
  return divExactDims(mulDims(...dims.slice(from)), 4);
}

/** Matmul kernels: output indices per invocation along the lane axis (matmul-layout.ts). */
export const MATMUL_REG = 4;

/**
 * Matmul kernels: output indices per workgroup along the uniform axis, shared by its invocations (matmul-layout.ts).
 * With MATMUL_REG, an invocation's register block is 16 × 4 (64 accumulators). On a software rasteriser every load
 * in the K loop is gathered lane by lane, so the speed is FMAs per load: the subgroup variant loads the uniform
 * operand once per 8 lanes (16/8 + 4 = 6 loads per k for 64 FMAs, against 8/8 + 8 = 9 for an 8 × 8 block).
 */
export const MATMUL_ROWS = 16;

/** Matmul kernels whose uniform axis is narrower than MATMUL_ROWS (a constant extent of at most 8: CRD's products with
 *  one column): lane indices per invocation, an 8 × 8 or thinner block (fewer uniform values to share per k). */
export const MATMUL_REG_NARROW = 8;

/** Matrix-vector kernels (K across the invocations): outputs per workgroup (32 measured best for CRD's [128, 2049] · [2049]
 *  on lavapipe: 1.2× faster than 16 or 128, 1.5× faster than 8, by CPU time). */
export const MATVEC_ROWS = 32;

/** Matrix-vector products shorter than this along K keep the register-tiled layout (too few products to spread over lanes). */
export const MATVEC_MIN_K = 32;

/** Workgroups a serial kernel needs: one per matrix (batch dims of the output), per sorted row or per CTC sample. */
export function serialWorkgroups(n: Node): Dim {
  if (n.op === 'sort') return mulDims(...n.shape.filter((_, k) => k !== n.attrs.axis));
  if (n.op === 'ctc_nll') return n.shape[0]!;
  if (n.op === 'ctc_nll_grad') return n.shape[1]!;
  return mulDims(...n.shape.slice(0, -2));
}

/**
 * f32 elements of device memory a serial kernel needs besides its output (none for most): a CTC sample's
 * α rows — the last two of them for ctc_nll, all T of them plus two β rows for ctc_nll_grad — of 2S + 1 states
 * each, per sample. `shapeOf` gives the operands' shapes.
 */
export function serialWorkspace(n: Node, shapeOf: (node: number) => readonly Dim[]): Dim | undefined {
  if (n.op !== 'ctc_nll' && n.op !== 'ctc_nll_grad') return undefined;
  const [T, N] = shapeOf(n.inputs[0]!) as [Dim, Dim];
  const states = addDims(mulDims(2, shapeOf(n.inputs[1]!)[1]!), 1);
  return mulDims(N, n.op === 'ctc_nll' ? 2 : addDims(T, 2), states);
}

/**
 * The quads of a column pass (a kernel isColumnPass found to be one): when its rows lying next to each other —
 * the kept axes after the last reduced one, or in a transposed pass (innermost axis reduced) the last kept axis —
 * number a multiple of 4 positions, each invocation takes 4 consecutive ones (geometry.ts quadRun), their elements
 * read as vec4s. The run's axes (domain indices), the other kept axes' extents (in order) and the number of quads;
 * undefined: one row per invocation.
 */
export function columnQuads(axes: readonly DomainAxis[]): { run: number[]; lead: Dim[]; quads: Dim } | undefined {
  const lastKept = axes.map((a) => !a.reduced).lastIndexOf(true);
  if (lastKept < 0) return undefined;
  let k = lastKept + 1;
  while (k > 0 && !axes[k - 1]!.reduced) k--;
  if (lastKept < axes.length - 1) k = lastKept;
  const quads = quadRun(axes.slice(0, lastKept + 1).map((a) => a.dim), k);
  if (quads === undefined) return undefined;
  const run = axes.flatMap((_, q) => (q >= k && q <= lastKept ? [q] : []));
  return { run, lead: axes.flatMap((a, q) => (!a.reduced && q < k ? [a.dim] : [])), quads };
}

/** Invocations of a column pass: one per row, or per 4 rows (columnQuads). */
export function columnInvocations(axes: readonly DomainAxis[]): Dim {
  const q = columnQuads(axes);
  return q ? mulDims(...q.lead, q.quads) : mulDims(...axes.filter((a) => !a.reduced).map((a) => a.dim));
}

/**
 * Quads of a map kernel looping over an outer axis (geometry.ts quadRun): each invocation takes 4 consecutive
 * positions of the axes after its loop axis, when they number a multiple of 4 — the number of quads, else undefined.
 * (Maps along the innermost axis keep their runs of MAP_ELEMS and walk them a quad at a time: map-kernel.ts.)
 */
export function outerLoopQuads(axes: readonly DomainAxis[], loopAxis: number): Dim | undefined {
  return loopAxis < axes.length - 1 ? quadRun(axes.map((a) => a.dim), loopAxis + 1) : undefined;
}

/**
 * Blocks of a map kernel looping over an outer axis whose trailing positions do not come in quads (AT's gradient
 * over [N, 512, 7, 7]: 49 positions): 4 consecutive indices of the loop axis × the P trailing positions are 4P
 * consecutive elements, so the run walks the loop axis 4 indices at a time and each invocation takes one quad of
 * such a block — lane l of quad q the element 4q + l of the block, its own loop-axis offset (4q + l) / P and
 * position (4q + l) % P, fixed along the run. The trailing positions P, when the loop axis is a multiple of 4 long
 * and so is the run (`elems`); else undefined.
 */
export function outerLoopBlocks(axes: readonly DomainAxis[], loopAxis: number, elems: number): Dim | undefined {
  if (loopAxis >= axes.length - 1 || outerLoopQuads(axes, loopAxis) !== undefined || elems % 4 !== 0) return undefined;
  if (divExactDims(axes[loopAxis]!.dim, 4) === undefined) return undefined;
  return mulDims(...axes.slice(loopAxis + 1).map((a) => a.dim));
}

/**
 * A map kernel's invocation grid (dispatch.ts counts it, map-kernel.ts unravels it): its domain with the loop axis
 * in runs of `elems` — and over quads (outerLoopQuads), the axes after the loop axis as their number of quads; over
 * blocks (outerLoopBlocks), as their number of positions (one quad of each block per position).
 */
export function mapGrid(axes: readonly DomainAxis[], loopAxis: number, elems: number): Dim[] {
  const dims = axes.map((a) => a.dim);
  const per = outerLoopQuads(axes, loopAxis) ?? outerLoopBlocks(axes, loopAxis, elems);
  if (per !== undefined) return [...dims.slice(0, loopAxis), ceilDivDims(dims[loopAxis]!, elems), per];
  return dims.map((d, k) => (k === loopAxis ? ceilDivDims(d, elems) : d));
}
