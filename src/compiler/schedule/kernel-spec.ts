// The scheduler's decision for one kernel, as data: the iteration domain, the reductions (row kernels), the
// values to store, the buffers it binds and the geometry of its work (elements per invocation, register
// tiles). Codegen (src/codegen/wgsl) decides nothing about fusion; it only lowers this to WGSL.
import type { Dim, Graph, Shape } from '../../graph/types.js';
import type { GpuDType } from './plan.js';

/** One non-size-1 dim of an iteration domain; `reduced` marks the dims a row kernel reduces over. */
export interface DomainAxis {
  dim: Dim;
  reduced: boolean;
}

export interface BufferDecl {
  binding: number;
  /** The buffer's identifier inside the kernel (a WGSL identifier such as `t_in0`). */
  name: string;
  dtype: GpuDType;
  access: 'read' | 'read_write';
  /** The plan buffer's name, for the declaration comment. */
  label: string;
  /** Logical shape of the values it holds (loads index it row-major). */
  shape: Shape;
}

export interface StoreSpec {
  node: number;
  buffer: string;
  /** Shape of the stored value (the node's shape): its non-1 dims line up with the domain (elem) or its kept dims (row). */
  shape: Shape;
  /** Element offset added to the store index (slots of the scalars buffer). */
  base: number;
  at: 'elem' | 'row';
  /** The domain axis each non-1 dim of the stored value lies along, when not the domain's order (an element store
   *  of a value of [N, C] by a row kernel over [C, N]: DIST's intra-class gradient, stored by the per-class pass). */
  coords?: readonly number[];
  /**
   * A scatter into `shape` (an in-place state update, schedule/in-place-state.ts): the stored node is the rows
   * [B, …] over the domain, written at row index[b] of the buffer; a repeated index writes the last b's row
   * from every b that has it (torch's index_copy_).
   */
  scatter?: { index: number };
  /**
   * A state output not updated in place (CRD's params): the value stored is `input`'s element at the same index
   * (the state input, same shape) when any of the run's device-check flags (`flags`, array<i32>) is not -1, so a
   * refused run carries the old state over (torch raises before it changes anything).
   */
  keep?: { input: string; flags: string };
  /**
   * The value is an operand of a matmul kernel (an intermediate, never a plan output): a subnormal is stored as ±0
   * (WGSL allows flushing subnormals). A matmul reads each operand element once per output row or column, and on
   * an FPU that does not flush them (software adapters) every product with a subnormal operand is a microcode assist:
   * CRD's weights of improbable negatives (4% of its contrast weights in the bench) are subnormal: flushed, its step
   * runs 1.25× faster on lavapipe (its memory-bank matvecs read each weight 128 times).
   */
  flushSubnormals?: true;
}

export interface ReductionSpec {
  /** A `reduce` node; its input's non-1 dims line up with the domain's axes. */
  node: number;
  /** Sweep number: a reduction may read the results of earlier sweeps of the same row. */
  phase: number;
  /** Σ exp(x − M) computed online with the max reduction M of the same sweep (M's input is x). */
  online?: number;
}

export interface KernelCommon {
  name: string;
  /** Comment lines for the header (what it computes, which config terms). */
  header: string[];
  graph: Graph;
  symbols: string[];
  /** The largest workgroup size the kernel must support (workgroup memory is budgeted for it); the size
   *  itself is the `wg_size` override, set at pipeline creation. */
  maxWorkgroupSize: number;
  buffers: BufferDecl[];
  /** Node → buffer identifier, for nodes this kernel reads from memory (inputs, earlier kernels' results). */
  loads: Map<number, string>;
  /** Reductions computed as scale · Π dims (sums over broadcast constants). */
  dimValues: Map<number, { scale: number; dims: Dim[] }>;
}

export interface RowKernelSpec extends KernelCommon {
  kind: 'row';
  axes: DomainAxis[];
  reductions: ReductionSpec[];
  stores: StoreSpec[];
  /** Sweep that also writes the element outputs (they read no reduction of that sweep); default: a sweep of their own after the last. */
  elemPhase?: number;
  /** A column pass (row-layout.ts): one invocation per row (or per 4 consecutive rows: geometry.ts columnQuads), reducing it
   *  serially; else one workgroup per row. */
  column?: true;
}

export interface MapKernelSpec extends KernelCommon {
  kind: 'map';
  axes: DomainAxis[];
  stores: StoreSpec[];
  /** The buffer (array<i32>, read) of the run's device-check flags, NO_ERROR (-1) each when none failed: a kernel
   *  with scatter stores (in-place state) stores nothing unless all are -1 (PlanKernel.checkFlags). */
  checkFlags?: string;
  /** Consecutive elements of the loop axis each invocation computes (the other coordinates computed once). */
  elemsPerInvocation: number;
  /** The axis each invocation loops over (map-layout.ts); the innermost when absent. */
  loopAxis?: number;
}

export interface MatmulKernelSpec extends KernelCommon {
  kind: 'matmul';
  node: number;
  store: StoreSpec;
  /** Output indices per invocation along the lane axis (a register block of reg × uniform). */
  reg: number;
  /** Output indices per workgroup along the uniform axis, shared by all its invocations (matmul-layout.ts). */
  uniform: number;
  /** The uniform axis is the columns (else the rows); with alongK, the outputs run along the columns. */
  swap: boolean;
  /** Matrix-vector product: outputs per workgroup, K split across its invocations (matmul-layout.ts). */
  alongK?: number;
}

/** One workgroup per matrix / sorted row / sample of a sort, cholesky, triangular_solve or CTC node (serial-kernel.ts). */
export interface SerialKernelSpec extends KernelCommon {
  kind: 'serial';
  node: number;
  store: StoreSpec;
  /** A read_write f32 scratch buffer of its own (geometry.ts serialWorkspace: CTC's α/β rows), when it needs one. */
  workspace?: string;
}

/**
 * Row kernels over the same rows, one after the other in one dispatch (merge-row-siblings.ts): the parts share
 * the dispatch and the workgroup size, and none reads or writes a buffer another part writes, so each workgroup
 * runs every part's pass over its row in turn. `buffers` are the union of the parts' (numbered anew); each part
 * keeps its own spec, lowered as a row kernel of its own.
 */
export interface RowSegmentsKernelSpec extends KernelCommon {
  kind: 'segments';
  parts: RowKernelSpec[];
}

export type KernelSpec = RowKernelSpec | MapKernelSpec | MatmulKernelSpec | SerialKernelSpec | RowSegmentsKernelSpec;
