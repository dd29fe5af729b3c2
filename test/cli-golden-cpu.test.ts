// The oracle, checked the way a user would: for every golden case,
// `tdc run <case>/config.yaml --inputs <case>/tensors.safetensors --device cpu --json --grads-out <f> [--state-out <f>]`
// against torchdistill's float64 numbers: loss and terms to 1e-9 relative, every gradient (trainable sides
// required; any other tdc returns must exist in golden) and every state_out tensor to 1e-9 of the golden
// tensor's max |value|. Float64 against float64: only summation order differs, so 1e-9 is generous.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tdcAsync } from './helpers/cli.js';
import { casePath, checkRun, coreCases, expected, indexedCases, nonCoreCases, stageArg, torchIndex, type GoldenIndexCase, type RunJson } from './helpers/golden.js';
import { GOLDEN, GOLDEN_TORCH } from './helpers/cli.js';

const RTOL = 1e-9;

async function runCases(label: string, cases: GoldenIndexCase[]): Promise<{ failures: string[]; stateful: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'tdc-golden-cpu-'));
  const failures: string[] = [];
  const failed = new Set<string>();
  let worstLoss = 0;
  let worstGrad = 0;
  let worstState = 0;
  let stateful = 0;
  const queue = [...cases];
  const worker = async (): Promise<void> => {
    for (let c = queue.shift(); c; c = queue.shift()) {
      const e = expected(c.case);
      const files = { grads: join(dir, `${c.case}.grads.safetensors`), ...(e.state?.out.length ? { state: join(dir, `${c.case}.state.safetensors`) } : {}) };
      if (files.state) stateful++;
      const args = ['run', casePath(c.case, 'config.yaml'), '--inputs', casePath(c.case, 'tensors.safetensors'), ...stageArg(e), '--device', 'cpu', '--json'];
      args.push('--grads-out', files.grads, ...(files.state ? ['--state-out', files.state] : []));
      const r = await tdcAsync(args);
      if (r.code !== 0) {
        failures.push(`${c.case}: exit ${r.code}: ${r.stderr.trim().split('\n').slice(0, 4).join(' | ')}`);
        failed.add(c.case);
        continue;
      }
      const k = checkRun(c.case, JSON.parse(r.stdout) as RunJson, files, RTOL);
      if (k.failures.length) failed.add(c.case);
      failures.push(...k.failures);
      worstLoss = Math.max(worstLoss, k.worstLoss);
      worstGrad = Math.max(worstGrad, k.worstGrad);
      worstState = Math.max(worstState, k.worstState);
    }
  };
  await Promise.all([worker(), worker()]);
  rmSync(dir, { recursive: true, force: true });
  console.log(
    `  ${label}: ${cases.length - failed.size}/${cases.length} pass; worst loss/term rel err ${worstLoss.toExponential(2)}, ` +
      `worst grad err ${worstGrad.toExponential(2)} of max|g|${stateful ? `, worst state err ${worstState.toExponential(2)} of max|value|` : ''}`,
  );
  return { failures, stateful };
}

test('the suites below cover every case of golden/index.json and golden-torch/index.json', () => {
  assert.is(coreCases().length + nonCoreCases().length, indexedCases(GOLDEN).length);
  assert.is(torchIndex().length, indexedCases(GOLDEN_TORCH).length);
});

test(`tdc run --device cpu matches the ${coreCases().length} core golden cases (CE, MSE, KD, LogitStdKD, KLDiv, L1, SmoothL1, model_term)`, async () => {
  const cases = coreCases();
  assert.ok(cases.length > 0);
  const { failures } = await runCases('core golden cases on CPU', cases);
  assert.equal(failures, [], failures.slice(0, 20).join('\n'));
});

test(`tdc run --device cpu matches the ${nonCoreCases().length} other golden cases (every mid-level loss, CRD state_out included)`, async () => {
  const cases = nonCoreCases();
  assert.ok(cases.length > 0);
  const { failures, stateful } = await runCases('non-core golden cases on CPU', cases);
  assert.is(stateful, cases.filter((c) => c.losses.includes('CRDLoss')).length, 'the CRD cases carry state');
  assert.equal(failures, [], failures.slice(0, 20).join('\n'));
});

test(`tdc run --device cpu matches the ${torchIndex().length} golden-torch cases (every torch.nn loss a config can feed, every option)`, async () => {
  const cases = torchIndex();
  assert.ok(cases.length > 0);
  const { failures } = await runCases('golden-torch cases on CPU', cases);
  assert.equal(failures, [], failures.slice(0, 20).join('\n'));
});

test.run();
