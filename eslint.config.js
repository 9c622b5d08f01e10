import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/** src/api may import types, never values, from the store and the executors. */
const STORE_OR_EXECUTOR = {
  group: ['**/store/**', '**/executors/**'],
  allowTypeImports: true,
  message: 'src/api calls services; it may import types only from store/ and executors/.',
};

export default tseslint.config(
  { ignores: ['node_modules/**', 'bench/baseline/**', 'dist/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { process: 'readonly', console: 'readonly' } },
    rules: {
      curly: ['error', 'multi-line'],
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_' },
      ],
      '@typescript-eslint/consistent-type-imports': 'error',
    },
  },
  {
    // gaffer's core logs through its Logger (src/log/logger.ts), handed to each component; only
    // commands print: the CLI's user output, the simulator's report.
    files: ['src/**/*.ts'],
    ignores: ['src/cli/**', 'src/simulator/**'],
    rules: { 'no-console': 'error' },
  },
  {
    // Handlers call services (src/jobs/, src/services.ts), never a store or an executor: api/ may
    // import their types, not their values.
    files: ['src/api/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': ['error', { patterns: [STORE_OR_EXECUTOR] }],
    },
  },
  {
    // Only buildApp sees the orchestrator: it hands each plugin the narrow dependencies it declares.
    files: ['src/api/**/*.ts'],
    ignores: ['src/api/app.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          patterns: [
            STORE_OR_EXECUTOR,
            {
              group: ['**/orchestrator.ts'],
              message:
                'a route or service of src/api takes narrow dependencies, not the orchestrator.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['dashboard/**/*.js'],
    languageOptions: {
      globals: {
        document: 'readonly',
        window: 'readonly',
        fetch: 'readonly',
        EventSource: 'readonly',
        URLSearchParams: 'readonly',
        setInterval: 'readonly',
      },
    },
  },
);
