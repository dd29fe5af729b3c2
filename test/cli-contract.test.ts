// The CLI contract (README "Exit codes"), command by command, as a shell script meets it:
//   usage errors exit 2, diagnostics exit 1, internal errors 70 with a "please report" note and no stack trace
//   (unless TDC_DEBUG); diagnostics on stderr and each printed once; results on stdout; NO_COLOR / FORCE_COLOR;
//   `tdc doctor` (text and --json).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { hasStackTrace, ROOT, tdc, type CliResult } from './helpers/cli.js';

const KD = join(ROOT, 'examples', 'kd', 'config.yaml');
const IO = join(ROOT, 'examples', 'kd', 'io.safetensors');
const dir = mkdtempSync(join(tmpdir(), 'tdc-contract-'));
const out = join(dir, 'out');
const BAD_YAML = join(dir, 'bad.yaml');
writeFileSync(BAD_YAML, 'train:\n  criterion:\n    key: [unclosed\n    kwargs: {\n');
const TABS_YAML = join(dir, 'tabs.yaml');
writeFileSync(TABS_YAML, 'train:\n\tcriterion: 1\n');
const BAD_SPEC = join(dir, 'bad.tdl');
writeFileSync(BAD_SPEC, 'low Bad()(input, target) {\n  return input +\n}\n');
const EMPTY = join(dir, 'empty-dir');
mkdirSync(EMPTY);
const ESC = /\x1b\[/;

function usage(r: CliResult, what: string, message: RegExp): void {
  assert.is(r.code, 2, `${what}: exit ${r.code}\n${r.stdout}${r.stderr}`);
  assert.match(r.stderr, message, `${what}: ${r.stderr}`);
  assert.match(r.stderr, /--help/, `${what}: points to --help`);
  assert.is(r.stdout, '', `${what}: nothing on stdout`);
  assert.not.ok(hasStackTrace(r.stderr), `${what}: ${r.stderr}`);
}

const USAGE: [string, string[], RegExp][] = [
  ['unknown command', ['frobnicate'], /unknown command 'frobnicate'/],
  ['unknown global option', ['--frob', 'check', KD], /unknown option '--frob'/],
  ['check: unknown option', ['check', '--frob', KD], /unknown option '--frob'/],
  ['check: missing paths', ['check'], /missing required argument 'paths'/],
  ['inspect: missing config', ['inspect'], /missing required argument 'config'/],
  ['inspect: unknown option', ['inspect', KD, '--frob'], /unknown option '--frob'/],
  ['list: unexpected argument', ['list', 'extra'], /too many arguments|unknown command/],
  ['schema: unknown option', ['schema', '--frob'], /unknown option '--frob'/],
  ['migrate: missing configs', ['migrate'], /missing required argument 'configs'/],
  ['doctor: unknown option', ['doctor', '--frob'], /unknown option '--frob'/],
  ['run: missing --inputs', ['run', KD], /required option '--inputs <file>' not specified/],
  ['run: missing config', ['run', '--inputs', IO], /missing required argument 'config'/],
  // a misspelt option is named with its did-you-mean (it used to be "required option '--inputs <file>' not specified")
  ['run: misspelt --input', ['run', KD, '--input', IO], /unknown option '--input'\n\(Did you mean --inputs\?\)/],
  // `help` of an unknown command printed the whole help on stderr without a word about the name
  ['help of an unknown command', ['help', 'chek'], /unknown command 'chek'\n\(Did you mean check\?\)/],
  ['run: nothing', ['run'], /required option '--inputs <file>' not specified|missing required argument/],
  ['run: extra argument', ['run', KD, 'extra', '--inputs', IO], /too many arguments for 'run'/],
  ['run: --inputs without a value', ['run', KD, '--inputs'], /option '--inputs <file>' argument missing/],
  ['run: --device tpu', ['run', KD, '--inputs', IO, '--device', 'tpu'], /argument 'tpu' is invalid/],
  ['run: --workgroup-size 2000', ['run', KD, '--inputs', IO, '--workgroup-size', '2000'], /TDC602: --workgroup-size must be an integer in 1\.\.256 \(the largest workgroup the row kernels are built for\), got '2000'/],
  // above the kernels' 256 (it used to reach the GPU and fail there with TDC524, exit 1)
  ['run: --workgroup-size 1000', ['run', KD, '--inputs', IO, '--device', 'gpu', '--workgroup-size', '1000'], /TDC602: --workgroup-size must be an integer in 1\.\.256 .*got '1000'/],
  ['run: --workgroup-size abc', ['run', KD, '--inputs', IO, '--workgroup-size', 'abc'], /TDC602/],
  ['run: --stage trian', ['run', KD, '--inputs', IO, '--device', 'cpu', '--stage', 'trian'], /TDC905: no stage 'trian'.*it has: train/],
  ['compile: --stage trian', ['compile', KD, '-o', out, '--stage', 'trian'], /TDC905: no stage 'trian'.*it has: train/],
  ['compile: malformed --shape', ['compile', KD, '-o', out, '--shape', 'student/./output'], /TDC611: --shape 'student\/\.\/output': expected name=dims/],
  ['compile: malformed --shape dims', ['compile', KD, '-o', out, '--shape', 'student/./output=7x?'], /TDC611/],
  ['compile: --workgroup-size 2000', ['compile', KD, '-o', out, '--workgroup-size', '2000'], /TDC602: --workgroup-size must be an integer in 1\.\.256 \(WebGPU's default limit, which every adapter allows, so the output runs on any device\), got '2000'/],
  // a pin above WebGPU's default limit made an output that fails on adapters with the default limits (it compiled, exit 0)
  ['compile: --workgroup-size 512', ['compile', KD, '-o', out, '--workgroup-size', '512'], /TDC602: --workgroup-size must be an integer in 1\.\.256 .*got '512'/],
  ['tune: --workgroup-size 512', ['tune', KD, '--workgroup-size', '512', '-o', join(dir, 'tuning.json')], /TDC602: --workgroup-size must be an integer in 1\.\.256 .*got '512'/],
  ['compile: --workgroup-size 0', ['compile', KD, '-o', out, '--workgroup-size', '0'], /TDC602/],
  ['compile: --workgroup-size 8.5', ['compile', KD, '-o', out, '--workgroup-size', '8.5'], /TDC602/],
  ['compile: --workgroup-size 0x10', ['compile', KD, '-o', out, '--workgroup-size', '0x10'], /TDC602/],
  ['compile: --name ../x', ['compile', KD, '-o', out, '--name', '../x'], /TDC612/],
  ['compile: --watch --check', ['compile', '--watch', '--check'], /--watch and --check cannot be combined/],
  ['compile: -o without a config', ['compile', '-o', out], /-o\/--out needs a config/],
  ['compile: -o with -p', ['compile', KD, '-o', out, '-p', 'tdc.config.json'], /cannot be combined/],
  ['tune: --stage trian', ['tune', KD, '--stage', 'trian', '-o', join(dir, 'tuning.json')], /TDC905: no stage 'trian'.*it has: train/],
  ['tune: --shape of a tensor not read', ['tune', KD, '--shape', 'student/output=Nx10', '-o', join(dir, 'tuning.json')], /TDC614: --shape 'student\/output'/],
  // an empty value names nothing, whatever the option
  ['run: --grads-out ""', ['run', KD, '--inputs', IO, '--device', 'cpu', '--grads-out', ''], /TDC902: --grads-out: the value is empty/],
  ['run: --inputs ""', ['run', KD, '--inputs', ''], /TDC902: --inputs: the value is empty/],
  ['compile: -o ""', ['compile', KD, '-o', ''], /TDC902: --out: the value is empty/],
  ['compile: --shape ""', ['compile', KD, '-o', out, '--shape', ''], /TDC902: --shape: the value is empty/],
  ['schema: -o ""', ['schema', '-o', ''], /TDC902: --out: the value is empty/],
  ['global: --spec ""', ['--spec', '', 'list'], /TDC902: --spec: the value is empty/],
];

test('usage errors exit 2 with the message and a pointer to --help on stderr, nothing on stdout', () => {
  for (const [what, args, message] of USAGE) usage(tdc(args, { cwd: EMPTY }), what, message);
  // nothing was written by a refused compile
  assert.is(spawnSync('test', ['-e', out]).status, 1, 'no output directory created');
});

test('compile without a config and without a tdc.config: usage (exit 2)', () => {
  usage(tdc(['compile'], { cwd: EMPTY }), 'bare compile', /no config given, and no tdc\.config/);
});

test('--help and --version exit 0 on stdout', () => {
  for (const args of [['--help'], ['-v'], ['--version'], ['run', '--help'], ['compile', '--help'], ['doctor', '--help'], []]) {
    const r = tdc(args);
    assert.is(r.code, 0, `${args.join(' ')}: exit ${r.code}`);
    assert.ok(r.stdout.length > 0, `${args.join(' ')}: output on stdout`);
  }
});

/** Exit 1, the diagnostic on stderr (once), no diagnostic text on stdout. */
function diagnoses(r: CliResult, what: string, line: RegExp): void {
  assert.is(r.code, 1, `${what}: exit ${r.code}\n${r.stdout}${r.stderr}`);
  const hits = r.stderr.split('\n').filter((l) => line.test(l));
  assert.is(hits.length, 1, `${what}: the diagnostic is printed exactly once on stderr:\n${r.stderr}`);
  assert.not.match(r.stdout, /error TDC\d+/, `${what}: no diagnostic on stdout:\n${r.stdout}`);
  assert.not.ok(hasStackTrace(r.stdout + r.stderr), `${what}: ${r.stderr}`);
}

test('diagnostics: exit 1, on stderr for every command, each printed once', () => {
  const tabs = /tabs\.yaml:2:1 - error TDC103: Tabs are not allowed as indentation/;
  diagnoses(tdc(['check', TABS_YAML]), 'check', tabs);
  diagnoses(tdc(['inspect', TABS_YAML]), 'inspect', tabs);
  diagnoses(tdc(['run', TABS_YAML, '--inputs', IO, '--device', 'cpu']), 'run', tabs);
  diagnoses(tdc(['compile', TABS_YAML, '-o', out]), 'compile', tabs);
  const bad = /bad\.yaml:4:5 - error TDC103/;
  for (const cmd of [['check'], ['inspect'], ['compile', '-o', out]]) diagnoses(tdc([cmd[0]!, BAD_YAML, ...cmd.slice(1)]), `${cmd[0]} bad.yaml`, bad);
  // a broken --spec file is reported once by every command, although compile and run register specs on two paths
  const spec = /bad\.tdl:\d+:\d+ - error TDC3\d\d/;
  diagnoses(tdc(['--spec', BAD_SPEC, 'check', KD]), 'check --spec', spec);
  diagnoses(tdc(['--spec', BAD_SPEC, 'inspect', KD]), 'inspect --spec', spec);
  diagnoses(tdc(['--spec', BAD_SPEC, 'list']), 'list --spec', spec);
  diagnoses(tdc(['--spec', BAD_SPEC, 'schema']), 'schema --spec', spec);
  diagnoses(tdc(['--spec', BAD_SPEC, 'run', KD, '--inputs', IO, '--device', 'cpu']), 'run --spec', spec);
  diagnoses(tdc(['--spec', BAD_SPEC, 'compile', KD, '-o', out]), 'compile --spec', spec);
  // missing input files
  diagnoses(tdc(['check', join(dir, 'nope.yaml')]), 'check missing', /TDC901/);
  diagnoses(tdc(['check', EMPTY]), 'check empty dir', /TDC908: no config files/);
  // a path that is not there is not a file checked (the summary said "Checked 0 files: 1 error in 1 file")
  const gone = tdc(['check', join(EMPTY, 'nosuch.yaml'), TABS_YAML]);
  assert.match(gone.stdout, /^Checked 1 file: 2 errors in 1 file and 1 path not read, 0 warnings\.$/m);
  diagnoses(tdc(['run', KD, '--inputs', join(dir, 'nope.safetensors'), '--device', 'cpu']), 'run missing inputs', /TDC501/);
  // a missing config given to inspect, run or compile says so in words (it was "cannot read '…': ENOENT")
  const noConfig = /error TDC100: cannot read '.*nope\.yaml': no such file \(ENOENT\)$/;
  diagnoses(tdc(['inspect', join(dir, 'nope.yaml')]), 'inspect missing config', noConfig);
  diagnoses(tdc(['run', join(dir, 'nope.yaml'), '--inputs', IO, '--device', 'cpu']), 'run missing config', noConfig);
  diagnoses(tdc(['compile', join(dir, 'nope.yaml'), '-o', out]), 'compile missing config', noConfig);
});

test('a YAML error inside an anchor aliased twice: printed once, listed once in JSON, both uses as related', () => {
  const f = join(dir, 'alias-twice.yaml');
  writeFileSync(f, "datasets:\n  a:\n    _name: &dataset_name 'x'\n    _root: &root_dir !joindatasets/', *dataset_name]\n    root: !join [*root_dir, '/train']\n  b:\n    root: !join [*root_dir, '/val']\n");
  const r = tdc(['check', f]);
  diagnoses(r, 'alias twice', /alias-twice\.yaml:4:37 - error TDC113/);
  assert.match(r.stderr, /related: .*alias-twice\.yaml:5:17: in this !join/);
  assert.match(r.stderr, /related: .*alias-twice\.yaml:7:17: in this !join/);
  const j = JSON.parse(tdc(['check', '--json', f]).stdout) as { diagnostics: { code: string }[] }[];
  assert.is(j[0]!.diagnostics.filter((d) => d.code === 'TDC113').length, 1);
});

test('--json: the document alone on stdout (diagnostics inside it), exit code as in text mode', () => {
  const c = tdc(['check', '--json', TABS_YAML]);
  assert.is(c.code, 1);
  const doc = JSON.parse(c.stdout) as { diagnostics: { code: string }[] }[];
  assert.is(doc[0]!.diagnostics[0]!.code, 'TDC103');
  const r = tdc(['run', KD, '--inputs', IO, '--device', 'cpu', '--json']);
  assert.is(r.code, 0, r.stderr);
  const j = JSON.parse(r.stdout) as { loss: number; terms: Record<string, unknown> };
  assert.ok(Number.isFinite(j.loss));
  const k = tdc(['compile', '--json', TABS_YAML, '-o', out]);
  assert.is(k.code, 1);
  assert.ok(JSON.parse(k.stdout));
  // run: on errors too, a document with the diagnostics (stdout used to be empty)
  for (const [args, code] of [
    [['run', KD, '--inputs', join(dir, 'no-such.safetensors'), '--device', 'cpu', '--json'], 'TDC501'],
    [['run', TABS_YAML, '--inputs', IO, '--device', 'cpu', '--json'], 'TDC103'],
    [['run', KD, '--inputs', KD, '--device', 'cpu', '--json', '--grads-out', KD], 'TDC909'],
  ] as const) {
    const e = tdc([...args]);
    assert.is(e.code, 1, e.stderr);
    const doc = JSON.parse(e.stdout) as { ok: boolean; diagnostics: { code: string; severity: string }[] };
    assert.is(doc.ok, false);
    assert.ok(doc.diagnostics.some((d) => d.code === code && d.severity === 'error'), e.stdout);
  }
  assert.is((JSON.parse(r.stdout) as { ok: boolean }).ok, true);
});

test("--json: an error raised in tdc's built-in spec carries the config position (file, line, column) and the spec line as related, as the text does", () => {
  const f = join(dir, 'kd-no-alpha.yaml');
  writeFileSync(
    f,
    "train:\n  criterion:\n    key: 'WeightedSumLoss'\n    kwargs:\n      sub_terms:\n        kd:\n          criterion:\n            key: 'KDLoss'\n" +
      "            kwargs:\n              student_module_path: '.'\n              student_module_io: 'output'\n              teacher_module_path: '.'\n" +
      "              teacher_module_io: 'output'\n              temperature: 4.0\n          weight: 1.0\n",
  );
  const text = tdc(['check', f]);
  assert.is(text.code, 1);
  assert.match(text.stderr, /kd-no-alpha\.yaml:8:18 - error TDC406: KDLoss: alpha and beta cannot both be none/);
  assert.match(text.stderr, /related: .*losses-spec\/distill\/KDLoss\.tdl:\d+:\d+: raised here, in tdc's built-in spec of KDLoss/);
  const j = tdc(['check', '--json', f]);
  assert.is(j.code, 1);
  type Loc = { message: string; file?: string; line?: number; column?: number };
  const d = (JSON.parse(j.stdout) as { diagnostics: (Loc & { code: string; related?: Loc[] })[] }[])[0]!.diagnostics.find((x) => x.code === 'TDC406')!;
  assert.equal([d.file, d.line, d.column], [f, 8, 18]);
  assert.ok(d.related?.some((r) => r.file?.endsWith('KDLoss.tdl') && typeof r.line === 'number' && /built-in spec/.test(r.message)), JSON.stringify(d.related));
  assert.ok(d.related?.some((r) => r.file === f && r.line === 6 && /config term 'kd'/.test(r.message)), JSON.stringify(d.related));
});

test('TDC_WEBGPU_TIMEOUT_MS that is no timeout: TDC528 naming it, exit 1, no silent default and no CPU fallback', () => {
  for (const v of ['abc', '0', '-1']) {
    const r = tdc(['run', KD, '--inputs', IO, '--json'], { env: { TDC_WEBGPU_TIMEOUT_MS: v } });
    assert.is(r.code, 1, r.stderr);
    assert.match(r.stderr, new RegExp(`error TDC528: TDC_WEBGPU_TIMEOUT_MS='${v}': expected a positive number of milliseconds`));
    assert.not.ok(hasStackTrace(r.stderr), r.stderr);
    assert.is((JSON.parse(r.stdout) as { ok: boolean }).ok, false);
  }
});

test('tdc tune with TDC_WEBGPU_TIMEOUT_MS that is no timeout: TDC528 as tdc run reports it (it said TDC683 "no GPU to tune on")', () => {
  const out = join(dir, 'tune-528.json');
  const r = tdc(['tune', KD, '--like', IO, '-o', out], { env: { TDC_WEBGPU_TIMEOUT_MS: 'abc' } });
  const run = tdc(['run', KD, '--inputs', IO], { env: { TDC_WEBGPU_TIMEOUT_MS: 'abc' } });
  assert.is(r.code, run.code, r.stderr);
  assert.is(r.code, 1);
  assert.match(r.stderr, /error TDC528: TDC_WEBGPU_TIMEOUT_MS='abc': expected a positive number of milliseconds/);
  assert.not.match(r.stderr, /TDC683/);
  assert.not.ok(hasStackTrace(r.stderr), r.stderr);
  assert.not.ok(existsSync(out), 'no cache written');
});

test('tdc doctor names a TDC_WEBGPU_TIMEOUT_MS that every GPU run refuses (TDC528; exit 1) and a tuning cache runs ignore (a warning)', () => {
  const j = tdc(['doctor', '--json'], { env: { TDC_WEBGPU_TIMEOUT_MS: '-5' }, timeoutMs: 120_000 });
  const rep = JSON.parse(j.stdout) as { ok: boolean; envProblems: { variable: string; severity: string; code: string; message: string }[] };
  assert.is(j.code, 1, j.stdout);
  assert.is(rep.ok, false);
  assert.equal(rep.envProblems.map((p) => [p.variable, p.severity, p.code]), [['TDC_WEBGPU_TIMEOUT_MS', 'error', 'TDC528']]);
  assert.match(rep.envProblems[0]!.message, /TDC_WEBGPU_TIMEOUT_MS='-5': expected a positive number of milliseconds/);
  const t = tdc(['doctor'], { env: { TDC_WEBGPU_TIMEOUT_MS: '-5' }, timeoutMs: 120_000 });
  assert.is(t.code, 1);
  assert.match(t.stdout, /error TDC528: TDC_WEBGPU_TIMEOUT_MS='-5': expected a positive number of milliseconds/);
  assert.match(t.stdout, /the GPU path is not available: TDC_WEBGPU_TIMEOUT_MS must be fixed/);
  // a tuning cache that is not one: GPU runs ignore it with a note; doctor warns, the GPU path stays available
  const cache = join(dir, 'not-a-cache.json');
  writeFileSync(cache, '{"hello": 1}');
  const w = tdc(['doctor', '--json'], { env: { TDC_TUNING_CACHE: cache }, timeoutMs: 120_000 });
  const wr = JSON.parse(w.stdout) as { ok: boolean; device: { ok: boolean }; envProblems: { variable: string; severity: string; message: string }[] };
  assert.equal(wr.envProblems.map((p) => [p.variable, p.severity]), [['TDC_TUNING_CACHE', 'warning']]);
  assert.match(wr.envProblems[0]!.message, /not-a-cache\.json is not a tdc tuning cache \(format undefined is not 'tdc-tuning\/1'\)/);
  assert.is(wr.ok, wr.device.ok);
  // a device as the cache: refused at once as no file (it was read until 512 MB made 'Invalid string length')
  if (existsSync('/dev/zero')) {
    const z = tdc(['doctor', '--json'], { env: { TDC_TUNING_CACHE: '/dev/zero' }, timeoutMs: 120_000 });
    const zr = JSON.parse(z.stdout) as { envProblems: { variable: string; severity: string; message: string }[] };
    assert.equal(zr.envProblems.map((p) => [p.variable, p.severity]), [['TDC_TUNING_CACHE', 'warning']]);
    assert.match(zr.envProblems[0]!.message, /\/dev\/zero is not a regular file/);
  }
  // nothing set wrong: nothing reported
  assert.equal((JSON.parse(tdc(['doctor', '--json'], { timeoutMs: 120_000 }).stdout) as { envProblems: unknown[] }).envProblems, []);
});

/** A Node module hook that replaces one module of dist/ with `source`: a real bug, injected without touching tdc. */
function injecting(moduleTail: string, source: string): string[] {
  const hooks = join(dir, `hooks-${moduleTail.replace(/\W/g, '_')}.mjs`);
  writeFileSync(
    hooks,
    `export async function load(url, context, next) {\n  if (url.endsWith(${JSON.stringify(moduleTail)})) return { format: 'module', source: ${JSON.stringify(source)}, shortCircuit: true };\n  return next(url, context);\n}\n`,
  );
  const register = join(dir, `register-${moduleTail.replace(/\W/g, '_')}.mjs`);
  writeFileSync(register, `import { register } from 'node:module';\nregister(${JSON.stringify(pathToFileURL(hooks).href)});\n`);
  return ['--import', pathToFileURL(register).href];
}

function tdcWith(nodeArgs: string[], args: string[], env: Record<string, string> = {}): CliResult {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, [...nodeArgs, join(ROOT, 'bin', 'tdc.js'), ...args], { cwd: ROOT, encoding: 'utf8', timeout: 60_000, env: { ...process.env, NO_COLOR: '1', TDC_DEBUG: '', ...env } });
  return { code: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '', ms: performance.now() - t0 };
}

test('internal errors: exit 70, one line, a "please report" note, a stack trace only with TDC_DEBUG', () => {
  // a command that throws (a bug in tdc reaching the top level)
  const thrower = injecting('/dist/src/cli/check.js', "export async function checkCommand() { throw new TypeError('injected bug: x is undefined'); }");
  const r = tdcWith(thrower, ['check', KD]);
  assert.is(r.code, 70, r.stderr);
  assert.match(r.stderr, /^tdc: internal error: injected bug: x is undefined$/m);
  assert.match(r.stderr, /please report it/);
  assert.match(r.stderr, /TDC_DEBUG=1/);
  assert.not.ok(hasStackTrace(r.stderr), r.stderr);
  assert.is(r.stdout, '');
  const d = tdcWith(thrower, ['check', KD], { TDC_DEBUG: '1' });
  assert.is(d.code, 70);
  assert.ok(hasStackTrace(d.stderr), `TDC_DEBUG=1 shows the stack:\n${d.stderr}`);
  // a stage that reports its own crash as an internal-error diagnostic (TDC299): still exit 70 and the note, once
  const resolver = injecting(
    '/dist/src/compiler/driver/check.js',
    "export function checkFile(path) { return { diagnostics: [{ severity: 'error', code: 'TDC299', message: 'internal error in resolve: injected' }], text: '' }; }\nexport function checkConfig() { throw new Error('unused'); }",
  );
  for (const args of [['check', KD], ['check', '--json', KD], ['inspect', KD], ['run', KD, '--inputs', IO, '--device', 'cpu']]) {
    const s = tdcWith(resolver, args);
    assert.is(s.code, 70, `${args.join(' ')}: exit ${s.code}\n${s.stderr}`);
    assert.is(s.stderr.match(/please report it/g)?.length, 1, `${args.join(' ')}: one note\n${s.stderr}`);
    assert.match(s.stderr, /TDC299/);
  }
});

test('tdc exits once it has reported, even when work is left in the event loop (a GPU kernel that never ends)', () => {
  // a command that reports, returns 1, and leaves a timer running forever (as Dawn's pending map does after a GPU timeout)
  const hang = injecting('/dist/src/cli/check.js', "export async function checkCommand() { setInterval(() => {}, 1000); process.stdout.write('reported\\n'); return 1; }");
  const r = tdcWith(hang, ['check', KD]);
  assert.is(r.code, 1, `exit ${r.code} (null: killed after the timeout)\n${r.stderr}`);
  assert.is(r.stdout, 'reported\n', 'output flushed before exiting');
});

test('colour: NO_COLOR and FORCE_COLOR honoured on both streams; --no-color wins; FORCE_COLOR wins over NO_COLOR', () => {
  const diag = (env: Record<string, string>, extra: string[] = []): string => tdc([...extra, 'check', TABS_YAML], { env }).stderr;
  assert.not.match(diag({ NO_COLOR: '1' }), ESC, 'NO_COLOR=1: plain');
  assert.not.match(diag({ NO_COLOR: '' }), ESC, 'not a terminal: plain');
  assert.match(diag({ NO_COLOR: '', FORCE_COLOR: '1' }), ESC, 'FORCE_COLOR=1: colour although not a terminal');
  assert.match(diag({ NO_COLOR: '1', FORCE_COLOR: '1' }), ESC, 'FORCE_COLOR wins over NO_COLOR');
  assert.not.match(diag({ NO_COLOR: '', FORCE_COLOR: '0' }), ESC, 'FORCE_COLOR=0: plain');
  assert.not.match(diag({ NO_COLOR: '', FORCE_COLOR: 'false' }), ESC, 'FORCE_COLOR=false: plain');
  assert.not.match(diag({ NO_COLOR: '', FORCE_COLOR: '1' }, ['--no-color']), ESC, '--no-color wins');
  // results on stdout follow the same rule
  assert.match(tdc(['list'], { env: { NO_COLOR: '', FORCE_COLOR: '1' } }).stdout, ESC);
  assert.not.match(tdc(['list'], { env: { NO_COLOR: '1' } }).stdout, ESC);
});

test('tdc doctor: Node, the webgpu package, the adapter with its limits and features; --json agrees; exit 0 iff a device', () => {
  const j = tdc(['doctor', '--json'], { timeoutMs: 120_000 });
  assert.ok(j.code === 0 || j.code === 1, `exit ${j.code}\n${j.stderr}`);
  const rep = JSON.parse(j.stdout) as {
    ok: boolean;
    node: { version: string; ok: boolean };
    webgpu: { version: string | null; loaded: boolean };
    adapter: null | { vendor: string; description: string; software: boolean; limits: Record<string, number>; features: string[] };
    device: { ok: boolean };
    hints: string[];
  };
  assert.is(rep.ok, j.code === 0);
  assert.is(rep.node.version, process.versions.node);
  assert.ok(rep.node.ok);
  assert.is(rep.webgpu.version, '0.6.2', 'the pinned Dawn package');
  assert.ok(rep.webgpu.loaded);
  if (rep.ok) {
    assert.ok(rep.adapter, 'a device implies an adapter');
    assert.ok(rep.adapter.vendor.length + rep.adapter.description.length > 0);
    assert.ok(rep.adapter.limits['maxStorageBufferBindingSize']! > 0);
    assert.ok(rep.adapter.limits['maxComputeInvocationsPerWorkgroup']! >= 256);
    assert.ok(Array.isArray(rep.adapter.features));
    assert.is(typeof rep.adapter.software, 'boolean');
  } else assert.ok(rep.hints.length > 0, 'no device: hints');
  const t = tdc(['doctor'], { timeoutMs: 120_000 });
  assert.is(t.code, j.code);
  assert.match(t.stdout, new RegExp(`node +${process.versions.node.replace(/\./g, '\\.')}`));
  assert.match(t.stdout, /webgpu +webgpu@0\.6\.2, loads/);
  if (rep.ok) assert.match(t.stdout, /maxStorageBufferBindingSize +\d+/);
  if (rep.ok) assert.match(t.stdout, rep.adapter!.software ? /software rasteriser: kernels run with small workgroups/ : /hardware GPU/);
});

test('tdc doctor without a usable Vulkan driver: exit 1, adapter null, hints naming the cause', () => {
  if (process.platform !== 'linux') return;
  const env = { VK_ICD_FILENAMES: join(dir, 'no-such-icd.json'), XDG_RUNTIME_DIR: '' };
  const j = tdc(['doctor', '--json'], { env, timeoutMs: 120_000 });
  assert.is(j.code, 1, j.stdout + j.stderr);
  const rep = JSON.parse(j.stdout) as { ok: boolean; adapter: unknown; hints: string[] };
  assert.is(rep.ok, false);
  assert.is(rep.adapter, null);
  assert.ok(rep.hints.some((h) => /VK_ICD_FILENAMES names .*no-such-icd\.json/.test(h)), rep.hints.join('\n'));
  assert.ok(rep.hints.some((h) => /XDG_RUNTIME_DIR is not set/.test(h)), rep.hints.join('\n'));
  const t = tdc(['doctor'], { env, timeoutMs: 120_000 });
  assert.is(t.code, 1);
  assert.match(t.stdout, /the GPU path is not available/);
});

test.after(() => rmSync(dir, { recursive: true, force: true }));

test.run();
