// The CTC primitives (src/graph/ops/ctc.ts): ctc_nll against a brute-force sum over every alignment (an oracle
// independent of the α recursion), ctc_nll_grad against central differences through a log_softmax (torch's
// gradient is the derivative through an implied log-softmax, see the op's header), torch's edges (impossible
// alignments, empty targets, zero input lengths, zero gradient past the input length), the errors, and the
// GPU kernels: one plan compiled with symbolic T, N and S run at several sizes (T up to 300) and workgroup
// sizes against the float64 CPU kernels, at golden/README.md's default float32 tolerance (loss rtol 1e-4;
// gradient |x − g| ≤ 1e-4·max|g| + 1e-4·|g|). torch itself is the oracle of test/golden-regress.test.ts.
// No adapter: a failure when TDC_REQUIRE_GPU=1 (CI), otherwise a loud skip of the GPU test.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { openTestRuntime } from './helpers/open-gpu.js';
import { GraphBuilder, ShapeError } from '../src/graph/builder.js';
import { differentiate } from '../src/graph/autodiff.js';
import { sym } from '../src/graph/dims.js';
import { execute, type HostTensor } from '../src/cpu/executor.js';
import type { Graph } from '../src/graph/types.js';
import { kernelPlan } from '../src/compiler/kernel-plan.js';
import { attachInputChecks } from '../src/compiler/index-checks.js';
import { GpuInputError, PlanExecutor } from 'tdc-runtime/node';
import { fdCheck, rng } from './helpers/fd.js';


const ints = (shape: number[], values: number[]): HostTensor => ({ shape, dtype: 'int', data: Float64Array.from(values) });

/** log_softmax over the classes of a random [T, N, C] (values in float32, so the GPU sees the same inputs). */
function logProbs(r: ReturnType<typeof rng>, T: number, N: number, C: number): HostTensor {
  const d = new Float64Array(T * N * C);
  for (let row = 0; row < T * N; row++) {
    const x = Array.from({ length: C }, () => 1.5 * r.normal());
    const m = Math.max(...x);
    const lse = m + Math.log(x.reduce((a, v) => a + Math.exp(v - m), 0));
    for (let c = 0; c < C; c++) d[row * C + c] = Math.fround(x[c]! - lse);
  }
  return { shape: [T, N, C], dtype: 'float', data: d };
}

/** The graph nll = ctc_nll(lp, targets, il, tl), inputs named lp, tg, il, tl. */
function nllGraph(shape: { T: number | string; N: number | string; C: number; S: number | string }, blank: number, loss?: (b: GraphBuilder, nll: number) => number): Graph {
  const d = (v: number | string) => (typeof v === 'string' ? sym(v) : v);
  const b = new GraphBuilder();
  const lp = b.input('lp', [d(shape.T), d(shape.N), shape.C], 'float', true);
  const tg = b.input('tg', [d(shape.N), d(shape.S)], 'int', false);
  const il = b.input('il', [d(shape.N)], 'int', false);
  const tl = b.input('tl', [d(shape.N)], 'int', false);
  const nll = b.op('ctc_nll', [lp, tg, il, tl], { blank });
  const l = loss ? loss(b, nll) : b.op('reduce', [nll], { fn: 'sum', axes: [0], keepdim: false });
  return b.finish({ loss: l, terms: [] });
}

function cpuNll(lp: HostTensor, tg: HostTensor, il: number[], tl: number[], blank: number): number[] {
  const [T, N, C] = lp.shape as [number, number, number];
  const g = nllGraph({ T, N, C, S: tg.shape[1]! }, blank);
  const r = execute(g, new Map([['lp', lp], ['tg', tg], ['il', ints([N], il)], ['tl', ints([N], tl)]]));
  return [...r.values[g.nodes.find((n) => n.op === 'ctc_nll')!.id]!.data];
}

/** −log Σ over every path π ∈ [0, C)^I that collapses (merge repeats, drop blanks) to the target. */
function bruteNll(lp: HostTensor, b: number, I: number, target: number[], blank: number): number {
  const [, N, C] = lp.shape as [number, number, number];
  let p = 0;
  const path: number[] = [];
  const walk = (t: number) => {
    if (t === I) {
      const out: number[] = [];
      path.forEach((c, k) => {
        if (c !== blank && (k === 0 || path[k - 1] !== c)) out.push(c);
      });
      if (out.length === target.length && out.every((c, k) => c === target[k])) p += Math.exp(path.reduce((a, c, k) => a + lp.data[(k * N + b) * C + c]!, 0));
      return;
    }
    for (let c = 0; c < C; c++) {
      path.push(c);
      walk(t + 1);
      path.pop();
    }
  };
  walk(0);
  return -Math.log(p);
}

test('ctc_nll equals −log of the brute-force sum over all alignments (repeats, blank ≠ 0, empty target, I < T)', () => {
  const r = rng(11);
  const lp = logProbs(r, 6, 5, 4);
  // sample: [target, input length]
  const samples: [number[], number][] = [[[1, 2], 6], [[2, 2], 6], [[1, 2, 1], 5], [[], 4], [[3], 3]];
  for (const blank of [0, 3]) {
    const labels = samples.map(([t]) => t.map((c) => (blank === 3 && c === 3 ? 0 : c)));
    const S = 3;
    const tg = ints([5, S], labels.flatMap((t) => [...t, ...Array(S - t.length).fill(blank === 0 ? 1 : 2)]));
    const got = cpuNll(lp, tg, samples.map(([, i]) => i), labels.map((t) => t.length), blank);
    labels.forEach((t, b) => {
      const want = bruteNll(lp, b, samples[b]![1], t, blank);
      assert.ok(Math.abs(got[b]! - want) <= 1e-12 * Math.abs(want), `blank ${blank} sample ${b}: ${got[b]} vs ${want}`);
    });
  }
});

test('impossible alignments are +inf with a zero gradient; I = 0 aligns only the empty target', () => {
  const r = rng(12);
  const lp = logProbs(r, 4, 4, 3);
  // [1, 1] needs 3 steps (a blank between the doubled label), [1, 2, 1] needs 3: both fit in 3, not in 2
  const tg = ints([4, 3], [1, 1, 0, 1, 2, 1, 0, 0, 0, 1, 0, 0]);
  const il = [2, 2, 0, 0];
  const tl = [2, 3, 0, 1];
  assert.equal(cpuNll(lp, tg, il, tl, 0), [Infinity, Infinity, 0, Infinity]);
  const g = differentiate(nllGraph({ T: 4, N: 4, C: 3, S: 3 }, 0, (b, nll) => b.op('reduce', [b.op('where', [b.binary('lt', nll, b.constant(Infinity)), nll, b.constant(0)], {})], { fn: 'sum', axes: [0], keepdim: false })));
  const res = execute(g, new Map([['lp', lp], ['tg', tg], ['il', ints([4], il)], ['tl', ints([4], tl)]]));
  assert.equal(res.loss, 0);
  assert.ok([...res.grads.get('lp')!.data].every((v) => v === 0));
  // without the mask the loss is inf, and the infinite samples still get a zero gradient (torch: NaN)
  const plain = differentiate(nllGraph({ T: 4, N: 4, C: 3, S: 3 }, 0));
  const inf = execute(plain, new Map([['lp', lp], ['tg', tg], ['il', ints([4], il)], ['tl', ints([4], tl)]]));
  assert.is(inf.loss, Infinity);
  assert.ok([...inf.grads.get('lp')!.data].every((v) => v === 0));
});

test('ctc_nll_grad is torch\'s formula: exp(lp) − posterior up to each input length, 0 after (FD through log_softmax)', () => {
  const r = rng(13);
  const [T, N, C, S] = [7, 3, 4, 3];
  const x: HostTensor = { shape: [T, N, C], dtype: 'float', data: Float64Array.from({ length: T * N * C }, () => r.normal()) };
  for (const blank of [0, 2]) {
    const tg = ints([N, S], blank === 0 ? [1, 2, 2, 3, 1, 0, 2, 2, 2] : [1, 3, 3, 0, 1, 1, 3, 0, 0]);
    const rep = fdCheck(
      [
        { name: 'x', value: x },
        { name: 'tg', value: tg },
        { name: 'il', value: ints([N], [7, 5, 6]) },
        { name: 'tl', value: ints([N], [3, 2, 1]) },
      ],
      (b, [xi, t, i, l]) => {
        const m = b.op('reduce', [b.unary('exp', xi!)], { fn: 'sum', axes: [2], keepdim: true });
        const lp = b.binary('sub', xi!, b.unary('log', m));
        return b.op('ctc_nll', [lp, t!, i!, l!], { blank });
      },
    );
    assert.ok(rep.checked > 0);
    assert.ok(rep.worst < 1e-6, `blank ${blank}: worst ${rep.worst} at ${rep.where}`);
    // past sample 1's input length (5) its rows of the gradient are exactly 0
    const gx = rep.grads.get('x')!.data;
    for (let t = 5; t < T; t++) for (let c = 0; c < C; c++) assert.is(gx[(t * N + 1) * C + c], 0);
  }
  // the op's own VJP (not through log_softmax) is exp(lp) − posterior: each live step sums to Σ exp(lp) − 1
  const lp = logProbs(r, 5, 1, 3);
  const g = differentiate(nllGraph({ T: 5, N: 1, C: 3, S: 2 }, 0));
  const gl = execute(g, new Map([['lp', lp], ['tg', ints([1, 2], [1, 2])], ['il', ints([1], [4])], ['tl', ints([1], [2])]])).grads.get('lp')!.data;
  for (let t = 0; t < 5; t++) {
    const rowSum = gl[t * 3]! + gl[t * 3 + 1]! + gl[t * 3 + 2]!;
    const want = t < 4 ? [0, 1, 2].reduce((a, c) => a + Math.exp(lp.data[t * 3 + c]!), 0) - 1 : 0;
    assert.ok(Math.abs(rowSum - want) < 1e-12, `step ${t}: Σ_c grad = ${rowSum}, expected ${want}`);
  }
});

test('log-probabilities of −inf (log 0) close the paths through them: finite loss, gradient without NaN (torch: NaN there)', () => {
  const r = rng(15);
  const lp = logProbs(r, 5, 1, 4);
  // class 3 impossible everywhere, the blank impossible at step 2
  for (let t = 0; t < 5; t++) lp.data[t * 4 + 3] = -Infinity;
  lp.data[2 * 4 + 0] = -Infinity;
  const tg = ints([1, 2], [1, 2]);
  const want = bruteNll(lp, 0, 5, [1, 2], 0);
  const [got] = cpuNll(lp, tg, [5], [2], 0);
  assert.ok(Number.isFinite(want) && Math.abs(got! - want) <= 1e-12 * want, `${got} vs ${want}`);
  const g = differentiate(nllGraph({ T: 5, N: 1, C: 4, S: 2 }, 0));
  const grad = execute(g, new Map([['lp', lp], ['tg', tg], ['il', ints([1], [5])], ['tl', ints([1], [2])]])).grads.get('lp')!.data;
  assert.ok(grad.every((v) => Number.isFinite(v)));
  for (let t = 0; t < 5; t++) assert.is(grad[t * 4 + 3], 0);
});

test('lengths and labels out of range are errors naming the sample; shape rules name the operands', () => {
  const lp = logProbs(rng(14), 4, 2, 3);
  const tg = ints([2, 2], [1, 2, 1, 1]);
  assert.throws(() => cpuNll(lp, tg, [5, 4], [2, 2], 0), /input_lengths\[0\] = 5; expected a value in \[0, 4\]/);
  assert.throws(() => cpuNll(lp, tg, [4, 4], [2, 3], 0), /target_lengths\[1\] = 3; expected a value in \[0, 2\]/);
  assert.throws(() => cpuNll(lp, ints([2, 2], [1, 3, 1, 1]), [4, 4], [2, 2], 0), /target 3 \(sample 0, position 1\) is out of bounds for 3 classes/);
  const b = new GraphBuilder();
  const x = b.input('lp', [4, 2, 3], 'float', true);
  const t = b.input('tg', [3, 2], 'int', false);
  const n = b.input('n', [2], 'int', false);
  assert.throws(() => b.op('ctc_nll', [x, t, n, n], { blank: 0 }), (e: unknown) => e instanceof ShapeError && /batch sizes differ/.test((e as Error).message));
  assert.throws(() => b.op('ctc_nll', [x, b.input('tg2', [2, 2], 'int', false), n, n], { blank: 3 }), /blank 3 must be in label range \[0, 3\)/);
});

test('GPU: one plan with symbolic T, N, S serves T = 40…300 (a −inf log-probability included); loss and gradient match the float64 CPU kernels', async () => {
  const rt = await openTestRuntime('ctc GPU', { timeoutMs: 600_000 });
  if (!rt) return;
  const C = 20;
  const blank = 4;
  // weights per sample so every sample's gradient scale differs; a mean over N of nll / max(tl, 1)-like terms
  const g = differentiate(
    nllGraph({ T: 'T', N: 'N', C, S: 'S' }, blank, (b, nll) => {
      const w = b.input('w', [sym('N')], 'float', false);
      return b.op('reduce', [b.binary('mul', nll, w)], { fn: 'sum', axes: [0], keepdim: false });
    }),
  );
  try {
    for (const wg of [8, 64]) {
      const plan = kernelPlan(g, { workgroupSize: wg, mode: 'fused', maxStorageBuffers: rt.device.limits.maxStorageBuffersPerShaderStage });
      const serial = plan.kernels.filter((k) => /ctc_nll(_grad)? \[/.test(k.summary));
      assert.is(serial.length, 2, plan.kernels.map((k) => k.summary).join('\n'));
      assert.ok(serial.every((k) => /one workgroup per sample/.test(k.summary)));
      attachInputChecks(plan, g); // as run-gpu.ts and compile.ts attach them
      const exec = await PlanExecutor.create(rt, plan);
      try {
        // lengths torch rejects are rejected before any dispatch (the kernels would clamp them)
        const bad = (il: number[], tl: number[]) =>
          exec.run(
            new Map<string, HostTensor>([
              ['lp', logProbs(rng(5), 6, 2, C)],
              ['tg', ints([2, 2], [1, 2, 3, 1])],
              ['il', ints([2], il)],
              ['tl', ints([2], tl)],
              ['w', { shape: [2], dtype: 'float', data: Float64Array.of(1, 1) }],
            ]),
          );
        await bad([6, 7], [2, 2]).then(
          () => assert.unreachable('input length 7 > T = 6 accepted'),
          (e: unknown) => assert.ok(e instanceof GpuInputError && /'il' element 1 is 7: a CTC input length must lie in \[0, 7\) \(torch raises "Expected input_lengths to have value at most 6, but got value 7"\)/.test((e as Error).message), String(e)),
        );
        await bad([6, 6], [-1, 2]).then(
          () => assert.unreachable('target length -1 accepted'),
          (e: unknown) => assert.ok(e instanceof GpuInputError && /'tl' element 0 is -1: a CTC target length must lie in \[0, 3\)/.test((e as Error).message), String(e)),
        );
        for (const [T, N, S, seed] of [[40, 3, 9, 1], [300, 4, 30, 2], [123, 2, 0, 3]] as const) {
          const r = rng(100 * wg + seed);
          const lp = logProbs(r, T, N, C);
          lp.data[(3 * N + 0) * C + (S > 0 ? blank : blank + 1)] = -Infinity; // log 0: the paths through it close
          const tl = Array.from({ length: N }, (_, b) => (b === N - 1 ? Math.floor(S / 2) : S));
          const il = Array.from({ length: N }, (_, b) => T - 7 * b);
          const labels = Array.from({ length: N * S }, () => {
            const c = Math.floor(r.u() * (C - 1));
            return c >= blank ? c + 1 : c;
          });
          if (S > 2) labels[1] = labels[0]!; // a doubled label
          const w = Float64Array.from({ length: N }, (_, b) => 0.5 + b);
          const inputs = new Map<string, HostTensor>([
            ['lp', lp],
            ['tg', ints([N, S], labels)],
            ['il', ints([N], il)],
            ['tl', ints([N], tl)],
            ['w', { shape: [N], dtype: 'float', data: w }],
          ]);
          const want = execute(g, inputs);
          const got = await exec.run(inputs, { readback: 'all' });
          const rel = Math.abs(got.loss - want.loss) / Math.abs(want.loss);
          assert.ok(rel <= 1e-4, `wg ${wg} T ${T}: loss ${got.loss} vs ${want.loss} (rel ${rel.toExponential(2)})`);
          const gw = want.grads.get('lp')!.data;
          const gg = got.grads.get('lp')!;
          const maxAbs = gw.reduce((a, v) => Math.max(a, Math.abs(v)), 0);
          let worst = 0;
          for (let i = 0; i < gw.length; i++) worst = Math.max(worst, Math.abs(gg[i]! - gw[i]!) / (1e-4 * maxAbs + 1e-4 * Math.abs(gw[i]!)));
          console.log(`  ctc GPU wg ${wg} T ${T} N ${N} S ${S}: loss rel err ${rel.toExponential(2)}, grad error ${worst.toExponential(2)}× bound`);
          assert.ok(worst <= 1, `wg ${wg} T ${T}: gradient error ${worst.toExponential(2)}× the bound`);
        }
      } finally {
        exec.destroy();
      }
    }
  } finally {
    rt.destroy();
  }
});

test.run();
