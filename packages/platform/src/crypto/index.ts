export * from './envelope-cipher.js';
export * from './key-ring.js';
