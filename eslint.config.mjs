import nx from '@nx/eslint-plugin';

// Module boundaries that mean something: apps wire, features hold a module's logic, utils are shared
// building blocks; a module's code (scope) reaches only its own scope and shared code.
export default [
  ...nx.configs['flat/base'],
  ...nx.configs['flat/typescript'],
  ...nx.configs['flat/javascript'],
  { ignores: ['**/dist', '**/node_modules', '**/coverage', 'tmp'] },
  {
    files: ['**/*.ts', '**/*.js'],
    rules: {
      '@nx/enforce-module-boundaries': [
        'error',
        {
          enforceBuildableLibDependency: true,
          // The apps' webpack configs share one (tools/webpack), which no project owns.
          allow: ['../../tools/webpack/node-app'],
          depConstraints: [
            { sourceTag: 'type:app', onlyDependOnLibsWithTags: ['type:feature', 'type:util'] },
            { sourceTag: 'type:e2e', onlyDependOnLibsWithTags: ['type:feature', 'type:util'] },
            { sourceTag: 'type:feature', onlyDependOnLibsWithTags: ['type:feature', 'type:util'] },
            { sourceTag: 'type:util', onlyDependOnLibsWithTags: ['type:util'] },
            { sourceTag: 'scope:shared', onlyDependOnLibsWithTags: ['scope:shared'] },
            { sourceTag: 'scope:capture', onlyDependOnLibsWithTags: ['scope:capture', 'scope:shared'] },
            { sourceTag: 'scope:inference', onlyDependOnLibsWithTags: ['scope:inference', 'scope:shared'] },
            { sourceTag: 'scope:telemetry', onlyDependOnLibsWithTags: ['scope:telemetry', 'scope:shared'] },
            { sourceTag: 'scope:preview', onlyDependOnLibsWithTags: ['scope:preview', 'scope:shared'] },
            { sourceTag: 'scope:tools', onlyDependOnLibsWithTags: ['scope:tools', 'scope:inference', 'scope:capture', 'scope:telemetry', 'scope:preview', 'scope:shared'] },
          ],
        },
      ],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
];
