// A KernelPlan run by tdc's own runtime (PlanExecutor): the compiled fused plan, the unfused plan, or the
// hand-written reference anchor. Inputs are uploaded once to storage buffers (resident, like tfjs's tensors);
// each step binds them in place (PlanExecutor binds STORAGE device inputs directly), dispatches, and reads
// back the loss and the full gradient — into a new Float32Array each step (as tfjs's data() does), or, for the
// `tdc reuse` row (`--reuse`), into one array made at setup (PlanExecutor.run's `into`, what a training loop that
// reads its gradients back every step would do).
// Like tfjs's step, it does not look for NaN/±Inf: a result's `nonfinite` is scanned only when read.
/// <reference types="@webgpu/types" />
import type { KernelPlan } from '../src/compiler/schedule/plan.js';
import { PlanExecutor, type ExecutorOptions, type GpuRuntime, type TensorInput } from 'tdc-runtime/node';
import type { BenchImpl, StepResult } from './harness.js';
import type { KdCase } from './kd-data.js';

const STUDENT = 'student/./output';
const TEACHER = 'teacher/./output';
const TARGETS = 'targets';

export class PlanKd implements BenchImpl {
  private exec: PlanExecutor | undefined;
  private inputs = new Map<string, TensorInput>();
  private resident: GPUBuffer[] = [];
  private into: Map<string, Float32Array> | undefined;

  constructor(
    readonly name: string,
    private readonly rt: GpuRuntime,
    readonly plan: KernelPlan,
    /** How the executor runs it (workgroup sizes, subgroup variants): the bench's variants of one plan. */
    private readonly options: ExecutorOptions = {},
    /** Read the gradient back into one array made at setup instead of a new one per step. */
    private readonly reuse = false,
  ) {
    const names = plan.inputs.map((i) => i.name).sort();
    const want = [STUDENT, TARGETS, TEACHER].sort();
    if (names.join() !== want.join()) throw new Error(`${name}: the plan's inputs are ${names.join(', ')}; the KD+CE bench feeds ${want.join(', ')}`);
    if (!plan.outputs.grads.some((g) => g.input === STUDENT)) throw new Error(`${name}: the plan computes no gradient for ${STUDENT}`);
  }

  get dispatches(): number {
    return this.plan.kernels.length;
  }

  /** The workgroup size and subgroup choice of each kernel, once set up: `k1_row_kd wg 8 +sg, …`. */
  get variant(): string {
    const e = this.exec;
    if (!e) return '';
    return this.plan.kernels.map((k, i) => `${k.name} wg ${e.constants[i]!['wg_size'] ?? '(in the WGSL)'}${e.subgroupVariants[i] ? ' +subgroups' : ''}`).join(', ');
  }

  async setup(k: KdCase): Promise<void> {
    this.exec ??= await PlanExecutor.create(this.rt, this.plan, this.options);
    this.releaseInputs();
    const upload = (data: Float32Array | Int32Array): GPUBuffer => {
      const b = this.rt.device.createBuffer({ size: Math.max(16, data.byteLength), usage: 0x80 | 0x4 | 0x8 /* STORAGE | COPY_SRC | COPY_DST */ });
      this.rt.device.queue.writeBuffer(b, 0, data.buffer, data.byteOffset, data.byteLength);
      this.resident.push(b);
      return b;
    };
    this.inputs = new Map<string, TensorInput>([
      [STUDENT, { shape: [k.n, k.c], buffer: upload(k.student) }],
      [TEACHER, { shape: [k.n, k.c], buffer: upload(k.teacher) }],
      [TARGETS, { shape: [k.n], buffer: upload(k.targets) }],
    ]);
    this.into = this.reuse ? new Map([[STUDENT, new Float32Array(k.n * k.c)]]) : undefined;
  }

  async step(): Promise<StepResult> {
    const r = await this.exec!.run(this.inputs, this.into ? { readback: true, into: this.into } : { readback: true });
    return { loss: r.loss, grad: r.grads.get(STUDENT)! };
  }

  private releaseInputs(): void {
    for (const b of this.resident) b.destroy();
    this.resident = [];
  }

  dispose(): void {
    this.releaseInputs();
    this.exec?.destroy();
    this.exec = undefined;
  }
}
