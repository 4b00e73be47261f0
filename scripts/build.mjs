// Bundles the agent into dist/ as CommonJS (Node's fastest loader). The AWS SDK lives in separate
// files that only an ECR login loads, so every other command starts near Node's floor.
import { build } from 'esbuild';
import { readFile, rm } from 'node:fs/promises';
import { resolve } from 'node:path';

// Self-contained modules reached only through `await import()`, built as files of their own so that the
// main file stays small (V8 must parse all of it at every start): name → source file or package.
// They must not hold classes the main file checks with instanceof (a second copy would not match):
// checkLazyApart enforces that no module is bundled both into the agent and into a lazy file, except those below.
const LAZY = {
  'ecr-swap': 'src/ecr/swap.ts',
  'assume-role': 'src/ecr/assume-role.ts',
  'json-edit': 'src/docker-config/json-edit.ts',
};
// Modules both the agent (check's handshake) and ecr-swap use: pure functions and agent classes made per request, no
// state and nothing the agent checks with instanceof, so a copy in each file is only a few KB.
const SHARED = new Set(['src/proxy.ts', 'node_modules/hpagent/index.js', 'node_modules/hpagent/index.mjs']);

const lazyTargets = new Map(
  Object.entries(LAZY).map(([name, spec]) => [spec.startsWith('src/') ? resolve(spec) : spec, name]),
);
const keepLazyApart = {
  name: 'keep-lazy-apart',
  setup(b) {
    b.onResolve({ filter: /.*/ }, (args) => {
      if (args.kind !== 'dynamic-import') return undefined;
      const target = args.path.startsWith('.')
        ? resolve(args.resolveDir, args.path.replace(/\.js$/, '.ts'))
        : args.path;
      const name = lazyTargets.get(target);
      return name ? { path: `./${name}.cjs`, external: true } : undefined;
    });
  },
};

const { version } = JSON.parse(await readFile(new URL('../package.json', import.meta.url), 'utf8'));
await rm(new URL('../dist', import.meta.url), { recursive: true, force: true });
const common = {
  outdir: 'dist',
  outExtension: { '.js': '.cjs' },
  bundle: true,
  format: 'cjs',
  platform: 'node',
  minify: process.env.RL_NO_MINIFY !== '1',
  legalComments: 'linked',
  logLevel: 'warning',
};
const result = await build({
  ...common,
  entryPoints: { agent: 'src/main.ts', ...LAZY },
  target: 'node22',
  // Prefer ESM builds: they tree-shake (jsonc-parser's UMD main cannot be bundled at all).
  mainFields: ['module', 'main'],
  minify: process.env.RL_NO_MINIFY !== '1',
  legalComments: 'linked',
  define: { __REGISTRY_LOGIN_VERSION__: JSON.stringify(version) },
  plugins: [keepLazyApart],
  // import() of a file would go through Node's ESM loader (~10 ms); as require() it is the CommonJS fast path.
  supported: { 'dynamic-import': false },
  metafile: true,
});
// The launcher in ES2015 syntax, so that a Node.js too old to run the agent can still parse it and print its refusal.
await build({ ...common, entryPoints: { 'registry-login': 'src/launcher.ts' }, target: 'es2015' });
checkLazyApart(result.metafile);

/**
 * Fails the build when a lazy file's code is also in the agent: a module bundled twice runs twice, with two copies of
 * its classes (instanceof fails across them) and of its state, and the agent would load what it meant to defer.
 */
function checkLazyApart(metafile) {
  const inputsOf = (name) => Object.keys(metafile.outputs[`dist/${name}.cjs`].inputs);
  const agent = new Set(inputsOf('agent'));
  const problems = [];
  for (const name of Object.keys(LAZY)) {
    const shared = inputsOf(name).filter((input) => agent.has(input) && !SHARED.has(input));
    if (shared.length > 0) problems.push(`dist/${name}.cjs and dist/agent.cjs both bundle ${shared.join(', ')}`);
  }
  // The packages the lazy files exist for, by name: a static import of one would pull it into the agent.
  const heavy = [...agent].filter((input) => /node_modules\/(@aws-sdk|@smithy|jsonc-parser)\//.test(input));
  if (heavy.length > 0)
    problems.push(`dist/agent.cjs bundles ${heavy.slice(0, 5).join(', ')}${heavy.length > 5 ? ', …' : ''}`);
  if (problems.length > 0) {
    console.error(
      `build: the lazy files must stay apart from the agent (import them only with \`await import()\`, see LAZY in scripts/build.mjs):\n  ${problems.join('\n  ')}`,
    );
    process.exit(1);
  }
}
