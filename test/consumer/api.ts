// The compiler's library entry, as a build tool would use it (type-checked only).
import { compileCriterion, readSafetensors } from 'tdc-compiler';

export type Compile = typeof compileCriterion;
export const read: typeof readSafetensors = readSafetensors;
