// The example's two CNNs (tfjs layers, NHWC). Layer names are the module paths the configs hook: 'conv2' is
// the feature map at.yaml compares, '.' is the logits. The student has ~1/12 of the teacher's weights.
import type * as tfjs from '@tensorflow/tfjs';

type Tf = typeof tfjs;

function cnn(tf: Tf, name: string, c1: number, c2: number, hidden: number | undefined, seed: number): tfjs.Sequential {
  const init = (k: number) => tf.initializers.glorotUniform({ seed: seed * 100 + k });
  const m = tf.sequential({ name });
  m.add(tf.layers.conv2d({ inputShape: [28, 28, 1], filters: c1, kernelSize: 3, padding: 'same', activation: 'relu', name: 'conv1', kernelInitializer: init(1) }));
  m.add(tf.layers.maxPooling2d({ poolSize: 2, name: 'pool1' }));
  m.add(tf.layers.conv2d({ filters: c2, kernelSize: 3, padding: 'same', activation: 'relu', name: 'conv2', kernelInitializer: init(2) }));
  m.add(tf.layers.maxPooling2d({ poolSize: 2, name: 'pool2' }));
  m.add(tf.layers.flatten({ name: 'flatten' }));
  if (hidden) m.add(tf.layers.dense({ units: hidden, activation: 'relu', name: 'fc1', kernelInitializer: init(3) }));
  m.add(tf.layers.dense({ units: 10, name: 'fc', kernelInitializer: init(4) }));
  return m;
}

/** conv 16 → pool → conv 16 → pool → dense 64 → dense 10 (≈53k weights). */
export const teacherModel = (tf: Tf): tfjs.Sequential => cnn(tf, 'teacher', 16, 16, 64, 1);
/** conv 4 → pool → conv 8 → pool → dense 10 (≈4.3k weights); the same seed gives the same start every run. */
export const studentModel = (tf: Tf, seed = 2): tfjs.Sequential => cnn(tf, 'student', 4, 8, undefined, seed);
