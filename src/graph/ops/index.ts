// THE op table: one entry per primitive of OpAttrs (kind, shape rule, gradient routing, VJP, float64 CPU
// kernel). The WGSL lowering of each op — the fourth column — is `Emitter.lowering` in
// src/codegen/wgsl/emitter.ts, keyed by the same names and exhaustive by type.
import type { OpName } from '../types.js';
import type { OpKind, OpTable } from './op-def.js';
import { binary } from './binary.js';
import { cast, detach } from './cast.js';
import { ctc_nll, ctc_nll_grad } from './ctc.js';
import { gather, scatter_add } from './gather.js';
import { index_copy } from './index-copy.js';
import { broadcast, concat, permute, reshape, slice, slice_scatter } from './layout.js';
import { cholesky, triangular_solve } from './linalg.js';
import { matmul } from './matmul.js';
import { adaptive_pool2d, adaptive_pool2d_grad } from './pool.js';
import { reduce } from './reduce.js';
import { sort } from './sort.js';
import { constant, input, iota } from './source.js';
import { unary } from './unary.js';
import { where } from './where.js';

export const OPS: OpTable = {
  input,
  const: constant,
  unary,
  binary,
  where,
  reduce,
  reshape,
  permute,
  broadcast,
  slice,
  concat,
  matmul,
  gather,
  iota,
  cast,
  detach,
  adaptive_pool2d,
  sort,
  cholesky,
  triangular_solve,
  ctc_nll,
  scatter_add,
  index_copy,
  slice_scatter,
  adaptive_pool2d_grad,
  ctc_nll_grad,
};

/** The op table's kind column for an op (what the scheduler reads instead of op names). */
export const opKind = (op: OpName): OpKind => OPS[op].kind;

export type { OpDef, OpKind, OpTable, CpuCtx, TypedShape } from './op-def.js';
