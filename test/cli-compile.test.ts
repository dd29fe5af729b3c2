// tdc compile as a build step uses it: --check for CI, --json, a tdc.config with two configs sharing one output
// root, an error that keeps the last good output, and --watch regenerating the glue after an edit.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hasStackTrace, readOutput, ROOT } from './helpers/cli.js';

const KD = join(ROOT, 'examples', 'kd', 'config.yaml');
const BIN = join(ROOT, 'bin', 'tdc.js');

function tdcIn(cwd: string, args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd, encoding: 'utf8', timeout: 120_000, env: { ...process.env, NO_COLOR: '1' } });
  return { code: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

/** Every file under `dir`: relative path → content. */
function tree(dir: string, prefix = ''): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) Object.assign(out, tree(p, `${prefix}${name}/`));
    else out[`${prefix}${name}`] = readFileSync(p, 'utf8');
  }
  return out;
}

function project(): string {
  const dir = mkdtempSync(join(tmpdir(), 'tdc-proj-'));
  copyFileSync(KD, join(dir, 'kd.yaml'));
  copyFileSync(KD, join(dir, 'kd_t4.yaml'));
  edit(join(dir, 'kd_t4.yaml'), 'temperature: 1.0', 'temperature: 4.0');
  return dir;
}

function edit(file: string, from: string, to: string): void {
  const text = readFileSync(file, 'utf8');
  assert.ok(text.includes(from), `${file} has no '${from}'`);
  writeFileSync(file, text.replace(from, to));
}

test('--check: exit 0 on fresh output, 1 with the stale files listed after a config edit; it writes nothing', () => {
  const dir = project();
  const w = tdcIn(dir, ['compile', 'kd.yaml', '-o', 'out']);
  assert.is(w.code, 0, w.stderr);
  const before = tree(join(dir, 'out'));
  const fresh = tdcIn(dir, ['compile', 'kd.yaml', '-o', 'out', '--check']);
  assert.is(fresh.code, 0, fresh.stdout + fresh.stderr);
  assert.match(fresh.stdout, /up to date: out/);
  edit(join(dir, 'kd.yaml'), 'temperature: 1.0', 'temperature: 2.0');
  const stale = tdcIn(dir, ['compile', 'kd.yaml', '-o', 'out', '--check']);
  assert.is(stale.code, 1, stale.stdout + stale.stderr);
  assert.match(stale.stdout, /stale: out/);
  assert.match(stale.stdout, /changed +out\/kd\.ts/);
  assert.match(stale.stdout, /changed +out\/manifest\.json/);
  assert.equal(tree(join(dir, 'out')), before, '--check wrote to the output');
});

test('--json: the result parses and lists files, kernels and diagnostics', () => {
  const dir = project();
  const r = tdcIn(dir, ['compile', 'kd.yaml', '-o', 'out', '--json']);
  assert.is(r.code, 0, r.stderr);
  const doc = JSON.parse(r.stdout) as { ok: boolean; configs: { config: string; out: string; files: string[]; kernels: { file: string; stage: string; dispatch: unknown[] }[]; diagnostics: unknown[] }[] };
  assert.is(doc.ok, true);
  const c = doc.configs[0]!;
  assert.is(c.config, 'kd.yaml');
  assert.is(c.out, 'out');
  assert.ok(c.kernels.length >= 1);
  for (const k of c.kernels) {
    assert.ok(c.files.includes(k.file), k.file);
    assert.is(k.stage, 'train');
    assert.is(k.dispatch.length, 3);
  }
  assert.ok(c.files.includes('kd.ts') && c.files.includes('manifest.json'));
  edit(join(dir, 'kd.yaml'), "key: 'KDLoss'", "key: 'KDLos'");
  const bad = tdcIn(dir, ['compile', 'kd.yaml', '-o', 'out', '--json']);
  assert.is(bad.code, 1);
  const d = (JSON.parse(bad.stdout) as { ok: boolean; configs: { diagnostics: { code: string; line: number; column: number; file: string }[] }[] });
  assert.is(d.ok, false);
  const e = d.configs[0]!.diagnostics[0]!;
  assert.is(e.code, 'TDC203');
  assert.ok(e.line > 0 && e.column > 0 && e.file === 'kd.yaml', JSON.stringify(e));
});

test("--shape name=dims:int pins an integer input: CRD's index inputs compile without a sample io_dict", () => {
  const cfg = join(process.env['TDC_SHARED'] ?? '/work/shared', 'torchdistill', 'configs', 'sample', 'ilsvrc2012', 'crd', 'resnet18_from_resnet50.yaml');
  const dir = mkdtempSync(join(tmpdir(), 'tdc-crd-'));
  // float by default (only targets are known to be class indices): the spec's gather refuses them, positioned in the spec
  const floats = tdcIn(dir, ['compile', cfg, '-o', 'out']);
  assert.is(floats.code, 1, floats.stderr);
  assert.match(floats.stderr, /TDC403: gather: index must be an int tensor, got float/);
  assert.not.ok(hasStackTrace(floats.stderr), floats.stderr);
  const pinned = tdcIn(dir, ['compile', cfg, '-o', 'out', '--shape', 'student/empty/input/pos_idx=N:int', '--shape', 'student/empty/input/contrast_idx=NxK:int']);
  assert.is(pinned.code, 0, pinned.stderr);
  const stage = (JSON.parse(readFileSync(join(dir, 'out', 'manifest.json'), 'utf8')) as { stages: { inputs: { name: string; shape: string[]; dtype: string }[] }[] }).stages[0]!;
  const input = (n: string) => stage.inputs.find((i) => i.name === n);
  assert.equal(input('student/empty/input/pos_idx'), { ...input('student/empty/input/pos_idx')!, shape: ['N'], dtype: 'int' });
  assert.equal(input('student/empty/input/contrast_idx'), { ...input('student/empty/input/contrast_idx')!, shape: ['N', 'K'], dtype: 'int' });
  // an input the loss uses as float data pinned as int: TDC502 at compile time (it wrote kernels Tint refuses:
  // "no matching call to 'max(i32, abstract-float)'")
  const intLogits = tdcIn(dir, ['compile', KD, '-o', 'out-int', '--no-glue', '--shape', 'student/./output=NxC:int']);
  assert.is(intLogits.code, 1, intLogits.stdout + intLogits.stderr);
  assert.match(intLogits.stderr, /TDC502: input 'student\/\.\/output' is pinned as an integer tensor, but the loss uses it as continuous data/);
  assert.match(intLogits.stderr, /drop ':int' from its --shape/);
  assert.not.ok(hasStackTrace(intLogits.stderr), intLogits.stderr);
  assert.not.ok(existsSync(join(dir, 'out-int')), 'nothing written');
  const bad = tdcIn(dir, ['compile', cfg, '-o', 'out2', '--shape', 'student/empty/input/pos_idx=N:long']);
  assert.is(bad.code, 2, bad.stderr);
  assert.match(bad.stderr, /TDC611.*name=dims:int/);
});

test('a feature-map loss at the default [N, C] shapes: the error is followed by the TDC610 note naming the shapes and how to pin them', () => {
  const cfg = join(process.env['TDC_SHARED'] ?? '/work/shared', 'torchdistill', 'configs', 'sample', 'ilsvrc2012', 'fsp', 'resnet18_from_resnet34.yaml');
  const dir = mkdtempSync(join(tmpdir(), 'tdc-fsp-'));
  const r = tdcIn(dir, ['compile', cfg, '-o', 'out', '--stage', 'stage1']);
  assert.is(r.code, 1, r.stderr);
  assert.not.ok(hasStackTrace(r.stderr), r.stderr);
  // the spec's error alone ('list index 2 out of range') does not say that the inputs were taken as [N, C]
  assert.match(r.stderr, /TDC409: list index 2 out of range \(length 2\)/);
  assert.match(r.stderr, /note TDC610: stage 'stage1' was compiled for input shapes student\/layer1\/input=\[N, C\], /);
  assert.match(r.stderr, /\n {2}pin the real shapes with --shape name=NxAxHxW .* or --like io\.safetensors/);
  assert.ok(r.stderr.indexOf('TDC409') < r.stderr.indexOf('TDC610'), 'the note follows the error');
});

test("SSKD with a symbolic batch (--shape NxD): TDC403 says a symbolic batch need not be a multiple of 4 and how to pin it; pinned, it compiles", () => {
  const cfg = join(process.env['TDC_SHARED'] ?? '/work/shared', 'torchdistill', 'configs', 'official', 'ilsvrc2012', 'yoshitomo-matsubara', 'rrpr2020', 'sskd-resnet18_from_resnet34.yaml');
  const dir = mkdtempSync(join(tmpdir(), 'tdc-sskd-'));
  const sym = tdcIn(dir, ['compile', cfg, '-o', 'out', '--stage', 'stage1', '--shape', 'teacher/ss_module/output=NxD']);
  assert.is(sym.code, 1, sym.stderr);
  assert.not.ok(hasStackTrace(sym.stderr), sym.stderr);
  assert.match(sym.stderr, /TDC403: reshape: cannot infer -1 reshaping \[N, D\] to \[-1, 4, D\]/);
  // the hint: why (symbolic sizes say nothing of divisibility) and what to do
  assert.match(sym.stderr, /\n {2}D\*N elements need not be a multiple of 4\*D: pin the sizes involved to numbers \(--shape name=64x128\), or give inputs whose sizes must agree the same letters, or compile with --like/);
  const pinned = tdcIn(dir, ['compile', cfg, '-o', 'out', '--stage', 'stage1', '--shape', 'teacher/ss_module/output=64x128', '--no-glue']);
  assert.is(pinned.code, 0, pinned.stderr);
});

test('--shape: a name the config does not read is an error with a suggestion and the names it reads; malformed and over-u32 specs are refused', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tdc-shape-'));
  const usage = (args: string[], ...want: RegExp[]): void => {
    const r = tdcIn(dir, ['compile', KD, '-o', 'out', '--no-glue', ...args]);
    assert.is(r.code, 2, r.stdout + r.stderr);
    for (const w of want) assert.match(r.stderr, w);
    assert.not.ok(hasStackTrace(r.stderr), r.stderr);
    assert.not.ok(existsSync(join(dir, 'out')), 'nothing written');
  };
  // a misspelt name used to compile silently at the default [N, C]
  usage(['--shape', 'student/output=NxCx7x7'], /error TDC614: --shape 'student\/output': no stage \('train'\) reads a tensor of that name/, /did you mean 'student\/\.\/output'\? the config reads targets, student\/\.\/output, teacher\/\.\/output/);
  usage(['--shape', 'student/./output=NxC', '--shape', 'nosuch/x/output=Nx3'], /TDC614: --shape 'nosuch\/x\/output'/);
  // the name ends at the first '=': not a pin of 'student/./output=NxC'
  usage(['--shape', 'student/./output=NxC=3'], /TDC611: --shape 'student\/\.\/output=NxC=3': expected name=dims/);
  // WGSL has no u32 literal for these (Tint: "value cannot be represented as 'u32'")
  usage(['--shape', 'student/./output=Nx4294967296'], /TDC613: --shape 'student\/\.\/output=Nx4294967296': a size of 4294967296, more than the kernels' 32-bit indices reach \(at most 4294967295\)/);
  usage(['--shape', 'student/./output=99999999999999999999x3'], /TDC613: .*a size of 100000000000000000000/);
  usage(['--shape', 'student/./output=65536x65536'], /TDC613: .*4294967296 elements/);
  // a --like sample whose header declares [1, 2^32] (a sparse file: the data is never read)
  const big = join(dir, 'big.safetensors');
  const header = JSON.stringify({ 'student/./output': { dtype: 'F16', shape: [1, 2 ** 32], data_offsets: [0, 2 ** 33] } });
  const head = Buffer.alloc(8 + header.length);
  head.writeBigUInt64LE(BigInt(header.length));
  head.write(header, 8);
  writeFileSync(big, head);
  truncateSync(big, head.length + 2 ** 33);
  const like = tdcIn(dir, ['compile', KD, '-o', 'out', '--no-glue', '--like', big]);
  assert.is(like.code, 1, like.stdout + like.stderr);
  assert.match(like.stderr, /TDC613: sample io_dict '.*big\.safetensors', tensor 'student\/\.\/output': a size of 4294967296/);
  assert.not.ok(existsSync(join(dir, 'out')));
  // the largest size that fits still compiles, and a correct name is unchanged
  const ok = tdcIn(dir, ['compile', KD, '-o', 'out', '--no-glue', '--shape', 'student/./output=Nx7', '--shape', 'teacher/./output=Nx7']);
  assert.is(ok.code, 0, ok.stderr);
});

test("a feature-map loss compiled without --shape: the error comes with the note naming the default [N, C] shapes and how to pin them", () => {
  // examples/mnist-kd/at.yaml (ATLoss on conv2) as the README's MNIST example compiles it, but without its --shape pins
  const dir = mkdtempSync(join(tmpdir(), 'tdc-noshape-'));
  const r = tdcIn(dir, ['compile', join(ROOT, 'examples', 'mnist-kd', 'at.yaml'), '-o', 'out', '--no-glue']);
  assert.is(r.code, 1, r.stdout + r.stderr);
  assert.not.ok(hasStackTrace(r.stderr), r.stderr);
  assert.match(r.stderr, /error TDC403: start 1 is out of range for a tensor of rank 1/);
  assert.match(r.stderr, /note TDC610: stage 'train' was compiled for input shapes .*student\/conv2\/output=\[N, C\]/);
  assert.match(r.stderr, /pin the real shapes with --shape name=NxAxHxW .* or --like io\.safetensors/);
  // a compile that succeeds prints no notes
  const ok = tdcIn(dir, ['compile', KD, '-o', 'out', '--no-glue']);
  assert.is(ok.code, 0, ok.stderr);
  assert.not.match(ok.stderr, /note TDC/);
});

test('tdc.config: two configs share one root and keep both outputs; an error compile leaves the previous output intact', () => {
  const dir = project();
  writeFileSync(join(dir, 'tdc.config.mjs'), "export default { outDir: 'src/generated', configs: ['kd.yaml', 'kd_t4.yaml'] };\n");
  const all = tdcIn(dir, ['compile']);
  assert.is(all.code, 0, all.stdout + all.stderr);
  assert.match(all.stdout, /wrote src\/generated\/kd:/);
  assert.match(all.stdout, /wrote src\/generated\/kd_t4:/);
  const both = tree(join(dir, 'src', 'generated'));
  assert.ok(both['kd/kd.ts'] && both['kd_t4/kd_t4.ts'], Object.keys(both).join(', '));
  assert.match(both['kd/kd.ts']!.split('\n')[0]!, /generated by tdc .* from kd\.yaml\./);
  assert.not.ok(Object.values(both).some((t) => t.includes(dir)), 'an absolute path leaked into the output');

  // Recompiling one config (after an edit) rewrites its folder only.
  edit(join(dir, 'kd.yaml'), 'temperature: 1.0', 'temperature: 2.0');
  const one = tdcIn(dir, ['compile', 'kd.yaml']);
  assert.is(one.code, 0, one.stdout + one.stderr);
  const after = tree(join(dir, 'src', 'generated'));
  assert.equal(Object.keys(after), Object.keys(both));
  assert.is.not(after['kd/kd.ts'], both['kd/kd.ts']);
  for (const f of Object.keys(both).filter((f) => f.startsWith('kd_t4/'))) assert.is(after[f], both[f], f);

  // A broken config: exit 1, a positioned diagnostic, every output as it was.
  edit(join(dir, 'kd_t4.yaml'), "key: 'KDLoss'", "key: 'KDLos'");
  const bad = tdcIn(dir, ['compile']);
  assert.is(bad.code, 1);
  assert.match(bad.stderr, /kd_t4\.yaml:\d+:\d+ - error TDC203: .*'KDLos'/);
  assert.not.ok(hasStackTrace(bad.stdout + bad.stderr));
  assert.equal(tree(join(dir, 'src', 'generated')), after);
  assert.is(tdcIn(dir, ['compile', '--check']).code, 1, 'a config error fails --check');
});

test('--watch: an edit regenerates the glue; a typo is reported tsc-style and the last good output stays', async () => {
  const dir = project();
  writeFileSync(join(dir, 'tdc.config.json'), JSON.stringify({ outDir: 'gen', configs: ['kd.yaml', 'kd_t4.yaml'] }));
  const glue = join(dir, 'gen', 'kd', 'kd.ts');
  const child = spawn(process.execPath, [BIN, 'compile', '--watch'], { cwd: dir, env: { ...process.env, NO_COLOR: '1' } });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  const waitFor = async (what: () => boolean, label: string, ms = 60_000): Promise<void> => {
    const t0 = Date.now();
    while (!what()) {
      if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${label}; output:\n${out}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  };
  const watching = (n: number) => (): boolean => (out.match(/Watching for file changes\./g) ?? []).length >= n;
  try {
    await waitFor(watching(1), 'the first compile');
    assert.match(out, /Starting compilation in watch mode/);
    assert.match(out, /Found 0 errors\. Watching for file changes\./);
    const first = readFileSync(glue, 'utf8');
    const t4 = tree(join(dir, 'gen', 'kd_t4'));

    edit(join(dir, 'kd.yaml'), "weight: 1.0\n\ntest:", "weight: 0.5\n\ntest:");
    await waitFor(() => (readOutput(glue) ?? first) !== first, 'the regenerated glue');
    await waitFor(watching(2), 'the second compile');
    assert.match(readFileSync(glue, 'utf8'), /kd × 0\.5/);
    assert.match(out, /File change detected\. Starting incremental compilation\.\.\./);
    assert.equal(tree(join(dir, 'gen', 'kd_t4')), t4, 'an unaffected config was recompiled');

    const good = tree(join(dir, 'gen'));
    edit(join(dir, 'kd.yaml'), "key: 'KDLoss'", "key: 'KDLos'");
    await waitFor(watching(3), 'the compile of the typo');
    assert.match(out, /kd\.yaml:\d+:\d+ - error TDC203: .*'KDLos'[\s\S]*~~~[\s\S]*Found 1 error\. Watching for file changes\./);
    assert.equal(tree(join(dir, 'gen')), good);
  } finally {
    child.kill('SIGINT');
  }
  const code = await new Promise<number | null>((r) => child.on('close', r));
  assert.is(code, 0, out);
  assert.not.ok(hasStackTrace(out), out);
});

test.run();
