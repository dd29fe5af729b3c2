// Finding, loading and validating tdc.config. `.json` is parsed; `.mjs`/`.js` imported; `.ts`/`.mts` transpiled
// with TypeScript (no type check) into a temporary module beside the file, so its imports resolve as they
// would from the file itself, then imported. Problems are diagnostics positioned in the tdc.config file.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { rm, writeFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { basename, dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { diag, hasErrors, type Diagnostic, type Span } from '../diagnostics/index.js';
import { closest } from '../diagnostics/suggest.js';
import { isModuleStem, moduleNameOf, type CompileConfigOptions } from '../api/compile.js';
import { dimsFromArray, parsePinned } from '../api/shapes.js';
import { DEFAULT_OUT_DIR, PROJECT_CONFIG_NAMES, type TdcConfig } from './define-config.js';
import { locateInSource, type ConfigPath } from './locate.js';
import { MAX_PINNED_WORKGROUP_SIZE } from '../compiler/schedule/workgroup.js';

/** One config of a loaded project, every path absolute and every default applied. */
export interface ProjectEntry {
  /** The torchdistill config. */
  config: string;
  /** Glue module stem (and, under a shared root, the subfolder name). */
  name: string;
  /** Its output directory. */
  out: string;
  /** Only this training stage (default: every stage). */
  stage?: string;
  /** Pinned input shapes (`{ name: 'NxC' }`, or `--shape` arguments). */
  shapes?: CompileConfigOptions['shapes'];
  /** A sample io_dict (safetensors) to take input shapes from. */
  like?: string;
  /** Pins the row/serial kernels' workgroup size (else the runtime chooses per adapter). */
  workgroupSize?: number;
  /** Spec files (.tdl) registered for this config (the project's, then its own). */
  specs: string[];
  /** Emit the TypeScript glue (default true). */
  glue?: boolean;
}

export interface Project {
  /** The tdc.config file (absolute), or a label such as `<plugin options>`. */
  file: string;
  /** Its directory: relative paths in the config and in generated files are relative to it. */
  root: string;
  entries: ProjectEntry[];
}

/** The tdc.config file in `dir`, if there is one. */
export function findProjectConfig(dir: string): string | undefined {
  for (const n of PROJECT_CONFIG_NAMES) {
    const p = join(dir, n);
    if (existsSync(p) && statSync(p).isFile()) return p;
  }
  return undefined;
}

/** Loads and validates a tdc.config file. Never throws for bad input. */
export async function loadProject(file: string): Promise<{ project?: Project; diagnostics: Diagnostic[] }> {
  const abs = resolve(file);
  let text: string;
  try {
    text = readFileSync(abs, 'utf8');
  } catch (e) {
    return { diagnostics: [diag('error', 'TDC670', `cannot read ${file}: ${(e as Error).message}`)] };
  }
  const shown = displayPath(abs);
  let value: unknown;
  try {
    value = await evaluate(abs, text);
  } catch (e) {
    return { diagnostics: [await loadError(abs, shown, text, e)] };
  }
  return projectFromConfig(value as TdcConfig, dirname(abs), shown, (path, key) => locateInSource(shown, text, path, abs, key));
}

/**
 * A validated TdcConfig (e.g. the bundler plugin's inline options) → a project rooted at `root`. Checks what needs
 * the file system or the whole list: unique names per output root, output directories that do not nest.
 */
export async function projectFromConfig(
  config: TdcConfig,
  root: string,
  file = '<tdc options>',
  locate: (path: ConfigPath, key: boolean) => Promise<Span | undefined> = async () => undefined,
): Promise<{ project?: Project; diagnostics: Diagnostic[] }> {
  const issues: Issue[] = [];
  const valid = validate(config, issues);
  const problem = async (i: Issue, code = 'TDC671'): Promise<Diagnostic> => {
    const span = await locate(i.path, i.key === true);
    return diag('error', code, `${span ? '' : `${file}: `}${pathText(i.path)}${i.message}`, span, i.hint ? { hint: i.hint } : undefined);
  };
  const ds: Diagnostic[] = await Promise.all(issues.map((i) => problem(i)));
  if (!valid) return { diagnostics: ds };
  const at = (p: string): string => (isAbsolute(p) ? p : resolve(root, p));
  const outRoot = at(valid.outDir ?? DEFAULT_OUT_DIR);
  const entries: ProjectEntry[] = valid.configs.map((c) => {
    const e = typeof c === 'string' ? { config: c } : c;
    const name = e.name ?? moduleNameOf(e.config);
    return {
      config: at(e.config),
      name,
      out: e.out !== undefined ? at(e.out) : join(outRoot, name),
      ...(e.stage !== undefined ? { stage: e.stage } : {}),
      ...(e.shapes !== undefined ? { shapes: e.shapes } : {}),
      ...(e.like !== undefined ? { like: at(e.like) } : {}),
      ...((e.workgroupSize ?? valid.workgroupSize) !== undefined ? { workgroupSize: (e.workgroupSize ?? valid.workgroupSize)! } : {}),
      specs: [...(valid.specs ?? []), ...(e.specs ?? [])].map(at),
    };
  });
  for (const [i, e] of entries.entries()) {
    const at = typeof valid.configs[i] === 'string' ? ['configs', i] : ['configs', i, 'config'];
    if (!existsSync(e.config))
      ds.push(await problem({ path: at, message: `no such config file: ${displayPath(e.config)}`, hint: 'was it moved or deleted? Fix the path, or remove this entry' }, 'TDC672'));
    for (let j = 0; j < i; j++) {
      const o = entries[j]!;
      if (o.out === e.out)
        ds.push(await problem({ path: ['configs', i], message: `configs[${j}] and configs[${i}] both write ${displayPath(e.out)}`, hint: "give one of them another 'name' (its subfolder) or 'out'" }));
      else if (inside(e.out, o.out) || inside(o.out, e.out))
        ds.push(await problem({ path: ['configs', i], message: `the output directories of configs[${j}] (${displayPath(o.out)}) and configs[${i}] (${displayPath(e.out)}) nest; each must be its own directory` }));
    }
  }
  if (hasErrors(ds)) return { diagnostics: ds };
  return { project: { file, root, entries }, diagnostics: ds };
}

const inside = (child: string, parent: string): boolean => {
  const r = relative(parent, child);
  return r !== '' && !r.startsWith('..') && !isAbsolute(r);
};

/** A path for messages, as tsc prints them: relative to the working directory (up to two levels above it). */
export function displayPath(abs: string): string {
  const r = relative(process.cwd(), abs);
  const up = r.split(/[\\/]/).filter((s) => s === '..').length;
  return r && !isAbsolute(r) && up <= 2 ? r : abs;
}

async function evaluate(abs: string, text: string): Promise<unknown> {
  if (abs.endsWith('.json')) return JSON.parse(text) as unknown;
  let moduleFile = abs;
  let temp: string | undefined;
  if (/\.m?ts$/.test(abs)) {
    const { ts } = await import('ts-morph');
    const out = ts.transpileModule(text, {
      fileName: abs,
      compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022, verbatimModuleSyntax: false, isolatedModules: true },
    });
    temp = join(dirname(abs), `.${basename(abs)}.${process.pid}.${randomBytes(4).toString('hex')}.mjs`);
    await writeFile(temp, out.outputText);
    moduleFile = temp;
  }
  try {
    // A query makes each load a fresh module, so watch mode sees edits.
    const mod = (await import(`${pathToFileURL(moduleFile).href}?t=${Date.now()}.${randomBytes(3).toString('hex')}`)) as { default?: unknown };
    return ownData(mod.default);
  } finally {
    if (temp) await rm(temp, { force: true });
  }
}

/** The default export read once, here, into plain data (own enumerable properties, arrays, primitives): code the
 *  config runs while being read (a getter that throws, a Proxy, a cycle) fails as loading it, a TDC670, instead of
 *  inside tdc's validation later. */
function ownData(v: unknown, within: readonly object[] = []): unknown {
  if (v === null || typeof v !== 'object') return v;
  if (within.includes(v)) throw new Error('its default export contains itself (a cycle)');
  if (within.length >= 64) throw new Error('its default export nests more than 64 levels deep');
  const inner = [...within, v];
  if (Array.isArray(v)) return v.map((x) => ownData(x, inner));
  return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, ownData(x, inner)]));
}

async function loadError(abs: string, shown: string, text: string, e: unknown): Promise<Diagnostic> {
  const msg = e instanceof Error ? e.message : String(e);
  if (abs.endsWith('.json') && e instanceof SyntaxError) {
    const { spanFromOffsets } = await import('../diagnostics/index.js');
    const off = Math.min(await jsonErrorOffset(text, msg), text.length);
    return diag('error', 'TDC670', `${shown} is not valid JSON: ${msg.replace(/ in JSON at position \d+.*$/s, '').replace(/, ".*" is not valid JSON$/s, '')}`, spanFromOffsets(shown, text, off, off + 1));
  }
  const where = e instanceof Error && e.stack ? firstFrameIn(e.stack, abs) : '';
  return diag('error', 'TDC670', `cannot load ${shown}: ${msg}${where}`);
}

/** Where JSON.parse failed: from its message when it says, else from TypeScript's JSON parser. */
async function jsonErrorOffset(text: string, msg: string): Promise<number> {
  const m = /position (\d+)/.exec(msg);
  if (m) return Number(m[1]);
  try {
    const { ts } = await import('ts-morph');
    const sf = ts.parseJsonText('tdc.config.json', text) as unknown as { parseDiagnostics?: { start?: number }[] };
    return sf.parseDiagnostics?.[0]?.start ?? 0;
  } catch {
    return 0;
  }
}

function firstFrameIn(stack: string, abs: string): string {
  const line = stack.split('\n').find((l) => l.includes(basename(abs)));
  const m = line ? /:(\d+):(\d+)\)?$/.exec(line) : null;
  return m ? ` (at line ${m[1]})` : '';
}

// ---- validation ---------------------------------------------------------------------------------------------

export interface Issue {
  path: ConfigPath;
  message: string;
  hint?: string;
  /** Point at the key (an unknown option), not the value. */
  key?: boolean;
}

const pathText = (p: ConfigPath): string => (p.length ? `${p.map((s, i) => (typeof s === 'number' ? `[${s}]` : i === 0 ? s : `.${s}`)).join('')}: ` : '');

const TOP_KEYS = ['outDir', 'workgroupSize', 'specs', 'configs'] as const;
const ENTRY_KEYS = ['config', 'name', 'out', 'stage', 'shapes', 'like', 'workgroupSize', 'specs'] as const;

function unknownKeys(o: Record<string, unknown>, known: readonly string[], path: ConfigPath, issues: Issue[]): void {
  for (const k of Object.keys(o)) {
    if (known.includes(k)) continue;
    const s = closest(k, known);
    issues.push({ path: [...path, k], key: true, message: `unknown option '${k}'`, hint: s ? `did you mean '${s}'?` : `options: ${known.join(', ')}` });
  }
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function str(o: Record<string, unknown>, k: string, path: ConfigPath, issues: Issue[]): void {
  if (o[k] !== undefined && (typeof o[k] !== 'string' || o[k] === '')) issues.push({ path: [...path, k], message: `expected a non-empty string, got ${JSON.stringify(o[k])}` });
}

function wg(o: Record<string, unknown>, path: ConfigPath, issues: Issue[]): void {
  const v = o.workgroupSize;
  if (v !== undefined && !(typeof v === 'number' && Number.isInteger(v) && v >= 1 && v <= MAX_PINNED_WORKGROUP_SIZE))
    issues.push({ path: [...path, 'workgroupSize'], message: `expected an integer in 1..${MAX_PINNED_WORKGROUP_SIZE} (WebGPU's default limit, which every adapter allows), got ${JSON.stringify(v)}` });
}

function strList(o: Record<string, unknown>, k: string, path: ConfigPath, issues: Issue[]): void {
  const v = o[k];
  if (v === undefined) return;
  if (!Array.isArray(v)) issues.push({ path: [...path, k], message: `expected a list of paths, got ${JSON.stringify(v)}` });
  else v.forEach((x, i) => typeof x !== 'string' && issues.push({ path: [...path, k, i], message: `expected a path, got ${JSON.stringify(x)}` }));
}

/** Structural check of a tdc.config value; `undefined` (with issues) when it is not one. */
function validate(value: unknown, issues: Issue[]): TdcConfig | undefined {
  const start = issues.length;
  if (!isObject(value)) {
    issues.push({
      path: [],
      message: `the default export must be a tdc config object, got ${value === undefined ? 'nothing' : JSON.stringify(value)?.slice(0, 60)}`,
      hint: "export default defineConfig({ configs: ['kd.yaml'] })",
    });
    return undefined;
  }
  unknownKeys(value, TOP_KEYS, [], issues);
  str(value, 'outDir', [], issues);
  wg(value, [], issues);
  strList(value, 'specs', [], issues);
  const configs = value.configs;
  if (!Array.isArray(configs) || configs.length === 0) issues.push({ path: ['configs'], message: `expected a non-empty list of configs, got ${JSON.stringify(configs)}`, hint: "configs: ['kd.yaml']" });
  else
    configs.forEach((c, i) => {
      const p: ConfigPath = ['configs', i];
      if (typeof c === 'string') {
        if (c === '') issues.push({ path: p, message: 'expected a config path, got ""' });
        return;
      }
      if (!isObject(c)) {
        issues.push({ path: p, message: `expected a config path or {config, ...}, got ${JSON.stringify(c)}` });
        return;
      }
      unknownKeys(c, ENTRY_KEYS, p, issues);
      if (typeof c.config !== 'string' || c.config === '') issues.push({ path: [...p, 'config'], message: `expected the path of a torchdistill config, got ${JSON.stringify(c.config)}` });
      for (const k of ['name', 'out', 'stage', 'like']) str(c, k, p, issues);
      if (typeof c.name === 'string' && !isModuleStem(c.name))
        issues.push({ path: [...p, 'name'], message: `'${c.name}' is not a file stem of letters, digits, '_', '.' and '-' (starting with a letter or '_'): it names the generated module and its folder` });
      wg(c, p, issues);
      strList(c, 'specs', p, issues);
      if (c.shapes !== undefined) {
        if (!isObject(c.shapes)) issues.push({ path: [...p, 'shapes'], message: `expected {name: dims}, got ${JSON.stringify(c.shapes)}`, hint: "shapes: { 'student/layer4/output': 'Nx512x7x7' }" });
        else
          for (const [n, s] of Object.entries(c.shapes)) {
            const ok = typeof s === 'string' ? parsePinned(s) !== undefined : Array.isArray(s) && dimsFromArray(s) !== undefined;
            if (!ok) issues.push({ path: [...p, 'shapes', n], message: `expected dims like 'Nx512x7x7' or ['N', 512, 7, 7], got ${JSON.stringify(s)}` });
          }
      }
    });
  return issues.length === start ? (value as unknown as TdcConfig) : undefined;
}
