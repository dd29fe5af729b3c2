// SSKD's ratio cut inside a tie of integer ranks (issue 10): tdc keeps the tied rows of lowest index (stable
// ascending order), torchdistill's unstable argsort may keep others, so `tdc run` warns (TDC540) naming the tied
// rows of the 4-view batch. golden/sample…sskd…stage2: ss ranks [2, 1, 1, 0, 0, 2, 0, 2, 0] over the 9
// augmented rows, keep 7 = 4 correct + int(5 · 0.75): augmented rows 0, 5, 7 share rank 2 and only row 0 is kept
// (recomputed from the case's teacher ss outputs with torch 1.13); they are rows 1, 7, 10 of the batch.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { join } from 'node:path';
import { GOLDEN, tdcAsync } from './helpers/cli.js';

async function run(caseId: string, stage?: string): Promise<{ code: number | null; stderr: string }> {
  const dir = join(GOLDEN, caseId);
  return tdcAsync(['run', join(dir, 'config.yaml'), '--inputs', join(dir, 'tensors.safetensors'), ...(stage ? ['--stage', stage] : []), '--device', 'cpu', '--json']);
}

test('a tie of ranks straddling the ss_ratio cut is a warning naming the tied batch rows', async () => {
  const r = await run('sample__ilsvrc2012__sskd__resnet18_from_resnet34__stage2', 'stage2');
  assert.is(r.code, 0, r.stderr);
  const warnings = r.stderr.split('\n').filter((l) => l.includes('TDC540'));
  assert.is(warnings.length, 1, r.stderr);
  assert.match(warnings[0]!, /ss_ratio cut .* tie of equal label ranks; tdc keeps the tied rows of lowest index .*Tied rows of the 4-view batch: 1, 7, 10$/);
});

test('no warning when the cut falls between ranks (edge__doc_SSKDLoss) or keeps every row (tf_ratio 1.0)', async () => {
  const r = await run('edge__doc_SSKDLoss');
  assert.is(r.code, 0, r.stderr);
  assert.not.match(r.stderr, /TDC540/);
});

test.run();
