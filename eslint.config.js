// Type-aware lint. A floating promise is the classic daemon bug, so it is an error. The layers of
// DESIGN.md's architecture are enforced here, so they stay honest as the code grows.
import tseslint from 'typescript-eslint';

/** Everything above the domain: the domain is pure and imports none of it. */
const RUNTIME_LAYERS = ['loop', 'cli', 'store', 'kinds', 'probes', 'runtime', 'daemon', 'plugins', 'actions', 'notify', 'diagnosis', 'app', 'views', 'config', 'api', 'transports', 'subjects', 'testing'];
const layer = (names) => names.map((n) => `**/${n}/**`);

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'lab/**', 'scripts/**', '.warden/**'] },
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      // node:test's test/describe/it return promises the runner itself awaits.
      '@typescript-eslint/no-floating-promises': ['error', {
        allowForKnownSafeCalls: [{ from: 'package', package: 'node:test', name: ['test', 'describe', 'it', 'suite'] }],
      }],
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/await-thenable': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      // A new cause, status or event kind must be handled wherever a switch decides on it.
      '@typescript-eslint/switch-exhaustiveness-check': ['error', { considerDefaultExhaustiveForUnions: true }],
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
    },
  },
  {
    // Nothing imports from the CLI: it is the thinnest, outermost layer.
    files: ['src/**/*.ts'],
    ignores: ['src/cli/**', 'src/main.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [{ group: layer(['cli']), message: 'nothing imports from cli/: move the shared piece to app/, views/ or lib/' }] }],
      // Only main and the CLI talk to the terminal and end the process.
      'no-console': 'error',
      'no-restricted-properties': ['error', { object: 'process', property: 'exit', message: 'only src/main.ts exits the process' }],
    },
  },
  {
    // The domain is pure: decisions are functions of their input (DESIGN rule 2).
    files: ['src/domain/**/*.ts'],
    ignores: ['src/domain/**/*.test.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        paths: ['node:fs', 'node:child_process', 'node:net', 'node:http', 'node:https', 'node:os', 'node:process']
          .map((name) => ({ name, message: 'the domain does no I/O' })),
        patterns: [{ group: layer(RUNTIME_LAYERS), message: 'the domain imports no runtime, CLI, store or plugin code' }],
      }],
    },
  },
  {
    // lib/ is domain-free: small tools anything may use.
    files: ['src/lib/**/*.ts'],
    ignores: ['src/lib/**/*.test.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [{ group: layer([...RUNTIME_LAYERS, 'domain']), message: 'lib/ depends on nothing else in src/' }] }],
    },
  },
  {
    // Tests and benchmarks print and exit as they like.
    files: ['**/*.test.ts', 'test/**/*.ts', 'bench/**/*.ts', 'src/testing/**/*.ts'],
    rules: { 'no-console': 'off', 'no-restricted-properties': 'off' },
  },
);
