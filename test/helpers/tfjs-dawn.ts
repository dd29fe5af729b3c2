// TensorFlow.js on its WebGPU backend in a Node test process: Dawn (npm `webgpu`) as navigator.gpu, through the
// bench's loader (one tfjs per process).
/// <reference types="@webgpu/types" />
import type * as tfjs from '@tensorflow/tfjs';
import { loadTfWebGpu } from '../../bench/impl-tfjs.js';

const keep: unknown[] = [];

/** tfjs on 'webgpu'; throws when there is no adapter. */
export async function tfjsOnDawn(): Promise<typeof tfjs> {
  const { create, globals } = (await import('webgpu')) as unknown as { create: (o: string[]) => GPU; globals: object };
  const gpu = create([]);
  keep.push(gpu); // Dawn aborts the process if this object is collected while its device lives
  return (await loadTfWebGpu(gpu, globals)) as unknown as typeof tfjs;
}
