// The types of symbolic dims (dims.ts prints and evaluates them), in a file of their own that imports nothing:
// the plan's types (plan.ts) and through them the runtime's errors (errors.ts) use them, while dims.ts throws
// those errors — types kept here, no import cycle.

/** A dimension: a concrete size, or an expression over named symbols bound from input buffers at run time. */
export type Dim = number | SymDim;
export type SymDim =
  | { sym: string }
  | { op: 'add' | 'sub' | 'mul' | 'floordiv' | 'ceildiv' | 'min' | 'max'; a: Dim; b: Dim };
export type Shape = Dim[];
