// Options and shapes torch 1.13's losses refuse, which tdc refused nowhere and computed a number for (found by
// scripts/fuzz-torch-losses.py): CrossEntropyLoss with class-probability targets and an ignore_index >= 0 (torch:
// "ignore_index is not supported for floating point target"; a negative one it ignores), and a BCELoss /
// BCEWithLogitsLoss weight or pos_weight that would enlarge the input's shape (torch multiplies and adds them in place:
// "output with shape [..] doesn't match the broadcast shape [..]"), and a GaussianNLLLoss var of a shape torch does
// not take (only the input's, that without the last dim, or 1 there: "var is of incorrect size"), and integer targets
// where torch has no promotion (BCELoss, BCEWithLogitsLoss, KLDivLoss refuse them in the forward pass; MSELoss and
// HuberLoss compute the loss and then their backward raises "Found dtype Long but expected Double"). Each through `tdc run --device cpu` on a
// torchdistill config, as a user runs it: exit 1 and a diagnostic naming the option, or the number when torch gives one.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeSafetensors, type SafeTensor } from 'tdc-runtime';
import { hasStackTrace, tdc, type CliResult } from './helpers/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'tdc-torch-refusals-'));

/** A one-term WeightedSumLoss config calling `key(**kwargs)` on (student output, targets), as torchdistill builds it
 *  (flow-style YAML; `kwargs` are flow entries, `weight: !import_call {...}`). */
function config(name: string, key: string, kwargs: string[]): string {
  const file = join(dir, `${name}.yaml`);
  const wrapper = "{key: 'SimpleLossWrapper', kwargs: {input: {is_from_teacher: false, module_path: '.', io: 'output'}, target: {uses_label: true}}}";
  const term = `{criterion: {key: '${key}', kwargs: {${kwargs.join(', ')}}}, criterion_wrapper: ${wrapper}, weight: 1.0}`;
  writeFileSync(file, `train:\n  criterion: {key: 'WeightedSumLoss', kwargs: {sub_terms: {term: ${term}}}}\n`);
  return file;
}

const f64 = (shape: number[], f: (i: number) => number): SafeTensor => {
  const n = shape.reduce((a, b) => a * b, 1);
  return { dtype: 'F64', shape, data: Float64Array.from({ length: n }, (_, i) => f(i)) };
};

function inputs(name: string, output: SafeTensor, targets: SafeTensor): string {
  const file = join(dir, `${name}.safetensors`);
  writeFileSync(file, writeSafetensors(new Map([['student/./output', output], ['targets', targets]])));
  return file;
}

const tensorTag = (values: unknown): string => `!import_call {key: 'torch.tensor', init: {args: [${JSON.stringify(values)}]}}`;

function refused(r: CliResult, pattern: RegExp): void {
  const all = r.stdout + r.stderr;
  assert.is(r.code, 1, `exit ${r.code}: ${all.slice(0, 2000)}`);
  assert.not.ok(hasStackTrace(all), all);
  assert.is(r.stdout, '', 'no loss printed');
  assert.match(r.stderr, pattern);
}

function computed(r: CliResult): void {
  assert.is(r.code, 0, r.stderr.slice(0, 2000));
  assert.match(r.stdout, /loss/);
}

test('CrossEntropyLoss: probability targets with an ignore_index >= 0 are refused as torch refuses them; a negative one is ignored', () => {
  // logits [3, 4] and class probabilities [3, 4] (rows sum to 1)
  const io = inputs('ce-prob', f64([3, 4], (i) => Math.sin(i + 1)), f64([3, 4], (i) => [0.1, 0.2, 0.3, 0.4][i % 4]!));
  for (const ii of [0, 3, 255]) {
    refused(tdc(['run', config(`ce-${ii}`, 'CrossEntropyLoss', [`ignore_index: ${ii}`]), '--inputs', io, '--device', 'cpu']), /ignore_index is not supported for floating point target/);
  }
  computed(tdc(['run', config('ce-neg', 'CrossEntropyLoss', ['ignore_index: -1', 'label_smoothing: 0.1']), '--inputs', io, '--device', 'cpu']));
  computed(tdc(['run', config('ce-default', 'CrossEntropyLoss', []), '--inputs', io, '--device', 'cpu']));
});

test('CrossEntropyLoss: a negative label_smoothing is no smoothing, as in torch 1.13 (it checks only <= 1.0); above 1 is refused', () => {
  const logits = f64([3, 4], (i) => Math.sin(i + 1));
  const probs = inputs('ce-ls-prob', logits, f64([3, 4], (i) => [0.1, 0.2, 0.3, 0.4][i % 4]!));
  const labels = inputs('ce-ls-labels', logits, { dtype: 'I64', shape: [3], data: BigInt64Array.from([0n, 3n, 1n]) });
  const loss = (io: string, ls: string) => {
    const r = tdc(['run', config(`ce-ls-${ls}`, 'CrossEntropyLoss', [`label_smoothing: ${ls}`, "reduction: 'sum'"]), '--inputs', io, '--device', 'cpu', '--json']);
    assert.is(r.code, 0, r.stderr.slice(0, 2000));
    return (JSON.parse(r.stdout) as { loss: number }).loss;
  };
  for (const io of [probs, labels]) {
    assert.is(loss(io, '-0.1'), loss(io, '0.0'));
    assert.is.not(loss(io, '0.1'), loss(io, '0.0'));
    refused(tdc(['run', config('ce-ls-big', 'CrossEntropyLoss', ['label_smoothing: 1.5']), '--inputs', io, '--device', 'cpu']), /label_smoothing must be between 0.0 and 1.0. Got: 1.5/);
  }
});

test("BCELoss / BCEWithLogitsLoss: a weight or pos_weight that would enlarge the input's shape is refused; one that broadcasts into it runs", () => {
  const probs = inputs('bce', f64([2, 3], (i) => 0.1 + 0.13 * i), f64([2, 3], (i) => (i % 2 ? 1 : 0)));
  const enlarging = [[[1.0, 2.0, 0.5]], [[0.5, 1.0, 1.5]], [[2.0, 1.0, 1.0]]]; // [3, 1, 3] against [2, 3]
  refused(tdc(['run', config('bce-w', 'BCELoss', [`weight: ${tensorTag(enlarging)}`]), '--inputs', probs, '--device', 'cpu']), /binary_cross_entropy: weight must not enlarge the input's shape/);
  refused(
    tdc(['run', config('bcel-w', 'BCEWithLogitsLoss', [`weight: ${tensorTag([[1.0], [2.0], [0.5]])}`]), '--inputs', probs, '--device', 'cpu']),
    /binary_cross_entropy_with_logits: weight must not enlarge the input's shape/,
  );
  refused(
    tdc(['run', config('bcel-pw', 'BCEWithLogitsLoss', [`pos_weight: ${tensorTag(enlarging)}`]), '--inputs', probs, '--device', 'cpu']),
    /binary_cross_entropy_with_logits: pos_weight must not enlarge the input's shape/,
  );
  // a scalar input with pos_weight [1]: torch's in-place add refuses the [1]-shaped term
  const scalar = inputs('bcel-scalar', f64([], () => 0.3), f64([], () => 1));
  refused(
    tdc(['run', config('bcel-pw-1', 'BCEWithLogitsLoss', [`pos_weight: ${tensorTag([2.0])}`]), '--inputs', scalar, '--device', 'cpu']),
    /pos_weight must not enlarge the input's shape/,
  );
  computed(tdc(['run', config('bce-ok', 'BCELoss', [`weight: ${tensorTag([[1.0], [0.5]])}`]), '--inputs', probs, '--device', 'cpu']));
  computed(tdc(['run', config('bcel-ok', 'BCEWithLogitsLoss', [`weight: ${tensorTag([1.0, 0.5, 2.0])}`, `pos_weight: ${tensorTag([2.0, 1.0, 0.5])}`]), '--inputs', probs, '--device', 'cpu']));
});

test('GaussianNLLLoss: a var that only broadcasts (not the input\'s shape, that without its last dim, or 1 there) is refused', () => {
  const spec = join(dir, 'gaussian.tdl');
  writeFileSync(spec, 'mid Gauss(**kwargs: GaussianNLLLoss) {\n  let o = student["."]["output"]\n  return low_loss("GaussianNLLLoss", kwargs)(o[0], o[1], o[2])\n}\n');
  const file = join(dir, 'gaussian.yaml');
  writeFileSync(file, "train:\n  criterion: {key: 'WeightedSumLoss', kwargs: {sub_terms: {term: {criterion: {key: 'Gauss', kwargs: {}}, weight: 1.0}}}}\n");
  const run = (varShape: number[]) => {
    const io = join(dir, `gaussian-${varShape.join('x')}.safetensors`);
    const t = new Map([
      ['student/./output/0', f64([3, 4], (i) => Math.sin(i))],
      ['student/./output/1', f64([3, 4], (i) => Math.cos(i))],
      ['student/./output/2', f64(varShape, (i) => 0.5 + 0.1 * i)],
    ]);
    writeFileSync(io, writeSafetensors(t));
    return tdc(['run', file, '--inputs', io, '--spec', spec, '--device', 'cpu']);
  };
  for (const bad of [[1, 4], [1, 1], [4], [3, 4, 1], [1]]) refused(run(bad), /GaussianNLLLoss: var is of incorrect size/);
  for (const good of [[3, 4], [3], [3, 1]]) computed(run(good));
});

test('integer targets: refused by the losses torch refuses them in (forward, or backward for MSE/Huber); L1/SmoothL1 promote them', () => {
  const i64 = (shape: number[], f: (i: number) => number): SafeTensor => ({ dtype: 'I64', shape, data: BigInt64Array.from({ length: shape.reduce((a, b) => a * b, 1) }, (_, i) => BigInt(f(i))) });
  const io = inputs('int-target', f64([2, 3], (i) => 0.1 + 0.13 * i), i64([2, 3], (i) => i % 2));
  for (const key of ['BCELoss', 'BCEWithLogitsLoss', 'KLDivLoss']) {
    refused(tdc(['run', config(`int-${key}`, key, []), '--inputs', io, '--device', 'cpu']), new RegExp(`${key}: an integer target, which torch refuses`));
  }
  for (const key of ['MSELoss', 'HuberLoss']) {
    refused(tdc(['run', config(`int-${key}`, key, []), '--inputs', io, '--device', 'cpu']), new RegExp(`${key}: an integer or bool target, which torch's backward refuses`));
  }
  for (const key of ['L1Loss', 'SmoothL1Loss']) computed(tdc(['run', config(`int-${key}`, key, []), '--inputs', io, '--device', 'cpu']));
});

test.after(() => rmSync(dir, { recursive: true, force: true }));
test.run();
