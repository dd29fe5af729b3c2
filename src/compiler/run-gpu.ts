// `tdc run --device gpu`: one stage's criterion on concrete tensors, through the compiler's GPU path:
// instantiate (batch dim symbolic where the specs allow it, so the plan is the one `tdc compile` would
// emit) → schedule (the plan for WebGPU's default limits and its variants for more storage buffers, as
// `tdc compile` plans) → PlanExecutor on a WebGPU adapter, which chooses among them as the compiled glue does
// (ExecutorOptions.planVariant) → readback (float32 results).
import {
  GpuError,
  GpuInputError,
  GpuRuntime,
  NoWebGpuAdapterError,
  PlanExecutor,
  bindSymbols,
  isSoftwareAdapter,
  type NodeGpuOptions,
  type PlanVariantOption,
  type SafeTensor,
  type DeviceWorkgroupLimits,
  type WorkgroupSizeOption,
} from 'tdc-runtime/node';
import type { GpuRuntime as AnyGpuRuntime } from 'tdc-runtime';
import { diag, DiagnosticError, hasErrors, type Diagnostic } from '../diagnostics/index.js';
import { evalDim } from '../graph/dims.js';
import type { DType, Graph } from '../graph/types.js';
import { instantiateStage, type InputInfo } from './instantiate/index.js';
import { attachInputChecks, indexInputPosition, unitInputPosition } from './index-checks.js';
import type { StageIR } from './ir.js';
import type { GpuRunDetails, RunResult } from './driver/run-result.js';
import { basePlan, planWithVariants } from './plan-variants.js';
import { WORKGROUP_DEFAULTS, WORKGROUP_SIZE_RANGE } from './schedule/workgroup.js';
import { nonFiniteParts } from './driver/nonfinite.js';
import { runWarnings } from './run-warnings.js';
import { intWhereFloatExpected, runShapesNote, withExpectedInput } from './run-input-checks.js';
import { toHost } from '../cpu/host-safetensors.js';
import type { KernelPlan } from './schedule/plan.js';
import { prepare } from './schedule/prepare.js';
import { computedIndexWhat, computedIndices } from './schedule/computed-indices.js';
import { batchSymbolic, sampleBatchSize } from './sample-batch.js';

export { isNoAdapterError } from 'tdc-runtime';

/** The GPU result: the driver's RunResult with float32 read-backs. */
export type GpuRunResult = RunResult & {
  grads: Map<string, { shape: number[]; data: Float32Array }>;
  state?: Map<string, { shape: number[]; data: Float32Array }>;
  gpu: GpuRunDetails;
};

export interface GpuRunOptions {
  file: string;
  /** Instantiate with a symbolic batch dim (default true; falls back to concrete shapes when a spec needs them). */
  symbolic?: boolean;
  /**
   * Workgroup sizes, set at pipeline creation (a number: row and serial kernels); default: each kernel's
   * default for the adapter (8 threads per row on software adapters such as lavapipe, 128 otherwise).
   */
  workgroupSize?: WorkgroupSizeOption;
  /** Row kernels' subgroup variants: forced on / off; default: where the device suits them (ExecutorOptions.subgroups). */
  subgroups?: boolean;
  /** Which of the stage's plans runs, as the compiled glue's `planVariant` option: 'auto' (default) the variant
   *  with the most storage buffers per kernel the device allows, 'default' the plan for WebGPU's default limits. */
  planVariant?: PlanVariantOption;
  /** Use this runtime instead of opening (and closing) one (any GpuRuntime: tdc-runtime/node's or one made with
   *  GpuRuntime.fromDevice on a device of the caller's). */
  runtime?: AnyGpuRuntime;
  gpu?: NodeGpuOptions;
}

/** The model_loss keys the run's tensors give (`model_loss/<key>`). */
const modelLossKeysOf = (tensors: Map<string, SafeTensor>): string[] => [...tensors.keys()].filter((n) => n.startsWith('model_loss/')).map((n) => n.slice('model_loss/'.length));

const dtypeOf = (t: SafeTensor): DType => (t.dtype === 'I64' || t.dtype === 'I32' ? 'int' : 'float');

/** The run's tensors as the instantiator reads them (shape and dtype). */
const tensorInfo =
  (tensors: Map<string, SafeTensor>): InputInfo =>
  (name) => {
    const t = tensors.get(name);
    return t ? { shape: [...t.shape], dtype: dtypeOf(t) } : undefined;
  };

/** Throws NoWebGpuAdapterError when there is no adapter (the CLI then falls back to the CPU); every other problem is a diagnostic. */
export async function runStageOnGpu(
  stage: StageIR,
  tensors: Map<string, SafeTensor>,
  meta: GpuRunOptions,
): Promise<{ result?: GpuRunResult; diagnostics: Diagnostic[] }> {
  const diagnostics: Diagnostic[] = [];
  const t0 = performance.now();
  const graph = stageGraph(stage, tensors, meta.symbolic ?? true, diagnostics);
  if (!graph) return { diagnostics };
  // int tensors the loss uses as float data: the CPU run's TDC502, not a WGSL type error from the kernels
  const info = tensorInfo(tensors);
  const typeErrors = intWhereFloatExpected(stage, info, graph, modelLossKeysOf(tensors));
  if (typeErrors.length) return { diagnostics: [...diagnostics, ...typeErrors] };

  let rt: AnyGpuRuntime;
  try {
    rt = meta.runtime ?? (await GpuRuntime.open(meta.gpu));
  } catch (e) {
    // no adapter: the caller's fallback; any other refusal (e.g. a TDC_WEBGPU_TIMEOUT_MS that is no timeout) is reported
    if (e instanceof GpuError && !(e instanceof NoWebGpuAdapterError)) return { diagnostics: [...diagnostics, e.diagnostic] };
    throw e;
  }
  let exec: PlanExecutor | undefined;
  try {
    const choice = meta.planVariant ?? 'auto';
    let compiled: KernelPlan;
    try {
      // as `tdc compile` plans (compile.ts); only the default plan when that is the one asked for
      compiled = choice === 'default' ? basePlan(graph, { state: true }) : planWithVariants(graph, { state: true });
    } catch (e) {
      if (e instanceof DiagnosticError) return { diagnostics: [...diagnostics, e.diagnostic] };
      return { diagnostics: [...diagnostics, diag('error', 'TDC690', `internal error while scheduling the GPU kernels: ${(e as Error).message}`, stage.span)] };
    }
    for (const p of [compiled, ...(compiled.variants ?? []).map((v) => v.plan)]) {
      if (graph.equalDims?.length) p.equalDims = graph.equalDims;
      attachInputChecks(p, graph);
    }
    const tooLarge = workgroupSizeProblem([compiled, ...(compiled.variants ?? []).map((v) => v.plan)], meta.workgroupSize, rt.device.limits);
    if (tooLarge) return { diagnostics: [...diagnostics, tooLarge] };
    const t1 = performance.now();
    exec = await PlanExecutor.create(rt, compiled, {
      planVariant: choice,
      ...(meta.workgroupSize !== undefined ? { workgroupSize: meta.workgroupSize } : {}),
      ...(meta.subgroups !== undefined ? { subgroups: meta.subgroups } : {}),
    });
    const t2 = performance.now();
    const plan = exec.plan;
    const inputs = new Map(plan.inputs.map((i) => [i.name, tensors.get(i.name)!]));
    const missing = plan.inputs.filter((i) => !tensors.has(i.name)).map((i) => i.name);
    if (missing.length) return { diagnostics: [...diagnostics, diag('error', 'TDC501', `missing input tensor${missing.length > 1 ? 's' : ''} ${missing.map((m) => `'${m}'`).join(', ')}`, stage.span)] };
    const r = await exec.run(inputs, { readback: 'all' });
    const t3 = performance.now();
    const terms: GpuRunResult['terms'] = Object.create(null) as GpuRunResult['terms']; // user names: '__proto__' is a key
    for (const t of plan.outputs.scalars.terms) terms[t.name] = { weight: t.weight, value: (Object.prototype.hasOwnProperty.call(r.terms, t.name) ? r.terms[t.name]! : NaN) };
    const grads = new Map(plan.outputs.grads.map((g) => [g.input, { shape: tensors.get(g.input)?.shape ?? [], data: r.grads.get(g.input)! }]));
    const variant = compiled.variants?.find((v) => v.plan === plan)?.minStorageBuffers;
    const gpu: GpuRunDetails = {
      compiled,
      plan,
      ...(variant !== undefined ? { variant } : {}),
      choice,
      deviceStorageBuffers: rt.device.limits.maxStorageBuffersPerShaderStage,
      ms: { plan: t1 - t0, pipelines: t2 - t1, run: t3 - t2 },
      firstDispatchMs: [...exec.firstDispatchMs],
      workgroupSizes: exec.constants.map((c) => c['wg_size']),
      subgroupVariants: [...exec.subgroupVariants],
      tuning: exec.tuning,
    };
    const result: GpuRunResult = { loss: r.loss, terms, grads, nonfinite: [], device: rt.describe(), gpu };
    const mt = plan.outputs.scalars.modelTerm;
    if (mt) {
      const all = await readScalars(rt, r.device.scalars, plan.outputs.scalars.terms.length + 2);
      result.modelTerm = { weight: mt.weight, value: all[mt.index]! };
    }
    if (plan.outputs.state?.length) {
      const { env } = bindSymbols(plan.inputs, new Map(plan.inputs.map((i) => [i.name, tensors.get(i.name)!.shape])), plan.symbols);
      result.state = new Map();
      for (const s of plan.outputs.state) {
        const shape = s.shape.map((d) => evalDim(d, env));
        const data = await readScalars(rt, exec.boundBuffer(s.buffer)!, shape.reduce((a, b) => a * b, 1));
        result.state.set(s.name, { shape, data });
      }
    }
    result.nonfinite = nonFiniteParts(result);
    if (graph.warnings?.length) diagnostics.push(...runWarnings(graph, new Map([...tensors].map(([n, t]) => [n, toHost(t)])), stage.span));
    return { result, diagnostics };
  } catch (e) {
    if (e instanceof NoWebGpuAdapterError) throw e;
    if (e instanceof GpuError) return { diagnostics: [...diagnostics, atStage(e instanceof GpuInputError ? atCheckedInput(e, atComputedIndex(e, graph, stage), graph, stage) : e.diagnostic, stage)] };
    throw e;
  } finally {
    exec?.destroy();
    if (!meta.runtime) rt.destroy();
  }
}

/**
 * A workgroup size for row and serial kernels (a number) above what the plan's kernels are built for or what the
 * device allows (maxComputeWorkgroupSizeX, maxComputeInvocationsPerWorkgroup): the diagnostic naming the range,
 * found before any pipeline is made. Undefined when it fits (or is not a number: the runtime checks the others).
 */
export function workgroupSizeProblem(plans: readonly KernelPlan[], wg: WorkgroupSizeOption | undefined, limits: DeviceWorkgroupLimits): Diagnostic | undefined {
  if (typeof wg !== 'number') return undefined;
  const device = Math.min(limits.maxComputeWorkgroupSizeX, limits.maxComputeInvocationsPerWorkgroup);
  let kernels = Infinity;
  for (const p of plans) for (const k of p.kernels) for (const o of k.overrides ?? []) if (o.class === 'row' || o.class === 'serial') kernels = Math.min(kernels, o.max);
  const max = Math.min(device, kernels);
  if (wg <= max) return undefined;
  const why = device < kernels ? `this adapter allows at most ${device} threads per workgroup (maxComputeWorkgroupSizeX ${limits.maxComputeWorkgroupSizeX}, maxComputeInvocationsPerWorkgroup ${limits.maxComputeInvocationsPerWorkgroup})` : `the row kernels are built for at most ${kernels} threads`;
  return diag('error', WORKGROUP_SIZE_RANGE, `workgroup size ${wg} is too large: ${why}; choose one in 1..${max}`);
}

/** An input the runtime refused (TDC524: a class index out of range, a shape that does not fit) is positioned at the
 *  stage, as the CPU run positions it; the runtime's error carries no config position. */
function atStage(d: Diagnostic, stage: StageIR): Diagnostic {
  return d.code === 'TDC524' && d.span === undefined ? { ...d, span: stage.span } : d;
}

/**
 * A device check's failure on an index the loss computes (GpuInputError.computedIndexChecks: the plan's checks that
 * failed), positioned at the spec call that made the first one's op, with the config term as related, as the CPU
 * run positions it.
 */
function atComputedIndex(e: GpuInputError, graph: Graph, stage: StageIR): Diagnostic {
  const failed = e.computedIndexChecks?.[0];
  if (!failed) return e.diagnostic;
  // the graph the scheduler indexed (schedule/index.ts, fused; planned above with the state): the plan's check is
  // the computed index it was made from (build.ts: `what` is computedIndexWhat of it)
  const c = computedIndices(prepare(graph, { splitReductions: true, algebra: true, state: true }).graph).find((x) => x.origin && computedIndexWhat(x) === failed.what);
  return c?.origin ? { ...e.diagnostic, span: c.origin, related: [{ message: 'in the loss of this term', span: c.config ?? stage.span }] } : e.diagnostic;
}

/** The runtime's failed check of an input (GpuInputError.indexInputs: a class index out of range; unitInputs: a
 *  probability outside [0, 1]; on the host or the device), positioned as the CPU run positions it
 *  (indexInputPosition / unitInputPosition: the user's spec call or the config term). */
function atCheckedInput(e: GpuInputError, d: Diagnostic, graph: Graph, stage: StageIR): Diagnostic {
  if (d.span) return d;
  const known = (input: string | undefined) => input !== undefined && graph.inputs.some((i) => i.name === input);
  const index = e.indexInputs?.[0];
  const unit = e.unitInputs?.[0];
  const at = known(index) ? indexInputPosition(graph, index!, stage.span) : known(unit) ? unitInputPosition(graph, unit!, stage.span) : undefined;
  if (!at) return d;
  const { span, related } = at;
  return { ...d, ...(span ? { span } : {}), related: [...related, ...(d.related ?? [])] };
}

/** The row kernels' workgroup size the runtime chooses on this adapter by default (software rasterisers run a
 *  workgroup as SIMD lanes of one CPU thread: 8 lanes beat 256 by 3–5× on lavapipe). */
export function defaultWorkgroupSize(rt: GpuRuntime): number {
  const d = WORKGROUP_DEFAULTS.row;
  return isSoftwareAdapter(rt.adapterInfo) ? d.software : d.hardware;
}

/**
 * The stage's graph. With `symbolic`, dim 0 of every tensor that shares the batch size (sampleBatchSize: the
 * targets', else the leading dim most tensors share) becomes the symbol N (one plan serves every batch size); a
 * spec that needs the concrete size falls back to it, and so do inputs that break a dim equality the symbolic
 * graph assumes (Graph.equalDims: targets of another batch than the logits), so that the concrete instantiation
 * reports the shape error as the CPU run does.
 */
export function stageGraph(stage: StageIR, tensors: Map<string, SafeTensor>, symbolic: boolean, out: Diagnostic[]): Graph | undefined {
  const modelLossKeys = modelLossKeysOf(tensors);
  const batch = sampleBatchSize(tensors);
  const missing: string[] = [];
  const run = (sym0: boolean) => {
    const read = new Set<string>();
    const inst = instantiateStage(
      stage,
      (name) => {
        const t = tensors.get(name);
        if (!t) {
          missing.push(name);
          return undefined;
        }
        read.add(name);
        return { shape: sym0 ? batchSymbolic(name, t.shape, batch) : [...t.shape], dtype: dtypeOf(t) };
      },
      { modelLossKeys },
    );
    return { ...inst, read };
  };
  if (symbolic && batch !== undefined) {
    const s = run(true);
    const holds = (g: Graph) => (g.equalDims ?? []).every(([a, b]) => evalDim(a, { N: batch }) === evalDim(b, { N: batch }));
    if (s.graph && !hasErrors(s.diagnostics) && holds(s.graph)) {
      out.push(...s.diagnostics);
      return s.graph;
    }
  }
  const c = run(false);
  // a missing input: the CPU run's message, with the shape (and dtype) the loss expects (one function for both)
  out.push(...c.diagnostics.map((d) => withExpectedInput(d, stage, tensorInfo(tensors), missing, modelLossKeys)));
  if (c.graph && !hasErrors(c.diagnostics)) return c.graph;
  const read = new Map<string, readonly number[]>();
  for (const [name, t] of tensors) if (c.read.has(name)) read.set(name, t.shape);
  out.push(...runShapesNote(stage, read, c.diagnostics));
  return undefined;
}

/** The first `n` floats of a device buffer (it needs COPY_SRC, as the executor's buffers have). */
async function readScalars(rt: AnyGpuRuntime, src: GPUBuffer, n: number): Promise<Float32Array> {
  const bytes = Math.min(src.size, Math.ceil((4 * n) / 4) * 4);
  const dst = rt.device.createBuffer({ size: bytes, usage: 0x1 | 0x8 }); // MAP_READ | COPY_DST
  try {
    const enc = rt.device.createCommandEncoder();
    enc.copyBufferToBuffer(src, 0, dst, 0, bytes);
    rt.device.queue.submit([enc.finish()]);
    await rt.wait(dst.mapAsync(0x1), 'reading the model term or state back');
    return new Float32Array(dst.getMappedRange().slice(0));
  } finally {
    dst.destroy();
  }
}
