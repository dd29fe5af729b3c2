// Errors of the TensorFlow.js bridge (codes TDC530–TDC539), catchable by class like the runtime's own.
import { GpuError } from '../errors.js';

/** tfjs is not running on its WebGPU backend (or its device cannot be reached), so there is no device to share. */
export class TfjsBackendError extends GpuError {
  override name = 'TfjsBackendError';
  constructor(message: string) {
    super(
      'TDC530',
      message,
      "import '@tensorflow/tfjs-backend-webgpu', then `await tf.setBackend('webgpu'); await tf.ready()` before creating the bridge",
    );
  }
}

/** A module path of the config (a forward hook, or '.') names no layer of the tfjs model. */
export class TfjsLayerError extends GpuError {
  override name = 'TfjsLayerError';
  constructor(message: string) {
    super('TDC531', message, "name the layer in tfjs (`name: 'layer4'`) or map the path explicitly: `layers: { student: { 'layer4': 'conv2d_3' } }`");
  }
}

/** The stage cannot be driven from tfjs as asked (a trainable teacher, a model-loss input, a batch of the wrong form). */
export class TfjsStageError extends GpuError {
  override name = 'TfjsStageError';
  constructor(message: string) {
    super('TDC532', message);
  }
}
