/**
 * The pc-machine web components: `<pc-machine>`, `<pc-console>` and `<pc-display>`.
 * @module
 */
export * from './pc-machine';
export * from './pc-console';
export * from './pc-display';
