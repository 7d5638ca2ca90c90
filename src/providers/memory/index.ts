export * from './memory-provider.js';
export * from './options.js';
export { diffSpecs } from './plan.js';
