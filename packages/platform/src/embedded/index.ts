export * from './ensure-embedded.js';
export { embeddedPasswordFile } from './password-file.js';
