// A suite loss (losses-tfjs.ts) run by TensorFlow.js's WebGPU backend on the bench's inputs, as the --tfjs column
// of `bench --losses`: inputs uploaded once as tensors (resident, like tdc's storage buffers), each step
// tf.valueAndGrads over the inputs tdc's plan differentiates, plus the state tdc's plan updates (CRD's banks),
// timed two ways to match tdc's columns — the loss read back with the gradients and state left on the device
// ('resident': reading the loss waits for every kernel submitted before it, the gradients' included), and the
// loss and every gradient read back into host arrays ('readback'). `check` runs one step inside WebGPU error
// scopes on tfjs's device, so a tensor over the device's limits is an error here, not zeros in a timed run, and
// reads the state back too.
/// <reference types="@webgpu/types" />
import type * as TfNs from '@tensorflow/tfjs';
import type { BenchImpl } from './harness.js';
import type { TfjsLoss } from './losses-tfjs.js';

type Tf = typeof import('@tensorflow/tfjs');

export interface LossInput {
  shape: number[];
  data: Float32Array | Int32Array;
}

export class TfjsLossImpl {
  private tensors = new Map<string, TfNs.Tensor>();
  /** One step with the loss read back, gradients and state left on the device. */
  readonly resident: BenchImpl;
  /** One step with the loss and every gradient read back. */
  readonly readback: BenchImpl;

  constructor(
    readonly name: string,
    private readonly tf: Tf,
    private readonly loss: TfjsLoss,
    private readonly data: ReadonlyMap<string, LossInput>,
    /** The inputs differentiated, in tdc's plan order. */
    readonly gradNames: readonly string[],
    /** The state outputs to compute (those tdc's plan writes; none unless the plan was made with state). */
    readonly stateNames: readonly string[] = [],
    /** tf.env() flags set for this loss's steps only (restored after each): a workaround for a tfjs defect. */
    readonly flags: Readonly<Record<string, number>> = {},
  ) {
    const impl = (suffix: string, all: boolean): BenchImpl => ({
      name: `${name} ${suffix}`,
      setup: async () => {},
      step: async () => {
        const r = await this.run(all);
        return { loss: r.loss, grad: r.grads[0] ?? new Float32Array() };
      },
      dispose: () => {},
    });
    this.resident = impl('(resident)', false);
    this.readback = impl('(readback)', true);
  }

  setup(): void {
    const tf = this.tf;
    this.dispose();
    for (const [name, d] of this.data) this.tensors.set(name, d.data instanceof Int32Array ? tf.tensor(d.data, d.shape, 'int32') : tf.tensor(d.data, d.shape, 'float32'));
    for (const g of this.gradNames) if (!this.tensors.has(g)) throw new Error(`${this.name}: no input '${g}' to differentiate`);
  }

  /** One step on the device, the loss (and with `all` every gradient) read back; the gradients in gradNames order. */
  async run(all: boolean, withState = false): Promise<{ loss: number; grads: Float32Array[]; state?: Map<string, Float32Array> }> {
    const env = this.tf.env();
    const saved = Object.keys(this.flags).map((k) => [k, env.get(k)] as const);
    for (const [k, v] of Object.entries(this.flags)) env.set(k, v);
    try {
      return await this.runWithFlags(all, withState);
    } finally {
      for (const [k, v] of saved) env.set(k, v);
    }
  }

  private async runWithFlags(all: boolean, withState: boolean): Promise<{ loss: number; grads: Float32Array[]; state?: Map<string, Float32Array> }> {
    const tf = this.tf;
    const get = (name: string): TfNs.Tensor => this.tensors.get(name) ?? fail(`${this.name}: the loss reads '${name}', which the bench does not feed`);
    const xs = this.gradNames.map(get);
    const f = (...args: TfNs.Tensor[]): TfNs.Scalar => this.loss.loss(tf, (n) => (this.gradNames.includes(n) ? args[this.gradNames.indexOf(n)]! : get(n))) as TfNs.Scalar;
    const { value, grads } = tf.valueAndGrads(f)(xs);
    const state: Record<string, TfNs.Tensor> = this.stateNames.length && this.loss.state ? tf.tidy(() => this.loss.state!(tf, get)) : {};
    for (const k of Object.keys(state)) if (!this.stateNames.includes(k)) tf.dispose(state[k]!), delete state[k];
    try {
      if (!all) return { loss: (await value.data())[0]!, grads: [] };
      const [lv, ...gv] = await Promise.all([value.data(), ...grads.map((g) => g.data())]);
      const stateData = withState ? new Map(await Promise.all(Object.entries(state).map(async ([k, t]) => [k, (await t.data()) as Float32Array] as const))) : undefined;
      return { loss: lv![0]!, grads: gv as Float32Array[], ...(stateData ? { state: stateData } : {}) };
    } finally {
      tf.dispose([value, ...grads, ...Object.values(state)]);
    }
  }

  /** One step with everything read back, inside validation and out-of-memory error scopes on tfjs's device;
   *  a WebGPU error (a buffer over the device's limits) is thrown. */
  async check(): Promise<{ loss: number; grads: Float32Array[]; state?: Map<string, Float32Array> }> {
    const device = (this.tf.backend() as unknown as { device?: GPUDevice }).device;
    device?.pushErrorScope('validation');
    device?.pushErrorScope('out-of-memory');
    let r: { loss: number; grads: Float32Array[]; state?: Map<string, Float32Array> } | undefined;
    let thrown: unknown;
    try {
      r = await this.run(true, true);
    } catch (e) {
      thrown = e;
    }
    const oom = await device?.popErrorScope();
    const invalid = await device?.popErrorScope();
    if (oom || invalid) throw new Error(`tfjs cannot run at this shape: WebGPU ${oom ? 'out of memory' : 'validation error'}: ${(oom ?? invalid)!.message.split('\n')[0]}`);
    if (thrown) throw thrown;
    return r!;
  }

  dispose(): void {
    this.tf.dispose([...this.tensors.values()]);
    this.tensors.clear();
  }
}

function fail(msg: string): never {
  throw new Error(msg);
}
