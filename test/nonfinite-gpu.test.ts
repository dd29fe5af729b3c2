// Non-finite constants on the GPU behave as torch: a temperature of 0, ∞ or NaN, a NaN weight and `x / 0` in a
// spec give NaN (torch 1.13: KD at T = 0, ∞, NaN → nan; mean(s / 0.0), mean(s * 0.0) / 0.0 → nan), never a
// finite number (WGSL has no NaN/inf literals, and drivers fold `x / 0.0` and `x * 0.0` to 0) and never an
// internal error. Each case runs `tdc run --device gpu` and `--device cpu` (the torch-checked oracle) and the two
// must agree: both NaN (`"loss": null`), or both finite and close.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeSafetensors } from 'tdc-runtime/node';
import { hasStackTrace, ROOT, tdc } from './helpers/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'tdc-nonfinite-'));
const KD = readFileSync(join(ROOT, 'examples', 'kd', 'config.yaml'), 'utf8');
const KD_IO = join(ROOT, 'examples', 'kd', 'io.safetensors');

function loss(args: string[], device: 'cpu' | 'gpu', what: string): number | null {
  const r = tdc([...args, '--device', device, '--json']);
  assert.is(r.code, 0, `${what} (${device}): exit ${r.code}\n${r.stderr}`);
  assert.not.ok(hasStackTrace(r.stderr), r.stderr);
  assert.not.match(r.stderr, /TDC690|internal error/, `${what} (${device})`);
  return (JSON.parse(r.stdout) as { loss: number | null }).loss;
}

function agree(args: string[], what: string, expectNaN: boolean): void {
  const cpu = loss(args, 'cpu', what);
  const gpu = loss(args, 'gpu', what);
  assert.is(cpu === null, expectNaN, `${what}: the CPU executor gives ${cpu}`);
  if (cpu === null) assert.is(gpu, null, `${what}: torch and the CPU executor give NaN, the GPU gave ${gpu}`);
  else assert.ok(gpu !== null && Math.abs(gpu - cpu) <= 1e-4 * Math.max(1, Math.abs(cpu)), `${what}: GPU ${gpu} vs CPU ${cpu}`);
}

test('KD example: temperature 0, ∞ and NaN, and a NaN weight, give NaN on the GPU as in torch', () => {
  assert.match(KD, /temperature: 1\.0/);
  assert.match(KD, /weight: 1\.0/);
  const cases: [string, string, boolean][] = [
    ['temperature 1 (control)', KD, false],
    ['temperature 0', KD.replace('temperature: 1.0', 'temperature: 0.0'), true],
    ['temperature ∞', KD.replace('temperature: 1.0', 'temperature: .inf'), true],
    ['temperature NaN', KD.replace('temperature: 1.0', 'temperature: .nan'), true],
    ['weight NaN', KD.replace('weight: 1.0', 'weight: .nan'), true],
  ];
  for (const [what, text, nan] of cases) {
    const cfg = join(dir, 'kd.yaml');
    writeFileSync(cfg, text);
    agree(['run', cfg, '--inputs', KD_IO], what, nan);
  }
});

const CONFIG = `train:
  student: {forward_hook: {input: [], output: ['layer3']}}
  teacher: {forward_hook: {input: [], output: ['layer3']}}
  criterion:
    key: 'WeightedSumLoss'
    kwargs:
      sub_terms:
        my:
          criterion:
            key: 'MyTerm'
            kwargs: {student_module_path: 'layer3', student_module_io: 'output', teacher_module_path: 'layer3', teacher_module_io: 'output'}
          weight: 0.5
`;
const spec = (expr: string): string => `mid MyTerm(student_module_path: path, student_module_io: io, teacher_module_path: path, teacher_module_io: io) {
  let s = student[student_module_path][student_module_io]
  let t = teacher[teacher_module_path][teacher_module_io]
  return ${expr}
}
`;

test('spec programs dividing by a constant 0 (or multiplying a non-finite value by 0) give NaN/inf as torch', () => {
  const cfg = join(dir, 'my.yaml');
  writeFileSync(cfg, CONFIG);
  const io = join(dir, 'my.safetensors');
  // s holds an exact 0 (0/0 = NaN) and both signs (±inf)
  const s = Float32Array.from({ length: 12 }, (_, i) => (i - 5) * 0.3);
  const t = Float32Array.from({ length: 12 }, (_, i) => (i % 3) * 0.7 - 0.2);
  writeFileSync(
    io,
    writeSafetensors(
      new Map([
        ['student/layer3/output', { dtype: 'F32', shape: [3, 4], data: s }],
        ['teacher/layer3/output', { dtype: 'F32', shape: [3, 4], data: t }],
      ]),
    ),
  );
  const cases: [string, boolean][] = [
    ['mean(abs(s - t))', false],
    ['mean(s / 0.0)', true],
    ['mean(abs(s) / 0.0)', true],
    ['mean(s / -0.0)', true],
    ['mean(s - t) / 0.0', true],
    ['mean(s * 0.0) / 0.0', true],
    ['mean(s * 0.0)', false],
  ];
  for (const [expr, nan] of cases) {
    const file = join(dir, 'my.tdl');
    writeFileSync(file, spec(expr));
    agree(['--spec', file, 'run', cfg, '--inputs', io], expr, nan);
  }
});

test.after(() => rmSync(dir, { recursive: true, force: true }));
test.run();
