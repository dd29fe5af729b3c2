// Typed TypeScript glue for out/<name>.ts (ts-morph is imported only when glue is emitted).
export { emitGlue, GlueError, type GlueOptions } from './emit-glue.js';
