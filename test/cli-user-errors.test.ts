// User errors that used to be reported as internal errors (exit 70), each now a diagnostic (exit 1) naming what
// is wrong, with no temp file left behind: --grads-out into a missing directory, onto a directory, into a
// read-only or a full file system; a symbolic-link loop under `tdc check DIR`; a module path or sub-term named
// `__proto__`; a 10 000-term sum in a spec (its code frame stays short). Full and read-only file systems are real
// (a 16 KiB / read-only tmpfs in a private mount namespace, `unshare -rm`) where the kernel allows it, and always
// through the write seam (writeFileAtomic's `fs`).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readSafetensors, writeSafetensors, nestByName, flattenInputs, type SafeTensor } from 'tdc-runtime';
import { writeFileAtomic } from '../src/cli/write-file.js';
import { hasStackTrace, ROOT, SHARED, tdc, type CliResult } from './helpers/cli.js';

const KD = join(ROOT, 'examples', 'kd', 'config.yaml');
const IO = join(ROOT, 'examples', 'kd', 'io.safetensors');
const dir = mkdtempSync(join(tmpdir(), 'tdc-user-errors-'));

function diagnoses(r: CliResult, ...patterns: RegExp[]): void {
  const all = r.stdout + r.stderr;
  assert.is(r.code, 1, `exit ${r.code}: ${all.slice(0, 2000)}`);
  assert.not.ok(hasStackTrace(all), all);
  assert.not.match(all, /internal error/);
  assert.is(r.stdout, '', 'no result printed');
  for (const p of patterns) assert.match(r.stderr, p);
}

const noTempFiles = (d: string): void => assert.equal(readdirSync(d).filter((f) => f.includes('tmp')), [], `temp files left in ${d}`);

test('--grads-out into a missing directory, onto a directory: TDC503 naming the path, no temp file', () => {
  const missing = join(dir, 'no-such-dir', 'g.safetensors');
  diagnoses(tdc(['run', KD, '--inputs', IO, '--device', 'cpu', '--grads-out', missing]), /TDC503: cannot write gradients '.*no-such-dir\/g\.safetensors': the directory '.*no-such-dir' does not exist/);
  const onDir = join(dir, 'a-dir');
  mkdirSync(join(onDir, 'g.safetensors'), { recursive: true });
  diagnoses(tdc(['run', KD, '--inputs', IO, '--device', 'cpu', '--grads-out', join(onDir, 'g.safetensors')]), /TDC503: .*g\.safetensors': it is a directory/);
  noTempFiles(onDir);
  const underFile = join(dir, 'a-file');
  writeFileSync(underFile, 'x');
  diagnoses(tdc(['run', KD, '--inputs', IO, '--device', 'cpu', '--state-out', join(underFile, 's.safetensors')]), /TDC503: cannot write state .*is not a directory/);
  diagnoses(tdc(['schema', '-o', join(dir, 'no-such-dir', 's.json')]), /TDC503: cannot write the schema/);
});

test('write seam: ENOSPC mid-write and EACCES are diagnostics; the partial temp file is removed; the old file kept', () => {
  const d = join(dir, 'seam');
  mkdirSync(d);
  const target = join(d, 'g.safetensors');
  writeFileSync(target, 'old');
  const full: typeof fs = {
    ...fs,
    writeFileSync: ((p: fs.PathOrFileDescriptor, data: string | NodeJS.ArrayBufferView) => {
      fs.writeFileSync(p, (data as Uint8Array).subarray(0, 7)); // the disk fills after 7 bytes
      throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
    }) as typeof fs.writeFileSync,
  };
  const e = writeFileAtomic(target, new Uint8Array(4096), 'gradients', full);
  assert.ok(e);
  assert.is(e.code, 'TDC503');
  assert.match(e.message, /no space left on the device \(ENOSPC\)/);
  noTempFiles(d);
  assert.is(readFileSync(target, 'utf8'), 'old', 'the previous file is untouched');
  const denied: typeof fs = { ...fs, writeFileSync: (() => { throw Object.assign(new Error('EACCES'), { code: 'EACCES' }); }) as typeof fs.writeFileSync };
  assert.match(writeFileAtomic(target, 'x', 'gradients', denied)!.message, /permission denied \(EACCES\)/);
  const renameFails: typeof fs = { ...fs, renameSync: (() => { throw Object.assign(new Error('EXDEV'), { code: 'EXDEV' }); }) as typeof fs.renameSync };
  assert.ok(writeFileAtomic(target, 'new', 'gradients', renameFails));
  noTempFiles(d);
  assert.is(readFileSync(target, 'utf8'), 'old');
  assert.is(writeFileAtomic(target, 'new', 'gradients'), undefined);
  assert.is(readFileSync(target, 'utf8'), 'new');
});

test('an output file that is an input (the --inputs file, the config, a --spec file, by any path): TDC909, nothing written', () => {
  const d = join(dir, 'clobber');
  mkdirSync(d);
  const io = join(d, 'io.safetensors');
  const cfg = join(d, 'victim.yaml');
  fs.copyFileSync(IO, io);
  fs.copyFileSync(KD, cfg);
  symlinkSync(io, join(d, 'io-link.safetensors'));
  const ioBytes = readFileSync(io);
  const cfgText = readFileSync(cfg, 'utf8');
  diagnoses(tdc(['run', KD, '--inputs', io, '--device', 'cpu', '--grads-out', io]), /error TDC909: refusing to write gradients to '.*io\.safetensors': it is the --inputs file/);
  diagnoses(tdc(['run', cfg, '--inputs', IO, '--device', 'cpu', '--state-out', cfg]), /error TDC909: refusing to write state to '.*victim\.yaml': it is the config/);
  // through a symbolic link, and a path spelled with ./ and ..: the same file
  diagnoses(tdc(['run', KD, '--inputs', io, '--device', 'cpu', '--grads-out', join(d, 'io-link.safetensors')]), /TDC909: .*io-link\.safetensors': it is the --inputs file \('.*io\.safetensors'\)/);
  diagnoses(tdc(['run', KD, '--inputs', io, '--device', 'cpu', '--grads-out', 'io.safetensors'], { cwd: d }), /TDC909/);
  diagnoses(tdc(['run', cfg, '--inputs', IO, '--device', 'cpu', '--grads-out', `${d}/../clobber/./victim.yaml`]), /TDC909: .* it is the config/);
  // the two outputs naming one file: the first would be lost
  const g = join(d, 'g.safetensors');
  diagnoses(tdc(['run', KD, '--inputs', IO, '--device', 'cpu', '--grads-out', g, '--state-out', g]), /TDC909: refusing to write state to '.*g\.safetensors': it is the output file for gradients too/);
  assert.not.ok(fs.existsSync(g));
  const spec = join(d, 'my.tdl');
  writeFileSync(spec, '# my losses\n');
  diagnoses(tdc(['schema', '--spec', spec, '-o', spec]), /TDC909: refusing to write the schema to '.*my\.tdl': it is a --spec file/);
  assert.is(readFileSync(spec, 'utf8'), '# my losses\n');
  assert.equal(readFileSync(io), ioBytes, 'the inputs file is untouched');
  assert.is(readFileSync(cfg, 'utf8'), cfgText, 'the config is untouched');
  // a different file beside them is written as before
  const ok = tdc(['run', cfg, '--inputs', io, '--device', 'cpu', '--grads-out', g]);
  assert.is(ok.code, 0, ok.stderr);
  assert.ok(readSafetensors(new Uint8Array(readFileSync(g))).tensors.size > 0);
});

test('--grads-out onto a FIFO: written into it, not replaced by a regular file; --inputs a device: TDC501, no endless read', async () => {
  const fifo = join(dir, 'grads.fifo');
  if (spawnSync('mkfifo', [fifo]).status !== 0) return;
  const got = join(dir, 'from-fifo.safetensors');
  // the reader: cat into a file (killed after 10 s below if the FIFO was replaced and it waits for a writer forever)
  const out = fs.openSync(got, 'w');
  const reader = spawn('cat', [fifo], { stdio: ['ignore', out, 'ignore'] });
  fs.closeSync(out);
  const read = new Promise<number | null>((resolve) => reader.on('exit', resolve));
  const r = tdc(['run', KD, '--inputs', IO, '--device', 'cpu', '--grads-out', fifo], { timeoutMs: 60_000 });
  const timer = setTimeout(() => reader.kill(), 10_000);
  const code = await read;
  clearTimeout(timer);
  assert.is(r.code, 0, r.stderr);
  assert.ok(fs.lstatSync(fifo).isFIFO(), 'the FIFO is still a FIFO');
  assert.is(code, 0, 'the reader got end of file');
  assert.ok(readSafetensors(new Uint8Array(readFileSync(got))).tensors.size > 0, 'the gradients came through the FIFO');
  noTempFiles(dir);
  // /dev/zero never ends: refused as a device, at once
  const z = tdc(['run', KD, '--inputs', '/dev/zero', '--device', 'cpu'], { timeoutMs: 30_000 });
  diagnoses(z, /error TDC501: cannot read inputs '\/dev\/zero': it is a device, not a safetensors file/);
});

test('write seam: a symbolic link is written through (to a dangling link\'s target too), modes are kept, a link loop is TDC503', () => {
  const d = join(dir, 'write-through');
  mkdirSync(join(d, 'sub'), { recursive: true });
  const target = join(d, 'sub', 'g.safetensors');
  writeFileSync(target, 'old');
  fs.chmodSync(target, 0o600);
  symlinkSync('sub/g.safetensors', join(d, 'glink'));
  symlinkSync('glink', join(d, 'glink2')); // a chain of two links
  assert.is(writeFileAtomic(join(d, 'glink2'), 'new', 'gradients'), undefined);
  assert.ok(fs.lstatSync(join(d, 'glink')).isSymbolicLink() && fs.lstatSync(join(d, 'glink2')).isSymbolicLink());
  assert.is(readFileSync(target, 'utf8'), 'new');
  assert.is(fs.statSync(target).mode & 0o777, 0o600);
  noTempFiles(d);
  noTempFiles(join(d, 'sub'));
  symlinkSync('sub/fresh.safetensors', join(d, 'dangling'));
  assert.is(writeFileAtomic(join(d, 'dangling'), 'x', 'gradients'), undefined);
  assert.is(readFileSync(join(d, 'sub', 'fresh.safetensors'), 'utf8'), 'x');
  assert.ok(fs.lstatSync(join(d, 'dangling')).isSymbolicLink());
  symlinkSync('loop-b', join(d, 'loop-a'));
  symlinkSync('loop-a', join(d, 'loop-b'));
  assert.match(writeFileAtomic(join(d, 'loop-a'), 'x', 'gradients')!.message, /cannot write gradients '.*loop-a': a loop of symbolic links/);
  // through the CLI: --grads-out onto a link to a 0600 file
  const r = tdc(['run', KD, '--inputs', IO, '--device', 'cpu', '--grads-out', join(d, 'glink')]);
  assert.is(r.code, 0, r.stderr);
  assert.ok(fs.lstatSync(join(d, 'glink')).isSymbolicLink());
  assert.ok(readSafetensors(new Uint8Array(readFileSync(target))).tensors.size > 0);
  assert.is(fs.statSync(target).mode & 0o777, 0o600);
});

/** `tdc <args>` inside a private mount namespace where `mnt` is a tmpfs mounted with `opts`; undefined when not permitted. */
function inTmpfs(mnt: string, opts: string, args: string[]): CliResult | undefined {
  const q = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;
  const script = `mount -t tmpfs -o ${opts} tmpfs ${q(mnt)} || exit 99; ${q(process.execPath)} ${q(join(ROOT, 'bin', 'tdc.js'))} ${args.map(q).join(' ')}; code=$?; echo "TEMP LEFT: $(ls -A ${q(mnt)} | grep tmp)" >&2; exit $code`;
  const r = spawnSync('unshare', ['-rm', 'sh', '-c', script], { encoding: 'utf8', timeout: 120_000, env: { ...process.env, NO_COLOR: '1' } });
  return { code: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '', ms: 0 };
}

test('--grads-out on a full and on a read-only file system (real tmpfs where unshare is permitted)', () => {
  if (spawnSync('unshare', ['-rm', 'true']).status !== 0) {
    console.log('  (not run here: unshare -rm is not permitted; the write seam test covers ENOSPC/EACCES)');
    return;
  }
  const mnt = join(dir, 'mnt');
  mkdirSync(mnt);
  // inputs whose gradients (4096 × 37, float64, student and teacher: 2.4 MB) cannot fit a 64 KiB tmpfs
  const bigInputs = join(dir, 'big.safetensors');
  const t = readSafetensors(new Uint8Array(readFileSync(IO))).tensors;
  const n = 4096;
  const rows = (x: SafeTensor): SafeTensor => ({ dtype: x.dtype, shape: [n, ...x.shape.slice(1)], data: repeatRows(x, n) });
  writeFileSync(bigInputs, writeSafetensors(new Map(['student/./output', 'teacher/./output', 'targets'].map((k) => [k, rows(t.get(k)!)]))));
  const r = inTmpfs(mnt, 'size=64k', ['run', KD, '--inputs', bigInputs, '--device', 'cpu', '--grads-out', join(mnt, 'g.safetensors')])!;
  assert.is(r.code, 1, r.stdout + r.stderr);
  assert.match(r.stderr, /TDC503: cannot write gradients '.*g\.safetensors': no space left on the device \(ENOSPC\)/);
  assert.not.ok(hasStackTrace(r.stderr));
  assert.match(r.stderr, /^TEMP LEFT: $/m, 'no temp file left on the full file system');
  const ro = inTmpfs(mnt, 'ro', ['run', KD, '--inputs', IO, '--device', 'cpu', '--grads-out', join(mnt, 'g.safetensors')])!;
  assert.is(ro.code, 1, ro.stdout + ro.stderr);
  assert.match(ro.stderr, /TDC503: cannot write gradients '.*g\.safetensors': read-only file system \(EROFS\)/);
});

function repeatRows(x: SafeTensor, n: number): SafeTensor['data'] {
  const row = x.shape.slice(1).reduce((a, b) => a * b, 1);
  const src = x.data as unknown as ArrayLike<number | bigint> & { constructor: new (k: number) => SafeTensor['data'] };
  const out = new src.constructor(n * row) as unknown as (number | bigint)[];
  for (let i = 0; i < n * row; i++) out[i] = src[i % (x.shape[0]! * row)]!;
  return out as unknown as SafeTensor['data'];
}

test('tdc check DIR with a loop of symbolic links and a link back to an ancestor: diagnostics, exit 1, no hang', () => {
  const root = join(dir, 'links');
  mkdirSync(join(root, 'sub'), { recursive: true });
  writeFileSync(join(root, 'sub', 'kd.yaml'), readFileSync(KD));
  symlinkSync('..', join(root, 'sub', 'up'));
  symlinkSync('loop2', join(root, 'loop1'));
  symlinkSync('loop1', join(root, 'loop2'));
  const r = tdc(['check', root], { timeoutMs: 60_000 });
  assert.is(r.code, 1, r.stdout + r.stderr);
  assert.not.ok(hasStackTrace(r.stderr), r.stderr);
  assert.match(r.stderr, /error TDC906: cannot search '.*loop1': a loop of symbolic links \(ELOOP\)/);
  assert.match(r.stderr, /warning TDC907: '.*sub\/up' is a link to '.*links', which is searched already: skipped/);
  assert.match(r.stdout, /Checked 1 file: 2 errors in 2 paths not read, 1 warning/);
  const j = tdc(['check', '--json', root]);
  assert.is(j.code, 1);
  const files = JSON.parse(j.stdout) as { file: string; diagnostics: { code: string }[] }[];
  assert.ok(files.some((f) => f.file.endsWith('loop1') && f.diagnostics[0]!.code === 'TDC906'));
});

const PROTO_CONFIG = `train:
  teacher:
    forward_hook: {input: [], output: ['__proto__']}
  student:
    forward_hook: {input: [], output: ['__proto__']}
  criterion:
    key: 'WeightedSumLoss'
    kwargs:
      sub_terms:
        __proto__:
          criterion:
            key: 'KDLoss'
            kwargs: {student_module_path: '__proto__', student_module_io: 'output', teacher_module_path: '__proto__', teacher_module_io: 'output', temperature: 2.0, alpha: 0.5}
          weight: 1.0
        kd:
          criterion:
            key: 'KDLoss'
            kwargs: {student_module_path: '.', student_module_io: 'output', teacher_module_path: '.', teacher_module_io: 'output', temperature: 1.0, alpha: 0.5}
          weight: 0.5
`;

test("module path and sub-term '__proto__': a term like any other in run --json (CPU and GPU), compile works", () => {
  const cfg = join(dir, 'proto.yaml');
  writeFileSync(cfg, PROTO_CONFIG);
  const t = readSafetensors(new Uint8Array(readFileSync(IO))).tensors;
  const inputs = join(dir, 'proto.safetensors');
  writeFileSync(
    inputs,
    writeSafetensors(
      new Map<string, SafeTensor>([
        ...[...t].filter(([k]) => !k.startsWith('grad/')),
        ['student/__proto__/output', t.get('student/./output')!],
        ['teacher/__proto__/output', t.get('teacher/./output')!],
      ]),
    ),
  );
  const cpu = tdc(['run', cfg, '--inputs', inputs, '--device', 'cpu', '--json']);
  assert.is(cpu.code, 0, cpu.stderr);
  const c = JSON.parse(cpu.stdout) as { loss: number; terms: Record<string, { weight: number; value: number }>; grads: string[] };
  assert.equal(Object.keys(c.terms), ['__proto__', 'kd']);
  assert.ok(Object.prototype.hasOwnProperty.call(c.terms, '__proto__'));
  const proto = c.terms['__proto__']!;
  assert.ok(Math.abs(c.loss - (proto.value + 0.5 * c.terms['kd']!.value)) < 1e-12, 'the loss is the weighted sum of both terms');
  assert.ok(c.grads.includes('student/__proto__/output'));
  const gpu = tdc(['run', cfg, '--inputs', inputs, '--device', 'auto', '--json'], { timeoutMs: 120_000 });
  assert.is(gpu.code, 0, gpu.stderr);
  const g = JSON.parse(gpu.stdout) as typeof c;
  assert.equal(Object.keys(g.terms), ['__proto__', 'kd']);
  assert.ok(Math.abs(g.terms['__proto__']!.value - proto.value) < 1e-5 * Math.abs(proto.value));
  const out = join(dir, 'proto-out');
  const k = tdc(['compile', cfg, '-o', out]);
  assert.is(k.code, 0, k.stderr);
  assert.match(readFileSync(join(out, 'proto.ts'), 'utf8'), /'?__proto__'?: \{ output: /);
});

test("runtime nesting: '__proto__' segments are own keys and never reach Object.prototype", () => {
  const nested = nestByName(new Map([['student/__proto__/output', 1], ['student/./output', 2]]));
  assert.is(({} as Record<string, unknown>)['output'], undefined, 'Object.prototype not polluted');
  const student = nested['student'] as Record<string, Record<string, number>>;
  assert.ok(Object.prototype.hasOwnProperty.call(student, '__proto__'));
  assert.is(student['__proto__']!['output'], 1);
  // lookups find only own keys: a missing '__proto__' entry is missing, not Object.prototype
  const flat = flattenInputs<number>({ student: { '.': { output: 2 } } }, ['student/__proto__/output', 'student/./output']);
  assert.equal([...flat], [['student/./output', 2]]);
  const back = flattenInputs<number>(nested, ['student/__proto__/output', 'student/./output']);
  assert.equal([...back], [['student/__proto__/output', 1], ['student/./output', 2]]);
});

const CUSTOM = (key: string): string => `train:
  student: {forward_hook: {input: [], output: ['fc']}}
  teacher: {forward_hook: {input: [], output: ['fc']}}
  criterion:
    key: 'WeightedSumLoss'
    kwargs:
      sub_terms:
        my:
          criterion: {key: '${key}', kwargs: {}}
          weight: 1.0
`;

test("a user spec's **rest forwarded to an unknown loss: TDC203 at the type, with a did-you-mean, exit 1 (not TDC299)", () => {
  const cfg = join(dir, 'fwd.yaml');
  writeFileSync(cfg, CUSTOM('Fwd'));
  const spec = join(dir, 'fwd.tdl');
  for (const [to, hint] of [
    ['NoSuchLoss', /write \*\*a without a type/],
    ['CrossEntropyLos', /did you mean 'CrossEntropyLoss'/],
  ] as const) {
    writeFileSync(spec, `mid Fwd(**a: ${to}) {\n  return 1.0\n}\n`);
    const r = tdc(['--spec', spec, 'check', cfg]);
    assert.is(r.code, 1, r.stdout + r.stderr);
    assert.match(r.stdout, /1 error in 1 file/);
    diagnoses(tdc(['--spec', spec, 'compile', cfg, '-o', join(dir, 'fwd-out')]), new RegExp(`fwd\\.tdl:1:14 - error TDC203: Fwd: \\*\\*a forwards the extra kwargs to '${to}', which is not a registered mid- or low-level loss`), hint);
    assert.match(r.stderr, /fwd\.tdl:1:14 - error TDC203/);
    assert.not.match(r.stderr, /TDC299|bug in tdc/);
  }
});

test("tdc check with a --spec that cannot be read or does not parse: the spec's error only, not a follow-on 'unknown loss' per config", () => {
  const cfg = join(dir, 'follow.yaml');
  writeFileSync(cfg, CUSTOM('Follow'));
  const broken = join(dir, 'broken.tdl');
  writeFileSync(broken, 'mid Follow( {\n}\n');
  for (const [spec, code] of [
    [join(dir, 'no-such.tdl'), 'TDC501'],
    [broken, 'TDC303'],
  ] as const) {
    for (const cmd of [['check', cfg], ['inspect', cfg]]) {
      const r = tdc(['--spec', spec, ...cmd]);
      assert.is(r.code, 1, r.stdout + r.stderr);
      assert.match(r.stderr, new RegExp(`error ${code}`));
      assert.not.match(r.stdout + r.stderr, /TDC203|unknown loss/);
      // the missing file in the words every other missing file gets, not Node's "ENOENT: …, stat '<path>'"
      if (code === 'TDC501') assert.match(r.stderr, /error TDC501: cannot read spec file \S*no-such\.tdl: no such file \(ENOENT\)\n/);
    }
  }
  // without a failed spec, an unknown key is still reported
  const r = tdc(['check', cfg]);
  assert.match(r.stderr, /TDC203: sub-term 'my': unknown loss 'Follow'/);
});

test("a helper called without a parameter that has no default: TDC408 naming it, as Python's TypeError, not a value computed with none", () => {
  // `softmax(s)` used to take dim = none and normalise over every element (torch's softmax(s) of [N, C] normalises
  // rows); a user's `pair(s)` failed inside the helper with 'expected a tensor or a number, got none'
  const cfg = join(dir, 'few.yaml');
  writeFileSync(cfg, CUSTOM('Few'));
  const spec = join(dir, 'few.tdl');
  for (const [body, at, message] of [
    ['sum(softmax(s))', '4:14', "softmax(x, dim) is missing the argument 'dim'"],
    ['sum(pair(s))', '4:14', "pair(a, b) is missing the argument 'b'"],
    ['sum(pair(b=s))', '4:14', "pair(a, b) is missing the argument 'a'"],
    ['sum(logsumexp(s, keepdim=true))', '4:14', "logsumexp(x, dim, keepdim=false) is missing the argument 'dim'"],
  ] as const) {
    writeFileSync(spec, `def pair(a, b) = a - b\nmid Few() {\n  let s = student["fc"]["output"]\n  return ${body}\n}\n`);
    for (const cmd of [['check', cfg], ['compile', cfg, '-o', join(dir, 'few-out')]]) {
      const r = tdc(['--spec', spec, ...cmd]);
      assert.is(r.code, 1, r.stdout + r.stderr);
      assert.not.ok(hasStackTrace(r.stderr), r.stderr);
      assert.match(r.stderr, `few.tdl:${at} - error TDC408: ${message}`);
    }
  }
  // a left-out parameter that has a default still takes it; var and std without a dim reduce every element, as
  // torch's x.var() and x.std() do (the same value as naming both dims)
  const io = join(dir, 'few.safetensors');
  writeFileSync(io, writeSafetensors(new Map([['student/fc/output', { dtype: 'F64' as const, shape: [3, 4], data: Float64Array.from({ length: 12 }, (_, i) => Math.sin(i + 1) * 3) }]])));
  const loss = (body: string): number => {
    writeFileSync(spec, `def pair(a, b=1.0) = a - b\nmid Few() {\n  let s = student["fc"]["output"]\n  return ${body}\n}\n`);
    const r = tdc(['--spec', spec, 'run', cfg, '--inputs', io, '--device', 'cpu', '--json']);
    assert.is(r.code, 0, r.stdout + r.stderr);
    return JSON.parse(r.stdout).loss as number;
  };
  assert.ok(Number.isFinite(loss('sum(pair(s))')));
  assert.is(loss('var(s)'), loss('var(s, [0, 1])'));
  assert.is(loss('std(s, unbiased=false)'), loss('std(s, [0, 1], unbiased=false)'));
});

test("an error inside a prelude helper that a user's def calls: the def's own line is related, not only the prelude's", () => {
  // `def sm(x) = softmax(x, 2)` on [N, C]: the primary stays the loss's call of sm, the prelude's line follows, and
  // the line the user wrote in sm (which used to be left out of the chain) is named
  const cfg = join(dir, 'inner.yaml');
  writeFileSync(cfg, CUSTOM('Inner'));
  const spec = join(dir, 'inner.tdl');
  writeFileSync(spec, `def sm(x) = softmax(x, 2)\ndef outer(x) = sm(x) * 2\nmid Inner() {\n  return sum(outer(student["fc"]["output"]))\n}\n`);
  const r = tdc(['--spec', spec, 'compile', cfg, '-o', join(dir, 'inner-out')]);
  diagnoses(r, /inner\.tdl:4:14 - error TDC403: dim 2 is out of range for a tensor of rank 2/);
  const related = [...r.stderr.matchAll(/related: (\S+): (.*)/g)].map((m) => `${m[1]!.replace(/^.*\//, '')}: ${m[2]}`);
  assert.equal(related.slice(0, 4), [
    related[0]!.startsWith('prelude.tdl:') ? related[0]! : 'prelude.tdl:…: inside outer → sm → softmax',
    'inner.tdl:1:13: in softmax, called here',
    'inner.tdl:2:16: in sm, called here',
    'inner.yaml:9:28: in Inner, called here',
  ]);
  assert.match(related[0]!, /^prelude\.tdl:\d+:\d+: inside outer → sm → softmax$/);
});

test('a 10 000-term + chain in a spec: TDC310 at its position, and the code frame is a short window around it', () => {
  const spec = join(dir, 'chain.tdl');
  writeFileSync(spec, `low ChainLoss()(input, target) {\n  return l1_loss(input, target, "mean")${' + 1.0'.repeat(10_000)}\n}\n`);
  const r = tdc(['--spec', spec, 'check', KD]);
  assert.is(r.code, 1, r.stderr);
  assert.match(r.stderr, /chain\.tdl:2:\d+ - error TDC310: expression nested more than 256 levels deep/);
  const longest = Math.max(...r.stderr.split('\n').map((l) => l.length));
  assert.ok(longest < 400, `code frame lines stay short (longest ${longest})`);
  const frame = r.stderr.split('\n').filter((l) => /^2 /.test(l) || /^\s+~+$/.test(l));
  assert.is(frame.length, 2, r.stderr);
  assert.match(frame[0]!, /^2 …/);
  const col = Number(/chain\.tdl:2:(\d+)/.exec(r.stderr)![1]);
  const line = readFileSync(spec, 'utf8').split('\n')[1]!;
  const shownAt = frame[1]!.indexOf('~') - 2; // '2 ' prefix
  assert.is(frame[0]!.slice(2)[shownAt], line[col - 1], 'the underline sits under the reported column');
});

test("a tensor misspelt in --inputs: TDC401 names the file's unread tensor as the likely misspelling, on the CPU and the GPU path", () => {
  const t = readSafetensors(new Uint8Array(readFileSync(IO))).tensors;
  const io = join(dir, 'misspelt.safetensors');
  const named = (teacher: string) => new Map([['student/./output', t.get('student/./output')!], [teacher, t.get('teacher/./output')!], ['targets', t.get('targets')!]]);
  writeFileSync(io, writeSafetensors(named('teacher/./outptu')));
  for (const device of ['cpu', 'auto']) {
    const r = tdc(['run', KD, '--inputs', io, '--device', device]);
    diagnoses(r, /TDC401: missing input tensor 'teacher\/\.\/output'/, /the inputs hold 'teacher\/\.\/outptu', which the stage does not read: a misspelling of 'teacher\/\.\/output'\?/);
  }
  // a tensor the stage reads is no candidate, nor an output a dump carries (grad/…): no such hint
  const withGrad = named('grad/teacher/./output');
  writeFileSync(io, writeSafetensors(withGrad));
  const r = tdc(['run', KD, '--inputs', io, '--device', 'cpu']);
  diagnoses(r, /TDC401: missing input tensor 'teacher\/\.\/output'/);
  assert.not.match(r.stderr, /misspelling/);
});

test('a class index out of range in --inputs: TDC524 at the loss term that reads it (config:line:col) on the GPU path as on the CPU', () => {
  const t = readSafetensors(new Uint8Array(readFileSync(IO))).tensors;
  const y = t.get('targets')!;
  const bad = (y.data as BigInt64Array).map((v, i) => (i === 0 ? 117n : v));
  const io = join(dir, 'oob.safetensors');
  writeFileSync(io, writeSafetensors(new Map([...t].filter(([k]) => !k.startsWith('grad/')).map(([k, v]) => [k, k === 'targets' ? { ...y, data: bad } : v]))));
  for (const device of ['cpu', 'auto'])
    diagnoses(tdc(['run', KD, '--inputs', io, '--device', device]), /config\.yaml:131:9 - error TDC524: .*'targets' element 0 is 117: a class index must lie in \[0, 37\)/);
});

test('a feature-map loss run on [N, C] tensors: the spec error is followed by the TDC610 note naming the shapes it read, on both devices', () => {
  // FSP indexes H and W: given a rank-2 tensor its spec fails ("list index 2 out of range") naming no input
  const golden = join(SHARED, 'golden', 'sample__ilsvrc2012__fsp__resnet18_from_resnet34__stage1');
  const t = readSafetensors(new Uint8Array(readFileSync(join(golden, 'tensors.safetensors')))).tensors;
  const flat = new Map([...t].filter(([k]) => !k.startsWith('grad/') && !k.startsWith('state')).map(([k, v]) => [k, { dtype: 'F32' as const, shape: [v.shape[0]!, 10], data: new Float32Array(v.shape[0]! * 10).fill(0.5) }]));
  const io = join(dir, 'fsp-rank2.safetensors');
  writeFileSync(io, writeSafetensors(flat));
  for (const device of ['cpu', 'gpu']) {
    const r = tdc(['run', join(golden, 'config.yaml'), '--inputs', io, '--device', device]);
    diagnoses(r, /error TDC409: list index 2 out of range/, /note TDC610: stage '\w+' failed on input shapes student\/layer1\/input=\[\d+, 10\]/);
    assert.ok(r.stderr.indexOf('TDC409') < r.stderr.indexOf('TDC610'), 'the note follows the error');
  }
});

test.after(() => rmSync(dir, { recursive: true, force: true }));

test.run();
