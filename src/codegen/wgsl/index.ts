// WGSL code generation: one deterministic module per kernel spec of a Schedule (generate-plan.ts).
export { generateKernel } from './generate-kernel.js';
export { generatePlan } from './generate-plan.js';
export type { KernelSpec } from '../../compiler/schedule/kernel-spec.js';
export { f32Literal, i32Literal } from './literals.js';
