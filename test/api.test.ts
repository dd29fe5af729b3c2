// The programmatic API as a build step uses it: compile() in memory, writeOutput(), check(), the shape parsers,
// and tdc.config loading with positioned diagnostics.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, readFileSync, writeFileSync, existsSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compile, writeOutput, check, parseDims, parsePinned, parseShapeArg, parseInputShapes, loadProject, defineConfig, formatDiagnostic } from '../src/index.js';
import { ROOT } from './helpers/cli.js';

const KD = join(ROOT, 'examples', 'kd', 'config.yaml');
const IO = join(ROOT, 'examples', 'kd', 'io.safetensors');
const scratch = (): string => mkdtempSync(join(tmpdir(), 'tdc-api-'));

test('compile(): files, manifest and kernels in memory; config named relative to the root even when given absolute', async () => {
  const r = await compile(KD, { root: ROOT, shapes: { 'student/./output': 'Nx10', 'teacher/./output': ['N', 10] } });
  assert.ok(r.ok, JSON.stringify(r.diagnostics));
  assert.is(r.config, 'examples/kd/config.yaml');
  assert.equal([...r.files.keys()].filter((f) => !f.startsWith('kernels/')), ['manifest.json', 'config.ts']);
  assert.is(r.manifest!.config, 'examples/kd/config.yaml');
  assert.is(r.manifest!.stages[0]!.inputs.find((i) => i.name === 'student/./output')!.shape.join('x'), 'Nx10');
  assert.ok(r.kernels.length > 0);
  for (const k of r.kernels) assert.is(r.files.get(k.file)!.length > 0, true, k.file);
  const glue = r.files.get('config.ts')!;
  assert.match(glue.split('\n')[0]!, /from examples\/kd\/config\.yaml\./);
  for (const text of r.files.values()) assert.not.ok(text.includes(ROOT), 'an absolute path leaked into the output');
  assert.equal(r.inputs, [KD]);
});

test('compile(): a bad config is diagnostics with positions, ok false and no files; never a throw', async () => {
  const dir = scratch();
  const bad = join(dir, 'bad.yaml');
  writeFileSync(bad, readFileSync(KD, 'utf8').replace("key: 'KDLoss'", "key: 'KDLos'"));
  const r = await compile(bad, { root: dir });
  assert.not.ok(r.ok);
  assert.is(r.files.size, 0);
  const e = r.diagnostics.find((d) => d.severity === 'error')!;
  assert.is(e.code, 'TDC203');
  assert.ok(e.span && e.span.start.line > 100, JSON.stringify(e.span));
  assert.match(formatDiagnostic(e, (f) => readFileSync(f, 'utf8')), /bad\.yaml:\d+:\d+ - error TDC203: .*KDLos[\s\S]*~~~/);
  const shape = await compile(KD, { shapes: ['student/./output=Nx?'] });
  assert.is(shape.diagnostics[0]!.code, 'TDC611');
  // a pinned name no stage reads: an error with a suggestion, not a silent default shape
  const typo = await compile(KD, { shapes: { 'student/output': 'Nx10' } });
  assert.not.ok(typo.ok);
  assert.is(typo.diagnostics[0]!.code, 'TDC614');
  assert.match(typo.diagnostics[0]!.message, /shapes 'student\/output': no stage/);
  assert.match(typo.diagnostics[0]!.hint!, /did you mean 'student\/\.\/output'\?/);
  const huge = await compile(KD, { shapes: { 'student/./output': ['N', 2 ** 32] } });
  assert.is(huge.diagnostics[0]!.code, 'TDC613');
  assert.is((parseShapeArg('student/./output=NxC=3') as { code?: string }).code, 'TDC611');
  const stage = await compile(KD, { stage: 'stage9' });
  assert.match(stage.diagnostics[0]!.message, /no stage 'stage9'.*train/);
});

test('writeOutput() then check(): up to date, then each kind of difference; an error result is not written', async () => {
  const dir = scratch();
  const out = join(dir, 'out');
  const r = await compile(KD, { like: IO });
  assert.ok(r.ok);
  assert.equal(await writeOutput(out, r), []);
  assert.equal(await check(out, r), { upToDate: true, differences: [], diagnostics: [] });
  const other = await compile(KD, { like: IO, name: 'kd', workgroupSize: 16 });
  const c = await check(out, other);
  assert.not.ok(c.upToDate);
  const diffs = c.differences.map((d) => `${d.status} ${d.file}`);
  for (const want of ['extra config.ts', 'missing kd.ts', 'changed manifest.json']) assert.ok(diffs.includes(want), diffs.join(', '));
  // the workgroup size is a pipeline override: pinning it changes the manifest's defaults, never the WGSL
  assert.not.ok(diffs.some((d) => /^changed kernels\/.*\.wgsl$/.test(d)), diffs.join(', '));
  const bad = await compile(join(dir, 'missing.yaml'));
  assert.not.ok(bad.ok);
  const w = await writeOutput(out, bad);
  assert.is(w[0]!.code, 'TDC673');
  assert.ok((await check(out, r)).upToDate, 'the failed write touched the previous output');
});

test('shape parsers: --shape syntax, arrays, --like samples', () => {
  assert.equal(parseDims('Nx512x7x7'), [{ sym: 'N' }, 512, 7, 7]);
  assert.equal(parseDims('N×C'), [{ sym: 'N' }, { sym: 'C' }]);
  assert.equal(parseDims('[]'), []);
  assert.is(parseDims('Nx-1'), undefined);
  assert.equal(parseShapeArg('student/layer4/output=Nx512'), { name: 'student/layer4/output', shape: [{ sym: 'N' }, 512] });
  assert.is((parseShapeArg('nonsense') as { code: string }).code, 'TDC611');
  // an input's dtype after a colon (integer inputs other than targets: CRD's pos_idx, contrast_idx)
  assert.equal(parseShapeArg('student/empty/input/pos_idx=N:int'), { name: 'student/empty/input/pos_idx', shape: [{ sym: 'N' }], dtype: 'int' });
  assert.equal(parsePinned('NxK : float'), { shape: [{ sym: 'N' }, { sym: 'K' }], dtype: 'float' });
  assert.is(parsePinned('N:long'), undefined);
  assert.is((parseShapeArg('x=N:i32') as { code: string }).code, 'TDC611');
  const typed = parseInputShapes({ shapes: ['a/b/c=NxK:int', 'a/b/d=N', 'targets=N'] }, []);
  assert.equal([typed.get('a/b/c')!.dtype, typed.get('a/b/d')!.dtype, typed.get('targets')!.dtype], ['int', 'float', 'int']);
  assert.equal(parseInputShapes({ shapes: { 'a/b/c': 'N:int' } }, []).get('a/b/c'), { shape: [{ sym: 'N' }], dtype: 'int' });
  const ds: never[] = [];
  const s = parseInputShapes({ like: IO, shapes: { targets: ['N'] } }, ds);
  assert.equal(ds, []);
  assert.equal(s.get('targets'), { shape: [{ sym: 'N' }], dtype: 'int' });
  assert.is(s.get('student/./output')!.shape[0] && typeof s.get('student/./output')!.shape[0], 'object', 'batch dim of a sample becomes symbolic');
});

test('tdc.config.ts: defineConfig-typed entries resolve against its directory; mistakes are positioned in the file', async () => {
  const dir = scratch();
  copyFileSync(KD, join(dir, 'kd.yaml'));
  assert.is(defineConfig({ configs: ['kd.yaml'] }).configs[0], 'kd.yaml');
  writeFileSync(join(dir, 'tdc.config.ts'), "const n: number = 8;\nexport default {\n  outDir: 'gen',\n  workgroupSize: n,\n  configs: ['kd.yaml', { config: 'kd.yaml', name: 'kd_b', shapes: { 'student/./output': 'Nx10' } }],\n};\n");
  const ok = await loadProject(join(dir, 'tdc.config.ts'));
  assert.equal(ok.diagnostics, []);
  assert.equal(
    ok.project!.entries.map((e) => [e.name, e.out, e.config]),
    [
      ['kd', join(dir, 'gen', 'kd'), join(dir, 'kd.yaml')],
      ['kd_b', join(dir, 'gen', 'kd_b'), join(dir, 'kd.yaml')],
    ],
  );
  writeFileSync(join(dir, 'tdc.config.ts'), "export default defineConfig({\n  configs: [{ config: 'kd.yaml', shapse: {} }, 'nope.yaml', 'kd.yaml'],\n});\nfunction defineConfig<T>(c: T): T { return c; }\n");
  const bad = await loadProject(join(dir, 'tdc.config.ts'));
  const msgs = bad.diagnostics.map((d) => `${d.code} ${d.span?.start.line}:${d.span?.start.col} ${d.message} ${d.hint ?? ''}`);
  assert.is(msgs.length, 1, msgs.join('\n'));
  assert.match(msgs[0]!, /^TDC671 2:34 configs\[0\]\.shapse: unknown option 'shapse' did you mean 'shapes'\?/);
  const json = '{ "configs": ["kd.yaml", "nope.yaml", {"config": "kd.yaml"}] }\n';
  writeFileSync(join(dir, 'tdc.config.json'), json);
  const dup = await loadProject(join(dir, 'tdc.config.json'));
  const m2 = dup.diagnostics.map((d) => `${d.code} ${d.span?.start.line}:${d.span?.start.col} ${d.message}`);
  assert.equal(m2.length, 2, m2.join('\n'));
  assert.ok(m2[0]!.startsWith(`TDC672 1:${json.indexOf('"nope') + 1} configs[1]: no such config file`), m2[0]);
  assert.ok(m2[1]!.startsWith(`TDC671 1:${json.indexOf('{"config') + 1} configs[2]: configs[0] and configs[2] both write`), m2[1]);
  writeFileSync(join(dir, 'broken.json'), '{ "configs": [ }');
  const syn = await loadProject(join(dir, 'broken.json'));
  assert.is(syn.diagnostics[0]!.code, 'TDC670');
  assert.ok(syn.diagnostics[0]!.span, 'a JSON syntax error has a position');
  assert.not.ok(existsSync(join(dir, 'gen')));
});

test('compile() from JavaScript with arguments of the wrong type: TDC100 diagnostics naming the argument, ok false, never a TypeError', async () => {
  const cases: [unknown, unknown, RegExp][] = [
    [undefined, {}, /the config must be the path of a torchdistill config \(a non-empty string\), got undefined/],
    [42, {}, /got number/],
    ['', {}, /got ""/],
    [['kd.yaml'], {}, /got a list/],
    [KD, null, /the options must be an object, got null/],
    [KD, { specs: 'my.tdl' }, /options\.specs must be a list of spec file paths, got "my\.tdl"/],
    [KD, { specs: [1] }, /options\.specs must be a list of spec file paths, got a list with non-strings/],
    [KD, { like: 5 }, /options\.like must be a string, got number/],
    [KD, { stage: 1, name: {} }, /options\.stage must be a string, got number/],
  ];
  for (const [config, options, message] of cases) {
    const r = await compile(config as string, options as object);
    assert.is(r.ok, false);
    assert.is(r.files.size, 0);
    assert.is(r.diagnostics[0]?.code, 'TDC100', JSON.stringify(r.diagnostics));
    assert.match(r.diagnostics.map((d) => d.message).join('\n'), message);
  }
});

test.run();
