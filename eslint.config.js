// Lint for l4. Besides the usual checks, this file enforces the layering rule of
// shared/DESIGN.md: imports go one way (wire, time, storage <- core <- api <- drivers
// <- tools <- cli), and wire/ and core/ never touch a clock, a timer, randomness or
// any node:* module, so the protocol engine stays sans-IO and replayable.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/** What each folder of src/ may import from (besides itself): DESIGN.md's one-way rule. */
const mayImport = {
  wire: [],
  time: [],
  storage: ['time'],
  core: ['wire', 'time', 'storage'],
  api: ['wire', 'time', 'storage', 'core'],
  drivers: ['wire', 'time', 'storage', 'core', 'api'],
  tools: ['wire', 'time', 'storage', 'core', 'api', 'drivers'],
  cli: ['wire', 'time', 'storage', 'core', 'api', 'drivers', 'tools'],
};
const layers = Object.keys(mayImport);

function layerRule(layer) {
  const banned = layers.filter((l) => l !== layer && !mayImport[layer].includes(l));
  return {
    regex: `^(\\.\\./)+(${banned.join('|')})(/|$)`,
    message: `src/${layer} may not import from ${banned.join(', ')} (DESIGN.md: imports go one way).`,
  };
}

const nodeBuiltins = {
  regex: '^(node:.*|fs|path|os|net|dgram|crypto|child_process|events|stream|util|timers|worker_threads|buffer|process)(/.*)?$',
  message: 'wire/ and core/ import no node:* module (DESIGN.md: sans-IO core).',
};

const sansIo = {
  'no-restricted-globals': ['error',
    ...['setTimeout', 'setInterval', 'setImmediate', 'clearTimeout', 'clearInterval', 'clearImmediate',
      'queueMicrotask', 'performance', 'crypto', 'process', 'Buffer', 'require'].map((name) => ({
      name, message: `${name} is not allowed in wire/ and core/: time and randomness come in as arguments.`,
    })),
  ],
  'no-restricted-properties': ['error',
    { object: 'Date', property: 'now', message: 'The core never reads a clock: pass `now` in.' },
    { object: 'Math', property: 'random', message: 'Randomness comes from the host\'s seeded generator.' },
    { object: 'globalThis', message: 'No reaching around the sans-IO rule through globalThis.' },
  ],
  'no-restricted-syntax': ['error',
    { selector: "NewExpression[callee.name='Date']", message: 'The core never reads a clock: pass `now` in.' },
    { selector: "CallExpression[callee.name='Date']", message: 'The core never reads a clock: pass `now` in.' },
    { selector: 'ImportExpression', message: 'No dynamic import in wire/ and core/.' },
  ],
};

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'bin/**', 'test/fixtures/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      'no-constant-condition': ['error', { checkLoops: false }],
    },
  },
  ...layers.map((layer) => ({
    files: [`src/${layer}/**/*.ts`],
    rules: {
      'no-restricted-imports': ['error', {
        patterns: layer === 'wire' || layer === 'core' ? [layerRule(layer), nodeBuiltins] : [layerRule(layer)],
      }],
      ...(layer === 'wire' || layer === 'core' ? sansIo : {}),
    },
  })),
);
