// manifest.json: deterministic, symbolic shapes as strings, ordered dispatches with named bindings.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createHash } from 'node:crypto';
import { buildManifest, dimJson, kernelFile, prettyJson } from '../src/codegen/manifest.js';
import { tinyPlan } from './fixtures/tiny-plan.js';
import { join } from 'node:path';
import { compile } from '../src/index.js';
import { ROOT } from './helpers/cli.js';

const META = { configFile: 'configs\\tiny.yaml', tdcVersion: '0.0.0-test' };

test('manifest of the tiny plan', () => {
  const text = buildManifest([{ stage: 'train', plan: tinyPlan() }], META);
  assert.ok(text.endsWith('}\n'));
  const m = JSON.parse(text);
  assert.equal(Object.keys(m), ['format', 'tdc', 'config', 'conventions', 'stages']);
  assert.is(m.format, 'tdc-manifest/1');
  assert.is(m.tdc, '0.0.0-test');
  assert.is(m.config, 'configs/tiny.yaml', 'POSIX separators');
  const s = m.stages[0];
  assert.equal(Object.keys(s), ['name', 'workgroupSize', 'symbols', 'inputs', 'outputs', 'buffers', 'kernels']);
  assert.equal(s.symbols, ['N', 'C']);
  assert.equal(s.inputs[0], { name: 'student/./output', shape: ['N', 'C'], dtype: 'float', buffer: 'in_student_._output' });
  assert.equal(s.inputs[2], { name: 'targets', shape: ['N'], dtype: 'int', buffer: 'in_targets' });
  assert.equal(s.outputs.grads, [{ input: 'student/./output', buffer: 'grad_student_._output', shape: ['N', 'C'] }]);
  assert.equal(s.outputs.scalars, {
    buffer: 'out_scalars',
    loss: 0,
    terms: [
      { name: 'half_sq', weight: 1, index: 1 },
      { name: 'mean_row', weight: 0, index: 2 },
    ],
  });
  assert.equal(s.buffers[0], { name: 'in_student_._output', role: 'input', dtype: 'f32', length: 'N*C' });
  assert.equal(s.buffers[5], { name: 'out_scalars', role: 'output', dtype: 'f32', length: 3 });
  assert.equal(
    s.kernels.map((k: { name: string; file: string; dispatch: unknown }) => [k.name, k.file, k.dispatch]),
    [
      ['k0_row', 'kernels/train.k0_row.wgsl', ['N', 1, 1]],
      ['k1_sum', 'kernels/train.k1_sum.wgsl', [1, 1, 1]],
    ],
  );
  assert.equal(s.kernels[1].bindings, [
    { binding: 0, buffer: 'dims', access: 'uniform' },
    { binding: 1, buffer: 'rowstat_0', access: 'read' },
    { binding: 2, buffer: 'out_scalars', access: 'read_write' },
  ]);
  assert.is(s.kernels[0].sha256, createHash('sha256').update(tinyPlan().kernels[0]!.wgsl).digest('hex'));
  assert.is(s.kernels[0].bytesRead, '8*N*C');
});

test("the plan's runtime checks are in the manifest: equalDims, indexInputs, unitInputs, factorChecks (each plan, variants too)", () => {
  const plan = tinyPlan();
  plan.equalDims = [[{ sym: 'N' }, 4]];
  plan.indexInputs = [{ input: 'targets', size: { sym: 'C' }, ignore: -100 }];
  plan.unitInputs = [{ input: 'student/./output', message: 'binary_cross_entropy: all elements of input should be between 0 and 1' }];
  plan.factorChecks = [{ buffer: plan.buffers[5]!.id, size: 3, count: { sym: 'N' }, terms: ['half_sq'] }];
  const m = JSON.parse(buildManifest([{ stage: 'train', plan }], META));
  const s = m.stages[0];
  assert.equal(Object.keys(s), ['name', 'workgroupSize', 'symbols', 'inputs', 'equalDims', 'indexInputs', 'unitInputs', 'factorChecks', 'outputs', 'buffers', 'kernels']);
  assert.equal(s.equalDims, [['N', 4]]);
  assert.equal(s.indexInputs, [{ input: 'targets', size: 'C', ignore: -100 }]);
  assert.equal(s.unitInputs, [{ input: 'student/./output', message: 'binary_cross_entropy: all elements of input should be between 0 and 1' }]);
  assert.equal(s.factorChecks, [{ buffer: 'out_scalars', size: 3, count: 'N', terms: ['half_sq'] }]);
  assert.match(m.conventions.checks, /equalDims.*indexInputs.*unitInputs.*factorChecks/);
  // a plan without checks lists none, and the convention is left out
  const plain = JSON.parse(buildManifest([{ stage: 'train', plan: tinyPlan() }], META));
  assert.is(plain.conventions.checks, undefined);
  assert.is(plain.stages[0].equalDims, undefined);
});

test('tdc compile with logits pinned at [4, 5] and targets [N]: the manifest lists N = 4 and the class-index check of targets (the glue checks them)', async () => {
  const kd = join(ROOT, 'examples', 'kd', 'config.yaml');
  const r = await compile(kd, { shapes: ['student/./output=4x5', 'teacher/./output=4x5'], root: ROOT, glue: false });
  assert.ok(r.ok, JSON.stringify(r.diagnostics));
  const s = r.manifest!.stages[0]!;
  assert.equal(s.equalDims, [[4, 'N']]);
  assert.equal(s.indexInputs, [{ input: 'targets', size: 5, ignore: -100 }]);
  for (const v of s.variants ?? []) {
    assert.equal(v.equalDims, s.equalDims, `variant sb${v.minStorageBuffers}`);
    assert.equal(v.indexInputs, s.indexInputs, `variant sb${v.minStorageBuffers}`);
  }
  // the same checks the plan the glue runs carries
  assert.equal(r.stages[0]!.plan.indexInputs!.map((c) => c.input), ['targets']);
});

test('deterministic, and independent of binding order in the plan', () => {
  const p = tinyPlan();
  p.kernels[0]!.bindings.reverse();
  const a = buildManifest([{ stage: 'train', plan: tinyPlan() }], META);
  assert.is(buildManifest([{ stage: 'train', plan: p }], META), a);
  assert.is(buildManifest([{ stage: 'train', plan: tinyPlan() }], META), a);
});

test('dims print as strings, numbers stay numbers; file names are sanitised', () => {
  assert.is(dimJson(7), 7);
  assert.is(dimJson({ sym: 'N' }), 'N');
  assert.is(dimJson({ op: 'add', a: { op: 'mul', a: { sym: 'N' }, b: { sym: 'C' } }, b: 1 }), 'N*C + 1');
  assert.is(dimJson({ op: 'ceildiv', a: { sym: 'N' }, b: 8 }), 'ceil(N/8)');
  assert.is(kernelFile('stage 1/x', 'k0'), 'kernels/stage_1_x.k0.wgsl');
});

test('an undeclared buffer is reported, not printed as garbage', () => {
  const p = tinyPlan();
  p.kernels[0]!.bindings[0]!.buffer = 99;
  assert.throws(() => buildManifest([{ stage: 'train', plan: p }], META), /undeclared buffer 99/);
});

test('prettyJson keeps primitive arrays on one line', () => {
  assert.is(prettyJson({ a: [1, 'x'], b: [{ c: [] }], d: {} }), '{\n  "a": [1, "x"],\n  "b": [\n    {\n      "c": []\n    }\n  ],\n  "d": {}\n}');
});

test.run();
