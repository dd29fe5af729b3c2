// Runs a KernelPlan on a WebGPU device: pipelines built once, buffers sized from the bound symbols and reused
// while the shapes stay the same (steady state allocates nothing on the device), one command buffer per
// forward+backward (and one per further 4 MiB of a large readback: readback.ts), readback only on request.
//
// Device inputs (DeviceInput) with GPUBufferUsage.STORAGE are bound directly (no copy) when the plan only
// reads them and the buffer covers the plan's (vec4-padded) length; bind groups are cached per set of bound
// buffers. Other device inputs are copied into the plan's buffers inside the run's command buffer (they then
// need COPY_SRC); host inputs are written with queue.writeBuffer.
//
// Binding convention (the scheduler/codegen contract): group 0, binding 0 is the dims uniform — one u32 per
// plan symbol, in plan.symbols order, packed, the buffer padded to a multiple of 16 bytes (so WGSL may read
// it as a struct of u32 or as array<vec4<u32>, K>); every KernelBinding is a storage buffer at binding ≥ 1.
// Each kernel's WGSL has exactly one compute entry point. Kernels fully write what they output: buffers are
// not cleared between runs.
/// <reference types="@webgpu/types" preserve="true" />
import { didYouMean } from './suggest.js';
import { evalDim, shapeToString } from './dims.js';
import type { ComputedIndexCheck, KernelPlan, PlanBuffer, PlanKernel } from './plan.js';
import { bindSymbols, envKey, type SymbolEnv } from './bind-symbols.js';
import { GpuRuntime, messageOf } from './device.js';
import { WaitEstimate, type Polling } from './wait-estimate.js';
import { readbackLayout, StagingBuffers, type ReadbackLayout } from './readback.js';
import { touchPages } from './host-floats.js';
import { checkPlan } from './check-plan.js';
import {
  NO_ERROR,
  unitCheckProblem,
  computedIndexProblem,
  unitParams,
  checkDispatch,
  checkParams,
  factorCheckProblem,
  factorParams,
  hostIndexProblem,
  indexCheckProblem,
  type DeviceIndexCheck,
} from './device-checks.js';
import { GpuInputError, GpuStageDestroyedError, GpuTimeoutError, GpuUsageError, GpuValidationError, NoWebGpuAdapterError, PlanError } from './errors.js';
import { withNonfinite, type NonFinite } from './nonfinite.js';
import { SerialQueue } from './serial-queue.js';
import { describeValue, isGpuDevice, notAMap } from './argument-checks.js';
import { namingUnusableBuffers, OTHER_DEVICE_HINT, type CallerBuffer } from './foreign-buffers.js';
import { copyHostInputs, elementText, isDetached, isDeviceInput, isShared, kindOf, tensorProblem, numelOf, toF32, toI32, type HostInput, type TensorInput } from './tensors.js';
import { isSoftwareAdapter, overrideConstants, requestedWorkgroupSize, type WorkgroupSizeOption } from './workgroup.js';
import { chooseSubgroupVariants, subgroupSupport, subgroupsUnavailable, type SubgroupOption } from './subgroups.js';
import { adapterKey, tunedChoices, type KernelChoice, type TunedChoices, type TuningEntry } from './tune-cache.js';
import { selectPlanVariant, type PlanVariantOption } from './plan-variant.js';

export interface ExecutorOptions {
  /**
   * Workgroup sizes (the kernels' WGSL `override` constants, set at pipeline creation). Default: each
   * kernel's PlanOverride.default for this adapter (software rasterisers: small; hardware GPUs: large).
   */
  workgroupSize?: WorkgroupSizeOption;
  /**
   * Row kernels' subgroup variants (PlanKernel.wgslSubgroups): true forces them (an error where the device
   * cannot run them), false forbids them. Default: used where the device has the `subgroups` feature and the
   * kernel's workgroup size is a multiple of the adapter's subgroup size (subgroups.ts).
   */
  subgroups?: SubgroupOption;
  /**
   * A tuning cache (`tdc tune`'s JSON, parsed; tune-cache.ts): each kernel it has a choice for on this adapter
   * (matched by its kernelTuningKey, whatever sizes the plan fixed) runs its tuned workgroup size and subgroup
   * choice, below `workgroupSize`/`subgroups`/`kernels` given here; `executor.tuning` says which did. Default: the
   * runtime's (GpuOptions.tuning; tdc-runtime/node: the user cache file). false: none.
   */
  tuning?: unknown;
  /** Per kernel name, a choice that wins over the tuning cache (what `tdc tune` measures with). */
  kernels?: Readonly<Record<string, Partial<KernelChoice>>>;
  /** Notes (a stale or invalid tuning cache, ignored). Default: console.warn. */
  onNote?: (message: string) => void;
  /**
   * Which of the plan's variants runs (KernelPlan.variants): 'auto' (default) the one with the most storage
   * bindings the device allows; 'default' the plan for WebGPU's default limits.
   */
  planVariant?: PlanVariantOption;
}

/** What the tuning cache did for an executor (PlanExecutor.tuning): `tdc run --explain` and the glue's `tuning` show it. */
export interface ExecutorTuning {
  /** Where the cache came from ('the tuning cache /home/me/.cache/tdc/tuning.json', 'the tuning cache given to
   *  GpuRuntime.open'); undefined: no cache (none found, TDC_TUNING_CACHE=off, `tuning: false`). */
  source?: string;
  /** The entry the first tuned kernel's choice came from (undefined: no kernel runs a tuned choice). */
  entry?: TuningEntry;
  /** The kernels that run a tuned choice (plan order): the workgroup size and/or subgroup choice taken from the
   *  cache (a part the application chose itself, `workgroupSize`/`subgroups`/`kernels`, is not listed), and the
   *  entry it came from (its stage, config and the sizes it was measured at). */
  kernels: { kernel: string; workgroupSize?: number; subgroups?: boolean; entry: TuningEntry }[];
  /** What was ignored and why (a stale entry, a file that is not a cache, a size the device cannot take). */
  notes: readonly string[];
}

// GPUBufferUsage / GPUShaderStage / GPUMapMode values (WebGPU spec): no dependency on installed globals.
const USAGE = { COPY_SRC: 0x4, COPY_DST: 0x8, UNIFORM: 0x40, STORAGE: 0x80 } as const;
const STAGE_COMPUTE = 0x4;
const MAP_READ = 0x1;

/** false / 'none': nothing read back; 'scalars': loss and terms; true / 'all': also every gradient. */
export type Readback = boolean | 'none' | 'scalars' | 'all';

export interface DeviceOutputs {
  /** [loss, term…] as f32; overwritten by the next run. */
  scalars: GPUBuffer;
  /** Input name → gradient buffer (packed f32 in the input's shape, possibly followed by up to 3 padding
   *  elements so kernels can write it as vec4); overwritten by the next run. */
  grads: Map<string, GPUBuffer>;
}

export interface ScalarResult {
  loss: number;
  /** Unweighted value of each term, by term name. */
  terms: Record<string, number>;
  /** Weighted model term (WeightedSumLoss model_term), when the plan has one. */
  modelTerm?: number;
  /**
   * The parts read back that are NaN or ±Inf ([] when all are finite): NaN propagates as in torch and is named here.
   * Covers loss, terms and model term, and the gradients when they were read back (readback 'all'). Computed when
   * first read (a scan of every gradient value: a loop that never reads it does not pay it), from the arrays as they
   * are then: read it before passing the same arrays as a later run's `into`.
   */
  readonly nonfinite: NonFinite[];
  device: DeviceOutputs;
}

export interface HostResult extends ScalarResult {
  grads: Map<string, Float32Array>;
}

/** What a run bound: symbol values, evaluated buffer lengths, bind groups and dispatch sizes. */
interface Sizing {
  env: SymbolEnv;
  lengths: Map<number, number>;
  /** Bind groups over the executor's own buffers only (made at the first run that binds no caller buffer). */
  bindGroups?: GPUBindGroup[];
  dispatch: [number, number, number][];
  /** Element count of each gradient (plan.outputs.grads order). */
  gradElems: number[];
  /** Bind groups with caller buffers bound directly, keyed by their ids (plan.inputs order, 0: own buffer). */
  directGroups: Map<string, GPUBindGroup[]>;
  /** The last direct set used (fast path: no key built while the same buffers come back every step). */
  lastDirect?: (GPUBuffer | undefined)[];
  lastGroups?: GPUBindGroup[];
  /** The time from submit to the readback's map expected of a run of each mode (wait-estimate.ts). */
  waits: { scalars?: WaitEstimate; all?: WaitEstimate };
}

interface PreparedInput {
  name: string;
  buffer: number;
  bytes: number;
  host?: ArrayBufferView;
  device?: GPUBuffer;
  /** `device` is bound in place of the plan's buffer (no copy). */
  direct?: boolean;
}

/**
 * Pipelines that have completed a dispatch on their device. Software adapters (lavapipe/llvmpipe) compile a
 * pipeline's machine code at its first dispatch, not at pipeline creation: a run with pipelines not in here waits
 * on each such kernel separately (PlanExecutor.firstDispatchMs), so that compiling many kernels — seconds each
 * in a CPU-starved process — is bounded per kernel, not reported as a hung GPU.
 */
const dispatchedPipelines = new WeakSet<GPUComputePipeline>();

/** Compiled pipelines by device and pipelineKey (most recent PIPELINE_CACHE per device). */
const pipelineCache = new WeakMap<GPUDevice, Map<string, { layout: GPUBindGroupLayout; pipeline: GPUComputePipeline; value?: GPUComputePipeline }>>();
const PIPELINE_CACHE = 256;

/** The first flag slot of the computed indices' checks: after the index inputs', factors' and probabilities'. */
const computedIndexBase = (plan: KernelPlan): number => (plan.indexInputs?.length ?? 0) + (plan.factorChecks?.length ?? 0) + (plan.unitInputs?.length ?? 0);

/** A check's two entry points over one layout: `main` flags the first bad element, `offending_value` stores its value. */
type CheckPipeline = { layout: GPUBindGroupLayout; pipeline: GPUComputePipeline; value: GPUComputePipeline };

/** A device-check pipeline (device-checks.ts): uniform params, one read-only buffer, the flags. Cached per device. */
async function checkPipeline(rt: GpuRuntime, cache: Map<string, { value?: GPUComputePipeline }>, what: string, code: string): Promise<CheckPipeline> {
  const key = `tdc-runtime ${what} check\n${code}`;
  const hit = cache.get(key);
  if (hit?.value) return hit as CheckPipeline;
  const device = rt.device;
  const layout = device.createBindGroupLayout({
    label: `tdc ${what} check`,
    entries: [
      { binding: 0, visibility: STAGE_COMPUTE, buffer: { type: 'uniform' } },
      { binding: 1, visibility: STAGE_COMPUTE, buffer: { type: 'read-only-storage' } },
      { binding: 2, visibility: STAGE_COMPUTE, buffer: { type: 'storage' } },
    ],
  });
  const module = device.createShaderModule({ label: `tdc ${what} check`, code });
  const pipelineLayout = device.createPipelineLayout({ bindGroupLayouts: [layout] });
  const [pipeline, value] = await rt.wait(
    Promise.all(
      ['main', 'offending_value'].map((entryPoint) =>
        device.createComputePipelineAsync({ label: `tdc ${what} check (${entryPoint})`, layout: pipelineLayout, compute: { module, entryPoint } }),
      ),
    ),
    `compiling the ${what} check kernel`,
  );
  const built = { layout, pipeline: pipeline!, value: value! };
  cache.set(key, built);
  return built;
}

/** What a pipeline depends on: the WGSL, the binding layout and the pipeline-overridable constants. */
function pipelineKey(k: PlanKernel, constants: Readonly<Record<string, number>>, code: string): string {
  const c = Object.keys(constants)
    .sort()
    .map((n) => `${n}=${constants[n]}`)
    .join(',');
  return `${k.bindings.map((b) => `${b.binding}:${b.access}`).join(',')}${k.checkFlags !== undefined ? `,${k.checkFlags}:flags` : ''}\n${c}\n${code}`;
}

/** Bind-group cache entries kept per sizing for directly bound caller buffers. */
const DIRECT_CACHE = 8;
const bufferIds = new WeakMap<GPUBuffer, number>();
let nextBufferId = 1;
function bufferId(b: GPUBuffer): number {
  let id = bufferIds.get(b);
  if (id === undefined) bufferIds.set(b, (id = nextBufferId++));
  return id;
}

/** The buffers of `plan` at the sizes `env` that this device cannot hold or bind (named by the tensor for inputs). */
export function bufferLimitProblems(plan: KernelPlan, env: SymbolEnv, lim: Pick<GPUSupportedLimits, 'maxStorageBufferBindingSize' | 'maxBufferSize'>): string[] {
  const problems: string[] = [];
  const inputOf = new Map(plan.inputs.map((i) => [i.buffer, i]));
  for (const b of plan.buffers) {
    const bytes = 4 * evalDim(b.length, env);
    const i = inputOf.get(b.id);
    const what = i ? `'${i.name}' [${i.shape.map((d) => evalDim(d, env)).join(', ')}]` : `buffer ${b.name}`;
    if (bytes > lim.maxStorageBufferBindingSize)
      problems.push(`${what} would need ${bytes} bytes; this device binds at most ${lim.maxStorageBufferBindingSize} per storage buffer (maxStorageBufferBindingSize)`);
    else if (bytes > lim.maxBufferSize) problems.push(`${what} would need ${bytes} bytes; this device allocates at most ${lim.maxBufferSize} per buffer (maxBufferSize)`);
  }
  return problems;
}

export class PlanExecutor {
  private readonly buffers = new Map<number, { gpu: GPUBuffer; bytes: number }>();
  private readonly sizings = new Map<string, Sizing>();
  private readonly scratch = new Map<string, Float32Array | Int32Array>();
  private readonly planBuffers: Map<number, PlanBuffer>;
  /** Input buffers no kernel writes: a caller's buffer may stand in for them. */
  private readonly readOnlyInputs = new Set<number>();
  /** State inputs the plan updates in place (plan.outputs.state[].inPlace): a caller's buffer may stand in for them
   *  too, and is then updated (the glue's resident CRD banks); a host array is uploaded and never changed. */
  private readonly inPlaceInputs = new Set<number>();
  /** Plan buffer → the device buffer the latest run bound for it (a caller's, for an input bound in place). */
  private readonly bound = new Map<number, GPUBuffer>();
  private deviceOut: DeviceOutputs | undefined;
  private dimsBuffer: GPUBuffer;
  private dimsKey: string | undefined;
  /** The readback's staging buffers, one per chunk (readback.ts). */
  private readonly staging: StagingBuffers;
  /** Runs, one at a time (submit() refuses to overtake one not yet settled). */
  private readonly runs = new SerialQueue();
  private broken: Error | undefined;
  /** Device-side checks (device-checks.ts): one flag per plan.indexInputs entry, then one per plan.factorChecks
   *  entry, one per plan.unitInputs entry and one per plan.computedIndexChecks entry, then as many offending values
   *  (bits) and the indices they belong to, in the same order; read back after the scalars. */
  private readonly flags: GPUBuffer | undefined;
  /** What the kernels that read the flags (PlanKernel.checkFlags) bind: the first-failure slots of `flags`, or,
   *  for a plan without device checks, one NO_ERROR word of its own. */
  private readonly flagsBinding: { buffer: GPUBuffer; size: number } | undefined;
  private readonly checkParams: GPUBuffer[] = [];
  private flagsNeedReset = true;
  /** Whether device checks were dispatched since the flags were last read back (reportDeviceChecks reads them only then). */
  private checksUnread = false;
  /** The symbols of the latest submit(), which reportDeviceChecks words its problems with. */
  private checksEnv: SymbolEnv = {};
  /** Map-read copies of the flags that reportDeviceChecks has read, free for the next. */
  private readonly flagReadbacks: GPUBuffer[] = [];
  /** Each computed index's check (plan.computedIndexChecks order) runs right after this kernel (plan.kernels
   *  index): the last one writing its buffer, so that the kernels after it that update state (PlanKernel.checkFlags)
   *  see a failure and store nothing. */
  private readonly computedCheckAfter: number[];
  /** The first kernel reading the check flags (plan.kernels.length when none). */
  private readonly firstGuarded: number;
  /**
   * The kernels of this plan that ran their pipeline's first dispatch on this device in a run that read results
   * back, each with the wall time (ms) from the previous one's completion (the first: from the submission) to its
   * own: on software adapters mostly the driver's compilation of it. Empty until such a run; later runs leave it.
   */
  readonly firstDispatchMs: { kernel: string; ms: number }[] = [];

  private constructor(
    readonly runtime: GpuRuntime,
    /** The plan this executor runs: the compiled plan or the variant chosen for the device. */
    readonly plan: KernelPlan,
    private readonly layouts: GPUBindGroupLayout[],
    private readonly pipelines: GPUComputePipeline[],
    /** The override constants each kernel's pipeline was created with (plan.kernels order). */
    readonly constants: readonly Readonly<Record<string, number>>[],
    /** Which kernels run their subgroup variant (plan.kernels order). */
    readonly subgroupVariants: readonly boolean[],
    /** Which kernels run a choice from the tuning cache, from which cache and entry, and the notes on what was ignored. */
    readonly tuning: ExecutorTuning,
    private readonly checkPipelines: { index?: CheckPipeline; factor?: CheckPipeline; unit?: CheckPipeline } = {},
  ) {
    this.staging = new StagingBuffers(runtime.device);
    this.dimsBuffer = runtime.device.createBuffer({
      label: 'tdc dims',
      size: Math.max(16, Math.ceil(plan.symbols.length / 4) * 16),
      usage: USAGE.UNIFORM | USAGE.COPY_DST,
    });
    const nChecks = computedIndexBase(plan) + (plan.computedIndexChecks?.length ?? 0);
    if (nChecks) {
      this.flags = runtime.device.createBuffer({ label: 'tdc error flags', size: 12 * nChecks, usage: USAGE.STORAGE | USAGE.COPY_SRC | USAGE.COPY_DST });
      for (let i = 0; i < nChecks; i++)
        this.checkParams.push(runtime.device.createBuffer({ label: `tdc index check ${i}`, size: 32, usage: USAGE.UNIFORM | USAGE.COPY_DST }));
    }
    if (plan.kernels.some((k) => k.checkFlags !== undefined)) {
      if (this.flags) this.flagsBinding = { buffer: this.flags, size: 4 * nChecks };
      else {
        const none = runtime.device.createBuffer({ label: 'tdc no check flags', size: 4, usage: USAGE.STORAGE, mappedAtCreation: true });
        new Uint32Array(none.getMappedRange()).fill(NO_ERROR);
        none.unmap();
        this.flagsBinding = { buffer: none, size: 4 };
      }
    }
    this.firstGuarded = plan.kernels.findIndex((k) => k.checkFlags !== undefined);
    if (this.firstGuarded < 0) this.firstGuarded = plan.kernels.length;
    this.computedCheckAfter = (plan.computedIndexChecks ?? []).map((cc) => {
      const writers = plan.kernels.flatMap((k, i) => (k.bindings.some((b) => b.buffer === cc.buffer && b.access !== 'read') ? [i] : []));
      return writers.length ? writers[writers.length - 1]! : plan.kernels.length - 1;
    });
    this.planBuffers = new Map(plan.buffers.map((b) => [b.id, b]));
    const written = new Set(plan.kernels.flatMap((k) => k.bindings.filter((b) => b.access !== 'read').map((b) => b.buffer)));
    for (const i of plan.inputs) if (!written.has(i.buffer)) this.readOnlyInputs.add(i.buffer);
    for (const s of plan.outputs.state ?? []) if (s.inPlace && plan.inputs.some((i) => i.buffer === s.buffer)) this.inPlaceInputs.add(s.buffer);
  }

  /** An input whose own buffer is made only when a run gives it as host data or a buffer to copy. */
  private bindable(buffer: number): boolean {
    return this.readOnlyInputs.has(buffer) || this.inPlaceInputs.has(buffer);
  }

  /**
   * Chooses the plan for this device among the compiled plan and its variants (ExecutorOptions.planVariant;
   * `executor.plan` is the one chosen), validates it and builds every pipeline (compile errors name the kernel), with the kernels' override
   * constants (workgroup sizes: ExecutorOptions.workgroupSize, else each kernel's default for this adapter).
   * Pipelines are cached per device, kernel source and constants: an executor created again for the same
   * stage (tdc-runtime/node reuses devices) compiles nothing, and the native code of a pipeline is made once
   * (Dawn frees it only when V8 collects it).
   */
  static async create(target: GpuRuntime | GPUDevice, compiled: KernelPlan, opts: ExecutorOptions = {}): Promise<PlanExecutor> {
    if (!(target instanceof GpuRuntime) && !isGpuDevice(target))
      throw new GpuUsageError(`PlanExecutor.create: the first argument must be a GpuRuntime or a GPUDevice, got ${describeValue(target)}`, 'open one with GpuRuntime.open() (Node: from tdc-runtime/node), or pass the GPUDevice you share');
    if (compiled === null || typeof compiled !== 'object') throw new PlanError(`PlanExecutor.create: the plan is ${describeValue(compiled)}, not a kernel plan`);
    if (opts === null || typeof opts !== 'object') throw new GpuUsageError(`PlanExecutor.create: the options must be an object (ExecutorOptions), got ${describeValue(opts)}`);
    const rt = target instanceof GpuRuntime ? target : GpuRuntime.fromDevice(target);
    rt.check();
    if (rt.computesNothing)
      throw new NoWebGpuAdapterError(
        "the adapter is Dawn's null backend, which validates shaders but computes nothing (a plan run on it would return whatever its buffers held)",
        "open the runtime on a backend that computes (e.g. vulkan), or leave the backend to Dawn's choice",
      );
    if (opts.subgroups !== undefined && typeof opts.subgroups !== 'boolean')
      throw new GpuInputError(`subgroups must be true, false or left out, got ${describeValue(opts.subgroups)}`);
    if (opts.planVariant !== undefined && opts.planVariant !== 'auto' && opts.planVariant !== 'default')
      throw new GpuInputError(`planVariant must be 'auto' or 'default', got ${JSON.stringify(opts.planVariant)}`);
    const plan = selectPlanVariant(compiled, rt.device.limits.maxStorageBuffersPerShaderStage, opts.planVariant);
    checkPlan(plan, rt.device.limits);
    const device = rt.device;
    const info = rt.adapter?.info ?? device.adapterInfo;
    const support = subgroupSupport(device, rt.gpu, info);
    const source = opts.tuning === false ? undefined : opts.tuning !== undefined ? { doc: opts.tuning, source: 'the tuning cache given to PlanExecutor.create' } : rt.tuning;
    const key = adapterKey(rt.adapterInfo, { min: info?.subgroupMinSize, max: info?.subgroupMaxSize });
    const tuned: Omit<TunedChoices, 'entry'> = source?.problem
      ? { entries: [], workgroupSizes: [], subgroups: [], notes: [`${source.source} is ignored: it ${source.problem}`] }
      : tunedChoices(source?.doc, plan, key, device.limits, !subgroupsUnavailable(support), source?.source);
    for (const note of tuned.notes) (opts.onNote ?? ((m: string) => console.warn(m)))(`tdc: ${note}`);
    const own = opts.kernels ?? {};
    const constants = overrideConstants(
      plan.kernels,
      isSoftwareAdapter(rt.adapterInfo),
      device.limits,
      opts.workgroupSize,
      plan.kernels.map((k, i) => own[k.name]?.workgroupSize ?? tuned.workgroupSizes[i]),
    );
    const subgroups = chooseSubgroupVariants(
      plan.kernels,
      constants.map((c) => c['wg_size']),
      support,
      opts.subgroups,
      plan.kernels.map((k, i) => own[k.name]?.subgroups ?? (opts.subgroups === undefined ? tuned.subgroups[i] : undefined)),
    );
    // the tuned parts that apply: those the application did not choose itself
    const tunedKernels = plan.kernels.flatMap((k, i) => {
      const entry = tuned.entries[i];
      if (!entry) return [];
      const o = k.overrides?.find((x) => x.role === 'workgroupSize');
      const wg = tuned.workgroupSizes[i] !== undefined && own[k.name]?.workgroupSize === undefined && o && requestedWorkgroupSize(o, opts.workgroupSize) === undefined ? { workgroupSize: tuned.workgroupSizes[i]! } : {};
      const sg = tuned.subgroups[i] !== undefined && own[k.name]?.subgroups === undefined && opts.subgroups === undefined ? { subgroups: tuned.subgroups[i]! } : {};
      return 'workgroupSize' in wg || 'subgroups' in sg ? [{ kernel: k.name, ...wg, ...sg, entry }] : [];
    });
    const codes = plan.kernels.map((k, i) => (subgroups[i] ? k.wgslSubgroups! : k.wgsl));
    let cache = pipelineCache.get(device);
    if (!cache) pipelineCache.set(device, (cache = new Map()));
    const keys = plan.kernels.map((k, i) => pipelineKey(k, constants[i]!, codes[i]!));
    // this plan's pipelines, held here: building the missing ones may evict cached ones it also uses
    const found = keys.map((key) => cache.get(key));
    const missing = plan.kernels.map((_, i) => i).filter((i) => !found[i]);
    device.pushErrorScope('validation');
    const layouts = new Map(
      missing.map((i) => {
        const k = plan.kernels[i]!;
        return [
          i,
          device.createBindGroupLayout({
            label: k.name,
            entries: [
              { binding: 0, visibility: STAGE_COMPUTE, buffer: { type: 'uniform' } },
              ...k.bindings.map((b) => ({
                binding: b.binding,
                visibility: STAGE_COMPUTE,
                buffer: { type: b.access === 'read' ? ('read-only-storage' as const) : ('storage' as const) },
              })),
              ...(k.checkFlags !== undefined ? [{ binding: k.checkFlags, visibility: STAGE_COMPUTE, buffer: { type: 'read-only-storage' as const } }] : []),
            ],
          }),
        ] as const;
      }),
    );
    const modules = new Map(missing.map((i) => [i, device.createShaderModule({ label: plan.kernels[i]!.name, code: codes[i]! })] as const));
    const setupError = await rt.wait(device.popErrorScope(), 'popErrorScope');
    if (setupError) {
      const infos = await Promise.all(missing.map((i) => rt.wait(modules.get(i)!.getCompilationInfo(), 'getCompilationInfo')));
      const msgs = infos.flatMap((info, j) =>
        info.messages.filter((m) => m.type === 'error').map((m) => `  ${plan.kernels[missing[j]!]!.name}.wgsl:${m.lineNum}:${m.linePos}: ${m.message}`),
      );
      const names = missing.filter((_, j) => infos[j]!.messages.some((m) => m.type === 'error')).map((i) => plan.kernels[i]!.name);
      throw new GpuValidationError(
        names.length
          ? `kernel${names.length > 1 ? 's' : ''} ${names.join(', ')} do${names.length > 1 ? '' : 'es'} not compile:\n${msgs.join('\n')}`
          : `setting up the kernel plan: ${setupError.message}`,
      );
    }
    // One clock for all compilations, restarted whenever one completes (a stall bound, not a total: a device
    // may compile them one after another, and a starved process slowly); a compile error stays TDC522.
    const pipelines = await rt.waitProgress(
      missing.map((i) => {
        const k = plan.kernels[i]!;
        return device
          .createComputePipelineAsync({
            label: k.name,
            layout: device.createPipelineLayout({ bindGroupLayouts: [layouts.get(i)!] }),
            compute: Object.keys(constants[i]!).length ? { module: modules.get(i)!, constants: constants[i]! } : { module: modules.get(i)! },
          })
          .catch((e: unknown) => {
            throw new GpuValidationError(`kernel ${k.name}: ${messageOf(e)}`);
          });
      }),
      (j) => `compiling kernel ${plan.kernels[missing[j]!]!.name}`,
    );
    missing.forEach((i, j) => {
      found[i] = { layout: layouts.get(i)!, pipeline: pipelines[j]! };
      if (cache.size >= PIPELINE_CACHE) cache.delete(cache.keys().next().value!);
      cache.set(keys[i]!, found[i]!);
    });
    const checkPipelines = {
      ...(plan.indexInputs?.length || plan.computedIndexChecks?.length ? { index: await checkPipeline(rt, cache, 'index', plan.checkKernels!.index!) } : {}),
      ...(plan.factorChecks?.length ? { factor: await checkPipeline(rt, cache, 'factor', plan.checkKernels!.factor!) } : {}),
      ...(plan.unitInputs?.length ? { unit: await checkPipeline(rt, cache, 'unit', plan.checkKernels!.unit!) } : {}),
    };
    rt.check();
    const built = found.map((b) => b!);
    return new PlanExecutor(
      rt,
      plan,
      built.map((b) => b.layout),
      built.map((b) => b.pipeline),
      constants,
      subgroups,
      {
        ...(source ? { source: source.source } : {}),
        ...(tunedKernels.length ? { entry: tunedKernels[0]!.entry } : {}),
        kernels: tunedKernels,
        notes: tuned.notes,
      },
      checkPipelines,
    );
  }

  /**
   * Runs forward+backward once. Inputs are checked completely before anything is uploaded or dispatched. Host
   * arrays are taken at the call: with no run in flight this one starts (and uploads them) before run() returns;
   * behind one it waits its turn with a copy of them. Either way the caller may refill them once run() returns.
   * With readback 'all', each gradient is copied into a new Float32Array, or into `into`'s array for that
   * input (exactly the gradient's length) — a training loop that reuses its arrays saves the host allocation,
   * which for large gradients can cost more than the kernels (fresh memory is faulted in page by page).
   */
  run(inputs: ReadonlyMap<string, TensorInput>, opts: { readback: true | 'all'; into?: ReadonlyMap<string, Float32Array> }): Promise<HostResult>;
  run(inputs: ReadonlyMap<string, TensorInput>, opts: { readback: 'scalars' }): Promise<ScalarResult>;
  run(inputs: ReadonlyMap<string, TensorInput>, opts?: { readback?: false | 'none' }): Promise<DeviceOutputs>;
  run(inputs: ReadonlyMap<string, TensorInput>, opts?: { readback?: Readback; into?: ReadonlyMap<string, Float32Array> }): Promise<DeviceOutputs | ScalarResult | HostResult>;
  run(inputs: ReadonlyMap<string, TensorInput>, opts: { readback?: Readback; into?: ReadonlyMap<string, Float32Array> } = {}): Promise<DeviceOutputs | ScalarResult | HostResult> {
    const wrong = runArgumentsProblem('run', inputs, opts);
    if (wrong) return Promise.reject(new GpuInputError(wrong));
    const mode = opts.readback === true ? 'all' : opts.readback === false || opts.readback === undefined ? 'none' : opts.readback;
    // One run at a time: they share buffers and the staging buffer. A run with none in flight starts now: its host
    // inputs are checked and uploaded (WebGPU's writeBuffer copies them) before run() returns, so the caller may
    // refill its arrays at once. One behind a run in flight waits its turn with a copy of its host inputs taken now.
    const given = this.runs.idle ? inputs : copyHostInputs(inputs);
    return this.runs.run(() => this.runNow(given, mode, opts.into));
  }

  /**
   * Encodes and submits forward+backward synchronously, reading nothing back — for hosts whose autodiff is
   * synchronous (TensorFlow.js's tape calls a custom gradient's forward without awaiting). The outputs are
   * valid in queue order (work submitted after this call sees them) until the next run or submit; `done`
   * settles once WebGPU reports this submission's validation / out-of-memory errors (await it before
   * trusting the results). Throws GpuInputError like run(), and GpuUsageError (nothing submitted) while a run() is
   * still in flight. The checks made on the device (inputs given as GPUBuffers) are reported by the next read-back
   * run, or at once by reportDeviceChecks().
   */
  submit(inputs: ReadonlyMap<string, TensorInput>): { outputs: DeviceOutputs; done: Promise<void> } {
    if (this.broken) throw this.broken;
    const wrong = runArgumentsProblem('submit', inputs, {});
    if (wrong) throw new GpuInputError(wrong);
    if (!this.runs.idle)
      throw new GpuUsageError(
        'submit() while a run() of this PlanExecutor is still in flight: submit() would overwrite the buffers that run reads back, so nothing was submitted',
        'await the run() (the glue: forward() / dispatch()) before calling submit(), or use run() for both: runs queue one behind another',
      );
    this.runtime.check();
    const { prepared, env } = this.prepareInputs(inputs);
    const device = this.runtime.device;
    device.pushErrorScope('internal');
    device.pushErrorScope('out-of-memory');
    device.pushErrorScope('validation');
    const pop = () => Promise.all([device.popErrorScope(), device.popErrorScope(), device.popErrorScope()]);
    try {
      this.encodeAndSubmit(prepared, env, []);
    } catch (e) {
      pop().catch(() => {});
      throw e;
    }
    const popped = pop();
    const done = this.namingForeignBuffers(
      this.runtime.wait(popped, 'popErrorScope (submitting the kernel plan)').then((errors) => {
        const first = errors.find((e) => e !== null);
        if (first) throw new GpuValidationError(`running the kernel plan: ${first.message}`);
      }),
      prepared,
    );
    this.checksEnv = env;
    done.catch(() => {}); // observed by the caller; never an unhandled rejection
    return { outputs: this.deviceOutputs(), done };
  }

  /**
   * Bytes of device memory this executor's own buffers hold now: the plan's buffers made so far, the readback
   * staging buffer, the dims uniform and the input checks' buffers. Inputs bound in place are the caller's and
   * take nothing here (an input's own buffer is made only when a run gives it as host data or a copied buffer).
   */
  get deviceBytes(): number {
    let n = this.staging.bytes + this.dimsBuffer.size + (this.flags?.size ?? 0) + (this.flagsBinding && this.flagsBinding.buffer !== this.flags ? this.flagsBinding.size : 0);
    for (const b of this.buffers.values()) n += b.bytes;
    for (const b of this.checkParams) n += b.size;
    for (const b of this.flagReadbacks) n += b.size;
    return n;
  }

  /** The device buffer of a gradient (valid after a run; overwritten by the next). */
  gradBuffer(input: string): GPUBuffer | undefined {
    const g = this.plan.outputs.grads.find((x) => x.input === input);
    return g ? this.buffers.get(g.buffer)?.gpu : undefined;
  }

  /** The device buffer of plan buffer `id` (e.g. plan.outputs.state; valid after a run, overwritten by the next). */
  planBuffer(id: number): GPUBuffer | undefined {
    return this.buffers.get(id)?.gpu;
  }

  /** The device buffer the latest run bound for plan buffer `id`: the caller's for an input bound in place (a
   *  state input the plan updates in place: the updated state), else the executor's own (planBuffer). */
  boundBuffer(id: number): GPUBuffer | undefined {
    return this.bound.get(id) ?? this.planBuffer(id);
  }

  /** Frees the executor's device buffers (the device itself belongs to the runtime). */
  destroy(): void {
    for (const b of this.buffers.values()) b.gpu.destroy();
    this.buffers.clear();
    this.sizings.clear();
    this.deviceOut = undefined;
    this.staging.destroy();
    this.dimsBuffer.destroy();
    this.flags?.destroy();
    if (this.flagsBinding && this.flagsBinding.buffer !== this.flags) this.flagsBinding.buffer.destroy();
    for (const b of this.checkParams) b.destroy();
    for (const b of this.flagReadbacks.splice(0)) b.destroy();
    this.broken ??= new GpuStageDestroyedError('this PlanExecutor was destroyed: create a new one to run the stage again');
  }

  // ---- one run ----------------------------------------------------------------------------------------
  private async runNow(inputs: ReadonlyMap<string, TensorInput>, mode: 'none' | 'scalars' | 'all', into?: ReadonlyMap<string, Float32Array>): Promise<DeviceOutputs | ScalarResult | HostResult> {
    if (this.broken) throw this.broken;
    this.runtime.check();
    const { prepared, env } = this.prepareInputs(inputs);
    if (into && mode === 'all') this.checkInto(into, env);
    const { scalars, grads } = this.plan.outputs;
    const readList = mode === 'none' ? [] : mode === 'scalars' ? [scalars.buffer] : [scalars.buffer, ...grads.map((g) => g.buffer)];

    // a run that waits submits each kernel at its pipeline's first dispatch on its own (see dispatchedPipelines)
    const firsts = new Set(mode === 'none' ? [] : this.pipelines.flatMap((p, i) => (dispatchedPipelines.has(p) ? [] : [i])));
    // where waits poll on the CPU, how this run polls: through the wait hook or flat out (wait-estimate.ts)
    const expect = mode === 'none' ? undefined : (this.sizingFor(env).waits[mode] ??= new WaitEstimate());
    const polling: Polling = this.runtime.busyWaits && !firsts.size && expect ? expect.polling() : 'hooked';
    const submitted = performance.now();
    // Everything that touches the device sits inside the error scopes, so a failure is this run's error.
    const started = await this.runtime.scopedStart('running the kernel plan', () => this.encodeAndSubmit(prepared, env, readList, firsts), polling);
    const scopes = this.namingForeignBuffers(started.scopes, prepared);
    const { readBytes, layout, head, segments, dispatched } = started.value;
    if (head === 2) this.checksUnread = false; // this run reads the flags back, and reports them
    const deviceOut = this.deviceOutputs();
    if (mode === 'none') {
      await scopes;
      return deviceOut;
    }
    // chunk 0 holds the scalars and the check flags (the head) and the first gradient bytes; every later chunk was
    // submitted on its own and is mapped and copied out in turn (readback.ts)
    const chunks = layout!.chunks;
    const first = this.staging.chunk(0, chunks[0]!);
    const described = this.describeWork(env);
    const work = `running ${described}`;
    const estimate = expect!;
    // where waits poll on the CPU, sleep through most of the expected work first (wait-estimate.ts)
    const sleeps = this.runtime.busyWaits && !segments.length && estimate.sleepMs(performance.now() - submitted) > 0;
    // A run that neither sleeps nor waits for first dispatches maps its readback now, and waits for it and the
    // error scopes together: popping the scopes resolves only at the device's next poll, and waiting for that
    // before mapping costs a poll interval more per run (on a software adapter's throttled polling, most of a
    // short step's time). A run that sleeps maps after its sleep: a pending map keeps Dawn polling.
    // (settled here, so that a failed scope does not leave the map's rejection unhandled)
    const earlyMapped =
      !segments.length && !sleeps
        ? this.runtime.wait(first.mapAsync(MAP_READ, 0, chunks[0]!), work, undefined, polling).then(
            () => ({ ok: true as const }),
            (e: unknown) => ({ ok: false as const, e }),
          )
        : undefined;
    if (!earlyMapped) await scopes;
    // the arrays the gradients are copied into, made while the device works with their pages mapped (host-floats.ts)
    const make = this.runtime.hostFloats ?? ((n: number) => touchPages(new Float32Array(n)));
    const hostArrays = mode === 'all' ? grads.map((g, i) => into?.get(g.input) ?? make(readBytes[i + 1]! / 4)) : [];

    const broken = (e: unknown): never => {
      // a staging buffer may still be mid-map, the kernels still running: this executor is done for
      const why = e instanceof Error ? e.message : String(e);
      this.broken = new GpuStageDestroyedError(
        `this PlanExecutor is unusable after an earlier failure (${why})`,
        e instanceof GpuTimeoutError ? 'the timed-out work may still be running: open a new GpuRuntime (or end the process)' : undefined,
      );
      throw e;
    };
    if (earlyMapped) {
      // the scopes' error is the run's error; the map, when it completed, is undone so the staging buffer stays usable
      const scopeFailure = await scopes.then(
        () => undefined,
        (e: unknown) => e as Error,
      );
      const m = await earlyMapped;
      if (scopeFailure) {
        if (m.ok) first.unmap();
        else if (m.e instanceof GpuTimeoutError) broken(m.e);
        throw scopeFailure;
      }
      if (!m.ok) broken(m.e);
      estimate.record(performance.now() - submitted, false, 0, polling);
      for (const i of dispatched) dispatchedPipelines.add(this.pipelines[i]!);
    } else {
      try {
        if (segments.length) {
          const at = segments.map(() => 0);
          await this.runtime.waitProgress(
            segments.map((g, j) => g.done.then(() => (at[j] = performance.now()))),
            (j) =>
              `${work}: kernel ${this.plan.kernels[segments[j]!.kernel]!.name}, at its first dispatch on this device (software adapters compile it then),`,
          );
          segments.forEach((g, j) => this.firstDispatchMs.push({ kernel: this.plan.kernels[g.kernel]!.name, ms: at[j]! - (j ? at[j - 1]! : submitted) }));
        }
        // how long, measured now: what came since submit (the scopes, paging in the gradients' arrays) counts
        const sleep = sleeps ? estimate.sleepMs(performance.now() - submitted) : 0;
        if (sleep) await new Promise((resolve) => setTimeout(resolve, sleep));
        const mapping = performance.now();
        await this.runtime.wait(first.mapAsync(MAP_READ, 0, chunks[0]!), work);
        const ready = performance.now();
        if (!segments.length) estimate.record(ready - submitted, sleep > 0, ready - mapping, polling);
        for (const i of dispatched) dispatchedPipelines.add(this.pipelines[i]!);
      } catch (e) {
        broken(e);
      }
    }
    // The mapped ranges are detached by unmap(): scalars are read from chunk 0, gradients copied out into arrays
    // the caller owns (new + set: TypedArray.slice of a mapped range is several times slower).
    const mapped = first.getMappedRange(0, chunks[0]!);
    const flagsAt = head === 2 ? readBytes[0]! : -1;
    const failed = flagsAt >= 0 ? this.flagsError(mapped, flagsAt, env) : undefined;
    if (failed) {
      // the later chunks are not mapped yet: their staging buffers stay usable
      first.unmap();
      throw failed;
    }
    const sc = new Float32Array(mapped, 0, readBytes[0]! / 4);
    const terms: Record<string, number> = Object.create(null) as Record<string, number>; // user names: '__proto__' is a key
    for (const t of scalars.terms) terms[t.name] = sc[t.index]!;
    const result: Omit<ScalarResult, 'nonfinite'> = { loss: sc[scalars.loss]!, terms, device: deviceOut };
    if (scalars.modelTerm) result.modelTerm = sc[scalars.modelTerm.index]!;
    if (mode === 'scalars') {
      first.unmap();
      return withNonfinite(result);
    }
    // the later chunks, mapped together (their copies were submitted after chunk 0's); each chunk's gradient
    // pieces copied out as soon as it is mapped, while the device may still be copying the next ones
    const later = chunks.slice(1).map((bytes, j) => {
      const b = this.staging.chunk(j + 1, bytes);
      return { buffer: b, mapped: this.runtime.wait(b.mapAsync(MAP_READ, 0, bytes), `reading back the gradients of ${described}`, undefined, polling) };
    });
    const copyOut = (k: number, range: ArrayBuffer): void => {
      for (const c of layout!.copies[k]!) if (c.part >= head) hostArrays[c.part - head]!.set(new Float32Array(range, c.chunkOffset, c.bytes / 4), c.partOffset / 4);
    };
    copyOut(0, mapped);
    first.unmap();
    for (const [j, c] of later.entries()) {
      try {
        await c.mapped;
      } catch (e) {
        broken(e);
      }
      copyOut(j + 1, c.buffer.getMappedRange(0, chunks[j + 1]!));
      c.buffer.unmap();
    }
    const hostGrads = new Map<string, Float32Array>();
    grads.forEach((g, i) => hostGrads.set(g.input, hostArrays[i]!));
    return withNonfinite({ ...result, grads: hostGrads });
  }

  /**
   * After a problem found on the device: the run went ahead, but the kernels that update state in place (CRD's
   * banks, in a caller's buffer when the glue's ResidentState binds them) read the check flags and stored nothing
   * (PlanKernel.checkFlags), so that state is as it was — as torch, which raises before it updates anything. The
   * other state outputs (CRD's params) hold the state inputs' values (the kernel storing them reads the flags too).
   */
  private stateKeptNote(): string {
    const names = (this.plan.outputs.state ?? []).filter((s) => s.inPlace && this.bound.has(s.buffer) && this.bound.get(s.buffer) !== this.buffers.get(s.buffer)?.gpu).map((s) => `'${s.name}'`);
    return names.length ? `; the state the plan updates in place in your buffers (${names.join(', ')}) was left as it was` : '';
  }

  /** `into` names gradients of this plan, each with an array of exactly the gradient's length at `env`, no two
   *  sharing memory (the later copy would overwrite the earlier gradient). */
  private checkInto(into: ReadonlyMap<string, Float32Array>, env: SymbolEnv): void {
    const seen: [string, Float32Array][] = [];
    for (const [name, arr] of into) {
      const g = this.plan.outputs.grads.find((x) => x.input === name);
      if (!g) {
        const grads = this.plan.outputs.grads.map((x) => x.input);
        const dym = didYouMean(name, grads);
        throw new GpuInputError(`readback into: '${name}' is not a gradient of this plan (${dym ? `${dym} ` : ''}gradients: ${grads.join(', ') || 'none'})`);
      }
      const n = g.shape.reduce<number>((a, d) => a * evalDim(d, env), 1);
      if (!(arr instanceof Float32Array) || arr.length !== n)
        throw new GpuInputError(
          `readback into: the array for '${name}' must be a Float32Array of ${n} elements (the gradient's), got ${arr instanceof Float32Array ? (isDetached(arr) ? 'one whose ArrayBuffer was detached (transferred: postMessage, structuredClone)' : arr.length) : describeValue(arr)}`,
        );
      const other = seen.find(([, b]) => b.buffer === arr.buffer && b.byteOffset < arr.byteOffset + arr.byteLength && arr.byteOffset < b.byteOffset + b.byteLength);
      if (other && n > 0)
        throw new GpuInputError(`readback into: the arrays for '${other[0]}' and '${name}' share memory: each gradient needs an array of its own`);
      seen.push([name, arr]);
    }
  }

  /** Uploads, encodes the dispatches (and the copies of `readList` into the staging buffer) and submits. */
  private encodeAndSubmit(
    prepared: readonly PreparedInput[],
    env: SymbolEnv,
    readList: readonly number[],
    /** Kernels submitted each at the end of a command buffer of its own, their completion awaited separately. */
    submitAfter: ReadonlySet<number> = new Set(),
  ): { readBytes: number[]; layout: ReadbackLayout | undefined; head: number; segments: { kernel: number; done: Promise<unknown> }[]; dispatched: number[] } {
    const device = this.runtime.device;
    const sizing = this.sizingFor(env);
    this.ownInputs(sizing, prepared);
    // scalars: the whole buffer; gradients: their shape's elements (the buffer may be padded to whole vec4s)
    const readBytes = readList.map((id, i) => 4 * (i === 0 ? sizing.lengths.get(id)! : sizing.gradElems[i - 1]!));
    // the readback stream: the scalars, the error flags (read with them), then the gradients (readback.ts)
    const reads: { buffer: GPUBuffer; bytes: number }[] = readList.map((id, i) => ({ buffer: this.buffers.get(id)!.gpu, bytes: readBytes[i]! }));
    const head = this.flags && readList.length ? 2 : 1;
    if (head === 2) reads.splice(1, 0, { buffer: this.flags!, bytes: this.flags!.size });
    const layout = readList.length ? readbackLayout(reads.map((r) => r.bytes), head) : undefined;
    const copyChunk = (e: GPUCommandEncoder, k: number): void => {
      const staging = this.staging.chunk(k, layout!.chunks[k]!);
      for (const c of layout!.copies[k]!) e.copyBufferToBuffer(reads[c.part]!.buffer, c.partOffset, staging, c.chunkOffset, c.bytes);
    };
    const key = envKey(env, this.plan.symbols);
    if (key !== this.dimsKey) {
      device.queue.writeBuffer(this.dimsBuffer, 0, Uint32Array.from(this.plan.symbols, (s) => env[s]!));
      this.dimsKey = key;
    }
    for (const p of prepared) {
      const own = this.buffers.get(p.buffer)?.gpu;
      const b = p.direct ? p.device : own;
      if (b) this.bound.set(p.buffer, b);
    }
    for (const p of prepared)
      if (p.host && p.bytes) device.queue.writeBuffer(this.buffers.get(p.buffer)!.gpu, 0, p.host.buffer, p.host.byteOffset, p.bytes);
    let enc = device.createCommandEncoder({ label: 'tdc forward+backward' });
    for (const p of prepared) if (p.device && !p.direct && p.bytes) enc.copyBufferToBuffer(p.device, 0, this.buffers.get(p.buffer)!.gpu, 0, p.bytes);
    const bindGroups = this.bindGroupsFor(sizing, prepared);
    const checks = this.deviceIndexChecks(prepared, env);
    if (this.flags && this.flagsNeedReset) {
      device.queue.writeBuffer(this.flags, 0, new Uint32Array(this.flags.size / 4).fill(NO_ERROR));
      this.flagsNeedReset = false;
    }
    let pass = enc.beginComputePass();
    for (const [slot, c] of checks) this.dispatchCheck(pass, this.checkPipelines.index!, slot, c.buffer, c.n, checkParams(c, slot, this.flags!.size / 12));
    const unitBase = (this.plan.indexInputs?.length ?? 0) + (this.plan.factorChecks?.length ?? 0);
    this.plan.unitInputs?.forEach((u, k) => {
      const p = prepared.find((x) => x.name === u.input);
      if (!p?.device || p.bytes === 0) return; // host arrays were checked before dispatch
      const buffer = p.direct ? p.device : this.buffers.get(p.buffer)!.gpu;
      this.dispatchCheck(pass, this.checkPipelines.unit!, unitBase + k, buffer, p.bytes / 4, unitParams(p.bytes / 4, unitBase + k, this.flags!.size / 12));
    });
    const segments: { kernel: number; done: Promise<unknown> }[] = [];
    const dispatched: number[] = [];
    // a computed index is checked right after the kernel that stores it, before the kernels updating state
    // (dispatches in a pass are ordered); factors after all the kernels
    const index = this.plan.indexInputs?.length ?? 0;
    const computedBase = computedIndexBase(this.plan);
    const checkComputed = (after: number): void =>
      this.plan.computedIndexChecks?.forEach((cc, k) => {
        if (this.computedCheckAfter[k] !== after) return;
        const n = evalDim(cc.n, env);
        if (n === 0) return;
        const c = { buffer: this.buffers.get(cc.buffer)!.gpu, n, size: evalDim(cc.size, env) };
        this.dispatchCheck(pass, this.checkPipelines.index!, computedBase + k, c.buffer, n, checkParams(c, computedBase + k, this.flags!.size / 12));
      });
    for (let i = 0; i < this.pipelines.length; i++) {
      const [x, y, z] = sizing.dispatch[i]!;
      if (x * y * z === 0) {
        checkComputed(i);
        continue;
      }
      pass.setPipeline(this.pipelines[i]!);
      pass.setBindGroup(0, bindGroups[i]!);
      pass.dispatchWorkgroups(x, y, z);
      dispatched.push(i);
      checkComputed(i);
      if (submitAfter.has(i)) {
        pass.end();
        device.queue.submit([enc.finish()]);
        segments.push({ kernel: i, done: device.queue.onSubmittedWorkDone() });
        enc = device.createCommandEncoder({ label: 'tdc forward+backward' });
        pass = enc.beginComputePass();
      }
    }
    this.plan.factorChecks?.forEach((fc, k) => {
      const size = evalDim(fc.size, env);
      const n = evalDim(fc.count, env) * size;
      if (n === 0) return;
      const c = { buffer: this.buffers.get(fc.buffer)!.gpu, n, size, terms: fc.terms };
      this.dispatchCheck(pass, this.checkPipelines.factor!, index + k, c.buffer, n * size, factorParams(c, index + k, this.flags!.size / 12));
    });
    pass.end();
    if (layout) copyChunk(enc, 0);
    device.queue.submit([enc.finish()]);
    // each later chunk in a submission of its own: its map completes while the next ones are still copied
    for (let k = 1; k < (layout?.chunks.length ?? 0); k++) {
      const e = device.createCommandEncoder({ label: `tdc readback ${k}` });
      copyChunk(e, k);
      device.queue.submit([e.finish()]);
    }
    return { readBytes, layout, head, segments, dispatched };
  }

  /** The device checks' verdict from the flags read back (at byte `flagsAt` of `mapped`): a GpuInputError naming
   *  each failed check, or undefined. The flags are reset before the next submission that dispatches checks. */
  private flagsError(mapped: ArrayBuffer, flagsAt: number, env: SymbolEnv): GpuInputError | undefined {
    const index = this.plan.indexInputs ?? [];
    const nChecks = this.flags!.size / 12;
    const flags = new Uint32Array(mapped, flagsAt, nChecks);
    // the offending values' bits, read as i32 (class indices) or f32 (factor entries, probabilities)
    const asInt = new Int32Array(mapped, flagsAt + 4 * nChecks, nChecks);
    const asFloat = new Float32Array(mapped, flagsAt + 4 * nChecks, nChecks);
    const problems: string[] = [];
    // an input check failed (checked before the plan's kernels) or a computed index's (checked before the kernels
    // updating state): those kernels stored nothing; a factor's check runs after them, it holds back later runs
    let inputFailed = false;
    let stateKept = false;
    const computedBase = computedIndexBase(this.plan);
    const computedFailed: ComputedIndexCheck[] = [];
    const badIndexInputs: string[] = [];
    const badUnitInputs: string[] = [];
    flags.forEach((f, i) => {
      if (f === NO_ERROR) return;
      const c = index[i];
      const nFactor = this.plan.factorChecks?.length ?? 0;
      if (i >= computedBase) {
        const cc = this.plan.computedIndexChecks![i - computedBase]!;
        problems.push(computedIndexProblem({ ...cc, size: evalDim(cc.size, env) }, f, asInt[i]!));
        computedFailed.push(cc);
        if (this.computedCheckAfter[i - computedBase]! < this.firstGuarded) stateKept = true;
        return;
      }
      if (c) {
        problems.push(indexCheckProblem({ ...c, size: evalDim(c.size, env) }, f, asInt[i]!, true));
        badIndexInputs.push(c.input);
      } else if (i < index.length + nFactor) {
        const fc = this.plan.factorChecks![i - index.length]!;
        problems.push(factorCheckProblem({ size: evalDim(fc.size, env), terms: fc.terms }, f, asFloat[i]!));
        return;
      } else {
        const u = this.plan.unitInputs![i - index.length - nFactor]!;
        problems.push(unitCheckProblem(u, f, asFloat[i]!, true));
        badUnitInputs.push(u.input);
      }
      inputFailed = stateKept = true;
    });
    this.flagsNeedReset = true;
    if (!problems.length) return undefined;
    return new GpuInputError(
        `${inputFailed || !computedFailed.length ? 'invalid input values' : 'indices out of range'} (checked on the device)${problems.length === 1 ? `: ${problems[0]}` : `:\n${problems.map((p) => `  - ${p}`).join('\n')}`}${stateKept ? this.stateKeptNote() : ''}`,
        undefined,
        computedFailed.length ? computedFailed : undefined,
        badIndexInputs,
        badUnitInputs,
      );
  }

  /**
   * After submit(): reads back the flags of the device checks submitted since they were last read (class indices,
   * probabilities given as GPUBuffers) and rejects with the GpuInputError a read-back run would throw, clearing
   * them; resolves at once when no such check ran. Call it right after submit(), before the next submission.
   */
  reportDeviceChecks(): Promise<void> {
    if (!this.flags || !this.checksUnread) return Promise.resolve();
    this.checksUnread = false;
    const device = this.runtime.device;
    const size = this.flags.size;
    const copy = this.flagReadbacks.pop() ?? device.createBuffer({ label: 'tdc error flags readback', size, usage: MAP_READ | USAGE.COPY_DST });
    const enc = device.createCommandEncoder({ label: 'tdc error flags readback' });
    enc.copyBufferToBuffer(this.flags, 0, copy, 0, size);
    device.queue.submit([enc.finish()]);
    this.flagsNeedReset = true; // the next submission's reset is queued after this copy
    const env = this.checksEnv;
    return this.runtime.wait(copy.mapAsync(MAP_READ), 'reading back the device checks').then(() => {
      const failed = this.flagsError(copy.getMappedRange(), 0, env);
      copy.unmap();
      if (this.broken) copy.destroy();
      else this.flagReadbacks.push(copy);
      if (failed) throw failed;
    });
  }

  /** `scopes` (a run's or submit()'s error scopes), a validation error it rejects with replaced by a GpuInputError
   *  when a caller's GPUBuffer that the run used cannot be used on this device: made on another GPUDevice
   *  (foreign-buffers.ts). Looked into only after such an error: a run that succeeds pays nothing for it. */
  private namingForeignBuffers(scopes: Promise<void>, prepared: readonly PreparedInput[]): Promise<void> {
    return namingUnusableBuffers(
      this.runtime,
      scopes,
      () => prepared.flatMap((p): CallerBuffer[] => (p.device && p.bytes > 0 ? [{ what: `'${p.name}'`, buffer: p.device, use: p.direct ? 'bind' : 'copy' }] : [])),
      (problems) => inputError(problems, undefined, undefined, OTHER_DEVICE_HINT),
    );
  }

  /** One device check: its params, the buffer it reads (the first `elems` elements) and the flags. */
  private dispatchCheck(pass: GPUComputePassEncoder, p: CheckPipeline, slot: number, buffer: GPUBuffer, elems: number, params: ArrayBuffer): void {
    const device = this.runtime.device;
    this.checksUnread = true;
    device.queue.writeBuffer(this.checkParams[slot]!, 0, params);
    pass.setPipeline(p.pipeline);
    pass.setBindGroup(
      0,
      device.createBindGroup({
        layout: p.layout,
        entries: [
          { binding: 0, resource: { buffer: this.checkParams[slot]! } },
          { binding: 1, resource: { buffer, offset: 0, size: 4 * elems } },
          { binding: 2, resource: { buffer: this.flags! } },
        ],
      }),
    );
    const n = new Uint32Array(params, 0, 1)[0]!;
    const { x, y } = checkDispatch(n);
    pass.dispatchWorkgroups(x, y);
    // then the flagged element's value (same bind group; dispatches in a pass are ordered)
    pass.setPipeline(p.value);
    pass.dispatchWorkgroups(1);
  }

  /** The index inputs (class indices, lengths, rows) given as GPUBuffers, to check on the device (host arrays were checked already). */
  private deviceIndexChecks(prepared: readonly PreparedInput[], env: SymbolEnv): [number, DeviceIndexCheck][] {
    const out: [number, DeviceIndexCheck][] = [];
    if (!this.flags) return out;
    (this.plan.indexInputs ?? []).forEach((c, slot) => {
      const p = prepared.find((x) => x.name === c.input);
      if (!p?.device || p.bytes === 0) return;
      const buffer = p.direct ? p.device : this.buffers.get(p.buffer)!.gpu;
      out.push([slot, { input: c.input, buffer, n: p.bytes / 4, size: evalDim(c.size, env), ...(c.ignore !== undefined ? { ignore: c.ignore } : {}) }]);
    });
    return out;
  }

  /** "kernels k0_row_kd, k1_reduce_kd (workload N = 7, C = 37)": what a run dispatches, for timeouts. */
  private describeWork(env: SymbolEnv): string {
    const names = this.plan.kernels.map((k) => k.name);
    const shown = names.length > 6 ? [...names.slice(0, 6), `… ${names.length - 6} more`] : names;
    const work = this.plan.symbols.map((s) => `${s} = ${env[s]}`).join(', ');
    return `kernel${names.length === 1 ? '' : 's'} ${shown.join(', ')}${work ? ` (workload ${work})` : ''}`;
  }

  private deviceOutputs(): DeviceOutputs {
    const { scalars, grads } = this.plan.outputs;
    return (this.deviceOut ??= {
      scalars: this.buffers.get(scalars.buffer)!.gpu,
      grads: new Map(grads.map((g) => [g.input, this.buffers.get(g.buffer)!.gpu])),
    });
  }

  /** The run's bind groups: the sizing's own, or ones with the directly bound caller buffers (cached). */
  private bindGroupsFor(sizing: Sizing, prepared: readonly PreparedInput[]): GPUBindGroup[] {
    let any = false;
    let same = sizing.lastDirect !== undefined;
    for (let k = 0; k < prepared.length; k++) {
      const b = prepared[k]!.direct ? prepared[k]!.device : undefined;
      if (b) any = true;
      if (same && sizing.lastDirect![k] !== b) same = false;
    }
    if (!any) return (sizing.bindGroups ??= this.makeBindGroups(sizing.lengths));
    if (same) return sizing.lastGroups!;
    const key = prepared.map((p) => (p.direct ? bufferId(p.device!) : 0)).join(',');
    let groups = sizing.directGroups.get(key);
    if (!groups) {
      const over = new Map<number, GPUBuffer>();
      for (const p of prepared) if (p.direct) over.set(p.buffer, p.device!);
      groups = this.makeBindGroups(sizing.lengths, over);
      if (sizing.directGroups.size >= DIRECT_CACHE) sizing.directGroups.delete(sizing.directGroups.keys().next().value!);
      sizing.directGroups.set(key, groups);
    }
    sizing.lastDirect = prepared.map((p) => (p.direct ? p.device : undefined));
    sizing.lastGroups = groups;
    return groups;
  }

  private makeBindGroups(lengths: Map<number, number>, over?: ReadonlyMap<number, GPUBuffer>): GPUBindGroup[] {
    return this.plan.kernels.map((k, i) =>
      this.runtime.device.createBindGroup({
        label: k.name,
        layout: this.layouts[i]!,
        entries: [
          { binding: 0, resource: { buffer: this.dimsBuffer } },
          ...k.bindings.map((bd) => ({
            binding: bd.binding,
            resource: {
              buffer: over?.get(bd.buffer) ?? this.buffers.get(bd.buffer)!.gpu,
              offset: 0,
              size: Math.max(4, 4 * lengths.get(bd.buffer)!),
            },
          })),
          // the flags written by this run's check kernels (dispatched before the plan's kernels: each dispatch
          // sees the storage writes of those before it, in the pass and across submissions)
          ...(k.checkFlags !== undefined ? [{ binding: k.checkFlags, resource: { buffer: this.flagsBinding!.buffer, offset: 0, size: this.flagsBinding!.size } }] : []),
        ],
      }),
    );
  }

  /** Checks names, ranks, dtypes, symbol values and device limits; converts host data. Throws GpuInputError. */
  private prepareInputs(inputs: ReadonlyMap<string, TensorInput>): { prepared: PreparedInput[]; env: SymbolEnv } {
    const plan = this.plan;
    const problems: string[] = [];
    const known = new Set(plan.inputs.map((i) => i.name));
    for (const name of inputs.keys()) {
      if (!known.has(name)) {
        const dym = didYouMean(name, known);
        problems.push(`unknown input '${name}'${dym ? ` (${dym})` : ''}`);
      }
    }
    for (const i of plan.inputs) if (!inputs.has(i.name)) problems.push(`missing input '${i.name}'`);

    const shapes = new Map<string, readonly number[]>();
    for (const pi of plan.inputs) {
      const t = inputs.get(pi.name);
      if (t === undefined) continue;
      const malformed = tensorProblem(t, pi);
      if (malformed) {
        problems.push(`'${pi.name}' ${malformed}`);
        continue;
      }
      if (!Array.isArray(t.shape) || !t.shape.every((d) => Number.isInteger(d) && d >= 0)) {
        problems.push(`'${pi.name}' has an invalid shape ${JSON.stringify(t.shape) ?? String(t.shape)}: expected ${shapeToString(pi.shape)}, an Array of non-negative integers`);
        continue;
      }
      shapes.set(pi.name, t.shape);
      if (isDeviceInput(t)) continue;
      const kind = kindOf(t);
      if (kind === undefined) problems.push(`'${pi.name}' has unsupported dtype '${t.dtype}' (expected F32, F64, I32, I64, float or int)`);
      else if (kind !== pi.dtype)
        problems.push(`'${pi.name}' is ${describeDtype(t)} but the plan reads it as ${pi.dtype === 'int' ? 'integers (i32)' : 'floats (f32)'}`);
      if (t.data.length !== numelOf(t.shape))
        problems.push(`'${pi.name}' has ${t.data.length} elements, its shape [${t.shape.join(', ')}] needs ${numelOf(t.shape)}`);
    }
    const bound = bindSymbols(plan.inputs, shapes, plan.symbols, plan.equalDims);
    problems.push(...bound.problems);
    if (problems.length) throw inputError(problems);

    const env = bound.env;
    const prepared: PreparedInput[] = [];
    for (const pi of plan.inputs) {
      const t = inputs.get(pi.name)!;
      const bytes = 4 * numelOf(t.shape);
      if (isDeviceInput(t)) {
        const b = t.buffer;
        if (b.size < bytes) problems.push(`'${pi.name}': its GPUBuffer holds ${b.size} bytes, shape [${t.shape.join(', ')}] needs ${bytes}`);
        // bound in place when the plan only reads it and it covers the plan buffer (padded to vec4 rows)
        const direct =
          bytes > 0 &&
          (b.usage & USAGE.STORAGE) !== 0 &&
          (this.readOnlyInputs.has(pi.buffer) ||
            // updated in place: bound only where no other input shares the buffer (one binding may write it)
            (this.inPlaceInputs.has(pi.buffer) && !plan.inputs.some((o) => o !== pi && inputs.get(o.name) !== undefined && isDeviceInput(inputs.get(o.name)!) && (inputs.get(o.name) as { buffer: GPUBuffer }).buffer === b))) &&
          b.size >= Math.max(4, 4 * evalDim(this.planBuffers.get(pi.buffer)!.length, env)) &&
          !this.owns(b);
        if (!direct && (b.usage & USAGE.COPY_SRC) === 0)
          problems.push(
            `'${pi.name}': its GPUBuffer needs GPUBufferUsage.COPY_SRC (to be copied in)${
              b.usage & USAGE.STORAGE ? '' : ' or GPUBufferUsage.STORAGE (to be bound in place)'
            }`,
          );
        prepared.push({ name: pi.name, buffer: pi.buffer, bytes, device: b, direct });
        continue;
      }
      const host = this.convert(pi.name, pi.dtype, t as HostInput, problems);
      prepared.push({ name: pi.name, buffer: pi.buffer, bytes, host });
    }
    this.checkLimits(env, problems);
    const badIndices = this.checkIndices(inputs, env, problems);
    const badUnits = this.checkUnitInputs(inputs, problems);
    if (problems.length) throw inputError(problems, badIndices, badUnits);
    return { prepared, env };
  }

  private owns(b: GPUBuffer): boolean {
    for (const x of this.buffers.values()) if (x.gpu === b) return true;
    return false;
  }

  private convert(name: string, dtype: 'float' | 'int', t: HostInput, problems: string[]): ArrayBufferView {
    const n = t.data.length;
    if (dtype === 'float') {
      if (t.data instanceof Float32Array && !isShared(t.data)) return t.data;
      const dst = this.scratchFor(name, n, Float32Array);
      toF32(t.data as Float32Array | Float64Array | Int32Array | BigInt64Array, dst);
      return dst;
    }
    if (t.data instanceof Int32Array && !isShared(t.data)) return t.data;
    const dst = this.scratchFor(name, n, Int32Array);
    const bad = toI32(t.data as Float32Array | Float64Array | BigInt64Array, dst);
    if (bad >= 0) problems.push(`'${name}' element ${bad} is ${elementText(t.data, bad)}, not a 32-bit integer`);
    return dst;
  }

  private scratchFor<T extends Float32Array | Int32Array>(name: string, n: number, ctor: { new (n: number): T }): T {
    const cur = this.scratch.get(name);
    if (cur instanceof ctor && cur.length >= n) return (cur.length === n ? cur : cur.subarray(0, n)) as T;
    const fresh = new ctor(n);
    this.scratch.set(name, fresh);
    return fresh;
  }

  /** Index inputs (class indices, lengths, rows) given as host arrays: every value in [0, size) or the ignore value (torch raises otherwise). */
  private checkIndices(inputs: ReadonlyMap<string, TensorInput>, env: SymbolEnv, problems: string[]): string[] {
    const bad: string[] = [];
    for (const c of this.plan.indexInputs ?? []) {
      const t = inputs.get(c.input);
      if (!t || isDeviceInput(t)) continue;
      const p = hostIndexProblem({ ...c, size: evalDim(c.size, env) }, (t as HostInput).data);
      if (p) {
        problems.push(p);
        bad.push(c.input);
      }
    }
    return bad;
  }

  /** Probabilities given as host arrays (binary_cross_entropy's input): every value in [0, 1] (torch raises otherwise). */
  private checkUnitInputs(inputs: ReadonlyMap<string, TensorInput>, problems: string[]): string[] {
    const bad: string[] = [];
    for (const c of this.plan.unitInputs ?? []) {
      const t = inputs.get(c.input);
      if (!t || isDeviceInput(t)) continue;
      const data = (t as HostInput).data;
      for (let i = 0; i < data.length; i++) {
        const v = Math.fround(Number(data[i]));
        if (v >= 0 && v <= 1) continue;
        problems.push(unitCheckProblem(c, i, v, false));
        bad.push(c.input);
        break;
      }
    }
    return bad;
  }

  /** Every buffer the shapes imply fits the device (named by the tensor for inputs), before anything is allocated. */
  private checkLimits(env: SymbolEnv, problems: string[]): void {
    const lim = this.runtime.device.limits;
    problems.push(...bufferLimitProblems(this.plan, env, lim));
    for (const k of this.plan.kernels) {
      const d = this.dispatchOf(k, env);
      if (d.some((x) => x > lim.maxComputeWorkgroupsPerDimension))
        problems.push(`kernel ${k.name} would dispatch [${d.join(', ')}] workgroups; this device allows at most ${lim.maxComputeWorkgroupsPerDimension} per dimension`);
    }
  }

  /** Workgroup counts of kernel `k`: its dispatch dims over the symbols and its override constants. */
  private dispatchOf(k: PlanKernel, env: SymbolEnv): [number, number, number] {
    const c = this.constants[this.plan.kernels.indexOf(k)];
    const all = c && Object.keys(c).length ? { ...env, ...c } : env;
    return k.dispatch.map((d) => evalDim(d, all)) as [number, number, number];
  }

  /**
   * Makes (or grows) the executor's own buffers of the inputs this run does not bind in place: a read-only input's
   * buffer exists only once a run gives that input as host data or as a buffer to copy, so inputs a caller keeps
   * resident and binds in place (CRD's memory banks, tfjs activations) are never duplicated on the device. A buffer
   * grown here invalidates every bind group made over the old one.
   */
  private ownInputs(sizing: Sizing, prepared: readonly PreparedInput[]): void {
    let grown = false;
    for (const p of prepared) if (!p.direct && this.bindable(p.buffer) && this.ensureBuffer(p.buffer, sizing.lengths.get(p.buffer)!) === 'grown') grown = true;
    if (!grown) return;
    const key = envKey(sizing.env, this.plan.symbols);
    this.sizings.clear();
    this.sizings.set(key, sizing);
    sizing.bindGroups = undefined;
    sizing.directGroups.clear();
    sizing.lastDirect = undefined;
    sizing.lastGroups = undefined;
  }

  /** Plan buffer `id` holds at least `len` elements: kept, made, or grown (the smaller one destroyed). */
  private ensureBuffer(id: number, len: number): 'kept' | 'made' | 'grown' {
    const bytes = Math.max(16, 4 * len);
    const cur = this.buffers.get(id);
    if (cur && cur.bytes >= bytes) return 'kept';
    cur?.gpu.destroy();
    const gpu = this.runtime.device.createBuffer({ label: this.planBuffers.get(id)!.name, size: bytes, usage: USAGE.STORAGE | USAGE.COPY_SRC | USAGE.COPY_DST });
    this.buffers.set(id, { gpu, bytes });
    return cur ? 'grown' : 'made';
  }

  /** Buffer sizes, bind groups and dispatch sizes for `env`; grows buffers when needed. */
  private sizingFor(env: SymbolEnv): Sizing {
    const key = envKey(env, this.plan.symbols);
    const cached = this.sizings.get(key);
    if (cached) return cached;
    const lengths = new Map<number, number>();
    let reallocated = false;
    for (const b of this.plan.buffers) {
      const len = evalDim(b.length, env);
      lengths.set(b.id, len);
      if (this.bindable(b.id)) continue; // made when a run needs it (ownInputs)
      if (this.ensureBuffer(b.id, len) !== 'kept') reallocated = true;
    }
    if (reallocated) {
      this.sizings.clear(); // bind groups of other sizes point at destroyed buffers
      this.deviceOut = undefined;
    }
    const dispatch = this.plan.kernels.map((k) => this.dispatchOf(k, env));
    const gradElems = this.plan.outputs.grads.map((g) => g.shape.reduce<number>((n, d) => n * evalDim(d, env), 1));
    const sizing: Sizing = { env, lengths, dispatch, gradElems, directGroups: new Map(), waits: {} };
    if (this.sizings.size >= 4) this.sizings.delete(this.sizings.keys().next().value!);
    this.sizings.set(key, sizing);
    return sizing;
  }
}

const READBACKS: readonly unknown[] = [undefined, false, true, 'none', 'scalars', 'all'];

/** Why run()/submit()'s arguments are of the wrong kind (inputs not a Map, options not an object, an unknown
 *  readback, `into` not a Map), or undefined. */
function runArgumentsProblem(call: string, inputs: unknown, opts: unknown): string | undefined {
  const notMap = notAMap(inputs, 'inputs');
  if (notMap) return `${call}(): ${notMap}`;
  if (opts === null || typeof opts !== 'object') return `${call}(): the options must be an object ({ readback, into }), got ${describeValue(opts)}`;
  const { readback, into } = opts as { readback?: unknown; into?: unknown };
  if (!READBACKS.includes(readback)) return `${call}(): readback must be false, true, 'none', 'scalars' or 'all', got ${typeof readback === 'string' ? `'${readback}'` : describeValue(readback)}`;
  if (into !== undefined && !(into instanceof Map)) return `${call}(): readback into must be a Map of gradient name → Float32Array, got ${describeValue(into)}`;
  return undefined;
}

function describeDtype(t: HostInput): string {
  return t.dtype ? `${t.dtype}` : t.data.constructor.name;
}

function inputError(problems: string[], badIndexInputs?: readonly string[], badUnitInputs?: readonly string[], hint?: string): GpuInputError {
  return new GpuInputError(
    problems.length === 1 ? `invalid inputs: ${problems[0]}` : `invalid inputs:\n${problems.map((p) => `  - ${p}`).join('\n')}`,
    hint,
    undefined,
    badIndexInputs,
    badUnitInputs,
  );
}
