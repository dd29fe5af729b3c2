// The copy roofline of the adapter, measured in the bench's own process: a vec4 copy kernel over a buffer of
// `bytes` (read once, written once), timed kernel-only (submit + onSubmittedWorkDone), median of several runs.
/// <reference types="@webgpu/types" />
import type { GpuRuntime } from 'tdc-runtime';
import { median } from './harness.js';

const WGSL = /* wgsl */ `
@group(0) @binding(0) var<storage, read> src: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read_write> dst: array<vec4<f32>>;
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let n = arrayLength(&src);
  let stride = nwg.x * 64u;
  for (var i = gid.x; i < n; i = i + stride) { dst[i] = src[i]; }
}`;

/** Bytes moved per millisecond (read + write) by the copy kernel. */
export async function measureCopyBandwidth(rt: GpuRuntime, bytes = 32 * 2 ** 20, runs = 9): Promise<{ bytes: number; bytesPerMs: number }> {
  const d = rt.device;
  const src = d.createBuffer({ size: bytes, usage: 0x80 | 0x8 });
  const dst = d.createBuffer({ size: bytes, usage: 0x80 });
  try {
    const pipeline = d.createComputePipeline({ layout: 'auto', compute: { module: d.createShaderModule({ code: WGSL }), entryPoint: 'main' } });
    const group = d.createBindGroup({
      layout: pipeline.getBindGroupLayout(0),
      entries: [
        { binding: 0, resource: { buffer: src } },
        { binding: 1, resource: { buffer: dst } },
      ],
    });
    const once = async (): Promise<number> => {
      const t0 = performance.now();
      const enc = d.createCommandEncoder();
      const pass = enc.beginComputePass();
      pass.setPipeline(pipeline);
      pass.setBindGroup(0, group);
      pass.dispatchWorkgroups(Math.min(65535, Math.ceil(bytes / 16 / 64 / 4)));
      pass.end();
      d.queue.submit([enc.finish()]);
      await rt.wait(d.queue.onSubmittedWorkDone(), 'copy bandwidth probe');
      return performance.now() - t0;
    };
    await once();
    const times: number[] = [];
    for (let i = 0; i < runs; i++) times.push(await once());
    return { bytes, bytesPerMs: (2 * bytes) / median(times) };
  } finally {
    src.destroy();
    dst.destroy();
  }
}
