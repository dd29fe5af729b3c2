// The YAML load stage: all 282 shipped configs, PyYAML (YAML 1.1 + torchdistill tags) semantics, spans,
// and hostile input (every case must end quickly with an error diagnostic, never a throw or a hang).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig, loadConfigFile, type LoadResult } from '../src/compiler/load/load.js';
import { get, type ConfigNode, type MapNode, type ScalarNode } from '../src/compiler/load/config-node.js';
import { pyFloatRepr } from '../src/compiler/load/py-str.js';
import type { Diagnostic } from '../src/diagnostics/index.js';

const SHARED = process.env['TDC_SHARED'] ?? '/work/shared';
const CONFIGS = join(SHARED, 'torchdistill', 'configs');
const GO_EMOTIONS = join(CONFIGS, 'sample/go_emotions/ce/bert_base_uncased.yaml');
const SPKD = join(CONFIGS, 'sample/ilsvrc2012/spkd/resnet18_from_resnet34.yaml');

function yamlFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...yamlFiles(p));
    else if (name.endsWith('.yaml') || name.endsWith('.yml')) out.push(p);
  }
  return out;
}

const errors = (r: LoadResult): Diagnostic[] => r.diagnostics.filter((d) => d.severity === 'error');
const warnings = (r: LoadResult): Diagnostic[] => r.diagnostics.filter((d) => d.severity === 'warning');
const load = (text: string): LoadResult => loadConfig(text, 't.yaml');
const at = (d: Diagnostic | undefined): string => (d?.span ? `${d.span.start.line}:${d.span.start.col}` : '-');

function path(root: ConfigNode | null, ...keys: (string | number)[]): ConfigNode | undefined {
  let n: ConfigNode | undefined = root ?? undefined;
  for (const k of keys) n = typeof k === 'number' ? (n?.kind === 'seq' ? n.items[k] : undefined) : get(n, k);
  return n;
}

function scalar(root: ConfigNode | null, ...keys: (string | number)[]): ScalarNode {
  const n = path(root, ...keys);
  assert.ok(n && n.kind === 'scalar', `${keys.join('.')} is not a scalar`);
  return n as ScalarNode;
}

/** The first value of `a:` in a one-line config. */
const valueOf = (src: string): ScalarNode => scalar(load(src).config.root, 'a');

/** Run `f`, asserting it neither throws nor takes longer than a generous bound. */
function bounded<T>(what: string, f: () => T, limitMs = 10_000): T {
  const t0 = performance.now();
  const r = f();
  const ms = performance.now() - t0;
  assert.ok(ms < limitMs, `${what} took ${ms.toFixed(0)} ms`);
  return r;
}

// ---- the 282 real configs

test('every shipped config loads without errors (and the load time of all of them)', () => {
  const files = yamlFiles(CONFIGS);
  assert.is(files.length, 282);
  const wall0 = performance.now();
  const cpu0 = process.cpuUsage();
  const results = files.map((f) => loadConfigFile(f));
  const cpu = process.cpuUsage(cpu0);
  const wall = performance.now() - wall0;
  console.log(`  loaded ${files.length} configs in ${wall.toFixed(0)} ms wall, ${((cpu.user + cpu.system) / 1000).toFixed(0)} ms CPU`);
  let warned = 0;
  results.forEach((r, i) => {
    assert.equal(errors(r), [], files[i]);
    assert.is(r.config.root?.kind, 'map', files[i]);
    warned += warnings(r).length;
  });
  assert.is(warned, 0, 'no shipped config triggers a YAML 1.1/1.2 or duplicate-key warning');
});

test('spans: line:col of plain scalars match the file text, line by line', () => {
  let checked = 0;
  for (const f of yamlFiles(CONFIGS)) {
    const r = loadConfigFile(f);
    const lines = r.config.text.split('\n');
    const seen = new Set<ConfigNode>();
    const walk = (n: ConfigNode): void => {
      if (seen.has(n)) return;
      seen.add(n);
      if (n.kind === 'seq') n.items.forEach(walk);
      else if (n.kind === 'map') n.entries.forEach((e) => (walk(e.key), walk(e.value)));
      else if (typeof n.value === 'string' && n.tag === undefined && n.source === n.value && n.value !== '') {
        const { line, col } = n.span.start;
        assert.is(lines[line - 1]!.slice(col - 1, col - 1 + n.value.length), n.value, `${f}:${line}:${col}`);
        checked++;
      }
    };
    if (r.config.root) walk(r.config.root);
  }
  assert.ok(checked > 1000, `checked ${checked}`);
});

test('spans: hand-checked positions in the SPKD ImageNet config', () => {
  const r = loadConfigFile(SPKD);
  const root = r.config.root;
  const datasets = path(root, 'datasets') as MapNode;
  const trainKey = datasets.entries[0]!.key;
  // line 2: `  &imagenet_train ilsvrc2012/train: !import_call`
  assert.equal([trainKey.span.start.line, trainKey.span.start.col], [2, 19]);
  assert.is((trainKey as ScalarNode).value, 'ilsvrc2012/train');
  const train = datasets.entries[0]!.value;
  assert.is(train.tag, '!import_call');
  // its mapping starts at `_name` on line 3
  assert.equal([train.span.start.line, train.span.start.col], [3, 5]);
  // line 8: `        root: !join [*root_dir, '/train']` — the evaluated node spans the sequence
  const root8 = scalar(root, 'datasets', 'ilsvrc2012/train', 'init', 'kwargs', 'root');
  assert.is(root8.value, '~/datasets/ilsvrc2012/train');
  assert.equal([root8.span.start.line, root8.span.start.col, root8.span.end.line, root8.span.end.col], [8, 21, 8, 42]);
  // line 125: `      lr: 0.0001`
  const lr = scalar(root, 'train', 'optimizer', 'kwargs', 'lr');
  assert.equal([lr.span.start.line, lr.span.start.col, lr.value, lr.numberKind], [125, 11, 0.0001, 'float']);
  // line 82: `dataset_id: *imagenet_train` is the anchored key node itself
  assert.ok(path(root, 'train', 'train_data_loader', 'dataset_id') === trainKey);
});

// ---- anchors, aliases, tags on keys, merge keys

test('go_emotions: tagged, anchored mapping keys are evaluated and aliased', () => {
  const r = loadConfigFile(GO_EMOTIONS);
  assert.equal(r.diagnostics, []);
  const root = r.config.root;
  const ids = path(root, 'preprocess', 'dataset_id_map') as MapNode;
  const keys = ids.entries.map((e) => (e.key as ScalarNode).value);
  assert.equal(keys, ['go_emotions/train', 'go_emotions/validation', 'go_emotions/test']);
  assert.equal(ids.entries.map((e) => (e.value as ScalarNode).value), ['train', 'validation', 'test']);
  assert.ok(ids.entries.every((e) => e.key.tag === undefined));
  // `dataset_id: *train_dataset_id` yields the key node itself
  assert.ok(path(root, 'train', 'train_data_loader', 'dataset_id') === ids.entries[0]!.key);
  assert.ok(path(root, 'test', 'test_data_loader', 'dataset_id') === ids.entries[2]!.key);
  assert.is(scalar(root, 'models', 'student_model', 'dst_ckpt').value, './resource/ckpt/go_emotions/ce/go_emotions-bert-base-uncased');
  // spans of the keys: line 21 `    &train_dataset_id !join [*dataset_name, '/train']: train`
  const k0 = ids.entries[0]!.key;
  assert.equal([k0.span.start.line, k0.span.start.col], [21, 29]);
  assert.equal([ids.entries[1]!.key.span.start.line, ids.entries[1]!.key.span.start.col], [22, 27]);
});

test('anchors and aliases share the anchored node', () => {
  const r = load('a: &x {k: [1, 2]}\nb: *x\nc: &s hello\nd: [*s, *x]\n');
  assert.equal(r.diagnostics, []);
  const root = r.config.root;
  assert.ok(path(root, 'a') === path(root, 'b'));
  assert.ok(path(root, 'd', 1) === path(root, 'a'));
  assert.ok(path(root, 'd', 0) === path(root, 'c'));
  assert.is(path(root, 'b')!.span.start.line, 1, "an alias carries its anchor's span");
});

test('merge keys: explicit keys win, earlier sources win, dict order', () => {
  const r = load(['base: &b {x: 1, y: 2}', 'other: &o {y: 20, z: 30}', 'm:', '  <<: [*b, *o]', '  y: 3', '  w: 4', 'n: {<<: *o, z: 0}'].join('\n'));
  assert.equal(r.diagnostics, []);
  const m = path(r.config.root, 'm') as MapNode;
  // flatten: [*b, *o] → o's pairs then b's pairs (b wins), then explicit pairs override in place
  assert.equal(
    m.entries.map((e) => [(e.key as ScalarNode).value, (e.value as ScalarNode).value]),
    [
      ['y', 3],
      ['z', 30],
      ['x', 1],
      ['w', 4],
    ],
  );
  assert.equal(
    (path(r.config.root, 'n') as MapNode).entries.map((e) => (e.value as ScalarNode).value),
    [20, 0],
  );
  const bad = load('m: {<<: 1}');
  assert.is(errors(bad)[0]?.code, 'TDC114');
  assert.is(at(errors(bad)[0]), '1:9');
  assert.is(load("m: {'<<': 1}").diagnostics.length, 0, 'a quoted << is an ordinary key');
});

test('duplicate keys: warning, last value kept at the first position', () => {
  const r = load('a: 1\nb: 2\na: 3\n');
  const w = warnings(r);
  assert.is(w.length, 1);
  assert.is(w[0]!.code, 'TDC111');
  assert.is(at(w[0]), '3:1');
  assert.is(w[0]!.related?.[0]?.span?.start.line, 1);
  const m = r.config.root as MapNode;
  assert.equal(m.entries.map((e) => [(e.key as ScalarNode).value, (e.value as ScalarNode).value]), [
    ['a', 3],
    ['b', 2],
  ]);
  // Python dict equality: True == 1 == 1.0
  assert.is(warnings(load('1: a\n1.0: b\nTrue: c')).length, 2);
});

// ---- scalars as PyYAML reads them

test('1e-7 is a string to PyYAML: value and warning with the fix', () => {
  const r = load('a: 1e-7\n');
  const v = scalar(r.config.root, 'a');
  assert.is(v.value, '1e-7');
  const w = warnings(r);
  assert.is(w.length, 1);
  assert.is(w[0]!.code, 'TDC110');
  assert.is(at(w[0]), '1:4');
  assert.match(w[0]!.message, /PyYAML.*string '1e-7'.*YAML 1\.2.*float/);
  assert.match(w[0]!.hint ?? '', /1\.0e-7/);
  const ok = load('a: 1.0e-7\n');
  assert.equal(ok.diagnostics, []);
  assert.equal([scalar(ok.config.root, 'a').value, scalar(ok.config.root, 'a').numberKind], [1e-7, 'float']);
  // no sign in the exponent: also a string to PyYAML
  assert.is(valueOf('a: 1.0e7').value, '1.0e7');
  assert.match(warnings(load('a: 1.0e7'))[0]?.hint ?? '', /1\.0e\+7/);
  assert.is(valueOf('a: 1.0e+7').value, 1e7);
  assert.is(valueOf('a: "1.0e-7"').value, '1.0e-7', 'quoted scalars are strings');
});

test('booleans: PyYAML 1.1 variants, with a warning where YAML 1.2 differs', () => {
  for (const [src, value, warns] of [
    ['true', true, false],
    ['True', true, false],
    ['TRUE', true, false],
    ['false', false, false],
    ['False', false, false],
    ['FALSE', false, false],
    ['yes', true, true],
    ['Yes', true, true],
    ['YES', true, true],
    ['no', false, true],
    ['No', false, true],
    ['NO', false, true],
    ['on', true, true],
    ['On', true, true],
    ['ON', true, true],
    ['off', false, true],
    ['Off', false, true],
    ['OFF', false, true],
    ['tRue', 'tRue', false],
    ['yEs', 'yEs', false],
    ['y', 'y', false],
    ['n', 'n', false],
  ] as const) {
    const r = load(`a: ${src}`);
    assert.is(scalar(r.config.root, 'a').value, value, src);
    assert.is(warnings(r).length, warns ? 1 : 0, src);
  }
  assert.is(valueOf("a: 'yes'").value, 'yes');
  assert.is(valueOf('a: !!bool yes').value, true);
});

test('null, ints and floats as PyYAML constructs them', () => {
  const cases: [string, unknown, 'int' | 'float' | undefined, boolean][] = [
    // text, value, numberKind, YAML 1.1/1.2 warning
    ['', null, undefined, false],
    ['~', null, undefined, false],
    ['null', null, undefined, false],
    ['Null', null, undefined, false],
    ['42', 42, 'int', false],
    ['-7', -7, 'int', false],
    ['0x1F', 31, 'int', false],
    ['-0x1f', -31, 'int', true],
    ['017', 15, 'int', true],
    ['0o17', '0o17', undefined, true],
    ['08', '08', undefined, true],
    ['1_000', 1000, 'int', true],
    ['0b101', 5, 'int', true],
    ['1:30', 90, 'int', true],
    ['1.0', 1, 'float', false],
    ['1.', 1, 'float', false],
    ['.5', 0.5, 'float', false],
    ['-.5', '-.5', undefined, true],
    ['1e-3', '1e-3', undefined, true],
    ['1.5e-3', 0.0015, 'float', false],
    ['1.5e3', '1.5e3', undefined, true],
    ['1.5E+3', 1500, 'float', false],
    ['.inf', Infinity, 'float', false],
    ['-.inf', -Infinity, 'float', false],
    ['.nan', NaN, 'float', false],
    ['1_0.5', 10.5, 'float', true],
  ];
  for (const [src, value, kind, warns] of cases) {
    const r = load(`a: ${src}`);
    const v = scalar(r.config.root, 'a');
    assert.ok(Object.is(v.value, value), `${src}: ${String(v.value)} vs ${String(value)}`);
    assert.is(v.numberKind, kind, src);
    assert.is(warnings(r).length, warns ? 1 : 0, src);
    assert.equal(errors(r), [], src);
  }
  assert.is(valueOf('a: !!int "0x10"').value, 16);
  assert.is(valueOf('a: !!float 1e-7').value, 1e-7);
  assert.is(valueOf('a: !!str 12').value, '12');
  assert.is(errors(load('a: !!int abc'))[0]?.code, 'TDC116');
  assert.is(warnings(load('a: 2001-12-14'))[0]?.code, 'TDC117');
});

// ---- tags

test("!join: ''.join(str(x)) with Python's str() of floats, bools and None", () => {
  const r = load(
    'a: !join [a, 1.0, 1.0e-7, 0.0001, 1.0e-5, 1.0e+16, 1.0e+15, 2.5, -0.0, .inf, -.inf, .nan, True, ~, 3, 0x10, 1_000, 017, 0.1, 123456.789e+3, 1.0e+22, 5.0e-324]',
  );
  // expected string from CPython 3.11 with PyYAML 6.0.3 and torchdistill's yaml_join
  assert.is(valueOf(r.config.text).value, 'a1.01e-070.00011e-051e+161000000000000000.02.5-0.0inf-infnanTrueNone3161000150.1123456789.01e+225e-324');
  const nested = load("x: &x !join [a, '/', 1]\ny: !join [*x, !join [b, 2.0]]");
  assert.equal(errors(nested), []);
  assert.is(scalar(nested.config.root, 'y').value, 'a/1b2.0');
  assert.is(scalar(nested.config.root, 'y').tag, undefined);
  assert.is(valueOf('a: !join []').value, '');
  assert.is(valueOf('a: !join [9007199254740993]').value, '9007199254740993', 'ints beyond 2^53 print exactly');
  for (const [src, code, pos] of [
    ['a: !join [x, [1]]', 'TDC113', '1:14'],
    ['a: !join [x, {k: v}]', 'TDC113', '1:14'],
    ['a: &m {k: v}\nb: !join [x, *m]', 'TDC113', '1:7'],
    ['a: !join {k: v}', 'TDC119', '1:10'],
    ['a: !join x', 'TDC119', '1:10'],
  ] as const) {
    const e = errors(load(src));
    assert.is(e[0]?.code, code, src);
    assert.is(at(e[0]), pos, src);
  }
});

test('py float repr matches Python', () => {
  // from CPython: repr() of each
  const cases: [number, string][] = [
    [1, '1.0'],
    [1e-7, '1e-07'],
    [0.0001, '0.0001'],
    [0.00001, '1e-05'],
    [1e16, '1e+16'],
    [1e15, '1000000000000000.0'],
    [123.456, '123.456'],
    [1.5e300, '1.5e+300'],
    [-2.5e-10, '-2.5e-10'],
    [0.1 + 0.2, '0.30000000000000004'],
  ];
  for (const [x, s] of cases) assert.is(pyFloatRepr(x), s);
});

test('torchdistill tags stay inert; unknown tags warn; wrong node kinds are errors', () => {
  const r = load('a: !import_call {key: x.y, init: {kwargs: {n: 1}}}\nb: !getattr [*c, d]\nc: &c !import_get {key: m}\ne: !expanduser ~/x\n'.replace('*c, d', 'x, d'));
  assert.equal(errors(r), []);
  assert.is(path(r.config.root, 'a')!.tag, '!import_call');
  assert.is(path(r.config.root, 'a', 'init', 'kwargs', 'n') && scalar(r.config.root, 'a', 'init', 'kwargs', 'n').value, 1);
  assert.is(path(r.config.root, 'b')!.tag, '!getattr');
  assert.is(scalar(r.config.root, 'e').value, '~/x');
  assert.is(scalar(r.config.root, 'e').tag, '!expanduser');
  const unknown = load('a: !jion [x, y]');
  assert.is(warnings(unknown)[0]?.code, 'TDC112');
  assert.match(warnings(unknown)[0]?.hint ?? '', /!join/);
  assert.is(path(unknown.config.root, 'a')!.tag, '!jion');
  assert.is(errors(load('a: !import_call [x]'))[0]?.code, 'TDC119');
  assert.is(errors(load('a: !!str [x]'))[0]?.code, 'TDC119');
});

// ---- syntax errors and document shape

test('YAML syntax errors carry their position', () => {
  for (const [src, pos] of [
    ['a: [1, 2', '1:9'],
    ['a: 1\nb\n', '2:1'],
    ['a:\n\t- b', '2:1'],
    ['a: "open\n', '2:1'],
    ['a: @x', '1:4'],
  ] as const) {
    const e = errors(load(src));
    assert.is(e[0]?.code, 'TDC103', src);
    assert.is(at(e[0]), pos, src);
  }
  const undef = errors(load('a: *nope'));
  assert.equal([undef[0]?.code, at(undef[0])], ['TDC118', '1:4']);
  const dup = errors(load('a: &x 1\nb: &x 2'));
  assert.equal([dup[0]?.code, at(dup[0])], ['TDC118', '2:7']);
});

// ---- hostile input

const laughs = (levels: number): string => {
  const names = 'abcdefghijklmnop';
  const lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]'];
  for (let i = 1; i < levels; i++) lines.push(`${names[i]}: &${names[i]} [${Array(9).fill('*' + names[i - 1]).join(',')}]`);
  return lines.join('\n');
};

test('hostile input ends in an error diagnostic, quickly, with a position', () => {
  const deepAliases = ['a0: &a0 ' + '['.repeat(200) + ']'.repeat(200)];
  for (let i = 1; i < 50; i++) deepAliases.push(`a${i}: &a${i} [[[*a${i - 1}]]]`);
  const cases: [string, string, string, string | undefined][] = [
    // name, text, code, position
    ['billion laughs', laughs(10), 'TDC108', '7:7'],
    ['100k-deep flow sequence', 'a: ' + '['.repeat(100_000) + ']'.repeat(100_000), 'TDC107', '1:261'],
    ['unclosed 1M-deep flow sequence', '['.repeat(1_000_000), 'TDC107', '1:259'],
    ['100k-deep flow mappings', '{a: '.repeat(100_000) + '1' + '}'.repeat(100_000), 'TDC107', '1:1030'],
    ['100k-deep compact block sequence', 'a:\n' + '- '.repeat(100_000) + 'x', 'TDC107', '2:514'],
    ['3000-deep indentation', Array.from({ length: 3000 }, (_, i) => ' '.repeat(i) + 'k:').join('\n'), 'TDC107', '258:259'],
    ['depth through aliases', deepAliases.join('\n'), 'TDC107', '20:11'],
    ['2M-item flat list', 'a: [' + '1,'.repeat(2_000_000) + '1]', 'TDC108', '1:399999'],
    ['!join blow-up', 'a: &a ' + 'x'.repeat(1000) + '\nb: !join [' + Array(2000).fill('*a').join(',') + ']', 'TDC108', '2:10'],
    ['over 1 MiB', 'a: ' + 'x'.repeat(1024 * 1024), 'TDC102', undefined],
    ['NUL bytes', 'a: 1\nb: \0\0', 'TDC101', '2:4'],
    ['control character', 'a: \x07', 'TDC101', '1:4'],
    ['unpaired surrogate', 'a: \ud800', 'TDC101', '1:4'],
    ['empty file', '', 'TDC104', '1:1'],
    ['comments only', '# nothing\n  # here\n\n', 'TDC104', '1:1'],
    ['document marker only', '---\n', 'TDC104', '1:1'],
    ['scalar document', '42\n', 'TDC105', '1:1'],
    ['list document', '- a\n- b\n', 'TDC105', '1:1'],
    ['null document', '~\n', 'TDC105', '1:1'],
    ['two documents', 'a: 1\n---\nb: 2\n', 'TDC106', '2:1'],
    ['recursive alias', 'a: &x\n  b: [*x]\n', 'TDC109', '2:7'],
    ['recursive alias in a key', 'a: &x {*x : 1}', 'TDC109', '1:8'],
  ];
  for (const [name, text, code, pos] of cases) {
    // The structural limits are tested on texts above the 1 MiB size limit too (it would refuse them first).
    const r = bounded(name, () => (code === 'TDC102' ? load(text) : loadConfig(text, 't.yaml', { maxBytes: 16 * 1024 * 1024 })));
    const e = errors(r);
    assert.ok(e.length > 0, `${name}: no error`);
    assert.is(e[0]!.code, code, name);
    assert.is(e[0]!.span ? at(e[0]) : undefined, pos, name);
  }
});

test('the result tree is safe to walk: expanded size stays under the limit', () => {
  const r = load(laughs(6)); // 9^5 = 59049 leaves: allowed
  assert.equal(errors(r), []);
  let count = 0;
  const walk = (n: ConfigNode): void => {
    count++;
    if (n.kind === 'seq') n.items.forEach(walk);
    else if (n.kind === 'map') n.entries.forEach((e) => (walk(e.key), walk(e.value)));
  };
  walk(r.config.root!);
  assert.ok(count > 59049 && count < 1_000_000, String(count));
  assert.is(errors(loadConfig(laughs(6), 't.yaml', { maxExpandedNodes: 10_000 }))[0]?.code, 'TDC108', 'limits are configurable');
});

test('never throws: random bytes and YAML-ish noise', () => {
  let seed = 12345;
  const rand = (): number => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
  const alphabet = ['[', ']', '{', '}', ':', ' ', '\n', '- ', '&a', '*a', '!join ', '!!int ', '<<: ', '"', "'", '#', 'x', '1', '?', ',', '|', '>', '\t', '---', '%YAML 1.1'];
  for (let i = 0; i < 400; i++) {
    let s = '';
    const n = Math.floor(rand() * 60);
    for (let k = 0; k < n; k++) s += alphabet[Math.floor(rand() * alphabet.length)];
    const r = loadConfig(s, 'fuzz.yaml');
    assert.ok(Array.isArray(r.diagnostics));
    for (const d of r.diagnostics) if (d.span) assert.ok(d.span.start.line >= 1 && d.span.start.col >= 1, JSON.stringify(s));
  }
  const odd = loadConfig(undefined as unknown as string, 'x.yaml');
  assert.is(errors(odd)[0]?.code, 'TDC101');
});

test('loadConfigFile: unreadable, binary and invalid UTF-8 files', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tdc-load-'));
  try {
    assert.is(errors(loadConfigFile(join(dir, 'missing.yaml')))[0]?.code, 'TDC100');
    assert.is(errors(loadConfigFile(dir))[0]?.code, 'TDC100');
    const bin = join(dir, 'bin.yaml');
    writeFileSync(bin, Buffer.from([0x61, 0x3a, 0x20, 0x00, 0x01, 0x02]));
    const b = errors(loadConfigFile(bin));
    assert.equal([b[0]?.code, at(b[0])], ['TDC101', '1:4']);
    assert.match(b[0]!.message, /not a text file/);
    const latin1 = join(dir, 'latin1.yaml');
    writeFileSync(latin1, Buffer.concat([Buffer.from('a: 1\nb: caf'), Buffer.from([0xe9]), Buffer.from('\n')]));
    const l = errors(loadConfigFile(latin1));
    assert.equal([l[0]?.code, at(l[0])], ['TDC101', '2:7']);
    assert.match(l[0]!.message, /invalid UTF-8/);
    const good = join(dir, 'good.yaml');
    writeFileSync(good, '\ufeffa: 1\n');
    const g = loadConfigFile(good);
    assert.equal(g.diagnostics, []);
    assert.is(scalar(g.config.root, 'a').value, 1);
    assert.is(at({ severity: 'note', code: '', message: '', span: scalar(g.config.root, 'a').span }), '1:4', 'a byte-order mark takes no column');
    assert.is(errors(loadConfigFile(good, { maxBytes: 4 }))[0]?.code, 'TDC102');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
