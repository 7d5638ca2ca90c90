import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'coverage/', 'scratch/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      'no-console': 'off',
    },
  },
  {
    // client-node values come through src/kube/client-node.ts, which the build bundles down
    // to what lbc uses; a value imported from the package itself loads all of it again. The
    // bench modules listed are the ones the controller bench's child process loads.
    files: ['src/**/*.ts', 'bench/controller.ts', 'bench/address-watch.ts', 'bench/resumable-watch.ts', 'bench/headline.ts', 'bench/stats.ts'],
    // devcluster sits beside kube, not above it, and is no part of `lbc run`.
    ignores: ['src/kube/client-node.ts', 'src/devcluster/**'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: '^@kubernetes/client-node(/|$)',
              allowTypeImports: true,
              message: 'import client-node values from src/kube/client-node.ts (the build bundles it down to what lbc uses); types may come from the package',
            },
          ],
        },
      ],
    },
  },
);
