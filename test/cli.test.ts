// The CLI as a user meets it: tdc check over the 282 real configs, hostile input, usage errors.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CONFIGS, hasStackTrace, tdc } from './helpers/cli.js';

const CCKD = 'sample/ilsvrc2012/cckd/resnet18_from_resnet50.yaml';

test('tdc check over all 282 real configs: one error, in the CCKD config, naming kernel_config', () => {
  const r = tdc(['check', '--json', CONFIGS]);
  assert.not.ok(hasStackTrace(r.stderr), r.stderr);
  const files = JSON.parse(r.stdout) as { file: string; stages: unknown[]; diagnostics: { severity: string; code: string; message: string; line: number; column: number }[] }[];
  assert.is(files.length, 282);
  const errors = files.flatMap((f) => f.diagnostics.filter((d) => d.severity === 'error').map((d) => ({ file: f.file, ...d })));
  assert.is(errors.length, 1, JSON.stringify(errors, null, 1).slice(0, 3000));
  assert.ok(errors[0]!.file.endsWith(CCKD), errors[0]!.file);
  assert.match(errors[0]!.message, /kernel_config/);
  assert.ok(errors[0]!.line > 0 && errors[0]!.column > 0);
  assert.is(r.code, 1);
  for (const f of files) assert.ok(f.stages.length > 0 || f.file.endsWith(CCKD), `${f.file} has no stages`);
});

test('tdc check text output is tsc-style with a code frame, on stderr; the summary on stdout', () => {
  const r = tdc(['check', join(CONFIGS, CCKD)]);
  assert.is(r.code, 1);
  assert.match(r.stderr, /resnet18_from_resnet50\.yaml:\d+:\d+ - error TDC\d+: /);
  assert.match(r.stderr, /kernel_params/);
  assert.match(r.stderr, /~+/);
  assert.match(r.stdout, /^Checked 1 file: 1 error in 1 file/);
  assert.not.match(r.stdout, /TDC\d+/);
  assert.not.ok(hasStackTrace(r.stdout + r.stderr));
});

test('tdc check of a good config exits 0', () => {
  const r = tdc(['check', join(CONFIGS, 'sample/ilsvrc2012/kd/resnet18_from_resnet34.yaml')]);
  assert.is(r.code, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /0 errors/);
});

const hostile: [string, string | Buffer][] = [
  ['malformed.yaml', 'train:\n  criterion:\n    key: [unclosed\n    kwargs: {\n'],
  ['tabs.yaml', 'train:\n\tcriterion: 1\n'],
  ['alias-bomb.yaml', ['a: &a ["x","x","x","x","x","x","x","x","x","x"]', ...Array.from({ length: 9 }, (_, i) => `${String.fromCharCode(98 + i)}: &${String.fromCharCode(98 + i)} [${Array(10).fill('*' + String.fromCharCode(97 + i)).join(',')}]`)].join('\n') + '\n'],
  ['deep.yaml', 'a: ' + '['.repeat(100_000) + ']'.repeat(100_000) + '\n'],
  ['deep-map.yaml', Array.from({ length: 3000 }, (_, i) => ' '.repeat(i) + `k${i}:`).join('\n') + ' 1\n'],
  ['binary.yaml', Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7919 + 13) % 256))],
  ['empty.yaml', ''],
  ['comments.yaml', '# nothing here\n# at all\n'],
  ['scalar.yaml', 'just a string\n'],
  ['unknown-key.yaml', "train:\n  model:\n    forward_hook: {input: [], output: []}\n  criterion:\n    key: 'WeightedSumLoss'\n    kwargs:\n      sub_terms:\n        kd:\n          criterion:\n            key: 'KDLos'\n            kwargs: {temperature: 1.0}\n          weight: 1.0\n"],
  ['typo-kwarg.yaml', "train:\n  teacher:\n    forward_hook: {input: [], output: []}\n  student:\n    forward_hook: {input: [], output: []}\n  criterion:\n    key: 'WeightedSumLoss'\n    kwargs:\n      sub_terms:\n        kd:\n          criterion:\n            key: 'KDLoss'\n            kwargs:\n              student_module_path: '.'\n              student_module_io: 'output'\n              teacher_module_path: '.'\n              teacher_module_io: 'output'\n              temprature: 1.0\n          weight: 1.0\n"],
  ['wrong-type.yaml', "train:\n  teacher:\n    forward_hook: {input: [], output: []}\n  student:\n    forward_hook: {input: [], output: []}\n  criterion:\n    key: 'WeightedSumLoss'\n    kwargs:\n      sub_terms:\n        kd:\n          criterion:\n            key: 'KDLoss'\n            kwargs:\n              student_module_path: '.'\n              student_module_io: 'output'\n              teacher_module_path: '.'\n              teacher_module_io: 'outptu'\n              temperature: 'hot'\n          weight: 1.0\n"],
];

test('hostile and broken input: a diagnostic with a position, non-zero exit, no stack trace, no hang', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tdc-hostile-'));
  try {
    for (const [name, content] of hostile) {
      const p = join(dir, name);
      writeFileSync(p, content);
      const r = tdc(['check', '--json', p], { timeoutMs: 20_000 });
      assert.ok(r.code !== null, `${name}: killed after timeout`);
      assert.ok(r.code !== 0, `${name}: exit 0`);
      assert.not.ok(hasStackTrace(r.stdout + r.stderr), `${name}: stack trace\n${r.stderr}`);
      const out = JSON.parse(r.stdout) as { diagnostics: { severity: string; line: number | null }[] }[];
      const errs = out[0]!.diagnostics.filter((d) => d.severity === 'error');
      assert.ok(errs.length > 0, `${name}: no error diagnostic`);
      if (name !== 'binary.yaml') assert.ok(errs.every((d) => typeof d.line === 'number' && d.line > 0), `${name}: error without a position: ${JSON.stringify(errs)}`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('typos get did-you-mean', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tdc-typo-'));
  try {
    const [[n1, c1], [n2, c2]] = [hostile.find((h) => h[0] === 'unknown-key.yaml')!, hostile.find((h) => h[0] === 'typo-kwarg.yaml')!];
    writeFileSync(join(dir, n1), c1);
    writeFileSync(join(dir, n2), c2);
    const a = tdc(['check', join(dir, n1)]);
    assert.match(a.stderr, /KDLoss/);
    assert.match(a.stderr, /did you mean/);
    const b = tdc(['check', join(dir, n2)]);
    assert.match(b.stderr, /temprature/);
    assert.match(b.stderr, /temperature/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('usage errors and --help', () => {
  const h = tdc(['--help']);
  assert.is(h.code, 0);
  for (const cmd of ['check', 'inspect', 'list', 'run', 'compile']) assert.match(h.stdout, new RegExp(`\\b${cmd}\\b`));
  const u = tdc(['frobnicate']);
  assert.is(u.code, 2);
  assert.not.ok(hasStackTrace(u.stderr));
  const m = tdc(['check', '/nonexistent/x.yaml']);
  assert.is(m.code, 1);
  assert.not.ok(hasStackTrace(m.stdout + m.stderr));
});

test('tdc list shows every built-in level with signatures', () => {
  const r = tdc(['list', '--json']);
  assert.is(r.code, 0, r.stderr);
  const entries = JSON.parse(r.stdout) as { key: string; level: string; params: { name: string; required: boolean }[] }[];
  const keys = new Set(entries.map((e) => e.key));
  for (const k of ['WeightedSumLoss', 'SimpleLossWrapper', 'DictLossWrapper', 'extract_model_loss_dict', 'KDLoss', 'SKDDirectionLoss', 'CrossEntropyLoss', 'KLDivLoss', 'MSELoss', 'L1Loss', 'SmoothL1Loss', 'HuberLoss', 'BCELoss', 'BCEWithLogitsLoss', 'NLLLoss', 'CosineEmbeddingLoss'])
    assert.ok(keys.has(k), `missing ${k}`);
  assert.is(entries.filter((e) => e.level === 'mid').length, 25);
  const kd = entries.find((e) => e.key === 'KDLoss')!;
  assert.ok(kd.params.find((p) => p.name === 'temperature')!.required);
  assert.not.ok(kd.params.find((p) => p.name === 'alpha')!.required);
});

test.run();
