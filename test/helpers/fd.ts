// Finite-difference checking of VJPs on the CPU executor (float64).
// The scalar checked is L = Σ y ⊙ w with a fixed random w, so every output component is exercised.
import { GraphBuilder } from '../../src/graph/builder.js';
import { differentiate } from '../../src/graph/autodiff.js';
import { execute, type HostTensor } from '../../src/cpu/executor.js';
import type { DType, Graph, Shape } from '../../src/graph/types.js';

/** Deterministic PRNG (mulberry32) with a normal sampler. */
export function rng(seed: number) {
  let a = seed >>> 0;
  const u = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const normal = () => Math.sqrt(-2 * Math.log(u() + 1e-300)) * Math.cos(2 * Math.PI * u());
  return { u, normal };
}

export function randTensor(r: ReturnType<typeof rng>, shape: number[], f?: (r: ReturnType<typeof rng>) => number): HostTensor {
  const n = shape.reduce((a, b) => a * b, 1);
  return { shape, dtype: 'float', data: Float64Array.from({ length: n }, () => (f ? f(r) : r.normal())) };
}

export interface FdInput {
  name: string;
  value: HostTensor;
  /** default true for float inputs */
  trainable?: boolean;
}

export interface FdReport {
  worst: number; // worst |analytic − fd| / (|fd| + scale) over all checked elements
  where: string;
  grads: Map<string, HostTensor>;
  checked: number;
}

/**
 * Build f(inputs) with `body`, differentiate L = Σ f ⊙ w, and compare each trainable input's gradient
 * with central differences (step h). Returns the worst normalised error; scale = max |analytic| of the
 * tensor, so tiny entries are compared against the tensor's magnitude, not themselves.
 */
export function fdCheck(inputs: FdInput[], body: (b: GraphBuilder, ids: number[]) => number, seed = 7, h = 1e-6): FdReport {
  const r = rng(seed);
  const b = new GraphBuilder();
  const ids = inputs.map((i) => b.input(i.name, i.value.shape, i.value.dtype as DType, i.trainable ?? i.value.dtype === 'float'));
  const y = body(b, ids);
  const ys = b.shape(y) as Shape;
  const w = b.input('__w', ys, 'float', false);
  const yf = b.dtype(y) === 'float' ? y : b.op('cast', [y], { dtype: 'float' });
  const prod = b.binary('mul', yf, w);
  const loss = ys.length ? b.op('reduce', [prod], { fn: 'sum', axes: [...ys.keys()], keepdim: false }) : prod;
  const g: Graph = differentiate(b.finish({ loss, terms: [] }));
  const wT = randTensor(r, ys as number[]);
  const feed = new Map<string, HostTensor>(inputs.map((i) => [i.name, i.value]));
  feed.set('__w', wT);
  const res = execute(g, feed);
  let worst = 0;
  let where = '';
  let checked = 0;
  for (const inp of inputs) {
    if (!(inp.trainable ?? inp.value.dtype === 'float')) continue;
    const an = res.grads.get(inp.name);
    if (!an) {
      worst = Infinity;
      where = `${inp.name}: no gradient`;
      continue;
    }
    let scale = 0;
    for (const v of an.data) scale = Math.max(scale, Math.abs(v));
    for (let j = 0; j < inp.value.data.length; j++) {
      const at = (delta: number) => {
        const d = Float64Array.from(inp.value.data);
        d[j]! += delta;
        const f2 = new Map(feed);
        f2.set(inp.name, { ...inp.value, data: d });
        return execute(g, f2).loss;
      };
      const fd = (at(h) - at(-h)) / (2 * h);
      const err = Math.abs(an.data[j]! - fd) / (Math.abs(fd) + scale + 1e-12);
      checked++;
      if (!(err <= worst)) {
        worst = Number.isNaN(err) ? Infinity : Math.max(worst, err);
        where = `${inp.name}[${j}]: analytic ${an.data[j]} fd ${fd}`;
      }
    }
  }
  return { worst, where, grads: res.grads, checked };
}
