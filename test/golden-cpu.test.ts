// Numeric parity on the CPU executor (float64) against golden/: every case whose losses are all among the
// core specs (CE, MSE, KD, LogitStdKD, KLDiv, L1, SmoothL1, model_term). Loss and terms to 1e-9 relative;
// each trained input's gradient to 1e-9 of its max |value|; no gradient for frozen sides.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { formatDiagnostic } from '../src/diagnostics/format.js';
import { runStageOnCpu } from '../src/compiler/run-cpu.js';
import { readSafetensors } from 'tdc-runtime';
import { specSource } from '../src/registry/registry.js';
import { loadGoldenStage, GOLDEN_DIR } from './helpers/golden-stage.js';

const CORE = new Set(['CrossEntropyLoss', 'MSELoss', 'KDLoss', 'LogitStdKDLoss', 'KLDivLoss', 'L1Loss', 'SmoothL1Loss', 'model_term']);
const LOSS_RTOL = 1e-9;
const GRAD_RTOL = 1e-9;

interface Expected {
  loss: number;
  stage: string;
  terms: Record<string, { weight: number; value: number }>;
  model_term: { weight: unknown; value: number } | null;
  grads: string[];
  trainable: { student: boolean | null; teacher: boolean | null };
  io_entries: { side: string; names: string[] }[];
}

const index = JSON.parse(readFileSync(join(GOLDEN_DIR, 'index.json'), 'utf8')) as { cases: { case: string; losses: string[] }[] };
const cases = index.cases.filter((c) => c.losses.every((l) => CORE.has(l)));

const rel = (x: number, g: number) => Math.abs(x - g) / Math.max(Math.abs(g), 1e-300);
const worst = { loss: { err: 0, case: '' }, grad: { err: 0, case: '' } };
const failures: string[] = [];

test(`golden cases with core losses (${cases.length})`, async () => {
  assert.ok(cases.length > 0, 'golden/index.json lists core cases');
  for (const c of cases) {
    const problems = checkCase(c.case);
    if (problems.length) failures.push(`${c.case}:\n    ${problems.join('\n    ')}`);
  }
  if (failures.length) console.log(failures.slice(0, 20).join('\n'));
  console.log(
    `golden-cpu: ${cases.length - failures.length}/${cases.length} pass; worst loss/term rel err ${worst.loss.err.toExponential(2)} (${worst.loss.case}), worst grad err/max|g| ${worst.grad.err.toExponential(2)} (${worst.grad.case})`,
  );
  assert.is(failures.length, 0, `${failures.length} golden cases differ`);
});

function checkCase(id: string): string[] {
  const dir = join(GOLDEN_DIR, id);
  const expected = JSON.parse(readFileSync(join(dir, 'expected.json'), 'utf8')) as Expected;
  const { stage, diagnostics: rd, text, file } = loadGoldenStage(dir, expected.stage);
  const show = (ds: typeof rd) => ds.filter((d) => d.severity === 'error').map((d) => formatDiagnostic(d, (f) => (f === file ? text : specSource(f))));
  if (!stage) return [`no stage '${expected.stage}'`, ...show(rd)];
  if (show(rd).length) return show(rd);
  // config.yaml is a fragment without the models' requires_grad; expected.json records what the real config trains
  stage.trainable = { student: expected.trainable.student !== false, teacher: expected.trainable.teacher === true };
  const { tensors } = readSafetensors(new Uint8Array(readFileSync(join(dir, 'tensors.safetensors'))));
  const inputs = new Map([...tensors].filter(([n]) => !n.startsWith('grad/') && !n.startsWith('state_out/')));
  const { result, diagnostics } = runStageOnCpu(stage, inputs);
  if (!result) return show(diagnostics);
  const problems: string[] = [];
  const cmp = (what: string, x: number, g: number) => {
    const e = rel(x, g);
    if (e > worst.loss.err) Object.assign(worst.loss, { err: e, case: `${id} ${what}` });
    if (!(e <= LOSS_RTOL)) problems.push(`${what}: got ${x}, expected ${g} (rel ${e.toExponential(2)})`);
  };
  cmp('loss', result.loss, expected.loss);
  for (const [name, t] of Object.entries(expected.terms)) {
    const got = result.terms[name];
    if (!got) problems.push(`term '${name}' missing`);
    else {
      cmp(`term ${name}`, got.value, t.value);
      if (got.weight !== t.weight) problems.push(`term ${name} weight ${got.weight} != ${t.weight}`);
    }
  }
  for (const name of Object.keys(result.terms)) if (!(name in expected.terms)) problems.push(`unexpected term '${name}'`);
  if (expected.model_term) {
    if (!result.modelTerm) problems.push('model term missing');
    else cmp('model term', result.modelTerm.value, expected.model_term.value);
  }
  // gradients: trained sides must match; frozen sides must have none
  const trained = (input: string) =>
    input.startsWith('model_loss/') ? true : input.startsWith('teacher/') ? expected.trainable.teacher === true : input.startsWith('student/') ? expected.trainable.student === true : false;
  for (const g of expected.grads) {
    const input = g.slice('grad/'.length);
    if (!trained(input)) continue;
    const want = tensors.get(g)!;
    const got = result.grads.get(input);
    if (!got) {
      problems.push(`no gradient for ${input}`);
      continue;
    }
    const w = Float64Array.from(want.data as Float64Array);
    let maxAbs = 0;
    for (const v of w) maxAbs = Math.max(maxAbs, Math.abs(v));
    let err = 0;
    for (let i = 0; i < w.length; i++) err = Math.max(err, Math.abs(got.data[i]! - w[i]!));
    const e = maxAbs > 0 ? err / maxAbs : err;
    if (e > worst.grad.err) Object.assign(worst.grad, { err: e, case: `${id} ${g}` });
    if (got.data.length !== w.length || !(e <= GRAD_RTOL)) problems.push(`${g}: max err ${err.toExponential(2)} over max|g| ${maxAbs.toExponential(2)}`);
  }
  for (const input of result.grads.keys()) {
    if (!trained(input)) problems.push(`gradient emitted for the frozen input ${input}`);
    else if (!expected.grads.includes(`grad/${input}`)) problems.push(`gradient emitted for ${input}, which has none in golden`);
  }
  return problems;
}

test('golden dir present', () => {
  assert.ok(existsSync(GOLDEN_DIR));
});

test.run();
