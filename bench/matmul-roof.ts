// `node dist/bench/matmul-roof.js [--batch 32] [--rounds 5] [--shapes 64x3136,128x784,256x196,512x49]`: what a
// Gram matmul G[b] = F1[b] · F2[b]ᵀ ([C, HW] · [HW, C], FSP's and SPKD's contraction) reaches on this adapter,
// side by side in one process, interleaved in rounds: tdc's own kernel (compiled from a one-matmul graph, run as
// the runtime runs it — its subgroup variant where the device has subgroups — and with the plain text), and
// hand-written kernels around it: tdc's layout with the uniform operand shared by subgroupShuffleXor over larger
// register blocks, and an FMA roof (the same register block and compensated chunk folds, operands computed
// instead of loaded: what the arithmetic alone costs). Per kernel: median ms of the kernel alone (submit +
// onSubmittedWorkDone) and GFLOP/s (2·C·C·HW·batch flops), and the median CPU time the process's worker threads
// spent on it (on lavapipe the kernel's own cost, which the machine's load does not inflate; GFLOP per CPU-second).
//
// On lavapipe every storage-buffer load inside a loop is gathered lane by lane (an exec-mask test and a bounds
// check per lane, uniform addresses included) and every accumulator update is a masked read-modify-write, so
// loads per FMA decide the speed: the shuffle shares one load per lane among SHUFFLE lanes.
/// <reference types="@webgpu/types" />
import { GpuRuntime } from 'tdc-runtime/node';
import { PlanExecutor, type TensorInput } from 'tdc-runtime';
import { GraphBuilder } from '../src/graph/builder.js';
import { differentiate } from '../src/graph/autodiff.js';
import { sym } from '../src/graph/dims.js';
import { kernelPlan } from '../src/compiler/kernel-plan.js';
import type { KernelPlan } from '../src/compiler/schedule/plan.js';
import { defaultWorkgroupSize } from '../src/compiler/run-gpu.js';
import { median } from './harness.js';
import { readdirSync, readFileSync } from 'node:fs';

/**
 * CPU ms run so far by this process's threads other than the main one (Linux /proc/self/task/<tid>/schedstat, in ns):
 * on a software adapter, the threads executing the kernels (lavapipe's llvmpipe-N and its queue); the main thread only
 * submits and polls. Unlike wall time it does not grow with the machine's load; NaN where /proc is not there.
 */
function workerCpuMs(): number {
  try {
    let ns = 0;
    for (const t of readdirSync('/proc/self/task')) if (Number(t) !== process.pid) ns += Number(readFileSync(`/proc/self/task/${t}/schedstat`, 'utf8').split(' ')[0]);
    return ns / 1e6;
  } catch {
    return NaN;
  }
}

interface Args {
  batch: number;
  rounds: number;
  shapes: [number, number][];
}

function parseArgs(argv: string[]): Args {
  const a: Args = { batch: 32, rounds: 5, shapes: [[64, 3136], [128, 784], [256, 196], [512, 49]] };
  for (let i = 0; i < argv.length; i++) {
    const v = argv[i + 1];
    if (argv[i] === '--batch' && v) a.batch = Number(argv[++i]);
    else if (argv[i] === '--rounds' && v) a.rounds = Number(argv[++i]);
    else if (argv[i] === '--shapes' && v) a.shapes = argv[++i]!.split(',').map((s) => s.split('x').map(Number) as [number, number]);
    else throw new Error(`unknown argument '${argv[i]}'`);
  }
  return a;
}

/** A hand-written Gram kernel: `rows` output rows per workgroup (shared), `cols` columns per invocation. */
interface Handwritten {
  name: string;
  rows: number;
  cols: number;
  /** Share the row operand by subgroupShuffleXor within groups of 8 lanes (else every lane loads every row). */
  shuffle: boolean;
  /** Operands computed from the indices instead of loaded: the arithmetic's own cost. */
  noLoads?: boolean;
}

const CHUNK = 16;

/** WGSL of a hand-written variant for G[b] = F1[b]·F2[b]ᵀ, F [batch, C, HW] (workgroup size `wg`). */
function gramWgsl(h: Handwritten, C: number, HW: number, wg: number): string {
  const L: string[] = [];
  if (h.shuffle) L.push('enable subgroups;');
  L.push('@group(0) @binding(0) var<storage, read> f1: array<f32>;', '@group(0) @binding(1) var<storage, read> f2: array<f32>;', '@group(0) @binding(2) var<storage, read_write> g: array<f32>;');
  L.push(`@compute @workgroup_size(${wg})`);
  L.push(`fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>${h.shuffle ? ', @builtin(subgroup_invocation_id) sg_lane: u32' : ''}) {`);
  L.push('  _ = &f1; _ = &f2;');
  L.push(`  let row0 = wid.y * ${h.rows}u; let col0 = (wid.x * ${wg}u + lid.x) * ${h.cols}u; let base = wid.z * ${C * HW}u;`);
  const q = h.shuffle ? 'sg_lane % 8u' : '0u';
  L.push(`  let q = ${q};`);
  for (let i = 0; i < h.rows; i += h.shuffle ? 8 : 1) L.push(`  let r${i} = base + min(row0 + ${i}u${h.shuffle ? ' + q' : ''}, ${C - 1}u) * ${HW}u;`);
  for (let j = 0; j < h.cols; j++) L.push(`  let c${j} = base + min(col0 + ${j}u, ${C - 1}u) * ${HW}u;`);
  const acc = h.rows * h.cols;
  for (let p = 0; p < acc; p++) L.push(`  var p${p} = 0.0; var s${p} = 0.0; var e${p} = 0.0;`);
  L.push(`  for (var k0 = 0u; k0 < ${HW}u; k0 = k0 + ${CHUNK}u) {`, `    for (var k = k0; k < min(k0 + ${CHUNK}u, ${HW}u); k = k + 1u) {`);
  for (let i = 0; i < h.rows; i++) {
    if (h.noLoads) L.push(`      let a${i} = f32(k + ${i}u) * 1e-3;`);
    else if (!h.shuffle) L.push(`      let a${i} = f1[r${i} + k];`);
    else if (i % 8 === 0) L.push(`      let a${i} = f1[r${i} + k];`);
    else L.push(`      let a${i} = subgroupShuffleXor(a${i - (i % 8)}, ${i % 8}u);`);
  }
  for (let j = 0; j < h.cols; j++) L.push(h.noLoads ? `      let b${j} = f32(c${j} + k) * 1e-4;` : `      let b${j} = f2[c${j} + k];`);
  for (let i = 0; i < h.rows; i++) for (let j = 0; j < h.cols; j++) L.push(`      p${i * h.cols + j} = fma(a${i}, b${j}, p${i * h.cols + j});`);
  L.push('    }');
  // Neumaier fold of each chunk, as tdc's kernels do
  for (let p = 0; p < acc; p++) L.push(`    { let t = s${p} + p${p}; e${p} = e${p} + select((p${p} - t) + s${p}, (s${p} - t) + p${p}, abs(s${p}) >= abs(p${p})); s${p} = t; p${p} = 0.0; }`);
  L.push('  }');
  for (let i = 0; i < h.rows; i++)
    for (let j = 0; j < h.cols; j++) {
      const row = h.shuffle ? `row0 + ${i - (i % 8)}u + (q ^ ${i % 8}u)` : `row0 + ${i}u`;
      L.push(`  if (${row} < ${C}u && col0 + ${j}u < ${C}u) { g[wid.z * ${C * C}u + (${row}) * ${C}u + col0 + ${j}u] = s${i * h.cols + j} + e${i * h.cols + j}; }`);
    }
  L.push('}');
  return L.join('\n');
}

/** tdc's plan for Σ (F1·F2ᵀ)² over F [N, C, HW] (symbolic batch): its matmul kernel is the one measured. */
function tdcPlan(C: number, HW: number, wg: number): KernelPlan {
  const b = new GraphBuilder();
  const f1 = b.input('f1', [sym('N'), C, HW], 'float', false);
  const f2 = b.input('f2', [sym('N'), C, HW], 'float', false);
  const gram = b.op('matmul', [f1, b.op('permute', [f2], { perm: [0, 2, 1] })], {});
  // Σ G² needs every entry of G (Σ G alone could be rewritten to column sums)
  const g = differentiate(b.finish({ loss: b.op('reduce', [b.binary('mul', gram, gram)], { fn: 'sum', axes: [0, 1, 2], keepdim: false }), terms: [] }));
  return kernelPlan(g, { workgroupSize: wg, maxStorageBuffers: 8 });
}

interface Timed {
  name: string;
  run: () => Promise<number>;
  ms: number[];
  /** CPU ms of the worker threads (workerCpuMs) per run. */
  cpu: number[];
  destroy: () => void;
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const rt = await GpuRuntime.open({ timeoutMs: 600_000 });
  const d = rt.device;
  const wg = defaultWorkgroupSize(rt);
  const sub = d.features.has('subgroups');
  console.log(`adapter: ${rt.describe()}; workgroup size ${wg}; subgroups ${sub ? 'yes' : 'no'}; batch ${args.batch}`);
  const HAND: Handwritten[] = [
    { name: 'shuffle 8x8', rows: 8, cols: 8, shuffle: true },
    { name: 'shuffle 16x4', rows: 16, cols: 4, shuffle: true },
    { name: 'shuffle 16x8', rows: 16, cols: 8, shuffle: true },
    { name: 'FMA roof 8x8 (no loads)', rows: 8, cols: 8, shuffle: false, noLoads: true },
  ].filter((h) => sub || !h.shuffle);
  for (const [C, HW] of args.shapes) {
    const B = args.batch;
    const flops = 2 * B * C * C * HW;
    const data = Float32Array.from({ length: B * C * HW }, (_, i) => Math.sin(i * 0.37) * 0.5);
    const buf = (): GPUBuffer => {
      const x = d.createBuffer({ size: data.byteLength, usage: 0x80 | 0x8 });
      d.queue.writeBuffer(x, 0, data);
      return x;
    };
    const f1 = buf();
    const f2 = buf();
    const out = d.createBuffer({ size: B * C * C * 4, usage: 0x80 });
    const timed: Timed[] = [];
    const submitOnce = async (encode: (pass: GPUComputePassEncoder) => void): Promise<number> => {
      const t0 = performance.now();
      const enc = d.createCommandEncoder();
      const pass = enc.beginComputePass();
      encode(pass);
      pass.end();
      d.queue.submit([enc.finish()]);
      await rt.wait(d.queue.onSubmittedWorkDone(), 'matmul roof');
      return performance.now() - t0;
    };
    // tdc's kernel alone (the plan's other kernels dispatch nothing), as the runtime picks it and its plain text
    const plan = tdcPlan(C, HW, wg);
    const k = plan.kernels.findIndex((x) => x.name.includes('matmul'));
    const inputs = new Map<string, TensorInput>([
      ['f1', { shape: [B, C, HW], buffer: f1 }],
      ['f2', { shape: [B, C, HW], buffer: f2 }],
    ]);
    const only = (p: KernelPlan, plain: boolean): KernelPlan => ({
      ...p,
      kernels: p.kernels.map((x, i) => (i === k ? (plain ? { ...x, wgslSubgroups: undefined } : x) : { ...x, dispatch: [0, 0, 0] })),
    });
    for (const plain of plan.kernels[k]!.wgslSubgroups && sub ? [false, true] : [true]) {
      const exec = await PlanExecutor.create(rt, only(plan, plain));
      timed.push({
        name: `tdc ${plain ? 'plain' : 'subgroup variant'}`,
        run: async () => {
          const t0 = performance.now();
          await exec.submit(inputs).done;
          await rt.wait(d.queue.onSubmittedWorkDone(), 'matmul roof');
          return performance.now() - t0;
        },
        ms: [],
        cpu: [],
        destroy: () => exec.destroy(),
      });
    }
    for (const h of HAND) {
      const pipeline = await d.createComputePipelineAsync({ layout: 'auto', compute: { module: d.createShaderModule({ code: gramWgsl(h, C, HW, wg) }), entryPoint: 'main' } });
      const entries = [f1, f2, out].map((buffer, binding) => ({ binding, resource: { buffer } }));
      const group = d.createBindGroup({ layout: pipeline.getBindGroupLayout(0), entries });
      const grid: [number, number, number] = [Math.ceil(C / h.cols / wg), Math.ceil(C / h.rows), B];
      timed.push({
        name: h.name,
        run: () =>
          submitOnce((pass) => {
            pass.setPipeline(pipeline);
            pass.setBindGroup(0, group);
            pass.dispatchWorkgroups(...grid);
          }),
        ms: [],
        cpu: [],
        destroy: () => {},
      });
    }
    for (const t of timed) await t.run();
    for (let r = 0; r < args.rounds; r++)
      for (const t of timed) {
        const c0 = workerCpuMs();
        t.ms.push(await t.run());
        t.cpu.push(workerCpuMs() - c0);
      }
    console.log(`Gram [${B}, ${C}, ${HW}] · [${B}, ${HW}, ${C}] (${(flops / 1e9).toFixed(2)} GFLOP):`);
    const best = Math.min(...timed.map((t) => median(t.ms)));
    const bestCpu = Math.min(...timed.map((t) => median(t.cpu)));
    for (const t of timed) {
      const ms = median(t.ms);
      const cpu = median(t.cpu);
      console.log(
        `  ${t.name.padEnd(26)} ${ms.toFixed(1).padStart(9)} ms ${(flops / ms / 1e6).toFixed(2).padStart(7)} GFLOP/s  ${(ms / best).toFixed(2)}× the fastest` +
          ` | worker CPU ${cpu.toFixed(1).padStart(8)} ms ${(flops / cpu / 1e6).toFixed(2).padStart(7)} GFLOP/CPU-s  ${(cpu / bestCpu).toFixed(2)}×`,
      );
      t.destroy();
    }
    for (const x of [f1, f2, out]) x.destroy();
  }
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    console.error(`matmul-roof failed: ${e instanceof Error ? e.message : String(e)}`);
    process.exit(1);
  },
);
