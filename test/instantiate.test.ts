// The instantiate stage: termReads (reads-only evaluation), instantiateStage (graph building, trainability,
// diagnostics) and the torch low-level loss specs against independent float64 reference formulas
// (torch 1.13 semantics) for the features golden/ does not cover (class weights, label smoothing, probability
// targets, log_target, beta = 0, pos_weight, ...), gradients by central finite differences.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Diagnostic, Span } from '../src/diagnostics/diagnostic.js';
import { instantiateStage, termReads } from '../src/compiler/instantiate/index.js';
import { tensorName, type KwValue, type LossInstance, type StageIR, type TermIR, type WrapperInstance } from '../src/compiler/ir.js';
import { execute, hostTensor, type HostTensor } from '../src/cpu/executor.js';
import { getLowLevelLoss, registerMidLevelLoss, registerSpecFile, registryKeys, resetToBuiltins } from '../src/registry/registry.js';
import type { Literal } from '../grammar/ast.js';
import type { Shape } from '../src/graph/types.js';
import { dimToString } from '../src/graph/dims.js';
import { bindSymbols } from 'tdc-runtime';
import { GOLDEN_DIR, loadGoldenStage } from './helpers/golden-stage.js';

// ---- fixtures -----------------------------------------------------------------------------------------------

const cfgSpan = (line: number): Span => ({ file: 'config.yaml', start: { line, col: 1, offset: 0 }, end: { line, col: 10, offset: 9 } });

function crit(key: string, kwargs: Record<string, KwValue>, level: 'low' | 'mid' = 'low'): LossInstance {
  return { key, level, kwargs, kwargNodes: {}, span: cfgSpan(10) };
}
const simpleWrapper = (input: Record<string, KwValue>, target?: Record<string, KwValue>): WrapperInstance => ({
  key: 'SimpleLossWrapper',
  kwargs: target ? { input, target } : { input },
  kwargNodes: {},
  span: cfgSpan(11),
});
const sIn = (path = '.', io = 'output') => ({ is_from_teacher: false, module_path: path, io });
const tIn = (path = '.', io = 'output') => ({ is_from_teacher: true, module_path: path, io });

function term(name: string, weight: number, criterion: LossInstance, wrapper?: WrapperInstance, line = 20): TermIR {
  return { name, weight, criterion, ...(wrapper ? { wrapper } : {}), reads: [], span: cfgSpan(line) };
}

function stage(terms: TermIR[], o: Partial<StageIR> = {}): StageIR {
  return {
    name: 'train',
    schema: 'modern',
    box: 'distillation',
    hooks: { student: { input: [], output: [] }, teacher: { input: [], output: [] } },
    trainable: { student: true, teacher: false },
    criterionKey: 'WeightedSumLoss',
    terms,
    span: cfgSpan(1),
    ...o,
  };
}

let seed = 12345;
function rand(): number {
  seed = (seed * 1103515245 + 12345) % 2147483648;
  return seed / 2147483648;
}
const randn = () => Math.sqrt(-2 * Math.log(rand() + 1e-12)) * Math.cos(2 * Math.PI * rand());
const floats = (shape: number[], scale = 1, f = randn) => hostTensor(shape, 'float', Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => scale * f()));
const ints = (shape: number[], n: number, ignore?: { value: number; every: number }) =>
  hostTensor(
    shape,
    'int',
    Array.from({ length: shape.reduce((a, b) => a * b, 1) }, (_, i) => (ignore && i % ignore.every === 1 ? ignore.value : Math.floor(rand() * n))),
  );

function run(st: StageIR, inputs: Map<string, HostTensor>, opts: { modelLossKeys?: string[] } = {}) {
  const { graph, diagnostics } = instantiateStage(st, (n) => (inputs.has(n) ? { shape: inputs.get(n)!.shape, dtype: inputs.get(n)!.dtype } : undefined), opts);
  const errors = diagnostics.filter((d) => d.severity === 'error');
  if (!graph || errors.length) return { diagnostics, errors };
  return { graph, diagnostics, errors, result: execute(graph, inputs) };
}

function lossOf(st: StageIR, inputs: Map<string, HostTensor>): number {
  const r = run(st, inputs);
  assert.ok(r.result, r.errors.map((d) => d.message).join('\n'));
  return r.result!.loss;
}

/** Central differences of the loss w.r.t. a few elements of `name`, against the graph's gradient. */
function checkGrad(st: StageIR, inputs: Map<string, HostTensor>, name: string, samples = 6): void {
  const r = run(st, inputs);
  assert.ok(r.result, r.errors.map((d) => d.message).join('\n'));
  const g = r.result!.grads.get(name);
  assert.ok(g, `gradient for ${name}`);
  const x = inputs.get(name)!;
  let maxG = 0;
  for (const v of g!.data) maxG = Math.max(maxG, Math.abs(v));
  for (let k = 0; k < samples; k++) {
    const i = Math.floor(rand() * x.data.length);
    const h = 1e-6;
    const orig = x.data[i]!;
    x.data[i] = orig + h;
    const up = lossOf(st, inputs);
    x.data[i] = orig - h;
    const down = lossOf(st, inputs);
    x.data[i] = orig;
    const fd = (up - down) / (2 * h);
    assert.ok(Math.abs(fd - g!.data[i]!) <= 1e-6 * Math.max(1, maxG), `${name}[${i}]: autodiff ${g!.data[i]} vs finite difference ${fd}`);
  }
}

const close = (got: number, want: number, what: string, rtol = 1e-12) =>
  assert.ok(Math.abs(got - want) <= rtol * Math.max(1, Math.abs(want)), `${what}: got ${got}, expected ${want}`);

// ---- reference formulas (torch 1.13 semantics, written independently of the specs) -------------------------

function logSoftmaxRows(z: HostTensor): { logp: Float64Array; n: number; c: number; inner: number } {
  const [n, c] = z.shape as [number, number];
  const inner = z.shape.slice(2).reduce((a, b) => a * b, 1);
  const logp = new Float64Array(z.data.length);
  for (let b = 0; b < n; b++)
    for (let s = 0; s < inner; s++) {
      let m = -Infinity;
      for (let k = 0; k < c; k++) m = Math.max(m, z.data[(b * c + k) * inner + s]!);
      let sum = 0;
      for (let k = 0; k < c; k++) sum += Math.exp(z.data[(b * c + k) * inner + s]! - m);
      for (let k = 0; k < c; k++) logp[(b * c + k) * inner + s] = z.data[(b * c + k) * inner + s]! - m - Math.log(sum);
    }
  return { logp, n, c, inner };
}

function refCrossEntropy(z: HostTensor, y: HostTensor, o: { reduction: string; ignore?: number; weight?: number[]; ls?: number }): number | number[] {
  const { logp, n, c, inner } = logSoftmaxRows(z);
  const ii = o.ignore ?? -100;
  const eps = o.ls ?? 0;
  const w = (k: number) => (o.weight ? o.weight[k]! : 1);
  const per: number[] = [];
  let nll = 0;
  let smooth = 0;
  let wsum = 0;
  for (let b = 0; b < n; b++)
    for (let s = 0; s < inner; s++) {
      const t = y.data[b * inner + s]!;
      if (t === ii) {
        per.push(0);
        continue;
      }
      const l = -w(t) * logp[(b * c + t) * inner + s]!;
      let sm = 0;
      for (let k = 0; k < c; k++) sm -= w(k) * logp[(b * c + k) * inner + s]!;
      per.push((1 - eps) * l + (eps / c) * sm);
      nll += l;
      smooth += sm;
      wsum += w(t);
    }
  if (o.reduction === 'none') return per;
  if (o.reduction === 'sum') return (1 - eps) * nll + (eps / c) * smooth;
  return (1 - eps) * (nll / wsum) + (eps / c) * (smooth / wsum);
}

function refCrossEntropyProb(z: HostTensor, p: HostTensor, o: { reduction: string; weight?: number[]; ls?: number }): number {
  const { logp, n, c, inner } = logSoftmaxRows(z);
  const eps = o.ls ?? 0;
  let total = 0;
  for (let b = 0; b < n; b++)
    for (let k = 0; k < c; k++)
      for (let s = 0; s < inner; s++) {
        const i = (b * c + k) * inner + s;
        const t = p.data[i]! * (1 - eps) + eps / c;
        total -= (o.weight ? o.weight[k]! : 1) * t * logp[i]!;
      }
  return o.reduction === 'sum' ? total : total / (n * inner);
}

const reduceRef = (xs: number[], reduction: string, batch?: number) =>
  reduction === 'sum' ? xs.reduce((a, b) => a + b, 0) : reduction === 'batchmean' ? xs.reduce((a, b) => a + b, 0) / batch! : xs.reduce((a, b) => a + b, 0) / xs.length;

// ---- termReads ------------------------------------------------------------------------------------------------

test('termReads: KD reads student and teacher logits, then targets (only when alpha is used)', () => {
  const kd = (alpha: KwValue) =>
    termReads({
      criterion: crit(
        'KDLoss',
        { student_module_path: '.', student_module_io: 'output', teacher_module_path: 'fc', teacher_module_io: 'input', temperature: 4, alpha, beta: 0.5, reduction: 'batchmean' },
        'mid',
      ),
    });
  const used = kd(0.5);
  assert.equal(used.diagnostics, []);
  assert.equal(used.reads.map(tensorName), ['student/./output', 'teacher/fc/input', 'targets']);
  assert.equal(kd(null).reads.map(tensorName), ['student/./output', 'teacher/fc/input']);
});

test('termReads: wrappers read their input and target; DictLossWrapper reads each dict entry', () => {
  const ce = termReads({ criterion: crit('CrossEntropyLoss', {}), wrapper: simpleWrapper(sIn(), { uses_label: true }) });
  assert.equal(ce.reads.map(tensorName), ['student/./output', 'targets']);
  const mse = termReads({ criterion: crit('MSELoss', {}), wrapper: simpleWrapper(sIn('layer3'), { is_from_teacher: true, module_path: 'layer3', io: 'output' }) });
  assert.equal(mse.reads.map(tensorName), ['student/layer3/output', 'teacher/layer3/output']);
  const dict = termReads({
    criterion: crit('CrossEntropyLoss', { ignore_index: 255 }),
    wrapper: { key: 'DictLossWrapper', kwargs: { input: sIn(), weights: { out: 1.0, aux: 0.5 } }, kwargNodes: {}, span: cfgSpan(3) },
  });
  assert.equal(dict.diagnostics, []);
  assert.equal(dict.reads.map(tensorName), ['student/./output/out', 'targets', 'student/./output/aux']);
});

test('termReads: a shape-dependent branch contributes the reads of both sides; its errors are not reported', () => {
  const spec = `mid ShapeBranch(p: path) {
  let x = student[p]["output"]
  if x.shape[1] > 3 {
    return sum(teacher[p]["output"])
  }
  error("never at read time")
  return sum(x)
}`;
  assert.equal(registerMidLevelLoss(spec).map((d) => `${d.severity} ${d.code}`), ['warning TDC321'], 'the static check: the return after error(...) never runs');
  const r = termReads({ criterion: crit('ShapeBranch', { p: 'fc' }, 'mid') });
  assert.equal(r.diagnostics, []);
  assert.equal(r.reads.map(tensorName), ['student/fc/output', 'teacher/fc/output']);
  resetToBuiltins();
});

test('termReads: a kwarg-only error is reported at read time (KD with alpha and beta both none)', () => {
  const r = termReads({
    criterion: crit('KDLoss', { student_module_path: '.', student_module_io: 'output', teacher_module_path: '.', teacher_module_io: 'output', temperature: 1 }, 'mid'),
  });
  assert.is(r.diagnostics.length, 1);
  assert.is(r.diagnostics[0]!.code, 'TDC406');
  assert.match(r.diagnostics[0]!.message, /alpha and beta/);
  // the user's config is the primary position (the loss's key, line 10), tdc's own spec line a related note
  assert.is(r.diagnostics[0]!.span!.file, 'config.yaml');
  assert.is(r.diagnostics[0]!.span!.start.line, 10);
  assert.ok(r.diagnostics[0]!.related?.[0]?.span?.file.endsWith('KDLoss.tdl'), JSON.stringify(r.diagnostics[0]!.related));
  assert.match(r.diagnostics[0]!.related![0]!.message, /built-in spec of KDLoss/);
});

test('termReads of every golden case: exactly the tensors the oracle synthesised', async () => {
  const index = JSON.parse(readFileSync(join(GOLDEN_DIR, 'index.json'), 'utf8')) as { cases: { case: string }[] };
  const bad: string[] = [];
  for (const c of index.cases) {
    const dir = join(GOLDEN_DIR, c.case);
    const exp = JSON.parse(readFileSync(join(dir, 'expected.json'), 'utf8')) as {
      stage: string;
      inputs: string[];
      io_entries: { type: string; names: string[] }[];
    };
    const { stage: st } = loadGoldenStage(dir, exp.stage);
    if (!st) {
      bad.push(`${c.case}: no stage`);
      continue;
    }
    const reads = new Set<string>();
    for (const t of st.terms) {
      const r = termReads(t);
      if (r.diagnostics.some((d) => d.severity === 'error')) bad.push(`${c.case}/${t.name}: ${r.diagnostics.map((d) => d.message).join('; ')}`);
      for (const x of r.reads) reads.add(tensorName(x));
    }
    const want = exp.inputs.filter((n) => !n.startsWith('model_loss/') && !n.startsWith('state_in/'));
    // a tensor entry must be read; of a tuple/dict (all elements synthesised) at least one element
    const missing = exp.io_entries.filter((e) => !e.names.some((n) => reads.has(n))).map((e) => e.names.join('|'));
    for (const e of exp.io_entries) if (e.type === 'tensor' && !reads.has(e.names[0]!)) missing.push(e.names[0]!);
    const extra = [...reads].filter((n) => !want.includes(n));
    if (missing.length || extra.length) bad.push(`${c.case}: missing ${missing.join(', ')}; extra ${extra.join(', ')}`);
  }
  assert.equal(bad, []);
});

// ---- instantiateStage: structure, trainability, model term ----------------------------------------------------

const kdKw = { student_module_path: '.', student_module_io: 'output', teacher_module_path: '.', teacher_module_io: 'output', temperature: 4, alpha: 0.5 };

test('a frozen teacher gets no gradient; a trainable one does; targets never', () => {
  const inputs = new Map([
    ['student/./output', floats([5, 7])],
    ['teacher/./output', floats([5, 7])],
    ['targets', ints([5], 7)],
  ]);
  const frozen = run(stage([term('kd', 1, crit('KDLoss', kdKw, 'mid'))]), inputs);
  assert.equal([...frozen.result!.grads.keys()], ['student/./output']);
  assert.equal(frozen.graph!.inputs.map((i) => [i.name, i.trainable]), [
    ['student/./output', true],
    ['teacher/./output', false],
    ['targets', false],
  ]);
  const both = run(stage([term('kd', 1, crit('KDLoss', kdKw, 'mid'))], { trainable: { student: true, teacher: true } }), inputs);
  assert.equal([...both.result!.grads.keys()].sort(), ['student/./output', 'teacher/./output']);
  checkGrad(stage([term('kd', 1, crit('KDLoss', kdKw, 'mid'))], { trainable: { student: true, teacher: true } }), inputs, 'teacher/./output');
});

test('terms are recorded unweighted; the loss is their weighted sum; model_term number and dict weights', () => {
  const inputs = new Map([
    ['student/./output', floats([4, 5])],
    ['teacher/./output', floats([4, 5])],
    ['targets', ints([4], 5)],
    ['model_loss/a', hostTensor([], 'float', [0.7])],
    ['model_loss/b', hostTensor([], 'float', [1.9])],
  ]);
  const terms = [term('ce', 0.3, crit('CrossEntropyLoss', {}), simpleWrapper(sIn())), term('kd', 2, crit('KDLoss', kdKw, 'mid'))];
  const base = run(stage(terms), inputs);
  const { ce, kd } = base.result!.terms as { ce: number; kd: number };
  close(base.result!.loss, 0.3 * ce + 2 * kd, 'weighted sum');
  assert.equal(base.graph!.terms.map((t) => [t.name, t.weight]), [
    ['ce', 0.3],
    ['kd', 2],
  ]);
  const num = run(stage(terms, { modelTerm: { weight: 0.5, func2extract: 'extract_model_loss_dict', span: cfgSpan(5) } }), inputs, { modelLossKeys: ['a', 'b'] });
  close(num.result!.loss, 0.3 * ce + 2 * kd + 0.5 * (0.7 + 1.9), 'number model term');
  assert.equal(num.graph!.modelTerm?.weight, 0.5);
  assert.equal([...num.result!.grads.keys()].sort(), ['model_loss/a', 'model_loss/b', 'student/./output']);
  const dict = run(stage(terms, { modelTerm: { weight: { a: 2, b: 3, unused: 9 }, func2extract: 'extract_model_loss_dict', span: cfgSpan(5) } }), inputs, {
    modelLossKeys: ['a', 'b'],
  });
  close(dict.result!.loss, 0.3 * ce + 2 * kd + 2 * 0.7 + 3 * 1.9, 'dict model term');
  const zero = run(stage(terms, { modelTerm: { weight: 0, func2extract: 'extract_model_loss_dict', span: cfgSpan(5) } }), inputs, { modelLossKeys: ['a', 'b'] });
  close(zero.result!.loss, base.result!.loss, 'weight 0 drops the model term');
  const missing = run(stage(terms, { modelTerm: { weight: { a: 2 }, func2extract: 'extract_model_loss_dict', span: cfgSpan(5) } }), inputs, { modelLossKeys: ['a', 'b'] });
  assert.is(missing.errors[0]?.code, 'TDC412');
  const hf = run(stage([], { box: 'training', modelTerm: { weight: 1, func2extract: 'extract_transformers_loss', span: cfgSpan(5) } }), new Map([['model_loss/loss', hostTensor([], 'float', [0.25])]]));
  close(hf.result!.loss, 0.25, 'extract_transformers_loss reads model_loss/loss');
});

test('symbolic shapes: KD + CE instantiate once and run on concrete inputs', () => {
  const N = { sym: 'N' };
  const Cd = { sym: 'C' };
  const st = stage([term('ce', 0.5, crit('CrossEntropyLoss', { label_smoothing: 0.1 }), simpleWrapper(sIn())), term('kd', 0.5, crit('LogitStdKDLoss', { ...kdKw, beta: 9 }, 'mid'))]);
  const shapes: Record<string, { shape: (number | { sym: string })[]; dtype: 'float' | 'int' }> = {
    'student/./output': { shape: [N, Cd], dtype: 'float' },
    'teacher/./output': { shape: [N, Cd], dtype: 'float' },
    targets: { shape: [N], dtype: 'int' },
  };
  const sym = instantiateStage(st, (n) => shapes[n]);
  assert.equal(sym.diagnostics.filter((d) => d.severity === 'error'), []);
  const inputs = new Map([
    ['student/./output', floats([6, 9], 3)],
    ['teacher/./output', floats([6, 9], 3)],
    ['targets', ints([6], 9)],
  ]);
  close(execute(sym.graph!, inputs).loss, lossOf(st, inputs), 'symbolic vs concrete', 1e-13);
});

test('a dim equality a shape rule cannot decide is recorded for the run-time check; a decidable one is a compile error', () => {
  const N = { sym: 'N' };
  const body = (e: string) => `mid Assume(p: path) {\n  let s = student[p]["output"]\n  let t = teacher[p]["output"]\n  return ${e}\n}`;
  const cases: { what: string; crit: LossInstance; wrapper?: WrapperInstance; shapes: Record<string, Shape>; pair: string[]; good: Record<string, number[]>; bad: Record<string, number[]> }[] = [
    { what: 'matmul inner dims', crit: crit('Assume', { p: '.' }, 'mid'), shapes: { s: [N, 6], t: [N, 6] }, pair: ['6', 'N'], good: { s: [6, 6], t: [6, 6] }, bad: { s: [4, 6], t: [4, 6] } },
    { what: "reshape's element count", crit: crit('Assume', { p: '.' }, 'mid'), shapes: { s: [N, 6], t: [N, 6] }, pair: ['25', '6*N'], good: {}, bad: { s: [4, 6], t: [4, 6] } },
    { what: "nll_loss's assert_shape (targets of the logits' batch)", crit: crit('CrossEntropyLoss', {}), wrapper: simpleWrapper(sIn()), shapes: { s: [4, 5], y: [N] }, pair: ['4', 'N'], good: { s: [4, 5], y: [4] }, bad: { s: [4, 5], y: [6] } },
  ];
  const exprs = ['sum(matmul(s, t))', 'sum(reshape(s, [5, 5]))', ''];
  const names: Record<string, string> = { s: 'student/./output', t: 'teacher/./output', y: 'targets' };
  cases.forEach((c, k) => {
    if (exprs[k]) assert.equal(registerMidLevelLoss(body(exprs[k]!)), []);
    const st = stage([term('x', 1, c.crit, c.wrapper)]);
    const info = (shapes: Record<string, Shape>) => (n: string) => {
      const key = Object.keys(names).find((x) => names[x] === n && shapes[x]);
      return key ? { shape: shapes[key]!, dtype: key === 'y' ? ('int' as const) : ('float' as const) } : undefined;
    };
    const sym = instantiateStage(st, info(c.shapes));
    assert.equal(sym.diagnostics.filter((d) => d.severity === 'error'), [], c.what);
    const pairs = (sym.graph!.equalDims ?? []).map((p) => p.map(dimToString).sort());
    assert.ok(pairs.some((p) => p.join() === [...c.pair].sort().join()), `${c.what}: ${JSON.stringify(pairs)} records ${c.pair.join(' = ')}`);
    // the runtime's check (tdc-runtime bindSymbols: executor, glue, interpreter) over the recorded pairs
    const check = (shapes: Record<string, number[]>) => {
      const inputs = sym.graph!.inputs.map((i) => ({ name: i.name, shape: sym.graph!.nodes[i.node]!.shape }));
      const actual = new Map(Object.entries(shapes).map(([x, v]) => [names[x]!, v]));
      return bindSymbols(inputs as never, actual, ['N'], sym.graph!.equalDims).problems;
    };
    if (Object.keys(c.good).length) assert.equal(check(c.good), [], `${c.what}: fitting inputs pass`);
    const bad = check(c.bad);
    assert.ok(bad.length === 1 && /do not match: the plan assumes/.test(bad[0]!), `${c.what}: ${bad.join('; ')}`);
    // the same shapes known at compile time: the shape rule decides, an error as before
    const conc = instantiateStage(st, info(Object.fromEntries(Object.entries(c.bad).map(([x, v]) => [x, v as Shape]))));
    assert.ok(conc.diagnostics.some((d) => d.severity === 'error' && d.code === 'TDC403'), `${c.what}: ${conc.diagnostics.map((d) => d.message).join('; ')}`);
  });
  resetToBuiltins();
});

test("the runtime's message for sizes the default [N, C] ties: pin them when the loss lets them differ, check the tensors when it compares them", () => {
  // KD's student and teacher logits both default to [N, C]: a teacher with 12 classes against a 10-class student is
  // a wrong tensor, not a missing --shape (pinning it NxD only moves the error to the C = D run-time check)
  const inputs = [
    { name: 'student/./output', shape: [{ sym: 'N' }, { sym: 'C' }] },
    { name: 'teacher/./output', shape: [{ sym: 'N' }, { sym: 'C' }] },
  ];
  const { problems } = bindSymbols(inputs as never, new Map([['student/./output', [8, 10]], ['teacher/./output', [8, 12]]]), ['N', 'C']);
  assert.is(problems.length, 1, problems.join('; '));
  assert.match(problems[0]!, /'teacher\/\.\/output' dim 1 is 12, but C = 10 \(from 'student\/\.\/output' dim 1\)/);
  assert.match(problems[0]!, /If the loss lets the two differ \(feature maps, embeddings\), pin this one with its own letters, --shape 'teacher\/\.\/output=NxD…', or compile with --like/);
  assert.match(problems[0]!, /if it compares them element-wise \(e\.g\. KDLoss's student and teacher logits\), they must have the same size/);
});

// ---- diagnostics ----------------------------------------------------------------------------------------------

function only(ds: Diagnostic[], code: string): Diagnostic {
  const errs = ds.filter((d) => d.severity === 'error');
  assert.is(errs.length, 1, errs.map((d) => `${d.code} ${d.message}`).join('\n'));
  assert.is(errs[0]!.code, code, errs[0]!.message);
  return errs[0]!;
}

test('a shape mismatch names both tensors, points at the config (the loss key) and relates the built-in spec line and the config term', () => {
  const inputs = new Map([
    ['student/./output', floats([4, 5])],
    ['teacher/./output', floats([4, 6])],
    ['targets', ints([4], 5)],
  ]);
  const d = only(run(stage([term('kd', 1, crit('KDLoss', kdKw, 'mid'), undefined, 42)]), inputs).diagnostics, 'TDC403');
  assert.match(d.message, /\[4, 5\]/);
  assert.match(d.message, /\[4, 6\]/);
  assert.match(d.message, /student\/\.\/output/);
  assert.match(d.message, /teacher\/\.\/output/);
  assert.is(d.span!.file, 'config.yaml');
  assert.is(d.span!.start.line, 10, 'the KDLoss key of the term');
  assert.ok(d.related![0]!.span!.file.endsWith('KDLoss.tdl'), JSON.stringify(d.related));
  assert.match(d.related![0]!.message, /built-in spec of KDLoss/);
  assert.ok(d.related!.some((r) => r.span?.file.endsWith('prelude.tdl')), 'the helper line inside kl_div is related');
  assert.ok(d.related!.some((r) => r.span?.file === 'config.yaml' && r.span.start.line === 42), 'config term related');
});

test('an error inside a user --spec stays at the user spec line (only tdc\'s own specs are moved to the config)', () => {
  const file = join(mkdtempSync(join(tmpdir(), 'tdc-inst-')), 'mine.tdl');
  writeFileSync(file, 'mid MineLoss(alpha: float = 1.0) {\n  error("MineLoss: always fails")\n}\n');
  assert.equal(registerSpecFile(file).filter((x) => x.severity === 'error'), []);
  try {
    const d = only(run(stage([term('m', 1, crit('MineLoss', {}, 'mid'))]), new Map()).diagnostics, 'TDC406');
    assert.is(d.span!.file, file);
    assert.is(d.span!.start.line, 2);
    assert.ok(d.related!.some((r) => r.span?.file === 'config.yaml' && r.span.start.line === 10), 'called from the config key');
  } finally {
    resetToBuiltins();
  }
});

test('a missing input names the tensor; a wrong rank is reported with the expected layout', () => {
  const noTeacher = run(stage([term('kd', 1, crit('KDLoss', kdKw, 'mid'))]), new Map([['student/./output', floats([4, 5])], ['targets', ints([4], 5)]]));
  assert.match(only(noTeacher.diagnostics, 'TDC401').message, /teacher\/\.\/output/);
  const badTargets = run(stage([term('ce', 1, crit('CrossEntropyLoss', {}), simpleWrapper(sIn()))]), new Map([['student/./output', floats([4, 5])], ['targets', ints([4, 2], 5)]]));
  const d = only(badTargets.diagnostics, 'TDC406');
  assert.match(d.message, /targets/);
  assert.match(d.message, /\[4, 2\]/);
});

test('unknown functions get a did-you-mean; a tensor condition is rejected; non-scalar terms are rejected', () => {
  const inputs = new Map([['student/fc/output', floats([3, 4])]]);
  assert.equal(registerMidLevelLoss(`mid Typo(p: path) {\n  return sum(expp(student[p]["output"]))\n}`), []);
  const typo = only(run(stage([term('t', 1, crit('Typo', { p: 'fc' }, 'mid'))]), inputs).diagnostics, 'TDC404');
  assert.match(typo.message, /expp/);
  assert.is(typo.hint, "did you mean 'exp'?");
  assert.is(typo.span!.start.line, 2);
  assert.equal(registerMidLevelLoss(`mid TensorIf(p: path) {\n  let x = student[p]["output"]\n  if sum(x) > 0 { return sum(x) }\n  return -sum(x)\n}`), []);
  only(run(stage([term('t', 1, crit('TensorIf', { p: 'fc' }, 'mid'))]), inputs).diagnostics, 'TDC405');
  resetToBuiltins();
  const none = run(stage([term('m', 1, crit('MSELoss', { reduction: 'none' }), simpleWrapper(sIn('fc'), tIn('fc')))]), new Map([...inputs, ['teacher/fc/output', floats([3, 4])]]));
  only(none.diagnostics, 'TDC411');
  only(run(stage([term('m', 1, crit('MSELoss', {}))]), inputs).diagnostics, 'TDC410');
});

test("SoftMarginLoss: a target that requires grad is TDC406 with torch's refusal; labels and a frozen teacher's output are not", () => {
  // torch 1.13: nn.SoftMarginLoss()(x, y.requires_grad_()) raises "The function 'soft_margin_loss' is not
  // differentiable with respect to argument 'target'" (no other float-target loss refuses)
  const x = floats([3, 4]);
  const pm = hostTensor([3, 4], 'float', Array.from({ length: 12 }, (_, i) => (i % 3 ? 1 : -1)));
  const fromSide = (target: Record<string, KwValue>, trainable = { student: true, teacher: false }) =>
    run(stage([term('t', 1, crit('SoftMarginLoss', {}), simpleWrapper(sIn(), target))], { trainable }), new Map([['student/./output', x], ['student/y/output', pm], ['teacher/./output', pm]]));
  for (const r of [fromSide(sIn('y')), fromSide(tIn(), { student: true, teacher: true })]) {
    const d = only(r.diagnostics, 'TDC406');
    assert.match(d.message, /SoftMarginLoss: the target requires grad .*not differentiable with respect to argument 'target'/);
    assert.match(d.message, /'(student\/y|teacher\/\.)\/output' \[3, 4\]/);
  }
  assert.equal(fromSide(tIn()).errors, []);
  assert.equal(fromSide(sIn('y'), { student: false, teacher: false }).errors, []);
  assert.equal(run(stage([term('t', 1, crit('SoftMarginLoss', {}), simpleWrapper(sIn()))]), new Map([['student/./output', x], ['targets', pm]])).errors, []);
});

test('TDC411 (a term that is no loss): at the return of a custom spec, the config term related; a built-in\'s at the config term, once', () => {
  const inputs = new Map([
    ['student/fc/output', floats([3, 4])],
    ['teacher/fc/output', floats([3, 4])],
  ]);
  for (const [ret, message] of [
    ['[1.0, 2.0]', "sub-term 't' (Ret) returned a list, not a loss"],
    ['"x"', "sub-term 't' (Ret) returned a string, not a loss"],
    ['none', "sub-term 't' (Ret) returned none"],
    ['x', "sub-term 't' (Ret) returns a tensor of shape [3, 4], but a loss term must be a scalar"],
  ] as const) {
    // the return is on line 4; a helper's return (line 1) runs before it and must not be taken for it
    assert.equal(registerMidLevelLoss(`def id(v) { return v }\nmid Ret(p: path) {\n  let x = id(student[p]["output"])\n  return ${ret}\n}`), []);
    const d = only(run(stage([term('t', 1, crit('Ret', { p: 'fc' }, 'mid'))]), inputs).diagnostics, 'TDC411');
    assert.is(d.message, message);
    assert.equal([d.span!.start.line, d.span!.start.col], [4, 3], ret);
    assert.equal(d.related?.map((r) => r.span?.start.line), [20], 'the config term, related');
  }
  assert.equal(registerMidLevelLoss('def id(v) { return v }\nmid Ret(p: path) {\n  let x = id(student[p]["output"])\n}').map((d) => `${d.severity} ${d.code}`), ['warning TDC314'], 'the static check: no return');
  const fellOff = only(run(stage([term('t', 1, crit('Ret', { p: 'fc' }, 'mid'))]), inputs).diagnostics, 'TDC411');
  assert.is(fellOff.span!.start.line, 20, "no return: the config term (not the helper's return)");
  resetToBuiltins();
  const none = only(run(stage([term('m', 1, crit('MSELoss', { reduction: 'none' }), simpleWrapper(sIn('fc'), tIn('fc')))]), inputs).diagnostics, 'TDC411');
  assert.is(none.span!.start.line, 20);
  assert.equal(none.related ?? [], [], 'the config term is not repeated as related');
  assert.match(none.hint!, /reduction 'none'/);
});

test("a struct default gets its fields' defaults (p: P = {} with a: int = 3 reads p.a as 3; it was none)", () => {
  const x = floats([3, 4]);
  assert.equal(registerMidLevelLoss('struct Q { b: float = 0.5 }\nstruct P { a: int = 3, q: Q = {} }\nmid Dflt(p: P = {}) {\n  return p.a * p.q.b * sum(student["fc"]["output"])\n}'), []);
  const total = Array.from(x.data as Float64Array).reduce((a, b) => a + b, 0);
  const loss = lossOf(stage([term('t', 1, crit('Dflt', {}, 'mid'))]), new Map([['student/fc/output', x]]));
  assert.ok(Math.abs(loss - 1.5 * total) < 1e-12, `${loss} vs ${1.5 * total}`);
  resetToBuiltins();
});

test("error(none): the message says so (it read Python's 'None')", () => {
  assert.equal(registerMidLevelLoss('mid Err(msg: str? = none) {\n  error(msg)\n}'), []);
  const d = only(run(stage([term('t', 1, crit('Err', {}, 'mid'))]), new Map()).diagnostics, 'TDC406');
  assert.is(d.message, 'error(...) was called with none as its message');
  resetToBuiltins();
});

// ---- torch low-level losses vs reference formulas -------------------------------------------------------------

function lowStage(key: string, kwargs: Record<string, KwValue>, target: 'labels' | 'teacher' = 'labels'): StageIR {
  return stage([term('t', 1, crit(key, kwargs), simpleWrapper(sIn(), target === 'labels' ? undefined : tIn()))]);
}

test('CrossEntropyLoss: weights × ignore_index × label_smoothing × reductions, (N,C) and (N,C,H,W)', () => {
  const weight = [0.5, 1.5, 1, 2, 0.25];
  for (const spatial of [false, true]) {
    const z = floats(spatial ? [3, 5, 2, 3] : [7, 5], 2);
    const y = ints(spatial ? [3, 2, 3] : [7], 5, { value: 3, every: 4 });
    const inputs = new Map([
      ['student/./output', z],
      ['targets', y],
    ]);
    for (const w of [undefined, weight])
      for (const ls of [0, 0.2])
        for (const reduction of ['mean', 'sum'])
          for (const ignore of [-100, 3]) {
            const kw: Record<string, KwValue> = { reduction, ignore_index: ignore, label_smoothing: ls, ...(w ? { weight: w } : {}) };
            const want = refCrossEntropy(z, y, { reduction, ignore, ls, ...(w ? { weight: w } : {}) }) as number;
            close(lossOf(lowStage('CrossEntropyLoss', kw), inputs), want, `CE ${spatial ? 'NCHW' : 'NC'} ${JSON.stringify(kw)}`);
          }
    checkGrad(lowStage('CrossEntropyLoss', { weight, ignore_index: 3, label_smoothing: 0.2 }), inputs, 'student/./output');
  }
});

test("CrossEntropyLoss reduction 'none' (through a custom spec) and probability targets", () => {
  const z = floats([6, 4], 2);
  const y = ints([6], 4, { value: 1, every: 3 });
  assert.equal(
    registerMidLevelLoss(`mid CENone(ls: float) {
  let ce = low_loss("CrossEntropyLoss", none, reduction="none", weight=[1.0, 2.0, 0.5, 1.5], ignore_index=1, label_smoothing=ls)
  let per = ce(student["."]["output"], targets)
  return sum(per * (float(arange(6)) + 1))
}`),
    [],
  );
  const inputs = new Map([
    ['student/./output', z],
    ['targets', y],
  ]);
  for (const ls of [0, 0.3]) {
    const per = refCrossEntropy(z, y, { reduction: 'none', ignore: 1, ls, weight: [1, 2, 0.5, 1.5] }) as number[];
    close(lossOf(stage([term('t', 1, crit('CENone', { ls }, 'mid'))]), inputs), per.reduce((a, v, i) => a + v * (i + 1), 0), `CE none ls=${ls}`);
  }
  resetToBuiltins();
  const p = floats([6, 4], 1, rand);
  const pin = new Map([
    ['student/./output', z],
    ['teacher/./output', p],
  ]);
  for (const reduction of ['mean', 'sum'])
    for (const ls of [0, 0.1])
      for (const w of [undefined, [1, 2, 0.5, 1.5]]) {
        const kw: Record<string, KwValue> = { reduction, label_smoothing: ls, ...(w ? { weight: w } : {}) };
        close(lossOf(lowStage('CrossEntropyLoss', kw, 'teacher'), pin), refCrossEntropyProb(z, p, { reduction, ls, ...(w ? { weight: w } : {}) }), `CE prob ${JSON.stringify(kw)}`);
      }
});

test('KLDivLoss: every reduction, with and without log_target', () => {
  const x = floats([4, 6]);
  const t = floats([4, 6], 1, rand);
  checkGrad(
    stage([term('t', 1, crit('KLDivLoss', { reduction: 'batchmean' }), simpleWrapper(sIn(), tIn()))], { trainable: { student: true, teacher: true } }),
    new Map([
      ['student/./output', x],
      ['teacher/./output', t],
    ]),
    'teacher/./output',
  );
  t.data[3] = 0; // a zero target contributes 0
  const inputs = new Map([
    ['student/./output', x],
    ['teacher/./output', t],
  ]);
  for (const logTarget of [false, true])
    for (const reduction of ['mean', 'sum', 'batchmean']) {
      const pts = Array.from(x.data, (xi, i) => {
        const ti = t.data[i]!;
        return logTarget ? Math.exp(ti) * (ti - xi) : ti === 0 ? 0 : ti * (Math.log(ti) - xi);
      });
      close(lossOf(lowStage('KLDivLoss', { reduction, log_target: logTarget }, 'teacher'), inputs), reduceRef(pts, reduction, 4), `KLDiv ${reduction} log_target=${logTarget}`);
    }
  checkGrad(lowStage('KLDivLoss', { reduction: 'batchmean' }, 'teacher'), inputs, 'student/./output');
});

test('MSE, L1, SmoothL1 (beta incl. 0), Huber (delta): reductions and gradients', () => {
  const a = floats([3, 4, 2], 1.5);
  const b = floats([3, 4, 2]);
  const inputs = new Map([
    ['student/./output', a],
    ['teacher/./output', b],
  ]);
  const d = Array.from(a.data, (v, i) => v - b.data[i]!);
  const cases: [string, Record<string, KwValue>, (x: number) => number][] = [
    ['MSELoss', {}, (x) => x * x],
    ['L1Loss', {}, Math.abs],
    ['SmoothL1Loss', {}, (x) => (Math.abs(x) < 1 ? 0.5 * x * x : Math.abs(x) - 0.5)],
    ['SmoothL1Loss', { beta: 0.4 }, (x) => (Math.abs(x) < 0.4 ? (0.5 * x * x) / 0.4 : Math.abs(x) - 0.2)],
    ['SmoothL1Loss', { beta: 0 }, Math.abs],
    ['HuberLoss', { delta: 0.7 }, (x) => (Math.abs(x) < 0.7 ? 0.5 * x * x : 0.7 * (Math.abs(x) - 0.35))],
  ];
  for (const [key, kw, f] of cases)
    for (const reduction of ['mean', 'sum']) {
      close(lossOf(lowStage(key, { ...kw, reduction }, 'teacher'), inputs), reduceRef(d.map(f), reduction), `${key} ${JSON.stringify(kw)} ${reduction}`);
      checkGrad(lowStage(key, { ...kw, reduction }, 'teacher'), inputs, 'student/./output', 3);
    }
  // the legacy size_average/reduce arguments override reduction
  close(lossOf(lowStage('MSELoss', { size_average: false }, 'teacher'), inputs), reduceRef(d.map((x) => x * x), 'sum'), 'size_average=False sums');
});

test('BCEWithLogitsLoss (weight, pos_weight), BCELoss, NLLLoss, CosineEmbeddingLoss', () => {
  const x = floats([5, 3], 2);
  const t = floats([5, 3], 1, rand);
  const inputs = new Map([
    ['student/./output', x],
    ['teacher/./output', t],
  ]);
  const w = [0.5, 1, 2];
  const pw = [3, 0.5, 1];
  const sp = (v: number) => Math.log1p(Math.exp(-Math.abs(v))) + Math.max(-v, 0); // softplus(-v)
  for (const [kw, f] of [
    [{}, (v: number, y: number) => (1 - y) * v + sp(v)],
    [{ weight: w, pos_weight: pw }, (v: number, y: number, k: number) => w[k]! * ((1 - y) * v + (1 + (pw[k]! - 1) * y) * sp(v))],
  ] as [Record<string, KwValue>, (v: number, y: number, k: number) => number][]) {
    const pts = Array.from(x.data, (v, i) => f(v, t.data[i]!, i % 3));
    close(lossOf(lowStage('BCEWithLogitsLoss', kw, 'teacher'), inputs), reduceRef(pts, 'mean'), `BCEWithLogits ${JSON.stringify(kw)}`);
    checkGrad(lowStage('BCEWithLogitsLoss', kw, 'teacher'), inputs, 'student/./output', 3);
  }
  const prob = floats([5, 3], 1, () => 0.05 + 0.9 * rand());
  const bin = new Map([
    ['student/./output', prob],
    ['teacher/./output', t],
  ]);
  const bce = Array.from(prob.data, (v, i) => -w[i % 3]! * (t.data[i]! * Math.log(v) + (1 - t.data[i]!) * Math.log(1 - v)));
  close(lossOf(lowStage('BCELoss', { weight: w, reduction: 'sum' }, 'teacher'), bin), reduceRef(bce, 'sum'), 'BCELoss');
  const logp = floats([6, 4]);
  const y = ints([6], 4, { value: 2, every: 3 });
  const nllIn = new Map([
    ['student/./output', logp],
    ['targets', y],
  ]);
  const nw = [1, 0.5, 2, 3];
  let num = 0;
  let den = 0;
  for (let i = 0; i < 6; i++) {
    const k = y.data[i]!;
    if (k === 2) continue;
    num -= nw[k]! * logp.data[i * 4 + k]!;
    den += nw[k]!;
  }
  close(lossOf(lowStage('NLLLoss', { weight: nw, ignore_index: 2 }), nllIn), num / den, 'NLLLoss');
  assert.equal(
    registerMidLevelLoss(`mid Cos(margin: float) {
  let f = low_loss("CosineEmbeddingLoss", none, margin=margin)
  return f(student["a"]["output"], student["b"]["output"], targets)
}`),
    [],
  );
  const a = floats([5, 4]);
  const b = floats([5, 4]);
  const s = hostTensor([5], 'int', [1, -1, 1, -1, -1]);
  const cos = Array.from({ length: 5 }, (_, i) => {
    let ab = 0;
    let aa = 1e-12;
    let bb = 1e-12;
    for (let k = 0; k < 4; k++) {
      ab += a.data[i * 4 + k]! * b.data[i * 4 + k]!;
      aa += a.data[i * 4 + k]! ** 2;
      bb += b.data[i * 4 + k]! ** 2;
    }
    const c = ab / Math.sqrt(aa * bb);
    return s.data[i] === 1 ? 1 - c : Math.max(0, c - 0.1);
  });
  close(
    lossOf(stage([term('t', 1, crit('Cos', { margin: 0.1 }, 'mid'))]), new Map([['student/a/output', a], ['student/b/output', b], ['targets', s]])),
    reduceRef(cos, 'mean'),
    'CosineEmbeddingLoss',
  );
  resetToBuiltins();
});

test('the other implemented torch losses against their formulas', () => {
  const x = floats([4, 5], 1.5);
  const pm = hostTensor([4, 5], 'float', Array.from({ length: 20 }, () => (rand() < 0.5 ? -1 : 1)));
  const inPM = new Map([
    ['student/./output', x],
    ['teacher/./output', pm],
  ]);
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  close(lossOf(lowStage('SoftMarginLoss', {}, 'teacher'), inPM), mean(Array.from(x.data, (v, i) => Math.log1p(Math.exp(-v * pm.data[i]!)))), 'SoftMarginLoss');
  close(
    lossOf(lowStage('HingeEmbeddingLoss', { margin: 0.8 }, 'teacher'), inPM),
    mean(Array.from(x.data, (v, i) => (pm.data[i] === 1 ? v : Math.max(0, 0.8 - v)))),
    'HingeEmbeddingLoss',
  );
  const y01 = floats([4, 5], 1, () => (rand() < 0.5 ? 0 : 1));
  const w = [1, 2, 0.5, 1, 3];
  const ls = (v: number) => -Math.log1p(Math.exp(-v));
  const mlsm = Array.from({ length: 4 }, (_, b) => {
    let t = 0;
    for (let k = 0; k < 5; k++) t -= w[k]! * (y01.data[b * 5 + k]! * ls(x.data[b * 5 + k]!) + (1 - y01.data[b * 5 + k]!) * ls(-x.data[b * 5 + k]!));
    return t / 5;
  });
  close(lossOf(lowStage('MultiLabelSoftMarginLoss', { weight: w }, 'teacher'), new Map([['student/./output', x], ['teacher/./output', y01]])), mean(mlsm), 'MultiLabelSoftMarginLoss');
  const cls = ints([4], 5);
  for (const p of [1, 2]) {
    const mm = Array.from({ length: 4 }, (_, b) => {
      const yb = cls.data[b]!;
      let t = 0;
      for (let k = 0; k < 5; k++) {
        if (k === yb) continue;
        const z = 0.7 - x.data[b * 5 + yb]! + x.data[b * 5 + k]!;
        if (z > 0) t += (p === 1 ? z : z * z) * w[yb]!;
      }
      return t / 5;
    });
    close(lossOf(lowStage('MultiMarginLoss', { p, margin: 0.7, weight: w, reduction: 'sum' }), new Map([['student/./output', x], ['targets', cls]])), mm.reduce((a, b) => a + b, 0), `MultiMarginLoss p=${p}`);
  }
  const counts = floats([4, 5], 1, () => Math.floor(rand() * 5));
  const stirling = (t: number) => (t > 1 ? t * Math.log(t) - t + 0.5 * Math.log(2 * Math.PI * t) : 0);
  close(
    lossOf(lowStage('PoissonNLLLoss', { full: true }, 'teacher'), new Map([['student/./output', x], ['teacher/./output', counts]])),
    mean(Array.from(x.data, (v, i) => Math.exp(v) - counts.data[i]! * v + stirling(counts.data[i]!))),
    'PoissonNLLLoss(full)',
  );
  const pos = floats([4, 5], 1, () => 0.2 + rand());
  close(
    lossOf(lowStage('PoissonNLLLoss', { log_input: false }, 'teacher'), new Map([['student/./output', pos], ['teacher/./output', counts]])),
    mean(Array.from(pos.data, (v, i) => v - counts.data[i]! * Math.log(v + 1e-8))),
    'PoissonNLLLoss(log_input=False)',
  );
  // three-tensor losses, called from a custom spec
  assert.equal(
    registerMidLevelLoss(`mid Three(key: str, kw: map<any>) {
  let f = low_loss(key, kw)
  return f(student["a"]["output"], student["b"]["output"], student["c"]["output"])
}`),
    [],
  );
  const a = floats([4, 5]);
  const b = floats([4, 5]);
  const c = floats([4, 5]);
  const three = new Map([
    ['student/a/output', a],
    ['student/b/output', b],
    ['student/c/output', c],
  ]);
  const run3 = (key: string, kw: Record<string, KwValue>) => lossOf(stage([term('t', 1, crit('Three', { key, kw }, 'mid'))]), three);
  const dist = (u: HostTensor, v: HostTensor, r: number, p = 2, eps = 1e-6) => {
    let t = 0;
    for (let k = 0; k < 5; k++) t += Math.abs(u.data[r * 5 + k]! - v.data[r * 5 + k]! + eps) ** p;
    return t ** (1 / p);
  };
  for (const swap of [false, true]) {
    const trip = Array.from({ length: 4 }, (_, r) => {
      const dn = swap ? Math.min(dist(a, c, r), dist(b, c, r)) : dist(a, c, r);
      return Math.max(0, 0.9 + dist(a, b, r) - dn);
    });
    close(run3('TripletMarginLoss', { margin: 0.9, swap }), mean(trip), `TripletMarginLoss swap=${swap}`);
    close(run3('TripletMarginWithDistanceLoss', { margin: 0.9, swap }), mean(trip), `TripletMarginWithDistanceLoss swap=${swap}`);
  }
  const trip1 = Array.from({ length: 4 }, (_, r) => Math.max(0, 1 + dist(a, b, r, 1) - dist(a, c, r, 1)));
  close(run3('TripletMarginLoss', { p: 1 }), mean(trip1), 'TripletMarginLoss p=1');
  const sgn = hostTensor([4, 5], 'float', Array.from({ length: 20 }, () => (rand() < 0.5 ? -1 : 1)));
  three.set('student/c/output', sgn);
  close(run3('MarginRankingLoss', { margin: 0.3 }), mean(Array.from(a.data, (v, i) => Math.max(0, -sgn.data[i]! * (v - b.data[i]!) + 0.3))), 'MarginRankingLoss');
  const vr = floats([4, 5], 1, () => (rand() < 0.2 ? 1e-9 : 0.1 + rand()));
  three.set('student/c/output', vr);
  const gnll = Array.from(a.data, (v, i) => {
    const s2 = Math.max(vr.data[i]!, 1e-6);
    return 0.5 * (Math.log(s2) + (v - b.data[i]!) ** 2 / s2) + 0.5 * Math.log(2 * Math.PI);
  });
  close(run3('GaussianNLLLoss', { full: true }), mean(gnll), 'GaussianNLLLoss(full)');
  resetToBuiltins();
});

test("a config feeding a loss that needs more than two tensors (CTCLoss) is told torchdistill's wrappers pass two", () => {
  const d = only(run(lowStage('CTCLoss', {}), new Map([['student/./output', floats([2, 3])], ['targets', ints([2, 3], 3)]])).diagnostics, 'TDC408');
  assert.match(d.message, /CTCLoss takes 4 tensor arguments/);
  assert.match(d.hint ?? '', /wrappers .* call a low-level loss with two tensors/);
});

// ---- headers: torch 1.13's LOSS_DICT, parameter names and defaults in declaration order -----------------------

/** inspect.signature(torch.nn.<Key>.__init__) under torch 1.13, without self (keyword-only markers dropped). */
const TORCH_113: Record<string, string> = {
  BCELoss: "weight=None, size_average=None, reduce=None, reduction='mean'",
  BCEWithLogitsLoss: "weight=None, size_average=None, reduce=None, reduction='mean', pos_weight=None",
  CTCLoss: "blank=0, reduction='mean', zero_infinity=False",
  CosineEmbeddingLoss: "margin=0.0, size_average=None, reduce=None, reduction='mean'",
  CrossEntropyLoss: "weight=None, size_average=None, ignore_index=-100, reduce=None, reduction='mean', label_smoothing=0.0",
  GaussianNLLLoss: "full=False, eps=1e-06, reduction='mean'",
  HingeEmbeddingLoss: "margin=1.0, size_average=None, reduce=None, reduction='mean'",
  HuberLoss: "reduction='mean', delta=1.0",
  KLDivLoss: "size_average=None, reduce=None, reduction='mean', log_target=False",
  L1Loss: "size_average=None, reduce=None, reduction='mean'",
  MSELoss: "size_average=None, reduce=None, reduction='mean'",
  MarginRankingLoss: "margin=0.0, size_average=None, reduce=None, reduction='mean'",
  MultiLabelMarginLoss: "size_average=None, reduce=None, reduction='mean'",
  MultiLabelSoftMarginLoss: "weight=None, size_average=None, reduce=None, reduction='mean'",
  MultiMarginLoss: "p=1, margin=1.0, weight=None, size_average=None, reduce=None, reduction='mean'",
  NLLLoss: "weight=None, size_average=None, ignore_index=-100, reduce=None, reduction='mean'",
  NLLLoss2d: "weight=None, size_average=None, ignore_index=-100, reduce=None, reduction='mean'",
  PoissonNLLLoss: "log_input=True, full=False, size_average=None, eps=1e-08, reduce=None, reduction='mean'",
  SmoothL1Loss: "size_average=None, reduce=None, reduction='mean', beta=1.0",
  SoftMarginLoss: "size_average=None, reduce=None, reduction='mean'",
  TripletMarginLoss: "margin=1.0, p=2.0, eps=1e-06, swap=False, size_average=None, reduce=None, reduction='mean'",
  TripletMarginWithDistanceLoss: "distance_function=None, margin=1.0, swap=False, reduction='mean'",
};

function pyRepr(l: Literal | undefined): string {
  if (!l) return '<required>';
  switch (l.kind) {
    case 'none':
      return 'None';
    case 'bool':
      return l.value ? 'True' : 'False';
    case 'string':
      return `'${l.value}'`;
    case 'number': {
      if (l.isInt) return String(l.value);
      const v = l.value;
      if (v !== 0 && Math.abs(v) < 1e-4) return v.toExponential().replace(/e([+-])(\d)$/, 'e$10$2'); // python: 1e-06
      const r = String(v);
      return r.includes('.') ? r : `${r}.0`;
    }
    default:
      return '<other>';
  }
}

test("a spec's def named like a prelude helper or a built-in: the prelude's helpers keep theirs; the spec's own calls use the def (TDC319)", () => {
  const dir = mkdtempSync(join(tmpdir(), 'tdc-shadow-'));
  const z = floats([4, 6], 2);
  const t = floats([4, 6], 2);
  const inputs = new Map([
    ['student/./output', z],
    ['teacher/./output', t],
  ]);
  const mid = (name: string, body: string) => `mid ${name}() {
  let s = student["."]["output"]
  let t = teacher["."]["output"]
  return ${body}
}
`;
  const value = (spec: string, name: string) => {
    const file = join(dir, `${name}.tdl`);
    writeFileSync(file, spec);
    const ds = registerSpecFile(file);
    assert.not.ok(
      ds.some((d) => d.severity === 'error'),
      ds.map((d) => d.message).join('\n'),
    );
    return { loss: lossOf(stage([term('t', 1, crit(name, {}, 'mid'))]), inputs), ds };
  };
  const cases: [string, string, string][] = [
    ['def mean(x, dims=none, keepdim=false) = 42.0 + sum(x, dims, keepdim=keepdim)', 'sum(var(s, 1))', "the prelude helper 'mean'"],
    ['def reduce(x, reduction="mean") = 7.0', 'mse_loss(s, t)', "the prelude helper 'reduce'"],
    ['def exp(x) = x', 'sum(softmax(s, 1))', 'the built-in function exp(x)'],
  ];
  cases.forEach(([def, body, what], i) => {
    const plain = value(mid(`Plain${i}`, body), `Plain${i}`);
    const shadowed = value(`${def}\n${mid(`Shadowed${i}`, body)}`, `Shadowed${i}`);
    close(shadowed.loss, plain.loss, `${def} / ${body}`);
    const w = shadowed.ds.filter((d) => d.code === 'TDC319');
    assert.is(w.length, 1, shadowed.ds.map((d) => d.message).join('\n'));
    assert.is(w[0]!.severity, 'warning');
    assert.match(w[0]!.message, what);
    assert.is(w[0]!.span?.start.line, 1);
    assert.is(plain.ds.filter((d) => d.code === 'TDC319').length, 0);
  });
  // the spec's own calls see its def
  const own = value(`def mean(x, dims=none, keepdim=false) = 42.0 + sum(x, dims, keepdim=keepdim)\n${mid('Own', 'mean(s)')}`, 'Own');
  close(own.loss, 42 + z.data.reduce((a, b) => a + b, 0), 'the spec calls its own mean', 1e-9);
  assert.is(own.ds.find((d) => d.code === 'TDC319')?.related?.[0]?.span?.file?.endsWith('prelude.tdl'), true, 'related: where the prelude declares mean');
  resetToBuiltins();
});

test('a built-in called as a method with too few arguments: TDC408 naming the missing parameter (not a vague type error)', () => {
  const inputs = new Map([
    ['student/./output', floats([4, 6])],
    ['targets', ints([4], 6)],
  ]);
  for (const [body, message] of [
    ['sum(student["."]["output"].gather(1))', "gather(x, dim, index) is missing the argument 'index'"],
    ['student["."]["output"].maximum()', "maximum(a, b) is missing the argument 'b'"],
  ] as const) {
    assert.equal(registerMidLevelLoss(`mid Few() {\n  return ${body}\n}`), []);
    const r = run(stage([term('t', 1, crit('Few', {}, 'mid'))]), inputs);
    assert.equal(
      r.errors.map((d) => `${d.code} ${d.message}`),
      [`TDC408 ${message}`],
      body,
    );
  }
  resetToBuiltins();
});

test("the low-level registry is torch 1.13's LOSS_DICT with its exact parameters and defaults", () => {
  assert.equal(registryKeys('low').sort(), Object.keys(TORCH_113).sort());
  for (const [key, sig] of Object.entries(TORCH_113)) {
    const decl = getLowLevelLoss(key)!.decl;
    assert.is(decl.params.map((p) => `${p.name}=${pyRepr(p.default)}`).join(', '), sig, key);
    assert.is(decl.rest, undefined, `${key} takes no **kwargs`);
  }
  const ce = getLowLevelLoss('CrossEntropyLoss')!.decl;
  assert.equal(
    ce.params.map((p) => [p.name, p.type.kind]),
    [
      ['weight', 'optional'],
      ['size_average', 'optional'],
      ['ignore_index', 'prim'],
      ['reduce', 'optional'],
      ['reduction', 'literals'],
      ['label_smoothing', 'prim'],
    ],
  );
});

test.run();
