// ESLint flat config: JavaScript's recommended rules and typescript-eslint's type-checked set over
// every TypeScript root tsconfig.json includes; Prettier owns formatting (eslint-config-prettier last).
import eslint from '@eslint/js';
import { defineConfig } from 'eslint/config';
import prettier from 'eslint-config-prettier';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default defineConfig(
  {
    ignores: ['**/dist/**', '.bench-build/**', '.test-build/**', '**/node_modules/**', 'bench/peers/**', 'coverage/**', 'test/fixtures/**', 'docs/**'],
  },
  eslint.configs.recommended,
  tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
      globals: globals.node,
    },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      // Combining marks written as \u escapes in a character class are listed one by one on purpose (the invisible characters of email-address.ts).
      'no-misleading-character-class': ['error', { allowEscape: true }],
      // Nest handlers, guards and port implementations are async by contract even when one has nothing to await.
      '@typescript-eslint/require-await': 'off',
      // A leading underscore marks a parameter or binding kept on purpose (a signature to honour, a value destructured away).
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrorsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_', ignoreRestSiblings: true },
      ],
    },
  },
  {
    // Tests and benchmarks read HTTP answers through supertest and fetch, whose bodies are `any` (as are
    // jest's asymmetric matchers); a typed copy of every body would only restate the assertions next to it.
    files: ['test/**/*.ts', 'bench/**/*.ts', '**/*.spec.ts', '**/*.e2e-spec.ts'],
    rules: {
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
    },
  },
  {
    // Plain JavaScript (configs, CommonJS scripts, examples) is outside tsconfig.json: lint it without type information.
    files: ['**/*.{js,cjs,mjs}'],
    extends: [tseslint.configs.disableTypeChecked],
    rules: {
      // CommonJS files load with require(); that is their module system, not a mistake.
      '@typescript-eslint/no-require-imports': 'off',
    },
  },
  prettier,
);
