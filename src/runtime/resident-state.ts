// The buffers of a stage's stateful terms (CRD's memory banks and its params [K, T, Z1, Z2, momentum]), kept on
// the device across steps for the generated glue. torchdistill holds them as module buffers that every forward
// reads and then updates; a plan reads them as inputs `state_in/<term>/<buffer>` and writes the updated ones as
// outputs `state_out/<term>/<buffer>` (plan.outputs.state). Each step here binds the resident buffers as the state
// inputs (in place, no upload). A state output the plan updates in place (plan.outputs.state[].inPlace: CRD's
// banks, an index_copy of B rows written after every read of the old bank) is then the resident buffer itself:
// nothing to copy, only B rows written per step. Any other state output (CRD's params) is written by the plan into
// a buffer of its own and copied back into its resident buffer on the GPU once the plan has run (queue order: the
// next step reads the updated state). A run whose device checks failed stores the old state there (the kernel reads
// the check flags: PlanKernel.checkFlags), so a step that reads nothing back carries the state over unchanged. Nothing is read back unless asked (read()): an ImageNet CRD bank is 656 MB.
/// <reference types="@webgpu/types" preserve="true" />
import type { PlanExecutor } from './executor.js';
import type { PlanInput } from './plan.js';
import { GpuInputError, GpuStageDestroyedError, GpuUsageError, PlanError } from './errors.js';
import { describeValue, notAMap } from './argument-checks.js';
import { dimToString } from './dims.js';
import { SerialQueue } from './serial-queue.js';
import { namingUnusableBuffers, OTHER_DEVICE_HINT, type CallerBuffer } from './foreign-buffers.js';
import { copyHostInputs, isDeviceInput, isShared, kindOf, numelOf, tensorProblem, toF32, type DeviceInput, type FloatTensor, type TensorInput } from './tensors.js';

/** Seeded floats in [0, 1) with 24 bits, as torch.rand's float32 values: the high bits of a 32-bit LCG (Numerical Recipes'). */
function seededUniform(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (Math.imul(a, 1664525) + 1013904223) >>> 0;
    return (a >>> 8) / 16777216;
  };
}

// GPUBufferUsage / GPUMapMode values (WebGPU spec): no dependency on installed globals.
const USAGE = { MAP_READ: 0x1, COPY_SRC: 0x4, COPY_DST: 0x8, STORAGE: 0x80 } as const;
const MAP_READ = 0x1;

const STATE_IN = 'state_in/';
const STATE_OUT = 'state_out/';

interface Slot {
  /** `<term>/<buffer>`: the name without its state_in/ or state_out/ prefix. */
  key: string;
  input: PlanInput;
  /** Plan buffer of the updated state (plan.outputs.state), when the plan updates it. */
  out?: number;
  current?: { shape: number[]; gpu: GPUBuffer };
}

/** A GpuInputError listing what is wrong with a state given to set(). */
const stateError = (problems: readonly string[], hint?: string): GpuInputError =>
  new GpuInputError(problems.length === 1 ? `invalid state: ${problems[0]}` : `invalid state:\n${problems.map((p) => `  - ${p}`).join('\n')}`, hint);

export class ResidentState {
  private readonly slots: Slot[];
  /** Steps and sets, one at a time: they share the resident buffers. */
  private readonly work = new SerialQueue();
  private destroyed = false;

  /** The state of the plan `executor` runs (its chosen variant). Throws PlanError for a state output no input feeds. */
  constructor(private readonly executor: PlanExecutor) {
    if (executor === null || typeof executor !== 'object' || !('plan' in executor) || !('runtime' in executor))
      throw new GpuUsageError(`ResidentState: expected the PlanExecutor of the stage, got ${describeValue(executor)}`, 'create it with `new ResidentState(await PlanExecutor.create(runtime, plan))`');
    const plan = executor.plan;
    this.slots = plan.inputs.filter((i) => i.name.startsWith(STATE_IN)).map((input) => ({ key: input.name.slice(STATE_IN.length), input }));
    for (const s of plan.outputs.state ?? []) {
      const slot = this.slots.find((x) => STATE_OUT + x.key === s.name);
      if (!slot) throw new PlanError(`state output '${s.name}' has no input '${STATE_IN}${s.name.slice(STATE_OUT.length)}' to carry it to the next step`);
      slot.out = s.buffer;
    }
  }

  /** The state's names, `<term>/<buffer>` (e.g. crd/memory_v1), in plan input order. */
  get keys(): string[] {
    return this.slots.map((s) => s.key);
  }

  /**
   * Sets every state buffer (`<term>/<buffer>` → tensor: host floats, uploaded; or a GPUBuffer with COPY_SRC,
   * copied on the GPU), after the steps already queued. Throws GpuInputError for a missing, unknown or misshapen
   * tensor, before changing anything.
   */
  set(state: ReadonlyMap<string, FloatTensor>): Promise<void> {
    this.check();
    const notMap = notAMap(state, 'state');
    if (notMap) return Promise.reject(new GpuInputError(`invalid state: ${notMap}`));
    const problems: string[] = [];
    for (const k of state.keys()) if (!this.slots.some((s) => s.key === k)) problems.push(`unknown state '${k}' (the state: ${this.keys.join(', ')})`);
    for (const s of this.slots) {
      const t = state.get(s.key);
      if (t === undefined) {
        problems.push(`missing state '${s.key}'`);
        continue;
      }
      const malformed = tensorProblem(t, s.input);
      if (malformed) {
        problems.push(`state '${s.key}' ${malformed}`);
        continue;
      }
      const want = s.input.shape;
      const ok = Array.isArray(t.shape) && t.shape.length === want.length && t.shape.every((d, i) => Number.isInteger(d) && d >= 0 && (typeof want[i] !== 'number' || want[i] === d));
      if (!ok) problems.push(`state '${s.key}' has shape [${Array.isArray(t.shape) ? t.shape.join(', ') : String(t.shape)}], expected [${want.map(dimToString).join(', ')}]`);
      else if (isDeviceInput(t)) {
        if (!(t.buffer.usage & USAGE.COPY_SRC)) problems.push(`state '${s.key}': its GPUBuffer needs GPUBufferUsage.COPY_SRC (it is copied in)`);
        else if (t.buffer.size < 4 * numelOf(t.shape)) problems.push(`state '${s.key}': its GPUBuffer holds ${t.buffer.size} bytes, shape [${t.shape.join(', ')}] needs ${4 * numelOf(t.shape)}`);
      } else if (kindOf(t) !== 'float') problems.push(`state '${s.key}' must hold floats`);
      else if (t.data.length !== numelOf(t.shape)) problems.push(`state '${s.key}' has ${t.data.length} elements, its shape [${t.shape.join(', ')}] needs ${numelOf(t.shape)}`);
    }
    if (problems.length) return Promise.reject(stateError(problems));
    const given = this.slots.map((s) => state.get(s.key)!);
    // behind queued work, a copy of the host arrays taken now (the caller may refill them once this returns)
    const tensors = this.work.idle ? given : [...copyHostInputs(new Map(given.entries())).values()];
    const rt = this.executor.runtime;
    // a GPUBuffer the device refuses (made on another GPUDevice) is named, not left to the driver's text
    const copied = (): CallerBuffer[] =>
      this.slots.flatMap((s, i) => {
        const t = tensors[i]!;
        return isDeviceInput(t) && numelOf(t.shape) > 0 ? [{ what: `state '${s.key}'`, buffer: t.buffer, use: 'copy' as const }] : [];
      });
    const refusal = (problems: string[]) => stateError(problems, OTHER_DEVICE_HINT);
    return this.work.run(async () => {
      const device = rt.device;
      const upload = rt.scoped('setting the state', () => {
        const enc = device.createCommandEncoder({ label: 'tdc state in' });
        this.slots.forEach((s, i) => {
          const t = tensors[i]!;
          const n = numelOf(t.shape);
          // whole vec4s (the plan's buffers are padded so), so the executor binds it in place
          const size = Math.max(16, 16 * Math.ceil(n / 4));
          if (!s.current || s.current.gpu.size !== size) {
            s.current?.gpu.destroy();
            s.current = { shape: [...t.shape], gpu: device.createBuffer({ label: `tdc state ${s.key}`, size, usage: USAGE.STORAGE | USAGE.COPY_SRC | USAGE.COPY_DST }) };
          } else s.current.shape = [...t.shape];
          if (n === 0) return;
          if (isDeviceInput(t)) enc.copyBufferToBuffer(t.buffer, 0, s.current.gpu, 0, 4 * n);
          else {
            // a copy for other dtypes and for shared memory (writeBuffer takes ArrayBuffer-backed data only)
            const own = t.data instanceof Float32Array && !isShared(t.data);
            const f32 = own ? (t.data as Float32Array) : new Float32Array(n);
            if (!own) toF32(t.data, f32);
            device.queue.writeBuffer(s.current.gpu, 0, f32.buffer, f32.byteOffset, 4 * n);
          }
        });
        device.queue.submit([enc.finish()]);
      });
      await namingUnusableBuffers(rt, upload, copied, refusal);
    });
  }

  /** set(initial(seed)), its refusals (a seed that is no 32-bit unsigned integer, a state without an initial value)
   *  a rejected promise as set()'s are. */
  async setInitial(seed = 0): Promise<void> {
    return this.set(this.initial(seed));
  }

  /**
   * The state as the loss defines it initially (plan input `init`: torchdistill's CRDLoss gives params
   * [K, T, -1, -1, momentum] and banks uniform in [-stdv, stdv], stdv = 1/sqrt(d/3)), uniform values drawn from a
   * generator seeded with `seed` (the same seed, the same state; not torch's generator). Throws PlanError when a
   * state buffer has no init or a symbolic shape.
   */
  initial(seed = 0): Map<string, FloatTensor> {
    if (!Number.isInteger(seed) || seed < 0 || seed >= 2 ** 32)
      throw new GpuInputError(`the initial state's seed must be an integer in [0, 2^32), got ${typeof seed === 'number' ? String(seed) : `${typeof seed} ${JSON.stringify(seed)}`}`);
    const rand = seededUniform(seed);
    const out = new Map<string, FloatTensor>();
    for (const s of this.slots) {
      const init = s.input.init;
      if (!init) throw new PlanError(`state '${s.key}' has no initial value in the plan: give it with setState()`);
      if (!s.input.shape.every((d) => typeof d === 'number')) throw new PlanError(`state '${s.key}' has a symbolic shape [${s.input.shape.map(dimToString).join(', ')}]: give it with setState()`);
      const shape = s.input.shape as number[];
      const n = numelOf(shape);
      let data: Float32Array;
      if ('values' in init) {
        if (init.values.length !== n) throw new PlanError(`state '${s.key}': ${init.values.length} initial values for ${n} elements`);
        data = Float32Array.from(init.values);
      } else {
        // torch.rand(...).mul_(2 * stdv).add_(-stdv), in float32
        const scale = Math.fround(2 * init.uniform);
        const shift = Math.fround(-init.uniform);
        data = new Float32Array(n);
        for (let i = 0; i < n; i++) data[i] = Math.fround(Math.fround(rand() * scale) + shift);
      }
      out.set(s.key, { shape, data });
    }
    return out;
  }

  /** Has set() given every state buffer? */
  get isSet(): boolean {
    return this.slots.every((s) => s.current !== undefined);
  }

  /** The resident buffers (`<term>/<buffer>` → GPUBuffer of packed f32, possibly padded to whole vec4s): the state
   *  the next step reads, updated by each step. Empty until set(). */
  buffers(): Map<string, GPUBuffer> {
    return new Map(this.slots.flatMap((s) => (s.current ? [[s.key, s.current.gpu] as const] : [])));
  }

  /**
   * One step, after those queued: `run` gets `inputs` (the step's other inputs) and the state inputs (`state_in/…` →
   * the resident buffers) to run the plan with; then each state output is copied into its resident buffer. With
   * nothing queued the step starts at once (its host inputs uploaded before step() returns); behind queued work it
   * runs on a copy of `inputs`' host arrays taken at the call, so the caller may refill them at once (the generated
   * glue passes its inputs here). Throws GpuInputError (naming `setState`) when the state was never set.
   */
  step<T>(run: (state: Map<string, DeviceInput>) => Promise<T>): Promise<T>;
  step<T, I extends TensorInput>(inputs: ReadonlyMap<string, I>, run: (inputs: Map<string, I | DeviceInput>) => Promise<T>): Promise<T>;
  step<T, I extends TensorInput>(
    first: ReadonlyMap<string, I> | ((state: Map<string, DeviceInput>) => Promise<T>),
    second?: (inputs: Map<string, I | DeviceInput>) => Promise<T>,
  ): Promise<T> {
    // the older form, step(run): the state inputs alone (the caller merges its own)
    const inputs = typeof first === 'function' ? new Map<string, I>() : first;
    const run = (typeof first === 'function' ? first : second!) as (inputs: Map<string, I | DeviceInput>) => Promise<T>;
    // behind queued work, a copy of the host arrays taken now (the caller may refill them once this returns)
    const own = this.work.idle ? inputs : copyHostInputs(inputs);
    return this.work.run(async () => {
      this.check();
      const missing = this.slots.filter((s) => !s.current).map((s) => s.key);
      if (missing.length)
        throw new GpuInputError(
          `the state of this stage (${missing.join(', ')}) lives on the device and was never set`,
          'call setState() with the initial buffers (e.g. torchdistill\'s from its state_dict) before the first forward',
        );
      const r = await run(new Map<string, I | DeviceInput>([...own, ...this.slots.map((s) => [STATE_IN + s.key, { shape: s.current!.shape, buffer: s.current!.gpu }] as const)]));
      const device = this.executor.runtime.device;
      await this.executor.runtime.scoped('carrying the state over to the next step', () => {
        const enc = device.createCommandEncoder({ label: 'tdc state out' });
        for (const s of this.slots) {
          if (s.out === undefined) continue;
          const bytes = 4 * numelOf(s.current!.shape);
          const src = this.executor.boundBuffer(s.out);
          if (!src) throw new PlanError(`state output of '${s.key}' has no buffer after the run`);
          // updated in place in the resident buffer (bound as the state input): nothing to carry over
          if (bytes && src !== s.current!.gpu) enc.copyBufferToBuffer(src, 0, s.current!.gpu, 0, bytes);
        }
        device.queue.submit([enc.finish()]);
      });
      return r;
    });
  }

  /** The current state read back (`<term>/<buffer>` → Float32Array), after the steps queued: to checkpoint it. */
  read(): Promise<Map<string, Float32Array>> {
    return this.work.run(async () => {
      this.check();
      const rt = this.executor.runtime;
      const set = this.slots.filter((s) => s.current);
      const sizes = set.map((s) => 4 * numelOf(s.current!.shape));
      const total = sizes.reduce((a, b) => a + b, 0);
      const out = new Map<string, Float32Array>();
      if (total === 0) {
        for (const s of set) out.set(s.key, new Float32Array(0));
        return out;
      }
      const staging = rt.device.createBuffer({ label: 'tdc state readback', size: total, usage: USAGE.MAP_READ | USAGE.COPY_DST });
      try {
        await rt.scoped('reading the state back', () => {
          const enc = rt.device.createCommandEncoder({ label: 'tdc state readback' });
          let off = 0;
          set.forEach((s, i) => {
            if (sizes[i]) enc.copyBufferToBuffer(s.current!.gpu, 0, staging, off, sizes[i]!);
            off += sizes[i]!;
          });
          rt.device.queue.submit([enc.finish()]);
        });
        await rt.wait(staging.mapAsync(MAP_READ, 0, total), 'reading the state back');
        const mapped = staging.getMappedRange(0, total);
        let off = 0;
        set.forEach((s, i) => {
          out.set(s.key, new Float32Array(mapped.slice(off, off + sizes[i]!)));
          off += sizes[i]!;
        });
        staging.unmap();
        return out;
      } finally {
        staging.destroy();
      }
    });
  }

  /** Frees the resident buffers. */
  destroy(): void {
    this.destroyed = true;
    for (const s of this.slots) s.current?.gpu.destroy();
    for (const s of this.slots) delete s.current;
  }

  private check(): void {
    if (this.destroyed) throw new GpuStageDestroyedError('the state of this stage was destroyed: create the stage again');
  }
}
