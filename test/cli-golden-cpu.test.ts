// Issue bar, checked the way a user would: for every golden case whose losses are all in CORE_LOSSES,
// `tdc run <case>/config.yaml --inputs <case>/tensors.safetensors --device cpu --json --grads-out <file>`
// matches torchdistill's float64 numbers: loss and terms to 1e-9 relative, each required gradient to
// 1e-9 of its tensor's max |value| (float64 vs float64: only summation order differs).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from './helpers/cli.js';
import { casePath, coreCases, expected, gradExcess, relErr, requiredGrads, stageArg } from './helpers/golden.js';
import { readSafetensors } from '../src/runtime/safetensors.js';

const LOSS_RTOL = 1e-9;
const GRAD_RTOL = 1e-9;

function run(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [join(ROOT, 'bin', 'tdc.js'), ...args], { env: { ...process.env, NO_COLOR: '1' } });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d) => (stdout += d));
    p.stderr.on('data', (d) => (stderr += d));
    p.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

test('tdc run --device cpu matches every core golden case', async () => {
  const cases = coreCases();
  assert.is(cases.length, 159, 'the issue names 159 core cases');
  const dir = mkdtempSync(join(tmpdir(), 'tdc-golden-cpu-'));
  const failures: string[] = [];
  let worstLoss = 0;
  let worstGrad = 0;
  const queue = [...cases];
  const worker = async (): Promise<void> => {
    for (let c = queue.shift(); c; c = queue.shift()) {
      const e = expected(c.case);
      const gradsOut = join(dir, `${c.case}.safetensors`);
      const r = await run(['run', casePath(c.case, 'config.yaml'), '--inputs', casePath(c.case, 'tensors.safetensors'), ...stageArg(e), '--device', 'cpu', '--json', '--grads-out', gradsOut]);
      if (r.code !== 0) {
        failures.push(`${c.case}: exit ${r.code}: ${r.stderr.trim().split('\n').slice(0, 4).join(' | ')}`);
        continue;
      }
      const out = JSON.parse(r.stdout) as { loss: number; terms: Record<string, { weight: number; value: number }>; grads: string[] };
      const le = relErr(out.loss, e.loss);
      worstLoss = Math.max(worstLoss, le);
      if (!(le <= LOSS_RTOL)) failures.push(`${c.case}: loss ${out.loss} vs ${e.loss} (rel ${le.toExponential(2)})`);
      for (const [name, t] of Object.entries(e.terms)) {
        const got = out.terms[name];
        if (!got) failures.push(`${c.case}: term '${name}' missing`);
        else {
          if (got.weight !== t.weight) failures.push(`${c.case}: term '${name}' weight ${got.weight} vs ${t.weight}`);
          const te = relErr(got.value, t.value);
          worstLoss = Math.max(worstLoss, te);
          if (!(te <= LOSS_RTOL)) failures.push(`${c.case}: term '${name}' ${got.value} vs ${t.value} (rel ${te.toExponential(2)})`);
        }
      }
      // Required: the sides the real config trains. The golden fragments omit `requires_grad`, and torchdistill
      // treats an absent `requires_grad` as updatable, so tdc may also return gradients for the other side:
      // each of those must exist in golden (torch's .grad is not None) and match too.
      const required = requiredGrads(e);
      const goldGrads = new Set(e.grads.map((g) => g.slice('grad/'.length)));
      for (const name of required) if (!out.grads.includes(name)) failures.push(`${c.case}: no gradient for trainable input ${name}`);
      for (const name of out.grads) if (!goldGrads.has(name)) failures.push(`${c.case}: gradient for ${name}, which torch leaves None`);
      const mine = readSafetensors(new Uint8Array(readFileSync(gradsOut))).tensors;
      const gold = readSafetensors(new Uint8Array(readFileSync(casePath(c.case, 'tensors.safetensors')))).tensors;
      for (const name of out.grads) {
        const x = mine.get(`grad/${name}`);
        const g = gold.get(`grad/${name}`);
        if (!x || !g) continue;
        if (JSON.stringify(x.shape) !== JSON.stringify(g.shape)) {
          failures.push(`${c.case}: grad/${name} shape [${x.shape}] vs [${g.shape}]`);
          continue;
        }
        const ex = gradExcess(x.data as Float64Array, g.data as Float64Array, GRAD_RTOL, 0);
        worstGrad = Math.max(worstGrad, ex * GRAD_RTOL);
        if (!(ex <= 1)) failures.push(`${c.case}: grad/${name} error ${(ex * GRAD_RTOL).toExponential(2)} of max|g|`);
      }
    }
  };
  await Promise.all([worker(), worker()]);
  rmSync(dir, { recursive: true, force: true });
  console.log(`  core golden cases on CPU: ${cases.length - new Set(failures.map((f) => f.split(':')[0])).size}/${cases.length} pass; worst loss/term rel err ${worstLoss.toExponential(2)}, worst grad err ${worstGrad.toExponential(2)} of max|g|`);
  assert.equal(failures, [], failures.slice(0, 20).join('\n'));
});

test.run();
