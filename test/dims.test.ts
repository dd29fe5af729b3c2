// Symbolic dims: normal form, equality, broadcasting rule, evaluation; symbolic graphs on the executor.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  addDims, broadcastShapes, ceilDivDims, dimEq, dimToString, divExactDims, evalDim, floorDivDims, mulDims, shapeToString, subDims, sym,
} from '../src/graph/dims.js';
import { GraphBuilder, ShapeError } from '../src/graph/builder.js';
import { differentiate } from '../src/graph/autodiff.js';
import { execute, InputBindingError, type HostTensor } from '../src/cpu/executor.js';

const N = sym('N');
const C = sym('C');
const H = sym('H');

test('normal form: folding, x*1, like terms, sorted factors', () => {
  assert.is(mulDims(2, 3, 4), 24);
  assert.is(mulDims(N, 1), N);
  assert.is(dimToString(mulDims(C, N)), 'C*N');
  assert.is(dimToString(mulDims(N, C)), 'C*N');
  assert.is(dimToString(addDims(mulDims(N, C), 1)), 'C*N + 1');
  assert.is(subDims(addDims(N, 3), 3), N);
  assert.is(dimToString(mulDims(4, N)), '4*N');
  assert.is(dimToString(subDims(N, 1)), 'N - 1');
  assert.is(dimToString(floorDivDims(mulDims(4, N), 2)), '2*N');
  assert.is(dimToString(floorDivDims(H, 4)), 'floor(H/4)');
  assert.is(ceilDivDims(7, 2), 4);
  assert.is(dimToString(divExactDims(mulDims(N, C, 6), mulDims(3, C))!), '2*N');
  assert.is(divExactDims(mulDims(N, C), H), undefined);
});

test('equality and evaluation', () => {
  assert.is(dimEq(mulDims(N, C), mulDims(C, N)), true);
  assert.is(dimEq(N, addDims(N, 1)), false);
  assert.is(dimEq(N, C), undefined);
  assert.is(dimEq(3, 3), true);
  assert.is(evalDim(addDims(mulDims(N, C), floorDivDims(H, 4)), { N: 2, C: 5, H: 7 }), 11);
  assert.throws(() => evalDim(N, {}), /'N' is not bound/);
});

test('broadcasting rule with symbols', () => {
  assert.equal(broadcastShapes([N, 1], [1, C]), [N, C]);
  assert.equal(broadcastShapes([N, 37], [N, 37]), [N, 37]);
  assert.equal(broadcastShapes([N, 37], [8, 1]), [8, 37]); // symbolic vs concrete ≠ 1: assumed equal, concrete kept
  assert.equal(broadcastShapes([N], [C]), [N]); // two symbols: assumed equal
  assert.is(broadcastShapes([8, 37], [8, 100]), undefined);
  assert.is(broadcastShapes([N], [addDims(N, 1)]), undefined); // provably different
  assert.is(shapeToString([N, mulDims(C, H)]), '[N, C*H]');
});

test('symbolic graph: reshape/-1, slice, pool on symbols; executor binds and checks', () => {
  const b = new GraphBuilder();
  const x = b.input('x', [N, C, H, H], 'float', true);
  const flat = b.op('reshape', [x], { shape: [N, -1] });
  assert.is(shapeToString(b.shape(flat)), '[N, C*H*H]');
  const half = b.op('slice', [x], { axis: 2, start: 0, end: -1, step: 2 });
  assert.is(shapeToString(b.shape(half)), '[N, C, ceil((H - 1)/2), H]');
  const pooled = b.op('adaptive_pool2d', [x], { fn: 'avg', out: [2, 2] });
  assert.is(shapeToString(b.shape(pooled)), '[N, C, 2, 2]');
  const l = b.op('reduce', [b.binary('mul', pooled, pooled)], { fn: 'sum', axes: [0, 1, 2, 3], keepdim: false });
  const g = differentiate(b.finish({ loss: l, terms: [] }));
  const X: HostTensor = { shape: [2, 3, 5, 5], dtype: 'float', data: Float64Array.from({ length: 150 }, (_, i) => Math.sin(i)) };
  const r = execute(g, new Map([['x', X]]));
  assert.equal(r.grads.get('x')!.shape, [2, 3, 5, 5]);
  try {
    execute(g, new Map([['x', { shape: [2, 3, 5, 4], dtype: 'float' as const, data: new Float64Array(120) }]]));
    assert.unreachable();
  } catch (e) {
    assert.instance(e, InputBindingError);
    assert.is((e as Error).message, "input 'x': expected shape [N, C, H, H], got [2, 3, 5, 4] (H is already 5)");
  }
  assert.throws(() => execute(g, new Map()), /missing input tensor 'x' \(shape \[N, C, H, H\]\)/);
});

test('executor solves linear input dims (4*B) and reports runtime broadcast mismatches', () => {
  const b = new GraphBuilder();
  const B = sym('B');
  const z = b.input('z', [mulDims(4, B), 3], 'float', false);
  const y = b.input('y', [B], 'float', false);
  const l = b.binary('add', b.op('reduce', [z], { fn: 'sum', axes: [0, 1], keepdim: false }), b.op('reduce', [y], { fn: 'sum', axes: [0], keepdim: false }));
  const g = b.finish({ loss: l, terms: [] });
  const ok = execute(g, new Map<string, HostTensor>([
    ['z', { shape: [8, 3], dtype: 'float', data: new Float64Array(24).fill(1) }],
    ['y', { shape: [2], dtype: 'float', data: Float64Array.of(1, 2) }],
  ]));
  assert.is(ok.loss, 27);
  assert.throws(
    () => execute(g, new Map<string, HostTensor>([
      ['z', { shape: [8, 3], dtype: 'float', data: new Float64Array(24) }],
      ['y', { shape: [3], dtype: 'float', data: new Float64Array(3) }],
    ])),
    /input 'z': expected shape \[4\*B, 3\], got \[8, 3\]|input 'y'/,
  );
  // N vs concrete 37 assumed equal at build time; the executor catches the real mismatch
  const b2 = new GraphBuilder();
  const u = b2.input('u', [N], 'float', false);
  const v = b2.input('v', [37], 'float', false);
  const s = b2.op('reduce', [b2.binary('sub', u, v)], { fn: 'sum', axes: [0], keepdim: false });
  assert.throws(
    () => execute(b2.finish({ loss: s, terms: [] }), new Map<string, HostTensor>([
      ['u', { shape: [5], dtype: 'float', data: new Float64Array(5) }],
      ['v', { shape: [37], dtype: 'float', data: new Float64Array(37) }],
    ])),
    /binary.*\[5\] does not broadcast to \[37\]/,
  );
  try {
    b2.binary('sub', v, b2.input('w', [addDims(N, 0), 4], 'float', false));
    assert.unreachable();
  } catch (e) {
    assert.instance(e, ShapeError);
  }
});

test.run();
