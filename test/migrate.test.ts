// tdc migrate over a temporary copy of all shipped legacy configs: `tdc migrate --write` rewrites them; every
// migrated file resolves to the same criterion IR as its legacy original (spans, source spellings and the schema
// flag aside), `tdc check` reads it without the "legacy schema" note, and re-running migrate changes nothing.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { chmodSync, copyFileSync, cpSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { CONFIGS, tdc } from './helpers/cli.js';
import { expandConfigPaths } from '../src/cli/files.js';
import { unifiedDiff } from '../src/cli/line-diff.js';
import { loadConfig } from '../src/compiler/load/load.js';
import { migrateLegacyText } from '../src/compiler/migrate/legacy-to-modern.js';
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
      // the layout is kept: as many blank lines (the one after a criterion ending in an empty `sub_terms:` was dropped)
      const blanks = (t: string) => t.split('\n').filter((l) => l.trim() === '').length;
      if (blanks(readFileSync(copy, 'utf8')) !== blanks(readFileSync(f, 'utf8'))) bad.push(`${relative(LEGACY, f)}: blank lines ${blanks(readFileSync(f, 'utf8'))} → ${blanks(readFileSync(copy, 'utf8'))}`);
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

test('the blank line after a migrated criterion stays, also when its last entry was empty (yaml gives that line to the empty value)', () => {
  const legacy = [
    'train:',
    '  stage1:',
    '    criterion:',
    "      type: 'GeneralizedCustomLoss'",
    '      org_term:',
    '        criterion:',
    "          type: 'CrossEntropyLoss'",
    '          params:',
    "            reduction: 'mean'",
    '        factor: 1.0',
    '      sub_terms:',
    '',
    'test:',
    '  x: 1',
    '',
  ].join('\n');
  const r = migrateLegacyText(legacy);
  assert.ok(r.changed);
  assert.match(r.text, /\n {12}weight: 1\.0\n\ntest:\n/);
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

/** Applies a unified diff to `a` (checking every kept and removed line and each hunk's old start): the new text. */
function applyDiff(a: string, diff: string): string {
  const x = a.split('\n');
  const out: string[] = [];
  let i = 0;
  const lines = diff.split('\n').slice(2, -1);
  for (let q = 0; q < lines.length; ) {
    const h = /^@@ -(\d+),(\d+) \+(\d+),(\d+) @@$/.exec(lines[q++]!);
    assert.ok(h, `a hunk header: ${lines[q - 1]}`);
    const aStart = Number(h[2]) === 0 ? Number(h[1]) : Number(h[1]) - 1;
    assert.ok(aStart >= i, 'hunks in order');
    assert.is(Number(h[3]) - (Number(h[4]) === 0 ? 0 : 1), out.length + (aStart - i), 'new start = lines written before it');
    while (i < aStart) out.push(x[i++]!);
    while (q < lines.length && !lines[q]!.startsWith('@@')) {
      const l = lines[q++]!;
      if (l[0] === '+') out.push(l.slice(1));
      else {
        assert.is(x[i], l.slice(1), `line ${i + 1} of the old text`);
        if (l[0] === ' ') out.push(x[i]!);
        i++;
      }
    }
  }
  while (i < x.length) out.push(x[i++]!);
  return out.join('\n');
}

test('unifiedDiff: hunks that apply, with correct line numbers; linear on large files; a whole-file hunk past the edit budget', () => {
  let seed = 7;
  const rnd = (n: number): number => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), seed % n);
  for (let round = 0; round < 200; round++) {
    const a = Array.from({ length: rnd(40) }, () => `l${rnd(8)}`);
    const b = a.flatMap((l) => (rnd(5) === 0 ? [] : rnd(6) === 0 ? [l, `new${rnd(4)}`] : rnd(7) === 0 ? [`chg${rnd(3)}`] : [l]));
    for (const budget of [2000, 2]) {
      const d = unifiedDiff(a.join('\n'), b.join('\n'), 'a', 'b', 3, budget);
      assert.is(applyDiff(a.join('\n'), d), b.join('\n'), `round ${round}, budget ${budget}`);
    }
  }
  assert.is(unifiedDiff('a\nb\nc\nd\ne\n', 'a\nb\nc\nd\nE\n', 'x', 'y'), '--- x\n+++ y\n@@ -2,5 +2,5 @@\n b\n c\n d\n-e\n+E\n \n');
  // 200 000 lines, three edits far apart: the old LCS table was 200 001² entries
  const big = Array.from({ length: 200_000 }, (_, i) => `k${i}: ${i}`);
  const edited = [...big];
  edited[10] = 'changed';
  edited.splice(100_000, 1);
  edited.splice(190_000, 0, 'added');
  const t0 = performance.now();
  const d = unifiedDiff(big.join('\n'), edited.join('\n'), 'a', 'b');
  assert.ok(performance.now() - t0 < 5000, `${performance.now() - t0} ms`);
  assert.is(d.split('\n').filter((l) => /^[-+][^-+]/.test(l)).length, 4);
  assert.is(applyDiff(big.join('\n'), d), edited.join('\n'));
});

test('tdc migrate: a large legacy config in linear time; over 1 MiB, syntax errors, binary files, missing paths are TDC diagnostics', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tdc-migrate-big-'));
  try {
    const legacy = readFileSync(join(LEGACY, 'sample/ilsvrc2012/single_stage/kr/resnet18_from_resnet34.yaml'), 'utf8');
    const junk = (n: number): string => `${legacy}junk:\n${Array.from({ length: n }, (_, i) => `  k${i}: ${i}\n`).join('')}`;
    writeFileSync(join(dir, 'big.yaml'), junk(20_000)); // 300 KB: 33 s and 1.7 GB with the LCS table
    const r = tdc(['migrate', join(dir, 'big.yaml')], { timeoutMs: 90_000 });
    assert.is(r.code, 0, r.stderr.slice(0, 2000));
    assert.match(r.stdout, /^\+    key: 'WeightedSumLoss'$/m);
    assert.is(applyDiff(junk(20_000), r.stdout.slice(r.stdout.indexOf('--- '))).includes("key: 'WeightedSumLoss'"), true);
    writeFileSync(join(dir, 'huge.yaml'), junk(80_000)); // 1.3 MB: check's limit
    const huge = tdc(['migrate', join(dir, 'huge.yaml')]);
    assert.is(huge.code, 1);
    assert.match(huge.stderr, /error TDC102: '.*huge\.yaml' is \d+ bytes; configs are limited to 1048576/);
    assert.is(huge.stdout, '');
    writeFileSync(join(dir, 'syntax.yaml'), 'train:\n  criterion:\n    key: [a, b\n  x: 1\n');
    const syn = tdc(['migrate', join(dir, 'syntax.yaml')]);
    assert.is(syn.code, 1);
    assert.match(syn.stderr, /syntax\.yaml:\d+:\d+ - error TDC103: /);
    writeFileSync(join(dir, 'dup.yaml'), `${legacy}train: 1\n`);
    const dup = tdc(['migrate', '--write', join(dir, 'dup.yaml')]);
    assert.is(dup.code, 1);
    assert.match(dup.stderr, /dup\.yaml:\d+:\d+ - error TDC111: not migrated: duplicate key 'train'/);
    assert.is(readFileSync(join(dir, 'dup.yaml'), 'utf8'), `${legacy}train: 1\n`);
    writeFileSync(join(dir, 'garbage.yaml'), Buffer.from([0x50, 0, 0, 0, 0xff, 0xfe, 0x1b, 0x5b]));
    const bin = tdc(['migrate', join(dir, 'garbage.yaml')]);
    assert.is(bin.code, 1);
    assert.match(bin.stderr, /error TDC101: /);
    assert.match(tdc(['migrate', join(dir, 'nosuch.yaml')]).stderr, /error TDC901: no such file or directory: .*nosuch\.yaml/);
    mkdirSync(join(dir, 'empty.yaml'));
    const empty = tdc(['migrate', join(dir, 'empty.yaml')]);
    assert.is(empty.code, 1);
    assert.match(empty.stderr, /error TDC908: no config files/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
