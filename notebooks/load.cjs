// tslab runs cells in a vm context where `import()` is unavailable, and the project is ESM TypeScript. A plain
// CommonJS module can still `import()`: this one registers tsx's loader once and imports a project file by its path
// relative to this folder, e.g. `await load('../src/report/index.ts')`.
const { resolve } = require('node:path');
const { pathToFileURL } = require('node:url');

let registered;

module.exports = async function load(path) {
  registered ??= import('tsx/esm/api').then((api) => api.register());
  await registered;
  return import(pathToFileURL(resolve(__dirname, path)).href);
};
