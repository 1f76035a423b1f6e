// Shared Jest settings for every project: ts-jest with the project's tsconfig.spec.json and a Node
// environment that shares typed-array constructors with the host realm (onnxruntime-node needs it).
const path = require('node:path');

module.exports = {
  testEnvironment: path.join(__dirname, 'tools/jest/host-realm-environment.js'),
  transform: {
    '^.+\\.ts$': ['ts-jest', { tsconfig: '<rootDir>/tsconfig.spec.json', isolatedModules: false }],
  },
  moduleFileExtensions: ['ts', 'js', 'json'],
  testMatch: ['**/?(*.)+(spec|test).ts'],
  moduleNameMapper: Object.fromEntries(
    Object.entries(require('./tsconfig.base.json').compilerOptions.paths).map(([alias, [target]]) => [
      `^${alias}$`,
      path.join(__dirname, target),
    ]),
  ),
};
