// Non-finite results are reported, never hidden: NaN and ±Inf propagate as in torch, and `tdc run` names which
// parts went bad — `"loss": null` plus `"nonfinite": [...]` in --json, a TDC504 warning in text — on the CPU
// executor and on the GPU path; the RunResult API (runStage) carries the same list. Exit 0: torch returns the NaN.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readSafetensors, writeSafetensors, type SafeTensor } from 'tdc-runtime';
import { runStage, type NonFinite } from '../src/index.js';
import { checkFile } from '../src/compiler/driver/check.js';
import { hasStackTrace, ROOT, tdc } from './helpers/cli.js';

const KD = join(ROOT, 'examples', 'kd', 'config.yaml');
const IO = join(ROOT, 'examples', 'kd', 'io.safetensors');
const dir = mkdtempSync(join(tmpdir(), 'tdc-nonfinite-'));
const base = readSafetensors(new Uint8Array(readFileSync(IO))).tensors;

/** The KD example's inputs with student logit [row, col] set to `v`. */
function withStudentValue(v: number, row = 2, col = 5): { file: string; tensors: Map<string, SafeTensor> } {
  const t = new Map([...base].filter(([k]) => !k.startsWith('grad/')));
  const s = t.get('student/./output')!;
  const data = (s.data as Float32Array | Float64Array).slice();
  data[row * s.shape[1]! + col] = v;
  t.set('student/./output', { ...s, data });
  const file = join(dir, `student-${String(v)}.safetensors`);
  writeFileSync(file, writeSafetensors(t));
  return { file, tensors: t };
}

interface RunJson {
  loss: number | null;
  terms: Record<string, { weight: number; value: number | null }>;
  nonfinite?: NonFinite[];
}

function checkJson(j: RunJson, where: string): void {
  assert.is(j.loss, null, `${where}: NaN loss is null in JSON`);
  assert.is(j.terms['kd']!.value, null);
  const nf = j.nonfinite ?? [];
  assert.equal(nf.map((p) => `${p.kind}${p.name ? ':' + p.name : ''}`), ['loss', 'term:kd', 'grad:student/./output'], `${where}: ${JSON.stringify(nf)}`);
  assert.is(nf[0]!.value, 'NaN');
  const g = nf[2]!;
  assert.is(g.size, 7 * 37);
  // one NaN logit poisons its row's softmax: that row's 37 gradients are NaN, the other rows stay finite
  assert.is(g.nan, 37, `${where}: ${JSON.stringify(g)}`);
  assert.is(g.posInf + g.negInf, 0);
}

test('a NaN input: --json gives loss null and names loss, term and gradient (CPU)', () => {
  const { file } = withStudentValue(NaN);
  const r = tdc(['run', KD, '--inputs', file, '--device', 'cpu', '--json']);
  assert.is(r.code, 0, r.stderr);
  checkJson(JSON.parse(r.stdout) as RunJson, 'cpu');
  assert.match(r.stderr, /warning TDC504: non-finite result: the loss \(NaN\), term 'kd' \(NaN\), gradient 'student\/\.\/output' \(37 NaN of 259\)/);
  assert.not.ok(hasStackTrace(r.stderr));
});

test('a NaN input on the GPU path: the same report (float32 NaN propagates like torch)', () => {
  const { file } = withStudentValue(NaN);
  const r = tdc(['run', KD, '--inputs', file, '--device', 'auto', '--json'], { timeoutMs: 120_000 });
  assert.is(r.code, 0, r.stderr);
  if (/TDC511/.test(r.stderr)) console.log('  (no WebGPU adapter: this ran on the CPU executor)');
  checkJson(JSON.parse(r.stdout) as RunJson, 'gpu');
});

test('text output: the NaN is printed as NaN, with the warning on stderr; finite runs carry no warning', () => {
  const { file } = withStudentValue(Infinity);
  const r = tdc(['run', KD, '--inputs', file, '--device', 'cpu']);
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stdout, /^loss = NaN$/m);
  assert.match(r.stdout, /^ {2}kd: 1 × NaN$/m);
  assert.match(r.stderr, /TDC504: non-finite result: the loss \(NaN\)/);
  assert.match(r.stderr, /gradient 'student\/\.\/output' \(\d+ NaN/);
  const ok = tdc(['run', KD, '--inputs', IO, '--device', 'cpu', '--json']);
  assert.is(ok.code, 0);
  assert.not.match(ok.stderr, /TDC504/);
  assert.is((JSON.parse(ok.stdout) as RunJson).nonfinite, undefined, 'no "nonfinite" key when all is finite');
});

test('config constants that make the loss non-finite (temperature .inf and 0): reported on the CPU and the GPU path', () => {
  for (const t of ['.inf', '0.0']) {
    const cfg = join(dir, `temperature-${t}.yaml`);
    writeFileSync(cfg, readFileSync(KD, 'utf8').replace('temperature: 1.0', `temperature: ${t}`));
    for (const device of ['cpu', 'auto']) {
      const r = tdc(['run', cfg, '--inputs', IO, '--device', device, '--json'], { timeoutMs: 120_000 });
      assert.is(r.code, 0, r.stderr);
      const j = JSON.parse(r.stdout) as RunJson;
      assert.is(j.loss, null, `temperature ${t} on ${device}: ${r.stdout}`);
      assert.ok(j.nonfinite?.some((p) => p.kind === 'loss' && p.value === 'NaN'), r.stdout);
      assert.match(r.stderr, /TDC504: non-finite result: the loss \(NaN\)/);
    }
  }
});

test('the RunResult API: runStage(...).result.nonfinite and the TDC504 warning', async () => {
  const checked = checkFile(KD);
  const stage = checked.ir!.stages[0]!;
  const { tensors } = withStudentValue(-Infinity, 0, 0);
  const r = await runStage(stage, tensors, { device: 'cpu', file: KD });
  assert.ok(r.result);
  // log_softmax of a -inf logit is -inf: KL(p_t ‖ p_s) = +Inf as in torch; the gradient stays finite (p_s = 0 there)
  assert.is(r.result.loss, Infinity);
  assert.equal(r.result.nonfinite.map((p) => [p.kind, p.value]), [['loss', 'Infinity'], ['term', 'Infinity']]);
  assert.ok(r.diagnostics.some((d) => d.code === 'TDC504' && d.severity === 'warning'));
  const fine = await runStage(stage, new Map([...base].filter(([k]) => !k.startsWith('grad/'))), { device: 'cpu', file: KD });
  assert.equal(fine.result!.nonfinite, []);
  assert.not.ok(fine.diagnostics.some((d) => d.code === 'TDC504'));
});

test.after(() => rmSync(dir, { recursive: true, force: true }));

test.run();
