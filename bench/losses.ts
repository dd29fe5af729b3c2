// `npm run bench -- --losses [ids]`: every loss of the suite (losses-suite.ts; seeded inputs, the same whichever
// ids are run) compiled from its real sample config the way `tdc compile` compiles it (symbolic batch; the plan for
// WebGPU's default storage-buffer limit with its variants for adapters allowing more, of which the bench runs the one
// the runtime chooses for this adapter, unless --bindings N asks for one budget), run by tdc's PlanExecutor on resident inputs,
// forward + backward, timed two ways in the same rounds: the device-resident step (the loss read back, the
// gradients left on the device, as a training loop on the GPU or the tfjs bridge uses them) and the step with
// every gradient read back into fresh host arrays. Per loss: kernels, both medians, bytes the kernels move against
// the minimum (inputs read once, gradients and state written once), the fraction of the copy bandwidth measured in
// the same run (a vec4 copy kernel) that the device-resident step reaches, and with --torch the same loss in
// PyTorch eager on one CPU thread, its steps in the same rounds (torch-loss.ts; compared with the readback step:
// torch's gradients end in host memory), and
// with --tfjs the same loss in TensorFlow.js's WebGPU backend (losses-tfjs.ts) on the same inputs in the same
// process, timed in the same rounds both ways (resident: the loss read back; readback: the loss and every
// gradient), after its loss and gradients are checked against tdc's (TFJS_TOLERANCE): a mismatch is the row's
// error and tfjs is not timed, except that where tfjs's default is wrong and TFJS_MATMUL_WORKAROUND makes it agree,
// the row says so and tfjs is timed with the workaround.
/// <reference types="@webgpu/types" />
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { hasErrors, type Diagnostic } from '../src/diagnostics/index.js';
import { checkFile } from '../src/compiler/driver/check.js';
import { instantiateStage } from '../src/compiler/instantiate/index.js';
import { evalDim, sym } from '../src/graph/dims.js';
import type { Graph, Shape } from '../src/graph/types.js';
import type { KernelPlan } from '../src/compiler/schedule/plan.js';
import { kernelPlan } from '../src/compiler/kernel-plan.js';
import { DEFAULT_STORAGE_BUFFERS, planWithVariants, storageBuffersNeeded } from '../src/compiler/plan-variants.js';
import { PlanExecutor, selectPlanVariant, type TensorInput } from 'tdc-runtime';
import { GpuRuntime } from 'tdc-runtime/node';
import { defaultWorkgroupSize } from '../src/compiler/run-gpu.js';
import { median, timeImpls, type BenchImpl, type TimingOptions } from './harness.js';
import { configPath, LOSS_CASES, type LossCase } from './losses-suite.js';
import { measureCopyBandwidth } from './copy-bandwidth.js';
import { formatProfile, profileKernels } from './profile-kernels.js';
import { loadTfWebGpu } from './impl-tfjs.js';
import { TfjsLossImpl } from './impl-tfjs-loss.js';
import { TFJS_LOSSES, type TfjsLoss } from './losses-tfjs.js';
import { TorchLoss } from './torch-loss.js';

export interface LossBenchOptions {
  ids: string[];
  timing: TimingOptions;
  torch: boolean;
  /** Scale every case's batch (smoke tests): batch → max(1, round(batch · scale)). */
  batchScale: number;
  /** Storage buffers per kernel the plan may bind: 'auto' (default) plans as `tdc compile` does — for WebGPU's default
   *  limit of 8, with variants for adapters allowing more — and runs the plan the runtime chooses for this adapter (its
   *  maxStorageBuffersPerShaderStage); a number plans for that budget only. */
  bindings: number | 'auto';
  wg: number;
  /** Also time each kernel of the plan on its own (profile-kernels.ts). */
  profile?: boolean;
  /** Another checkout of tdc (built: its dist/): each loss is also planned by that checkout's compiler and both plans
   *  run interleaved in this process on the same inputs (baseline_ms, a before/after ratio under the same load). */
  baseline?: string;
  /** Storage buffers per kernel of the baseline plan (default `bindings`); without --baseline, the baseline is this
   *  checkout's plan at that limit (--bindings 16 --baseline-bindings 8: a plan variant against the default plan). */
  baselineBindings?: number | 'auto';
  /** Also run each loss in TensorFlow.js's WebGPU backend (losses-tfjs.ts), checked against tdc, timed interleaved. */
  tfjs?: boolean;
  /** Plan stateful losses with their state outputs (CRD's memory-bank update), as `tdc compile` and `tdc run` do
   *  (default true); false (`--no-state`): without them, and tfjs and torch skip the update too. */
  state?: boolean;
  /** The tfjs losses by case id (default TFJS_LOSSES; tests substitute a wrong one to see the check fail). */
  tfjsLosses?: Readonly<Record<string, TfjsLoss>>;
  json: boolean;
  log: (s: string) => void;
}

/** tfjs-webgpu 4.22's split-K matmul (chosen for one matrix, K ≥ 2000, few 32×32 output tiles: PKT's teacher Gram,
 *  SPKD's and RKD's Grams) accumulates with emulated float atomics and gives wrong sums on lavapipe (PKT teacher
 *  Gram [64, 2048]·[2048, 64]: max error 1.04 on entries ≤ 1). Where tfjs's default result disagrees with tdc, the
 *  row says so and tfjs is checked and timed again with this flag: every matmul of that loss by the small-output
 *  program, the one tfjs picks for such shapes when K < 2000. */
export const TFJS_MATMUL_WORKAROUND: Readonly<Record<string, number>> = { WEBGPU_MATMUL_PROGRAM_TYPE: 2 /* MatMulSmallOutputSizeProgram */ };

/** tfjs against tdc, both float32: |loss − tdc's| ≤ lossRel · |tdc's|, and per gradient (and state output: CRD's
 *  updated banks) max |g − tdc's| ≤ gradRel · max |tdc's|. */
export const TFJS_TOLERANCE = { lossRel: 1e-4, gradRel: 1e-3 };

export interface LossRow {
  id: string;
  batch: number;
  kernels: number;
  /** Storage buffers per kernel the plan that ran may bind (its budget: 8, or the variant's minStorageBuffers). */
  bindings: number;
  /** The device-resident step: forward + backward, the scalars read back, gradients left on the device. */
  tdc_ms?: number;
  /** The step with the loss and every gradient read back into fresh host arrays. */
  readback_ms?: number;
  bytes_min: number;
  bytes_moved: number;
  /** (bytes_min / device-resident time) / copy bandwidth. */
  copy_fraction?: number;
  torch_ms?: number;
  /** The baseline checkout's plan (--baseline), timed interleaved with tdc's (device-resident step, and with readback). */
  baseline_ms?: number;
  baseline_readback_ms?: number;
  baseline_kernels?: number;
  /** --tfjs: the loss in tfjs-webgpu, timed in the same rounds (loss read back; loss and every gradient read back). */
  tfjs_ms?: number;
  tfjs_readback_ms?: number;
  /** --tfjs: |tfjs loss − tdc loss| / |tdc loss|, and the worst gradient's max |Δ| / max |tdc's|. */
  tfjs_loss_rel?: number;
  tfjs_grad_err?: number;
  /** --tfjs: why tfjs could not run the loss at this shape (a WebGPU limit or out of memory); not a mismatch. */
  tfjs_unavailable?: string;
  /** --tfjs: tfjs's default result disagreed with tdc's (the mismatch); tfjs was then checked and timed with
   *  `tfjs_flags` (TFJS_MATMUL_WORKAROUND). */
  tfjs_default_mismatch?: string;
  tfjs_flags?: Record<string, number>;
  error?: string;
}

/** The stage graph of a case: its config loaded (after `patch`), the batch dim symbolic (N). */
export function lossGraph(c: LossCase, batch: number): { graph: Graph; names: Map<string, { shape: number[]; dtype: 'float' | 'int' }> } {
  let file = configPath(c);
  let tmp: string | undefined;
  if (c.patch) {
    let text = readFileSync(file, 'utf8');
    for (const [re, to] of c.patch) {
      if (!re.test(text)) throw new Error(`${c.id}: patch ${re} does not match ${c.config}`);
      text = text.replace(re, to);
    }
    tmp = mkdtempSync(join(tmpdir(), 'tdc-bench-'));
    file = join(tmp, 'config.yaml');
    writeFileSync(file, text);
  }
  try {
    const checked = checkFile(file);
    const stage = checked.ir?.stages.find((s) => s.name === c.stage);
    if (hasErrors(checked.diagnostics) || !stage) throw new Error(`${c.id}: cannot load ${c.config} (stage ${c.stage}):\n${describe(checked.diagnostics)}`);
    const names = new Map<string, { shape: number[]; dtype: 'float' | 'int' }>();
    const inst = instantiateStage(stage, (name) => {
      const shape = stateShape(name) ?? c.shape(name, batch);
      if (!shape) return undefined;
      const dtype = isIntInput(name) ? 'int' : 'float';
      names.set(name, { shape, dtype });
      const s: Shape = [...shape];
      if (!name.startsWith('state_in/') && s.length > 0 && s[0] === batch) s[0] = sym('N');
      return { shape: s, dtype };
    });
    if (!inst.graph || hasErrors(inst.diagnostics)) throw new Error(`${c.id}: cannot instantiate:\n${describe(inst.diagnostics)}`);
    return { graph: inst.graph, names };
  } finally {
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  }
}

const isIntInput = (name: string): boolean => name === 'targets' || /(pos_idx|contrast_idx)$/.test(name);
/** CRD's state buffers at the suite's shrunk bank (100 000 × 128). */
const stateShape = (name: string): number[] | undefined =>
  name.endsWith('/params') && name.startsWith('state_in/') ? [5] : /^state_in\/.*\/memory_v[12]$/.test(name) ? [100000, 128] : undefined;

/** Seeded inputs: floats N(0, 1), integer ids in range, CRD params [K, T, Z_v1, Z_v2, momentum]. */
export function inputData(c: LossCase, name: string, shape: number[], dtype: 'float' | 'int', seed: number): Float32Array | Int32Array {
  const n = shape.reduce((a, b) => a * b, 1);
  let s = seed >>> 0 || 1;
  const rand = (): number => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 4294967296;
  };
  if (dtype === 'int') {
    const hi = c.intRange?.(name) ?? 1000;
    return Int32Array.from({ length: n }, () => Math.floor(rand() * hi));
  }
  if (name.startsWith('state_in/') && name.endsWith('/params')) return Float32Array.from([2048, 0.07, -1, -1, 0.5]);
  if (name.startsWith('state_in/')) {
    const stdv = 1 / Math.sqrt(shape[1]! / 3);
    return Float32Array.from({ length: n }, () => (2 * rand() - 1) * stdv);
  }
  const out = new Float32Array(n);
  for (let i = 0; i < n; i += 2) {
    const r = Math.sqrt(-2 * Math.log(rand() + 1e-12));
    const t = 2 * Math.PI * rand();
    out[i] = r * Math.cos(t);
    if (i + 1 < n) out[i + 1] = r * Math.sin(t);
  }
  if (c.positive?.(name)) for (let i = 0; i < n; i++) out[i] = Math.abs(out[i]!) + 0.1;
  return out;
}

/** The plan's minimum traffic: every input read once, every gradient and state output written once, the scalars. */
export function minimumBytes(plan: KernelPlan, env: Record<string, number>): number {
  const elems = (s: Shape): number => s.reduce<number>((a, d) => a * evalDim(d, env), 1);
  let bytes = 0;
  for (const i of plan.inputs) bytes += 4 * elems(i.shape);
  for (const g of plan.outputs.grads) bytes += 4 * elems(g.shape);
  for (const s of plan.outputs.state ?? []) bytes += 4 * elems(s.shape);
  return bytes + 4 * (plan.outputs.scalars.terms.length + 1);
}

export const movedBytes = (plan: KernelPlan, env: Record<string, number>): number =>
  plan.kernels.reduce((a, k) => a + evalDim(k.bytesRead, env) + evalDim(k.bytesWritten, env), 0);

class PlanLoss implements BenchImpl {
  private exec: PlanExecutor | undefined;
  private resident: GPUBuffer[] = [];
  readonly inputs = new Map<string, TensorInput>();
  constructor(
    readonly name: string,
    private readonly rt: GpuRuntime,
    readonly plan: KernelPlan,
    private readonly data: Map<string, { shape: number[]; data: Float32Array | Int32Array }>,
  ) {
    // the same plan and inputs, the gradients left on the device (only the scalars read back)
    this.deviceResident = {
      name: `${name} (device-resident)`,
      setup: async () => {},
      step: async () => {
        const r = await this.exec!.run(this.inputs, { readback: 'scalars' });
        if (!Number.isFinite(r.loss)) throw new Error(`loss is ${r.loss}`);
        return { loss: r.loss, grad: new Float32Array() };
      },
      dispose: () => {},
    };
  }
  readonly deviceResident: BenchImpl;
  async setup(): Promise<void> {
    this.exec = await PlanExecutor.create(this.rt, this.plan);
    for (const i of this.plan.inputs) {
      const d = this.data.get(i.name);
      if (!d) throw new Error(`no data for input '${i.name}'`);
      const b = this.rt.device.createBuffer({ size: Math.max(16, Math.ceil(d.data.byteLength / 16) * 16), usage: 0x80 | 0x4 | 0x8 });
      this.rt.device.queue.writeBuffer(b, 0, d.data.buffer, d.data.byteOffset, d.data.byteLength);
      this.resident.push(b);
      this.inputs.set(i.name, { shape: d.shape, buffer: b });
    }
  }
  /** One step with the loss, every gradient and every state output read back, by name. */
  async full(): Promise<{ loss: number; grads: ReadonlyMap<string, Float32Array>; state: ReadonlyMap<string, Float32Array> }> {
    const r = await this.exec!.run(this.inputs, { readback: 'all' });
    const state = new Map<string, Float32Array>();
    for (const s of this.plan.outputs.state ?? []) state.set(s.name, await readBuffer(this.rt, this.exec!.boundBuffer(s.buffer)!, 4 * s.shape.reduce<number>((a, d) => a * (typeof d === 'number' ? d : NaN), 1)));
    return { loss: r.loss, grads: r.grads, state };
  }
  async step(): Promise<{ loss: number; grad: Float32Array }> {
    const r = await this.exec!.run(this.inputs, { readback: 'all' });
    if (!Number.isFinite(r.loss)) throw new Error(`loss is ${r.loss}`);
    const first = [...r.grads.values()][0] ?? new Float32Array();
    return { loss: r.loss, grad: first };
  }

  dispose(): void {
    for (const b of this.resident) b.destroy();
    this.resident = [];
    this.exec?.destroy();
  }
}

export async function runLossBench(o: LossBenchOptions): Promise<LossRow[]> {
  const cases = o.ids.length ? o.ids.map((id) => LOSS_CASES.find((c) => c.id === id) ?? fail(`--losses: unknown '${id}' (known: ${LOSS_CASES.map((c) => c.id).join(', ')})`)) : LOSS_CASES;
  const rt = await GpuRuntime.open({ timeoutMs: 600_000 });
  const rows: LossRow[] = [];
  try {
    const wg = o.wg || defaultWorkgroupSize(rt);
    const deviceLimit = rt.device.limits.maxStorageBuffersPerShaderStage;
    o.log(
      `adapter: ${rt.describe()}; workgroup size ${wg}; ${o.bindings === 'auto' ? `plans as tdc compile (for ${DEFAULT_STORAGE_BUFFERS} storage buffers per kernel, with variants): each loss runs the plan chosen for this device (${deviceLimit} allowed)` : `plans for ${o.bindings} storage buffers per kernel`}`,
    );
    const tf = o.tfjs ? await loadTfWebGpu(rt.gpu!, ((await import('webgpu')) as { globals: object }).globals) : undefined;
    if (tf) o.log(`tfjs ${tf.version.tfjs} on its '${tf.getBackend()}' backend; checked against tdc: loss rel ≤ ${TFJS_TOLERANCE.lossRel}, each gradient max |Δ| ≤ ${TFJS_TOLERANCE.gradRel} · max |tdc's|`);
    const copy = await measureCopyBandwidth(rt);
    o.log(`copy bandwidth (vec4 copy kernel, ${(copy.bytes / 2 ** 20).toFixed(0)} MiB each way): ${(copy.bytesPerMs / 1e6).toFixed(2)} GB/s`);
    for (const c of cases) {
      const batch = Math.max(1, Math.round(c.batch * o.batchScale));
      const row: LossRow = { id: c.id, batch, kernels: 0, bindings: 0, bytes_min: 0, bytes_moved: 0 };
      rows.push(row);
      let impl: PlanLoss | undefined;
      let base: PlanLoss | undefined;
      let tfImpl: TfjsLossImpl | undefined;
      let torchImpl: TorchLoss | undefined;
      try {
        const { graph, names } = lossGraph(c, batch);
        const plan = planFor(graph, { workgroupSize: wg, state: o.state ?? true }, o.bindings, deviceLimit);
        const data = new Map([...names].map(([name, v], k) => [name, { shape: v.shape, data: inputData(c, name, v.shape, v.dtype, 0x9e3779b9 * (LOSS_CASES.indexOf(c) + 1) + k) }]));
        const env: Record<string, number> = {};
        for (const s of plan.symbols) env[s] = batch;
        row.kernels = plan.kernels.length;
        row.bindings = bindingBudget(plan);
        row.bytes_min = minimumBytes(plan, env);
        row.bytes_moved = movedBytes(plan, env);
        impl = new PlanLoss(c.id, rt, plan, data);
        await impl.setup();
        const impls: BenchImpl[] = [impl.deviceResident, impl];
        if (o.baseline || o.baselineBindings !== undefined) {
          const baseBindings = o.baselineBindings ?? o.bindings;
          const basePlan = o.baseline
            ? await baselinePlan(o.baseline, c, batch, wg, baseBindings, o.state ?? true, deviceLimit)
            : planFor(graph, { workgroupSize: wg, state: o.state ?? true }, baseBindings, deviceLimit);
          row.baseline_kernels = basePlan.kernels.length;
          base = new PlanLoss(`${c.id} (baseline)`, rt, basePlan, data);
          await base.setup();
          impls.push(base.deviceResident, base);
        }
        if (tf) {
          tfImpl = await tfjsChecked(tf, (o.tfjsLosses ?? TFJS_LOSSES)[c.id], c.id, plan, data, impl, row);
          if (tfImpl) impls.push(tfImpl.resident, tfImpl.readback);
        }
        if (o.torch && c.torch) {
          // torch's steps in the same interleaved rounds (torch-loss.ts); a torch that cannot start leaves the row's tdc times
          const t = new TorchLoss(`${c.id} (torch)`, process.env['TDC_PYTHON'] ?? '/usr/bin/python3', TORCH_SCRIPT, [c.torch, String(batch), torchInputs(c, names, plan)]);
          try {
            await t.setup();
            impls.push((torchImpl = t));
          } catch (e) {
            t.dispose();
            row.error = [row.error, `torch: ${(e as Error).message}`].filter(Boolean).join('; ');
          }
        }
        const times = await timeImpls(impls, o.timing);
        if (torchImpl) row.torch_ms = median(times.get(torchImpl.name)!);
        row.tdc_ms = median(times.get(impl.deviceResident.name)!);
        row.readback_ms = median(times.get(c.id)!);
        if (base) {
          row.baseline_ms = median(times.get(base.deviceResident.name)!);
          row.baseline_readback_ms = median(times.get(base.name)!);
        }
        if (tfImpl) {
          row.tfjs_ms = median(times.get(tfImpl.resident.name)!);
          row.tfjs_readback_ms = median(times.get(tfImpl.readback.name)!);
        }
        row.copy_fraction = row.bytes_min / row.tdc_ms / copy.bytesPerMs;
        if (o.profile) o.log(`${c.id}:\n${formatProfile(await profileKernels(rt, plan, impl.inputs, env))}`);
      } catch (e) {
        row.error = (e as Error).message.split('\n')[0]!;
      } finally {
        impl?.dispose();
        base?.dispose();
        tfImpl?.dispose();
        torchImpl?.dispose();
      }
      o.log(formatRow(row, o.tfjs));
    }
  } finally {
    rt.destroy();
  }
  return rows;
}

/** The case's tfjs loss, set up and checked against tdc's loss and gradients (one step each, everything read back).
 *  A loss tfjs cannot run at this shape is recorded in `row.tfjs_unavailable`; a mismatch is the row's error (loud,
 *  and tfjs is not timed). Returns the implementation to time, or undefined. */
async function tfjsChecked(
  tf: Awaited<ReturnType<typeof loadTfWebGpu>>,
  loss: TfjsLoss | undefined,
  id: string,
  plan: KernelPlan,
  data: Map<string, { shape: number[]; data: Float32Array | Int32Array }>,
  tdc: PlanLoss,
  row: LossRow,
): Promise<TfjsLossImpl | undefined> {
  if (!loss) {
    row.tfjs_unavailable = 'no tfjs implementation of this loss in losses-tfjs.ts';
    return undefined;
  }
  const gradNames = plan.outputs.grads.map((g) => g.input);
  const want = await tdc.full();
  const attempt = async (flags: Record<string, number>): Promise<{ impl: TfjsLossImpl; mismatch?: string } | undefined> => {
    const impl = new TfjsLossImpl(`${id} tfjs`, tf, loss, data, gradNames, (plan.outputs.state ?? []).map((x) => x.name), flags);
    try {
      impl.setup();
      const got = await impl.check();
      row.tfjs_loss_rel = Math.abs(got.loss - want.loss) / Math.abs(want.loss);
      let worst = { err: 0, name: '' };
      for (const [k, name] of gradNames.entries()) {
        const e = gradError(got.grads[k]!, want.grads.get(name)!);
        if (!(e <= worst.err)) worst = { err: e, name };
      }
      for (const [name, w] of want.state) {
        // each state output (CRD's banks) like a gradient
        const g = got.state?.get(name);
        const e = g ? gradError(g, w) : NaN;
        if (!(e <= worst.err)) worst = { err: e, name: g ? name : `${name} (tfjs computes none)` };
      }
      row.tfjs_grad_err = worst.err;
      if (row.tfjs_loss_rel <= TFJS_TOLERANCE.lossRel && worst.err <= TFJS_TOLERANCE.gradRel) return { impl };
      impl.dispose();
      const flagText = Object.keys(flags).length ? ` with ${Object.entries(flags).map(([k, v]) => `${k}=${v}`).join(', ')}` : '';
      return { impl, mismatch: `tfjs MISMATCH${flagText}: loss ${got.loss} vs tdc ${want.loss} (rel ${row.tfjs_loss_rel.toExponential(2)}), worst gradient or state ${worst.name} err ${worst.err.toExponential(2)} (tolerance ${TFJS_TOLERANCE.lossRel}, ${TFJS_TOLERANCE.gradRel})` };
    } catch (e) {
      row.tfjs_unavailable = (e as Error).message.split('\n')[0]!;
      impl.dispose();
      return undefined;
    }
  };
  const first = await attempt({});
  if (!first || !first.mismatch) return first?.impl;
  row.tfjs_default_mismatch = first.mismatch;
  const second = await attempt({ ...TFJS_MATMUL_WORKAROUND });
  if (!second) return undefined;
  if (second.mismatch) {
    row.error = [row.error, `${first.mismatch}; ${second.mismatch} — tfjs not timed`].filter(Boolean).join('; ');
    return undefined;
  }
  row.tfjs_flags = { ...TFJS_MATMUL_WORKAROUND };
  return second.impl;
}

/** The first `bytes` of a device buffer (COPY_SRC), copied to a mappable one and read. */
async function readBuffer(rt: GpuRuntime, src: GPUBuffer, bytes: number): Promise<Float32Array> {
  if (!Number.isFinite(bytes)) throw new Error('readBuffer: a state output of symbolic size');
  const staging = rt.device.createBuffer({ size: bytes, usage: 0x1 | 0x8 /* MAP_READ | COPY_DST */ });
  const enc = rt.device.createCommandEncoder();
  enc.copyBufferToBuffer(src, 0, staging, 0, bytes);
  rt.device.queue.submit([enc.finish()]);
  await staging.mapAsync(0x1);
  const out = new Float32Array(staging.getMappedRange().slice(0));
  staging.destroy();
  return out;
}

/** max |a − b| / max |b| (NaN anywhere: NaN). */
function gradError(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) return NaN;
  let d = 0;
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    const e = Math.abs(a[i]! - b[i]!);
    if (!(e <= d)) d = e; // NaN propagates
    m = Math.max(m, Math.abs(b[i]!));
  }
  return m > 0 ? d / m : d;
}

/** The plan the bench runs for a graph: for budget 'auto', `tdc compile`'s plan with variants and the one the runtime
 *  chooses on a device allowing `deviceLimit` storage buffers; else the plan for that budget. */
function planFor(graph: Graph, opts: { workgroupSize: number; state: boolean }, bindings: number | 'auto', deviceLimit: number): KernelPlan {
  return bindings === 'auto' ? selectPlanVariant(planWithVariants(graph, opts), deviceLimit) : kernelPlan(graph, { ...opts, maxStorageBuffers: bindings });
}

/** The storage-buffer budget a plan was made for: the default limit, or more where it needs more (a variant). */
const bindingBudget = (plan: KernelPlan): number => Math.max(DEFAULT_STORAGE_BUFFERS, storageBuffersNeeded(plan));

/** The plan another checkout's compiler makes for the case (its own graph builder and scheduler, same inputs). */
async function baselinePlan(root: string, c: LossCase, batch: number, wg: number, bindings: number | 'auto', state: boolean, deviceLimit: number): Promise<KernelPlan> {
  const dist = resolve(root, 'dist');
  const lossesMod = (await import(pathToFileURL(join(dist, 'bench/losses.js')).href)) as { lossGraph: typeof lossGraph };
  const graph = lossesMod.lossGraph(c, batch).graph;
  if (bindings === 'auto') {
    const variantsMod = (await import(pathToFileURL(join(dist, 'src/compiler/plan-variants.js')).href)) as { planWithVariants: typeof planWithVariants };
    return selectPlanVariant(variantsMod.planWithVariants(graph, { workgroupSize: wg, state }), deviceLimit);
  }
  const planMod = (await import(pathToFileURL(join(dist, 'src/compiler/kernel-plan.js')).href)) as { kernelPlan: typeof kernelPlan };
  return planMod.kernelPlan(graph, { workgroupSize: wg, maxStorageBuffers: bindings, state });
}

const TORCH_SCRIPT = join(dirname(fileURLToPath(import.meta.url)), '../../bench/torch_losses.py');

/** What torch_losses.py's named losses read: every input of tdc's plan (shape, dtype, id range, positivity), the
 *  inputs tdc differentiates, and whether tdc's plan updates the state (CRD's banks). */
function torchInputs(c: LossCase, names: Map<string, { shape: number[]; dtype: 'float' | 'int' }>, plan: KernelPlan | undefined): string {
  const inputs = Object.fromEntries(
    [...names].map(([name, v]) => [name, { shape: v.shape, dtype: v.dtype, ...(v.dtype === 'int' ? { hi: c.intRange?.(name) ?? 1000 } : {}), ...(c.positive?.(name) ? { positive: true } : {}) }]),
  );
  return JSON.stringify({ inputs, grads: plan?.outputs.grads.map((g) => g.input) ?? [], state: (plan?.outputs.state ?? []).length > 0 });
}

export function formatHeader(tfjs = false): string {
  const tf = tfjs ? [['tfjs ms', '(resident)'], ['+readback', '(all grads)'], ['tfjs/tdc', '(res / rb)']] : [];
  const cols: [string, string, number][] = [
    ['tdc ms', '(resident)', 10],
    ['+readback', '(all grads)', 10],
    ['torch1 ms', '', 10],
    ['torch/tdc', '(readback)', 9],
    ['bytes/min', '', 9],
    ['% copy bw', '(resident)', 9],
    ...tf.map(([a, b]) => [a!, b!, 11] as [string, string, number]),
  ];
  return `${'loss'.padEnd(7)} ${'batch'.padStart(5)} ${'kernels'.padStart(7)} ${cols.map(([a, , w]) => a.padStart(w)).join(' ')}\n${''.padEnd(13)} ${'/bindings'.padStart(7)} ${cols.map(([, b, w]) => b.padStart(w)).join(' ')}`;
}

export function formatRow(r: LossRow, tfjs = false): string {
  const f = (x: number | undefined, d = 2): string => (x === undefined ? '—' : x >= 100 ? x.toFixed(0) : x.toFixed(d));
  const ratio = r.readback_ms !== undefined && r.torch_ms !== undefined ? `${(r.torch_ms / r.readback_ms).toFixed(2)}×` : '—';
  const moved = r.bytes_min ? `${(r.bytes_moved / r.bytes_min).toFixed(2)}×` : '—';
  const bw = r.copy_fraction !== undefined ? `${(100 * r.copy_fraction).toFixed(1)}%` : '—';
  let line = `${r.id.padEnd(7)} ${String(r.batch).padStart(5)} ${`${r.kernels}/${r.bindings}`.padStart(7)} ${f(r.tdc_ms).padStart(10)} ${f(r.readback_ms).padStart(10)} ${f(r.torch_ms).padStart(10)} ${ratio.padStart(9)} ${moved.padStart(9)} ${bw.padStart(9)}`;
  if (tfjs) {
    const tr = r.tfjs_ms !== undefined && r.tdc_ms !== undefined ? `${(r.tfjs_ms / r.tdc_ms).toFixed(2)}/${(r.tfjs_readback_ms! / r.readback_ms!).toFixed(2)}` : '—';
    line += ` ${f(r.tfjs_ms).padStart(11)} ${f(r.tfjs_readback_ms).padStart(11)} ${tr.padStart(11)}`;
    if (r.tfjs_ms !== undefined && r.tdc_ms !== undefined && (r.tfjs_ms < r.tdc_ms || r.tfjs_readback_ms! < r.readback_ms!)) line += '   < tdc SLOWER than tfjs';
    if (r.tfjs_unavailable) line += `   tfjs: ${r.tfjs_unavailable}`;
    if (r.tfjs_flags) line += `   !! tfjs's default is WRONG here (${r.tfjs_default_mismatch}); tfjs checked and timed with ${Object.entries(r.tfjs_flags).map(([k, v]) => `${k}=${v}`).join(', ')}`;
  }
  const withBase =
    r.baseline_ms !== undefined && r.tdc_ms !== undefined
      ? `${line}   baseline ${f(r.baseline_ms)} ms resident, ${f(r.baseline_readback_ms)} ms with readback (${r.baseline_kernels} kernels): ${(r.baseline_ms / r.tdc_ms).toFixed(2)}× / ${(r.baseline_readback_ms! / r.readback_ms!).toFixed(2)}× faster now`
      : line;
  return r.error ? `${withBase}   ! ${r.error}` : withBase;
}

const describe = (ds: readonly Diagnostic[]): string => ds.map((d) => `  ${d.severity} ${d.code}: ${d.message}`).join('\n');
function fail(msg: string): never {
  throw new Error(msg);
}
