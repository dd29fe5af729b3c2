// One KD step through the generated glue: loss, terms and the student gradient, read back.
import { TdcRuntimeError, type FloatTensor, type GpuRuntime, type IntTensor } from 'tdc-runtime';
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

/** What a rejected forward gave: the typed error (and no loss), or the loss it should not have produced. */
export interface Rejection {
  case: string;
  loss?: number;
  error?: string;
  code?: string;
  message?: string;
}

/**
 * The validation a user meets through the glue: a teacher batch of 5 against a student batch of 7, a target of
 * 5000 (37 classes) and a target of -1 — host arrays checked before dispatch — and a target of 5000 in a GPUBuffer,
 * checked on the device and read back with the scalars. Each must throw a TdcRuntimeError naming the tensor.
 */
export async function kdRejections(runtime: GpuRuntime, io: IoDict): Promise<Rejection[]> {
  const kd = await TrainCriterion.create(runtime);
  const student = io.float('student/./output');
  const teacher = io.float('teacher/./output');
  const targets = io.int('targets');
  if (!('data' in teacher) || !('data' in targets)) throw new Error('host tensors expected');
  const withTarget = (v: number): IntTensor => {
    const data = targets.data.slice();
    if (data instanceof BigInt64Array) data[0] = BigInt(v);
    else data[0] = v;
    return { shape: targets.shape, data };
  };
  const n = targets.shape[0]!;
  const onDevice = (v: number): IntTensor => {
    const values = Int32Array.from(targets.data, Number);
    values[0] = v;
    const buffer = runtime.device.createBuffer({ size: values.byteLength, usage: 0x80 | 0x8 }); // STORAGE | COPY_DST
    runtime.device.queue.writeBuffer(buffer, 0, values);
    return { shape: [n], buffer };
  };
  const cases: [string, FloatTensor, IntTensor][] = [
    ['teacher batch 5, student batch 7', { shape: [5, ...teacher.shape.slice(1)], data: teacher.data.subarray(0, 5 * (teacher.shape[1] ?? 1)) }, targets],
    ['target 5000', teacher, withTarget(5000)],
    ['target -1', teacher, withTarget(-1)],
    ['target 5000 in a GPUBuffer', teacher, onDevice(5000)],
  ];
  const out: Rejection[] = [];
  try {
    for (const [what, t, y] of cases) {
      try {
        const r = await kd.forward({ student: { '.': { output: student } }, teacher: { '.': { output: t } } }, y);
        out.push({ case: what, loss: r.loss });
      } catch (e) {
        if (e instanceof TdcRuntimeError) out.push({ case: what, error: e.name, code: e.code, message: e.message });
        else out.push({ case: what, error: e instanceof Error ? `${e.name}: ${e.message}` : String(e) });
      }
    }
  } finally {
    kd.destroy();
  }
  return out;
}
