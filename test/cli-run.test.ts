// `tdc run` as a user meets it: bad inputs files, stage selection, stateful losses (--state-out), a custom loss
// from --spec checked against a hand formula, and broken spec files. Every error: non-zero exit, a positioned
// diagnostic, no stack trace.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CONFIGS, hasStackTrace, pipeOf, tdc, type CliResult } from './helpers/cli.js';
import { customTermConfig, customTermSpec } from './helpers/custom-term.js';
import { casePath, expected, gradExcess, relErr, type RunJson } from './helpers/golden.js';
import { readSafetensors, writeSafetensors, type SafeTensor } from 'tdc-runtime';
import { dawnNoAdapter } from '../src/runtime/dawn-message.js';

const KD = 'sample__ilsvrc2012__kd__resnet18_from_resnet34'; // KDLoss on student/teacher logits [7, 37], targets [7]
const CRD = 'sample__ilsvrc2012__crd__resnet18_from_resnet50';
const MSE = 'edge__mse_teacher_target'; // student/teacher layer3 outputs [8, 16, 5, 5]
const SSKD_CONFIG = join(CONFIGS, 'sample', 'ilsvrc2012', 'sskd', 'resnet18_from_resnet34.yaml'); // stage1, stage2

const dir = mkdtempSync(join(tmpdir(), 'tdc-cli-run-'));
const tensorsOf = (caseId: string): Map<string, SafeTensor> => readSafetensors(new Uint8Array(readFileSync(casePath(caseId, 'tensors.safetensors')))).tensors;

/** A copy of a golden case's tensors with some entries changed (undefined = removed). */
function inputsFile(caseId: string, name: string, change: Record<string, SafeTensor | undefined>): string {
  const t = new Map(tensorsOf(caseId));
  for (const [k, v] of Object.entries(change)) {
    if (v) t.set(k, v);
    else t.delete(k);
  }
  const file = join(dir, `${name}.safetensors`);
  writeFileSync(file, writeSafetensors(t));
  return file;
}

const f64 = (shape: number[]): SafeTensor => ({ dtype: 'F64', shape, data: new Float64Array(shape.reduce((a, b) => a * b, 1)).map((_, i) => Math.sin(i)) });
const i64 = (shape: number[]): SafeTensor => ({ dtype: 'I64', shape, data: new BigInt64Array(shape.reduce((a, b) => a * b, 1)) });

function runCase(caseId: string, inputs: string, extra: string[] = []): CliResult {
  return tdc(['run', casePath(caseId, 'config.yaml'), '--inputs', inputs, '--device', 'cpu', ...extra]);
}

/** Exit 1 (2 with usage()), no stack trace, and every pattern in stderr. */
function fails(r: CliResult, ...patterns: (RegExp | string)[]): void {
  failsWith(1, r, ...patterns);
}

function failsWith(code: number, r: CliResult, ...patterns: (RegExp | string)[]): void {
  assert.is(r.code, code, `exit code ${r.code}\n${r.stderr}`);
  assert.not.ok(hasStackTrace(r.stderr + r.stdout), r.stderr);
  for (const p of patterns) assert.ok(typeof p === 'string' ? r.stderr.includes(p) : p.test(r.stderr), `expected ${p} in:\n${r.stderr}`);
}

// ---- inputs file ---------------------------------------------------------------------------------------------

test('missing input tensor: names the tensor and the shape the loss expects, at the config term', () => {
  const r = runCase(KD, inputsFile(KD, 'missing', { 'teacher/./output': undefined }));
  fails(r, "missing input tensor 'teacher/./output'", 'expected shape [7, 37]', `${casePath(KD, 'config.yaml')}:17:9`);
});

test('missing input tensor on the GPU: the same message as the CPU, with the shape the loss expects', () => {
  const file = inputsFile(KD, 'missing-gpu', { 'teacher/./output': undefined });
  const cpu = runCase(KD, file);
  const gpu = tdc(['run', casePath(KD, 'config.yaml'), '--inputs', file, '--device', 'gpu']);
  for (const r of [cpu, gpu]) fails(r, "missing input tensor 'teacher/./output'", 'expected shape [7, 37]', 'a float tensor', `${casePath(KD, 'config.yaml')}:17:9`);
});

test('TDC510: a Dawn backend or adapter name Dawn refuses is one readable line and a hint, not the list Dawn dumps', () => {
  const args = ['run', casePath(KD, 'config.yaml'), '--inputs', casePath(KD, 'tensors.safetensors'), '--device', 'gpu'];
  const backend = tdc(args, { env: { TDC_WEBGPU_BACKEND: 'bogus' } });
  fails(backend, /error TDC510: --device gpu: no WebGPU adapter: Dawn has no backend 'bogus' \(set by TDC_WEBGPU_BACKEND or the backend option\); its backends are [^\n]*vulkan/, 'set TDC_WEBGPU_BACKEND to one of them');
  assert.not.match(backend.stderr, /Possible backends|unrecognised backend/);
  const adapter = tdc(args, { env: { TDC_WEBGPU_ADAPTER: 'no such adapter' } });
  fails(adapter, /error TDC510: --device gpu: no WebGPU adapter: Dawn found no adapter named 'no such adapter'/);
  assert.not.match(adapter.stderr, /Available adapters|^ \* backend:|no suitable backends/m);
  // the TDC511 note of --device auto (the CPU fallback) carries the same line, and says what it does first
  const auto = tdc([...args.slice(0, -1), 'auto'], { env: { TDC_WEBGPU_ADAPTER: 'no such adapter' } });
  assert.is(auto.code, 0, auto.stderr);
  assert.match(auto.stderr, /note TDC511: running on the CPU executor \(float64\): no WebGPU adapter: Dawn found no adapter named 'no such adapter'/);
  assert.not.match(auto.stderr, /Available adapters/);
});

test("TDC_WEBGPU_BACKEND=null (Dawn's validation-only backend): TDC510 on --device gpu, the CPU executor on auto — never the garbage its buffers hold (was a made-up TDC524 'targets' element)", () => {
  const args = ['run', casePath(KD, 'config.yaml'), '--inputs', casePath(KD, 'tensors.safetensors'), '--device', 'gpu'];
  const gpu = tdc(args, { env: { TDC_WEBGPU_BACKEND: 'null' } });
  fails(gpu, /error TDC510: --device gpu: the adapter is Dawn's null backend, which validates shaders but computes nothing/, 'a backend that computes');
  assert.not.match(gpu.stderr, /TDC524/);
  const auto = tdc([...args.slice(0, -1), 'auto', '--json'], { env: { TDC_WEBGPU_BACKEND: 'null' } });
  assert.is(auto.code, 0, auto.stderr);
  assert.match(auto.stderr, /note TDC511: running on the CPU executor \(float64\): the adapter is Dawn's null backend/);
  const cpu = tdc([...args.slice(0, -1), 'cpu', '--json']);
  assert.is(JSON.parse(auto.stdout).loss, JSON.parse(cpu.stdout).loss);
});

test('dawnNoAdapter: the texts Dawn gives, worded as facts and what to set; unknown text as one trimmed driver-said line', () => {
  const hint = 'install a driver';
  const b = dawnNoAdapter("unrecognised backend 'x'\nPossible backends : 'null', 'vulkan'\n", ['backend=x'], hint);
  assert.is(b.message, "no WebGPU adapter: Dawn has no backend 'x' (set by TDC_WEBGPU_BACKEND or the backend option); its backends are null, vulkan");
  const a = dawnNoAdapter("no suitable backends found\nAvailable adapters:\n * backend: 'vulkan', name: 'llvmpipe (LLVM 15.0.6, 256 bits)'\n * backend: 'opengles', name: 'Mesa'\n", ['adapter=gpu0'], hint);
  assert.is(a.message, "no WebGPU adapter: Dawn found no adapter named 'gpu0' (set by TDC_WEBGPU_ADAPTER or the adapter option); the adapters it found: 'llvmpipe (LLVM 15.0.6, 256 bits)' (vulkan), 'Mesa' (opengles)");
  assert.match(a.hint, /set TDC_WEBGPU_ADAPTER to one of these names/);
  assert.is(dawnNoAdapter(undefined, [], hint).message, 'no WebGPU adapter: Dawn found none');
  const other = dawnNoAdapter(`  vkCreateInstance failed: VK_ERROR_INCOMPATIBLE_DRIVER ${'x'.repeat(300)}\n  at line 2\n`, [], hint);
  assert.match(other.message, /^no WebGPU adapter\n {2}driver said: vkCreateInstance failed: VK_ERROR_INCOMPATIBLE_DRIVER x+…$/);
  assert.ok(other.message.length < 200, other.message);
  assert.is(other.hint, hint);
});

test('--inputs from a pipe (<(…)): read as a file, on the CPU and the GPU (the GPU run was an internal error)', () => {
  for (const device of ['cpu', 'gpu']) {
    const r = tdc(['run', casePath(KD, 'config.yaml'), '--inputs', pipeOf(casePath(KD, 'tensors.safetensors'), dir, `in-${device}.pipe`), '--device', device, '--json']);
    assert.is(r.code, 0, `${device}: ${r.stderr}`);
    assert.not.ok(hasStackTrace(r.stderr), r.stderr);
    assert.ok(relErr((JSON.parse(r.stdout) as RunJson).loss, expected(KD).loss) <= 1e-5, r.stdout);
  }
});

test('mis-shaped input: names the tensor, its shape and the shape the other inputs imply', () => {
  const r = runCase(KD, inputsFile(KD, 'misshaped', { 'teacher/./output': f64([7, 36]) }));
  fails(r, /TDC403/, "'teacher/./output' has shape [7, 36]; the other inputs imply [7, 37]", /KDLoss\.tdl:\d+:\d+/, `${casePath(KD, 'config.yaml')}:17:9`);
  const t = runCase(KD, inputsFile(KD, 'targets-batch', { targets: i64([6]) }));
  fails(t, "expected [7], got 'targets' [6]");
});

test('wrong dtype: integer logits are rejected (torch has no softmax for Long)', () => {
  const r = runCase(KD, inputsFile(KD, 'int-logits', { 'teacher/./output': i64([7, 37]) }));
  fails(r, /TDC502/, "input 'teacher/./output' is an integer tensor", 'expected a float tensor', '[7, 37]', `${casePath(KD, 'config.yaml')}:17:9`);
});

test('wrong dtype on the GPU: integer logits are the same TDC502 at compile time, not a WGSL type error of the kernels', () => {
  const r = tdc(['run', casePath(KD, 'config.yaml'), '--inputs', inputsFile(KD, 'int-logits-gpu', { 'teacher/./output': i64([7, 37]) }), '--device', 'gpu']);
  fails(r, /TDC502/, "input 'teacher/./output' is an integer tensor", 'expected a float tensor', `${casePath(KD, 'config.yaml')}:17:9`);
  assert.not.match(r.stderr, /TDC522|wgsl|no matching/i);
});

test('integer index tensors stay valid (CRD pos_idx / contrast_idx)', () => {
  const r = runCase(CRD, casePath(CRD, 'tensors.safetensors'), ['--json']);
  assert.is(r.code, 0, r.stderr);
});

test('corrupt, truncated and nonexistent inputs files', () => {
  const whole = readFileSync(casePath(KD, 'tensors.safetensors'));
  const truncated = join(dir, 'truncated.safetensors');
  writeFileSync(truncated, whole.subarray(0, 100));
  fails(runCase(KD, truncated), /TDC501/, 'not a valid safetensors file', truncated);
  const garbage = join(dir, 'garbage.safetensors');
  writeFileSync(garbage, 'this is not a safetensors file');
  fails(runCase(KD, garbage), /TDC501/, 'not a valid safetensors file');
  const tiny = join(dir, 'tiny.safetensors');
  writeFileSync(tiny, 'abc');
  fails(runCase(KD, tiny), /TDC501/, 'too short');
  const nowhere = join(dir, 'does-not-exist.safetensors');
  fails(runCase(KD, nowhere), /TDC501/, `'${nowhere}': no such file`);
});

// ---- stages ---------------------------------------------------------------------------------------------------

test('multi-stage config without --stage lists the stages; unknown --stage lists them too (usage errors: exit 2)', () => {
  const inputs = casePath('sample__ilsvrc2012__sskd__resnet18_from_resnet34__stage2', 'tensors.safetensors');
  failsWith(2, tdc(['run', SSKD_CONFIG, '--inputs', inputs, '--device', 'cpu']), /TDC904/, 'stage1, stage2', '--stage');
  failsWith(2, tdc(['run', SSKD_CONFIG, '--inputs', inputs, '--device', 'cpu', '--stage', 'stage9']), /TDC905/, "no stage 'stage9'", 'stage1, stage2', 'tdc run --help');
  const ok = tdc(['run', SSKD_CONFIG, '--inputs', inputs, '--device', 'cpu', '--stage', 'stage2', '--json']);
  assert.is(ok.code, 0, ok.stderr);
  const e = expected('sample__ilsvrc2012__sskd__resnet18_from_resnet34__stage2');
  assert.ok(relErr((JSON.parse(ok.stdout) as RunJson).loss, e.loss) < 1e-9);
});

// ---- stateful losses ------------------------------------------------------------------------------------------

test('CRD: --state-out writes state_out/<term>/<buffer> atomically; --json lists them', () => {
  const sub = mkdtempSync(join(dir, 'state-'));
  const out = join(sub, 'state.safetensors');
  const r = runCase(CRD, casePath(CRD, 'tensors.safetensors'), ['--json', '--state-out', out]);
  assert.is(r.code, 0, r.stderr);
  const json = JSON.parse(r.stdout) as RunJson;
  assert.equal([...(json.state ?? [])].sort(), ['state_out/crd/memory_v1', 'state_out/crd/memory_v2', 'state_out/crd/params']);
  assert.equal(readdirSync(sub), ['state.safetensors'], 'no temp file left behind');
  const mine = readSafetensors(new Uint8Array(readFileSync(out))).tensors;
  const gold = tensorsOf(CRD);
  for (const name of json.state!) {
    const x = mine.get(name)!;
    const g = gold.get(name)!;
    assert.equal(x.shape, g.shape, name);
    assert.ok(gradExcess(x.data as Float64Array, g.data as Float64Array, 1e-9, 0) <= 1, name);
  }
  // the state really moves: the banks' rows at pos_idx change
  const before = gold.get('state_in/crd/memory_v1')!.data as Float64Array;
  const after = mine.get('state_out/crd/memory_v1')!.data as Float64Array;
  assert.ok(before.some((v, i) => v !== after[i]));
});

test('CRD: a missing state tensor is a diagnostic naming it and its shape', () => {
  const r = runCase(CRD, inputsFile(CRD, 'no-bank', { 'state_in/crd/memory_v1': undefined }), ['--state-out', join(dir, 'never.safetensors')]);
  fails(r, /TDC401/, "missing state tensor 'state_in/crd/memory_v1' (shape [50, 16])", /CRDLoss\.tdl:\d+:\d+/, `${casePath(CRD, 'config.yaml')}:29:9`);
  assert.not.ok(existsSync(join(dir, 'never.safetensors')));
  const bad = runCase(CRD, inputsFile(CRD, 'bad-bank', { 'state_in/crd/memory_v2': f64([49, 16]) }));
  fails(bad, "state tensor 'state_in/crd/memory_v2' has shape [49, 16], expected [50, 16]");
});

test('--state-out: on the GPU too (float32, or TDC510 without an adapter); on a stateless loss it warns and writes an empty file', () => {
  const g = tdc(['run', casePath(CRD, 'config.yaml'), '--inputs', casePath(CRD, 'tensors.safetensors'), '--device', 'gpu', '--json', '--state-out', join(dir, 'g.safetensors')]);
  if (g.code !== 0) fails(g, /TDC510/);
  else {
    const json = JSON.parse(g.stdout) as RunJson;
    assert.equal([...(json.state ?? [])].sort(), ['state_out/crd/memory_v1', 'state_out/crd/memory_v2', 'state_out/crd/params']);
    const mine = readSafetensors(new Uint8Array(readFileSync(join(dir, 'g.safetensors')))).tensors;
    const gold = tensorsOf(CRD);
    for (const name of json.state!) assert.ok(gradExcess(mine.get(name)!.data as Float32Array, gold.get(name)!.data as Float64Array, 1e-4, 1e-4) <= 1, name);
  }
  const out = join(dir, 'empty-state.safetensors');
  const r = runCase(KD, casePath(KD, 'tensors.safetensors'), ['--json', '--state-out', out]);
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stderr, /TDC513/);
  assert.is((JSON.parse(r.stdout) as RunJson).state, undefined);
  assert.is(readSafetensors(new Uint8Array(readFileSync(out))).tensors.size, 0);
});

test('GPU run: targets of another batch than the logits are the shape error the CPU reports, not a made-up loss', () => {
  for (const n of [9, 3]) {
    const inputs = inputsFile(KD, `targets${n}`, { targets: i64([n]) });
    fails(runCase(KD, inputs), /TDC403/, `expected [7], got 'targets' [${n}]`);
    const g = tdc(['run', casePath(KD, 'config.yaml'), '--inputs', inputs, '--device', 'gpu']);
    if (g.code !== 0 && /TDC510/.test(g.stderr)) return;
    fails(g, /TDC403/, `expected [7], got 'targets' [${n}]`);
  }
});

// ---- custom losses from --spec -------------------------------------------------------------------------------

const MY_L1 = (body: string, scaleDefault = '2.0'): string =>
  `# mean absolute difference of a student and a teacher tensor, scaled\n${customTermSpec('MyL1', body, `,\n         scale: float = ${scaleDefault}`)}`;

const CONFIG = customTermConfig('MyL1', { module: 'layer3', weight: 0.5, kwargs: 'scale: 3.0' });

function specRun(name: string, spec: string, extra: string[] = []): { r: CliResult; specFile: string; config: string } {
  const specFile = join(dir, `${name}.tdl`);
  writeFileSync(specFile, spec);
  const config = join(dir, `${name}.yaml`);
  writeFileSync(config, CONFIG);
  const r = tdc(['run', config, '--inputs', casePath(MSE, 'tensors.safetensors'), '--device', 'cpu', '--spec', specFile, ...extra]);
  return { r, specFile, config };
}

test('a custom mid-level loss from --spec: loss, term and gradients match the hand formula', () => {
  const grads = join(dir, 'my-grads.safetensors');
  const { r } = specRun('myl1', MY_L1('  return scale * mean(abs(s - t))'), ['--json', '--grads-out', grads]);
  assert.is(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout) as RunJson;
  const t = tensorsOf(MSE);
  const s = t.get('student/layer3/output')!.data as Float64Array;
  const u = t.get('teacher/layer3/output')!.data as Float64Array;
  let sum = 0;
  for (let i = 0; i < s.length; i++) sum += Math.abs(s[i]! - u[i]!);
  const term = (3.0 * sum) / s.length;
  assert.ok(relErr(out.terms['my']!.value, term) < 1e-12, `term ${out.terms['my']!.value} vs ${term}`);
  assert.is(out.terms['my']!.weight, 0.5);
  assert.ok(relErr(out.loss, 0.5 * term) < 1e-12, `loss ${out.loss} vs ${0.5 * term}`);
  // d/ds = 0.5 · 3 · sign(s − t) / n; the teacher side gets the negative
  const g = readSafetensors(new Uint8Array(readFileSync(grads))).tensors;
  const gs = g.get('grad/student/layer3/output')!.data as Float64Array;
  for (let i = 0; i < s.length; i++) assert.ok(Math.abs(gs[i]! - (1.5 * Math.sign(s[i]! - u[i]!)) / s.length) < 1e-15, `grad[${i}]`);
  const gt = g.get('grad/teacher/layer3/output');
  if (gt) for (let i = 0; i < s.length; i++) assert.ok(Math.abs((gt.data as Float64Array)[i]! + gs[i]!) < 1e-15);
});

test('spec with a syntax error: positioned in the .tdl, and its loss is not reported as unknown', () => {
  const { r, specFile } = specRun('syntax', MY_L1('  return scale * mean(abs(s - t)'));
  fails(r, /TDC30\d/, `${specFile}:6:`);
  assert.not.match(r.stderr, /unknown loss 'MyL1'/);
});

test('spec with a type error in a default: positioned at the default', () => {
  const { r, specFile } = specRun('default', MY_L1('  return scale * mean(abs(s - t))', '"two"'));
  fails(r, /TDC313/, `${specFile}:3:25`, "default of 'scale'", 'float');
});

test('spec with an unknown function: positioned at the call, with the config term', () => {
  const { r, specFile, config } = specRun('unknown-fn', MY_L1('  return scale * mean(absolute(s - t))'));
  fails(r, /TDC404/, `${specFile}:6:23`, "unknown function 'absolute'", `${config}:8:9`);
});

test('spec with a shape mismatch: positioned in the .tdl and at the config term, naming both tensors', () => {
  const { r, specFile, config } = specRun('shapes', MY_L1('  return scale * mean(abs(s - t.flatten(1)))'));
  fails(r, /TDC403/, `${specFile}:6:27`, `${config}:8:9`, "'student/layer3/output' [8, 16, 5, 5]", "'teacher/layer3/output'", '[8, 400]');
});

test('a custom high-level loss: its own kwargs reach the body, and no sub_terms is passed when it declares none', () => {
  // torchdistill calls HIGH_LEVEL_LOSS_DICT[key](**kwargs) with the config's kwargs: the spec's w, nothing else
  // (tdc passed sub_terms/model_term to every high-level loss, and dropped its own kwargs)
  const specFile = join(dir, 'high.tdl');
  writeFileSync(specFile, 'high MyHigh(w: float = 1.0) {\n  return w * sum(student["layer3"]["output"])\n}\n');
  const hooks = "train:\n  student:\n    forward_hook:\n      input: []\n      output: ['layer3']\n  criterion:\n    key: 'MyHigh'\n";
  const sum = (tensorsOf(MSE).get('student/layer3/output')!.data as Float64Array).reduce((a, b) => a + b, 0);
  for (const [kwargs, w] of [['    kwargs:\n      w: 2.5\n', 2.5], ['', 1.0]] as const) {
    const config = join(dir, `high-${w}.yaml`);
    writeFileSync(config, hooks + kwargs);
    const r = tdc(['run', config, '--inputs', casePath(MSE, 'tensors.safetensors'), '--device', 'cpu', '--spec', specFile, '--json']);
    assert.is(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout) as RunJson;
    assert.ok(relErr(out.loss, w * sum) < 1e-12, `w = ${w}: loss ${out.loss} vs ${w * sum}`);
    // tdc inspect shows the config's kwargs of the high-level loss (it showed only those of sub-terms)
    const text = tdc(['inspect', config, '--spec', specFile]);
    assert.is(text.code, 0, text.stderr);
    const json = tdc(['inspect', config, '--spec', specFile, '--json']);
    const stage = (JSON.parse(json.stdout) as { stages: { criterion: string; criterion_kwargs?: Record<string, unknown> }[] }).stages[0]!;
    // (defaults applied, as a term's kwargs)
    assert.match(text.stdout, new RegExp(`criterion: MyHigh\\n\\s+kwargs: w=${w}\\n`));
    assert.equal(stage.criterion_kwargs, { w });
  }
});

test.after(() => rmSync(dir, { recursive: true, force: true }));

test.run();
