// Atomic output directory writes: content, replacement, refusal, failure and SIGKILL mid-write.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync, existsSync, symlinkSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { OUT_MARKER, checkReplaceable, guardOutDir, readOutMarker, restamp, writeOutDir } from '../src/codegen/out-writer.js';

const WRITER_URL = new URL('../src/codegen/out-writer.js', import.meta.url).href;

function scratch(): string {
  return mkdtempSync(join(tmpdir(), 'tdc-outw-'));
}

/** Every file under `dir` (relative path → content), sorted; tdc's ownership marker left out unless `all`. */
function tree(dir: string, prefix = '', all = false): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of readdirSync(dir).sort()) {
    if (!all && prefix === '' && name === OUT_MARKER) continue;
    const p = join(dir, name);
    if (statSync(p).isDirectory()) Object.assign(out, tree(p, `${prefix}${name}/`));
    else out[`${prefix}${name}`] = readFileSync(p, 'utf8');
  }
  return out;
}

const strays = (parent: string): string[] => readdirSync(parent).filter((n) => n.startsWith('.tdc-tmp-'));

const OLD = { 'manifest.json': '{"old":true}\n', 'kernels/a.wgsl': '// old a\n', 'kd.ts': '// old glue\n' };

test('writes every file, nested directories, strings and bytes; the parent directory is created', async () => {
  const root = scratch();
  const out = join(root, 'deep', 'out');
  const ds = await writeOutDir(out, new Map<string, string | Uint8Array>([
    ['kernels/k1.wgsl', 'b'],
    ['manifest.json', '{}\n'],
    ['kernels/k0.wgsl', 'a'],
    ['bin/blob', new Uint8Array([104, 105])],
  ]));
  assert.equal(ds, []);
  assert.equal(tree(out), { 'bin/blob': 'hi', 'kernels/k0.wgsl': 'a', 'kernels/k1.wgsl': 'b', 'manifest.json': '{}\n' });
  assert.equal(strays(join(root, 'deep')), []);
  rmSync(root, { recursive: true });
});

test('files are written in sorted path order whatever the map order', async () => {
  const root = scratch();
  const order: string[] = [];
  const files = { 'z.ts': '', 'a/b.wgsl': '', 'manifest.json': '', 'a/a.wgsl': '', 'B.txt': '' };
  await writeOutDir(join(root, 'out'), files, { afterFile: (p) => void order.push(p) });
  assert.equal(order, ['B.txt', 'a/a.wgsl', 'a/b.wgsl', 'manifest.json', 'z.ts']);
  rmSync(root, { recursive: true });
});

test('replaces a previous output completely (stale files disappear)', async () => {
  const root = scratch();
  const out = join(root, 'out');
  assert.equal(await writeOutDir(out, OLD), []);
  assert.equal(await writeOutDir(out, { 'manifest.json': '{"new":true}\n', 'kernels/b.wgsl': '// b\n' }), []);
  assert.equal(tree(out), { 'kernels/b.wgsl': '// b\n', 'manifest.json': '{"new":true}\n' });
  assert.equal(strays(root), []);
  rmSync(root, { recursive: true });
});

test('refuses to replace a directory tdc did not write, a file, or paths outside out/', async () => {
  const root = scratch();
  const src = join(root, 'src');
  mkdirSync(src);
  writeFileSync(join(src, 'main.ts'), 'precious');
  const ds = await writeOutDir(src, { 'manifest.json': '{}' });
  assert.is(ds[0]?.code, 'TDC652');
  assert.equal(tree(src), { 'main.ts': 'precious' });
  assert.equal(await writeOutDir(src, { 'manifest.json': '{}' }, { force: true }), []);

  writeFileSync(join(root, 'file'), 'x');
  assert.is((await writeOutDir(join(root, 'file'), { a: 'b' }))[0]?.code, 'TDC651');

  for (const bad of ['../escape', '/abs', 'a/./b', 'a//b', 'a\\b', ''])
    assert.is((await writeOutDir(join(root, 'o2'), { [bad]: 'x' }))[0]?.code, 'TDC650', bad);
  assert.is((await writeOutDir(join(root, 'o2'), { a: 'x', 'a/b': 'y' }))[0]?.code, 'TDC650');
  assert.is((await writeOutDir(join(root, 'o2'), { [OUT_MARKER]: '{}' }))[0]?.code, 'TDC650', 'the marker is tdc\'s');
  assert.not.ok(existsSync(join(root, 'o2')));
  assert.equal(strays(root), []);
  rmSync(root, { recursive: true });
});

test('a write that fails midway leaves the old output as it was and no temp dir', async () => {
  const root = scratch();
  const out = join(root, 'out');
  await writeOutDir(out, OLD);
  const files: Record<string, string> = {};
  for (let i = 0; i < 20; i++) files[`kernels/k${String(i).padStart(2, '0')}.wgsl`] = `// new ${i}\n`;
  const ds = await writeOutDir(out, files, {
    afterFile: (_, i) => {
      if (i === 5) throw new Error('disk full (simulated)');
    },
  });
  assert.is(ds[0]?.code, 'TDC653');
  assert.match(ds[0]!.message, /disk full/);
  assert.equal(tree(out), OLD);
  assert.equal(strays(root), []);
  rmSync(root, { recursive: true });
});

test('SIGKILL in the middle of a large write leaves the old output untouched; the next write cleans up', async () => {
  const root = scratch();
  const out = join(root, 'out');
  await writeOutDir(out, OLD);
  const script = join(root, 'child.mjs');
  writeFileSync(
    script,
    `import { writeOutDir } from ${JSON.stringify(WRITER_URL)};
const files = {};
for (let i = 0; i < 400; i++) files['kernels/k' + String(i).padStart(3, '0') + '.wgsl'] = 'x'.repeat(20000) + i;
files['manifest.json'] = '{"new":true}';
await writeOutDir(process.argv[2], files, {
  afterFile: (_, i) => {
    if (i === 100) {
      process.stdout.write('midway\\n');
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 30000); // hold here until killed
    }
  },
});
process.stdout.write('finished\\n');
`,
  );
  const child = spawn(process.execPath, [script, out], { stdio: ['ignore', 'pipe', 'inherit'] });
  let seen = '';
  await new Promise<void>((resolveMid, reject) => {
    child.stdout.on('data', (b: Buffer) => {
      seen += b.toString();
      if (seen.includes('midway')) resolveMid();
    });
    child.on('exit', () => reject(new Error(`child exited before midway: ${seen}`)));
  });
  const exited = new Promise<NodeJS.Signals | null>((r) => child.on('exit', (_, sig) => r(sig)));
  child.kill('SIGKILL');
  assert.is(await exited, 'SIGKILL');
  assert.not.match(seen, /finished/);

  assert.equal(tree(out), OLD, 'old output untouched');
  const left = strays(root);
  assert.is(left.length, 1, 'one stray temp dir');
  assert.match(left[0]!, /^\.tdc-tmp-out\.\d+\.[0-9a-f]+\.new$/);
  assert.is(readdirSync(join(root, left[0]!, 'kernels')).length, 101, 'killed after 101 files');

  assert.equal(await writeOutDir(out, { 'manifest.json': '{"v":2}' }), []);
  assert.equal(tree(out), { 'manifest.json': '{"v":2}' });
  assert.equal(strays(root), [], 'stale temp dir of the dead writer removed');
  rmSync(root, { recursive: true });
});

test('a writer killed between its two renames: the next write restores the old output first', async () => {
  const root = scratch();
  const deadPid = spawnSync(process.execPath, ['-e', '']).pid!;
  const aside = join(root, `.tdc-tmp-out.${deadPid}.0badc0de.old`);
  await writeOutDir(aside, OLD); // stands in for the renamed-aside old out/
  assert.not.ok(existsSync(join(root, 'out')));
  const ds = await writeOutDir(join(root, 'out'), { 'manifest.json': 'new' }, {
    afterFile: () => {
      throw new Error('fails after recovery');
    },
  });
  assert.is(ds[0]?.code, 'TDC653');
  assert.equal(tree(join(root, 'out')), OLD, 'the old output is back');
  assert.equal(strays(root), []);
  rmSync(root, { recursive: true });
});

test('temp dirs of a live writer are left alone', async () => {
  const root = scratch();
  const live = join(root, `.tdc-tmp-other.${process.ppid}.12345678.new`);
  mkdirSync(live);
  assert.equal(await writeOutDir(join(root, 'out'), { 'manifest.json': '{}' }), []);
  assert.ok(existsSync(live));
  rmSync(root, { recursive: true });
});

test('every output carries a marker listing exactly the files written', async () => {
  const root = scratch();
  const out = join(root, 'out');
  assert.equal(await writeOutDir(out, { 'manifest.json': '{}', 'kernels/a.wgsl': 'a' }), []);
  assert.equal(JSON.parse(readFileSync(join(out, OUT_MARKER), 'utf8')), { format: 'tdc-output/1', files: ['kernels/a.wgsl', 'manifest.json'] });
  rmSync(root, { recursive: true });
});

test('a project root with a manifest.json and .git (web app / extension) is refused, untouched, naming what is there', async () => {
  const root = scratch();
  const app = join(root, 'app');
  mkdirSync(join(app, '.git', 'objects'), { recursive: true });
  writeFileSync(join(app, '.git', 'HEAD'), 'ref: refs/heads/main\n');
  writeFileSync(join(app, 'manifest.json'), '{"manifest_version": 3, "name": "my extension"}');
  writeFileSync(join(app, 'index.html'), '<html>');
  const before = tree(app, '', true);
  const ds = await writeOutDir(app, { 'manifest.json': '{}', 'kernels/a.wgsl': 'a' });
  assert.is(ds.length, 1);
  assert.is(ds[0]!.code, 'TDC652');
  assert.match(ds[0]!.message, /no tdc output marker/);
  assert.match(ds[0]!.message, /'\.git\/'/);
  assert.match(ds[0]!.message, /'index\.html'/);
  assert.equal(tree(app, '', true), before);
  assert.ok(existsSync(join(app, '.git', 'objects')), 'empty dirs kept too');
  assert.equal(strays(root), []);
  rmSync(root, { recursive: true });
});

test('a tdc output with one extra user file (or a forged marker) is refused; the file is kept', async () => {
  const root = scratch();
  const out = join(root, 'out');
  assert.equal(await writeOutDir(out, OLD), []);
  writeFileSync(join(out, 'notes.md'), 'mine');
  const ds = await writeOutDir(out, { 'manifest.json': '{}' });
  assert.is(ds[0]?.code, 'TDC652');
  assert.match(ds[0]!.message, /did not write: 'notes\.md'/);
  assert.is(readFileSync(join(out, 'notes.md'), 'utf8'), 'mine');
  rmSync(join(out, 'notes.md'));
  mkdirSync(join(out, 'empty'));
  assert.match((await writeOutDir(out, { 'manifest.json': '{}' }))[0]?.message ?? '', /'empty\/'/);
  rmSync(join(out, 'empty'), { recursive: true });
  assert.equal(await writeOutDir(out, { 'manifest.json': '{}' }), [], 'exactly its own files: replaced');

  // A marker of another format, or a listing with unsafe paths, proves nothing.
  const forged = join(root, 'forged');
  mkdirSync(forged);
  writeFileSync(join(forged, OUT_MARKER), JSON.stringify({ format: 'other/1', files: ['x'] }));
  writeFileSync(join(forged, 'x'), 'x');
  assert.is((await checkReplaceable(forged))[0]?.code, 'TDC652');
  writeFileSync(join(forged, OUT_MARKER), JSON.stringify({ format: 'tdc-output/1', files: ['x', '../y'] }));
  assert.is((await checkReplaceable(forged))[0]?.code, 'TDC652');
  writeFileSync(join(forged, OUT_MARKER), JSON.stringify({ format: 'tdc-output/1', files: ['x'] }));
  assert.equal(await checkReplaceable(forged), []);
  rmSync(root, { recursive: true });
});

test('outputs of tdc before the marker (tdc manifest + its kernels + generated glue) are replaceable; a symlink inside is not', async () => {
  const root = scratch();
  const out = join(root, 'out');
  mkdirSync(join(out, 'kernels'), { recursive: true });
  writeFileSync(join(out, 'manifest.json'), JSON.stringify({ format: 'tdc-manifest/1', stages: [{ kernels: [{ file: 'kernels/train.k0.wgsl' }] }] }));
  writeFileSync(join(out, 'kernels', 'train.k0.wgsl'), '// k0');
  writeFileSync(join(out, 'kd.ts'), '// kd.ts — generated by tdc 0.1.0 from kd.yaml. Do not edit\n');
  assert.equal(await checkReplaceable(out), []);
  writeFileSync(join(out, 'app.ts'), 'export const mine = 1;\n');
  assert.match((await checkReplaceable(out))[0]?.message ?? '', /'app\.ts'/);
  rmSync(join(out, 'app.ts'));
  symlinkSync(root, join(out, 'link'));
  assert.match((await checkReplaceable(out))[0]?.message ?? '', /link \(symbolic link\)/);
  rmSync(root, { recursive: true });
});

test("a marker-less or cut-short-marker tdc output: the manifest proves its kernels' subgroup variants and plan variants too", async () => {
  const root = scratch();
  const out = join(root, 'out');
  mkdirSync(join(out, 'kernels'), { recursive: true });
  const kernel = (k: string) => ({ file: `kernels/train.${k}.wgsl`, subgroups: { file: `kernels/train.${k}.subgroups.wgsl` } });
  writeFileSync(join(out, 'manifest.json'), JSON.stringify({ format: 'tdc-manifest/1', stages: [{ kernels: [kernel('k0')], variants: [{ kernels: [kernel('v10_k0')] }] }] }));
  for (const k of ['k0', 'v10_k0']) for (const f of Object.values(kernel(k)).map((v) => (typeof v === 'string' ? v : v.file))) writeFileSync(join(out, f), '// k');
  assert.equal(await checkReplaceable(out), []);
  writeFileSync(join(out, OUT_MARKER), '{"format": "tdc-output/1", "fi');
  assert.equal(await checkReplaceable(out), [], 'a marker tdc cannot read is its own file');
  assert.equal(await writeOutDir(out, { 'manifest.json': '{}' }), []);
  rmSync(root, { recursive: true });
});

test('a stamp is recorded in the marker; restamp() replaces the marker only, atomically, and leaves no temp file', async () => {
  const root = scratch();
  const out = join(root, 'out');
  assert.equal(await writeOutDir(out, OLD, { stamp: { inputs: 'a' } }), []);
  assert.equal(await readOutMarker(out), { files: ['kd.ts', 'kernels/a.wgsl', 'manifest.json'], stamp: { inputs: 'a' } });
  const files = statSync(join(out, 'kd.ts')).mtimeMs;
  assert.equal(await restamp(out, Object.keys(OLD), { inputs: 'b' }), []);
  assert.equal(await readOutMarker(out), { files: ['kd.ts', 'kernels/a.wgsl', 'manifest.json'], stamp: { inputs: 'b' } });
  assert.equal(tree(out), OLD);
  assert.is(statSync(join(out, 'kd.ts')).mtimeMs, files);
  assert.equal(strays(root), []);
  assert.equal(await checkReplaceable(out), []);
  // no marker, a cut-short one, another format: none
  writeFileSync(join(out, OUT_MARKER), '{"format": "tdc-output/1", "fi');
  assert.is(await readOutMarker(out), undefined);
  writeFileSync(join(out, OUT_MARKER), JSON.stringify({ format: 'other/1', files: [] }));
  assert.is(await readOutMarker(out), undefined);
  rmSync(join(out, OUT_MARKER));
  assert.is(await readOutMarker(out), undefined);
  rmSync(root, { recursive: true });
});

test("'.', the cwd's ancestors, '/', the home directory and ancestors of protected paths are refused, even with force", async () => {
  const root = scratch();
  const proj = join(root, 'proj');
  mkdirSync(join(proj, 'configs'), { recursive: true });
  writeFileSync(join(proj, 'configs', 'kd.yaml'), 'x: 1');
  const refused = (out: string) => guardOutDir(out, { cwd: proj, protect: ['configs/kd.yaml'] }).map((d) => d.code);
  for (const out of ['.', './', proj, root, '..', '/', homedir(), 'configs', 'configs/kd.yaml', join(proj, 'configs', '..')]) assert.equal(refused(out), ['TDC654'], out);
  assert.equal(refused('out'), []);
  assert.equal(refused('configs/out'), []);
  assert.equal(refused(join(root, 'elsewhere')), []);
  // Through a symlink to the project.
  symlinkSync(proj, join(root, 'alias'));
  assert.equal(refused(join(root, 'alias')), ['TDC654']);
  const ds = await writeOutDir(proj, { a: 'x' }, { force: true, cwd: proj });
  assert.is(ds[0]?.code, 'TDC654');
  assert.match(ds[0]!.message, /current directory/);
  assert.ok(existsSync(join(proj, 'configs', 'kd.yaml')));
  rmSync(root, { recursive: true });
});

test.run();
