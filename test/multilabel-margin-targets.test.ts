// MultiLabelMarginLoss's target: torch 1.13 checks that every value lies in [-1, C), also one past the first -1
// (which ends the labels; what follows is ignored by the loss but still checked: "argument #2 'target' is out of
// range"). tdc read values only up to the first -1, so one out of range after it gave a loss, and one before it
// failed inside tdc's own MultiLabelMarginLoss.tdl (the CPU executor's gather, the GPU's computed-index check).
// Now the target is an index input checked before anything runs, on both devices, with torch's rule and message,
// positioned at the config term whose loss reads it (tdc's spec line follows as related). A user's own spec that
// indexes with an input is positioned at its call.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeSafetensors } from 'tdc-runtime';
import { hasStackTrace, noLossPrinted, tdc } from './helpers/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'tdc-mlm-targets-'));
const SPEC = join(dir, 'mlm.tdl');
writeFileSync(
  SPEC,
  `mid MLM(**kwargs: MultiLabelMarginLoss) {
  let o = student["."]["output"]
  return low_loss("MultiLabelMarginLoss", kwargs)(o, targets)
}
# a user's loss indexing with the targets itself
mid Picks() {
  let o = student["."]["output"]
  return sum(one_hot(targets, 4) * o)
}
`,
);
const config = (key: string): string => {
  const file = join(dir, `${key}.yaml`);
  writeFileSync(
    file,
    `train:
  criterion:
    key: 'WeightedSumLoss'
    kwargs:
      sub_terms:
        term:
          criterion:
            key: '${key}'
            kwargs: {}
          weight: 1.0
`,
  );
  return file;
};
const MLM = config('MLM');

function inputs(name: string, targets: number[], shape = [2, 4]): string {
  const file = join(dir, `${name}.safetensors`);
  const x = Float64Array.from({ length: 8 }, (_, i) => Math.sin(i + 1));
  writeFileSync(
    file,
    writeSafetensors(
      new Map([
        ['student/./output', { dtype: 'F64', shape: [2, 4], data: x }],
        ['targets', { dtype: 'I64', shape, data: BigInt64Array.from(targets, BigInt) }],
      ]),
    ),
  );
  return file;
}

// [what, targets [2, 4], the first bad element and its value] (each refused by torch 1.13's multilabel_margin_loss)
const BAD: [string, number[], number, number][] = [
  ['a class ≥ C after the first -1', [1, -1, 7, 0, 2, 3, -1, 0], 2, 7],
  ['a value below -1 after the first -1', [1, -1, -5, 0, 2, 3, -1, 0], 2, -5],
  ['a class ≥ C before the first -1', [1, 7, -1, 0, 2, 3, -1, 0], 1, 7],
  ['-2 first', [-2, 1, -1, 0, 2, 3, -1, 0], 0, -2],
];

test('MultiLabelMarginLoss: a target value outside [-1, C) anywhere in the row is TDC524 on both devices, at the config term, as torch raises', () => {
  for (const [what, targets, element, value] of BAD) {
    const file = inputs('bad', targets);
    for (const device of ['cpu', 'gpu']) {
      const r = tdc(['run', MLM, '--inputs', file, '--spec', SPEC, '--device', device]);
      const ctx = `${what} (${device})`;
      assert.is(r.code, 1, `${ctx}: exit ${r.code}\n${r.stdout}${r.stderr}`);
      noLossPrinted(r, false, ctx);
      assert.not.ok(hasStackTrace(r.stderr), r.stderr);
      assert.ok(r.stderr.includes(`${MLM}:6:9 - error TDC524`), `${ctx}: positioned at the config term:\n${r.stderr}`);
      assert.ok(
        r.stderr.includes(`'targets' element ${element} is ${value}: a class index of a -1-terminated target must lie in [0, 4) or be -1 (torch raises "argument #2 'target' is out of range")`),
        `${ctx}:\n${r.stderr}`,
      );
      assert.match(r.stderr, /related: .*MultiLabelMarginLoss\.tdl:\d+:\d+: read here, in tdc's built-in spec/);
    }
  }
});

test('MultiLabelMarginLoss: in-range values after the first -1 are checked and ignored, the same loss on both devices', () => {
  const losses = ['cpu', 'gpu'].map((device) => {
    const r = tdc(['run', MLM, '--inputs', inputs('ok', [1, -1, 3, -1, 2, 3, -1, 0]), '--spec', SPEC, '--device', device, '--json']);
    assert.is(r.code, 0, r.stderr);
    return (JSON.parse(r.stdout) as { loss: number }).loss;
  });
  const same = tdc(['run', MLM, '--inputs', inputs('ok2', [1, -1, 0, 0, 2, 3, -1, 3]), '--spec', SPEC, '--device', 'cpu', '--json']);
  assert.is(same.code, 0, same.stderr);
  assert.is((JSON.parse(same.stdout) as { loss: number }).loss, losses[0]);
  assert.ok(Math.abs(losses[1]! - losses[0]!) <= 1e-6 * Math.abs(losses[0]!), `gpu ${losses[1]} vs cpu ${losses[0]}`);
});

test("an index input read by the user's own spec: TDC524 at that spec's call, the config term related, on both devices", () => {
  const picks = config('Picks');
  const file = inputs('picks', [1, 9], [2]);
  for (const device of ['cpu', 'gpu']) {
    const r = tdc(['run', picks, '--inputs', file, '--spec', SPEC, '--device', device]);
    assert.is(r.code, 1, `${device}: exit ${r.code}\n${r.stdout}${r.stderr}`);
    assert.ok(r.stderr.includes(`${SPEC}:8:14 - error TDC524`), `${device}:\n${r.stderr}`);
    assert.ok(r.stderr.includes("'targets' element 1 is 9: a one_hot class value must lie in [0, 4)"), r.stderr);
    assert.ok(r.stderr.includes(`related: ${picks}:6:9: in the loss of this term`), r.stderr);
  }
});

test.run();
