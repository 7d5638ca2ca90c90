export * from './provider.js';
export * from './options.js';
export { AddressPool } from './address-pool.js';
export { localProviderFactory } from './factory.js';
