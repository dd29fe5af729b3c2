// A Node consumer of the packed tarballs: the KD example and the AT and CRD samples, compiled by `npx tdc compile`,
// run through tdc-runtime/node (Dawn). Prints one JSON line.
import { readFileSync } from 'node:fs';
import { GpuRuntime } from 'tdc-runtime/node';
import { TrainCriterion as AtCriterion, type TrainInputs as AtInputs } from './out/at/config.js';
import { runCrd } from './crd.js';
import { runKd } from './kd.js';
import { IoDict } from './tensors.js';

const [kdFile, atFile, crdFile] = process.argv.slice(2);
if (!kdFile || !atFile || !crdFile) throw new Error('usage: node main.js kd-io.safetensors at-io.safetensors crd-io.safetensors');

const runtime = await GpuRuntime.open();
try {
  const kd = await runKd(runtime, new IoDict(readFileSync(kdFile)));
  const io = new IoDict(readFileSync(atFile));
  const inputs: AtInputs = {
    student: {
      '.': { output: io.float('student/./output') },
      layer3: { output: io.float('student/layer3/output') },
      layer4: { output: io.float('student/layer4/output') },
    },
    teacher: { layer3: { output: io.float('teacher/layer3/output') }, layer4: { output: io.float('teacher/layer4/output') } },
  };
  const at = await AtCriterion.create(runtime);
  const r = await at.forward(inputs, io.int('targets'), { readback: true });
  const atResult = { loss: r.loss, ce: r.terms.ce, at_loss: r.terms.at_loss, grad: [...r.grads.student.layer3.output] };
  at.destroy();
  const crd = await runCrd(runtime, new IoDict(readFileSync(crdFile)));
  console.log(JSON.stringify({ device: runtime.describe(), kd, at: atResult, crd }));
} finally {
  runtime.destroy();
}
