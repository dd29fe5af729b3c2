// Runs the compiled KD criterion in the browser: loss, term and gradient for the sample io_dict of
// examples/kd (7 samples × 37 classes, the inputs of the golden case that torchdistill itself computed).
import { GpuRuntime, readSafetensors, isNoAdapterError } from 'tdc-runtime';
import { TrainCriterion } from './generated/kd/kd';
import ioUrl from '../../kd/io.safetensors';

const out = document.querySelector<HTMLPreElement>('#out')!;

async function main(): Promise<void> {
  const { tensors } = readSafetensors(new Uint8Array(await (await fetch(ioUrl)).arrayBuffer()));
  const student = tensors.get('student/./output')!;
  const teacher = tensors.get('teacher/./output')!;
  const targets = tensors.get('targets')!;

  const runtime = await GpuRuntime.open(); // navigator.gpu
  const kd = await TrainCriterion.create(runtime);
  const r = await kd.forward(
    { student: { '.': { output: { shape: student.shape, data: student.data as Float64Array } } }, teacher: { '.': { output: { shape: teacher.shape, data: teacher.data as Float64Array } } } },
    { shape: targets.shape, data: targets.data as BigInt64Array },
    { readback: true },
  );
  const grad = r.grads.student['.'].output;
  out.textContent = [
    `loss      ${r.loss.toFixed(6)}   (torchdistill, float64: 4.025836)`,
    `terms.kd  ${r.terms.kd.toFixed(6)}`,
    `d loss / d student logits: ${grad.length} values, first ${Array.from(grad.slice(0, 3), (g) => g.toExponential(3)).join(', ')}`,
  ].join('\n');
  document.body.dataset.loss = String(r.loss);
  kd.destroy();
}

main().catch((e: unknown) => {
  out.textContent = isNoAdapterError(e) ? `This browser has no WebGPU adapter: ${(e as Error).message}` : `error: ${e instanceof Error ? e.message : String(e)}`;
  document.body.dataset.error = out.textContent;
});
