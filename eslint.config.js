import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/** An import pattern that allows only a module's `index.js` below `prefix`. */
const publicFaceOnly = (prefix) => ({
  regex: `${prefix}(?!index\\.js$).+`,
  message: 'Import another module through its index.ts (its public face), not its files.',
});

export default tseslint.config(
  { ignores: ['node_modules', 'dist', 'data', 'drizzle', 'bench/data', 'eslint.config.js'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: { arguments: false } }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
    },
  },
  {
    // A module is reached only through its public face (index.ts): never another module's files or
    // tables. Entry points, commands and the benchmark go through the same faces.
    files: ['src/**/*.ts', 'bench/**/*.ts'],
    ignores: ['**/*.test.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [publicFaceOnly(String.raw`(^|/)modules/[\w-]+/`)] }],
    },
  },
  {
    files: ['src/modules/**/*.ts'],
    ignores: ['**/*.test.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            publicFaceOnly(String.raw`(^|/)modules/[\w-]+/`),
            // `../other/…` (or `../../other/…` from a sub-folder): a sibling module, unless the platform.
            publicFaceOnly(String.raw`^\.\./(\.\./)*(?!platform/)[\w-]+/`),
          ],
        },
      ],
    },
  },
  {
    // Tests read JSON bodies (`res.json()` is `any`) and assert on them; that is their job.
    files: ['test/**/*.ts', '**/*.test.ts'],
    rules: {
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      '@typescript-eslint/no-explicit-any': 'off',
    },
  },
);
