// `npm run example:mnist -- --quick --json`, run as a user runs it (build, tdc compile of both configs, the
// example's own tsc build, training on real MNIST digits with tfjs-webgpu and tdc's criterion). The bar: the
// student trained with KD through tdc reaches ≥ 0.88 on the held-out test digits, both timing figures are
// printed, and the number of live tfjs tensors is the same after the last step as after the first.
// No adapter: a failure when TDC_REQUIRE_GPU=1 (CI), otherwise a loud skip.
import { spawnSync } from 'node:child_process';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

const REQUIRE = process.env['TDC_REQUIRE_GPU'] === '1';

test('npm run example:mnist -- --quick --json: student_kd_acc ≥ 0.88, timings printed, no tensor leak', () => {
  const r = spawnSync('npm', ['run', '--silent', 'example:mnist', '--', '--quick', '--json'], { encoding: 'utf8', timeout: 20 * 60_000 });
  const lines = r.stdout.trim().split('\n');
  if (r.status !== 0 && !REQUIRE && /no WebGPU adapter|setBackend\('webgpu'\) failed/.test(r.stderr)) {
    console.log(`\n!!!!!!!! mnist example SKIPPED — no WebGPU adapter\n`);
    return;
  }
  assert.is(r.status, 0, `exit ${r.status} ${r.signal ?? ''}\n${r.stderr.slice(-3000)}`);
  const result = JSON.parse(lines[lines.length - 1]!) as Record<string, unknown>;
  console.log(JSON.stringify(result));
  for (const k of ['teacher_acc', 'student_alone_acc', 'student_kd_acc', 'steps', 'ms_per_step_tdc', 'ms_per_step_tfjs_loss'])
    assert.type(result[k], 'number', `${k} in ${JSON.stringify(result)}`);
  assert.ok((result['student_kd_acc'] as number) >= 0.88, `student_kd_acc ${result['student_kd_acc']} < 0.88`);
  assert.ok((result['ms_per_step_tdc'] as number) > 0 && (result['ms_per_step_tfjs_loss'] as number) > 0);
  const [first, last] = result['num_tensors_first_last'] as number[];
  assert.is(last, first, 'tf.memory().numTensors after the first and the last training step');
  assert.is(result['test_digits'], 1996);
  assert.is(result['train_digits'], 8004);
});

test.run();
