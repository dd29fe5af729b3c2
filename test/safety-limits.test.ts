// Limits checked before allocating, as a user meets them: configs and spec programs that would need huge lists,
// endless loops or absurdly deep graphs end in a positioned diagnostic (exit 1), within a bounded heap
// (NODE_OPTIONS caps it: exhausting it would crash the process and fail the test), never a stack trace or an
// internal error. Also: a --spec that redefines a built-in is an error unless it says `# tdc: override`.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CONFIGS, GOLDEN, hasStackTrace, noLossPrinted, tdc, type CliResult } from './helpers/cli.js';
import { customTermConfig, customTermSpec } from './helpers/custom-term.js';

const dir = mkdtempSync(join(tmpdir(), 'tdc-limits-'));
const BOUNDED = { NODE_OPTIONS: '--max-old-space-size=384' };

function bounded(args: string[]): CliResult {
  return tdc(args, { env: BOUNDED, timeoutMs: 120_000 });
}

function diagnoses(r: CliResult, ...patterns: (string | RegExp)[]): void {
  const all = r.stdout + r.stderr;
  assert.is(r.code, 1, `exit ${r.code}: ${all.slice(0, 2000)}`);
  assert.not.ok(hasStackTrace(all), all);
  assert.not.match(all, /internal error/);
  for (const p of patterns) assert.match(all, p);
}

const CCKD = readFileSync(join(CONFIGS, 'sample', 'ilsvrc2012', 'cckd', 'resnet18_from_resnet50.yaml'), 'utf8')
  .replace("kernel_params:\n                key: 'gaussian'", "kernel_config:\n                type: 'gaussian'");

test('CCKD with max_p: 1000000000: tdc check and compile end in TDC414 naming range()', () => {
  assert.match(CCKD, /kernel_config:\n\s+type: 'gaussian'/, 'fixture edit applied');
  const cfg = join(dir, 'cckd.yaml');
  writeFileSync(cfg, CCKD.replace(/max_p: \d+/, 'max_p: 1000000000'));
  diagnoses(bounded(['check', cfg]), /TDC414/, /range\(\) would have 1,000,000,000 elements/, /cckd\.yaml:\d+:\d+/);
  diagnoses(bounded(['compile', cfg, '-o', join(dir, 'out'), '--no-glue']), /TDC414/);
  // A count under the list limit but too long a chain of kernels' math: the graph limit.
  writeFileSync(cfg, CCKD.replace(/max_p: \d+/, 'max_p: 5000'));
  diagnoses(bounded(['compile', cfg, '-o', join(dir, 'out'), '--no-glue']), /TDC414/, /chain more than 500 operations/);
});

const CONFIG = customTermConfig('MyL1', { module: 'layer3', weight: 0.5 });
const spec = (body: string): string => customTermSpec('MyL1', body);

const PROGRAMS: [string, string, RegExp][] = [
  ['range(1e9)', '  let x = 0\n  for i in range(1e9) { x = x + 1 }\n  return mean(abs(s - t)) * x', /range\(\) would have 1,000,000,000 elements/],
  ['two nested 3000-step loops', '  let x = 0\n  for i in range(3000) { for j in range(3000) { x = x + 1 } }\n  return mean(abs(s - t)) * x', /more than 1,000,000 steps/],
  ['a list doubled 40 times', '  let l = [1]\n  for i in range(40) { l = l + l }\n  return mean(abs(s - t)) * len(l)', /this list would have 131,072 elements/],
  ['a string doubled 40 times', '  let l = "ab"\n  for i in range(40) { l = l + l }\n  return mean(abs(s - t))', /this string would be 1,048,576 characters/],
  ['a 10k-term + chain', `  return mean(abs(s - t))${' + 1.0'.repeat(10_000)}`, /TDC310.*nested more than 256 levels/],
  ['5000 nested parentheses', `  return ${'('.repeat(5000)}mean(abs(s - t))${')'.repeat(5000)}`, /TDC310.*nests too deeply/],
  [
    'two lists doubled 40 times (shared halves: 2^40 leaves) compared with ==',
    '  let z = [1]\n  let w = [1]\n  for i in range(40) {\n    z = [z, z]\n    w = [w, w]\n  }\n  return (z == w) ? mean(abs(s - t)) : mean(abs(s - t))',
    /TDC414.*more than 1,000,000 steps: comparing these values with ==/,
  ],
  ['str() of a list doubled 40 times', '  let z = [1]\n  for i in range(40) { z = [z, z] }\n  return mean(abs(s - t)) + len(str(z))', /TDC414.*str\(\) of this value would be more than 1,000,000 characters/],
  ['str() of a list doubled 22 times (29M characters)', '  let z = [1]\n  for i in range(22) { z = [z, z] }\n  return mean(abs(s - t)) + len(str(z))', /TDC414.*str\(\) of this value would be more than 1,000,000/],
  ['4000 prefix minuses', `  return ${'- '.repeat(4000)}mean(abs(s - t))`, /TDC310.*nested more than 256 levels/],
  ['10000 nots', `  return (${'not '.repeat(10_000)}true) ? mean(abs(s - t)) : 0.0`, /TDC310.*nested more than 256 levels/],
  ['a tensor op chained 20000 times', '  let x = mean(abs(s - t))\n  for i in range(20000) { x = x * 1.0001 + 0.5 }\n  return x', /chain more than 500 operations/],
];

test('spec programs beyond the limits: a diagnostic in the spec file, for check, run and compile', () => {
  const cfg = join(dir, 'c.yaml');
  writeFileSync(cfg, CONFIG);
  PROGRAMS.forEach(([what, body, message], i) => {
    const file = join(dir, `p${i}.tdl`);
    writeFileSync(file, spec(body));
    diagnoses(bounded(['--spec', file, 'compile', cfg, '-o', join(dir, 'out'), '--no-glue']), message, new RegExp(`p${i}\\.tdl:\\d+:\\d+`));
    if (i < 3) diagnoses(bounded(['--spec', file, 'check', cfg]), message);
    void what;
  });
});

test('a stage with 1000 sub-terms: a diagnostic, not an internal error', () => {
  const base = readFileSync(join(GOLDEN, 'edge__ce_kd_weighted_sum', 'config.yaml'), 'utf8');
  const [head, rest] = base.split('      sub_terms:\n');
  const kd = rest!.split('        kd:\n')[1]!;
  const cfg = join(dir, 'many.yaml');
  writeFileSync(cfg, `${head}      sub_terms:\n${Array.from({ length: 1000 }, (_, i) => `        kd${i}:\n${kd}`).join('')}`);
  diagnoses(bounded(['compile', cfg, '-o', join(dir, 'out'), '--no-glue']), /TDC414/);
});

test('a 2 MB config of comments and a 2 MB spec file are refused by size before parsing', () => {
  const cfg = join(dir, 'big.yaml');
  writeFileSync(cfg, '# c\n'.repeat(500_000) + 'train: {}\n');
  diagnoses(bounded(['check', cfg]), /configs are limited to 1048576/);
  const file = join(dir, 'big.tdl');
  writeFileSync(file, '# c\n'.repeat(500_000));
  const small = join(dir, 'small.yaml');
  writeFileSync(small, CONFIG);
  diagnoses(bounded(['--spec', file, 'check', small]), /spec files are limited to 1048576/);
});

test('--spec redefining a built-in (KDLoss, WeightedSumLoss) is an error unless it says `# tdc: override`', () => {
  const cfg = join(GOLDEN, 'edge__ce_kd_weighted_sum', 'config.yaml');
  const inputs = join(GOLDEN, 'edge__ce_kd_weighted_sum', 'tensors.safetensors');
  const kd = 'mid KDLoss(student_module_path: path, student_module_io: io, teacher_module_path: path, teacher_module_io: io, temperature: float, alpha: float = 0.5, reduction: str = "batchmean", **kwargs) {\n  return 42.0\n}\n';
  const file = join(dir, 'kd.tdl');
  writeFileSync(file, kd);
  const r = tdc(['--spec', file, 'run', cfg, '--inputs', inputs, '--device', 'cpu', '--json']);
  diagnoses(r, /TDC398/, /'KDLoss' is tdc's built-in mid-level loss/, /# tdc: override KDLoss/, /kd\.tdl:1:5/);
  noLossPrinted(r, true, 'KDLoss redefined');
  const ws = join(dir, 'ws.tdl');
  writeFileSync(ws, 'high WeightedSumLoss(model_term: any = none, sub_terms: map<any>? = none, **kwargs) {\n  return 0.0\n}\n');
  diagnoses(tdc(['--spec', ws, 'check', cfg]), /TDC398/, /WeightedSumLoss/);

  writeFileSync(file, `# tdc: override KDLoss\n${kd}`);
  const ok = tdc(['--spec', file, 'run', cfg, '--inputs', inputs, '--device', 'cpu', '--json']);
  assert.is(ok.code, 0, ok.stderr);
  const out = JSON.parse(ok.stdout) as { terms: Record<string, { value: number }> };
  assert.is(out.terms['kd']!.value, 42, 'the explicit override replaces the built-in');
  const noted = tdc(['--spec', file, 'check', '--verbose', cfg]);
  assert.match(noted.stderr, /kd\.tdl:2:5 - note TDC398: 'KDLoss' replaces tdc's built-in mid-level loss/, 'the override is noted');
});

test('a loss declared in two --spec files: TDC310 at the second, related to the first, in either order (not "the last one wins")', () => {
  const cfg = join(dir, 'two.yaml');
  writeFileSync(cfg, CONFIG);
  const a = join(dir, 'a.tdl');
  const b = join(dir, 'b.tdl');
  writeFileSync(a, spec('  return mean(abs(s - t))'));
  writeFileSync(b, `# another file\n${spec('  return 5.0 + mean(abs(s - t))')}`);
  for (const [first, second, line] of [
    [a, b, 2],
    [b, a, 1],
  ] as const) {
    for (const cmd of [['check', cfg], ['compile', cfg, '-o', join(dir, 'out'), '--no-glue']]) {
      const r = tdc(['--spec', first, '--spec', second, ...cmd]);
      assert.is(r.code, 1, r.stdout + r.stderr);
      const name = second === a ? 'a' : 'b';
      const other = first === a ? 'a' : 'b';
      assert.match(r.stderr, new RegExp(`${name}\\.tdl:${line}:5 - error TDC310: mid-level loss 'MyL1' is already declared in .*${other}\\.tdl`));
      assert.match(r.stderr, new RegExp(`related: .*${other}\\.tdl:\\d+:5: first declared here`));
    }
  }
  // the same file named twice is read once
  const once = tdc(['--spec', a, '--spec', a, 'check', cfg]);
  assert.is(once.code, 0, once.stdout + once.stderr);
});

test.after(() => rmSync(dir, { recursive: true, force: true }));
test.run();
