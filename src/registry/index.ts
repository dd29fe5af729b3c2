export * from './registry.js';
export { renderSignature } from './signature.js';
