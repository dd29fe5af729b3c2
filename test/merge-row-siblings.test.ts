// The fusion pass after build (merge-row-siblings.ts): independent row kernels over the same rows become one
// kernel of row passes — only where no part touches what another writes, within the binding budget, and where
// every kernel passed over in execution order is independent of the one that moves. Synthetic kernels here (the
// pass reads only bindings, dispatch, overrides and spec kinds); golden-interpret, golden-gpu-all and schedule's
// binding check run the merged kernels of real configs.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mergeRowSiblings } from '../src/compiler/schedule/merge-row-siblings.js';
import type { ScheduledKernel } from '../src/compiler/schedule/schedule.js';
import type { Dim, Graph } from '../src/graph/types.js';
import { workgroupOverride } from '../src/compiler/schedule/workgroup.js';

type Use = readonly [buffer: number, access: 'r' | 'w'];
const ROWS: [Dim, Dim, Dim] = [{ op: 'min', a: { sym: 'N' }, b: 65535 }, { op: 'ceildiv', a: { sym: 'N' }, b: 65535 }, 1];

function kernel(i: number, uses: readonly Use[], o: { kind?: 'row' | 'map'; column?: boolean; dispatch?: [Dim, Dim, Dim] } = {}): ScheduledKernel {
  const name = `k${i}_${o.kind ?? 'row'}_t${i}`;
  const access = (a: 'r' | 'w') => (a === 'w' ? ('read_write' as const) : ('read' as const));
  const common = {
    name,
    header: [`${name}: pass ${i}`, `terms: t${i}`],
    graph: {} as Graph,
    symbols: ['N'],
    maxWorkgroupSize: 256,
    buffers: uses.map(([b, a], k) => ({ binding: k + 1, name: `t_b${b}`, dtype: 'f32' as const, access: access(a), label: `b${b}`, shape: [] })),
    loads: new Map<number, string>(),
    dimValues: new Map(),
  };
  const spec = o.kind === 'map' ? { ...common, kind: 'map' as const, axes: [], stores: [], elemsPerInvocation: 1 } : { ...common, kind: 'row' as const, axes: [], reductions: [], stores: [], ...(o.column ? { column: true as const } : {}) };
  return {
    name,
    spec,
    summary: `pass ${i}`,
    terms: [`t${i}`],
    bindings: uses.map(([b, a], k) => ({ binding: k + 1, buffer: b, access: access(a) })),
    dispatch: o.dispatch ?? ROWS,
    overrides: [workgroupOverride(o.kind ?? 'row')],
    bytesRead: 4,
    bytesWritten: 4,
  };
}

/** Each kernel of the result as the passes it runs (original kernel numbers), in execution order. */
const shape = (ks: ScheduledKernel[]): number[][] => ks.map((k) => (k.spec.kind === 'segments' ? k.spec.parts.map((p) => Number(/pass (\d+)/.exec(p.header[0]!)![1])) : [Number(/pass (\d+)/.exec(k.summary)![1])]));

test('independent row kernels over the same rows: one kernel of row passes, buffers bound once, renumbered', () => {
  const out = mergeRowSiblings([kernel(0, [[1, 'r'], [2, 'w']]), kernel(1, [[1, 'r'], [3, 'r'], [4, 'w']])], 8);
  assert.equal(shape(out), [[0, 1]]);
  const k = out[0]!;
  assert.equal(k.bindings.map((b) => [b.binding, b.buffer, b.access]), [[1, 1, 'read'], [2, 2, 'read_write'], [3, 3, 'read'], [4, 4, 'read_write']]);
  assert.equal(k.spec.buffers.map((b) => [b.binding, b.name]), [[1, 't_b1'], [2, 't_b2'], [3, 't_b3'], [4, 't_b4']]);
  assert.is(k.name, 'k0_row_t0_t1');
  assert.is(k.spec.header[0], `k0_row_t0_t1: ${k.summary}`);
  assert.equal(k.bytesRead, 8);
});

test('a kernel reading (or writing) what the other writes is not merged with it', () => {
  assert.equal(shape(mergeRowSiblings([kernel(0, [[1, 'r'], [2, 'w']]), kernel(1, [[2, 'r'], [3, 'w']])], 8)), [[0], [1]]);
  assert.equal(shape(mergeRowSiblings([kernel(0, [[1, 'r'], [2, 'w']]), kernel(1, [[2, 'w']])], 8)), [[0], [1]]);
  assert.equal(shape(mergeRowSiblings([kernel(0, [[1, 'w']]), kernel(1, [[1, 'r'], [3, 'w']])], 8)), [[0], [1]]);
});

test('kernels in between: the later kernel moves up, or the earlier down, past kernels independent of it; else no merge', () => {
  // 1 reads 0's output; 2 is independent of both: 2 moves up to 0
  assert.equal(shape(mergeRowSiblings([kernel(0, [[1, 'w']]), kernel(1, [[1, 'r'], [5, 'w']], { kind: 'map' }), kernel(2, [[3, 'w']])], 8)), [[0, 2], [1]]);
  // 2 reads 1's output, 1 is independent of 0: 0 moves down to 2
  assert.equal(shape(mergeRowSiblings([kernel(0, [[1, 'w']]), kernel(1, [[5, 'w']], { kind: 'map' }), kernel(2, [[5, 'r'], [3, 'w']])], 8)), [[1], [0, 2]]);
  // 1 reads 0's output and writes what 2 reads: neither may move
  assert.equal(shape(mergeRowSiblings([kernel(0, [[1, 'w']]), kernel(1, [[1, 'r'], [5, 'w']], { kind: 'map' }), kernel(2, [[5, 'r'], [3, 'w']])], 8)), [[0], [1], [2]]);
});

test('the merged kernel stays within the storage-binding budget', () => {
  const a = kernel(0, [[1, 'r'], [2, 'r'], [3, 'w']]);
  const b = kernel(1, [[4, 'r'], [5, 'r'], [6, 'w']]);
  assert.equal(shape(mergeRowSiblings([a, b], 5)), [[0], [1]]);
  assert.equal(shape(mergeRowSiblings([a, b], 6)), [[0, 1]]);
});

test('only row kernels of one dispatch and workgroup override merge: not column passes, maps, or other rows', () => {
  const other: [Dim, Dim, Dim] = [{ op: 'mul', a: { sym: 'N' }, b: 4 }, 1, 1];
  assert.equal(shape(mergeRowSiblings([kernel(0, [[1, 'w']]), kernel(1, [[2, 'w']], { column: true })], 8)), [[0], [1]]);
  assert.equal(shape(mergeRowSiblings([kernel(0, [[1, 'w']], { kind: 'map' }), kernel(1, [[2, 'w']], { kind: 'map' })], 8)), [[0], [1]]);
  assert.equal(shape(mergeRowSiblings([kernel(0, [[1, 'w']]), kernel(1, [[2, 'w']], { dispatch: other })], 8)), [[0], [1]]);
  const pinned = { ...kernel(1, [[2, 'w']]), overrides: [workgroupOverride('row', 32)] };
  assert.equal(shape(mergeRowSiblings([kernel(0, [[1, 'w']]), pinned], 8)), [[0], [1]]);
});

test('three siblings become one kernel of three passes; names follow execution order', () => {
  const out = mergeRowSiblings([kernel(0, [[1, 'w']]), kernel(1, [[1, 'r'], [9, 'w']], { kind: 'map' }), kernel(2, [[2, 'w']]), kernel(3, [[3, 'w']])], 8);
  assert.equal(shape(out), [[0, 2, 3], [1]]);
  assert.equal(out.map((k) => k.name), ['k0_row_t0_t2_t3', 'k1_map_t1']);
  assert.is(out[0]!.summary, '3 row passes in one dispatch, one after the other: pass 0 | pass 2 | pass 3');
});

test.run();
