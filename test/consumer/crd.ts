// One CRD step through the generated glue: its memory banks and params live on the device (setState once; every
// forward updates them in place); the loss, the crd term, a student gradient and the updated state, read back.
import type { GpuRuntime } from 'tdc-runtime';
import { TrainCriterion, type TrainInputs, type TrainState } from './out/crd/config.js';
import type { IoDict } from './tensors.js';

export interface CrdStep {
  loss: number;
  crd: number;
  grad: number[];
  state: { params: number[]; memory_v1: number[]; memory_v2: number[] };
}

export async function runCrd(runtime: GpuRuntime, io: IoDict): Promise<CrdStep> {
  const crit = await TrainCriterion.create(runtime);
  try {
    const inputs: TrainInputs = {
      student: {
        '.': { output: io.float('student/./output') },
        normalizer: { output: io.float('student/normalizer/output') },
        empty: { input: { pos_idx: io.int('student/empty/input/pos_idx'), contrast_idx: io.int('student/empty/input/contrast_idx') } },
      },
      teacher: { '.': { output: io.float('teacher/./output') }, normalizer: { output: io.float('teacher/normalizer/output') } },
    };
    await crit.setState({
      crd: { params: io.float('state_in/crd/params'), memory_v1: io.float('state_in/crd/memory_v1'), memory_v2: io.float('state_in/crd/memory_v2') },
    });
    const r = await crit.forward(inputs, io.int('targets'), { readback: true });
    const bank: GPUBuffer = r.state.crd.memory_v1; // resident: the next forward reads it
    if (bank.size === 0) throw new Error('empty bank');
    const s: TrainState<Float32Array> = await crit.readState();
    return {
      loss: r.loss,
      crd: r.terms.crd,
      grad: [...r.grads.student.normalizer.output],
      state: { params: [...s.crd.params], memory_v1: [...s.crd.memory_v1], memory_v2: [...s.crd.memory_v2] },
    };
  } finally {
    crit.destroy();
  }
}
