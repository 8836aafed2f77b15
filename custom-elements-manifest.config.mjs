/**
 * custom-elements.json for the pc-machine elements (`npm run build`): tags, attributes,
 * properties, methods, events, CSS parts and custom properties, read from the JSDoc of the
 * element classes. Written next to the library build in dist/lib/.
 */
export default {
  globs: ['components/**/*.ts'],
  exclude: ['components/**/*.test.ts', 'components/**/*.styles.ts', 'components/**/machine-worker.ts'],
  outdir: 'dist/lib',
  litelement: true,
  dependencies: false,
  packagejson: false,
};
