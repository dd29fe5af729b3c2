// Mutation fuzzing of tdc's command line, as a user drives it: each case writes mutated inputs (a torchdistill
// config, a --spec .tdl file, a safetensors io_dict) into a fresh directory and runs `node bin/tdc.js …` there in
// its own process, bounded by a wall-clock limit. The in-process targets (test/fuzz/targets.ts, `npm run fuzz`)
// exercise the pipeline's functions; this one checks what only the CLI shows: exit codes, what reaches stderr,
// what is left on disk.
//
//   node scripts/fuzz-cli.mjs [--seed S] [--cases N] [--seconds T] [--surface yaml|spec|safetensors|argv]
//                             [--timeout SECS] [--out DIR] [--device]
//
// Each run's outcome is classified; anything but `ok` is a finding:
//   hang          past --timeout (default 20 s; every real input takes < 3 s here)
//   crash         a stack trace, an uncaught error, exit 70 (internal error) or death by a signal
//   raw-driver    Dawn/Tint/WGSL validator text on the output instead of a TDC diagnostic
//   exit-code     exit 0 with an error printed, exit 1 without a TDC error, or a code outside 0/1/2
//   uncoded       an error line without a TDC code
//   half-written  a failed `compile -o` left the output directory changed, or temporary files were left behind
// Findings are deduplicated by class and first message line; each is saved under --out (default
// /tmp/tdc-fuzz-cli) as a directory holding its input files and `repro.sh`. Exit 1 when there is any finding.
// Deterministic for a seed (the inputs; timings decide only `hang`). The GPU path (`run --device gpu`, `tune`) runs
// only with --device: it is slow on software Vulkan.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const TDC = join(ROOT, 'bin', 'tdc.js');
const SHARED = join(ROOT, '..', 'shared');

function arg(name, fallback) {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1] : fallback;
}
const SEED = Number(arg('seed', '33'));
const CASES = Number(arg('cases', '200'));
const SECONDS = Number(arg('seconds', '0'));
const SURFACE = arg('surface', '');
const TIMEOUT_S = Number(arg('timeout', '20'));
const OUT = arg('out', join(tmpdir(), 'tdc-fuzz-cli'));
const GPU = process.argv.includes('--device');

// ---- deterministic randomness (mulberry32) ----------------------------------------------------------------
let state = SEED >>> 0;
function rand() {
  state = (state + 0x6d2b79f5) >>> 0;
  let t = state;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
const int = (n) => Math.floor(rand() * n);
const pick = (xs) => xs[int(xs.length)];
const chance = (p) => rand() < p;

// ---- corpora ----------------------------------------------------------------------------------------------
function walk(dir, ext) {
  if (!existsSync(dir)) return [];
  const out = [];
  for (const n of readdirSync(dir).sort()) {
    const p = join(dir, n);
    if (statSync(p).isDirectory()) out.push(...walk(p, ext));
    else if (n.endsWith(ext)) out.push(p);
  }
  return out;
}
const CONFIGS = walk(join(SHARED, 'torchdistill', 'configs'), '.yaml').map((f) => readFileSync(f, 'utf8'));
const SPECS = walk(join(ROOT, 'src', 'losses-spec'), '.tdl').map((f) => readFileSync(f, 'utf8'));
/** Golden cases: a config and the io_dict it runs on (tdc run --inputs). */
const GOLDEN = readdirSync(join(SHARED, 'golden'))
  .filter((d) => existsSync(join(SHARED, 'golden', d, 'tensors.safetensors')) && existsSync(join(SHARED, 'golden', d, 'config.yaml')))
  .sort()
  .map((d) => ({ config: readFileSync(join(SHARED, 'golden', d, 'config.yaml'), 'utf8'), tensors: readFileSync(join(SHARED, 'golden', d, 'tensors.safetensors')) }));
if (!CONFIGS.length || !GOLDEN.length) {
  process.stderr.write(`fuzz-cli: no corpus under ${SHARED} (torchdistill/configs, golden/)\n`);
  process.exit(2);
}

// a custom mid-level loss (test/helpers/custom-term.ts's layout) and a config using it on the models' outputs
const CUSTOM_SPEC = `mid FuzzLoss(student_module_path: path, student_module_io: io, teacher_module_path: path, teacher_module_io: io, scale: float = 1.0) {
  let s = student[student_module_path][student_module_io]
  let t = teacher[teacher_module_path][teacher_module_io]
  let d = s - t
  return scale * mean(sum(d * d, 1))
}
`;
const CUSTOM_CONFIG = `train:
  criterion:
    key: 'WeightedSumLoss'
    kwargs:
      sub_terms:
        my:
          criterion:
            key: 'FuzzLoss'
            kwargs: {student_module_path: '.', student_module_io: 'output', teacher_module_path: '.', teacher_module_io: 'output', scale: 2.0}
          weight: 1.0
`;
const KD_IO = readFileSync(join(ROOT, 'examples', 'kd', 'io.safetensors'));

// ---- mutators ---------------------------------------------------------------------------------------------
const HOSTILE_SCALARS = [
  '0', '-1', '-0', '1e309', '-1e309', '.nan', '.inf', '-.inf', '99999999999999999999999', '4294967296', '2147483648', '1e-400',
  '0x7fffffffffffffff', '~', 'null', 'true', "''", '[]', '{}', '[[[]]]', "'é𝑥\u202e'", "'\u0000'", '"\\u0000"', '!!binary AAAA',
  '!import_call {}', '!import_call []', '!import_call', '!import_get {key: os.system}', '!join []', '!join [1, [2]]', '!getattr [1]',
  '!unknown_tag x', '!!python/object/apply:os.system ["true"]', '&x 1', '*nope', "'__proto__'", "'constructor'", '<<: 1',
  "'WeightedSumLoss'", "'KDLoss'", "'.'", "'output'", "'none'", "'batchmean'", '[1, 2, 3]', '-5', '1.5', '100000000',
];

function mutateYaml(text) {
  const n = 1 + int(4);
  for (let k = 0; k < n; k++) {
    const lines = text.split('\n');
    const i = int(lines.length);
    switch (int(16)) {
      case 0: lines.splice(i, 1); break; // delete a line (a key, a value)
      case 1: lines.splice(i, 0, lines[int(lines.length)] ?? ''); break; // duplicate a line (duplicate keys)
      case 2: { // replace a scalar value
        const m = /^(\s*(?:- )?[\w.'"/-]+:\s)(.+)$/.exec(lines[i] ?? '');
        if (m) lines[i] = m[1] + pick(HOSTILE_SCALARS);
        else lines[i] = (lines[i] ?? '') + ' ' + pick(HOSTILE_SCALARS);
        break;
      }
      case 3: lines[i] = '\t' + (lines[i] ?? ''); break;
      case 4: return '\ufeff' + lines.join('\r\n');
      case 5: return text.slice(0, int(text.length + 1)); // truncation
      case 6: { // binary garbage spliced in
        const at = int(text.length + 1);
        const g = Array.from({ length: 1 + int(40) }, () => String.fromCharCode(int(256))).join('');
        return text.slice(0, at) + g + text.slice(at);
      }
      case 7: { // deep nesting under one key
        const d = pick([50, 255, 257, 1000, 5000]);
        const m = /^(\s*[\w.'"/-]+:\s)(.+)$/.exec(lines[i] ?? '');
        const deep = chance(0.5) ? '['.repeat(d) + ']'.repeat(d) : '{a: '.repeat(d) + '1' + '}'.repeat(d);
        if (m) lines[i] = m[1] + deep;
        break;
      }
      case 8: { // anchors: a loop, or a billion-laughs prefix aliased from a kwargs value
        const laughs = ['l0: &l0 [x, x, x, x, x, x, x, x, x, x]'];
        for (let j = 1; j < 8; j++) laughs.push(`l${j}: &l${j} [${Array(10).fill(`*l${j - 1}`).join(', ')}]`);
        const m = /^(\s*[\w.'"/-]+:\s)(.+)$/.exec(lines[i] ?? '');
        if (chance(0.5)) {
          lines.unshift(...laughs);
          if (m) lines[i + laughs.length] = m[1] + '*l7';
        } else if (m) lines[i] = m[1] + '&loop [*loop]';
        break;
      }
      case 9: lines[i] = (lines[i] ?? '').replace(/[A-Za-z_]\w*/, (w) => pick([w + 'é', '𝑥' + w, w.toUpperCase(), '', w + w, '\u200b' + w])); break;
      case 10: { // numbers → huge/negative/zero
        lines[i] = (lines[i] ?? '').replace(/-?\b\d+(\.\d+)?\b/g, () => pick(['0', '-1', '-7', '1e308', '1e309', '999999999999', '.nan', '0.0', '3.5']));
        break;
      }
      case 11: { // swap two lines
        const j = int(lines.length);
        [lines[i], lines[j]] = [lines[j] ?? '', lines[i] ?? ''];
        break;
      }
      case 12: lines[i] = (lines[i] ?? '').replace(/^(\s*)/, (s) => s.slice(0, Math.max(0, s.length - 2 * (1 + int(2))))); break; // dedent
      case 13: lines[i] = '  ' + (lines[i] ?? ''); break; // indent
      case 14: { // kwargs: wrong types
        lines[i] = (lines[i] ?? '').replace(/'[^']*'/, () => pick(['1', '[a, b]', '{k: v}', 'null', "'x'", "''", "'..'", "'/'", "'.a.b.c'"]));
        break;
      }
      default: return pick(['', ' ', '\n\n', '---\n---\n', '...', '\u0000', '%YAML 1.1\n---\na: 1', '[1, 2]', 'train: 1', 'train:\n  criterion: []', '- a\n- b', 'a: b: c']);
    }
    text = lines.join('\n');
  }
  return text;
}

const SPEC_TOKENS = [
  'mid', 'low', 'def', 'let', 'if', 'else', 'for', 'in', 'return', 'none', 'true', 'false', 'and', 'or', 'not', 'x', 's', 't', 'd',
  'student', 'teacher', '[', ']', '(', ')', '{', '}', ',', ':', '=', '==', '+', '-', '*', '/', '**', '?', '.', '"s"', '"',
  '1', '2.5', '1e309', '1e-400', '99999999999999999999999', '0', '-0', 'sum', 'mean', 'log_softmax', 'softmax', 'error', 'float',
  'int', 'path', 'io', 'list<float>', '\n', ' ', '#c\n', 'é', '𝑥', 'x\u200b', 'ℵ', '\u202e', '\t', '\r\n', '\\', 'FuzzLoss', 'scale',
];

function tokens(text) {
  return text.match(/\s+|[A-Za-z_]\w*|\d+(\.\d+)?(e-?\d+)?|"[^"\n]*"|\*\*|==|[^\sA-Za-z_\d]/g) ?? [];
}

function mutateSpec(text) {
  const n = 1 + int(3);
  for (let k = 0; k < n; k++) {
    const ts = tokens(text);
    const i = int(ts.length);
    switch (int(10)) {
      case 0: return text.slice(0, int(text.length + 1));
      case 1: { const j = int(ts.length); [ts[i], ts[j]] = [ts[j], ts[i]]; break; }
      case 2: ts.splice(i, 1); break;
      case 3: ts.splice(i, 0, ts[int(ts.length)] ?? ''); break;
      case 4: ts.splice(i, 0, pick(SPEC_TOKENS)); break;
      case 5: { // deep recursion in an expression
        const d = pick([100, 1000, 10000, 100000]);
        const e = pick([`${'('.repeat(d)}d${')'.repeat(d)}`, `${'-'.repeat(d)}d`, `${Array(d).fill('d').join(' + ')}`, `${'sum('.repeat(Math.min(d, 2000))}d${')'.repeat(Math.min(d, 2000))}`, `${'not '.repeat(d)}true`]);
        text = text.replace(/return (.*)/, `return ${e} * 0 + $1`);
        continue;
      }
      case 6: { // huge literals
        text = text.replace(/\b\d+(\.\d+)?\b/, pick(['1e309', '9'.repeat(400), '0.' + '0'.repeat(400) + '1', '-1e309', '1e-400', '4294967296', '0x10']));
        continue;
      }
      case 7: { // unicode identifiers: rename a let binding
        const m = /let (\w+)/.exec(text);
        if (m) text = text.split(m[1]).join(pick(['é', '𝑥', 'x\u200b', 'ℵ0', 'ａ', 'x\u0301', 'Ⅸ', '_', '__proto__', 'constructor']));
        continue;
      }
      case 8: { // many bindings, long chains
        const c = pick([1000, 20000]);
        text = text.replace(/return /, Array.from({ length: c }, (_, j) => `let v${j} = ${j ? `v${j - 1}` : 'd'} * 1.0\n  `).join('') + 'return ');
        continue;
      }
      default: ts[i] = pick(SPEC_TOKENS);
    }
    text = ts.join('');
  }
  return text;
}

// safetensors: parse header, mutate, re-emit
function splitSt(buf) {
  const n = Number(buf.readBigUInt64LE(0));
  return { header: JSON.parse(buf.subarray(8, 8 + n).toString('utf8')), data: buf.subarray(8 + n) };
}
function joinSt(headerText, data, lenOverride) {
  const h = Buffer.from(headerText, 'utf8');
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(lenOverride ?? BigInt(h.length));
  return Buffer.concat([len, h, data]);
}
const DTYPES = ['F64', 'F32', 'F16', 'BF16', 'I64', 'I32', 'I16', 'I8', 'U8', 'U16', 'U32', 'U64', 'BOOL', 'F8_E4M3', 'X', '', 'f32', 7];

function mutateSafetensors(buf) {
  const { header, data } = splitSt(buf);
  const keys = Object.keys(header).filter((k) => k !== '__metadata__');
  const k = chance(0.3) && keys.includes('targets') ? 'targets' : pick(keys);
  const t = header[k];
  let lenOverride;
  let raw;
  let dataOut = data;
  switch (int(18)) {
    case 0: lenOverride = pick([0n, 1n, 7n, 2n ** 64n - 1n, 2n ** 63n, 2n ** 53n + 1n, 100_000_000n, BigInt(buf.length)]); break;
    case 1: t.dtype = pick(DTYPES); break;
    case 2: t.data_offsets = [t.data_offsets[0], t.data_offsets[1] + pick([1, -1, 8, 10_000_000])]; break;
    case 3: t.data_offsets = pick([[0, 0], [-8, 0], [t.data_offsets[1], t.data_offsets[0]], [0, 2 ** 53], [1.5, 9.5], ['0', '8'], [0], null, [1e300, 1e300]]); break;
    case 4: { const o = header[pick(keys)]; t.data_offsets = [...o.data_offsets]; break; } // overlapping
    case 5: t.shape = pick([[], [0], [0, 37], [7, 0], [-1, 37], [null, 37], [1.5, 37], ['7', 37], [2 ** 53, 1], [1e300], [7, 37, 1, 1, 1, 1, 1, 1, 1, 1], null, 'x']); break;
    case 6: t.shape = t.shape.map(() => 0); t.data_offsets = [t.data_offsets[0], t.data_offsets[0]]; break; // zero-size tensor
    case 7: delete header[k]; break;
    case 8: header[k + '\u0000'] = t; break;
    case 9: raw = JSON.stringify(header).slice(0, int(JSON.stringify(header).length)); break; // malformed JSON
    case 10: raw = JSON.stringify(header).replace(/"dtype"/, '"dtype":"F64","dtype"'); break; // duplicate member
    case 11: dataOut = data.subarray(0, int(data.length)); break; // truncated data
    case 12: header.__metadata__ = pick([1, null, [], { a: 1 }, 'x']); break;
    case 13: raw = pick(['', '[]', 'null', '1', '{"a":1}', '{"__proto__":{"dtype":"F64","shape":[1],"data_offsets":[0,8]}}', '\uffff', JSON.stringify(header) + '   ', ' '.repeat(9) + JSON.stringify(header)]); break;
    case 14: { // NaN/Inf written into a tensor's data
      const d = Buffer.from(data);
      const at = t.data_offsets[0] + 8 * int(Math.max(1, (t.data_offsets[1] - t.data_offsets[0]) / 8));
      if (t.dtype === 'F64' && at + 8 <= d.length) d.writeDoubleLE(pick([NaN, Infinity, -Infinity, 1e308, -0]), at);
      if (t.dtype === 'I64' && at + 8 <= d.length) d.writeBigInt64LE(pick([-1n, -100n, 2n ** 62n, -(2n ** 63n), 2n ** 53n + 1n, 1000n]), at);
      dataOut = d;
      break;
    }
    case 15: header[k] = pick([null, 1, [], 'x', { dtype: 'F64' }, { shape: [1], data_offsets: [0, 8] }]); break;
    case 16: for (const kk of keys) if (chance(0.5)) header[kk].shape = [...header[kk].shape].reverse(); break;
    default: return buf.subarray(0, int(buf.length)); // truncated file
  }
  return joinSt(raw ?? JSON.stringify(header), dataOut, lenOverride);
}

// ---- cases ------------------------------------------------------------------------------------------------
const SUBCOMMANDS = ['check', 'inspect', 'list', 'run', 'migrate', 'compile', 'schema', 'doctor', ...(GPU ? ['tune'] : []), 'help', 'nope', ''];
const ODD_VALUES = ['', '-', '--', '=', ' ', 'x', '0', '-1', '1e9', '99999999999', 'NaN', '2000', '1.5', '0x10', 'é', '..', '/', '/dev/null', '/dev/zero', '/proc/self/mem', 'in.yaml/out', 'in.yaml', 'io.safetensors', 'out', '.', 'a=b', 'student/./output=Nx0', 'student/./output=NxN', 'student/./output=0x37', 'N=0', 'N=-1', 'N=99999999999', ',,', '4,8,x', 'train', 'trian', '--json', '--help'];
const FLAGS = ['--json', '--verbose', '--write', '-o', '--out', '--stage', '--name', '--workgroup-size', '--shape', '--like', '--no-glue', '--explain', '--check', '--inputs', '--device', '--grads-out', '--state-out', '--plan-variant', '--size', '--budget', '--runs', '--candidates', '--spec', '--no-color', '-p', '--project', '-h', '-v'];

function yamlCase() {
  const g = chance(0.3) ? pick(GOLDEN) : undefined;
  const text = mutateYaml(g ? g.config : pick(CONFIGS));
  const files = { 'in.yaml': text };
  const cmd = pick(['check', 'check', 'inspect', 'compile', 'migrate', 'run']);
  let argv;
  if (cmd === 'compile') argv = ['compile', 'in.yaml', '-o', 'out', '--no-glue', ...(chance(0.3) ? ['--explain'] : [])];
  else if (cmd === 'migrate') argv = ['migrate', 'in.yaml', ...(chance(0.5) ? ['--write'] : [])];
  else if (cmd === 'run') {
    files['io.safetensors'] = (g ?? GOLDEN[0]).tensors;
    argv = ['run', 'in.yaml', '--inputs', 'io.safetensors', '--device', 'cpu', ...(chance(0.3) ? ['--json'] : [])];
  } else argv = [cmd, 'in.yaml', ...(chance(0.4) ? ['--json'] : [])];
  return { surface: 'yaml', files, argv };
}

function specCase() {
  const custom = chance(0.6);
  const spec = mutateSpec(custom ? CUSTOM_SPEC : pick(SPECS));
  const files = { 'f.tdl': spec, 'in.yaml': CUSTOM_CONFIG, 'io.safetensors': KD_IO };
  const tail = pick([['check', 'in.yaml'], ['list'], ['schema'], ['run', 'in.yaml', '--inputs', 'io.safetensors', '--device', 'cpu'], ['compile', 'in.yaml', '-o', 'out', '--no-glue'], ['inspect', 'in.yaml']]);
  return { surface: 'spec', files, argv: ['--spec', 'f.tdl', ...tail] };
}

function safetensorsCase() {
  const g = chance(0.7) ? pick(GOLDEN) : { config: readFileSync(join(ROOT, 'examples', 'kd', 'config.yaml'), 'utf8'), tensors: KD_IO };
  const files = { 'in.yaml': g.config, 'io.safetensors': mutateSafetensors(g.tensors) };
  const argv = pick([
    ['run', 'in.yaml', '--inputs', 'io.safetensors', '--device', 'cpu'],
    ['run', 'in.yaml', '--inputs', 'io.safetensors', '--device', 'cpu', '--json', '--grads-out', 'g.safetensors'],
    ['compile', 'in.yaml', '--like', 'io.safetensors', '-o', 'out', '--no-glue'],
    ...(GPU ? [['run', 'in.yaml', '--inputs', 'io.safetensors', '--device', 'gpu']] : []),
  ]);
  return { surface: 'safetensors', files, argv };
}

function argvCase() {
  const files = { 'in.yaml': readFileSync(join(ROOT, 'examples', 'kd', 'config.yaml'), 'utf8'), 'io.safetensors': KD_IO, 'f.tdl': CUSTOM_SPEC };
  const argv = [];
  if (chance(0.2)) argv.push('--spec', pick(['f.tdl', 'in.yaml', 'io.safetensors', 'missing.tdl', '', '.']));
  argv.push(pick(SUBCOMMANDS));
  const n = int(6);
  for (let i = 0; i < n; i++) {
    if (chance(0.35)) argv.push(pick(['in.yaml', 'io.safetensors', '.', 'missing.yaml', 'f.tdl']));
    else {
      argv.push(pick(FLAGS));
      if (chance(0.75)) argv.push(pick(ODD_VALUES));
    }
  }
  if (chance(0.3) && !argv.includes('out')) files['out/keep.txt'] = 'a file the user had here\n';
  return { surface: 'argv', files, argv };
}

const MAKERS = { yaml: yamlCase, spec: specCase, safetensors: safetensorsCase, argv: argvCase };
const ORDER = SURFACE ? [SURFACE] : ['yaml', 'spec', 'safetensors', 'argv'];
if (ORDER.some((s) => !MAKERS[s])) {
  process.stderr.write(`fuzz-cli: --surface is one of ${Object.keys(MAKERS).join(', ')}\n`);
  process.exit(2);
}

// ---- running and classifying ------------------------------------------------------------------------------
function snapshot(dir) {
  const out = {};
  for (const f of walk(dir, '')) out[relative(dir, f)] = readFileSync(f).toString('base64');
  return out;
}

const RAW_DRIVER = /\bTint\b|tint::|GPUValidationError|GPUPipelineError|\[Invalid \w+|VK_ERROR|vk[A-Z]\w+\(|error while parsing WGSL|wgpu::/;
const STACK = /^\s+at (?:.+ \()?(?:file:|node:|\/).*:\d+:\d+\)?$/m;
const UNCAUGHT = /^(?:\w*Error|Uncaught \w+)(?: \[\w+\])?: /m;

function classify(c, r, dir, before) {
  const out = (r.stdout ?? '') + (r.stderr ?? '');
  const err = r.stderr ?? '';
  if (r.error?.code === 'ETIMEDOUT' || (r.signal === 'SIGTERM' && r.status === null)) return ['hang', `no exit within ${TIMEOUT_S} s`];
  if (r.signal) return ['crash', `killed by ${r.signal}`];
  if (STACK.test(out) || UNCAUGHT.test(err)) return ['crash', (UNCAUGHT.exec(err)?.[0] ?? '') + (err.split('\n').find((l) => l.trim()) ?? '')];
  if (r.status === 70) return ['crash', `exit 70: ${err.split('\n').find((l) => /TDC\d{3}/.test(l)) ?? err.split('\n')[0]}`];
  if (RAW_DRIVER.test(out)) return ['raw-driver', RAW_DRIVER.exec(out)[0] + ': ' + (out.split('\n').find((l) => RAW_DRIVER.test(l)) ?? '')];
  if (![0, 1, 2].includes(r.status)) return ['exit-code', `exit ${r.status}`];
  const errLines = err.split('\n').filter((l) => /\berror\b/i.test(l) && /^(\S+:\d+:\d+ - )?error\b|^error:/.test(l.trim()));
  const coded = errLines.filter((l) => /TDC\d{3}/.test(l));
  if (errLines.some((l) => !/TDC\d{3}/.test(l) && !/^error: (unknown|option|missing|too many|required|command|argument)/.test(l.trim())))
    return ['uncoded', errLines.find((l) => !/TDC\d{3}/.test(l))];
  if (r.status === 0 && coded.length) return ['exit-code', `exit 0 after ${coded[0]}`];
  if (r.status === 1 && !coded.length && !/differ|stale|"code": "TDC\d{3}"/.test(out)) return ['exit-code', `exit 1 without a TDC error: ${err.split('\n')[0] || out.split('\n')[0]}`];
  const after = snapshot(dir);
  const leftovers = Object.keys(after).filter((f) => /\.tdc-tmp|\.new$|\.old$|\.tmp$/.test(f));
  if (leftovers.length) return ['half-written', `temporary files left: ${leftovers.join(', ')}`];
  if (r.status !== 0 && (c.argv.includes('-o') || c.argv.includes('--out'))) {
    const changed = Object.keys({ ...before, ...after }).filter((f) => f.startsWith('out') && before[f] !== after[f] && !(c.argv.includes('--check')));
    if (r.status !== 0 && changed.length) return ['half-written', `failed run changed ${changed.slice(0, 3).join(', ')}`];
  }
  return ['ok', ''];
}

function runCase(c, dir) {
  for (const [name, content] of Object.entries(c.files)) {
    mkdirSync(dirname(join(dir, name)), { recursive: true });
    writeFileSync(join(dir, name), content);
  }
  const before = snapshot(dir);
  const env = { ...process.env, TDC_TUNING_CACHE: 'off', FORCE_COLOR: '0', NO_COLOR: '1', TDC_DEBUG: '' };
  const t0 = performance.now();
  const r = spawnSync(process.execPath, [TDC, ...c.argv], { cwd: dir, env, encoding: 'utf8', timeout: TIMEOUT_S * 1000, killSignal: 'SIGKILL', maxBuffer: 64 << 20 });
  const ms = performance.now() - t0;
  if (r.error?.code === 'ETIMEDOUT' || (r.signal === 'SIGKILL' && ms >= TIMEOUT_S * 1000 - 50)) return { kind: 'hang', what: `no exit within ${TIMEOUT_S} s`, ms, r };
  const [kind, what] = classify(c, r, dir, before);
  return { kind, what, ms, r };
}

const shq = (s) => (/^[\w./=@:,+-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`);

function save(c, res, key) {
  const d = join(OUT, `${res.kind}-${String(Object.keys(seen).length).padStart(3, '0')}`);
  rmSync(d, { recursive: true, force: true });
  mkdirSync(d, { recursive: true });
  for (const [name, content] of Object.entries(c.files)) {
    mkdirSync(dirname(join(d, name)), { recursive: true });
    writeFileSync(join(d, name), content);
  }
  writeFileSync(join(d, 'repro.sh'), `#!/bin/sh\n# ${res.kind}: ${key}\ncd "$(dirname "$0")" && node ${shq(TDC)} ${c.argv.map(shq).join(' ')}\n`);
  writeFileSync(join(d, 'output.txt'), `exit ${res.r.status} signal ${res.r.signal} ${Math.round(res.ms)} ms\n--- stdout\n${res.r.stdout ?? ''}\n--- stderr\n${res.r.stderr ?? ''}`);
  return d;
}

mkdirSync(OUT, { recursive: true });
const seen = {};
const counts = {};
const started = performance.now();
let ran = 0;
for (let i = 0; SECONDS > 0 ? (performance.now() - started) / 1000 < SECONDS : i < CASES; i++) {
  const surface = ORDER[i % ORDER.length];
  const c = MAKERS[surface]();
  const dir = mkdtempSync(join(tmpdir(), 'tdc-fuzz-case-'));
  let res;
  try {
    res = runCase(c, dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  ran++;
  counts[surface] = counts[surface] ?? { ran: 0, findings: 0 };
  counts[surface].ran++;
  if (res.kind === 'ok') continue;
  counts[surface].findings++;
  const key = `${res.kind}: ${res.what.replace(/\d+/g, 'N').replace(/'[^']*'/g, "'…'").slice(0, 160)}`;
  if (seen[key]) {
    seen[key].n++;
    continue;
  }
  seen[key] = { n: 1, dir: save(c, res, key) };
  process.stdout.write(`${surface.padEnd(11)} case ${i}: ${res.kind}: ${res.what.slice(0, 200)}\n  → ${seen[key].dir}/repro.sh\n`);
}
const secs = ((performance.now() - started) / 1000).toFixed(0);
process.stdout.write(`fuzz-cli: ${ran} cases in ${secs} s, seed ${SEED}; ${Object.entries(counts).map(([s, v]) => `${s} ${v.ran} (${v.findings} findings)`).join(', ')}\n`);
process.stdout.write(`${Object.keys(seen).length} distinct findings${Object.keys(seen).length ? `, saved under ${OUT}` : ''}\n`);
for (const [k, v] of Object.entries(seen)) process.stdout.write(`  ${v.n}× ${k}\n`);
process.exitCode = Object.keys(seen).length ? 1 : 0;
