// TensorFlow.js on its WebGPU backend in Node: Dawn (npm `webgpu`) stands in for the browser's navigator.gpu.
// In a browser, `await tf.setBackend('webgpu')` alone does this.
import type * as tfjs from '@tensorflow/tfjs';

export async function tfjsOnDawn(): Promise<typeof tfjs> {
  const { create, globals } = (await import('webgpu')) as unknown as { create: (o: string[]) => GPU; globals: object };
  for (const [k, v] of Object.entries(globals)) if (!(k in globalThis)) (globalThis as Record<string, unknown>)[k] = v;
  const gpu = create([]);
  keepAlive.push(gpu); // Dawn aborts the process if this object is collected while its device lives
  const nav = (globalThis as { navigator?: { gpu?: GPU } }).navigator;
  if (nav) Object.defineProperty(nav, 'gpu', { value: gpu, configurable: true });
  else (globalThis as { navigator?: unknown }).navigator = { gpu };
  const tf = await import('@tensorflow/tfjs');
  await import('@tensorflow/tfjs-backend-webgpu');
  if (!(await tf.setBackend('webgpu'))) throw new Error("tf.setBackend('webgpu') failed: no WebGPU adapter (install Mesa lavapipe: ./scripts/setup.sh)");
  await tf.ready();
  return tf;
}

const keepAlive: unknown[] = [];
