// The instantiate stage: loss specs + kwargs → tensor graph (instantiateStage), and the reads-only evaluation
// the resolver uses to list what each term reads (termReads).
export { instantiateStage, type InstantiateOptions } from './stage.js';
export { termReads } from './reads.js';
export { BUILTINS, BUILTIN_VALUE_NAMES } from './builtins.js';
export type { InputInfo } from './context.js';
