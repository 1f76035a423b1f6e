// VS Code "Jest: current file": runs Jest on one spec file with the jest.config.ts of the Nx project that
// holds it (the workspace has no root Jest config), in this process so the debugger sees the tests.
// Usage: node .vscode/jest-current-file.cjs <spec file> [more Jest arguments]
const { existsSync } = require('node:fs');
const { dirname, join, parse, resolve } = require('node:path');

const [file, ...jestArgs] = process.argv.slice(2);
if (!file) {
  console.error('usage: node .vscode/jest-current-file.cjs <spec file> [jest arguments]');
  process.exit(2);
}
let dir = dirname(resolve(file));
while (!existsSync(join(dir, 'jest.config.ts'))) {
  if (dir === parse(dir).root) {
    console.error(`${file} is not inside a project with a jest.config.ts`);
    process.exit(2);
  }
  dir = dirname(dir);
}
process.argv = [process.argv[0], require.resolve('jest/bin/jest'), '--config', join(dir, 'jest.config.ts'), '--runInBand', '--runTestsByPath', resolve(file), ...jestArgs];
require('jest/bin/jest');
