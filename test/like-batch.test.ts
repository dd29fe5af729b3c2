// `tdc compile --like sample.safetensors` keeps the batch dim symbolic (README: "one compile serves any batch
// size") also for a sample without `targets`: GHND's losses read only module outputs, and the batch was taken
// from the targets alone, so the plan was pinned to the sample's batch size and refused any other. Now the batch
// is the leading dim that the sample's io tensors share (compiler/sample-batch.ts, the rule `tdc run --device gpu`
// already used). Checked on a real GHND config: the manifest's input shapes start with N, and the compiled plan
// runs at two other batch sizes with the float64 CPU executor's loss.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bindSymbols, PlanExecutor, writeSafetensors, type SafeTensor } from 'tdc-runtime';
import { CONFIGS, tdc } from './helpers/cli.js';
import { openTestRuntime } from './helpers/open-gpu.js';
import { generateAll } from './helpers/counter-rng.js';
import { loadConfigFile } from '../src/compiler/load/load.js';
import { checkConfig } from '../src/compiler/driver/check.js';
import { compileStages } from '../src/compiler/compile.js';
import { runStageOnCpu } from '../src/compiler/run-cpu.js';
import { shapesFromSample } from '../src/api/shapes.js';
import type { Diagnostic } from '../src/diagnostics/index.js';
import type { Manifest } from '../src/api/manifest-types.js';
import type { StageIR } from '../src/compiler/ir.js';

const GHND = join(CONFIGS, 'sample', 'ilsvrc2012', 'ghnd', 'custom_resnet152_from_resnet152.yaml');
/** What GHND's three MSE terms read (student bottleneck/layer3/layer4 against the teacher's layer2/3/4), [C, H, W]. */
const READS: [string, number[]][] = [
  ['student/bottleneck_layer/output', [4, 3, 2]],
  ['teacher/layer2/output', [4, 3, 2]],
  ['student/layer3/output', [5, 2, 2]],
  ['teacher/layer3/output', [5, 2, 2]],
  ['student/layer4/output', [6, 1, 3]],
  ['teacher/layer4/output', [6, 1, 3]],
];

const dir = mkdtempSync(join(tmpdir(), 'tdc-like-batch-'));

/** An io_dict of batch size n (no targets), deterministic values. */
function sample(n: number, seed: number): Map<string, SafeTensor> {
  const values = generateAll(seed, READS.map(([name, chw]) => ({ name, shape: [n, ...chw], kind: 'normal' as const })));
  return new Map(READS.map(([name, chw]) => [name, { dtype: 'F32', shape: [n, ...chw], data: Float32Array.from(values.get(name) as Float64Array) } as SafeTensor]));
}

function ghndStage(): StageIR {
  const { config, diagnostics } = loadConfigFile(GHND);
  const { ir, diagnostics: rd } = checkConfig(config);
  assert.equal([...diagnostics, ...rd].filter((d) => d.severity === 'error').map((d) => d.message), []);
  assert.is(ir.stages.length, 1);
  return ir.stages[0]!;
}

const likeFile = join(dir, 'io.safetensors');
writeFileSync(likeFile, writeSafetensors([...sample(3, 1)]));

test('tdc compile --like a sample without targets: every input the GHND stage reads has the batch dim N', () => {
  const r = tdc(['compile', GHND, '--like', likeFile, '-o', join(dir, 'out'), '--no-glue']);
  assert.is(r.code, 0, r.stderr);
  const manifest = JSON.parse(readFileSync(join(dir, 'out', 'manifest.json'), 'utf8')) as Manifest;
  const inputs = manifest.stages[0]!.inputs;
  assert.equal(inputs.map((i) => i.name).sort(), READS.map(([n]) => n).sort());
  for (const i of inputs) assert.equal(i.shape, ['N', ...READS.find(([n]) => n === i.name)![1]], i.name);
});

test('the plan compiled --like a batch-3 sample runs at batch sizes 2 and 5 with the CPU executor\'s loss', async () => {
  const stage = ghndStage();
  const ds: Diagnostic[] = [];
  const shapes = shapesFromSample(likeFile, ds);
  const out = await compileStages([stage], { configFile: 'ghnd.yaml', moduleName: 'criterion', shapes, glue: false });
  assert.equal([...ds, ...out.diagnostics].filter((d) => d.severity === 'error').map((d) => d.message), []);
  const plan = out.stages[0]!.plan;
  for (const n of [2, 5]) {
    const { env, problems } = bindSymbols(plan.inputs, new Map(READS.map(([name, chw]) => [name, [n, ...chw]])), plan.symbols, plan.equalDims ?? []);
    assert.equal(problems, [], `batch ${n} fits the plan`);
    assert.is(env['N'], n);
  }
  const rt = await openTestRuntime('like-batch GPU test');
  if (!rt) return;
  try {
    const exec = await PlanExecutor.create(rt, plan);
    try {
      for (const n of [2, 5]) {
        const inputs = sample(n, 10 + n);
        const cpu = runStageOnCpu(stage, inputs);
        assert.ok(cpu.result, cpu.diagnostics.map((d) => d.message).join('; '));
        const gpu = await exec.run(new Map([...inputs].map(([name, t]) => [name, { shape: t.shape, data: t.data as Float32Array }])), { readback: 'scalars' });
        const want = cpu.result!.loss;
        assert.ok(Math.abs(gpu.loss - want) <= 1e-5 * Math.abs(want), `batch ${n}: GPU loss ${gpu.loss}, CPU ${want}`);
      }
    } finally {
      exec.destroy();
    }
  } finally {
    rt.destroy();
  }
});

test.after(() => rmSync(dir, { recursive: true, force: true }));
test.run();
