// One training step of a tfjs student against a tdc-compiled torchdistill criterion, on tfjs-webgpu's own
// GPUDevice. Per step: the teacher's forward (inference, no tape), the student's forward under tfjs's tape with
// tdc's criterion as one custom-gradient op on the hooked tensors, the student's backward from tdc's gradients,
// and optionally the optimizer's update. tdc's kernels are submitted synchronously inside tfjs's tape (tfjs
// autodiff cannot await), so the student runs forward once.
//
// Copies per step: the tensors the criterion reads are bound in place where tfjs holds them in a GPUBuffer
// (copied GPU→GPU inside tdc's command buffer when that buffer is shorter than the kernels' vec4-padded read,
// uploaded when tfjs keeps them on the CPU: small tensors, WEBGPU_CPU_FORWARD); the labels are uploaded from the
// host (read back first when a tfjs kernel made them on the GPU, so that they are checked); rank-4 NHWC tensors
// are transposed to NCHW (torchdistill's layout) by a tfjs op, and their gradients back; tdc's gradient and
// scalar buffers, which the next step overwrites, are copied into tensors tfjs owns; one readback of
// [loss, term…] per step.
/// <reference types="@webgpu/types" preserve="true" />
import { bindSymbols } from '../bind-symbols.js';
import { GpuRuntime } from '../device.js';
import { GpuInputError } from '../errors.js';
import { PlanExecutor } from '../executor.js';
import type { TensorInput } from '../tensors.js';
import type { KernelPlan } from '../plan.js';
import { TfjsWebGpu } from './backend.js';
import { TfjsStageError } from './errors.js';
import { parseHookName, resolveHooks, type HookRef } from './hooks.js';
import type { Tf, TfApi, TfGrads, TfLayersModel, TfOptimizer, TfSymbolicTensor, TfTensor } from './tfjs-types.js';

/** A compiled stage: the class `tdc compile` generates (its static `plan`), or a KernelPlan itself. */
export type StageSource = { readonly plan: KernelPlan } | KernelPlan;

export interface DistillerOptions {
  student: TfLayersModel;
  /** Required when the stage reads teacher tensors. Runs in inference mode; never trained. */
  teacher?: TfLayersModel;
  /** When given, step() applies it to the student's gradients (and returns no gradients). */
  optimizer?: TfOptimizer;
  /** Explicit module path → tfjs layer name, per side, for paths that are not layer names. */
  layers?: { student?: Record<string, string>; teacher?: Record<string, string> };
  /** Layout of the models' rank-4 tensors. 'NHWC' (tfjs's conv layers; the default): transposed to NCHW,
   *  torchdistill's layout, before the criterion reads them, so every loss sees what torchdistill sees.
   *  'NCHW': passed as they are. */
  layout?: 'NHWC' | 'NCHW';
  /** Run on this runtime (its device must be tfjs's); by default one is made from tfjs's device. */
  runtime?: GpuRuntime;
}

export interface StepResult<T extends TfTensor = TfTensor> {
  loss: number;
  /** Unweighted value of each term, by term name. */
  terms: Record<string, number>;
  /** d loss / d weight for every trainable student weight, by tfjs variable name. Owned by the caller
   *  (dispose them); absent when the distiller applied its optimizer. */
  grads?: Record<string, T>;
  /** Where each tensor the criterion read came from: 'gpu' (tfjs's GPUBuffer, no upload) or 'cpu' (uploaded). */
  inputs: Record<string, 'gpu' | 'cpu'>;
}

/** The tensor type of a `tf` namespace (tf.Tensor for the real one). */
export type TensorOf<A> = A extends { tensor(...args: never[]): infer R extends TfTensor } ? R : TfTensor;

export class TfjsDistiller<T extends TfTensor = TfTensor> {
  private readonly studentRefs: HookRef[];
  private readonly teacherRefs: HookRef[];
  private readonly hasTargets: boolean;
  private readonly scalarCount: number;
  private readonly lossIndex: number;
  private readonly termIndex: { name: string; index: number }[];
  private disposed = false;

  private constructor(
    readonly tf: Tf,
    private readonly tfw: TfjsWebGpu,
    readonly runtime: GpuRuntime,
    private readonly executor: PlanExecutor,
    private readonly ownsRuntime: boolean,
    private readonly opts: DistillerOptions,
    private readonly studentFeatures: TfLayersModel,
    private readonly teacherFeatures: TfLayersModel | undefined,
    refs: { student: HookRef[]; teacher: HookRef[] },
  ) {
    const plan = executor.plan;
    this.studentRefs = refs.student;
    this.teacherRefs = refs.teacher;
    this.hasTargets = plan.inputs.some((i) => i.name === 'targets');
    const sc = plan.buffers.find((b) => b.id === plan.outputs.scalars.buffer)!;
    this.scalarCount = typeof sc.length === 'number' ? sc.length : 1 + plan.outputs.scalars.terms.length;
    this.lossIndex = plan.outputs.scalars.loss;
    this.termIndex = plan.outputs.scalars.terms.map((t) => ({ name: t.name, index: t.index }));
  }

  /** Checks the stage against the models (hooks, trainable sides) and builds tdc's pipelines on tfjs's device. */
  static async create<A extends TfApi>(api: A, stage: StageSource, opts: DistillerOptions): Promise<TfjsDistiller<TensorOf<A>>> {
    const tfw = TfjsWebGpu.of(api);
    const tf = api as unknown as Tf;
    const plan: KernelPlan = 'kernels' in stage ? stage : stage.plan;
    const refs = { student: [] as HookRef[], teacher: [] as HookRef[] };
    for (const i of plan.inputs) {
      if (i.name === 'targets') continue;
      const ref = parseHookName(i.name);
      if (!ref)
        throw new TfjsStageError(`the stage reads '${i.name}', which the tfjs bridge cannot supply (it feeds student/…, teacher/… and targets)`);
      if (i.dtype !== 'float') throw new TfjsStageError(`the stage reads '${i.name}' as integers; model tensors are float32`);
      refs[ref.side].push(ref);
    }
    for (const g of plan.outputs.grads)
      if (!refs.student.some((r) => r.name === g.input))
        throw new TfjsStageError(
          `the stage differentiates w.r.t. '${g.input}' (a trainable teacher-side input): the tfjs bridge trains the student only`,
        );
    if (plan.outputs.state?.length) throw new TfjsStageError('the stage keeps state across steps (CRD memory banks): not supported by the tfjs bridge');
    if (refs.student.length === 0) throw new TfjsStageError('the stage reads no student tensor: nothing to train');
    if (refs.teacher.length && !opts.teacher)
      throw new TfjsStageError(`the stage reads the teacher (${refs.teacher.map((r) => `'${r.name}'`).join(', ')}): pass \`teacher\``);

    const studentFeatures = featureModel(tf, opts.student, resolveHooks(opts.student, refs.student, opts.layers?.student));
    const teacherFeatures =
      refs.teacher.length && opts.teacher ? featureModel(tf, opts.teacher, resolveHooks(opts.teacher, refs.teacher, opts.layers?.teacher)) : undefined;

    checkOptions(opts);
    if (opts.runtime && opts.runtime.device !== tfw.device)
      throw new TfjsStageError("`runtime` is on another GPUDevice than tfjs: the bridge needs tfjs's device (omit `runtime`)");
    const runtime = opts.runtime ?? GpuRuntime.fromDevice(tfw.device);
    const executor = await PlanExecutor.create(runtime, plan);
    return new TfjsDistiller<TensorOf<A>>(tf, tfw, runtime, executor, !opts.runtime, opts, studentFeatures, teacherFeatures, refs);
  }

  /** The plan's tensors in the order the bridge feeds them (student hooks, teacher hooks). */
  get reads(): { student: readonly string[]; teacher: readonly string[] } {
    return { student: this.studentRefs.map((r) => r.name), teacher: this.teacherRefs.map((r) => r.name) };
  }

  /**
   * One training step on a batch: `x` the models' input(s), `targets` the class indices (int32 tensor or
   * Int32Array; float tensors and number arrays holding integers are read as such). Returns the loss, every term and (without an optimizer) the gradients.
   */
  async step(x: T | T[], targets?: T | Int32Array | readonly number[]): Promise<StepResult<T>> {
    if (this.disposed) throw new TfjsStageError('this TfjsDistiller was disposed');
    const tf = this.tf;
    const xs = Array.isArray(x) ? x : [x];
    const xNames = xs.map((_, i) => (Array.isArray(x) ? `x[${i}]` : 'x'));
    xs.forEach((t, i) => checkTensor(t, xNames[i]!));
    this.checkBatch(xs, xNames);
    if (this.hasTargets && targets === undefined) throw new TfjsStageError("the stage reads 'targets': pass the batch's class indices");
    if (this.opts.student.trainableWeights.length === 0)
      throw new TfjsStageError(`the student model '${this.opts.student.name}' has no trainable weight (is it \`trainable = false\`?): nothing to train`);
    const where: Record<string, 'gpu' | 'cpu'> = {};
    const targetInput = this.hasTargets ? await this.targetsInput(targets!, where) : undefined;
    const temps: TfTensor[] = [];
    try {
      const teacherOuts = this.teacherFeatures
        ? tf.tidy(() => applyModel(this.teacherFeatures!, xs, false).map((t) => this.torchLayout(t)))
        : [];
      temps.push(...teacherOuts);

      this.checkShapes(xs, teacherOuts, targetInput);

      let scalars: TfTensor | undefined;
      let gradOuts: TfTensor[] = [];
      let done: Promise<void> | undefined;
      let failure: { error: unknown } | undefined;
      const criterion = tf.customGrad((...args: unknown[]) => {
        const outs = args.slice(0, -1) as TfTensor[];
        let sub: ReturnType<PlanExecutor['submit']>;
        let checks: Promise<void>;
        try {
          this.tfw.flush(); // tdc's submission must come after tfjs's forward in queue order
          const inputs = new Map<string, TensorInput>();
          this.studentRefs.forEach((r, i) => inputs.set(r.name, this.bind(outs[i]!, r.name, where)));
          this.teacherRefs.forEach((r, i) => inputs.set(r.name, this.bind(teacherOuts[i]!, r.name, where)));
          if (targetInput) inputs.set('targets', targetInput);
          sub = this.executor.submit(inputs);
          checks = this.executor.reportDeviceChecks();
          checks.catch(() => {}); // awaited through `done` (not at all when WebGPU reported an error first)
        } catch (error) {
          // thrown here, inside tfjs's tape, it would strand the tensors tfjs saved for the backward pass: the
          // tape completes on a zero loss instead, and the error is thrown once it has (before any update)
          failure = { error };
          return { value: tf.zeros([]), gradFunc: () => outs.map((o) => tf.zerosLike(o)) };
        }
        // WebGPU's errors, then the criterion's own checks made on the GPU (BCELoss's input in [0, 1])
        done = sub.done.then(() => checks);
        done.catch(() => {}); // awaited after the readback of the scalars
        // tdc reuses these buffers next step: tfjs gets copies it owns (createTensorFromGPUData copies and submits)
        scalars = tf.keep(tf.tensor({ buffer: sub.outputs.scalars }, [this.scalarCount], 'float32'));
        gradOuts = this.studentRefs.map((r, i) => {
          const b = sub.outputs.grads.get(r.name);
          return tf.keep(b ? tf.tensor({ buffer: b }, outs[i]!.shape, 'float32') : tf.zerosLike(outs[i]!));
        });
        const value = tf.reshape(tf.slice(scalars, [this.lossIndex], [1]), []);
        return { value, gradFunc: (dy: TfTensor) => gradOuts.map((g) => tf.mul(g, dy)) };
      });
      const vars = this.opts.student.trainableWeights.map((w) => w.read());
      let value: TfTensor;
      let grads: TfGrads;
      try {
        ({ value, grads } = tf.variableGrads(() => {
          const outs = applyModel(this.studentFeatures, xs, true).map((t) => this.torchLayout(t));
          return criterion(...outs);
        }, vars));
      } finally {
        if (scalars) temps.push(scalars);
        temps.push(...gradOuts);
      }
      temps.push(value);
      if (failure) {
        tf.dispose(grads);
        throw failure.error;
      }
      // the caller's (or the optimizer's): a tf.tidy around step() (which ends at step's first await) must not dispose them
      for (const g of Object.values(grads)) tf.keep(g);
      const result: StepResult<T> = { loss: 0, terms: {}, inputs: where };
      try {
        const sc = await scalars!.data();
        await done; // before any update
        result.loss = sc[this.lossIndex]!;
        for (const t of this.termIndex) result.terms[t.name] = sc[t.index]!;
      } catch (e) {
        tf.dispose(grads);
        throw e;
      }
      if (this.opts.optimizer) {
        (this.opts.optimizer.applyGradients as (g: TfGrads) => void)(grads);
        tf.dispose(grads);
      } else result.grads = grads as Record<string, T>;
      return result;
    } finally {
      tf.dispose(temps);
    }
  }

  /** Frees tdc's buffers (and the runtime wrapper it made; tfjs's device stays tfjs's). */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.executor.destroy();
    void this.ownsRuntime; // the runtime only wraps tfjs's device: never destroy it here
  }

  /**
   * The plan's shape checks before tfjs's tape starts (an error inside it costs the student's backward pass: see
   * step()). Student shapes come from the hooked layers' static shapes and the batch size.
   */
  private checkShapes(xs: readonly TfTensor[], teacherOuts: readonly TfTensor[], targets: TensorInput | undefined): void {
    const shapes = new Map<string, readonly number[]>();
    const batch = xs[0]!.shape[0] ?? 0;
    this.studentFeatures.outputs.forEach((o, i) => {
      const s = o.shape.map((d, k) => (k === 0 ? batch : d));
      if (s.some((d) => d === null)) return; // dynamic: checked when bound
      const shape = s as number[];
      shapes.set(this.studentRefs[i]!.name, this.opts.layout !== 'NCHW' && shape.length === 4 ? [shape[0]!, shape[3]!, shape[1]!, shape[2]!] : shape);
    });
    this.teacherRefs.forEach((r, i) => shapes.set(r.name, teacherOuts[i]!.shape));
    if (targets) shapes.set('targets', targets.shape);
    const plan = this.executor.plan;
    if (shapes.size < plan.inputs.length) return;
    const { problems } = bindSymbols(plan.inputs, shapes, plan.symbols);
    if (problems.length)
      throw new GpuInputError(problems.length === 1 ? `invalid inputs: ${problems[0]}` : `invalid inputs:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  }

  /** The batch against the models' input shapes, before any work (tfjs's own check is a ValueError from a layer,
   *  mid-forward). A batch that is a model's NHWC input in NCHW order says so. */
  private checkBatch(xs: readonly TfTensor[], names: readonly string[]): void {
    const models: [string, TfLayersModel | undefined][] = [['student', this.opts.student], ['teacher', this.teacherFeatures && this.opts.teacher]];
    for (const [side, model] of models) {
      if (!model) continue;
      if (xs.length !== model.inputs.length)
        throw new TfjsStageError(`step() got ${xs.length} input tensor${xs.length === 1 ? '' : 's'}; the ${side} model '${model.name}' takes ${model.inputs.length}`);
      xs.forEach((t, i) => {
        const want = model.inputs[i]!.shape;
        const fits = (s: readonly number[]) => s.length === want.length && want.every((d, k) => d === null || d === s[k]);
        if (fits(t.shape)) return;
        const s = t.shape;
        const nchw = s.length === 4 && fits([s[0]!, s[2]!, s[3]!, s[1]!]);
        throw new TfjsStageError(
          `'${names[i]}' has shape [${s.join(', ')}]; the ${side} model '${model.name}' takes [${want.map((d, k) => d ?? (k === 0 ? 'batch' : 'any')).join(', ')}]` +
            (nchw ? `: an NCHW batch? tfjs's conv layers take NHWC: tf.transpose(${names[i]}, [0, 2, 3, 1])` : ''),
        );
      });
    }
  }

  /**
   * The batch's class indices as host values, which the executor checks (each an integer in [0, C) or the ignore
   * index) before it submits. tfjs keeps labels made from values on the CPU (no copy here); labels a tfjs kernel
   * made on the GPU are read back, since submit() does not report the plan's device-side index check (an
   * out-of-range label there gave a wrong loss, silently). Float labels go as floats: one that is not an integer
   * is refused, not truncated.
   */
  private async targetsInput(targets: TfTensor | Int32Array | readonly number[], where: Record<string, 'gpu' | 'cpu'>): Promise<TensorInput> {
    where['targets'] = 'cpu';
    if (targets instanceof Int32Array) return { shape: [targets.length], data: targets };
    if (Array.isArray(targets)) return { shape: [targets.length], data: Float64Array.from(targets as number[]), dtype: 'int' };
    const y = checkTensor(targets, 'targets');
    if (y.dtype !== 'int32' && y.dtype !== 'float32')
      throw new TfjsStageError(`'targets' is a ${y.dtype} tensor; the criterion reads class indices (int32, or float32 holding integers)`);
    const rank = this.executor.plan.inputs.find((i) => i.name === 'targets')!.shape.length;
    if (rank === 1 && y.rank === 2) {
      const [n, k] = y.shape;
      const how = k === 1 ? ': pass targets.reshape([-1])' : ` (one-hot rows? tf.argMax(targets, 1))`;
      throw new TfjsStageError(`'targets' has shape [${n}, ${k}]; the criterion reads class indices of shape [N]${how}`);
    }
    const loc = this.tfw.locate(y);
    const data = 'values' in loc ? loc.values : ((await y.data()) as Float32Array | Int32Array);
    return { shape: y.shape, data, dtype: 'int' };
  }

  private torchLayout(t: TfTensor): TfTensor {
    return this.opts.layout !== 'NCHW' && t.rank === 4 ? this.tf.transpose(t, [0, 3, 1, 2]) : t;
  }

  private bind(t: TfTensor, name: string, where: Record<string, 'gpu' | 'cpu'>): TensorInput {
    if (t.dtype !== 'float32') throw new TfjsStageError(`'${name}' is a ${t.dtype} tensor; the criterion reads float32`);
    const loc = this.tfw.locate(t);
    if ('buffer' in loc) {
      where[name] = 'gpu';
      return { shape: t.shape, buffer: loc.buffer };
    }
    where[name] = 'cpu';
    return { shape: t.shape, data: loc.values };
  }
}

/** `t` as a live tfjs tensor; a TfjsStageError naming the input otherwise (tfjs's own is a TypeError from inside). */
function checkTensor(t: unknown, name: string): TfTensor {
  if (t === null || typeof t !== 'object' || !('dataId' in t) || !('shape' in t)) throw new TfjsStageError(`'${name}' is ${describe(t)}, not a tf.Tensor`);
  const tensor = t as TfTensor;
  if (tensor.isDisposed) throw new TfjsStageError(`'${name}' is a disposed tensor (shape [${tensor.shape.join(', ')}])`);
  return tensor;
}

/** The options a plain-JS caller may get wrong in ways step() would only meet after the tape (a TypeError there). */
function checkOptions(opts: DistillerOptions): void {
  const { optimizer, layout } = opts as { optimizer?: unknown; layout?: unknown };
  if (optimizer !== undefined && typeof (optimizer as { applyGradients?: unknown } | null)?.applyGradients !== 'function')
    throw new TfjsStageError(`\`optimizer\` is ${describe(optimizer)}, not a tfjs optimizer: pass one such as tf.train.adam(1e-3)`);
  if (layout !== undefined && layout !== 'NHWC' && layout !== 'NCHW')
    throw new TfjsStageError(`\`layout\` is ${describe(layout)}: 'NHWC' (tfjs's conv layers; the default) or 'NCHW'`);
}

function describe(v: unknown): string {
  if (typeof v === 'string') return `'${v}'`;
  if (v === null || typeof v !== 'object') return String(v);
  const name = (v as object).constructor?.name ?? 'object';
  return `${/^[aeiou]/i.test(name) ? 'an' : 'a'} ${name}`;
}

/** A model over the same layers (and weights) whose outputs are the hooked tensors. */
function featureModel(tf: Tf, model: TfLayersModel, outputs: TfSymbolicTensor[]): TfLayersModel {
  if (outputs.length === model.outputs.length && outputs.every((o, i) => o === model.outputs[i])) return model;
  return tf.model({ inputs: model.inputs, outputs, name: `${model.name}_tdc_hooks` });
}

/** `model.apply` on concrete tensors: its outputs as a list. */
function applyModel(model: TfLayersModel, xs: readonly TfTensor[], training: boolean): TfTensor[] {
  const apply = model.apply as unknown as (x: TfTensor | readonly TfTensor[], kwargs: { training: boolean }) => TfTensor | TfTensor[];
  const out = apply.call(model, xs.length === 1 ? xs[0]! : xs, { training });
  return Array.isArray(out) ? out : [out];
}
