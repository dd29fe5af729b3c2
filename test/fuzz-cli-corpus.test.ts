// The inputs that scripts/fuzz-cli.mjs (mutation fuzzing of the command line) and the QA round around it found
// crashing, hanging or misreported, fixed, each replayed here through the CLI as a user runs it: a coded
// diagnostic, the exit code of its class, no stack trace or internal error, and an answer within a time bound.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readSafetensors, writeSafetensors } from 'tdc-runtime';
import { hasStackTrace, ROOT, tdc, type CliResult } from './helpers/cli.js';
import { customTermConfig, customTermSpec } from './helpers/custom-term.js';

const KD = join(ROOT, 'examples', 'kd', 'config.yaml');
const IO = join(ROOT, 'examples', 'kd', 'io.safetensors');
const dir = mkdtempSync(join(tmpdir(), 'tdc-fuzz-corpus-'));
/** Every input here is answered in about a second; past this it counts as a hang (the process is killed). */
const BOUND_MS = 20_000;

function diagnosed(r: CliResult, code: number, ...patterns: RegExp[]): void {
  const all = r.stdout + r.stderr;
  assert.ok(r.ms < BOUND_MS && r.code !== null, `no answer within ${BOUND_MS} ms (a hang): ${all.slice(0, 500)}`);
  assert.is(r.code, code, `exit ${r.code}: ${all.slice(0, 2000)}`);
  assert.not.ok(hasStackTrace(all), all);
  assert.not.match(all, /internal error/);
  for (const p of patterns) assert.match(r.stderr, p);
}

const run = (args: string[]): CliResult => tdc(args, { timeoutMs: BOUND_MS, cwd: dir });

test('an I64 class index beyond ±2^53 in --inputs: TDC524 at the term with its exact value on the CPU (was exit 70: "I64 value … is not exactly representable")', () => {
  const t = readSafetensors(new Uint8Array(readFileSync(IO))).tensors;
  const y = t.get('targets')!;
  for (const v of [2n ** 62n, -(2n ** 53n) - 1n]) {
    const io = join(dir, `i64-${v}.safetensors`);
    const bad = (y.data as BigInt64Array).map((x, i) => (i === 3 ? v : x));
    writeFileSync(io, writeSafetensors(new Map([...t].filter(([k]) => !k.startsWith('grad/')).map(([k, x]) => [k, k === 'targets' ? { ...y, data: bad } : x]))));
    const r = run(['run', KD, '--inputs', io, '--device', 'cpu']);
    diagnosed(r, 1, new RegExp(`config\\.yaml:131:9 - error TDC524: 'targets' element 3 is ${v}, beyond ±2\\^53`));
    assert.is(r.stdout, '', 'no loss printed');
  }
});

test('compile of a device (/dev/zero) as the config, a --spec or the --like sample: a diagnostic, no endless read (was a hang: the output stamp hashed it)', () => {
  if (!existsSync('/dev/zero')) return;
  diagnosed(run(['compile', '/dev/zero', '-o', 'out-a', '--no-glue']), 1, /TDC100: cannot read '.*dev\/zero': not a regular file/);
  diagnosed(run(['--spec', '/dev/zero', 'compile', KD, '-o', 'out-b', '--no-glue']), 1, /TDC501: cannot read spec file .*dev\/zero: not a regular file/);
  diagnosed(run(['compile', KD, '--like', '/dev/zero', '-o', 'out-c', '--no-glue']), 1, /TDC501: cannot read sample io_dict '\/dev\/zero': not a regular file/);
  for (const o of ['out-a', 'out-b', 'out-c']) assert.not.ok(existsSync(join(dir, o)), `${o} written`);
});

test('a special file of /proc as the config, the --like sample or the --inputs: a clean diagnostic, no EIO text of Node\'s, no endless read (/proc/self/mem was "EIO"; /proc/self/pagemap, size 0 and gigabytes long, was read until memory ran out)', () => {
  if (!existsSync('/proc/self/pagemap')) return; // not Linux
  const mem = /input\/output error \(EIO\)/;
  diagnosed(run(['check', '/proc/self/mem']), 1, /TDC100: cannot read '\/proc\/self\/mem': input\/output error \(EIO\)/, /a special file \(as under \/proc or \/sys\) may refuse to be read/);
  diagnosed(run(['compile', '/proc/self/mem', '-o', 'out-p1', '--no-glue']), 1, mem);
  diagnosed(run(['compile', KD, '--like', '/proc/self/mem', '-o', 'out-p2', '--no-glue']), 1, /TDC501: cannot read sample io_dict '\/proc\/self\/mem': input\/output error \(EIO\)/);
  diagnosed(run(['run', KD, '--inputs', '/proc/self/mem', '--device', 'cpu']), 1, /TDC501: cannot read inputs '\/proc\/self\/mem': input\/output error \(EIO\)/);
  const long = /holds more than 1048576 bytes \(its size says 0\)/;
  diagnosed(run(['check', '/proc/self/pagemap']), 1, new RegExp(`TDC102: '/proc/self/pagemap' ${long.source}`));
  diagnosed(run(['compile', '/proc/self/pagemap', '-o', 'out-p3', '--no-glue']), 1, long);
  diagnosed(run(['compile', KD, '--like', '/proc/self/pagemap', '-o', 'out-p4', '--no-glue']), 1, /TDC501: cannot read sample io_dict '\/proc\/self\/pagemap'/);
  diagnosed(run(['run', KD, '--inputs', '/proc/self/pagemap', '--device', 'cpu']), 1, /TDC501: cannot read inputs '\/proc\/self\/pagemap': it holds more than its size \(0 bytes\) says/);
  for (const o of ['out-p1', 'out-p2', 'out-p3', 'out-p4']) assert.not.ok(existsSync(join(dir, o)), `${o} written`);
});

test('--like a FIFO no one writes to: TDC501 "a pipe that nothing was written to" at once (was a hang opening it), for compile and tune', () => {
  const fifo = join(dir, 'sample.fifo');
  if (spawnSync('mkfifo', [fifo]).status !== 0) return; // no mkfifo on this platform
  diagnosed(run(['compile', KD, '--like', fifo, '-o', 'out-d', '--no-glue']), 1, /TDC501: cannot read sample io_dict '.*sample\.fifo': a pipe that nothing was written to/);
  diagnosed(run(['tune', KD, '--like', fifo]), 1, /TDC501: cannot read sample io_dict '.*sample\.fifo': a pipe that nothing was written to/);
});

test("-o under an existing file (`-o config.yaml/out`, a tdc.config outDir that is a file): TDC651 naming the file, not Node's EEXIST on a mkdir", () => {
  const file = join(dir, 'a-file');
  writeFileSync(file, 'x');
  for (const o of [join(file, 'out'), join(file, 'a', 'b')])
    diagnosed(run(['compile', KD, '-o', o, '--no-glue']), 1, new RegExp(`error TDC651: cannot write '.*a-file/[a-z/]+': '.*a-file' exists and is not a directory`));
  const project = join(dir, 'project');
  mkdirSync(project);
  writeFileSync(join(project, 'kd.yaml'), readFileSync(KD));
  writeFileSync(join(project, 'tdc.config.json'), JSON.stringify({ configs: ['kd.yaml'], outDir: 'kd.yaml' }));
  const r = tdc(['compile', '--no-glue'], { timeoutMs: BOUND_MS, cwd: project });
  diagnosed(r, 1, /error TDC651: cannot write '.*project\/kd\.yaml\/kd': '.*project\/kd\.yaml' exists and is not a directory/);
  assert.not.match(r.stderr, /EEXIST|mkdir/);
  assert.is(readFileSync(join(project, 'kd.yaml'), 'utf8'), readFileSync(KD, 'utf8'), 'the config is untouched');
});

test('a recursive helper in a --spec: TDC413 with the call chain folded (`f ×199`; f ↔ g elided to 7 links), not a 1 000-character line of `f → f → …`', () => {
  const config = join(dir, 'custom.yaml');
  writeFileSync(config, customTermConfig('RecLoss'));
  const helpers = {
    self: 'def f(x) {\n  return f(x)\n}\n',
    mutual: 'def f(x) {\n  return g(x)\n}\ndef g(x) {\n  return f(x)\n}\n',
  };
  for (const [kind, defs] of Object.entries(helpers)) {
    const spec = join(dir, `rec-${kind}.tdl`);
    writeFileSync(spec, defs + customTermSpec('RecLoss', '  return f(mean(s - t))'));
    const r = run(['--spec', spec, 'run', config, '--inputs', IO, '--device', 'cpu']);
    diagnosed(r, 1, /error TDC413: calls nested more than 200 deep/, kind === 'self' ? /related: .*rec-self\.tdl:2:10: inside f ×199\n/ : /inside f → g → f → … 193 more … → f → g → f\n/);
    const longest = Math.max(...r.stderr.split('\n').map((l) => l.length));
    assert.ok(longest < 200, `longest line ${longest} characters`);
  }
});

test('a tdc.config.mjs whose default export throws while it is read (a getter) or is a cycle: TDC670 naming the file, exit 1 (was exit 70, an internal error)', () => {
  const project = join(dir, 'project-getter');
  mkdirSync(project);
  writeFileSync(join(project, 'kd.yaml'), readFileSync(KD));
  const exports = {
    getter: `export default { configs: ['kd.yaml'], get outDir() { throw new TypeError('outDir is not set up yet') } }`,
    cycle: `const c = { configs: ['kd.yaml'] }; c.configs.push(c.configs); export default c`,
  };
  for (const [kind, text] of Object.entries(exports)) {
    writeFileSync(join(project, 'tdc.config.mjs'), text);
    const r = tdc(['compile', '--no-glue'], { timeoutMs: BOUND_MS, cwd: project });
    diagnosed(r, 1, kind === 'getter' ? /error TDC670: cannot load tdc\.config\.mjs: outDir is not set up yet/ : /error TDC670: cannot load tdc\.config\.mjs: its default export contains itself \(a cycle\)/);
    assert.not.ok(existsSync(join(project, 'tdc-generated')), 'nothing written');
  }
});

test.after(() => rmSync(dir, { recursive: true, force: true }));

test.run();
