// Hand-built differentiated graphs that exercise every primitive the WGSL backend lowers (the golden configs
// use only some of them), with seeded inputs. Shared by the scheduler, WGSL and GPU-parity tests.
import { GraphBuilder } from '../../src/graph/builder.js';
import { differentiate } from '../../src/graph/autodiff.js';
import type { Dim, DType, Graph, Shape } from '../../src/graph/types.js';
import { addDims, ceilDivDims, floorDivDims, mulDims, subDims } from '../../src/graph/dims.js';
import type { HostTensor } from '../../src/graph/host-tensor.js';
import { execute, type ExecResult } from '../../src/cpu/executor.js';

export interface OpCase {
  name: string;
  graph: Graph;
  /** Concrete inputs (several sets exercise one plan with different symbol values). */
  inputs: Map<string, HostTensor>[];
  /** Per input set, the graph the float64 reference runs instead of `graph` (the loss built for those sizes). */
  references?: Graph[];
}

/** The float64 CPU executor's value of a case on its k-th input set. */
export const reference = (c: OpCase, k: number): ExecResult => execute(c.references?.[k] ?? c.graph, c.inputs[k]!);

function rng(seed: number) {
  let s = seed >>> 0;
  return () => ((s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32) * 2 - 1;
}

function tensor(shape: number[], dtype: DType, seed: number, f?: (r: () => number, i: number) => number): HostTensor {
  const r = rng(seed);
  const n = shape.reduce((a, b) => a * b, 1);
  const data = new Float64Array(n);
  for (let i = 0; i < n; i++) data[i] = f ? f(r, i) : r() * 2;
  return { shape, dtype, data };
}

const N: Dim = { sym: 'N' };
const C: Dim = { sym: 'C' };

type Build = (b: GraphBuilder) => { loss: number; terms?: { name: string; weight: number; node: number }[] };

function make(name: string, decl: { name: string; shape: Shape; dtype?: DType; trainable?: boolean }[], build: Build, inputs: Map<string, HostTensor>[]): OpCase {
  const b = new GraphBuilder();
  for (const d of decl) b.input(d.name, d.shape, d.dtype ?? 'float', d.trainable ?? d.dtype !== 'int');
  const { loss, terms } = build(b);
  return { name, graph: differentiate(b.finish({ loss, terms: terms ?? [] })), inputs };
}

const sumAll = (b: GraphBuilder, x: number) => b.op('reduce', [x], { fn: 'sum', axes: b.shape(x).map((_, k) => k), keepdim: false });
const c = (b: GraphBuilder, v: number) => b.constant(v);

function logSoftmax(b: GraphBuilder, x: number, axis: number): number {
  const m = b.op('detach', [b.op('reduce', [x], { fn: 'max', axes: [axis], keepdim: true })], {});
  const s = b.binary('sub', x, m);
  return b.binary('sub', s, b.unary('log', b.op('reduce', [b.unary('exp', s)], { fn: 'sum', axes: [axis], keepdim: true })));
}

export function opCases(): OpCase[] {
  const out: OpCase[] = [];

  // log-softmax over a non-last axis + NLL through gather with an int index ([N, C, W] logits, [N, 1, W] labels)
  out.push(
    make(
      'softmax-nonlast-axis',
      [
        { name: 'x', shape: [5, 37, 3] },
        { name: 'y', shape: [5, 1, 3], dtype: 'int' },
      ],
      (b) => {
        const lp = logSoftmax(b, b.input('x', [5, 37, 3], 'float', true), 1);
        const picked = b.op('gather', [lp, b.input('y', [5, 1, 3], 'int', false)], { axis: 1 });
        return { loss: b.binary('div', b.unary('neg', sumAll(b, picked)), c(b, 15)) };
      },
      [new Map([['x', tensor([5, 37, 3], 'float', 1)], ['y', tensor([5, 1, 3], 'int', 2, (r) => Math.floor((r() + 1) * 18.5))]])],
    ),
  );

  // softmax cross-entropy with symbolic N and C: one plan for C = 1000 (vec4 sweeps) and C = 37 (scalar)
  out.push(
    make(
      'kd-symbolic-rows',
      [
        { name: 's', shape: [N, C] },
        { name: 't', shape: [N, C], trainable: false },
      ],
      (b) => {
        const s = b.input('s', [N, C], 'float', true);
        const t = b.input('t', [N, C], 'float', false);
        const lps = logSoftmax(b, b.binary('div', s, c(b, 3)), 1);
        const lpt = logSoftmax(b, b.binary('div', t, c(b, 3)), 1);
        const pt = b.unary('exp', lpt);
        const kl = sumAll(b, b.binary('mul', pt, b.binary('sub', lpt, lps)));
        const n = b.op('reduce', [b.op('broadcast', [c(b, 1)], { shape: [N] })], { fn: 'sum', axes: [0], keepdim: false });
        const term = b.binary('div', kl, n);
        return { loss: b.binary('mul', term, c(b, 9)), terms: [{ name: 'kl', weight: 9, node: term }] };
      },
      [
        new Map([['s', tensor([6, 1000], 'float', 3)], ['t', tensor([6, 1000], 'float', 4)]]),
        new Map([['s', tensor([5, 37], 'float', 5)], ['t', tensor([5, 37], 'float', 6)]]),
        new Map([['s', tensor([3, 1271], 'float', 7)], ['t', tensor([3, 1271], 'float', 8)]]),
      ],
    ),
  );

  // log-softmax over the symbolic batch axis of a transposed [N, 1000] (as DIST's inter-class relation): a row pass
  // over [1000, N] whose rows are read strided, nothing as vec4 — the quad sweeps take each row's whole quads, then
  // the N % 4 elements after them one at a time (N = 7, 8, 2)
  out.push(
    make(
      'softmax-symbolic-batch-axis',
      [
        { name: 'x', shape: [N, 1000] },
        { name: 'w', shape: [N, 1000], trainable: false },
      ],
      (b) => {
        const xt = b.op('permute', [b.input('x', [N, 1000], 'float', true)], { perm: [1, 0] });
        const lp = logSoftmax(b, xt, 1);
        return { loss: sumAll(b, b.binary('mul', lp, b.op('permute', [b.input('w', [N, 1000], 'float', false)], { perm: [1, 0] }))) };
      },
      [
        new Map([['x', tensor([7, 1000], 'float', 11)], ['w', tensor([7, 1000], 'float', 12)]]),
        new Map([['x', tensor([8, 1000], 'float', 13)], ['w', tensor([8, 1000], 'float', 14)]]),
        new Map([['x', tensor([2, 1000], 'float', 15)], ['w', tensor([2, 1000], 'float', 16)]]),
      ],
    ),
  );

  // sums over the batch of softmax probabilities over the classes (as DIST's intra-class relation: Pearson
  // correlations over the batch of each class's probabilities): the probabilities are stored by the row kernel over
  // [N, 1000] that computes each row's max and Σexp, and the row pass over the transposed [1000, N] reads them
  // instead of recomputing them from those statistics in each sweep (N = 7, 8, 2)
  out.push(
    make(
      'softmax-probs-over-batch',
      [
        { name: 'x', shape: [N, 1000] },
        { name: 'w', shape: [N, 1000], trainable: false },
      ],
      (b) => {
        const p = b.unary('exp', logSoftmax(b, b.input('x', [N, 1000], 'float', true), 1));
        const pt = b.op('permute', [p], { perm: [1, 0] });
        const wt = b.op('permute', [b.input('w', [N, 1000], 'float', false)], { perm: [1, 0] });
        const mean = b.binary('mul', b.op('reduce', [pt], { fn: 'sum', axes: [1], keepdim: true }), c(b, 0.25));
        const d = b.binary('sub', pt, mean);
        const num = b.op('reduce', [b.binary('mul', d, wt)], { fn: 'sum', axes: [1], keepdim: false });
        const den = b.op('reduce', [b.binary('mul', d, d)], { fn: 'sum', axes: [1], keepdim: false });
        return { loss: sumAll(b, b.binary('div', num, b.binary('add', den, c(b, 1)))) };
      },
      [
        new Map([['x', tensor([7, 1000], 'float', 17)], ['w', tensor([7, 1000], 'float', 18)]]),
        new Map([['x', tensor([8, 1000], 'float', 19)], ['w', tensor([8, 1000], 'float', 20)]]),
        new Map([['x', tensor([2, 1000], 'float', 21)], ['w', tensor([2, 1000], 'float', 22)]]),
      ],
    ),
  );

  // memory-bank rows picked by index (CRD's contrast rows: gather along axis 0 with the index expanded across the
  // row, reshaped to [N, K, d]) times a per-sample vector: the forward product and, for the vector's gradient, a
  // matrix-vector product over K = 40 (≥ MATVEC_MIN_K: K split across the workgroup) whose outputs run along the bank
  // rows (d = 16, 4 quads: the rows read as vec4s); d = 16 then 6 (no quads) exercise both paths (N = 3, 2)
  for (const d of [16, 6])
    out.push(
      make(
        `gathered-matvec-d${d}`,
        [
          { name: 'bank', shape: [40, d], trainable: false },
          { name: 'idx', shape: [N, 40], dtype: 'int' },
          { name: 's', shape: [N, d] },
          { name: 'w', shape: [N, 40], trainable: false },
        ],
        (b) => {
          const flat = b.op('reshape', [b.input('idx', [N, 40], 'int', false)], { shape: [mulDims(N, 40), 1] });
          const picked = b.op('gather', [b.input('bank', [40, d], 'float', false), b.op('broadcast', [flat], { shape: [mulDims(N, 40), d] })], { axis: 0 });
          const rows = b.op('reshape', [picked], { shape: [N, 40, d] });
          const out = b.op('matmul', [rows, b.op('reshape', [b.input('s', [N, d], 'float', true)], { shape: [N, d, 1] })], {});
          const e = b.unary('exp', b.binary('mul', b.op('reshape', [out], { shape: [N, 40] }), c(b, 0.5)));
          return { loss: sumAll(b, b.binary('mul', e, b.input('w', [N, 40], 'float', false))) };
        },
        [3, 2].map((n, k) =>
          new Map([
            ['bank', tensor([40, d], 'float', 23 + k)],
            ['idx', tensor([n, 40], 'int', 25 + k, (r) => Math.floor(((r() + 1) / 2) * 40))],
            ['s', tensor([n, d], 'float', 27 + k)],
            // positive weights: a sum of positive terms (no cancellation for the float32 kernels to be judged by)
            ['w', tensor([n, 40], 'float', 29 + k, (r) => r() + 1.5)],
          ]),
        ),
      ),
    );

  // Gram matrices (matmul with a permuted operand) and a batched matmul with broadcast batch dims
  out.push(
    make(
      'matmul',
      [
        { name: 'a', shape: [6, 10] },
        { name: 'p', shape: [2, 5, 7] },
        { name: 'q', shape: [7, 3] },
      ],
      (b) => {
        const a = b.input('a', [6, 10], 'float', true);
        const gram = b.op('matmul', [a, b.op('permute', [a], { perm: [1, 0] })], {});
        const g2 = sumAll(b, b.binary('mul', gram, gram));
        const pq = b.op('matmul', [b.input('p', [2, 5, 7], 'float', true), b.input('q', [7, 3], 'float', true)], {});
        return { loss: b.binary('add', b.binary('div', g2, c(b, 36)), sumAll(b, b.unary('tanh', pq))) };
      },
      [new Map([['a', tensor([6, 10], 'float', 9)], ['p', tensor([2, 5, 7], 'float', 10)], ['q', tensor([7, 3], 'float', 11)]])],
    ),
  );

  // adaptive average / max pooling with overlapping bins, and their VJPs; then over rows of a multiple of 4 (the
  // pooled outputs' and the gradient's): map kernels whose elements loop over their bins walk no quads (map-kernel.ts)
  const pools = (name: string, shape: number[], avgOut: [number, number], maxOut: [number, number], seed: number) =>
    make(
      name,
      [{ name: 'x', shape }],
      (b) => {
        const x = b.input('x', shape, 'float', true);
        const avg = b.op('adaptive_pool2d', [x], { fn: 'avg', out: avgOut });
        const mx = b.op('adaptive_pool2d', [x], { fn: 'max', out: maxOut });
        return { loss: b.binary('add', sumAll(b, b.binary('mul', avg, avg)), b.binary('mul', sumAll(b, mx), c(b, 0.5))) };
      },
      [new Map([['x', tensor(shape, 'float', seed)]])],
    );
  out.push(pools('adaptive-pools', [2, 3, 7, 5], [3, 2], [4, 3], 12), pools('adaptive-pools-rows-of-4', [2, 3, 6, 8], [3, 4], [5, 4], 13));

  // gather with several indices per row: its VJP is a scatter_add
  out.push(
    make(
      'gather-scatter',
      [
        { name: 'x', shape: [4, 9] },
        { name: 'i', shape: [4, 3], dtype: 'int' },
        { name: 'w', shape: [4, 3], trainable: false },
      ],
      (b) => {
        const g = b.op('gather', [b.input('x', [4, 9], 'float', true), b.input('i', [4, 3], 'int', false)], { axis: 1 });
        return { loss: sumAll(b, b.binary('mul', g, b.input('w', [4, 3], 'float', false))) };
      },
      [new Map([['x', tensor([4, 9], 'float', 13)], ['i', tensor([4, 3], 'int', 14, (r) => Math.floor((r() + 1) * 4.5))], ['w', tensor([4, 3], 'float', 15)]])],
    ),
  );

  // index_copy with a repeated index (the last source row wins) read functionally by a loss; VJPs: index_copy
  // (index_fill with zeros) for x, gather for the source
  out.push(
    make(
      'index-copy',
      [
        { name: 'x', shape: [N, 6] },
        { name: 'i', shape: [4], dtype: 'int' },
        { name: 's', shape: [4, 6] },
      ],
      (b) => {
        const y = b.op('index_copy', [b.input('x', [N, 6], 'float', true), b.input('i', [4], 'int', false), b.input('s', [4, 6], 'float', true)], { axis: 0 });
        return { loss: sumAll(b, b.unary('tanh', b.binary('mul', y, b.op('iota', [], { shape: [N, 6], axis: 0, dtype: 'float' })))) };
      },
      [
        new Map([['x', tensor([7, 6], 'float', 31)], ['i', { shape: [4], dtype: 'int', data: Float64Array.of(5, 1, 5, 0) }], ['s', tensor([4, 6], 'float', 32)]]),
        new Map([['x', tensor([9, 6], 'float', 33)], ['i', { shape: [4], dtype: 'int', data: Float64Array.of(8, 8, 8, 2) }], ['s', tensor([4, 6], 'float', 34)]]),
      ],
    ),
  );

  // views: permute, a non-trivial reshape, strided slices (VJP: slice_scatter) and concat
  out.push(
    make(
      'layout',
      [{ name: 'x', shape: [3, 4, 5] }],
      (b) => {
        const x = b.input('x', [3, 4, 5], 'float', true);
        const p = b.op('reshape', [b.op('permute', [x], { perm: [2, 0, 1] })], { shape: [5, 12] });
        const s1 = b.op('slice', [p], { axis: 1, start: 2, end: 11, step: 3 });
        const s2 = b.op('slice', [p], { axis: 1, start: 0, end: 4, step: 1 });
        const cat = b.op('concat', [s1, s2, s1], { axis: 1 });
        const r = b.op('reshape', [cat], { shape: [2, 25] });
        return { loss: sumAll(b, b.binary('mul', b.unary('tanh', r), b.op('iota', [], { shape: [2, 25], axis: 1, dtype: 'float' }))) };
      },
      [new Map([['x', tensor([3, 4, 5], 'float', 16)]])],
    ),
  );

  // elementwise ops, comparisons, where, casts, pow exponents
  out.push(
    make(
      'elementwise',
      [
        { name: 'x', shape: [7, 13] },
        { name: 'y', shape: [7, 13] },
      ],
      (b) => {
        const x = b.input('x', [7, 13], 'float', true);
        const y = b.input('y', [7, 13], 'float', true);
        const ax = b.unary('abs', x);
        const terms = [
          b.unary('log1p', ax),
          b.binary('mul', b.unary('sign', x), b.unary('floor', b.binary('mul', y, c(b, 3)))),
          b.unary('relu', b.binary('sub', x, y)),
          b.binary('maximum', x, y),
          b.binary('minimum', b.binary('mul', x, c(b, 2)), y),
          b.binary('pow', x, c(b, 2)),
          b.binary('pow', x, c(b, 3)),
          b.binary('pow', b.binary('add', ax, c(b, 0.5)), c(b, 0.7)),
          b.binary('pow', b.binary('add', ax, c(b, 0.5)), b.binary('add', b.unary('abs', y), c(b, 0.25))),
          b.unary('sqrt', b.binary('add', ax, c(b, 0.1))),
          b.unary('recip', b.binary('add', b.binary('mul', x, x), c(b, 1))),
          b.op('where', [b.binary('lt', x, y), b.unary('exp', x), b.binary('mul', y, y)], {}),
          b.op('cast', [b.op('cast', [b.binary('mul', y, c(b, 4))], { dtype: 'int' })], { dtype: 'float' }),
          b.unary('tanh', b.binary('mul', x, c(b, 30))),
        ];
        return { loss: sumAll(b, terms.reduce((p, q) => b.binary('add', p, q))) };
      },
      [new Map([['x', tensor([7, 13], 'float', 17)], ['y', tensor([7, 13], 'float', 18)]])],
    ),
  );

  // max/min reductions with gradients (torch amax backward: an equality mask over its count), int reductions, a long whole-tensor mean
  out.push(
    make(
      'extrema-and-ints',
      [
        { name: 'x', shape: [6, 11] },
        { name: 'k', shape: [11], dtype: 'int' },
        { name: 'z', shape: [3, 2000] },
      ],
      (b) => {
        const x = b.input('x', [6, 11], 'float', true);
        const mx = sumAll(b, b.op('reduce', [x], { fn: 'max', axes: [1], keepdim: false }));
        const mn = b.op('reduce', [x], { fn: 'min', axes: [0, 1], keepdim: false });
        const k = b.input('k', [11], 'int', false);
        const ks = b.op('cast', [sumAll(b, k)], { dtype: 'float' });
        const kmax = b.op('cast', [b.op('reduce', [k], { fn: 'max', axes: [0], keepdim: false })], { dtype: 'float' });
        const kmin = b.op('cast', [b.op('reduce', [k], { fn: 'min', axes: [0], keepdim: false })], { dtype: 'float' });
        const z = b.input('z', [3, 2000], 'float', true);
        const mean = b.binary('div', sumAll(b, b.binary('mul', z, z)), c(b, 6000));
        const ints = b.binary('mul', b.binary('add', ks, b.binary('sub', kmax, kmin)), c(b, 0.01));
        return { loss: [mx, b.binary('mul', mn, c(b, 2)), ints, mean].reduce((p, q) => b.binary('add', p, q)) };
      },
      [new Map([['x', tensor([6, 11], 'float', 19)], ['k', tensor([11], 'int', 20, (r) => Math.round(r() * 50))], ['z', tensor([3, 2000], 'float', 21)]])],
    ),
  );
  // quads of positions (geometry.ts quadRun): a column pass over [N, 6, 3, 4] (a log-softmax over channels: 12
  // positions per sample, 4 per invocation, each lane its own online sum), an AT-like channel energy normalised per
  // sample (a column pass, then the outer-loop map of its gradient over quads), a column pass over 3 × 3 positions
  // (9: one per invocation), and a map along an innermost axis of 12 (runs of 8: a run of two quads, then one of one)
  out.push(
    make(
      'position-quads',
      [
        { name: 'x', shape: [N, 6, 3, 4] },
        { name: 'w', shape: [N, 6, 3, 4], trainable: false },
        { name: 'y', shape: [N, 10, 3, 3] },
        { name: 'z', shape: [N, 12] },
      ],
      (b) => {
        const x = b.input('x', [N, 6, 3, 4], 'float', true);
        const w = b.input('w', [N, 6, 3, 4], 'float', false);
        const lp = sumAll(b, b.binary('mul', logSoftmax(b, x, 1), w));
        const energy = b.op('reduce', [b.binary('mul', x, x)], { fn: 'sum', axes: [1], keepdim: false });
        const norm = b.op('reduce', [b.binary('mul', energy, energy)], { fn: 'sum', axes: [1, 2], keepdim: true });
        const at = sumAll(b, b.binary('div', energy, b.unary('sqrt', b.binary('add', norm, c(b, 1)))));
        const y = b.input('y', [N, 10, 3, 3], 'float', true);
        const ly = sumAll(b, logSoftmax(b, y, 1));
        const z = b.input('z', [N, 12], 'float', true);
        const sz = sumAll(b, b.binary('mul', z, z));
        return { loss: [lp, at, b.binary('mul', ly, c(b, 0.1)), b.binary('mul', sz, sz)].reduce((p, q) => b.binary('add', p, q)) };
      },
      [2, 3].map((n) => new Map([['x', tensor([n, 6, 3, 4], 'float', 40 + n)], ['w', tensor([n, 6, 3, 4], 'float', 50 + n)], ['y', tensor([n, 10, 3, 3], 'float', 60 + n)], ['z', tensor([n, 12], 'float', 70 + n)]])),
    ),
  );
  // attention-map gradients over positions that do not come in quads (9 and 5 per channel), channels a multiple
  // of 4: the gradient maps loop over channels walking blocks of 4 channels × the positions (map-kernel.ts blockLoopMap)
  out.push(
    make(
      'position-blocks',
      [
        { name: 'x', shape: [N, 8, 3, 3] },
        { name: 'y', shape: [N, 12, 5] },
      ],
      (b) => {
        const at = (v: number) => {
          const energy = b.op('reduce', [b.binary('mul', v, v)], { fn: 'sum', axes: [1], keepdim: false });
          const norm = b.op('reduce', [b.binary('mul', energy, energy)], { fn: 'sum', axes: [1, 2].slice(0, b.node(energy).shape.length - 1), keepdim: true });
          return sumAll(b, b.binary('div', energy, b.unary('sqrt', b.binary('add', norm, c(b, 1)))));
        };
        return { loss: b.binary('add', at(b.input('x', [N, 8, 3, 3], 'float', true)), at(b.input('y', [N, 12, 5], 'float', true))) };
      },
      [2, 3].map((n) => new Map([['x', tensor([n, 8, 3, 3], 'float', 80 + n)], ['y', tensor([n, 12, 5], 'float', 90 + n)]])),
    ),
  );
  // stable sorts (values with gradients, indices, ranks) along both axes, on rows with ties
  const tied = (r: () => number) => Math.round(r() * 3) / 2;
  out.push(
    make(
      'sort-stable',
      [
        { name: 'x', shape: [N, 9] },
        { name: 'w', shape: [9], trainable: false },
      ],
      (b) => {
        const x = b.input('x', [N, 9], 'float', true);
        const w = b.input('w', [9], 'float', false);
        const desc = b.op('sort', [x], { axis: 1, descending: true, output: 'values' });
        const asc0 = b.op('sort', [x], { axis: 0, descending: false, output: 'values' });
        const idx = b.op('cast', [b.op('sort', [x], { axis: 1, descending: false, output: 'indices' })], { dtype: 'float' });
        const rk = b.op('cast', [b.op('sort', [x], { axis: 0, descending: true, output: 'ranks' })], { dtype: 'float' });
        const pos = b.op('iota', [], { shape: [N, 9], axis: 1, dtype: 'float' });
        const terms = [
          sumAll(b, b.binary('mul', desc, w)),
          sumAll(b, b.binary('mul', b.binary('mul', asc0, asc0), c(b, 0.25))),
          b.binary('mul', sumAll(b, b.binary('mul', idx, pos)), c(b, 0.001)),
          b.binary('mul', sumAll(b, b.binary('mul', rk, x)), c(b, 0.01)),
        ];
        return { loss: terms.reduce((p, q) => b.binary('add', p, q)) };
      },
      [5, 3].map((n, k) => new Map([['x', tensor([n, 9], 'float', 22 + k, tied)], ['w', tensor([9], 'float', 24)]])),
    ),
  );

  // batched Cholesky of Gram matrices and triangular solves (both triangles, both orientations)
  out.push(
    make(
      'cholesky-solve',
      [
        { name: 'x', shape: [2, N, 6] },
        { name: 'r', shape: [6, 3] },
      ],
      (b) => {
        const x = b.input('x', [2, N, 6], 'float', true);
        const r = b.input('r', [6, 3], 'float', true);
        const a = b.binary('add', b.op('matmul', [b.op('permute', [x], { perm: [0, 2, 1] }), x], {}), c(b, 0.5));
        const l = b.op('cholesky', [a], {});
        const y = b.op('triangular_solve', [l, r], { lower: true, transpose: false });
        const z = b.op('triangular_solve', [l, y], { lower: true, transpose: true });
        const u = b.op('triangular_solve', [b.op('permute', [l], { perm: [0, 2, 1] }), r], { lower: false, transpose: false });
        const terms = [sumAll(b, b.binary('mul', z, z)), sumAll(b, b.binary('mul', u, r)), b.binary('mul', sumAll(b, l), c(b, 0.1))];
        return { loss: terms.reduce((p, q) => b.binary('add', p, q)) };
      },
      [8, 11].map((n, k) => new Map([['x', tensor([2, n, 6], 'float', 25 + k)], ['r', tensor([6, 3], 'float', 27)]])),
    ),
  );

  // symbolic dims used as data values (a sum over a broadcast 1, as the spec language makes `s.shape[0] - 5`):
  // differences, negative coefficients and floor/ceil divisions that are negative for some symbol values —
  // in the row kernel (s · v) and after the reduction (sum(s) · v). The float64 executor cannot run a broadcast
  // to a negative size: the reference is the same loss built for each input's sizes (its dim values constants,
  // as instantiate's dimTensor makes them).
  const dimValues = (n: Dim, k: Dim): Build => (b) => {
    const s = b.input('s', [n, k], 'float', true);
    const value = (d: Dim) => typeof d === 'number' ? c(b, d) : b.op('reduce', [b.op('broadcast', [c(b, 1)], { shape: [d] })], { fn: 'sum', axes: [0], keepdim: false });
    const vs = [subDims(n, 5), subDims(2, n), mulDims(-3, k), floorDivDims(subDims(n, 5), 2), ceilDivDims(subDims(k, 7), 3), addDims(n, k)].map(value);
    const inRow = sumAll(b, b.binary('mul', s, b.binary('add', vs[0]!, b.binary('mul', vs[1]!, c(b, 0.5)))));
    const after = b.binary('mul', sumAll(b, s), vs.slice(2).reduce((p, q) => b.binary('add', p, b.binary('mul', q, c(b, 0.25)))));
    return { loss: b.binary('add', inRow, after) };
  };
  const sizes = [
    [4, 5],
    [7, 3],
    [2, 10],
  ] as const;
  // a row reduction raised to the constant power 0 (1 for every value): the schedule reads nothing of the reduction
  // there, so the kernel must not evaluate it (an internal error before: 'reduction node … is neither a register nor
  // a buffer'); the rest of the loss keeps the row kernel busy
  out.push(
    make(
      'pow-zero-of-row-reduction',
      [{ name: 'x', shape: [N, C] }],
      (b) => {
        const x = b.input('x', [N, C], 'float', true);
        const r = b.op('reduce', [b.unary('abs', x)], { fn: 'sum', axes: [1], keepdim: false });
        const one = b.binary('pow', r, c(b, 0));
        return { loss: b.binary('add', sumAll(b, one), sumAll(b, b.binary('mul', x, x))) };
      },
      [new Map([['x', tensor([5, 7], 'float', 41)]])],
    ),
  );

  out.push({
    ...make('dim-values-signed', [{ name: 's', shape: [N, C] }], dimValues(N, C), sizes.map(([n, k], i) => new Map([['s', tensor([n, k], 'float', 31 + i)]]))),
    references: sizes.map(([n, k]) => make('', [{ name: 's', shape: [n, k] }], dimValues(n, k), []).graph),
  });
  return out;
}
