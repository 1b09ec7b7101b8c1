// Lint: TypeScript rules plus the layer direction of docs/architecture.md, enforced with eslint-plugin-boundaries.
// A layer may import only the layers listed for it below; third-party runtimes are owned by one layer each.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import boundaries from 'eslint-plugin-boundaries';
import reactHooks from 'eslint-plugin-react-hooks';
import globals from 'globals';

/** Layers, top to bottom. `bridge` is src/worker/{protocol,client}.ts, the half of the worker the main thread may see;
 * `worker` is src/worker/host, which owns models, graphs and sessions. First matching pattern wins. */
const elements = [
  { type: 'ui', pattern: 'src/ui' },
  { type: 'store', pattern: 'src/store' },
  { type: 'worker', pattern: 'src/worker/host' },
  { type: 'bridge', pattern: 'src/worker' },
  { type: 'cli', pattern: 'src/cli' },
  { type: 'train', pattern: 'src/train' },
  { type: 'models', pattern: 'src/models' },
  { type: 'data', pattern: 'src/data' },
  { type: 'hub', pattern: 'src/hub' },
  { type: 'runtime', pattern: 'src/runtime' },
  { type: 'storage', pattern: 'src/storage' },
  { type: 'share', pattern: 'src/share' },
  { type: 'engine', pattern: 'src/engine' },
  { type: 'app', pattern: 'src' },
];

/** Which layers each layer may import (besides itself). */
export const layerRules = {
  app: ['ui', 'store', 'bridge', 'share'],
  ui: ['store', 'bridge', 'share'],
  store: ['bridge', 'share'],
  bridge: ['share'],
  worker: ['bridge', 'train', 'runtime', 'storage', 'share', 'engine'],
  cli: ['train', 'runtime', 'share', 'engine'],
  train: ['models', 'data', 'hub', 'runtime', 'share', 'engine'],
  models: ['engine'],
  data: ['hub', 'share'],
  hub: ['engine'],
  runtime: ['engine'],
  storage: ['share'],
  share: ['engine'],
  engine: [],
};

/** Layers the front ends may import *types* from (to display what they return) but no values: a run is orchestrated
 * by src/train's RunSession, and the I/O helpers they need come through src/train/sources.ts. */
export const typeOnlyRules = {
  worker: ['data', 'models', 'hub'],
  cli: ['data', 'models', 'hub'],
};

/** Third-party packages owned by exactly one layer. */
const owners = {
  'onnxruntime-web': ['runtime'],
  'onnxruntime-node': ['runtime'],
  'onnxruntime-common': ['runtime'],
  idb: ['storage'],
  '@huggingface/transformers': ['data'],
  react: ['ui', 'app'],
  'react-dom': ['ui', 'app'],
  recharts: ['ui'],
  zustand: ['store', 'ui'],
};

/** For each layer, the owned packages it may not import, as a `no-restricted-imports` block. */
function ownershipBlocks() {
  const layerFolders = {
    ui: 'src/ui', store: 'src/store', bridge: 'src/worker/*.ts', worker: 'src/worker/host', cli: 'src/cli',
    train: 'src/train', models: 'src/models', data: 'src/data', hub: 'src/hub', runtime: 'src/runtime',
    storage: 'src/storage', share: 'src/share', engine: 'src/engine', app: 'src/*.tsx',
  };
  return Object.entries(layerFolders).map(([layer, folder]) => {
    const banned = Object.entries(owners).filter(([, layers]) => !layers.includes(layer));
    return {
      files: folder.endsWith('.ts') || folder.endsWith('.tsx') ? [folder] : [`${folder}/**/*.{ts,tsx}`],
      rules: {
        'no-restricted-imports': ['error', {
          paths: banned.map(([name, layers]) => ({ name, message: `Only ${layers.join('/')} may import ${name} (docs/architecture.md layers).` })),
          patterns: banned.map(([name, layers]) => ({ group: [`${name}/*`], message: `Only ${layers.join('/')} may import ${name}.` })),
        }],
      },
    };
  });
}

const policies = [
  ...Object.entries(layerRules).map(([from, to]) => ({
    from: { element: { type: from } },
    allow: { to: { element: { types: { anyOf: [from, ...to] } } } },
  })),
  ...Object.entries(typeOnlyRules).map(([from, to]) => ({
    from: { element: { type: from } },
    allow: { to: { element: { types: { anyOf: to } } }, dependency: { kind: 'type' } },
  })),
  { allow: { to: { module: { origin: ['external', 'core'] } } } },
];

export default tseslint.config(
  {
    ignores: [
      'dist/**', 'dist-*/**', 'node_modules/**', 'fixtures/generated/**', 'public/demo/**', 'test-output/**',
      'playwright-report/**', 'test-results/**', 'test/lint-fixtures/**', 'bench-output/**', 'fuzz-output/**',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.browser, ...globals.node } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-eval': 'error',
      'no-implied-eval': 'error',
      'no-new-func': 'error',
      'react/no-danger': 'off',
    },
  },
  {
    files: ['src/**/*.{ts,tsx}'],
    plugins: { boundaries },
    settings: {
      'boundaries/elements': elements,
      'boundaries/include': ['src/**/*'],
      'import/resolver': { node: { extensions: ['.ts', '.tsx', '.js', '.mjs'] } },
    },
    rules: {
      'boundaries/dependencies': ['error', { default: 'disallow', policies }],
      'boundaries/no-unknown-files': 'error',
    },
  },
  ...ownershipBlocks(),
  {
    files: ['src/ui/**/*.tsx', 'src/main.tsx'],
    plugins: { 'react-hooks': reactHooks },
    rules: {
      'react-hooks/rules-of-hooks': 'error',
      'react-hooks/exhaustive-deps': 'warn',
      'no-restricted-syntax': [
        'error',
        { selector: "JSXAttribute[name.name='dangerouslySetInnerHTML']", message: 'Render data as text, never as HTML.' },
      ],
    },
  },
);
