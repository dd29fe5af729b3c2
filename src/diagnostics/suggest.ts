// "did you mean": defined in the runtime (src/runtime/suggest.ts), which names unknown input tensors with it.
export { editDistance, closest, didYouMean } from 'tdc-runtime';
