export * from './ensure-embedded.js';
