// One KD step through the generated glue: loss, terms and the student gradient, read back.
import type { GpuRuntime } from 'tdc-runtime';
import { TrainCriterion } from './out/kd/config.js';
import type { IoDict } from './tensors.js';

export async function runKd(runtime: GpuRuntime, io: IoDict): Promise<{ loss: number; kd: number; grad: number[] }> {
  const kd = await TrainCriterion.create(runtime);
  try {
    const r = await kd.forward(
      { student: { '.': { output: io.float('student/./output') } }, teacher: { '.': { output: io.float('teacher/./output') } } },
      io.int('targets'),
      { readback: true },
    );
    const grad: Float32Array = r.grads.student['.'].output;
    return { loss: r.loss, kd: r.terms.kd, grad: [...grad] };
  } finally {
    kd.destroy();
  }
}
