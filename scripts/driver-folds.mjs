// Minimal WGSL repros of the finite-math rewrites a WebGPU driver makes (WGSL allows them), which tdc's WGSL cannot
// prevent: each probe is one compute shader over run-time inputs (a storage buffer, so nothing is a constant the
// compiler could know), printed with what IEEE float32 (torch) gives and what the adapter gave. README (tdc run:
// NaN and ±Inf) and docs/contributing.md (driver differences) cite the results on Mesa lavapipe.
//
//     node scripts/driver-folds.mjs          # needs a WebGPU adapter (XDG_RUNTIME_DIR set, as for the GPU tests)
import { create, globals } from 'webgpu';

Object.assign(globalThis, globals);
const f = Math.fround;

/** [what, WGSL body writing out[0] from x[..], inputs, torch's float32 value]. */
const PROBES = [
  // a common factor out of a sum: x0·k + x1·k → k·(x0 + x1); with k = +inf: NaN (−inf + inf) becomes −inf
  ['x0 * k + x1 * k, k = inf (run time)', 'let k = x[2]; out[0] = x[0] * k + x[1] * k;', [-2.4, 1.2, Infinity], NaN],
  ['(x0 * k + x1 * k) + (x2 * k + x3 * k), k = inf (a row kernel\'s 4 lanes)', 'let k = x[4]; out[0] = (x[0] * k + x[1] * k) + (x[2] * k + x[3] * k);', [-2.4, 0.6, 1.2, -0.6, Infinity], NaN],
  // constant chains reassociated: (m · 1e38) · 10 → m · (1e38 · 10) = m · inf
  ['(m * 1e38) * 10.0, m = 1e-5', 'out[0] = (x[0] * 1e38) * 10.0;', [1e-5], f(f(f(1e-5) * f(1e38)) * 10)],
  ['(m * 1e38) * 10.0, m = 0', 'out[0] = (x[0] * 1e38) * 10.0;', [0], 0],
  ['(m * 1e-38) * 1e-10, m = 1e30', 'out[0] = (x[0] * 1e-38) * 1e-10;', [1e30], f(f(f(1e30) * f(1e-38)) * f(1e-10))],
  ['the same through a bitcast round trip', 'out[0] = bitcast<f32>(bitcast<u32>(x[0] * 1e38)) * 10.0;', [1e-5], f(f(f(1e-5) * f(1e38)) * 10)],
  // the sign of a product with a constant zero: x · −0.0 and (−x) · 0.0 are −0 (1 / it: −inf)
  ['1 / (x * -0.0), x = 2', 'out[0] = 1.0 / (x[0] * -0.0);', [2], -Infinity],
  ['1 / (x * 0.0), x = -2', 'out[0] = 1.0 / (x[0] * 0.0);', [-2], -Infinity],
  // x + 0.0 is +0 for x = −0
  ['1 / (x + 0.0), x = -0', 'out[0] = 1.0 / (x[0] + 0.0);', [-0], Infinity],
];

const gpu = create([]);
const adapter = await gpu.requestAdapter();
if (!adapter) throw new Error('no WebGPU adapter');
const device = await adapter.requestDevice();
console.log(`adapter: ${[adapter.info.vendor, adapter.info.architecture, adapter.info.description].filter(Boolean).join(' / ')}`);

async function run(body, inputs) {
  const code = `@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
@compute @workgroup_size(1) fn main() {
  ${body}
}`;
  device.pushErrorScope('validation');
  const module = device.createShaderModule({ code });
  const pipeline = await device.createComputePipelineAsync({ layout: 'auto', compute: { module, entryPoint: 'main' } });
  const xb = device.createBuffer({ size: inputs.length * 4, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST });
  device.queue.writeBuffer(xb, 0, new Float32Array(inputs));
  const ob = device.createBuffer({ size: 4, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC });
  const rb = device.createBuffer({ size: 4, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
  const entries = [xb, ob].map((buffer, binding) => ({ binding, resource: { buffer } }));
  const enc = device.createCommandEncoder();
  const pass = enc.beginComputePass();
  pass.setPipeline(pipeline);
  pass.setBindGroup(0, device.createBindGroup({ layout: pipeline.getBindGroupLayout(0), entries }));
  pass.dispatchWorkgroups(1);
  pass.end();
  enc.copyBufferToBuffer(ob, 0, rb, 0, 4);
  device.queue.submit([enc.finish()]);
  const err = await device.popErrorScope();
  if (err) throw new Error(err.message);
  await rb.mapAsync(GPUMapMode.READ);
  const v = new Float32Array(rb.getMappedRange().slice(0))[0];
  rb.unmap();
  return v;
}

const show = (v) => (Object.is(v, -0) ? '-0' : String(v));
let differ = 0;
for (const [what, body, inputs, want] of PROBES) {
  const got = await run(body, inputs);
  const same = Object.is(got, want);
  if (!same) differ++;
  console.log(`${same ? 'same  ' : 'DIFFER'} ${what}: torch ${show(want)}, adapter ${show(got)}`);
}
console.log(`${differ} of ${PROBES.length} probes differ from IEEE float32`);
device.destroy();
