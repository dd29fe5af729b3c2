export * from './registry.js';
export { renderSignature, renderType } from './signature.js';
