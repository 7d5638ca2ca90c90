export * from './ref.js';
export * from './spec.js';
export * from './status.js';
export * from './canonical.js';
export * from './validation.js';
export * from './ip.js';
export * from './routes.js';
export * from './allocation.js';
