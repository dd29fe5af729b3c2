// Per regression case (test/fixtures/golden-regress, or the cases named on the command line): the number of GPU
// kernels of its fused plan and the wall time of one GPU run through the real path (schedule, WGSL, pipeline
// creation, dispatch, readback: runStageOnGpu, as test/golden-regress.test.ts runs it), after `npm run build`.
//   node scripts/golden-regress-gpu-timing.mjs [regex over case names]
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readSafetensors } from 'tdc-runtime';
import { GpuRuntime } from 'tdc-runtime/node';
import { runStageOnGpu, stageGraph } from '../dist/src/compiler/run-gpu.js';
import { kernelPlan } from '../dist/src/compiler/kernel-plan.js';
import { registerSpecFile } from '../dist/src/registry/registry.js';
import { loadGoldenStage } from '../dist/test/helpers/golden-stage.js';

const ROOT = join(import.meta.dirname, '..', 'test', 'fixtures', 'golden-regress');
const filter = new RegExp(process.argv[2] ?? '');
const index = JSON.parse(readFileSync(join(ROOT, 'index.json'), 'utf8'));
const rt = await GpuRuntime.open({ timeoutMs: 600_000 });
try {
  for (const c of index.cases.filter((x) => filter.test(x.case))) {
    const dir = join(ROOT, c.case);
    const expected = JSON.parse(readFileSync(join(dir, 'expected.json'), 'utf8'));
    if (expected.spec) registerSpecFile(join(dir, expected.spec));
    const { stage } = loadGoldenStage(dir, expected.stage);
    stage.trainable = { student: expected.trainable.student !== false, teacher: expected.trainable.teacher === true };
    const { tensors } = readSafetensors(new Uint8Array(readFileSync(join(dir, 'tensors.safetensors'))));
    const inputs = new Map([...tensors].filter(([n]) => !n.startsWith('grad/')));
    const graph = stageGraph(stage, inputs, true, []);
    const plan = kernelPlan(graph, { maxStorageBuffers: rt.device.limits.maxStorageBuffersPerShaderStage, state: true });
    const lp = inputs.get('student/./output/0');
    const t0 = performance.now();
    const { result, diagnostics } = await runStageOnGpu(stage, inputs, { file: join(dir, 'config.yaml'), runtime: rt });
    const ms = performance.now() - t0;
    const rel = result ? Math.abs(result.loss - expected.loss) / Math.max(Math.abs(expected.loss), 1e-30) : NaN;
    console.log(`${c.case}\t${lp ? `[${lp.shape.join(',')}]` : ''}\tkernels ${plan.kernels.length}\tgpu ${(ms / 1000).toFixed(2)} s\tloss rel err ${rel.toExponential(2)}${result ? '' : `\t${diagnostics.map((d) => d.message).join('; ')}`}`);
  }
} finally {
  rt.destroy();
}
