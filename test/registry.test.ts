// The registry: built-ins loaded from src/losses-spec, declared parameters as torchdistill/torch declare them,
// torchdistill's lookup order, and the register* API.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Literal, LossDecl } from '../grammar/ast.js';
import {
  builtinLoadDiagnostics,
  getFunc2ExtractModelOutput,
  getHighLevelLoss,
  getLossWrapper,
  getLowLevelLoss,
  getMidLevelLoss,
  listRegistry,
  registerFunc2ExtractModelOutput,
  registerHighLevelLoss,
  registerLossWrapper,
  registerLowLevelLoss,
  registerMidLevelLoss,
  registryKeys,
  renderSignature,
  registerSpecFile,
  resetToBuiltins,
  scopeOf,
  specSource,
} from '../src/registry/index.js';

// Signatures from research/torchdistill-losses.md §2 (torchdistill 3e4373c) and torch 1.13's nn losses.
// `name` required, `name=value` default (None, numbers, strings), `**` swallows unknown kwargs,
// `**Key` forwards them to Key, `**?` (the research does not say whether there is a **kwargs).
const MID: Record<string, string> = {
  KDLoss: 'student_module_path, student_module_io, teacher_module_path, teacher_module_io, temperature, alpha=None, beta=None, reduction=batchmean, **CrossEntropyLoss',
  LogitStdKDLoss:
    'student_module_path, student_module_io, teacher_module_path, teacher_module_io, temperature, eps=1e-7, alpha=None, beta=None, reduction=batchmean, **CrossEntropyLoss',
  FSPLoss: 'fsp_pairs, **',
  ATLoss: 'at_pairs, mode=code, **',
  PKTLoss: 'student_module_path, student_module_io, teacher_module_path, teacher_module_io, eps=1e-7',
  FTLoss: 'p=1, reduction=mean, paraphraser_path=paraphraser, translator_path=translator, **',
  AltActTransferLoss: 'feature_pairs, margin, reduction, **',
  RKDLoss: 'student_output_path, teacher_output_path, dist_factor, angle_factor, reduction, **',
  VIDLoss: 'feature_pairs, **',
  CCKDLoss: 'student_linear_path, teacher_linear_path, kernel_config, reduction, **',
  SPKDLoss: 'student_output_path, teacher_output_path, reduction, **',
  CRDLoss:
    'student_norm_module_path, student_empty_module_path, teacher_norm_module_path, input_size, output_size, num_negative_samples, num_samples, temperature=0.07, momentum=0.5, eps=1e-7',
  AuxSSKDLoss: 'module_path=ss_module, module_io=output, reduction=mean, **CrossEntropyLoss',
  SSKDLoss:
    'student_linear_module_path, teacher_linear_module_path, student_ss_module_path, teacher_ss_module_path, kl_temp, ss_temp, tf_temp, ss_ratio, tf_ratio, student_linear_module_io=output, teacher_linear_module_io=output, student_ss_module_io=output, teacher_ss_module_io=output, loss_weights=None, reduction=batchmean, **?',
  PADL2Loss:
    'student_embed_module_path, teacher_embed_module_path, student_embed_module_io=output, teacher_embed_module_io=output, module_path=var_estimator, module_io=output, eps=1e-6, reduction=mean, **',
  HierarchicalContextLoss: 'student_module_path, student_module_io, teacher_module_path, teacher_module_io, reduction=mean, output_sizes=None, **',
  RegularizationLoss: 'module_path, io_type=output, is_from_teacher=False, p=1, **',
  KTALoss: 'p=1, q=2, reduction=mean, knowledge_translator_path=paraphraser, feature_adapter_path=feature_adapter, **',
  AffinityLoss: 'student_module_path, teacher_module_path, student_module_io=output, teacher_module_io=output, reduction=mean, **',
  ChSimLoss: 'feature_pairs, **',
  DISTLoss: 'student_module_path, student_module_io, teacher_module_path, teacher_module_io, beta=1.0, gamma=1.0, tau=1.0, eps=1e-8, **',
  DISTPlusLoss:
    'student_logit_module_path, student_logit_module_io, teacher_logit_module_path, teacher_logit_module_io, student_feature_module_path, student_feature_module_io, teacher_feature_module_path, teacher_feature_module_io, beta=1.0, gamma=1.0, iota=1.0, kappa=1.0, tau=1.0, eps=1e-8, **',
  SRDLoss:
    'student_feature_module_path, student_feature_module_io, teacher_feature_module_path, teacher_feature_module_io, student_linear_module_path, student_linear_module_io, teacher_linear_module_path, teacher_linear_module_io, exponent=1.0, temperature=1.0, reduction=batchmean, **',
  SKDInstanceLoss: 'student_module_path, student_module_io, teacher_module_path, teacher_module_io, temperature=4.0, **?',
  SKDDirectionLoss: 'student_module_path, student_module_io, teacher_module_path, teacher_module_io, tikhonov=0.1, **?',
};

const TORCH_LOW = [
  'BCELoss', 'BCEWithLogitsLoss', 'CTCLoss', 'CosineEmbeddingLoss', 'CrossEntropyLoss', 'GaussianNLLLoss', 'HingeEmbeddingLoss',
  'HuberLoss', 'KLDivLoss', 'L1Loss', 'MSELoss', 'MarginRankingLoss', 'MultiLabelMarginLoss', 'MultiLabelSoftMarginLoss',
  'MultiMarginLoss', 'NLLLoss', 'NLLLoss2d', 'PoissonNLLLoss', 'SmoothL1Loss', 'SoftMarginLoss', 'TripletMarginLoss',
  'TripletMarginWithDistanceLoss',
];
// torch 1.13 signatures of the low-level losses the configs and mid-level losses use.
const LOW: Record<string, string> = {
  CrossEntropyLoss: 'weight=None, size_average=None, ignore_index=-100, reduce=None, reduction=mean, label_smoothing=0.0',
  MSELoss: 'size_average=None, reduce=None, reduction=mean',
  L1Loss: 'size_average=None, reduce=None, reduction=mean',
  SmoothL1Loss: 'size_average=None, reduce=None, reduction=mean, beta=1.0',
  KLDivLoss: 'size_average=None, reduce=None, reduction=mean, log_target=False',
};
const OTHER: Record<string, [(k: string) => unknown, string]> = {
  WeightedSumLoss: [getHighLevelLoss, 'model_term=None, sub_terms=None, **'],
  SimpleLossWrapper: [getLossWrapper, 'input, target=None, **'],
  DictLossWrapper: [getLossWrapper, 'weights, input, target=None, **'],
  extract_model_loss_dict: [getFunc2ExtractModelOutput, ''],
};

function literal(l: Literal | undefined): unknown {
  if (!l) return undefined;
  switch (l.kind) {
    case 'none':
      return null;
    case 'list':
      return l.items.map(literal);
    case 'map':
      return Object.fromEntries(l.entries.map((e) => [e.key, literal(e.value)]));
    default:
      return l.value;
  }
}

function expectedValue(s: string): unknown {
  if (s === 'None') return null;
  if (s === 'True' || s === 'False') return s === 'True';
  if (/^-?[\d.]+(e-?\d+)?$/.test(s)) return Number(s);
  return s;
}

function checkSignature(key: string, decl: LossDecl, expected: string): void {
  const parts = expected ? expected.split(', ') : [];
  const rest = parts.find((p) => p.startsWith('**'));
  const params = parts.filter((p) => !p.startsWith('**'));
  assert.equal(
    decl.params.map((p) => p.name),
    params.map((p) => p.split('=')[0]),
    `${key}: parameter names and order (${renderSignature(decl)})`,
  );
  for (const p of params) {
    const [name, dflt] = p.split('=') as [string, string | undefined];
    const d = decl.params.find((x) => x.name === name)!;
    if (dflt === undefined) assert.is(d.default, undefined, `${key}.${name} is required`);
    else assert.equal(literal(d.default), expectedValue(dflt), `${key}.${name} default`);
  }
  if (rest === '**?') return;
  if (rest === undefined) assert.is(decl.rest, undefined, `${key} has no **kwargs`);
  else {
    assert.ok(decl.rest, `${key} has **kwargs`);
    assert.is(decl.rest!.forwardTo, rest === '**' ? undefined : rest.slice(2), `${key} **kwargs forwarding`);
  }
}

test('the built-in spec files load without problems', () => {
  const ds = builtinLoadDiagnostics();
  assert.equal(
    ds.map((d) => `${d.span?.file}:${d.span?.start.line}: ${d.code} ${d.message}`),
    [],
  );
});

test('src/losses-spec is grouped by level: every built-in entry lives in its level folder', () => {
  const folder: Record<string, string> = { low: 'torch', mid: 'distill', high: 'wrappers', wrapper: 'wrappers', extract: 'extract' };
  const entries = listRegistry().filter((e) => e.builtin);
  assert.ok(entries.length >= 50, `only ${entries.length} built-in entries`);
  for (const e of entries) {
    const parts = e.source.file.split(/[\\/]/);
    assert.is(parts.at(-2), folder[e.level], `${e.key} (${e.level}) lives in ${e.source.file}`);
    assert.is(parts.at(-3), 'losses-spec', e.source.file);
  }
  assert.ok(scopeOf(getMidLevelLoss('KDLoss')!).funcs.size > 0, 'prelude/ helpers are shared');
});

test('all 25 mid-level losses, declared as torchdistill declares them', () => {
  assert.is(Object.keys(MID).length, 25);
  for (const [key, sig] of Object.entries(MID)) {
    const r = getMidLevelLoss(key);
    assert.ok(r, `${key} registered`);
    assert.is(r!.level, 'mid', key);
    assert.ok(r!.builtin);
    assert.ok(r!.source.file.endsWith(`${key}.tdl`), `${key} lives in ${key}.tdl`);
    checkSignature(key, r!.decl, sig);
  }
});

test("torch's low-level losses (LOSS_DICT) are built in; the ones in use have torch's signatures", () => {
  for (const key of TORCH_LOW) {
    const r = getLowLevelLoss(key);
    assert.ok(r, `${key} registered`);
    assert.is(r!.level, 'low');
    assert.ok(r!.builtin);
    assert.equal(
      r!.decl.callParams.map((p) => p.name).length >= 1,
      true,
      `${key} takes call-time tensors`,
    );
  }
  for (const [key, sig] of Object.entries(LOW)) checkSignature(key, getLowLevelLoss(key)!.decl, sig);
});

test('WeightedSumLoss, both wrappers and extract_model_loss_dict', () => {
  for (const [key, [get, sig]] of Object.entries(OTHER)) {
    const r = get(key) as ReturnType<typeof getMidLevelLoss>;
    assert.ok(r, `${key} registered`);
    checkSignature(key, r!.decl, sig);
  }
  assert.is(getHighLevelLoss('WeightedSumLoss')!.level, 'high');
  assert.is(getLossWrapper('SimpleLossWrapper')!.level, 'wrapper');
  assert.is(getFunc2ExtractModelOutput()!.key, 'extract_model_loss_dict', 'None means extract_model_loss_dict');
  assert.is(getFunc2ExtractModelOutput(null)!.key, 'extract_model_loss_dict');
});

test('lookup levels are kept apart', () => {
  assert.is(getHighLevelLoss('KDLoss'), undefined);
  assert.is(getLossWrapper('KDLoss'), undefined);
  assert.is(getMidLevelLoss('WeightedSumLoss'), undefined);
  assert.is(getMidLevelLoss('SimpleLossWrapper'), undefined);
  assert.is(getLowLevelLoss('KDLoss'), undefined);
  assert.is(getMidLevelLoss('MSELoss')!.level, 'low', 'get_mid_level_loss falls back to the low-level registry');
  assert.ok(registryKeys('mid').includes('KDLoss'));
  assert.ok(registryKeys('low').includes('CrossEntropyLoss'));
});

test('scopes see the shared structs; sources are kept for code frames', () => {
  const at = getMidLevelLoss('ATLoss')!;
  assert.ok(scopeOf(at).structs.has('FeaturePair'));
  assert.ok(scopeOf(getLossWrapper('SimpleLossWrapper')!).structs.has('WrapperInput'));
  assert.is(specSource(at.source.file), at.source.text);
  const keys = listRegistry().map((r) => r.key);
  for (const k of [...Object.keys(MID), ...TORCH_LOW, ...Object.keys(OTHER)]) assert.ok(keys.includes(k), `listRegistry has ${k}`);
});

const MY_LOSS = `
# scaled sum of one student tensor
mid MyLoss(module_path: path, scale: float = 1.0) {
  return scale * sum(student[module_path]["output"])
}
`;

test('registerMidLevelLoss: bare (declared name) or with a key; a later registration overwrites', () => {
  resetToBuiltins();
  assert.equal(registerMidLevelLoss(MY_LOSS), []);
  const a = getMidLevelLoss('MyLoss')!;
  assert.ok(a && !a.builtin && a.level === 'mid');
  assert.equal(registerMidLevelLoss(MY_LOSS, { key: 'my_loss' }), []);
  assert.is(getMidLevelLoss('my_loss')!.decl.name, 'MyLoss');
  assert.equal(registerMidLevelLoss(MY_LOSS.replace('scale: float = 1.0', 'scale: float = 2.0')), []);
  assert.is.not(getMidLevelLoss('MyLoss'), a, 'overwritten');
  resetToBuiltins();
  assert.is(getMidLevelLoss('MyLoss'), undefined, 'resetToBuiltins drops custom registrations');
});

test("a custom mid-level loss under a built-in's name is an error unless it says override; with it, it replaces the built-in", () => {
  resetToBuiltins();
  const spec = 'mid KDLoss(temperature: float) {\n  return temperature\n}\n';
  const ds = registerMidLevelLoss(spec);
  assert.equal(ds.map((d) => [d.severity, d.code]), [['error', 'TDC398']]);
  assert.match(ds[0]!.hint ?? '', /# tdc: override KDLoss/);
  assert.is(getMidLevelLoss('KDLoss')!.builtin, true, 'the built-in stays');
  assert.equal(registerMidLevelLoss(spec, { override: true }), []);
  assert.is(getMidLevelLoss('KDLoss')!.builtin, false);
  resetToBuiltins();
  assert.is(getMidLevelLoss('KDLoss')!.builtin, true);
});

test("registerLowLevelLoss: torch's losses shadow a custom one of the same name (LOSS_DICT is looked up first)", () => {
  resetToBuiltins();
  const ds = registerLowLevelLoss('low MSELoss(reduction: str = "sum")(input, target) {\n  return sum((input - target) ** 2)\n}\n');
  assert.equal(
    ds.map((d) => [d.severity, d.code]),
    [['warning', 'TDC396']],
  );
  assert.is(getLowLevelLoss('MSELoss')!.builtin, true);
  assert.equal(registerLowLevelLoss('low MyL2(reduction: str = "sum")(input, target) {\n  return sum((input - target) ** 2)\n}\n'), []);
  assert.is(getLowLevelLoss('MyL2')!.builtin, false);
  assert.is(getMidLevelLoss('MyL2')!.key, 'MyL2', 'reachable through get_mid_level_loss');
  resetToBuiltins();
});

test('each register function takes only its own level; parse errors come back as diagnostics', () => {
  resetToBuiltins();
  const wrong = registerLowLevelLoss(MY_LOSS);
  assert.equal(
    wrong.map((d) => d.code),
    ['TDC395'],
  );
  assert.is(getMidLevelLoss('MyLoss'), undefined);
  const bad = registerMidLevelLoss('mid Broken(x: float {\n}\n');
  assert.ok(bad.some((d) => d.severity === 'error'));
  assert.equal(registerHighLevelLoss('high MyHigh(sub_terms: map<any>? = none) {\n  return 0\n}\n'), []);
  assert.ok(getHighLevelLoss('MyHigh'));
  assert.equal(registerLossWrapper('wrapper MyWrap(input: WrapperInput)(loss) {\n  return loss(student[input.module_path][input.io], targets)\n}\n'), []);
  assert.ok(getLossWrapper('MyWrap'));
  assert.equal(registerFunc2ExtractModelOutput('extract my_extract() {\n  return ["loss"]\n}\n', { key: 'extract_mine' }), []);
  assert.ok(getFunc2ExtractModelOutput('extract_mine'));
  resetToBuiltins();
  assert.is(getFunc2ExtractModelOutput('extract_mine'), undefined);
});

test('a registered string gets the static checks a --spec file gets: unknown types and names, bad defaults, built-in arity', () => {
  // registerMidLevelLoss used to skip grammar/check.ts: `k: integer` and an unknown struct registered and compiled
  // (the kwarg's type never checked), other mistakes surfaced only at instantiation with vaguer messages
  resetToBuiltins();
  const src = (name: string, params: string, body: string): string => `mid ${name}(${params}) {\n  return ${body}\n}\n`;
  for (const [name, params, body, expected] of [
    ['UnkType', 'k: integer = 1', '1.0 * k', "TDC312 1:16 unknown type 'integer'"],
    ['UnkStruct', 'p: Pair = {}', '1.0', "TDC312 1:18 unknown type 'Pair'"],
    ['BadDefault', 'k: int = "x"', '1.0 * k', 'TDC313 1:'],
    ['Undef', '', 'mean(studnt["."]["output"])', "TDC315 2:15 'studnt' is not defined"],
    ['Arity', '', 'mean(exp(student["."]["output"], 1))', 'TDC318 2:15 exp(x) takes at most 1 argument, got 2'],
  ] as const) {
    const ds = registerMidLevelLoss(src(name, params, body), { file: `${name}.tdl` });
    const errors = ds.filter((d) => d.severity === 'error');
    assert.is(errors.length, 1, ds.map((d) => `${d.code} ${d.message}`).join('\n'));
    assert.ok(`${errors[0]!.code} ${errors[0]!.span?.start.line}:${errors[0]!.span?.start.col} ${errors[0]!.message}`.startsWith(expected), `${name}: ${errors[0]!.code} ${errors[0]!.span?.start.line}:${errors[0]!.span?.start.col} ${errors[0]!.message}`);
    assert.is(errors[0]!.span?.file, `${name}.tdl`);
    assert.is(getMidLevelLoss(name), undefined, `${name} is not registered`);
  }
  // a def shadowing a prelude helper: the TDC319 warning, and the loss is registered
  const w = registerMidLevelLoss(`def gram(f) = f\n${src('Shadow', '', '1.0')}`);
  assert.equal(w.map((d) => `${d.severity} ${d.code}`), ['warning TDC319']);
  assert.ok(getMidLevelLoss('Shadow'));
  resetToBuiltins();
});

test('a spec file (and a registered string) may start with a UTF-8 byte order mark; columns count from the first character after it', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tdc-bom-'));
  const ok = join(dir, 'bom.tdl');
  writeFileSync(ok, '\uFEFF# tdc: override KDLoss\nmid BomLoss() {\n  return 1.0\n}\n');
  assert.equal(
    registerSpecFile(ok).map((d) => `${d.code} ${d.message}`),
    [],
  );
  assert.ok(getMidLevelLoss('BomLoss'));
  const bad = join(dir, 'bad.tdl');
  writeFileSync(bad, '\uFEFFmid Bad( {\n}\n');
  const ds = registerSpecFile(bad);
  assert.equal(
    ds.map((d) => `${d.code} ${d.span?.start.line}:${d.span?.start.col}`),
    ['TDC303 1:10'],
  );
  assert.equal(registerMidLevelLoss('\uFEFFmid BomString() {\n  return 1.0\n}\n'), []);
  assert.ok(getMidLevelLoss('BomString'));
  resetToBuiltins();
});

test.run();
