// scripts/dump_io_dict.py (the PyTorch side of "check tdc against your own run"): its --demo dumps two small random
// CNNs' io_dict through a config's forward hooks; `tdc run` on that file must reproduce torch's KD loss, and the AT
// sample's hooks (layer3, layer4) must produce the names the config reads. Needs /usr/bin/python3 with torch
// (Debian: python3-torch, not installed by setup.sh): without it this test is skipped, loudly.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GOLDEN, ROOT, tdc } from './helpers/cli.js';

const PYTHON = process.env['TDC_PYTHON'] ?? '/usr/bin/python3';
const hasTorch = spawnSync(PYTHON, ['-c', 'import torch, yaml'], { encoding: 'utf8' }).status === 0;
const dir = mkdtempSync(join(tmpdir(), 'tdc-dump-'));

function dump(out: string, config: string): { tensors: Record<string, number[]>; torch_kd_loss: number } {
  const r = spawnSync(PYTHON, [join(ROOT, 'scripts', 'dump_io_dict.py'), '--demo', out, '--config', config], { encoding: 'utf8', timeout: 120_000 });
  assert.is(r.status, 0, r.stderr);
  return JSON.parse(r.stdout.trim().split('\n').pop()!);
}

if (!hasTorch) {
  console.log(`\n!!!!!!!! dump-io-dict SKIPPED — ${PYTHON} has no torch/yaml (apt-get install python3-torch python3-yaml)\n`);
} else {
  test('the KD example: tdc run on the dumped io_dict gives torch KD loss', () => {
    const file = join(dir, 'kd.safetensors');
    const d = dump(file, join(ROOT, 'examples', 'kd', 'config.yaml'));
    assert.equal(Object.keys(d.tensors).sort(), ['student/./output', 'targets', 'teacher/./output']);
    const r = tdc(['run', join(ROOT, 'examples', 'kd', 'config.yaml'), '--inputs', file, '--device', 'cpu', '--json']);
    assert.is(r.code, 0, r.stderr);
    const loss = (JSON.parse(r.stdout) as { loss: number }).loss;
    assert.ok(Math.abs(loss - d.torch_kd_loss) <= 1e-12 * Math.abs(d.torch_kd_loss), `tdc ${loss} vs torch ${d.torch_kd_loss}`);
  });

  test("the AT sample: the config's forward hooks give the names it reads, and tdc runs it", () => {
    const at = join(GOLDEN, 'sample__ilsvrc2012__at__resnet18_from_resnet34', 'config.yaml');
    const file = join(dir, 'at.safetensors');
    const d = dump(file, at);
    for (const side of ['student', 'teacher']) for (const layer of ['layer3', 'layer4']) assert.ok(d.tensors[`${side}/${layer}/output`]?.length === 4, `${side}/${layer}/output is NCHW`);
    const r = tdc(['run', at, '--inputs', file, '--device', 'cpu', '--json']);
    assert.is(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout) as { loss: number; terms: Record<string, { value: number }> };
    assert.ok(Number.isFinite(out.loss) && out.terms['at_loss']!.value > 0, JSON.stringify(out));
  });
}

test.after(() => rmSync(dir, { recursive: true, force: true }));
test.run();
