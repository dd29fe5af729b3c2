// Fuzz targets (fast-check properties) shared by `npm run fuzz` (long, seeded runs) and test/fuzz.test.ts (a
// bounded slice in `npm test`). Every target runs the real pipeline stage in process and asserts the contract:
// no exception escapes, no "internal error" diagnostic, every error is a coded diagnostic, each input within a
// time bound (a hang is a failure).
//   configs-mutated    the 282 real torchdistill configs, mutated (bytes, lines, hostile tokens, huge numbers)
//                      → load → resolve → instantiate
//   configs-generated  configs built from the registry's signatures: a random mid-level loss with random
//                      (well- and ill-typed) kwargs, wrappers and weights → load → resolve → instantiate
//   specs              random spec programs from the grammar's tokens + mutations of the built-in .tdl files
//                      → parse → static checks
//   safetensors        safetensors headers (random and mutated JSON, lengths, offsets) → readSafetensors:
//                      a SafetensorsError or a result whose tensors match their declared sizes
//   differential-spec  small random well-typed spec programs on random inputs: CPU executor vs central finite
//                      differences (float64) vs the GPU path (float32, golden tolerances); see differential-spec.ts
import fc from 'fast-check';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig } from '../../src/compiler/load/load.js';
import { checkConfig as resolveConfig } from '../../src/compiler/driver/check.js';
import { instantiateStage } from '../../src/compiler/instantiate/index.js';
import { defaultInputShape } from '../../src/compiler/compile.js';
import { parseSpecText } from '../../src/registry/parse.js';
import { checkSpec } from '../../grammar/check.js';
import { listRegistry } from '../../src/registry/registry.js';
import { readSafetensors, SafetensorsError } from 'tdc-runtime';
import { CONFIGS, ROOT } from '../helpers/cli.js';
import type { Diagnostic } from '../../src/diagnostics/index.js';
import { differentialCase, differentialContract, disposeDifferential } from './differential-spec.js';

/** Per-input time bound: far above any real input (≤ 0.2 s); past it the input counts as a hang. */
export const INPUT_MS = 10_000;

function walk(dir: string, ext: string): string[] {
  const out: string[] = [];
  for (const n of readdirSync(dir).sort()) {
    const p = join(dir, n);
    if (statSync(p).isDirectory()) out.push(...walk(p, ext));
    else if (n.endsWith(ext)) out.push(p);
  }
  return out;
}

let configTexts: string[] | undefined;
const realConfigs = (): string[] => (configTexts ??= walk(CONFIGS, '.yaml').map((f) => readFileSync(f, 'utf8')));
let specTexts: string[] | undefined;
const builtinSpecs = (): string[] => (specTexts ??= walk(join(ROOT, 'src', 'losses-spec'), '.tdl').map((f) => readFileSync(f, 'utf8')));

export class ContractViolation extends Error {
  override name = 'ContractViolation';
}

function checkDiagnostics(ds: readonly Diagnostic[], what: string): void {
  for (const d of ds) {
    if (!/^TDC\d{3}$/.test(d.code)) throw new ContractViolation(`${what}: diagnostic without a code: ${JSON.stringify(d)}`);
    if (/internal error/i.test(d.message)) throw new ContractViolation(`${what}: ${d.code} ${d.message}`);
  }
}

function timed<T>(what: string, fn: () => T): T {
  const t0 = performance.now();
  const r = fn();
  const ms = performance.now() - t0;
  if (ms > INPUT_MS) throw new ContractViolation(`${what}: took ${Math.round(ms)} ms (bound ${INPUT_MS})`);
  return r;
}

/** load → resolve → instantiate every stage with the default symbolic shapes; the contract holds throughout. */
export function pipeline(text: string): void {
  timed('config', () => {
    const loaded = loadConfig(text, 'fuzz.yaml');
    checkDiagnostics(loaded.diagnostics, 'load');
    if (loaded.diagnostics.some((d) => d.severity === 'error')) return;
    const r = resolveConfig(loaded.config);
    checkDiagnostics(r.diagnostics, 'resolve');
    if (r.diagnostics.some((d) => d.severity === 'error')) return;
    for (const stage of r.ir.stages) {
      const inst = instantiateStage(stage, (n) => defaultInputShape(n), { modelLossKeys: ['loss'] });
      checkDiagnostics(inst.diagnostics, `instantiate ${stage.name}`);
    }
  });
}

const HOSTILE_TOKENS = [
  '*/', '\n', '\u2028', "'", '"', '`${x}`', '__proto__', 'constructor', '!!python/object:os.system', '&a', '*a', '<<: *a',
  '1e309', '-1e309', '.nan', '.inf', '-.inf', '1000000000', '-1', '0', '0.0', '~', 'null', '[]', '{}', '[[[[[[[[', ']]]]',
  '\t', '\0', '#', ': ', '- ', '? ', '|', '>', '!join', '!import_call', 'stage1:', 'criterion:', 'key:', 'kwargs:',
];

/** A mutation of one real config: byte edits, line deletion/duplication/swap, hostile token insertion, number swaps. */
export const mutatedConfig: fc.Arbitrary<string> = fc
  .tuple(fc.nat(), fc.array(fc.tuple(fc.nat(5), fc.nat(), fc.nat(), fc.constantFrom(...HOSTILE_TOKENS)), { minLength: 1, maxLength: 6 }))
  .map(([which, edits]) => {
    const all = realConfigs();
    let text = all[which % all.length]!;
    for (const [kind, a, b, tok] of edits) {
      const lines = text.split('\n');
      const i = a % Math.max(1, lines.length);
      const j = b % Math.max(1, lines.length);
      const at = a % Math.max(1, text.length);
      switch (kind) {
        case 0:
          text = text.slice(0, at) + tok + text.slice(at);
          break;
        case 1:
          lines.splice(i, 1);
          text = lines.join('\n');
          break;
        case 2:
          lines.splice(i, 0, lines[j] ?? '');
          text = lines.join('\n');
          break;
        case 3:
          text = text.slice(0, at) + String.fromCharCode(b % 256) + text.slice(at + 1);
          break;
        case 4:
          text = text.replace(/\b\d+(\.\d+)?\b/g, (m, _f, off: number) => (off % 7 === b % 7 ? tok : m));
          break;
        default:
          [lines[i], lines[j]] = [lines[j] ?? '', lines[i] ?? ''];
          text = lines.join('\n');
      }
    }
    return text;
  });

// ---- structure-aware configs from the registry's signatures -------------------------------------------

type ParamLike = { name: string; type: { kind: string; name?: string; values?: string[]; inner?: unknown; elem?: unknown; value?: unknown }; default?: unknown };

let mids: { key: string; params: ParamLike[] }[] | undefined;
const midLosses = (): { key: string; params: ParamLike[] }[] =>
  (mids ??= listRegistry()
    .filter((e) => e.level === 'mid')
    .map((e) => ({ key: e.key, params: e.decl.params as unknown as ParamLike[] })));

const yamlScalar = fc.oneof(
  fc.integer({ min: -3, max: 10 }).map(String),
  fc.constantFrom('0.5', '1.0', '4.0', '1e-8', '.nan', '.inf', '-.inf', '0', '1000000000', "'mean'", "'sum'", "'batchmean'", "'none'", "'.'", "'layer1'", "'output'", "'input'", 'null', 'true', '[1, 2]', '[]', '{}', "'__proto__'"),
);

/** A value for a parameter: usually of its declared type, sometimes anything. */
function valueFor(p: ParamLike): fc.Arbitrary<string> {
  const t = p.type.kind === 'optional' ? (p.type.inner as ParamLike['type']) : p.type;
  const typed: fc.Arbitrary<string> =
    t.kind === 'literals' && t.values?.length
      ? fc.constantFrom(...t.values.map((v) => `'${v}'`))
      : t.kind === 'prim' && (t.name === 'float' || t.name === 'int')
        ? fc.oneof(fc.double({ min: -10, max: 10, noNaN: true }).map((x) => (t.name === 'int' ? String(Math.round(x)) : x.toFixed(3))), fc.constantFrom('0', '1', '2'))
        : t.kind === 'prim' && t.name === 'path'
          ? fc.constantFrom("'.'", "'layer1'", "'layer2'", "'fc'")
          : t.kind === 'prim' && t.name === 'io'
            ? fc.constantFrom("'output'", "'input'")
            : t.kind === 'prim' && t.name === 'bool'
              ? fc.constantFrom('true', 'false')
              : t.kind === 'prim' && t.name === 'str'
                ? fc.constantFrom("'mean'", "'sum'", "'batchmean'", "'none'")
                : yamlScalar;
  return fc.oneof({ weight: 30, arbitrary: typed }, { weight: 1, arbitrary: yamlScalar });
}

export const generatedConfig: fc.Arbitrary<string> = fc
  .tuple(fc.nat(), fc.nat(), fc.integer({ min: 1, max: 2 }), fc.double({ min: -2, max: 2, noNaN: true }))
  .chain(([which, seed, nTerms, weight]) => {
    const all = midLosses();
    const terms = Array.from({ length: nTerms }, (_, i) => all[(which + i * 7 + seed) % all.length]!);
    return fc
      .tuple(
        ...terms.map((t) =>
          fc.tuple(
            ...t.params.map((p) =>
              fc.tuple(fc.constant(p.name), p.default === undefined ? valueFor(p) : fc.oneof({ weight: 2, arbitrary: valueFor(p) }, { weight: 1, arbitrary: fc.constant('<omit>') })),
            ),
          ),
        ),
      )
      .map((kwargsPerTerm) => {
        const sub = terms
          .map((t, i) => {
            const kw = (kwargsPerTerm[i] as [string, string][]).filter(([, v]) => v !== '<omit>').map(([k, v]) => `              ${k}: ${v}`);
            return `        t${i}:\n          criterion:\n            key: '${t.key}'\n            kwargs:${kw.length ? '\n' + kw.join('\n') : ' {}'}\n          weight: ${weight.toFixed(3)}\n`;
          })
          .join('');
        const hooks = "{input: ['layer1', 'layer2', 'fc'], output: ['.', 'layer1', 'layer2', 'fc']}";
        return `train:\n  teacher:\n    forward_hook: ${hooks}\n  student:\n    forward_hook: ${hooks}\n  criterion:\n    key: 'WeightedSumLoss'\n    kwargs:\n      sub_terms:\n${sub}`;
      });
  });

// ---- spec programs --------------------------------------------------------------------------------------

const SPEC_TOKENS = [
  'mid', 'low', 'def', 'let', 'if', 'else', 'for', 'in', 'return', 'none', 'true', 'false', 'and', 'or', 'not', 'X', 'x', 'y',
  'student', 'teacher', '[', ']', '(', ')', '{', '}', ',', ':', '=', '==', '+', '-', '*', '/', '**', '?', '??', '.', '"s"',
  '1', '2.5', '1e9', 'range', 'sum', 'mean', 'log_softmax', 'error', 'float', 'path', 'io', 'list<float>', '\n', ' ', '#c\n',
];

export const specProgram: fc.Arbitrary<string> = fc.oneof(
  fc.array(fc.constantFrom(...SPEC_TOKENS), { maxLength: 80 }).map((ts) => ts.join(' ')),
  fc.tuple(fc.nat(), fc.array(fc.tuple(fc.nat(), fc.constantFrom(...SPEC_TOKENS), fc.boolean()), { minLength: 1, maxLength: 5 })).map(([which, edits]) => {
    const all = builtinSpecs();
    let text = all[which % all.length]!;
    for (const [at, tok, del] of edits) {
      const i = at % Math.max(1, text.length);
      text = del ? text.slice(0, i) + text.slice(i + tok.length) : text.slice(0, i) + tok + text.slice(i);
    }
    return text;
  }),
);

export function specContract(text: string): void {
  timed('spec', () => {
    const parsed = parseSpecText(text, 'fuzz.tdl');
    checkDiagnostics(parsed.diagnostics, 'parse');
    if (parsed.diagnostics.some((d) => d.severity === 'error')) return;
    checkDiagnostics(checkSpec(parsed.spec, {}), 'check');
  });
}

// ---- safetensors headers --------------------------------------------------------------------------------

const jsonish = fc.oneof(
  fc.json({ maxDepth: 3 }),
  fc
    .record({
      name: fc.constantFrom('a', 'targets', '__proto__', '', 'x'.repeat(300)),
      dtype: fc.constantFrom('F32', 'F64', 'I64', 'I32', 'F16', 'BF16', 'U8', 'f32', 7),
      shape: fc.array(fc.oneof(fc.integer({ min: -2, max: 5 }), fc.constant(2 ** 40), fc.constant(1.5)), { maxLength: 4 }),
      begin: fc.integer({ min: -4, max: 64 }),
      len: fc.integer({ min: -4, max: 64 }),
    })
    .map(({ name, dtype, shape, begin, len }) => JSON.stringify({ [name]: { dtype, shape, data_offsets: [begin, begin + len] } })),
);

export const safetensorsFile: fc.Arbitrary<Uint8Array> = fc
  .tuple(jsonish, fc.oneof(fc.constant(-1), fc.integer({ min: 0, max: 200 }), fc.constant(2 ** 40)), fc.uint8Array({ maxLength: 64 }))
  .map(([header, lenOverride, body]) => {
    const h = new TextEncoder().encode(header);
    const n = lenOverride === -1 ? h.length : lenOverride;
    const out = new Uint8Array(8 + h.length + body.length);
    new DataView(out.buffer).setBigUint64(0, BigInt(n), true);
    out.set(h, 8);
    out.set(body, 8 + h.length);
    return out;
  });

export function safetensorsContract(buf: Uint8Array): void {
  timed('safetensors', () => {
    let r;
    try {
      r = readSafetensors(buf);
    } catch (e) {
      if (e instanceof SafetensorsError) return;
      throw new ContractViolation(`readSafetensors threw ${(e as Error)?.name}: ${(e as Error)?.message}`);
    }
    for (const [name, t] of r.tensors) {
      const n = t.shape.reduce((a, b) => a * b, 1);
      if (t.data.length !== n) throw new ContractViolation(`tensor '${name}': ${t.data.length} elements for shape [${t.shape}]`);
    }
  });
}

export interface FuzzTarget {
  name: string;
  property: () => fc.IPropertyWithHooks<[unknown]> | fc.IProperty<[unknown]>;
  /** Relative cost: the share of a run's inputs it gets is inversely proportional. */
  weight: number;
  /** Releases what the target's runs shared (a GPU runtime); called once after them. */
  dispose?: () => Promise<void>;
}

export const TARGETS: FuzzTarget[] = [
  { name: 'configs-mutated', property: () => fc.property(mutatedConfig, pipeline) as never, weight: 3 },
  { name: 'configs-generated', property: () => fc.property(generatedConfig, pipeline) as never, weight: 3 },
  { name: 'specs', property: () => fc.property(specProgram, specContract) as never, weight: 2 },
  { name: 'safetensors', property: () => fc.property(safetensorsFile, safetensorsContract) as never, weight: 1 },
  // each input is a GPU run (≈ 1 s on lavapipe): the default 2000-input campaign gives it 100
  { name: 'differential-spec', property: () => fc.asyncProperty(differentialCase, differentialContract) as never, weight: 20, dispose: disposeDifferential },
];
