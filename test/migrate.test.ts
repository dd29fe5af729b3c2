// tdc migrate over a temporary copy of all shipped legacy configs: `tdc migrate --write` rewrites them; every
// migrated file resolves to the same criterion IR as its legacy original (spans, source spellings and the schema
// flag aside), `tdc check` reads it without the "legacy schema" note, and re-running migrate changes nothing.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { chmodSync, copyFileSync, cpSync, lstatSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { CONFIGS, tdc } from './helpers/cli.js';
import { expandConfigPaths } from '../src/cli/files.js';
import { loadConfig } from '../src/compiler/load/load.js';
import { checkConfig as resolveConfig } from '../src/compiler/driver/check.js';

const LEGACY = join(CONFIGS, 'legacy');
const irText = (text: string, file: string) => {
  const { ir, diagnostics } = resolveConfig(loadConfig(text, file).config);
  return { ir: JSON.stringify(ir, (k, v) => (k === 'span' || k === 'source' || k === 'schema' || k.endsWith('Span') ? undefined : v)), diagnostics };
};

test('tdc migrate --write over a copy of every legacy config: same IR, no legacy note, a second run is a no-op', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tdc-migrate-'));
  try {
    cpSync(LEGACY, dir, { recursive: true });
    const originals = expandConfigPaths([LEGACY]).files;
    assert.ok(originals.length > 0);
    const r = tdc(['migrate', '--write', dir]);
    assert.is(r.code, 0, r.stderr);
    assert.match(r.stderr, new RegExp(`${originals.length} of ${originals.length} files migrated`));
    const bad: string[] = [];
    for (const f of originals) {
      const copy = join(dir, relative(LEGACY, f));
      const before = irText(readFileSync(f, 'utf8'), copy);
      const after = irText(readFileSync(copy, 'utf8'), copy);
      if (before.ir !== after.ir) bad.push(`${relative(LEGACY, f)}: IR differs`);
      const left = after.diagnostics.filter((d) => d.severity === 'error' || /legacy/i.test(d.message));
      if (left.length) bad.push(`${relative(LEGACY, f)}: ${left.map((d) => `${d.code} ${d.message}`).join('; ')}`);
    }
    assert.equal(bad, []);
    const again = tdc(['migrate', '--write', dir]);
    assert.match(again.stderr, new RegExp(`0 of ${originals.length} files migrated`));
    const check = tdc(['check', dir]);
    assert.is(check.code, 0, check.stdout + check.stderr);
    assert.not.match(check.stdout + check.stderr, /legacy/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('without --write: a unified diff, comments and anchors kept, the file untouched', () => {
  const f = join(LEGACY, 'sample/ilsvrc2012/single_stage/kr/resnet18_from_resnet34.yaml');
  const before = readFileSync(f, 'utf8');
  const r = tdc(['migrate', f]);
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stdout, /^-    type: 'GeneralizedCustomLoss'$/m);
  assert.match(r.stdout, /^\+    key: 'WeightedSumLoss'$/m);
  assert.match(r.stdout, /^\+\s+key: &hcl 'HierarchicalContextLoss'$/m);
  assert.match(r.stdout, /^\+\s+output_sizes: &kernel_sizes \[4, 2, 1\]$/m);
  assert.is(readFileSync(f, 'utf8'), before);
});

test('--write through a symbolic link migrates the file it points to, the link stays; a 0600 file stays 0600', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tdc-migrate-link-'));
  try {
    const f = join(LEGACY, 'sample/ilsvrc2012/single_stage/kr/resnet18_from_resnet34.yaml');
    const real = join(dir, 'real.yaml');
    copyFileSync(f, real);
    chmodSync(real, 0o600);
    symlinkSync('real.yaml', join(dir, 'link.yaml'));
    const r = tdc(['migrate', '--write', join(dir, 'link.yaml')]);
    assert.is(r.code, 0, r.stderr);
    assert.match(r.stderr, /1 of 1 file migrated/);
    assert.ok(lstatSync(join(dir, 'link.yaml')).isSymbolicLink(), 'the link is still a link');
    assert.match(readFileSync(real, 'utf8'), /key: 'WeightedSumLoss'/, 'its target is migrated');
    assert.is(statSync(real).mode & 0o777, 0o600, 'and keeps its mode');
    const again = tdc(['migrate', '--write', real]);
    assert.match(again.stderr, /0 of 1 file migrated/);
    const plain = join(dir, 'plain.yaml');
    copyFileSync(f, plain);
    chmodSync(plain, 0o640);
    assert.is(tdc(['migrate', '--write', plain]).code, 0);
    assert.is(statSync(plain).mode & 0o777, 0o640);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
