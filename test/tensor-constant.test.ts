// `!import_call` of pure tensor constructors and `!import_get` dtypes, evaluated statically by the loader, against
// torch 1.13's own results (test/fixtures/tensor-constants.json, written by scripts/gen-tensor-constants.py).
// Values built in the default float dtype keep the Python value (torch rounds them to float32 in a float32 run:
// the test checks fround(tdc) == torch); explicit dtypes round or truncate exactly as torch does.
// Also: other tags stay inert with a reason; torch's errors are load errors; a loss buffer given as a plain list
// gets torch's TypeError and the !import_call form.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { loadConfig } from '../src/compiler/load/load.js';
import { checkConfig as resolveConfig } from '../src/compiler/driver/check.js';
import type { ConfigNode } from '../src/compiler/load/config-node.js';
import { get } from '../src/compiler/load/config-node.js';

interface Case {
  key: string;
  init: string;
  dtype: string;
  shape: number[];
  data: number[];
}
const fixture = JSON.parse(readFileSync(new URL('../../test/fixtures/tensor-constants.json', import.meta.url), 'utf8')) as { cases: Case[] };

function valueNode(yaml: string): { node: ConfigNode | undefined; errors: string[] } {
  const r = loadConfig(`v: ${yaml}\n`, 'x.yaml');
  return { node: get(r.config.root ?? undefined, 'v'), errors: r.diagnostics.filter((d) => d.severity === 'error').map((d) => `${d.code} ${d.message}`) };
}

test(`${fixture.cases.length} constructor calls match torch 1.13 (dtype, shape, values)`, () => {
  assert.ok(fixture.cases.length > 0);
  for (const c of fixture.cases) {
    const { node, errors } = valueNode(`!import_call {key: '${c.key}', init: ${c.init}}`);
    const what = `${c.key}(${c.init})`;
    assert.equal(errors, [], what);
    const ev = node?.evaluated;
    assert.ok(ev?.kind === 'tensor', `${what}: not evaluated (${node?.inert})`);
    if (ev?.kind !== 'tensor') continue;
    assert.is(ev.dtype, c.dtype, `${what}: dtype`);
    assert.equal(ev.shape, c.shape, `${what}: shape`);
    const explicit = c.init.includes('dtype');
    const got = ev.dtype === 'float32' && !explicit ? ev.data.map(Math.fround) : ev.data;
    assert.equal(got, c.data, `${what}: values`);
  }
});

test('other keys stay inert with the reason; nothing is executed', () => {
  const { node, errors } = valueNode(`!import_call {key: 'os.system', init: {args: ['rm -rf /']}}`);
  assert.equal(errors, []);
  assert.is(node?.evaluated, undefined);
  assert.match(node?.inert ?? '', /'os.system'.*never imports or executes code/);
  assert.is(valueNode(`!import_get {key: 'torch.float64'}`).node?.evaluated?.kind, 'dtype');
});

test("arguments torch rejects are load errors (TDC121); hostile sizes are bounded", () => {
  assert.match(valueNode(`!import_call {key: 'torch.tensor', init: {args: [[[1, 2], [3]]]}}`).errors.join(), /TDC121.*not rectangular/);
  assert.match(valueNode(`!import_call {key: 'torch.ones', init: {args: [100000, 100000]}}`).errors.join(), /TDC121.*at most/);
  assert.match(valueNode(`!import_call {key: 'torch.arange', init: {args: [0, 1, 0]}}`).errors.join(), /TDC121.*nonzero/);
  assert.match(valueNode(`!import_call {key: 'torch.full', init: {args: [[2], 1], kwargs: {bogus: 1}}}`).errors.join(), /TDC121.*bogus/);
});

const ceConfig = (weight: string) => `train:
  student: {forward_hook: {input: [], output: []}}
  teacher: {forward_hook: {input: [], output: []}}
  criterion:
    key: 'WeightedSumLoss'
    kwargs:
      sub_terms:
        ce:
          criterion: {key: 'CrossEntropyLoss', kwargs: {weight: ${weight}}}
          criterion_wrapper: {key: 'SimpleLossWrapper', kwargs: {input: {is_from_teacher: false, module_path: '.', io: 'output'}, target: {uses_label: true}}}
          weight: 1.0
`;

function resolveErrors(text: string): { code: string; message: string; hint?: string }[] {
  const r = loadConfig(text, 'c.yaml');
  const { diagnostics } = resolveConfig(r.config);
  return [...r.diagnostics, ...diagnostics].filter((d) => d.severity === 'error').map((d) => ({ code: d.code, message: d.message, ...(d.hint ? { hint: d.hint } : {}) }));
}

test("a loss buffer: the !import_call torch.tensor form resolves; a plain list gets torch's TypeError and the form", () => {
  assert.equal(resolveErrors(ceConfig(`!import_call {key: 'torch.tensor', init: {args: [[0.5, 2.0]]}}`)), []);
  const [e] = resolveErrors(ceConfig('[0.5, 2.0]'));
  assert.ok(e);
  assert.match(e!.message, /TypeError: cannot assign 'list' object to buffer 'weight' \(torch Tensor or None required\)/);
  assert.match(e!.hint ?? '', /weight: !import_call \{key: 'torch.tensor', init: \{args: \[\[0.5, 2.0\]\]\}\}/);
  const [i] = resolveErrors(ceConfig(`!import_call {key: 'torch.tensor', init: {args: [[1, 2]]}}`));
  assert.match(i!.message, /torch.int64 tensor.*expected scalar type Float but found Long/);
  const [n] = resolveErrors(ceConfig(`!import_call {key: 'numpy.array', init: {args: [[1.0]]}}`));
  assert.match(n!.message, /TDC219|!import_call value tdc cannot evaluate.*'numpy.array'/);
});

const bceConfig = (key: string, kwargs: string) => ceConfig('none').replace("{key: 'CrossEntropyLoss', kwargs: {weight: none}}", `{key: '${key}', kwargs: {${kwargs}}}`);

test('BCE-family buffers take int and bool tensors as torch 1.13 does; pos_weight refuses bool with its RuntimeError', () => {
  const ints = "!import_call {key: 'torch.tensor', init: {args: [[1, 2]]}}";
  const bools = "!import_call {key: 'torch.tensor', init: {args: [[true, false]]}}";
  assert.equal(resolveErrors(bceConfig('BCELoss', `weight: ${ints}`)), []);
  assert.equal(resolveErrors(bceConfig('BCELoss', `weight: ${bools}`)), []);
  assert.equal(resolveErrors(bceConfig('MultiLabelSoftMarginLoss', `weight: ${bools}`)), []);
  assert.equal(resolveErrors(bceConfig('BCEWithLogitsLoss', `weight: ${bools}, pos_weight: ${ints}`)), []);
  const [e] = resolveErrors(bceConfig('BCEWithLogitsLoss', `pos_weight: ${bools}`));
  assert.match(e!.message, /'.*pos_weight' is a torch.bool tensor; torch computes 'pos_weight - 1' with it and raises \("RuntimeError: Subtraction, the `-` operator, with a bool tensor is not supported/);
  // the kernels that check their scalar type still refuse them (CrossEntropyLoss, NLLLoss, MultiMarginLoss)
  assert.match(resolveErrors(bceConfig('NLLLoss', `weight: ${bools}`))[0]!.message, /torch.bool tensor.*expected scalar type Float but found Bool/);
});

test.run();
