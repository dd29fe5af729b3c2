// Autodiff semantics (which inputs get gradients, accumulation) and an end-to-end KD check against golden/.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { GraphBuilder } from '../src/graph/builder.js';
import { differentiate } from '../src/graph/autodiff.js';
import { execute, type HostTensor } from '../src/cpu/executor.js';
import { readSafetensors } from 'tdc-runtime';
import { toHost } from '../src/cpu/host-safetensors.js';
import { casePath, expected, relErr } from './helpers/golden.js';
import { fdCheck, randTensor, rng } from './helpers/fd.js';

const sum = (b: GraphBuilder, x: number) => {
  const r = b.shape(x).length;
  return r ? b.op('reduce', [x], { fn: 'sum', axes: [...Array(r).keys()], keepdim: false }) : x;
};

test('detach / comparisons: no gradient entry; sign: zero gradient; int inputs never', () => {
  const b = new GraphBuilder();
  const x = b.input('x', [3], 'float', true);
  const y = b.input('y', [3], 'float', true);
  const z = b.input('z', [3], 'float', true);
  const u = b.input('u', [3], 'float', true);
  const t = b.input('t', [3], 'int', true);
  const w = b.input('w', [3], 'float', true); // unused
  const l = sum(
    b,
    b.binary(
      'add',
      b.binary('add', b.op('detach', [x], {}), b.binary('lt', y, b.constant(0))),
      b.binary('add', b.unary('sign', z), b.binary('mul', u, b.op('cast', [t], { dtype: 'float' }))),
    ),
  );
  void w;
  const g = differentiate(b.finish({ loss: l, terms: [] }));
  const names = g.grads.map((e) => e.input).sort();
  assert.equal(names, ['u', 'z']);
  const feed = new Map<string, HostTensor>([
    ['x', { shape: [3], dtype: 'float', data: Float64Array.of(1, 2, 3) }],
    ['y', { shape: [3], dtype: 'float', data: Float64Array.of(-1, 2, 3) }],
    ['z', { shape: [3], dtype: 'float', data: Float64Array.of(-1, 0, 3) }],
    ['u', { shape: [3], dtype: 'float', data: Float64Array.of(1, 1, 1) }],
    ['t', { shape: [3], dtype: 'int', data: Float64Array.of(4, 5, 6) }],
    ['w', { shape: [3], dtype: 'float', data: Float64Array.of(0, 0, 0) }],
  ]);
  const r = execute(g, feed);
  assert.equal([...r.grads.get('z')!.data], [0, 0, 0]);
  assert.equal([...r.grads.get('u')!.data], [4, 5, 6]);
  assert.is(r.loss, 1 + 2 + 3 + 1 + (-1 + 0 + 1) + 15);
});

test('non-trainable inputs get no gradient; a reused input accumulates', () => {
  const b = new GraphBuilder();
  const x = b.input('x', [2, 3], 'float', true);
  const c = b.input('c', [2, 3], 'float', false);
  const l = sum(b, b.binary('mul', b.binary('mul', x, x), c));
  const g = differentiate(b.finish({ loss: l, terms: [] }));
  assert.equal(g.grads.map((e) => e.input), ['x']);
  const r = rng(1);
  const X = randTensor(r, [2, 3]);
  const C = randTensor(r, [2, 3]);
  const out = execute(g, new Map([['x', X], ['c', C]]));
  out.grads.get('x')!.data.forEach((v, i) => assert.ok(Math.abs(v - 2 * X.data[i]! * C.data[i]!) < 1e-15));
});

test('backward nodes are appended after the forward graph; inputs first-declared keep ids', () => {
  const b = new GraphBuilder();
  const x = b.input('x', [4], 'float', true);
  const l = sum(b, b.unary('exp', x));
  const fwd = b.finish({ loss: l, terms: [{ name: 't', weight: 1, node: l }] });
  const g = differentiate(fwd);
  assert.ok(g.nodes.length > fwd.nodes.length);
  fwd.nodes.forEach((n, i) => assert.is(g.nodes[i], n));
  g.nodes.forEach((n) => n.inputs.forEach((i) => assert.ok(i < n.id)));
  assert.is(g.grads.length, 1);
  assert.ok(g.grads[0]!.node >= fwd.nodes.length || g.grads[0]!.node === 1);
});

test('FD: a composed softmax cross-entropy-like chain', () => {
  const r = rng(3);
  const rep = fdCheck([{ name: 'z', value: randTensor(r, [3, 7]) }], (b, [z]) => {
    const m = b.op('detach', [b.op('reduce', [z!], { fn: 'max', axes: [1], keepdim: true })], {});
    const s = b.binary('sub', z!, m);
    const lse = b.unary('log', b.op('reduce', [b.unary('exp', s)], { fn: 'sum', axes: [1], keepdim: true }));
    return b.binary('sub', s, lse);
  });
  assert.ok(rep.worst < 1e-6, rep.where);
});

test('FD: Gram matrices x·xᵀ (plain and batched, x also used elsewhere); the backward has one matmul per Gram', () => {
  const r = rng(5);
  const gramOf = (b: GraphBuilder, x: number): number => {
    const rk = b.shape(x).length;
    const perm = [...Array(rk).keys()];
    [perm[rk - 2], perm[rk - 1]] = [perm[rk - 1]!, perm[rk - 2]!];
    return b.op('matmul', [x, b.op('permute', [x], { perm })], {});
  };
  for (const shape of [[4, 6], [2, 3, 5]]) {
    const rep = fdCheck([{ name: 'x', value: randTensor(r, shape) }], (b, [x]) => b.binary('mul', gramOf(b, x!), b.op('reduce', [x!], { fn: 'sum', axes: [shape.length - 1], keepdim: true })));
    assert.ok(rep.worst < 1e-6, `${shape}: ${rep.where}`);
  }
  const b = new GraphBuilder();
  const x = b.input('x', [4, 6], 'float', true);
  const g = differentiate(b.finish({ loss: sum(b, gramOf(b, x)), terms: [] }));
  assert.is(g.nodes.filter((n) => n.op === 'matmul').length, 2, 'forward Gram + one backward matmul');
});

// ---- KD by hand on golden sample__ilsvrc2012__kd__resnet18_from_resnet34 ----------------------------------
function logSoftmax(b: GraphBuilder, x: number, axis: number): number {
  const m = b.op('detach', [b.op('reduce', [x], { fn: 'max', axes: [axis], keepdim: true })], {});
  const s = b.binary('sub', x, m);
  const lse = b.unary('log', b.op('reduce', [b.unary('exp', s)], { fn: 'sum', axes: [axis], keepdim: true }));
  return b.binary('sub', s, lse);
}

test('golden KD (T, alpha from config.yaml): loss and both gradients to 1e-9', () => {
  const id = 'sample__ilsvrc2012__kd__resnet18_from_resnet34';
  const cfg = readFileSync(casePath(id, 'config.yaml'), 'utf8');
  const T = Number(/temperature:\s*([0-9.eE+-]+)/.exec(cfg)![1]);
  const alpha = Number(/alpha:\s*([0-9.eE+-]+)/.exec(cfg)![1]);
  assert.ok(/reduction:\s*'batchmean'/.test(cfg));
  const beta = 1 - alpha;
  const exp = expected(id);
  const { tensors } = readSafetensors(readFileSync(casePath(id, 'tensors.safetensors')));
  const feed = new Map<string, HostTensor>();
  for (const [k, v] of tensors) feed.set(k, toHost(v));
  const [N, C] = feed.get('student/./output')!.shape as [number, number];

  // symbolic N, C: the executor binds them from the tensors
  const b = new GraphBuilder();
  const Nd = { sym: 'N' };
  const Cd = { sym: 'C' };
  const zs = b.input('student/./output', [Nd, Cd], 'float', true);
  const zt = b.input('teacher/./output', [Nd, Cd], 'float', true); // golden stores teacher grads too
  const y = b.input('targets', [Nd], 'int', false);
  const invT = b.constant(1 / T);
  const logq = logSoftmax(b, b.binary('mul', zs, invT), 1);
  const logp = logSoftmax(b, b.binary('mul', zt, invT), 1);
  const p = b.unary('exp', logp);
  const nF = b.op('reduce', [b.op('broadcast', [b.constant(1)], { shape: [Nd] })], { fn: 'sum', axes: [0], keepdim: false });
  const kl = b.binary('div', sum(b, b.binary('mul', p, b.binary('sub', logp, logq))), nF);
  const ls = logSoftmax(b, zs, 1);
  const picked = b.op('gather', [ls, b.op('reshape', [y], { shape: [Nd, 1] })], { axis: 1 });
  const ce = b.binary('div', b.unary('neg', sum(b, picked)), nF);
  const kd = b.binary('add', b.binary('mul', b.constant(alpha), ce), b.binary('mul', b.constant(beta * T * T), kl));
  const g = differentiate(b.finish({ loss: kd, terms: [{ name: 'kd', weight: 1, node: kd }] }));
  const r = execute(g, feed);

  assert.ok(relErr(r.loss, exp.loss) < 1e-9, `loss ${r.loss} vs ${exp.loss}`);
  assert.ok(relErr(r.terms['kd']!, exp.terms['kd']!.value) < 1e-9);
  for (const name of ['student/./output', 'teacher/./output']) {
    const got = r.grads.get(name)!;
    const want = feed.get(`grad/${name}`)!;
    assert.equal(got.shape, [N, C]);
    let maxAbs = 0;
    let maxErr = 0;
    want.data.forEach((w, i) => {
      maxAbs = Math.max(maxAbs, Math.abs(w));
      maxErr = Math.max(maxErr, Math.abs(w - got.data[i]!));
    });
    assert.ok(maxErr <= 1e-9 * maxAbs, `${name}: max err ${maxErr} vs max |g| ${maxAbs}`);
    if (process.env['TDC_VERBOSE']) console.log(name, maxErr / maxAbs, relErr(r.loss, exp.loss));
  }
});

test.run();
