// tdc-runtime/tfjs — the TensorFlow.js bridge (issue 7 part 3; built by h7tf). Placeholder until it lands.
export {};
