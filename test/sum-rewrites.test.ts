// Sums with a one-hot row rewritten by the builder (src/graph/sum-rewrites.ts): they vanish into existing sums
// only where the factors pulled out are never 0 or ±∞; other sums are built as written.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { GraphBuilder } from '../src/graph/builder.js';
import { sym } from '../src/graph/dims.js';
import type { Graph } from '../src/graph/types.js';

const N = sym('N');

/** log-softmax pieces of x over axis 1: (x − m, Z = Σ exp(x − m)), and the one-hot row of the int labels y. */
function parts(b: GraphBuilder) {
  const x = b.input('x', [N, 10], 'float', true);
  const y = b.input('y', [N, 1], 'int', false);
  const m = b.op('detach', [b.op('reduce', [x], { fn: 'max', axes: [1], keepdim: true })], {});
  const e = b.unary('exp', b.binary('sub', x, m));
  const Z = b.op('reduce', [e], { fn: 'sum', axes: [1], keepdim: true });
  const hot = b.op('where', [b.binary('eq', b.op('iota', [], { shape: [N, 10], axis: 1, dtype: 'int' }), y), b.constant(-0.5), b.constant(0)], {});
  return { x, e, Z, hot };
}

const rowSums = (g: { nodes: Graph['nodes'] }) => g.nodes.filter((n) => n.op === 'reduce' && n.attrs.fn === 'sum' && n.attrs.axes.join() === '1').map((n) => n.id);

test('Σ_j (one-hot + c · p_j) over a softmax p = exp(x − m) / Z: the one-hot sum plus c · Z / Z, no new sum over the row', () => {
  const b = new GraphBuilder();
  const { e, Z, hot } = parts(b);
  const before = rowSums(b.finish({ loss: Z, terms: [] }));
  const p = b.binary('div', e, Z);
  const s = b.op('reduce', [b.unary('neg', b.binary('add', hot, b.binary('mul', b.constant(0.25), p)))], { fn: 'sum', axes: [1], keepdim: true });
  const g = b.finish({ loss: s, terms: [] });
  const after = rowSums(g);
  // one new row sum: the one-hot's (read once per row); Σ p_j is Z (CSE), not summed again
  const added = after.filter((id) => !before.includes(id));
  assert.is(added.length, 1);
  assert.is(g.nodes[g.nodes[added[0]!]!.inputs[0]!]!.op, 'where');
  assert.is(g.nodes[s]!.op, 'unary');
});

test('factors that may be 0 or ±∞ stay inside the sum, and sums without a one-hot row are built as written', () => {
  const b = new GraphBuilder();
  const { e, Z, hot } = parts(b);
  const w = b.input('w', [N, 1], 'float', false); // a per-row weight: may be 0 or ∞
  const p = b.binary('div', e, Z);
  const s = b.op('reduce', [b.binary('add', hot, b.binary('mul', w, p))], { fn: 'sum', axes: [1], keepdim: true });
  assert.is(b.node(s).op, 'reduce');
  const plain = b.op('reduce', [p], { fn: 'sum', axes: [1], keepdim: true });
  assert.is(b.node(plain).op, 'reduce');
  assert.is.not(plain, Z);
});

test.run();
