// compileConfig: the whole pipeline as a library call (the CLI's `tdc compile` and build steps use it).
// A resolved config → per stage: instantiate with the chosen input shapes → schedule → WGSL, manifest, glue.
// Returns the files of out/ (path → text); writing them (atomically) is the caller's step.
import { diag, DiagnosticError, hasErrors, type Diagnostic } from '../diagnostics/index.js';
import type { DType, Shape } from '../graph/types.js';
import { VERSION } from '../version.js';
import { tensorName, type CriterionIR, type StageIR } from './ir.js';
import type { KernelPlan } from './schedule/plan.js';
import { instantiateStage } from './instantiate/index.js';
import { attachInputChecks } from './index-checks.js';
import { intWhereFloatExpected } from './run-input-checks.js';
import { planWithVariants } from './plan-variants.js';
import { batchSymbolic, sampleBatchSize } from './sample-batch.js';
import { buildManifest, kernelFile, kernelSubgroupsFile } from '../codegen/manifest.js';
import { fileStem, stemKey } from '../codegen/escape.js';

export type InputShapes = Map<string, { shape: Shape; dtype: DType }>;

export interface CompileOptions {
  /** Path of the config as it should appear in the output (keep it relative for reproducible output). */
  configFile: string;
  /** Stem of the glue module: `<moduleName>.ts`. */
  moduleName: string;
  /** Pins the row/serial kernels' workgroup size; default: chosen by the runtime per adapter. */
  workgroupSize?: number;
  /** Pinned input shapes; the rest default to the symbolic shapes of `defaultInputShape`. */
  shapes?: InputShapes;
  /** Emit `<moduleName>.ts` (loads ts-morph). Default true. */
  glue?: boolean;
}

export interface CompiledStage {
  stage: string;
  plan: KernelPlan;
}

export interface CompileResult {
  files?: Map<string, string>;
  stages: CompiledStage[];
  diagnostics: Diagnostic[];
}

/** Symbolic default for an input the user did not pin: io tensors [N, C], targets [N] (int), model losses []. */
export function defaultInputShape(name: string): { shape: Shape; dtype: DType } {
  if (name === 'targets') return { shape: [{ sym: 'N' }], dtype: 'int' };
  if (name.startsWith('model_loss/')) return { shape: [], dtype: 'float' };
  return { shape: [{ sym: 'N' }, { sym: 'C' }], dtype: 'float' };
}

function stageInputShapes(stage: StageIR, pinned: InputShapes): InputShapes {
  const out: InputShapes = new Map(pinned);
  for (const t of stage.terms)
    for (const ref of t.reads) {
      const name = tensorName(ref);
      if (!out.has(name)) out.set(name, defaultInputShape(name));
    }
  if (!out.has('targets')) out.set('targets', defaultInputShape('targets'));
  return out;
}

/** model_loss keys: pinned inputs name them; else the per-key weights; else HF's single 'loss'. */
function modelLossKeys(stage: StageIR, pinned: InputShapes): string[] {
  if (!stage.modelTerm) return [];
  const given = [...pinned.keys()].filter((n) => n.startsWith('model_loss/')).map((n) => n.slice('model_loss/'.length));
  if (given.length) return given;
  const w = stage.modelTerm.weight;
  return typeof w === 'object' ? Object.keys(w) : ['loss'];
}

/** Input shapes from a sample io_dict (e.g. a golden tensors file): ranks and sizes as given, except that dim 0
 *  of every tensor with the sample's batch size (sampleBatchSize: the targets' leading dim, else the one most of
 *  its tensors share) becomes the symbol N (one plan serves every batch size). */
export function sampleInputShapes(tensors: ReadonlyMap<string, { dtype: string; shape: number[] }>): InputShapes {
  const out: InputShapes = new Map();
  const batch = sampleBatchSize(tensors);
  for (const [name, t] of tensors) {
    if (name.startsWith('grad/') || name.startsWith('state_out/')) continue;
    out.set(name, { shape: batchSymbolic(name, t.shape, batch), dtype: t.dtype === 'I64' || t.dtype === 'I32' ? 'int' : 'float' });
  }
  return out;
}

/** How TDC502 words an input pinned as int (`--shape name=dims:int`, an integer tensor of a `--like` sample). */
const PINNED_INT = { what: 'is pinned as an integer tensor', hint: "only index tensors (e.g. targets, CRD pos_idx/contrast_idx) may be integers: drop ':int' from its --shape (or give a float tensor in the --like sample)" };

const shapeText = (s: Shape): string => `[${s.map((d) => (typeof d === 'number' ? String(d) : 'sym' in d ? d.sym : '…')).join(', ')}]`;

/** The note that follows a stage's compile errors: the input shapes it was compiled for and how to pin them (the
 *  default [N, C] is why a feature-map loss fails). `tdc compile` prints it with the errors it explains. */
export const SHAPES_NOTE = 'TDC610';

export async function compileStages(stages: readonly StageIR[], opts: CompileOptions): Promise<CompileResult> {
  const diagnostics: Diagnostic[] = [];
  const compiled: CompiledStage[] = [];
  const pinned = opts.shapes ?? new Map();
  for (const stage of stages) {
    const shapes = stageInputShapes(stage, pinned);
    for (const k of modelLossKeys(stage, pinned)) if (!shapes.has(`model_loss/${k}`)) shapes.set(`model_loss/${k}`, defaultInputShape(`model_loss/${k}`));
    // the state (CRD's memory banks) is sized by the spec (its kwargs), not pinned like an io_dict tensor
    const inst = instantiateStage(stage, (name) => shapes.get(name), { modelLossKeys: modelLossKeys(stage, pinned), declaredStateShapes: true });
    diagnostics.push(...inst.diagnostics);
    // an input pinned as int (`:int`, an I64 tensor of a --like sample) that the loss uses as float data: the
    // kernels would not compile; say so as `tdc run --device cpu` does for such a tensor
    const typeErrors = inst.graph && !hasErrors(inst.diagnostics) ? intWhereFloatExpected(stage, (name) => shapes.get(name), inst.graph, modelLossKeys(stage, pinned), PINNED_INT) : [];
    if (typeErrors.length) return { stages: compiled, diagnostics: [...diagnostics, ...typeErrors] };
    if (!inst.graph || hasErrors(inst.diagnostics)) {
      diagnostics.push(
        diag('note', SHAPES_NOTE, `stage '${stage.name}' was compiled for input shapes ${[...shapes].map(([n, s]) => `${n}=${shapeText(s.shape)}`).join(', ')}`, undefined, {
          hint: 'pin the real shapes with --shape name=NxAxHxW (each input its own letters: the default [N, C] shares C) or --like io.safetensors',
        }),
      );
      return { stages: compiled, diagnostics };
    }
    try {
      // a stateful term (CRD) stores its updated buffers, as `tdc run` does: the glue carries them to the next step
      const plan = planWithVariants(inst.graph, {
        ...(opts.workgroupSize !== undefined ? { workgroupSize: opts.workgroupSize } : {}),
        ...(inst.graph.stateOut?.length ? { state: true } : {}),
      });
      for (const p of [plan, ...(plan.variants ?? []).map((v) => v.plan)]) {
        if (inst.graph.equalDims?.length) p.equalDims = inst.graph.equalDims;
        attachInputChecks(p, inst.graph);
        // the state's initial values, as the loss defines them (the glue's initState())
        for (const s of inst.graph.stateInit ?? []) {
          const i = p.inputs.find((x) => x.name === s.name);
          if (i) i.init = s.init;
        }
      }
      compiled.push({ stage: stage.name, plan });
    } catch (e) {
      if (e instanceof DiagnosticError) return { stages: compiled, diagnostics: [...diagnostics, e.diagnostic] };
      throw e;
    }
  }
  const clash = stemCollision(stages);
  if (clash) return { stages: compiled, diagnostics: [...diagnostics, clash] };
  const files = new Map<string, string>();
  for (const { stage, plan } of compiled)
    for (const [p, variant] of [[plan, undefined] as const, ...(plan.variants ?? []).map((v) => [v.plan, v.minStorageBuffers] as const)])
      for (const k of p.kernels) {
        files.set(kernelFile(stage, k.name, variant), k.wgsl);
        if (k.wgslSubgroups !== undefined) files.set(kernelSubgroupsFile(stage, k.name, variant), k.wgslSubgroups);
      }
  files.set('manifest.json', buildManifest(compiled, { configFile: opts.configFile, tdcVersion: VERSION }));
  if (opts.glue !== false) {
    const { emitGlue } = await import('../codegen/glue/index.js');
    files.set(`${opts.moduleName}.ts`, await emitGlue(compiled, { moduleName: opts.moduleName, configFile: opts.configFile, tdcVersion: VERSION }));
  }
  return { files, stages: compiled, diagnostics };
}

/** Two stages whose names become the same kernel file stem (also on case-insensitive file systems). */
function stemCollision(stageIRs: readonly StageIR[]): Diagnostic | undefined {
  const seen = new Map<string, string>();
  for (const { name: stage, span } of stageIRs) {
    const key = stemKey(fileStem(stage));
    const other = seen.get(key);
    if (other !== undefined)
      return diag('error', 'TDC655', `stages '${other}' and '${stage}' would write the same kernel files (kernels/${fileStem(stage)}.*.wgsl)`, span, {
        hint: 'rename one stage: file names keep only letters, digits, _ and -, and ignore case on some file systems',
      });
    seen.set(key, stage);
  }
  return undefined;
}

/** Every stage of a resolved config (or the one named). */
export async function compileCriterion(ir: CriterionIR, opts: CompileOptions & { stage?: string }): Promise<CompileResult> {
  const stages = opts.stage === undefined ? ir.stages : ir.stages.filter((s) => s.name === opts.stage);
  if (!stages.length)
    return { stages: [], diagnostics: [diag('error', 'TDC903', opts.stage === undefined ? 'this config has no training stage with a criterion' : `no stage '${opts.stage}' in this config; it has: ${ir.stages.map((s) => s.name).join(', ')}`)] };
  return compileStages(stages, opts);
}
