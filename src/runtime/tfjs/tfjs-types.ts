// The parts of TensorFlow.js the bridge touches, typed structurally: tdc-runtime neither imports tfjs nor needs
// its type declarations (which do not type-check with skipLibCheck: false next to @webgpu/types). The real
// `tf` namespace, tf.Tensor, tf.LayersModel and tf.Optimizer are assignable to these.
/// <reference types="@webgpu/types" preserve="true" />

export interface TfTensor {
  readonly id: number;
  readonly dataId: object;
  readonly shape: readonly number[];
  readonly dtype: string;
  readonly rank: number;
  readonly isDisposed: boolean;
  data(): Promise<ArrayLike<number>>;
  dispose(): void;
}

/** A layer's symbolic input/output (tf.SymbolicTensor): static shape with null for the batch. */
export interface TfSymbolicTensor {
  readonly shape: readonly (number | null)[];
}

export interface TfLayer {
  readonly name: string;
  readonly input: TfSymbolicTensor | TfSymbolicTensor[];
  readonly output: TfSymbolicTensor | TfSymbolicTensor[];
}

export interface TfLayersModel {
  readonly name: string;
  readonly inputs: TfSymbolicTensor[];
  readonly outputs: TfSymbolicTensor[];
  readonly layers: TfLayer[];
  getLayer(name: string): TfLayer;
  readonly trainableWeights: { read(): unknown }[];
  apply(inputs: never, kwargs?: never): unknown;
}

export interface TfOptimizer {
  applyGradients(grads: never): void;
}

/** d loss / d weight by tfjs variable name (tf.NamedTensorMap). */
export type TfGrads = Record<string, TfTensor>;

/** The tfjs functions the bridge calls (a subset of the `tf` namespace; pass `tf` itself). */
export interface TfApi {
  getBackend(): string;
  backend(): unknown;
  engine(): unknown;
  tidy: unknown;
  keep: unknown;
  dispose: unknown;
  customGrad: unknown;
  variableGrads: unknown;
  tensor: unknown;
  reshape: unknown;
  slice: unknown;
  mul: unknown;
  zerosLike: unknown;
  zeros: unknown;
  transpose: unknown;
  cast: unknown;
  model: unknown;
}

/** How the bridge calls them (tfjs's own signatures, narrowed to what is used). */
export interface Tf {
  getBackend(): string;
  backend(): unknown;
  engine(): { registryFactory?: Record<string, unknown> };
  tidy<T>(fn: () => T): T;
  keep<T extends TfTensor>(t: T): T;
  dispose(x: TfTensor | TfTensor[] | TfGrads): void;
  customGrad(f: (...args: unknown[]) => { value: TfTensor; gradFunc: (dy: TfTensor) => TfTensor[] }): (...args: TfTensor[]) => TfTensor;
  variableGrads(f: () => TfTensor, varList?: unknown[]): { value: TfTensor; grads: TfGrads };
  tensor(values: { buffer: GPUBuffer; zeroCopy?: boolean }, shape: readonly number[], dtype: 'float32'): TfTensor;
  reshape(x: TfTensor, shape: number[]): TfTensor;
  slice(x: TfTensor, begin: number[], size: number[]): TfTensor;
  mul(a: TfTensor, b: TfTensor): TfTensor;
  zerosLike(x: TfTensor): TfTensor;
  zeros(shape: number[]): TfTensor;
  transpose(x: TfTensor, perm: number[]): TfTensor;
  cast(x: TfTensor, dtype: 'int32'): TfTensor;
  model(args: { inputs: TfSymbolicTensor[]; outputs: TfSymbolicTensor[]; name?: string }): TfLayersModel;
}
