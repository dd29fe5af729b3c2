// Output ownership as a user meets it through `tdc compile -o`: tdc replaces only directories it provably wrote
// (its marker, nothing else there), never `.`, an ancestor of the cwd or of the config. Refusals exit 1 with a
// diagnostic naming what is there, and leave everything byte-for-byte as it was.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hasStackTrace, ROOT, tdc } from './helpers/cli.js';
import { casePath } from './helpers/golden.js';

const KD_CONFIG = casePath('sample__ilsvrc2012__kd__resnet18_from_resnet34', 'config.yaml');

function snapshot(dir: string, prefix = ''): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) {
      out[`${prefix}${name}/`] = '';
      Object.assign(out, snapshot(p, `${prefix}${name}/`));
    } else out[`${prefix}${name}`] = readFileSync(p, 'latin1');
  }
  return out;
}

/** A web-app / browser-extension project root: manifest.json, .git, sources, and the config inside it. */
function project(): string {
  const root = mkdtempSync(join(tmpdir(), 'tdc-own-'));
  mkdirSync(join(root, '.git', 'refs'), { recursive: true });
  writeFileSync(join(root, '.git', 'HEAD'), 'ref: refs/heads/main\n');
  writeFileSync(join(root, 'manifest.json'), '{"manifest_version": 3, "name": "extension"}\n');
  mkdirSync(join(root, 'src'));
  writeFileSync(join(root, 'src', 'main.ts'), 'export {};\n');
  copyFileSync(KD_CONFIG, join(root, 'kd.yaml'));
  return root;
}

test('a project root holding manifest.json and .git survives `tdc compile -o <root>` untouched', () => {
  const root = project();
  const before = snapshot(root);
  const r = tdc(['compile', join(root, 'kd.yaml'), '-o', root], { cwd: ROOT });
  assert.is(r.code, 1, r.stderr);
  assert.match(r.stderr, /TDC654|TDC652/);
  assert.not.ok(hasStackTrace(r.stderr), r.stderr);
  assert.is(r.stdout, '');
  assert.equal(snapshot(root), before);
  rmSync(root, { recursive: true });
});

test('a directory holding manifest.json and .git that is not an ancestor of anything: refused, naming its files', () => {
  const root = project();
  const app = join(root, 'webapp');
  mkdirSync(join(app, '.git'), { recursive: true });
  writeFileSync(join(app, '.git', 'HEAD'), 'x');
  writeFileSync(join(app, 'manifest.json'), '{"name": "pwa"}');
  const before = snapshot(root);
  const r = tdc(['compile', join(root, 'kd.yaml'), '-o', app]);
  assert.is(r.code, 1, r.stderr);
  assert.match(r.stderr, /TDC652/);
  assert.match(r.stderr, /'\.git\/'/);
  assert.match(r.stderr, /'manifest\.json'/);
  assert.equal(snapshot(root), before);
  rmSync(root, { recursive: true });
});

test("`-o .`, `-o ..` and the config's directory are refused, before any compile work", () => {
  const root = project();
  mkdirSync(join(root, 'sub'));
  const before = snapshot(root);
  for (const [out, cwd] of [['.', root], ['..', join(root, 'sub')], [root, ROOT], ['./', root]] as const) {
    const r = tdc(['compile', join(root, 'kd.yaml'), '-o', out], { cwd });
    assert.is(r.code, 1, `${out}: ${r.stderr}`);
    assert.match(r.stderr, /TDC654/, out);
    assert.equal(snapshot(root), before, out);
  }
  rmSync(root, { recursive: true });
});

test('a fresh out/ is written with the marker, and a rerun replaces it (it is provably tdc output)', () => {
  const root = project();
  const out = join(root, 'out');
  const a = tdc(['compile', join(root, 'kd.yaml'), '-o', out, '--no-glue']);
  assert.is(a.code, 0, a.stderr);
  const marker = JSON.parse(readFileSync(join(out, '.tdc-output.json'), 'utf8')) as { format: string; files: string[] };
  assert.is(marker.format, 'tdc-output/1');
  assert.ok(marker.files.includes('manifest.json'));
  const b = tdc(['compile', join(root, 'kd.yaml'), '-o', out, '--no-glue']);
  assert.is(b.code, 0, b.stderr);
  writeFileSync(join(out, 'my-notes.txt'), 'keep me');
  const c = tdc(['compile', join(root, 'kd.yaml'), '-o', out, '--no-glue']);
  assert.is(c.code, 1);
  assert.match(c.stderr, /my-notes\.txt/);
  assert.is(readFileSync(join(out, 'my-notes.txt'), 'utf8'), 'keep me');
  rmSync(root, { recursive: true });
});

test.run();
