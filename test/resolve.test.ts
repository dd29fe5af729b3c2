// The resolve stage on small configs: the IR it builds, and each static check (code + position).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { loadConfig } from '../src/compiler/load/load.js';
import { wrapperBindings } from '../src/compiler/resolve/index.js';
import { checkConfig as resolveConfig, checkFile } from '../src/compiler/driver/check.js';
import { tensorName, type CriterionIR } from '../src/compiler/ir.js';
import type { Diagnostic } from '../src/diagnostics/index.js';
import { registerMidLevelLoss, resetToBuiltins } from '../src/registry/registry.js';

interface Run {
  text: string;
  ir: CriterionIR;
  diagnostics: Diagnostic[];
}

function run(yaml: string, file = 'test.yaml'): Run {
  const l = loadConfig(yaml, file);
  assert.equal(
    l.diagnostics.filter((d) => d.severity === 'error').map((d) => d.message),
    [],
    'the test YAML loads',
  );
  const r = resolveConfig(l.config);
  return { text: yaml, ...r };
}

/** 1-based line:col of the `nth` occurrence of `needle`. */
function posOf(text: string, needle: string, nth = 1): string {
  let i = -1;
  for (let k = 0; k < nth; k++) {
    i = text.indexOf(needle, i + 1);
    assert.ok(i >= 0, `'${needle}' occurs ${nth} time(s)`);
  }
  const before = text.slice(0, i).split('\n');
  return `${before.length}:${before[before.length - 1]!.length + 1}`;
}

/** line:col just after `prefix` (where its value starts). */
function after(text: string, prefix: string): string {
  const i = text.indexOf(prefix) + prefix.length;
  const before = text.slice(0, i).split('\n');
  return `${before.length}:${before[before.length - 1]!.length + 1}`;
}

const at = (d: Diagnostic): string => `${d.span?.start.line}:${d.span?.start.col}`;
const show = (ds: Diagnostic[]): string => ds.map((d) => `${at(d)} ${d.severity} ${d.code} ${d.message}${d.hint ? ` [${d.hint}]` : ''}`).join('\n');
const errors = (r: Run): Diagnostic[] => r.diagnostics.filter((d) => d.severity === 'error');

/** Exactly one error, with this code, at the `nth` occurrence of `needle`. */
function oneError(r: Run, code: string, needle: string, nth = 1): Diagnostic {
  const es = errors(r);
  assert.is(es.length, 1, show(r.diagnostics));
  assert.is(es[0]!.code, code, show(es));
  assert.is(at(es[0]!), posOf(r.text, needle, nth), `${show(es)} at '${needle}'`);
  return es[0]!;
}

/** A distillation stage whose sub_terms are `terms` (indented for `sub_terms:`), with the given hooks. */
function distill(terms: string, o: { tOut?: string[]; sOut?: string[]; sIn?: string[]; extra?: string } = {}): string {
  const list = (xs: string[] | undefined) => `[${(xs ?? []).map((x) => `'${x}'`).join(', ')}]`;
  return `train:
  teacher:
    forward_hook:
      input: []
      output: ${list(o.tOut)}
    requires_grad: False
  student:
    forward_hook:
      input: ${list(o.sIn)}
      output: ${list(o.sOut)}
    requires_grad: True
  criterion:
    key: 'WeightedSumLoss'
    kwargs:
${o.extra ?? ''}      sub_terms:
${terms}`;
}

const T1 = '              temperature: 1.0\n              alpha: 0.5\n';

const KD = (kwargs: string, name = 'kd') => `        ${name}:
          criterion:
            key: 'KDLoss'
            kwargs:
              student_module_path: '.'
              student_module_io: 'output'
              teacher_module_path: '.'
              teacher_module_io: 'output'
${kwargs}          weight: 1.0
`;

const CE_TERM = `        ce:
          criterion:
            key: 'CrossEntropyLoss'
            kwargs:
              reduction: 'mean'
          criterion_wrapper:
            key: 'SimpleLossWrapper'
            kwargs:
              input:
                is_from_teacher: False
                module_path: '.'
                io: 'output'
              target:
                uses_label: True
          weight: 0.5
`;

// ---- the IR ------------------------------------------------------------------------------------------------

test('modern KD + CE: terms, kwargs with defaults, wrapper bindings, reads', () => {
  const r = run(distill(CE_TERM + KD('              temperature: 4.0\n              alpha: 0.9\n')));
  assert.equal(errors(r), []);
  const [s] = r.ir.stages;
  assert.is(r.ir.stages.length, 1);
  assert.is(s!.name, 'train');
  assert.is(s!.box, 'distillation');
  assert.is(s!.schema, 'modern');
  assert.is(s!.criterionKey, 'WeightedSumLoss');
  assert.equal(s!.trainable, { student: true, teacher: false });
  assert.equal(
    s!.terms.map((t) => [t.name, t.criterion.key, t.criterion.level, t.weight, t.wrapper?.key]),
    [
      ['ce', 'CrossEntropyLoss', 'low', 0.5, 'SimpleLossWrapper'],
      ['kd', 'KDLoss', 'mid', 1, undefined],
    ],
  );
  const kd = s!.terms[1]!.criterion;
  assert.is(kd.kwargs['temperature'], 4);
  assert.is(kd.kwargs['alpha'], 0.9);
  assert.is(kd.kwargs['beta'], null, 'defaults applied');
  assert.is(kd.kwargs['reduction'], 'batchmean');
  assert.ok('temperature' in kd.kwargNodes);
  assert.not.ok('reduction' in kd.kwargNodes, 'no node for a default');
  assert.is(at({ span: kd.span } as Diagnostic), posOf(r.text, "'KDLoss'"));
  const ce = s!.terms[0]!;
  assert.is(ce.criterion.kwargs['ignore_index'], -100);
  const b = wrapperBindings(ce.wrapper!);
  assert.equal(b.input, { kind: 'io', side: 'student', path: '.', io: 'output' });
  assert.equal(b.target, { kind: 'targets' });
  assert.equal(s!.terms[1]!.reads.map(tensorName).sort(), ['student/./output', 'targets', 'teacher/./output']);
  assert.equal(ce.reads.map(tensorName).sort(), ['student/./output', 'targets']);
});

test('TrainingBox (train.model): hooks from model, no teacher; model_term and func2extract', () => {
  const r = run(`train:
  model:
    forward_hook:
      input: []
      output: ['fc']
  criterion:
    key: 'WeightedSumLoss'
    func2extract_model_loss: 'extract_model_loss_dict'
    kwargs:
      model_term:
        weight: {loss_classifier: 1.0, loss_box_reg: 2}
      sub_terms:
${CE_TERM}`);
  assert.equal(errors(r), []);
  const s = r.ir.stages[0]!;
  assert.is(s.box, 'training');
  assert.equal(s.hooks, { student: { input: [], output: ['fc'] }, teacher: null });
  assert.equal(s.trainable, { student: true, teacher: false });
  assert.equal(s.modelTerm?.weight, { loss_classifier: 1, loss_box_reg: 2 });
  assert.is(s.modelTerm?.func2extract, 'extract_model_loss_dict');
});

test('multi-stage: train.stageN in file order; model_term weight 0 or null is dropped', () => {
  const stage = (n: string, w: string) => `  ${n}:
    model:
      requires_grad: False
    criterion:
      key: 'WeightedSumLoss'
      kwargs:
        model_term:
          weight: ${w}
`;
  const r = run(`train:\n  log_freq: 10\n${stage('stage2', '0.0')}${stage('stage1', '')}${stage('stage3', '2.0')}`);
  assert.equal(errors(r), []);
  assert.equal(
    r.ir.stages.map((s) => [s.name, s.modelTerm?.weight, s.trainable.student]),
    [
      ['stage2', undefined, false],
      ['stage1', undefined, false],
      ['stage3', 2, false],
    ],
  );
  assert.is(r.ir.stages[2]!.modelTerm!.func2extract, 'extract_model_loss_dict');
});

// ---- static checks -----------------------------------------------------------------------------------------

test('TDC201: no train section', () => {
  const r = run('models:\n  x: 1\n');
  assert.equal(
    errors(r).map((d) => d.code),
    ['TDC201'],
  );
  assert.equal(resolveConfig({ file: 'e.yaml', text: '', root: null }).diagnostics.map((d) => d.code), ['TDC201']);
});

test('TDC218: a stage without criterion', () => {
  const r = run('train:\n  stage1:\n    model: {}\n');
  oneError(r, 'TDC218', 'stage1');
});

test('TDC202: unknown high-level loss, with a hint when it is a mid-level key', () => {
  const r = run("train:\n  model: {}\n  criterion:\n    key: 'KDLoss'\n    kwargs: {}\n");
  const d = oneError(r, 'TDC202', "'KDLoss'");
  assert.match(d.hint!, /sub_terms/);
  const r2 = run("train:\n  model: {}\n  criterion:\n    key: 'WeightedSumLos'\n    kwargs: {}\n");
  assert.is(oneError(r2, 'TDC202', "'WeightedSumLos'").hint, "did you mean 'WeightedSumLoss'?");
});

test('TDC203: unknown loss key, with did-you-mean', () => {
  const r = run(distill(KD('              temperature: 4.0\n').replace("'KDLoss'", "'KDLos'")));
  assert.is(oneError(r, 'TDC203', "'KDLos'").hint, "did you mean 'KDLoss'?");
});

test('TDC204: unknown wrapper key, with did-you-mean', () => {
  const r = run(distill(CE_TERM.replace("'SimpleLossWrapper'", "'SimpleLossWraper'")));
  assert.is(oneError(r, 'TDC204', "'SimpleLossWraper'").hint, "did you mean 'SimpleLossWrapper'?");
});

test('TDC205: unknown kwarg of a loss without **kwargs (PKTLoss), with did-you-mean', () => {
  const r = run(
    distill(
      `        pkt:
          criterion:
            key: 'PKTLoss'
            kwargs:
              student_module_path: 'fc'
              student_module_io: 'input'
              teacher_module_path: 'fc'
              teacher_module_io: 'input'
              epss: 0.0000001
          weight: 1.0
`,
      { tOut: [], sIn: ['fc'] },
    ).replace("input: []\n      output: []\n    requires_grad: False", "input: ['fc']\n      output: []\n    requires_grad: False"),
  );
  assert.is(oneError(r, 'TDC205', 'epss').hint, "did you mean 'eps'?");
});

test('TDC207: missing required kwarg, at the kwargs key', () => {
  const r = run(distill(KD('              alpha: 0.5\n')));
  const d = oneError(r, 'TDC207', 'kwargs:', 2);
  assert.match(d.message, /'temperature'/);
});

test('TDC205 (paired): a misspelt required kwarg swallowed by **kwargs is one error at the key', () => {
  const r = run(
    distill(
      `        cckd:
          criterion:
            key: 'CCKDLoss'
            kwargs:
              student_linear_path: 'linear'
              teacher_linear_path: 'linear'
              kernel_params:
                key: 'gaussian'
                gamma: 0.4
                max_p: 2
              reduction: 'batchmean'
          weight: 1.0
`,
      { tOut: ['linear'], sOut: ['linear'] },
    ),
  );
  const d = oneError(r, 'TDC205', 'kernel_params');
  assert.match(d.message, /kernel_config/);
  assert.match(d.hint!, /^did you mean 'kernel_config'\? \(and KernelConfig calls its 'key' field 'type'\)$/);
});

test('TDC208: wrong types: float, literal union (did-you-mean), optional, list elements, map/struct fields', () => {
  const kd = (kw: string) => run(distill(KD(kw)));
  oneError(kd("              temperature: 'four'\n"), 'TDC208', "'four'");
  const lit = oneError(kd("              temperature: 4.0\n              reduction: 'batchmaen'\n"), 'TDC208', "'batchmaen'");
  assert.is(lit.hint, "did you mean 'batchmean'?");
  assert.equal(errors(kd('              temperature: 4.0\n              alpha:\n              beta: 0.5\n')), [], 'optional accepts null');
  const pyyaml = oneError(kd("              temperature: 4.0\n              alpha: 1e-7\n"), 'TDC208', '1e-7');
  assert.match(pyyaml.hint!, /PyYAML/);
  // the fix offered is one PyYAML reads as a float: a dot and a signed exponent
  assert.match(pyyaml.hint!, /write 1\.0e-7$/);
  const hintFor = (v: string): string | undefined => errors(kd(`              temperature: ${v}\n`)).find((d) => d.code === 'TDC208')?.hint;
  assert.match(hintFor('1e400')!, /write 1\.0e\+400$/);
  assert.match(hintFor('1.0e400')!, /write 1\.0e\+400$/);
  assert.match(hintFor("'1e5'")!, /quoted.*write 1\.0e\+5 without quotes/);
  assert.match(hintFor("'4.0'")!, /write 4\.0 without quotes/);
  const hcl = (sizes: string) =>
    run(
      distill(
        `        hcl:
          criterion:
            key: 'HierarchicalContextLoss'
            kwargs:
              student_module_path: 'abf'
              student_module_io: 'output'
              teacher_module_path: 'layer1'
              teacher_module_io: 'output'
              output_sizes: ${sizes}
          weight: 1.0
`,
        { tOut: ['layer1'], sOut: ['abf'] },
      ),
    );
  assert.equal(errors(hcl('[4, 2, 1]')), []);
  const four = hcl('4');
  assert.is(at(errors(four)[0]!), after(four.text, 'output_sizes: '));
  oneError(hcl("[4, 'two', 1]"), 'TDC208', "'two'");
  oneError(hcl('[4, 2.5, 1]'), 'TDC208', '2.5');
  const atPairs = (student: string) =>
    run(
      distill(
        `        at:
          criterion:
            key: 'ATLoss'
            kwargs:
              at_pairs:
                pair1:
                  student: ${student}
                  teacher: {path: 'layer3', io: 'output'}
                  weight: 1
              mode: 'code'
          weight: 1000.0
`,
        { tOut: ['layer3'], sOut: ['layer3'] },
      ),
    );
  assert.equal(errors(atPairs("{path: 'layer3', io: 'output'}")), []);
  assert.is(oneError(atPairs("{path: 'layer3', io: 'outptu'}"), 'TDC208', "'outptu'").hint, "did you mean 'output'?");
  assert.is(oneError(atPairs("{pth: 'layer3', io: 'output'}"), 'TDC220', 'pth').hint, "did you mean 'path'?");
  const str = atPairs("'layer3'");
  assert.equal(
    errors(str).map((d) => [d.code, at(d)]),
    [['TDC208', after(str.text, 'student: ')]],
  );
});

test('TDC209: a tensor the forward_hook does not capture (#481), at the path; `.` output needs no hook', () => {
  const mse = (target: string) => `        l2:
          criterion:
            key: 'MSELoss'
            kwargs:
              reduction: 'sum'
          criterion_wrapper:
            key: 'SimpleLossWrapper'
            kwargs:
              input:
                is_from_teacher: False
                module_path: 'layer4'
                io: 'output'
              target:
                is_from_teacher: True
                module_path: '${target}'
                io: 'output'
          weight: 1.0
`;
  assert.equal(errors(run(distill(mse('layer4'), { tOut: ['layer4'], sOut: ['layer4'] }))), []);
  const r = run(distill(mse('layer3'), { tOut: ['layer4'], sOut: ['layer4'] }));
  const d = oneError(r, 'TDC209', "'layer3'");
  assert.match(d.message, /teacher\/layer3\/output/);
  assert.match(d.hint!, /teacher\.forward_hook\.output/);
  assert.is(d.related?.[0]?.span?.start.line, Number(posOf(r.text, "output: ['layer4']").split(':')[0]));
  const io = run(distill(mse('layer4'), { tOut: ['layer4'], sOut: [], sIn: ['layer4'] }));
  const e = errors(io);
  assert.equal(e.map((d) => [d.code, at(d)]), [['TDC209', after(io.text, 'module_path: ')]], 'the student input module_path');
  assert.equal(errors(run(distill(KD(T1)))), [], "'.' output is always there");
});

test('TDC209: a structured read `<path>/<io>/<sub>` is covered by the hook of <path>/<io> (VID)', () => {
  const vid = (hook: string) =>
    run(
      distill(
        `        vid:
          criterion:
            key: 'VIDLoss'
            kwargs:
              feature_pairs:
                pair1:
                  student: {path: 'regressor_dict.regressor1', io: 'output'}
                  teacher: {path: 'layer1', io: 'output'}
                  weight: 1
          weight: 1.0
`,
        { tOut: ['layer1'], sOut: [hook] },
      ),
    );
  const ok = vid('regressor_dict.regressor1');
  assert.equal(errors(ok), []);
  assert.ok(ok.ir.stages[0]!.terms[0]!.reads.some((x) => x.kind === 'io' && x.sub !== undefined), 'VID reads tuple elements');
  oneError(vid('regressor_dict.regressor2'), 'TDC209', "'regressor_dict.regressor1'");
});

test('TDC209/TDC210 for a path that comes from a parameter default say so (FTLoss in a TrainingBox)', () => {
  const r = run(`train:
  model:
    forward_hook:
      output: ['layer4']
  criterion:
    key: 'WeightedSumLoss'
    kwargs:
      sub_terms:
        ft:
          criterion:
            key: 'FTLoss'
            kwargs:
              p: 1
          weight: 1.0
`);
  assert.equal(
    errors(r).map((d) => [d.code, at(d)]),
    [
      ['TDC210', posOf(r.text, "'FTLoss'")],
      ['TDC209', posOf(r.text, "'FTLoss'")],
    ],
  );
  assert.match(errors(r)[0]!.message, /paraphraser_path defaults to 'paraphraser'/);
  assert.match(errors(r)[1]!.message, /model\.forward_hook\.output/);
});

test('TDC210: a teacher tensor read in a TrainingBox stage', () => {
  const r = run(`train:
  model:
    forward_hook:
      output: ['layer4']
  criterion:
    key: 'WeightedSumLoss'
    kwargs:
      sub_terms:
        l2:
          criterion:
            key: 'MSELoss'
            kwargs: {}
          criterion_wrapper:
            key: 'SimpleLossWrapper'
            kwargs:
              input: {is_from_teacher: False, module_path: 'layer4', io: 'output'}
              target: {is_from_teacher: True, module_path: 'layer4', io: 'output'}
          weight: 1.0
`);
  oneError(r, 'TDC210', "'layer4'", 3);
});

test('TDC217: a sub-term without criterion, a criterion or wrapper without key', () => {
  oneError(run(distill('        kd:\n          weight: 1.0\n')), 'TDC217', 'kd:');
  oneError(run(distill('        kd:\n          criterion:\n            kwargs: {}\n          weight: 1.0\n')), 'TDC217', 'criterion:', 2);
  const w = run(distill(CE_TERM.replace("            key: 'SimpleLossWrapper'\n", '')));
  oneError(w, 'TDC217', 'criterion_wrapper:');
});

test('TDC219: a torchdistill-tagged value where tdc needs a plain one', () => {
  const r = run(distill(KD("              temperature: !import_get {key: 'math.pi'}\n              alpha: 0.5\n")));
  oneError(r, 'TDC219', "{key: 'math.pi'}");
});

test('TDC211: a torch loss as a sub-term without a wrapper', () => {
  const r = run(distill("        ce:\n          criterion:\n            key: 'CrossEntropyLoss'\n            kwargs: {}\n          weight: 1.0\n"));
  oneError(r, 'TDC211', "'CrossEntropyLoss'");
});

test('TDC215: a loss wrapper around a mid-level loss', () => {
  const r = run(
    distill(
      KD(T1).replace(
        '          weight: 1.0\n',
        "          criterion_wrapper:\n            key: 'SimpleLossWrapper'\n            kwargs:\n              input: {is_from_teacher: False, module_path: '.', io: 'output'}\n          weight: 1.0\n",
      ),
    ),
  );
  oneError(r, 'TDC215', "'SimpleLossWrapper'");
});

test('TDC212: a sub-term without weight (with a hint for a misspelt one)', () => {
  const r = run(distill(KD(T1).replace('weight: 1.0', 'wieght: 1.0')));
  const d = oneError(r, 'TDC212', 'kd:');
  assert.match(d.hint!, /wieght/);
});

test('TDC213: criterion without kwargs, or with an empty (null) kwargs:', () => {
  const base = "        ce:\n          criterion:\n            key: 'MSELoss'\nKW          criterion_wrapper:\n            key: 'SimpleLossWrapper'\n            kwargs:\n              input: {is_from_teacher: False, module_path: '.', io: 'output'}\n          weight: 1.0\n";
  oneError(run(distill(base.replace('KW', ''))), 'TDC213', "'MSELoss'");
  const d = oneError(run(distill(base.replace('KW', '            kwargs:\n'))), 'TDC213', 'kwargs:', 2);
  assert.match(d.message, /None/);
});

test('TDC208: a weight that PyYAML reads as a string', () => {
  const r = run(distill(KD(T1).replace('weight: 1.0', 'weight: 1e-7')));
  assert.match(oneError(r, 'TDC208', '1e-7').hint!, /1\.0e-7/);
});

test('TDC206: **kwargs swallows unknown kwargs (warning naming what torchdistill does); RegularizationLoss io → io_type', () => {
  const r = run(
    distill(
      `        reg:
          criterion:
            key: 'RegularizationLoss'
            kwargs:
              module_path: 'paraphraser.encoder'
              io: 'output'
              is_from_teacher: True
              p: 1
          weight: 1.0e-7
`,
      { tOut: ['paraphraser.encoder'] },
    ),
  );
  assert.equal(errors(r), [], show(r.diagnostics));
  const w = r.diagnostics.filter((d) => d.severity === 'warning');
  assert.equal(
    w.map((d) => [d.code, at(d)]),
    [['TDC206', posOf(r.text, 'io:')]],
  );
  assert.match(w[0]!.message, /swallows it into \*\*kwargs and ignores it/);
  assert.match(w[0]!.hint!, /io_type/);
  assert.is(r.ir.stages[0]!.terms[0]!.criterion.kwargs['io_type'], 'output', 'the default applies');
});

test('TDC206 only where the body ignores **kwargs: a custom spec that forwards them to low_loss reads them', () => {
  const term = (key: string) =>
    `        t:\n          criterion:\n            key: '${key}'\n            kwargs:\n              label_smoothing: 0.1\n          weight: 1.0\n`;
  try {
    assert.equal(registerMidLevelLoss('mid Fwd(**kwargs) {\n  return low_loss("CrossEntropyLoss", kwargs)(student["."]["output"], targets)\n}\n'), []);
    assert.equal(registerMidLevelLoss('mid Ign(**kwargs) {\n  return sum(student["."]["output"])\n}\n'), []);
    const used = run(distill(term('Fwd')));
    assert.equal(used.diagnostics, [], show(used.diagnostics));
    assert.is(used.ir.stages[0]!.terms[0]!.criterion.kwargs['label_smoothing'], 0.1);
    const ignored = run(distill(term('Ign')));
    assert.equal(ignored.diagnostics.map((d) => [d.code, at(d)]), [['TDC206', posOf(ignored.text, 'label_smoothing')]], show(ignored.diagnostics));
  } finally {
    resetToBuiltins();
  }
});

test("a struct-typed kwarg's default gets its fields' defaults in the IR, as a struct given in the config does", () => {
  try {
    assert.equal(registerMidLevelLoss('struct P { a: int = 3, b: float? = none }\nmid Dflt(p: P = {}, q: P = {a: 1}) {\n  return p.a * sum(student["."]["output"])\n}\n'), []);
    const r = run(distill("        t:\n          criterion:\n            key: 'Dflt'\n            kwargs: {}\n          weight: 1.0\n"));
    assert.equal(r.diagnostics, [], show(r.diagnostics));
    assert.equal(r.ir.stages[0]!.terms[0]!.criterion.kwargs, { p: { a: 3, b: null }, q: { a: 1, b: null } });
  } finally {
    resetToBuiltins();
  }
});

test('**kwargs: CrossEntropyLoss: KDLoss forwards and validates extra kwargs (ignore_index ok, ignore_indx an error)', () => {
  const ok = run(distill(KD(T1 + '              ignore_index: 255\n')));
  assert.equal(ok.diagnostics.filter((d) => d.severity !== 'note'), [], show(ok.diagnostics));
  assert.is(ok.ir.stages[0]!.terms[0]!.criterion.kwargs['ignore_index'], 255);
  const bad = run(distill(KD(T1 + '              ignore_indx: 255\n')));
  const d = oneError(bad, 'TDC205', 'ignore_indx');
  assert.is(d.hint, "did you mean 'ignore_index'?");
  assert.match(d.message, /CrossEntropyLoss/);
  oneError(run(distill(KD(T1 + "              ignore_index: 'x'\n"))), 'TDC208', "'x'");
});

test('TDC214: func2extract_model_loss not registered by torchdistill (warning); TDC216: keys torchdistill never reads', () => {
  const r = run(
    distill(KD(T1).replace('          weight: 1.0\n', '          weight: 1.0\n          factor: 2.0\n'), {
      extra: "      model_term:\n        weight: 1.0\n",
    }).replace("    key: 'WeightedSumLoss'\n", "    key: 'WeightedSumLoss'\n    func2extract_model_loss: 'extract_my_loss'\n"),
  );
  assert.equal(errors(r), []);
  assert.equal(
    r.diagnostics.map((d) => [d.code, at(d)]),
    [
      ['TDC216', posOf(r.text, 'factor')],
      ['TDC214', posOf(r.text, "'extract_my_loss'")],
    ],
  );
  assert.is(r.ir.stages[0]!.modelTerm?.func2extract, 'extract_my_loss');
});

// ---- legacy ------------------------------------------------------------------------------------------------

const LEGACY = `train:
  teacher:
    forward_hook:
      input: []
      output: ['layer1']
    requires_grad: False
  student:
    forward_hook:
      input: []
      output: ['layer1']
  criterion:
    type: 'GeneralizedCustomLoss'
    org_term:
      criterion:
        type: 'KDLoss'
        params:
          temperature: 4.0
          alpha: 0.9
          reduction: 'batchmean'
      factor: 1.0
    sub_terms:
      layer1:
        criterion:
          type: 'MSELoss'
          params:
            reduction: 'sum'
        params:
          input:
            is_from_teacher: False
            module_path: 'layer1'
            io: 'output'
          target:
            is_from_teacher: True
            module_path: 'layer1'
            io: 'output'
        factor: 2.0
`;

test('legacy schema: one note; type/params/factor, params → SimpleLossWrapper, org_term → a KD term on "." added last', () => {
  const r = run(LEGACY);
  assert.equal(errors(r), []);
  assert.equal(
    r.diagnostics.map((d) => [d.severity, d.code, at(d)]),
    [['note', 'TDC200', posOf(r.text, 'type:')]],
  );
  const s = r.ir.stages[0]!;
  assert.is(s.schema, 'legacy');
  assert.equal(
    s.terms.map((t) => [t.name, t.criterion.key, t.wrapper?.key, t.weight]),
    [
      ['layer1', 'MSELoss', 'SimpleLossWrapper', 2],
      ['org_term', 'KDLoss', undefined, 1],
    ],
  );
  const kd = s.terms[1]!;
  assert.equal(kd.reads.map(tensorName).sort(), ['student/./output', 'targets', 'teacher/./output']);
  assert.is(kd.criterion.kwargs['temperature'], 4);
  assert.equal(s.terms[0]!.reads.map(tensorName).sort(), ['student/layer1/output', 'teacher/layer1/output']);
});

test('legacy: messages use the legacy words (factor); a missing factor is an error at the sub-term', () => {
  const r = run(LEGACY.replace('        factor: 2.0\n', ''));
  const d = oneError(r, 'TDC212', 'layer1:');
  assert.match(d.message, /'factor'/);
});

test('legacy: CE org_term with a per-key factor → DictLossWrapper; factor-only org_term → model_term', () => {
  const seg = run(`train:
  model:
    forward_hook:
      output: []
  criterion:
    type: 'GeneralizedCustomLoss'
    func2extract_org_loss: 'extract_simple_org_loss_dict'
    org_term:
      criterion:
        type: 'CrossEntropyLoss'
        params:
          reduction: 'mean'
          ignore_index: 255
      factor:
        out: 1.0
        aux: 0.5
    sub_terms:
`);
  assert.equal(errors(seg), []);
  const t = seg.ir.stages[0]!.terms[0]!;
  assert.equal([t.name, t.criterion.key, t.wrapper?.key, t.weight], ['org_term', 'CrossEntropyLoss', 'DictLossWrapper', 1]);
  assert.equal(t.wrapper!.kwargs['weights'], { out: 1, aux: 0.5 });
  assert.equal(t.reads.map(tensorName).sort(), ['student/./output/aux', 'student/./output/out', 'targets']);
  const hf = run(`train:
  model: {}
  criterion:
    type: 'GeneralizedCustomLoss'
    func2extract_org_loss: 'extract_org_loss_dict'
    org_term:
      factor: 1.0
    sub_terms:
`);
  assert.equal(errors(hf), []);
  assert.equal(hf.ir.stages[0]!.terms, []);
  assert.equal(hf.ir.stages[0]!.modelTerm?.weight, 1);
  assert.is(hf.ir.stages[0]!.modelTerm?.func2extract, 'extract_model_loss_dict', 'legacy name mapped');
});

test('legacy: KDLoss4Transformer → KDLoss on "." (note); CCKD kernel_params → kernel_config (note)', () => {
  const r = run(`train:
  teacher: {}
  student: {}
  criterion:
    type: 'GeneralizedCustomLoss'
    org_term:
      criterion:
        type: 'KDLoss4Transformer'
        params:
          temperature: 7.0
          alpha: 0.9
      factor: 1.0
    sub_terms:
`);
  assert.equal(errors(r), []);
  assert.equal(
    r.diagnostics.map((d) => [d.code, at(d)]),
    [
      ['TDC200', posOf(r.text, 'type:')],
      ['TDC200', posOf(r.text, "'KDLoss4Transformer'")],
    ],
  );
  assert.is(r.ir.stages[0]!.terms[0]!.criterion.key, 'KDLoss');
  assert.is(r.ir.stages[0]!.terms[0]!.criterion.kwargs['student_module_path'], '.');
  const cckd = run(
    LEGACY.replace(
      /      layer1:[\s\S]*$/,
      `      cckd:
        criterion:
          type: 'CCKDLoss'
          params:
            student_linear_path: 'layer1'
            teacher_linear_path: 'layer1'
            kernel_params:
              key: 'gaussian'
              gamma: 0.4
              max_p: 2
            reduction: 'batchmean'
        factor: 1.0
`,
    ),
  );
  assert.equal(errors(cckd), [], show(cckd.diagnostics));
  assert.equal(cckd.ir.stages[0]!.terms[0]!.criterion.kwargs['kernel_config'], { type: 'gaussian', gamma: 0.4, max_p: 2 });
});

test('checkFile loads and resolves a file; a load error stops before resolve', () => {
  const cckd = checkFile(`${process.env['TDC_SHARED'] ?? '/work/shared'}/torchdistill/configs/sample/ilsvrc2012/cckd/resnet18_from_resnet50.yaml`);
  assert.ok(cckd.ir && cckd.text.includes('kernel_params'));
  assert.equal(
    cckd.diagnostics.filter((d) => d.severity === 'error').map((d) => d.code),
    ['TDC205'],
  );
  const missing = checkFile('/nonexistent/config.yaml');
  assert.is(missing.ir, undefined);
  assert.ok(missing.diagnostics.some((d) => d.severity === 'error'));
});

test('resolveConfig never throws, whatever the tree', () => {
  const yamls = [
    'train: 3\n',
    'train:\n  criterion: [1, 2]\n',
    'train:\n  criterion:\n    key: 3\n',
    'train:\n  student: 5\n  criterion:\n    key: WeightedSumLoss\n    kwargs:\n      sub_terms: [1]\n',
    'train:\n  model: {}\n  criterion:\n    key: WeightedSumLoss\n    kwargs:\n      sub_terms:\n        a: 1\n        b:\n          criterion: 2\n          weight: x\n',
  ];
  for (const yaml of yamls) assert.ok(errors(run(yaml)).length > 0, yaml);
  const span = { file: 'x', start: { line: 1, col: 1, offset: 0 }, end: { line: 1, col: 1, offset: 0 } };
  for (const root of [{ kind: 'scalar' as const, value: 42, source: '42', span }, { kind: 'seq' as const, items: [], span }, null]) {
    const r = resolveConfig({ file: 'x', text: '', root });
    assert.equal(
      r.diagnostics.map((d) => d.code),
      ['TDC201'],
    );
    assert.equal(r.ir.stages, []);
  }
});

test.run();
