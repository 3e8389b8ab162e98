// ESLint flat config. Besides typescript-eslint's recommended rules, it enforces the
// import boundaries described in docs/architecture.md with no-restricted-imports per folder.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const DB_CLIENTS = ['better-sqlite3', '@influxdata/influxdb-client', 'pg'];
const EDGE_LIBS = ['fastify', 'fastify-*', '@fastify/*', 'aedes', 'ws', 'mqtt'];
/** test code never ships in dist/: shipped folders may not import test libraries or tests/ */
const TEST_ONLY = ['vitest', 'vitest/*', 'fast-check', 'playwright-core', 'testcontainers', '**/tests/**'];

const ADAPTERS = ['**/storage/sqlite/**', '**/storage/influx/**', '**/storage/postgres/**'];
const GATEWAY = ['**/gateway/**'];
/** the composition root: it imports everything, nothing imports it */
const ROOT = ['**/server/**'];
const CORE = ['services/pipeline/**/*.ts', 'services/processors/**/*.ts', 'services/log/**/*.ts', 'services/devices/**/*.ts', 'services/rules/**/*.ts', 'services/alerts/**/*.ts', 'services/live-feed/**/*.ts', 'services/safety-code/**/*.ts'];

const restrict = (patterns, message) => ({
  'no-restricted-imports': ['error', { patterns: [{ group: patterns, message }] }],
});

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'data/', 'coverage/', 'tests/artifacts/', 'dashboards/**/vendor/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { process: 'readonly', console: 'readonly', Buffer: 'readonly', URL: 'readonly' } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      'no-console': 'error',
    },
  },
  // Boundaries. ESLint does not merge a rule across blocks (the last match wins), so every file
  // matches exactly one of the blocks below, each with its full list.
  {
    files: ['services/telemetry/**/*.ts'],
    rules: restrict(['../*', '../../*', ...DB_CLIENTS, ...EDGE_LIBS, ...TEST_ONLY, 'node:fs', 'node:net', 'node:http'], 'services/telemetry is a leaf module: no internal imports, no I/O, no test code'),
  },
  {
    files: CORE,
    rules: restrict([...DB_CLIENTS, ...EDGE_LIBS, ...ADAPTERS, ...GATEWAY, ...ROOT, ...TEST_ONLY], 'core modules stay free of adapters and test code: no database client, web framework, broker, gateway or test library'),
  },
  {
    files: ['services/api/**/*.ts'],
    rules: restrict([...DB_CLIENTS, ...ADAPTERS, ...GATEWAY, ...ROOT, ...TEST_ONLY], 'the API reaches storage through services interfaces, never imports the gateway or test code'),
  },
  {
    files: ['services/**/*.ts'],
    ignores: ['services/telemetry/**', 'services/api/**', ...CORE],
    rules: restrict([...GATEWAY, ...ROOT, ...TEST_ONLY], 'services never import gateway/, server/ or test code; adapters are wired in server/main.ts'),
  },
  {
    files: ['server/**/*.ts', 'bin/**/*.ts'],
    rules: restrict(TEST_ONLY, 'the composition root wires every part, but never test code'),
  },
  {
    files: ['gateway/**/*.ts'],
    rules: restrict([...DB_CLIENTS, ...ADAPTERS, ...ROOT, ...TEST_ONLY], 'the gateway reaches storage through services, never a database client; no test code'),
  },
  {
    files: ['simulators/**/*.ts', 'dashboards/**/*.ts'],
    rules: restrict(['**/services/!(telemetry)/**', ...GATEWAY, ...DB_CLIENTS, ...TEST_ONLY], 'simulators and dashboards speak MQTT/HTTP/WS only (they may import services/telemetry), no test code'),
  },
  {
    files: ['tests/**/*.ts', 'bench/**/*.ts', '*.config.*'],
    rules: { '@typescript-eslint/no-explicit-any': 'off', 'no-console': 'off' },
  },
  {
    files: ['**/*.mjs', '**/*.js'],
    languageOptions: { globals: { process: 'readonly', console: 'readonly' } },
    rules: { 'no-console': 'off' },
  },
  // The duty console runs in the browser: browser globals, no console output (console is allowed
  // only in tests), and the dashboards boundary (HTTP/WS only, no internal services or gateway).
  {
    files: ['dashboards/console/**/*.js'],
    languageOptions: {
      globals: Object.fromEntries(
        ['window', 'document', 'location', 'navigator', 'localStorage', 'sessionStorage', 'fetch', 'WebSocket', 'AudioContext', 'Intl',
          'URL', 'URLSearchParams', 'Blob', 'Node', 'CustomEvent', 'setTimeout', 'clearTimeout', 'setInterval', 'clearInterval']
          .map((g) => [g, 'readonly']),
      ),
    },
    rules: {
      'no-console': 'error',
      ...restrict(['**/services/!(telemetry)/**', ...GATEWAY, ...DB_CLIENTS], 'simulators and dashboards speak MQTT/HTTP/WS only (they may import services/telemetry)'),
    },
  },
);
