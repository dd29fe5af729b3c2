// compile(): one torchdistill config → the files of its output directory, in memory (kernels/*.wgsl,
// manifest.json, <name>.ts glue), with the manifest as an object, the kernel list and every diagnostic.
// Nothing is written: writeOutput() writes a result, check() compares one with what is on disk.
import { isAbsolute, relative, resolve, sep } from 'node:path';
import { diag, hasErrors, type Diagnostic } from '../diagnostics/index.js';
import { checkFile } from '../compiler/driver/check.js';
import { unknownStage } from '../compiler/driver/pick-stage.js';
import { compileStages, type CompiledStage } from '../compiler/compile.js';
import type { StageIR } from '../compiler/ir.js';
import { registerSpecFiles as registerSpecBatch } from '../registry/registry.js';
import { BUILTINS, BUILTIN_VALUE_NAMES } from '../compiler/instantiate/index.js';
import { parseInputShapes, pinnedNames, unreadShapes, type ShapeText } from './shapes.js';
import type { Manifest } from './manifest-types.js';
import { MAX_PINNED_WORKGROUP_SIZE, WORKGROUP_SIZE_RANGE } from '../compiler/schedule/workgroup.js';

export interface CompileConfigOptions {
  /**
   * Project root. Paths inside generated files (the glue header, manifest.json's `config`) are written relative
   * to it, so output is the same on every machine. Default: `process.cwd()`.
   */
  root?: string;
  /** Compile only this training stage (`train`, `stage1`, …). Default: every stage. */
  stage?: string;
  /** Stem of the generated TypeScript module, `<name>.ts`. Default: from the config file name (`kd.yaml` → `kd`). */
  name?: string;
  /** Pins the workgroup size of row and serial kernels, 1..256 (WebGPU's default limit: the output runs on every adapter). Default: none — the kernels' `wg_size` override is chosen by the runtime at pipeline creation (8 on software Vulkan, 128 on hardware GPUs). */
  workgroupSize?: number;
  /**
   * Pinned input shapes, by io_dict name: `{ 'student/layer4/output': 'Nx512x7x7' }` or `['N', 512, 7, 7]`, or
   * `--shape` arguments (`['student/layer4/output=Nx512x7x7']`). Letters are symbols bound at run time, numbers
   * fixed sizes. Inputs not pinned get symbolic defaults: io tensors `[N, C]`, targets `[N]`, model losses `[]`.
   */
  shapes?: readonly string[] | Readonly<Record<string, ShapeText>>;
  /**
   * A sample io_dict (safetensors) to take input ranks and sizes from, like `--like`; the batch dim stays symbolic.
   * `shapes` override it per input.
   */
  like?: string;
  /**
   * Spec files (.tdl) with custom losses, registered before the config is resolved (like `--spec`). They are
   * added to the process-wide registry (a later registration of the same key replaces the earlier one).
   */
  specs?: readonly string[];
  /** Emit the TypeScript glue `<name>.ts` (loads ts-morph). Default true. */
  glue?: boolean;
}

/** One kernel of the result (also in `manifest.stages[].kernels`, with its bindings). */
export interface CompiledKernel {
  stage: string;
  name: string;
  /** Path of its WGSL inside the output directory, e.g. `kernels/train.k0_row_kd.wgsl`. */
  file: string;
  /** What it computes, e.g. `row pass: log_softmax(student), … [terms: kd]`. */
  summary: string;
  terms: string[];
  /** Workgroup counts (x, y, z): numbers, or expressions over the stage symbols (`"ceil(N/8)"`). */
  dispatch: (number | string)[];
}

export interface CompiledConfig {
  /** No errors: `files` holds the complete output directory. */
  ok: boolean;
  /** The config path as written into the output (relative to `root`, '/'-separated). */
  config: string;
  /** Stem of the glue module. */
  name: string;
  /** The output directory's files: relative '/'-separated path → text. Empty when `ok` is false. */
  files: ReadonlyMap<string, string>;
  /** manifest.json as an object (undefined when `ok` is false). */
  manifest?: Manifest;
  kernels: CompiledKernel[];
  /** Every diagnostic, errors, warnings and notes; spans name files as the caller gave them. */
  diagnostics: Diagnostic[];
  /** The files this result was computed from (config, spec files, sample io_dict), absolute: what to watch. */
  inputs: string[];
  /** The kernel plans per stage (for tools that go further than the files). */
  stages: CompiledStage[];
}

/** Module stem from a config file name: `kd.yaml` → `kd`; non-identifier characters → `_`. */
export function moduleNameOf(config: string): string {
  const base = config.split(/[\\/]/).pop() ?? config;
  const stem = base.replace(/\.ya?ml$/i, '').replace(/[^A-Za-z0-9_]/g, '_');
  return /^[A-Za-z_]/.test(stem) ? stem : `config_${stem}`;
}

/** A usable glue module stem (`--name`, tdc.config `name`): it becomes `<name>.ts` and a folder name. */
export const isModuleStem = (name: string): boolean => /^[A-Za-z_][A-Za-z0-9_.-]{0,99}$/.test(name);

/** `file` relative to `root`, '/'-separated (a file outside the root keeps its `../` steps). */
export function projectRelative(root: string, file: string): string {
  const r = relative(resolve(root), resolve(file));
  return (r === '' ? '.' : r).split(sep).join('/');
}

/** compile()'s arguments of the wrong type, as a JavaScript caller may pass them (a config that is no path, specs that
 *  are no list of paths): diagnostics, where they would otherwise throw a TypeError from inside the compile. */
function argumentProblems(config: unknown, o: unknown): Diagnostic[] {
  const got = (v: unknown): string => (Array.isArray(v) ? 'a list' : v === null ? 'null' : typeof v === 'string' ? JSON.stringify(v) : typeof v);
  if (typeof config !== 'string' || config === '') return [diag('error', 'TDC100', `compile(): the config must be the path of a torchdistill config (a non-empty string), got ${got(config)}`)];
  if (o === null || typeof o !== 'object' || Array.isArray(o)) return [diag('error', 'TDC100', `compile(): the options must be an object, got ${got(o)}`)];
  const { root, stage, name, like, specs } = o as Record<string, unknown>;
  const ds: Diagnostic[] = [];
  for (const [key, v] of Object.entries({ root, stage, name, like }))
    if (v !== undefined && typeof v !== 'string') ds.push(diag('error', 'TDC100', `compile(): options.${key} must be a string, got ${got(v)}`));
  if (specs !== undefined && !(Array.isArray(specs) && specs.every((f) => typeof f === 'string')))
    ds.push(diag('error', 'TDC100', `compile(): options.specs must be a list of spec file paths, got ${Array.isArray(specs) ? 'a list with non-strings' : got(specs)}`));
  return ds;
}

/** Registers spec files (.tdl) with the instantiator's built-in names known, as `--spec` does. */
function registerSpecFiles(specs: readonly string[]): Diagnostic[] {
  if (!specs.length) return [];
  const knownFunctions = [...Object.keys(BUILTINS), ...BUILTIN_VALUE_NAMES];
  return registerSpecBatch(specs, { knownFunctions });
}

/**
 * Compiles one torchdistill config (a YAML file) in memory. Never throws for bad input: problems are
 * diagnostics (with file, line, column) and `ok` is false.
 *
 * ```ts
 * const r = await compile('configs/kd.yaml', { shapes: { 'student/./output': 'Nx10' } });
 * if (r.ok) await writeOutput('src/generated/kd', r);
 * ```
 */
export async function compile(config: string, options: CompileConfigOptions = {}): Promise<CompiledConfig> {
  const wrong = argumentProblems(config, options);
  if (wrong.length) return { ok: false, config: String(config), name: '', files: new Map(), kernels: [], diagnostics: wrong, inputs: [], stages: [] };
  const root = options.root ?? process.cwd();
  const abs = (p: string): string => (isAbsolute(p) ? p : resolve(p));
  const name = options.name ?? moduleNameOf(config);
  const result: CompiledConfig = {
    ok: false,
    config: projectRelative(root, config),
    name,
    files: new Map(),
    kernels: [],
    diagnostics: [],
    inputs: [abs(config), ...(options.specs ?? []).map(abs), ...(options.like !== undefined ? [abs(options.like)] : [])],
    stages: [],
  };
  const ds = result.diagnostics;
  const done = (): CompiledConfig => {
    result.ok = !hasErrors(ds) && result.files.size > 0;
    if (!result.ok) result.files = new Map();
    return result;
  };

  const wg = options.workgroupSize;
  if (wg !== undefined && (!Number.isInteger(wg) || wg < 1 || wg > MAX_PINNED_WORKGROUP_SIZE))
    ds.push(diag('error', WORKGROUP_SIZE_RANGE, `workgroup size must be an integer in 1..${MAX_PINNED_WORKGROUP_SIZE} (WebGPU's default limit, which every adapter allows), got ${JSON.stringify(options.workgroupSize)}`));
  if (!isModuleStem(name)) ds.push(diag('error', 'TDC612', `name '${name}': expected a file stem of letters, digits, '_', '.' and '-' (starting with a letter or '_')`));
  ds.push(...registerSpecFiles(options.specs ?? []));
  if (hasErrors(ds)) return done();

  const checked = checkFile(config);
  ds.push(...checked.diagnostics);
  if (hasErrors(ds) || !checked.ir) return done();
  let stages: StageIR[] = checked.ir.stages;
  if (options.stage !== undefined) {
    stages = stages.filter((s) => s.name === options.stage);
    if (!stages.length) {
      ds.push(unknownStage(options.stage, checked.ir.stages, config));
      return done();
    }
  }
  if (!stages.length) {
    ds.push(diag('error', 'TDC903', `${config} has no training stage with a criterion`));
    return done();
  }

  const pinned = parseInputShapes({ like: options.like, shapes: options.shapes }, ds);
  ds.push(...unreadShapes(pinnedNames(options.shapes), stages, Array.isArray(options.shapes) ? '--shape' : 'shapes'));
  if (hasErrors(ds)) return done();

  const c = await compileStages(stages, { configFile: result.config, moduleName: name, ...(wg !== undefined ? { workgroupSize: wg } : {}), shapes: pinned, glue: options.glue });
  ds.push(...c.diagnostics);
  result.stages = c.stages;
  if (!c.files || hasErrors(c.diagnostics)) return done();
  result.files = c.files;
  result.manifest = JSON.parse(c.files.get('manifest.json')!) as Manifest;
  result.kernels = manifestKernels(result.manifest);
  return done();
}

function manifestKernels(m: Manifest): CompiledKernel[] {
  return m.stages.flatMap((s) => s.kernels.map((k) => ({ stage: s.name, name: k.name, file: k.file, summary: k.summary, terms: k.terms, dispatch: k.dispatch })));
}
