import * as jsoncParser from 'jsonc-eslint-parser';
import baseConfig from '../../eslint.config.mjs';

export default [
  ...baseConfig,
  // Nx's own checks that executors.json names implementations and schemas that exist.
  {
    files: ['**/package.json', '**/executors.json'],
    languageOptions: { parser: jsoncParser },
    rules: { '@nx/nx-plugin-checks': 'error' },
  },
];
