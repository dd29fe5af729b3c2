// Escaping of user-controlled strings for each target (TS string, TS comment, WGSL comment, file name), as
// properties over arbitrary strings, and end to end: a config whose stage, term and module path hold `*/`,
// newlines, quotes and line separators compiles to glue that imports without running anything and to WGSL that
// Dawn validates; stages whose names sanitise to the same file stem are a diagnostic.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fc from 'fast-check';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import ts from 'typescript';
import { fileStem, stemKey, tsComment, tsString, wgslComment } from '../src/codegen/escape.js';
import { validateWgsl } from '../src/codegen/validate-wgsl.js';
import { visible } from '../src/diagnostics/format.js';
import { hasStackTrace, tdc, GOLDEN } from './helpers/cli.js';

const SEED = 11;
const anyString = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.string({ unit: fc.constantFrom('*', '/', '\n', '\r', '\u2028', '\u2029', '\u0085', "'", '"', '`', '$', '{', '\\', '\u202e', '\ud800', 'a', ' '), maxLength: 30 }),
);

test('tsString: evaluates back to the same string, on one line', () => {
  fc.assert(
    fc.property(anyString, (s) => {
      const lit = tsString(s);
      assert.not.match(lit, /[\n\r\u2028\u2029]/);
      assert.is(new Function(`return ${lit};`)(), s);
    }),
    { seed: SEED, numRuns: 2000 },
  );
});

test('tsComment and wgslComment: one line, never `*/`; WGSL comments have no WGSL line break, control or bidi character, no `/*`', () => {
  fc.assert(
    fc.property(anyString, (s) => {
      const c = tsComment(s);
      assert.not.match(c, /[\n\r\u2028\u2029\u0085]|\*\//);
      // The comment really is a comment: code after it on the next line still runs, nothing inside it does.
      assert.is(new Function(`/** ${c} */ // ${c}\nreturn 1;`)(), 1);
      const w = wgslComment(s);
      assert.not.match(w, /[\x00-\x1f\x7f-\x9f\u2028\u2029\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/, JSON.stringify(w));
      assert.not.match(w, /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/, 'no lone surrogate');
      assert.not.match(w, /\*\/|\/\*/);
    }),
    { seed: SEED, numRuns: 2000 },
  );
});

test('fileStem: a safe file-name component of bounded length; stems of different long names differ', () => {
  fc.assert(
    fc.property(anyString, (s) => {
      const f = fileStem(s);
      assert.match(f, /^[A-Za-z0-9_][A-Za-z0-9_-]{0,79}$/);
    }),
    { seed: SEED, numRuns: 2000 },
  );
  assert.is.not(fileStem('a'.repeat(200) + 'x'), fileStem('a'.repeat(200) + 'y'));
  assert.is(fileStem('stage_a'), fileStem('stage/a'));
  assert.is(stemKey(fileStem('Train')), stemKey(fileStem('train')));
  assert.is(fileStem('-rf'), '_-rf');
  assert.is(fileStem(''), '_');
});

/** The KD+CE golden config, with `names` as stage keys under train. */
function config(stages: string[], edit: (s: string) => string = (s) => s): string {
  const base = readFileSync(join(GOLDEN, 'edge__ce_kd_weighted_sum', 'config.yaml'), 'utf8');
  const body = base.split('train:\n')[1]!;
  const indented = body.split('\n').map((l) => (l ? `  ${l}` : l)).join('\n');
  return edit('train:\n' + stages.map((n) => `  ${n}:\n${indented}\n`).join(''));
}

const HOSTILE = '"stage*/ globalThis.PWNED = 1; /*\\n\'\\"`${globalThis.PWNED = 2}\\u2028\\u0085"';
const HOSTILE_PATH = '"a*/\\nb\\u2028c\'\\"`"';

test('a config with `*/`, newlines and quotes in names: glue imports without running anything, WGSL validates', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tdc-escape-'));
  const cfg = join(dir, 'evil\n*\u2028 name.yaml');
  writeFileSync(
    cfg,
    config([HOSTILE], (s) =>
      s
        .replace('        ce:\n', '        "c*/e\\n// \'q\\"\\u2028z":\n')
        .replaceAll('output: []', `output: [${HOSTILE_PATH}]`)
        .replaceAll("module_path: '.'", `module_path: ${HOSTILE_PATH}`),
    ),
  );
  const out = join(dir, 'out');
  const r = tdc(['compile', cfg, '-o', out, '--name', 'glue']);
  assert.is(r.code, 0, r.stderr);
  assert.not.ok(hasStackTrace(r.stderr));

  const glue = readFileSync(join(out, 'glue.ts'), 'utf8');
  const js = ts.transpileModule(glue, { compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 } });
  const stub = "data:text/javascript,export const PlanExecutor = {}, flattenInputs = () => {}, nestByName = () => {};";
  const mod = join(dir, 'glue.mjs');
  writeFileSync(mod, js.outputText.replace(/from '[^']*runtime[^']*'/, `from '${stub}'`));
  const g = globalThis as { PWNED?: unknown };
  const m = (await import(pathToFileURL(mod).href)) as Record<string, { stage?: string }>;
  assert.is(g.PWNED, undefined, 'nothing in a name ran');
  const cls = Object.values(m).find((v) => typeof v === 'function' && 'stage' in v) as unknown as { stage: string };
  assert.is(cls.stage, "stage*/ globalThis.PWNED = 1; /*\n'\"`${globalThis.PWNED = 2}\u2028\u0085", 'the stage name survives exactly');
  // TypeScript itself sees no syntax error in the glue.
  assert.equal(js.diagnostics ?? [], []);
  const parsed = ts.createSourceFile('glue.ts', glue, ts.ScriptTarget.ES2022, true);
  assert.is((parsed as unknown as { parseDiagnostics: unknown[] }).parseDiagnostics.length, 0);

  const kernels = readdirSync(join(out, 'kernels'));
  assert.ok(kernels.length > 0);
  // each kernel's pipeline-overridable constants (the workgroup size) at their software defaults, as the manifest lists them
  type KernelEntry = { file: string; subgroups?: { file: string }; overrides?: { name: string; default: { software: number } }[] };
  type PlanEntry = { kernels: KernelEntry[] };
  const manifest = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8')) as { stages: (PlanEntry & { variants?: (PlanEntry & { minStorageBuffers: number })[] })[] };
  // every file the manifest lists (each plan's kernels, a variant's kernels, their subgroup texts) with its plan's
  // binding budget and the kernel's override constants at their software defaults
  const listed = new Map<string, { overrides: KernelEntry['overrides']; bindings: number }>();
  const add = (plan: PlanEntry, bindings: number) => {
    for (const k of plan.kernels) {
      listed.set(k.file.replace(/^kernels\//, ''), { overrides: k.overrides ?? [], bindings });
      if (k.subgroups) listed.set(k.subgroups.file.replace(/^kernels\//, ''), { overrides: k.overrides ?? [], bindings });
    }
  };
  for (const st of manifest.stages) {
    add(st, 8);
    for (const v of st.variants ?? []) add(v, v.minStorageBuffers);
  }
  assert.equal([...listed.keys()].sort(), [...kernels].sort(), 'the kernels folder holds exactly the files the manifest lists');
  for (const k of kernels) {
    // <stage>[.sb<N>].<kernel>[.subgroups].wgsl, every part sanitised
    assert.match(k, /^[A-Za-z0-9_][A-Za-z0-9_-]*(\.sb[0-9]+)?\.[A-Za-z0-9_-]+(\.subgroups)?\.wgsl$/);
    const code = readFileSync(join(out, 'kernels', k), 'utf8');
    assert.not.match(code, /[\u2028\u2029\u0085\x0b\x0c]/, 'no WGSL line break other than \\n');
    assert.not.match(code, /globalThis\.PWNED = 1; \/\*/, 'no comment opener from a name');
    const entry = listed.get(k)!;
    const constants = Object.fromEntries((entry.overrides ?? []).map((o) => [o.name, o.default.software]));
    // the null adapter has WebGPU's default limits (8 storage buffers): a variant's kernels are checked as modules only
    const pipeline = entry.bindings <= 8;
    assert.equal(await validateWgsl(code, { file: k, constants, pipeline }), [], k);
  }
  rmSync(dir, { recursive: true });
});

test('stages that sanitise to the same file stem are a diagnostic (also when they differ only in case)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tdc-escape-'));
  for (const [a, b] of [['stage_a', 'stage/a'], ['stageX', 'stagex']]) {
    const cfg = join(dir, 'c.yaml');
    writeFileSync(cfg, config([a!, b!]));
    const r = tdc(['compile', cfg, '-o', join(dir, 'out'), '--no-glue']);
    assert.is(r.code, 1, r.stderr);
    assert.match(r.stderr, /TDC655/);
    assert.match(r.stderr, new RegExp(`stages '${a}' and '${b!.replace('/', '\\/')}'`));
    assert.match(r.stderr, /c\.yaml:\d+:\d+/);
  }
  rmSync(dir, { recursive: true });
});

test('--name must be a plain file stem', () => {
  for (const bad of ['a*/b', '../x', 'a\nb', '']) {
    const r = tdc(['compile', join(GOLDEN, 'edge__ce_kd_weighted_sum', 'config.yaml'), '-o', join(tmpdir(), 'tdc-never'), '--name', bad]);
    assert.ok(r.code === 1 || r.code === 2, `${JSON.stringify(bad)}: ${r.code}`);
    assert.match(r.stderr, /--name/);
  }
});

/** Bytes that drive a terminal: C0 controls but tab and newline, DEL, C1 controls, bidi overrides and isolates. */
const TERMINAL_CONTROL = /[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]/;

test('visible: no terminal control survives, the length (so every column) is kept, plain text is unchanged', () => {
  fc.assert(
    fc.property(anyString, (s) => {
      const v = visible(s);
      assert.not.match(v, TERMINAL_CONTROL);
      assert.is(v.length, s.length);
      for (let i = 0; i < s.length; i++) if (!TERMINAL_CONTROL.test(s[i]!)) assert.is(v[i], s[i]);
    }),
    { seed: SEED, numRuns: 2000 },
  );
  assert.is(visible('a\x1b[2J\x07\x9b\x7f\tb\n'), 'a\u241b[2J\u2407\ufffd\u2421\tb\n');
});

test('code frames and messages show ESC, BEL, CSI and bidi controls from a config or a spec visibly, caret in place', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tdc-escape-'));
  const cfg = join(dir, 'esc.yaml');
  writeFileSync(cfg, "train:\n  criterion:\n    key: 'KDLoss\x1b[31mRED\x1b]0;PWNED\x07'\n");
  const r = tdc(['check', cfg]);
  assert.is(r.code, 1, r.stderr);
  assert.not.match(r.stdout + r.stderr, TERMINAL_CONTROL);
  assert.match(r.stderr, /error TDC101: the character U\+001B/);
  const frame = r.stderr.split('\n');
  const src = frame.findIndex((l) => l.startsWith('3 '));
  assert.is(frame[src], "3     key: 'KDLoss\u241b[31mRED\u241b]0;PWNED\u2407'");
  assert.is(frame[src + 1]!.indexOf('~'), frame[src]!.indexOf('\u241b'), 'the caret is under the ESC');
  const spec = join(dir, 'esc.tdl');
  writeFileSync(spec, 'mid Foo(x: float \x1b[2J\u202e) {}\n');
  const s = tdc(['--spec', spec, 'check', cfg]);
  assert.ok(s.code === 1 || s.code === 2, s.stderr);
  assert.match(s.stderr, /esc\.tdl:1:\d+ - error TDC3/);
  assert.not.match(s.stdout + s.stderr, TERMINAL_CONTROL);
  rmSync(dir, { recursive: true });
});

test.run();
